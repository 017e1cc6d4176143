#!/usr/bin/env bash
# Runs every go test -fuzz target in the module for FUZZTIME each (default 20s).
#
# What fails the run: a target that writes a crasher under testdata/fuzz (a
# panic, a failed assertion or a hung input is always written there), or a
# target that fails twice without one.
#
# What does not: "context deadline exceeded" with no crasher. That is Go's
# own fuzzing coordinator racing its -fuzztime deadline (golang/go#75804,
# fixed in Go 1.27, present in the Go 1.26 this project builds with): the
# worker is stopped mid-call and the target is reported failed having found
# nothing. It is counted and printed as a flake, not a failure.
#
# Minimisation of new inputs is bounded (FUZZMINIMIZE, default 3s), so that it
# cannot outlast -fuzztime.
set -uo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-20s}"
n=0
failed=()
flaked=()
out=$(mktemp)
trap 'rm -f "$out"' EXIT
while IFS= read -r line; do
  file=${line%%:*}; name=${line##*func }; name=${name%%(*}
  dir=$(dirname "$file"); pkg="./$dir"
  for attempt in 1 2; do
    echo "== fuzz $pkg $name ($t, attempt $attempt)"
    before=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | sort)
    if go test -run='^$' -fuzz="^${name}\$" -fuzztime="$t" -fuzzminimizetime="${FUZZMINIMIZE:-3s}" "$pkg" 2>&1 | tee "$out"; then
      break
    fi
    after=$(ls "$dir/testdata/fuzz/$name" 2>/dev/null | sort)
    if [ "$before" != "$after" ]; then
      echo "FUZZ FAILURE: $pkg $name (new inputs under $dir/testdata/fuzz/$name: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' '))"
      failed+=("$pkg $name")
      break
    fi
    # the race's signature: the deadline error on the target itself, no
    # failing input (a finding shows as a nested "    --- FAIL: Fuzz…/…")
    if grep -q '^    context deadline exceeded$' "$out" && ! grep -q '^ \+--- FAIL' "$out"; then
      echo "== $name: \"context deadline exceeded\" and no crasher: the Go coordinator's deadline race (golang/go#75804), not a finding"
      flaked+=("$pkg $name")
      break
    fi
    if [ "$attempt" = 2 ]; then
      echo "FUZZ FAILURE: $pkg $name (failed twice without a crasher)"
      failed+=("$pkg $name")
      break
    fi
    echo "== $name failed without a crasher; running it once more"
  done
  n=$((n+1))
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*(' . | sort)
echo "fuzzed $n targets, ${#failed[@]} failed, ${#flaked[@]} hit the coordinator's deadline race${flaked[*]:+ (${flaked[*]})}"
[ "${#failed[@]}" = 0 ]
