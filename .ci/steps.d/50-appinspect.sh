#!/usr/bin/env bash
# Packages the Splunk app (make app) and runs Splunk AppInspect on it with the
# Splunk Cloud tags, as Splunk Cloud vets private apps. Fails on any failure
# or error in the report's summary. AppInspect's cloud checks run offline
# (no network needed: verified with `unshare -n`), so this step needs only
# the splunk-appinspect package that .ci/run installs from
# tools/fidelity/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v splunk-appinspect >/dev/null 2>&1; then
  echo "50-appinspect: splunk-appinspect not installed (pip install -r tools/fidelity/requirements.txt)" >&2
  exit 1
fi
make app
pkgs=(dist/fluxhunt-*.tar.gz)
[ -e "${pkgs[0]}" ] || { echo "50-appinspect: make app produced no dist/fluxhunt-*.tar.gz" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rc=0
for pkg in "${pkgs[@]}"; do
  report="$out/$(basename "$pkg" .tar.gz).appinspect.json"
  echo "50-appinspect: inspecting $pkg (precert, cloud tags)"
  splunk-appinspect inspect "$pkg" --mode precert --included-tags cloud \
    --data-format json --output-file "$report" >"$out/stdout.txt" 2>&1 || {
      echo "50-appinspect: splunk-appinspect exited $?" >&2; tail -40 "$out/stdout.txt" >&2; rc=1; continue; }
  python3 - "$report" <<'PY' || rc=1
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
print("50-appinspect: summary " + " ".join(f"{k}={s[k]}" for k in sorted(s)))
bad = 0
for rep in r.get("reports", []):
    for g in rep.get("groups", []):
        for c in g.get("checks", []):
            if c.get("result") in ("failure", "error", "warning", "future_failure"):
                for m in c.get("messages", []) or [{}]:
                    where = m.get("message_filename") or ""
                    if m.get("message_line"):
                        where += f":{m['message_line']}"
                    print(f"  {c['result'].upper():8} {c['name']} {where} {m.get('message', '')}")
            if c.get("result") in ("failure", "error"):
                bad += 1
if s.get("failure", 0) or s.get("error", 0) or bad:
    print("50-appinspect: FAIL (failures or errors above)")
    sys.exit(1)
print("50-appinspect: OK (no failure, no error)")
PY
done
exit $rc
