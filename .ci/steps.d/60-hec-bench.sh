#!/usr/bin/env bash
# The HEC figures issue 3 asks for, printed in the CI log: BenchmarkHECWrite
# (gzip level 1, ~500-byte events, the emulator in its own process on
# loopback; events/s and CPU µs per event for writer and emulator), the cost
# of one sequential durable Send, the outage memory test (writer heap while
# 300,000 events wait in the spool) and the chaos test's duplicate
# accounting. Speed is reported, never asserted. About 1-2 minutes on a
# 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
go test -run '^$' -bench 'HECWrite' -benchtime 200000x -benchmem ./connector/hec/
go test -run '^$' -bench 'SendSequential' -benchtime 2000x -benchmem ./connector/hec/
go test -count=1 -v -run 'TestOutageMemoryBounded|TestChaos' ./connector/hec/ 2>&1 | grep -E '^(---|ok|FAIL)|_test.go:'
