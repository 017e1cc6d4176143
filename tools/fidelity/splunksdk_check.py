#!/usr/bin/env python3
"""Fidelity check of fluxhunt's Splunk emulator with Splunk's own Python SDK.

Reads a JSON spec (path as the only argument; secrets travel in the file, not
on the command line):

  {"host": "127.0.0.1", "port": 8089, "scheme": "http",
   "token": "..."  |  "username": "...", "password": "...",
   "expect_version": "9.3.1",
   "checks": [{"name": "...", "search": "...", "params": {...},
               "fields": ["src", "query", ...], "expect": [{...}, ...]}]}

For each check it reads the rows back twice with splunklib, unchanged:
`service.jobs.export` (the v2 export endpoint from 9.0.2, v1 before) and
`service.jobs.create` + `job.is_done()` (Atom XML status) + `job.results`,
both parsed with `splunklib.results.JSONResultsReader`, and compares the
projection of the final (non-preview) rows on `fields` with `expect`
(order-insensitive). Exits 1 on any difference, printing it.
"""

import json
import sys
import time

import importlib.metadata

import splunklib.client as client
import splunklib.results as results


def canon(rows, fields):
    out = []
    for r in rows:
        proj = {}
        for f in fields:
            v = r.get(f)
            if isinstance(v, list):
                v = sorted(v)
            proj[f] = v
        out.append(json.dumps(proj, sort_keys=True))
    return sorted(out)


def read(stream):
    rows, errors = [], []
    reader = results.JSONResultsReader(stream)
    for item in reader:
        if isinstance(item, results.Message):
            if item.type in ("ERROR", "FATAL"):
                errors.append(f"{item.type}: {item.message}")
            continue
        if isinstance(item, dict) and not reader.is_preview:
            rows.append(item)
    return rows, errors


def main():
    with open(sys.argv[1], encoding="utf-8") as fh:
        spec = json.load(fh)
    kw = {"host": spec["host"], "port": spec["port"], "scheme": spec.get("scheme", "http"), "verify": False}
    if spec.get("token"):
        kw["splunkToken"] = spec["token"]
    else:
        kw["username"], kw["password"] = spec["username"], spec["password"]
    service = client.connect(**kw)
    version = service.info["version"]
    v2 = not service.disable_v2_api
    try:
        sdk = importlib.metadata.version("splunk-sdk")
    except importlib.metadata.PackageNotFoundError:
        sdk = "(unknown version)"
    print(f"splunk-sdk {sdk} connected: Splunk {version}, v2 search API: {v2}")
    failed = False
    if spec.get("expect_version") and version != spec["expect_version"]:
        print(f"FAIL version {version}, want {spec['expect_version']}")
        failed = True
    for check in spec["checks"]:
        params = dict(check.get("params", {}))
        params["output_mode"] = "json"
        want = canon(check["expect"], check["fields"])

        rows, errs = read(service.jobs.export(check["search"], **params))
        got = canon(rows, check["fields"])
        ok = got == want and not errs
        print(f"{'OK  ' if ok else 'FAIL'} export {check['name']}: {len(rows)} rows, want {len(want)} {errs or ''}")
        if not ok:
            failed = True
            print("  missing:", [x for x in want if x not in got][:5])
            print("  extra:  ", [x for x in got if x not in want][:5])

        job_params = {k: v for k, v in params.items() if k != "output_mode"}
        job = service.jobs.create(check["search"], **job_params)
        deadline = time.time() + 30
        while not job.is_done():
            if time.time() > deadline:
                print(f"FAIL job {check['name']}: not done after 30 s")
                sys.exit(1)
            time.sleep(0.05)
        count = int(job["resultCount"])
        rows, errs = [], []
        offset = 0
        while offset < count or offset == 0:
            page, perrs = read(job.results(output_mode="json", count=100, offset=offset))
            rows += page
            errs += perrs
            if not page:
                break
            offset += len(page)
        job.cancel()
        got = canon(rows, check["fields"])
        ok = got == want and not errs and count == len(want)
        print(f"{'OK  ' if ok else 'FAIL'} job    {check['name']}: sid {job.sid}, resultCount {count}, {len(rows)} rows read in pages of 100, want {len(want)} {errs or ''}")
        if not ok:
            failed = True
            print("  missing:", [x for x in want if x not in got][:5])
            print("  extra:  ", [x for x in got if x not in want][:5])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
