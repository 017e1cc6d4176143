#!/usr/bin/env bash
# bench-instr.sh PKG BENCH [N]: instructions per benchmark op, counted by
# valgrind (cachegrind), so that the cost of a change can be compared on a
# shared machine where wall-clock ns/op wanders by 30% or more from run to
# run. It runs BENCH N+1 times and 1 time with -benchtime Nx and divides the
# difference by N (the model load and the harness cancel out). GC is off so
# that background marking does not blur the count.
#
#   scripts/bench-instr.sh ./detect/dga 'Score$'
#
# Needs valgrind (apt-get install valgrind). Not part of CI.
set -euo pipefail
pkg=${1:?package}; bench=${2:?benchmark regexp}; n=${3:-200000}
command -v valgrind >/dev/null || { echo "bench-instr: valgrind is not installed" >&2; exit 2; }
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" "$pkg"
ir() {
	GOGC=off valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
		"$bin" -test.run '^$' -test.bench "$bench" -test.benchtime "${1}x" 2>&1 |
		sed -n 's/.*I *refs: *//p' | tr -d ,
}
a=$(ir 1)
b=$(ir $((n + 1)))
echo "$pkg $bench: $(((b - a) / n)) instructions/op (cachegrind, $n ops)"
