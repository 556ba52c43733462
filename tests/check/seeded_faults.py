#!/usr/bin/env python3
"""Proof that `mtprobe check client` catches what it claims: every seeded fault of the reference
client (`mtprobe client --list-faults`: one switch per check, each naming the catalogue item it
breaks) must make at least one case of that catalogue item fail, crash or hang.

    seeded_faults.py --mtprobe build/mtprobe [--only NAME] [--report-dir DIR] [--jobs N]

For each fault it runs the suite's cases of the fault's requirement against
`mtprobe client --fault NAME` on a transport where the check matters, and reads report.json.
Prints one line per fault and the score; exit 0 only when every fault was caught by a case of
the right requirement (1 otherwise, 2 usage, 3 the harness could not run).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

# Faults whose check lives in one transport family.
TRANSPORT = {
    "skip-transport-crc": "full",
    "obfs-init-zero": "obfuscated-abridged",
}
FAILING = ("fail", "crash", "hang")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mtprobe", required=True)
    ap.add_argument("--only", help="one fault")
    ap.add_argument("--report-dir", help="keep the reports here (default: a temporary directory)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout-scale", default="1")
    a = ap.parse_args()
    mtprobe = os.path.abspath(a.mtprobe)
    p = subprocess.run([mtprobe, "client", "--list-faults"], capture_output=True, text=True)
    if p.returncode != 0:
        print("mtprobe client --list-faults failed: %s" % p.stderr.strip(), file=sys.stderr)
        return 3
    faults = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    if a.only:
        faults = [f for f in faults if f["fault"] == a.only]
        if not faults:
            print("no fault named %s" % a.only, file=sys.stderr)
            return 2
    work = a.report_dir or tempfile.mkdtemp(prefix="mtprobe-faults-")
    caught = 0
    missed = []
    for f in faults:
        name, req = f["fault"], f["requirement"]
        transport = TRANSPORT.get(name, "intermediate")
        cmd = ("%s client --server {host}:{port} --rsa-pub {rsa_pub} --transport {transport} --secret '{secret}' "
               "--dc {dc} --request {request} --timeout {timeout} --fault %s" % (mtprobe, name))
        rdir = os.path.join(work, name)
        r = subprocess.run([mtprobe, "check", "client", "--cmd", cmd, "--requirement", req, "--transports", transport,
                            "--jobs", str(a.jobs), "--timeout-scale", a.timeout_scale, "--report-dir", rdir],
                           capture_output=True, text=True)
        try:
            with open(os.path.join(rdir, "report.json")) as fh:
                rep = json.load(fh)
        except (OSError, ValueError) as e:
            print("%-28s %-9s harness error: no report (%s); exit %d: %s" % (name, req, e, r.returncode,
                                                                           r.stderr.strip()[-300:]))
            missed.append(name)
            continue
        hits = [x for x in rep.get("results", []) if x.get("verdict") in FAILING and x.get("requirement") == req]
        errors = [x for x in rep.get("results", []) if x.get("verdict") == "error"]
        if hits:
            caught += 1
            print("%-28s %-9s caught by %s (%s)" % (name, req, hits[0]["case"], hits[0]["verdict"]))
        else:
            missed.append(name)
            print("%-28s %-9s NOT caught: %d runs, verdicts %s%s" % (
                name, req, len(rep.get("results", [])),
                sorted(set(x.get("verdict") for x in rep.get("results", []))),
                "; harness errors in %s" % [x["case"] for x in errors] if errors else ""))
    print("seeded faults caught: %d of %d" % (caught, len(faults)))
    if not a.report_dir:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if caught == len(faults) and faults else 1


if __name__ == "__main__":
    sys.exit(main())
