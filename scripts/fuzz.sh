#!/usr/bin/env bash
# Runs every go test -fuzz target in the module for FUZZTIME each (default 20s).
# Minimisation of new inputs is bounded (FUZZMINIMIZE, default 3s): Go's
# default of 60s can outlast -fuzztime, which the engine reports as
# "context deadline exceeded". A target that fails without writing a crasher
# under testdata/fuzz is run once more; a crasher, or a second failure,
# fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-20s}"
n=0
failed=()
while IFS= read -r line; do
  file=${line%%:*}; name=${line##*func }; name=${name%%(*}
  dir=$(dirname "$file"); pkg="./$dir"
  for attempt in 1 2; do
    echo "== fuzz $pkg $name ($t, attempt $attempt)"
    before=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | sort)
    if go test -run='^$' -fuzz="^${name}\$" -fuzztime="$t" -fuzzminimizetime="${FUZZMINIMIZE:-3s}" "$pkg"; then
      break
    fi
    after=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | sort)
    if [ "$before" != "$after" ] || [ "$attempt" = 2 ]; then
      echo "FUZZ FAILURE: $pkg $name (new inputs under $dir/testdata/fuzz/$name: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' '))"
      failed+=("$pkg $name")
      break
    fi
    echo "== $name failed without a crasher (engine timeout); running it once more"
  done
  n=$((n+1))
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*(' . | sort)
echo "fuzzed $n targets, ${#failed[@]} failed"
[ "${#failed[@]}" = 0 ]
