#!/usr/bin/env bash
# The DNS integration tests (lab server, prober, unbound in front) once more
# inside a fresh network namespace holding only a loopback interface: proof
# that they need and touch nothing beyond 127.0.0.0/8. Needs root (CI) or
# unprivileged user namespaces; says so and skips otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
if unshare -n true 2>/dev/null; then
  ns=(unshare -n)
elif unshare -rn true 2>/dev/null; then
  ns=(unshare -rn)
else
  echo "dns-netns: unshare -n not permitted here; skipped (the same tests ran in make test)"
  exit 0
fi
go test -c -o /tmp/fluxhunt-prober.test ./enrich/prober
go test -c -o /tmp/fluxhunt-cmd.test ./cmd/fluxhunt
"${ns[@]}" bash -c '
  set -euo pipefail
  ip link set lo up 2>/dev/null || true
  export FLUXHUNT_REQUIRE_ALL_TESTS=1
  (cd enrich/prober && /tmp/fluxhunt-prober.test -test.count=1 -test.run "TestLab|Unbound|PrivateNS|Robust|Cymru|Queue|Resume")
  (cd cmd/fluxhunt && /tmp/fluxhunt-cmd.test -test.count=1 -test.run "TestProbeCommand|TestCheckDNS")
'
rm -f /tmp/fluxhunt-prober.test /tmp/fluxhunt-cmd.test
