#!/usr/bin/env python3
"""Every report mtprobe writes against docs/report.schema.json (ctest report/schema, label report).

Produces reports from real runs (mtprobe kat in process and through `mtprobe shim`, mtprobe check
client against the reference client with an expectations file, merges of both, a fuzz campaign
summary) and checks each:
  - report.json against the JSON Schema (python3-jsonschema), and what a schema cannot say: every
    result names a case and a run of the report, every case an area, marks point into the wire log,
    ids are unique, and the summaries are the counts of the results;
  - junit.xml with a JUnit parser (python3-junitparser) and a structure check: one testsuite per
    run x transport (or vector file), one testcase per case id, the counts of failures, errors and
    skipped equal to what report.json says, failure text carrying expected and observed.
Then makes sure the checks can fail: broken copies of a good report and JUnit file must be refused.
"""
import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import jsonschema
import junitparser

SEVERITY = ["pass", "acceptable", "wrong-error", "xfail", "unsupported", "error", "xpass", "fail", "hang", "crash"]
BAD = {"fail", "hang", "crash", "xpass"}
CASES = ["client.dh.prime-not-safe", "client.dh.g4-legal", "client.dh.g-a-margin-low"]


class Invalid(Exception):
    pass


def recount(results, levels):
    s = {v: 0 for v in SEVERITY}
    s.update(total=len(results), must_failed=0, should_failed=0)
    for r in results:
        s[r["verdict"]] += 1
        level = r.get("level") or levels.get(r["case"])
        if r["verdict"] in BAD and level == "MUST":
            s["must_failed"] += 1
        elif r["verdict"] in BAD and level in ("SHOULD", "RECOMMENDED"):
            s["should_failed"] += 1
    return s


def validate_report(report, validator):
    errors = sorted(validator.iter_errors(report), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        raise Invalid(f"schema: at /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]} ({len(errors)} errors)")
    case_ids = [c["id"] for c in report["cases"]]
    run_ids = [r["id"] for r in report["runs"]]
    area_ids = {a["id"] for a in report["areas"]}
    if len(set(case_ids)) != len(case_ids):
        raise Invalid("case ids are not unique")
    if len(set(run_ids)) != len(run_ids):
        raise Invalid("run ids are not unique")
    for c in report["cases"]:
        if c["area"] not in area_ids:
            raise Invalid(f"case {c['id']}: area {c['area']!r} is not in areas")
    cases = set(case_ids)
    for i, r in enumerate(report["results"]):
        if r["case"] not in cases:
            raise Invalid(f"results[{i}]: case {r['case']!r} is not in cases")
        if r["run"] not in run_ids:
            raise Invalid(f"results[{i}]: run {r['run']!r} is not in runs")
        for m in r.get("marks", []):
            if m["event"] >= len(r.get("wire", [])):
                raise Invalid(f"results[{i}]: a mark points at event {m['event']} of {len(r.get('wire', []))}")
    levels = {c["id"]: c.get("level") for c in report["cases"]}
    want = recount(report["results"], levels)
    got = {k: report["summary"][k] for k in want}
    if got != want:
        raise Invalid(f"summary {got} is not the count of the results {want}")
    for run in report["runs"]:
        mine = [r for r in report["results"] if r["run"] == run["id"]]
        want = recount(mine, levels)
        if {k: run["summary"][k] for k in want} != want:
            raise Invalid(f"run {run['id']}: summary is not the count of its results")


def expected_junit(report):
    cases = {c["id"]: c for c in report["cases"]}
    groups = {}
    for r in report["results"]:
        c = cases[r["case"]]
        part = r["transport"] if r["transport"] is not None else (c.get("group") or c.get("area"))
        key = (f"{r['run']} {part}", r["case"])
        v = groups.get(key, "pass")
        groups[key] = r["verdict"] if SEVERITY.index(r["verdict"]) >= SEVERITY.index(v) else v
    return groups


def validate_junit(path, report):
    try:
        xml = junitparser.JUnitXml.fromfile(path)
    except Exception as e:  # the parser's own exceptions vary by version
        raise Invalid(f"junitparser refuses {path}: {e}")
    if sum(1 for _ in xml) == 0 and report["results"]:
        raise Invalid("junitparser finds no testsuite")
    root = ET.parse(path).getroot()
    if root.tag != "testsuites":
        raise Invalid(f"root element is <{root.tag}>")
    groups = expected_junit(report)
    seen = {}
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    suite_names = [s.get("name") for s in root.findall("testsuite")]
    if len(set(suite_names)) != len(suite_names):
        raise Invalid("testsuite names are not unique")
    if set(suite_names) != {k[0] for k in groups}:
        raise Invalid(f"testsuites {sorted(suite_names)} are not the runs x transports {sorted({k[0] for k in groups})}")
    for suite in root.findall("testsuite"):
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for tc in suite.findall("testcase"):
            name, cls = tc.get("name"), tc.get("classname")
            if not name or not cls:
                raise Invalid(f"a testcase of {suite.get('name')} lacks name or classname")
            key = (suite.get("name"), name)
            if key in seen:
                raise Invalid(f"testcase {key} twice")
            if key not in groups:
                raise Invalid(f"testcase {key} matches no result")
            v = groups[key]
            counts["tests"] += 1
            fail, err, skip = tc.find("failure"), tc.find("error"), tc.find("skipped")
            kind = "failures" if fail is not None else "errors" if err is not None else "skipped" if skip is not None else None
            want = ("failures" if v in BAD else "errors" if v == "error" else "skipped" if v in ("unsupported", "xfail")
                    else None)
            if kind != want:
                raise Invalid(f"testcase {key}: verdict {v} written as {kind}")
            if kind:
                counts[kind] += 1
            if v == "wrong-error" and "expected error" not in (tc.findtext("system-out") or "") and \
                    "expected reason" not in (tc.findtext("system-out") or ""):
                raise Invalid(f"testcase {key}: a wrong-error testcase without both names in its system-out")
            for el in (fail, err):
                if el is not None and report["kind"].startswith("check") and (
                        "expected: " not in (el.text or "") or "observed: " not in (el.text or "")):
                    raise Invalid(f"testcase {key}: the failure text lacks expected and observed")
            seen[key] = True
        for k, n in counts.items():
            if int(suite.get(k, -1)) != n:
                raise Invalid(f"testsuite {suite.get('name')}: {k}={suite.get(k)}, counted {n}")
            totals[k] += n
    for k, n in totals.items():
        if int(root.get(k, -1)) != n:
            raise Invalid(f"testsuites: {k}={root.get(k)}, counted {n}")
    if len(seen) != len(groups):
        raise Invalid(f"{len(groups) - len(seen)} case x run x transport have no testcase")


def run(cmd, ok=(0, 1)):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in ok:
        raise Invalid(f"{' '.join(cmd)[:300]} exited {p.returncode}:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return p


def produce(mtprobe, src, work):
    """Real runs; returns [(name, report.json, junit.xml)]."""
    out = []
    vec = os.path.join(src, "vectors")
    kat = os.path.join(work, "kat")
    run([mtprobe, "kat", "--vectors", vec, "--report-dir", kat])
    out.append(("kat (reference, every vector)", f"{kat}/kat.json", f"{kat}/kat.junit.xml"))
    shim = os.path.join(work, "kat-shim")
    run([mtprobe, "kat", "--vectors", os.path.join(vec, "aes_ige"), "--shim", f"{mtprobe} shim", "--report-dir", shim])
    out.append(("kat (through mtprobe shim)", f"{shim}/kat.json", f"{shim}/kat.junit.xml"))
    # A third party's shim with its own error names: wrong-error, acceptable, unsupported and not-checked results.
    third = os.path.join(work, "kat-thirdparty")
    run([mtprobe, "kat", "--vectors", os.path.join(vec, "transport/full.json"), "--vectors",
         os.path.join(vec, "transport/obfuscated.json"), "--shim",
         f"{sys.executable} {os.path.join(src, 'tests/kat/thirdparty_shim.py')}", "--report-dir", third])
    with open(f"{third}/kat.json") as f:
        got = {r["verdict"] for r in json.load(f)["results"]}
    if not {"wrong-error", "acceptable", "unsupported", "pass"} <= got:
        raise Invalid(f"the third-party kat run lacks a verdict: it has {sorted(got)}")
    out.append(("kat (a third-party shim, wrong-error notes)", f"{third}/kat.json", f"{third}/kat.junit.xml"))
    km = os.path.join(work, "kat-merged")
    run([mtprobe, "report", "merge", f"reference={kat}", f"shim={shim}", f"thirdparty={third}", "--out", km], ok=(0,))
    out.append(("kat merged", f"{km}/report.json", f"{km}/junit.xml"))

    with open(os.path.join(src, "vectors/cases/client/dh.json")) as f:
        doc = json.load(f)
    doc["cases"] = [c for c in doc["cases"] if c["id"] in CASES]
    cases = os.path.join(work, "cases")
    os.makedirs(cases)
    with open(os.path.join(cases, "dh.json"), "w") as f:
        json.dump(doc, f)
    expect = os.path.join(work, "expect.json")
    with open(expect, "w") as f:  # a passing case expected to fail: xpass, with the expectation recorded
        json.dump({"implementation": "mtprobe", "expected_failures": [
            {"cases": "client.dh.g4-legal", "transports": ["intermediate"], "reason": "made up for the test",
             "ref": "tests/report/validate_reports.py"}]}, f)
    client = (f"{mtprobe} client --server {{host}}:{{port}} --rsa-pub {{rsa_pub}} --transport {{transport}} --dc {{dc}} "
              "--timeout {timeout} --call '{\"_\":\"help.getNearestDc\"}'")
    checks = []
    for name, transports, extra in (("check-a", "intermediate,obfuscated-abridged", ["--expect", expect]),
                                    ("check-b", "padded", ["--repeat", "2"])):
        d = os.path.join(work, name)
        run([mtprobe, "check", "client", "--cases-dir", cases, "--catalogue",
             os.path.join(src, "vectors/cases/requirements.json"), "--transports", transports, "--report-dir", d,
             "--cmd", client, *extra])
        out.append((f"check client ({name})", f"{d}/report.json", f"{d}/junit.xml"))
        checks.append(d)
    cm = os.path.join(work, "check-merged")
    run([mtprobe, "report", "merge", *checks, "--out", cm], ok=(0,))
    out.append(("check client merged", f"{cm}/report.json", f"{cm}/junit.xml"))

    fz = os.path.join(work, "fuzz")
    run([mtprobe, "report", "merge", os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_sample.json"),
         "--out", fz], ok=(0,))
    out.append(("fuzz campaign", f"{fz}/report.json", f"{fz}/junit.xml"))
    return out


def must_refuse(what, fn):
    try:
        fn()
    except Invalid:
        return
    raise Invalid(f"the checks accepted a broken report: {what}")


def breakages(report, junit_path, validator, work):
    def mutated(fn):
        r = copy.deepcopy(report)
        fn(r)
        return lambda: validate_report(r, validator)

    res0 = report["results"][0]
    must_refuse("a summary count off by one", mutated(lambda r: r["summary"].__setitem__("pass", r["summary"]["pass"] + 1)))
    must_refuse("an unknown verdict", mutated(lambda r: r["results"][0].__setitem__("verdict", "passed")))
    must_refuse("a result of no run", mutated(lambda r: r["results"][0].__setitem__("run", "nobody")))
    must_refuse("a result of no case", mutated(lambda r: r["results"][0].__setitem__("case", "no.such.case")))
    must_refuse("a wire event without ev", mutated(lambda r: r["results"][0]["wire"][0].pop("ev")))
    must_refuse("a mark past the wire log", mutated(lambda r: r["results"][0].setdefault("marks", []).append(
        {"event": len(res0["wire"]), "why": "x"})))
    must_refuse("no runs", mutated(lambda r: r.__setitem__("runs", [])))
    must_refuse("an unknown top-level key", mutated(lambda r: r.__setitem__("sutes", [])))
    must_refuse("a bad level", mutated(lambda r: r["cases"][0].__setitem__("level", "MUSTNT")))
    with open(junit_path, encoding="utf-8") as f:
        text = f.read()
    for what, bad in (("a testcase without a name", text.replace(' name="client.', ' nome="client.', 1)),
                      ("a wrong failure count", text.replace('failures="', 'failures="9', 1)),
                      ("not XML", text[: len(text) // 2])):
        p = os.path.join(work, "broken.xml")
        with open(p, "w", encoding="utf-8") as f:
            f.write(bad)
        must_refuse(what, lambda p=p: validate_junit(p, report))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mtprobe", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--work")
    ap.add_argument("reports", nargs="*", help="also validate these report.json files (junit.xml beside them)")
    a = ap.parse_args()
    src, mtprobe = os.path.abspath(a.source_dir), os.path.abspath(a.mtprobe)
    with open(os.path.join(src, "docs/report.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    work = a.work or tempfile.mkdtemp(prefix="mtprobe-report-schema-")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    passed = failed = 0
    try:
        todo = produce(mtprobe, src, work)
    except Invalid as e:
        print(f"FAIL: producing the reports: {e}")
        return 1
    for path in a.reports:
        d = os.path.dirname(path)
        todo.append((path, path, os.path.join(d, "junit.xml" if path.endswith("report.json") else
                                              os.path.basename(path)[:-5] + ".junit.xml")))
    kinds = set()
    for name, rpath, jpath in todo:
        try:
            with open(rpath) as f:
                report = json.load(f)
            validate_report(report, validator)
            validate_junit(jpath, report)
            kinds.add(report["kind"])
            print(f"ok   {name}: {len(report['results'])} results, schema and JUnit")
            passed += 1
        except (Invalid, OSError, json.JSONDecodeError) as e:
            print(f"FAIL {name}: {e}")
            failed += 1
    try:
        with open(os.path.join(work, "check-a/report.json")) as f:
            good = json.load(f)
        verdicts = {r["verdict"] for r in good["results"]}
        if "xpass" not in verdicts or not any("expectation" in r for r in good["results"]):
            raise Invalid("the expectations file did not turn a pass into an xpass with its expectation")
        breakages(good, os.path.join(work, "check-a/junit.xml"), validator, work)
        print("ok   broken reports and JUnit files are refused")
        passed += 1
    except (Invalid, OSError) as e:
        print(f"FAIL broken reports: {e}")
        failed += 1
    for k in ("kat", "check-client", "fuzz"):
        if k not in kinds:
            print(f"FAIL no valid {k} report was checked")
            failed += 1
    if not a.work and failed == 0:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
