#!/usr/bin/env bash
# Runs every go test -fuzz target in the module for FUZZTIME each (default 20s).
set -euo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-20s}"
n=0
while IFS= read -r line; do
  file=${line%%:*}; name=${line##*func }; name=${name%%(*}
  pkg="./$(dirname "$file")"
  echo "== fuzz $pkg $name ($t)"
  go test -run='^$' -fuzz="^${name}\$" -fuzztime="$t" "$pkg"
  n=$((n+1))
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*(' . | sort)
echo "fuzzed $n targets"
