#!/usr/bin/env python3
"""ctest kat/thirdparty: the KAT judge from a third-party implementer's side.

tests/kat/thirdparty_shim.py is an implementation of its own, written from the
first version of docs/shim.md, with its own error names.  Replayed through
`mtprobe kat --shim` over every vector it must never get a failure:

  - without an error map, its correct rejections under its own names are
    wrong-error notes naming both errors, and the run passes;
  - with tests/kat/thirdparty_errors.json they pass, with no wrong error left;
  - as a version 1 shim it is not sent the vectors that need a later feature
    (unsupported, naming the feature), and the answer fields it leaves out are
    reported as not checked, not failed;
  - its lax answer to a SHOULD (a 0xdd secret with the intermediate tag) is
    acceptable, and --strict turns that and every wrong error into failures.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


def kat(mtprobe, src, work, name, *extra, vectors=("vectors",)):
    out = os.path.join(work, name)
    cmd = [mtprobe, "kat", "--shim", "%s %s" % (sys.executable, os.path.join(src, "tests/kat/thirdparty_shim.py")),
           "--report-dir", out, *extra]
    for v in vectors:
        cmd += ["--vectors", os.path.join(src, v)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    with open(os.path.join(out, "kat.json")) as f:
        report = json.load(f)
    return p, report


def by_case(report):
    return {r["case"]: r for r in report["results"]}


def verdicts(report):
    out = {}
    for r in report["results"]:
        out.setdefault(r["verdict"], []).append(r["case"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mtprobe", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--work")
    a = ap.parse_args()
    src, mtprobe = os.path.abspath(a.source_dir), os.path.abspath(a.mtprobe)
    work = a.work or tempfile.mkdtemp(prefix="mtprobe-kat-thirdparty-")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    errmap = os.path.join(src, "tests/kat/thirdparty_errors.json")
    try:
        # 1. Its own names, no map: wrong-error notes, never a failure.
        p, rep = kat(mtprobe, src, work, "plain")
        check(p.returncode == 0, "without an error map the run must pass, exit %d:\n%s" % (p.returncode, p.stdout[-3000:]))
        v, r = verdicts(rep), by_case(rep)
        check("fail" not in v, "failures without an error map: %s" % v.get("fail"))
        check(len(v.get("wrong-error", [])) >= 100, "expected its own error names as wrong-error notes, got %d"
              % len(v.get("wrong-error", [])))
        check(len(v.get("pass", [])) >= 150, "too few passes: %d" % len(v.get("pass", [])))
        check(rep["hello"]["protocol"] == 1 and rep["options"]["strict"] is False and
              rep["options"]["protocol"] == 1, "hello / options not recorded: %s" % rep.get("options"))
        w = r["msgcrypt/msgcrypt_telethon#44"]
        check(w["verdict"] == "wrong-error" and w["message"].startswith(
            'expected error "auth_key_id_mismatch", got "auth_key_id"'), "msgcrypt_telethon#44: %s" % w)
        check(w["observed"]["error"] == "auth_key_id" and w["expected"]["error"] == "auth_key_id_mismatch",
              "a wrong-error result keeps both answers: %s" % w)
        w = r["dh/dh_checks#46"]
        check(w["verdict"] == "wrong-error" and 'expected reason "dh_ga_unsafe", got "g_a is within 2^1984' in
              w["message"], "a prose dh_check reason: %s" % w)
        check("wrong-error transport/full#10 (transport_decode: CRC with one bit flipped): expected error "
              '"transport_bad_crc", got "crc"' in p.stdout, "wrong errors are listed on the console")
        # Version 1: vectors needing later features are not sent, fields of later features are not checked.
        u = r["transport/abridged#9"]
        check(u["verdict"] == "unsupported" and u["message"].startswith('needs the shim feature "sender"') and
              "request" not in u, "abridged#9 (a server frame): %s" % u)
        check(r["transport/padded#1"]["verdict"] == "unsupported" and '"padding"' in r["transport/padded#1"]["message"],
              "padded#1: %s" % r["transport/padded#1"])
        n = r["transport/abridged#13"]
        check(n["verdict"] == "pass" and n["not_checked"] == ["quick_ack"], "abridged#13: %s" % n)
        n = r["transport/obfuscated#1"]
        check(n["verdict"] == "pass" and n["not_checked"] == ["next_wire"], "obfuscated#1: %s" % n)
        check(rep["summary"]["not_checked"] >= 20, "not-checked vectors are counted: %s" % rep["summary"])
        check("not checked: answer fields of features the implementation did not announce" in p.stdout,
              "the console says what was not checked")
        # Its lax answers: a SHOULD (acceptable, fails under --strict) and an INFO rule (acceptable always).
        x = r["transport/obfuscated#43"]
        check(x["verdict"] == "acceptable" and "SHOULD (SecretTransport)" in x["message"], "obfuscated#43: %s" % x)
        check(r["transport/obfuscated#35"]["verdict"] == "acceptable", "obfuscated#35 (TLS prefix, INFO)")
        check(r["pq/pq#13"]["verdict"] == "wrong-error", "pq#13 rejected as too-big: %s" % r["pq/pq#13"])
        check(r["hash/sha#1"]["verdict"] == "unsupported", "an op it does not have")
        plain = rep

        # 2. With its error map: every one of those passes.
        p, rep = kat(mtprobe, src, work, "mapped", "--error-map", errmap)
        check(p.returncode == 0, "with the error map the run must pass, exit %d:\n%s" % (p.returncode, p.stdout[-3000:]))
        v, r = verdicts(rep), by_case(rep)
        check("fail" not in v and "wrong-error" not in v, "with the error map: fail %s, wrong-error %s" %
              (v.get("fail"), v.get("wrong-error")))
        check(set(verdicts(plain)["wrong-error"]) <= set(v["pass"]) | set(v.get("acceptable", [])),
              "every wrong error of the plain run passes with the map")
        check(r["msgcrypt/msgcrypt_telethon#44"]["message"] ==
              'error "auth_key_id" (read as "auth_key_id_mismatch" through the error map)', "the map is named")
        check(r["pq/pq#13"]["verdict"] == "acceptable", "pq#13 with the map: %s" % r["pq/pq#13"])
        check(rep["options"]["error_map"] == errmap, "options.error_map: %s" % rep["options"])
        check(verdicts(plain).get("unsupported") == v.get("unsupported"), "the map changes no unsupported vector")

        # 3. --strict: the wrong errors fail.
        p, rep = kat(mtprobe, src, work, "strict", "--strict", vectors=("vectors/transport", "vectors/pq"))
        check(p.returncode == 1, "--strict without the map must fail the run, exit %d" % p.returncode)
        # Several --vectors: ids are relative to each directory.
        f = by_case(rep)["full#10"]
        check(f["verdict"] == "fail" and f["message"].startswith("wrong error (a failure under --strict)"),
              "full#10 under --strict: %s" % f)

        # 4. --strict with the map: only the lax answer to the SHOULD is left to fail.
        p, rep = kat(mtprobe, src, work, "strict-mapped", "--strict", "--error-map", errmap,
                     vectors=("vectors/transport", "vectors/pq"))
        check(p.returncode == 1, "--strict with the map must fail on obfuscated#43, exit %d" % p.returncode)
        check(verdicts(rep).get("fail") == ["obfuscated#43"], "failures under --strict with the map: %s" %
              verdicts(rep).get("fail"))
    except (Failed, OSError, KeyError, json.JSONDecodeError, subprocess.TimeoutExpired) as e:
        print("FAIL: %s: %s" % (type(e).__name__, e))
        print("work directory kept: %s" % work)
        return 1
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    print("ok: the third-party shim passes with its error map, gets wrong-error notes without it, never a failure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
