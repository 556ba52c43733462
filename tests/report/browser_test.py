#!/usr/bin/env python3
"""The HTML report in a real browser (ctest report/browser, label report).

1. Runs `mtprobe check client` for a few DH cases against two real implementations: the reference
   client (`mtprobe client`) and Telethon (harness/adapters/telethon_adapter.py), and merges the two
   runs with `mtprobe report merge`.
2. Opens the merged index.html (and the single-run one) in headless Chromium over the DevTools
   protocol and checks the page against report.json: the counts per verdict in the header and in
   the matrix, the rows, the columns, the MUST failures; that a failing cell opens its case with
   the requirement, the spec quote, expected vs observed and the whole wire log, with the hostile
   message highlighted and its hex on demand; that the level, verdict, area and search filters
   show the rows they should.  Any console error or exception fails the test.
3. Checks that the checks can fail: a page with a console error, one whose data disagrees with
   report.json, and one whose script does not run must each be refused.
4. Renders a synthetic report of 5,000 results and measures its first screen (must be < 2 s).

Screenshots go to --work (and, with --screenshot, to that path too).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402

SEVERITY = ["pass", "acceptable", "wrong-error", "xfail", "unsupported", "error", "xpass", "fail", "hang", "crash"]
BAD = {"fail", "hang", "crash", "xpass"}
CASES = ["client.dh.prime-not-safe", "client.dh.prime-composite", "client.dh.g4-legal", "client.dh.g-a-margin-low"]
FIRST_SCREEN_BUDGET_MS = 2000
XFAIL_REASON = "no safe-prime test of dh_prime"
XFAIL_REF = "telethon/network/authenticator.py"


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode not in (0, 1):
        raise Failed(f"{' '.join(cmd)[:200]} exited {p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def make_cases(src, work):
    """A case directory holding only the cases this test runs (the other files may be mid-edit)."""
    with open(os.path.join(src, "vectors/cases/client/dh.json")) as f:
        doc = json.load(f)
    doc["cases"] = [c for c in doc["cases"] if c["id"] in CASES]
    check(len(doc["cases"]) == len(CASES), f"dh.json lacks some of {CASES}")
    d = os.path.join(work, "cases")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "dh.json"), "w") as f:
        json.dump(doc, f)
    return d


def check_run(mtprobe, src, cases, out, cmd, transports, extra=()):
    p = run([mtprobe, "check", "client", "--cases-dir", cases, "--catalogue",
             os.path.join(src, "vectors/cases/requirements.json"), "--transports", transports, "--report-dir", out,
             "--cmd", cmd, *extra])
    check(os.path.exists(os.path.join(out, "index.html")), f"no index.html in {out}:\n{p.stdout}\n{p.stderr}")


def expected_view(report):
    """What the page must show, computed from report.json on its own."""
    results = report["results"]
    counts = {v: 0 for v in SEVERITY}
    for r in results:
        counts[r["verdict"]] += 1
    levels = {c["id"]: c.get("level") for c in report["cases"]}
    cells = {}
    for r in results:
        key = (r["case"], r["run"], r.get("transport") or "")
        v = cells.get(key, "pass")
        cells[key] = r["verdict"] if SEVERITY.index(r["verdict"]) >= SEVERITY.index(v) else v
    cell_counts = {v: 0 for v in SEVERITY}
    for v in cells.values():
        cell_counts[v] += 1
    must = sum(1 for r in results if r["verdict"] in BAD and (r.get("level") or levels.get(r["case"])) == "MUST")
    row_cases = sorted({r["case"] for r in results})
    return {"counts": counts, "cell_counts": cell_counts, "must": must, "cases": row_cases, "cells": cells,
            "levels": levels}


JS_STATE = """(() => {
  const q = (s) => Array.from(document.querySelectorAll(s));
  const chips = {}; for (const c of q('#totals .chip')) chips[c.dataset.verdict] = +c.dataset.count;
  const cells = {}; for (const td of q('#matrix td.c[data-v]')) cells[td.dataset.v] = (cells[td.dataset.v] || 0) + 1;
  return { ready: document.body.dataset.ready, chips, cells,
    rows: q('#matrix tr.case').map((tr) => tr.cells[0].textContent),
    visible: q('#matrix tr.case:not(.hidden)').length,
    shown: +document.getElementById('rowcount').dataset.shown,
    runs: q('#matrix thead th.run').map((th) => th.textContent),
    must: q('#must-failures ol li').length,
    mustHeading: (document.querySelector('#must-failures h2') || {}).textContent };
})()"""


def visible_rows(b):
    return b.eval("document.querySelectorAll('#matrix tr.case:not(.hidden)').length")


def set_box(b, name, value, on):
    b.eval(f"""(() => {{ const el = document.querySelector('#controls input[name={name}][value="{value}"]');
      if (!el) throw new Error('no {name} box {value}'); el.checked = {str(on).lower()};
      el.dispatchEvent(new Event('change', {{bubbles: true}})); }})()""")


def check_page(b, html, report, shot=None, deep=True, ready_timeout=30):
    """Opens html and checks it against report; raises Failed on the first disagreement."""
    exp = expected_view(report)
    b.console_errors.clear()
    b.open("file://" + os.path.abspath(html))
    b.wait_for("document.body.dataset.ready === '1'", timeout=ready_timeout, what="the page to draw its first screen")
    st = b.eval(JS_STATE)
    for v in SEVERITY:
        check(st["chips"].get(v) == exp["counts"][v],
              f"header count of {v}: page {st['chips'].get(v)}, report.json {exp['counts'][v]}")
        check(report["summary"][v] == exp["counts"][v], f"report.json's summary of {v} disagrees with its results")
        check(st["cells"].get(v, 0) == exp["cell_counts"][v],
              f"matrix cells of {v}: page {st['cells'].get(v, 0)}, report.json {exp['cell_counts'][v]}")
    check(sorted(st["rows"]) == exp["cases"], f"rows: page {sorted(st['rows'])[:5]}..., report.json {exp['cases'][:5]}...")
    check(st["runs"] == [r["id"] for r in report["runs"]], f"columns: page {st['runs']}, runs {[r['id'] for r in report['runs']]}")
    check(st["must"] == exp["must"], f"MUST failures listed: page {st['must']}, report.json {exp['must']}")
    check(st["visible"] == len(exp["cases"]) and st["shown"] == len(exp["cases"]), "not every row is visible at first")
    if shot:
        b.screenshot(shot)
    if not deep:
        check(not b.console_errors, "console errors: " + "; ".join(b.console_errors))
        return

    # A failing cell opens its case and the whole wire log.
    failing = [i for i, r in enumerate(report["results"]) if r["verdict"] in BAD and r.get("wire")]
    check(failing, "the report has no failing result with a wire log to open")
    i = failing[0]
    r = report["results"][i]
    case = next(c for c in report["cases"] if c["id"] == r["case"])
    b.eval(f"""(() => {{
      const m = window.mtpReport, ci = m.cases.findIndex((c) => c.id === {json.dumps(r['case'])});
      const k = m.columns.findIndex((c) => c.run === {json.dumps(r['run'])} && c.transport === {json.dumps(r.get('transport') or '')});
      const td = document.querySelector(`td.c[data-cell="${{ci}}:${{k}}"]`);
      if (!td) throw new Error('no cell for the failing result');
      td.click(); }})()""")
    b.wait_for("document.getElementById('detail').dataset.state === 'open'", what="the case to open")
    d = b.eval("""(() => { const d = document.getElementById('detail'); const q = (s) => Array.from(d.querySelectorAll(s));
      return { result: +d.dataset.result, text: d.textContent, quote: (d.querySelector('.quote') || {}).textContent,
        observed: (d.querySelector('.eo .observed') || {}).textContent,
        expected: (d.querySelector('.eo .expected') || {}).textContent,
        rows: q('table.wire tbody tr').length, hostile: q('table.wire tr.hostile').map((tr) => +tr.dataset.event),
        marked: q('table.wire tr.marked').map((tr) => +tr.dataset.event),
        tl: q('table.wire code.tl').map((c) => c.textContent), hexbtn: q('button.hexbtn').length,
        specLink: (d.querySelector('a[href^="https://core.telegram.org"]') || {}).href }; })()""")
    check(d["result"] == i, f"the drawer shows result {d['result']}, not {i}")
    check(d["rows"] == len(r["wire"]), f"wire log rows: page {d['rows']}, report.json {len(r['wire'])}")
    hostile_marks = {m["event"] for m in r.get("marks", []) if m.get("why") == "hostile"}
    want_hostile = [k for k, e in enumerate(r["wire"]) if e.get("hostile") or k in hostile_marks]
    check(want_hostile, "the failing result's wire log has no hostile message")
    check(d["hostile"] == want_hostile, f"hostile rows: page {d['hostile']}, report.json {want_hostile}")
    check(d["marked"] == sorted({m["event"] for m in r.get("marks", [])}), f"marked rows: page {d['marked']}")
    msgs = [e for e in r["wire"] if e.get("ev") == "msg"]
    check(d["tl"] == [e["tl"] for e in msgs if e.get("tl")], "the TL text of the messages differs from report.json")
    check(r["observed"] in d["observed"], "the observed text is not shown")
    check(r["expected"] in d["expected"], "the expected text is not shown")
    check(case["spec"]["quote"] == d["quote"], "the spec quote is not shown")
    check(d["specLink"] == case["spec"]["url"], f"spec link {d['specLink']} is not {case['spec']['url']}")
    check(case["requirement"] in d["text"] and case["level"] in d["text"], "the requirement and level are not shown")
    check(d["hexbtn"] == sum(1 for e in msgs if e.get("body")), "not every message offers its hex")
    k = want_hostile[0]
    b.eval(f"document.querySelector('#detail button.hexbtn[data-hex=\"{k}\"]').click()")
    hex_text = b.wait_for(f"(document.querySelector('#detail [data-hexbox=\"{k}\"] pre.hex') || {{}}).textContent",
                          what="the hex of the hostile message")
    body = r["wire"][k]["body"]
    check(" ".join(body[j:j + 2] for j in range(0, 32, 2)) in hex_text, "the hex dump does not show the message's bytes")
    if shot:
        b.screenshot(shot.replace(".png", "-case.png"))
    b.eval("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}))")
    check(b.eval("document.getElementById('detail').hidden"), "Escape does not close the case")

    # An expected failure shows why, and where in the library.
    xf = [j for j, x in enumerate(report["results"]) if x["verdict"] == "xfail"]
    if xf:
        b.eval(f"window.mtpReport.openResult({xf[0]})")
        b.wait_for(f"document.getElementById('detail').dataset.state === 'open' && "
                   f"document.getElementById('detail').dataset.result === '{xf[0]}'", what="the xfail case to open")
        text = b.eval("document.getElementById('detail').textContent")
        x = report["results"][xf[0]]["expectation"]
        check(x["reason"] in text and x["ref"] in text, "the expected failure's reason and source are not shown")
        check("judged " + report["results"][xf[0]]["raw_verdict"] in text, "the judge's own verdict is not shown")
        b.eval("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}))")

    # Filters change the visible rows as report.json says they should.
    levels = exp["levels"]
    n_all = len(exp["cases"])
    not_must = sum(1 for c in exp["cases"] if levels.get(c) != "MUST")
    set_box(b, "level", "MUST", False)
    check(visible_rows(b) == not_must, f"without MUST: {visible_rows(b)} rows visible, want {not_must}")
    set_box(b, "level", "MUST", True)
    check(visible_rows(b) == n_all, "re-checking MUST does not bring the rows back")
    with_fail = sorted({c for (c, _, _), v in exp["cells"].items() if v == "fail"})
    b.eval("document.querySelector('#totals .chip[data-verdict=fail]').click()")
    check(visible_rows(b) == len(with_fail), f"verdict fail only: {visible_rows(b)} rows, want {len(with_fail)}")
    b.eval("document.querySelector('#totals .chip[data-verdict=fail]').click()")
    check(visible_rows(b) == n_all, "clicking the chip again does not show every row")
    needle = "g4"
    b.eval(f"(() => {{ const s = document.getElementById('f-search'); s.value = '{needle}';"
           "s.dispatchEvent(new Event('input', {bubbles: true})); })()")
    want = sum(1 for c in exp["cases"] if needle in c)
    check(visible_rows(b) == want, f"search '{needle}': {visible_rows(b)} rows, want {want}")
    b.eval("(() => { const s = document.getElementById('f-search'); s.value = '';"
           "s.dispatchEvent(new Event('input', {bubbles: true})); })()")
    areas = {c["id"]: c.get("area") for c in report["cases"]}
    area = areas[exp["cases"][0]]
    b.eval(f"(() => {{ const s = document.getElementById('f-area'); s.value = {json.dumps(area)};"
           "s.dispatchEvent(new Event('change', {bubbles: true})); })()")
    check(visible_rows(b) == sum(1 for c in exp["cases"] if areas[c] == area), "the area filter shows the wrong rows")
    # The keyboard: arrows walk the cells, Enter opens one.
    b.eval("(() => { const s = document.getElementById('f-area'); s.value = '';"
           "s.dispatchEvent(new Event('change', {bubbles: true})); })()")
    b.eval("document.querySelector('#matrix td.c[data-v]').focus()")
    for key in ("ArrowRight", "ArrowDown", "Enter"):
        b.eval(f"document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {{key: '{key}', bubbles: true}}))")
    b.wait_for("document.getElementById('detail').dataset.state === 'open'", what="Enter to open the focused cell")
    second_row = b.eval("document.querySelectorAll('#matrix tr.case')[1].dataset.ci")
    shown = report["results"][int(b.eval("document.getElementById('detail').dataset.result"))]
    want_col = b.eval("window.mtpReport.columns[1]")
    check(shown["case"] == b.eval(f"window.mtpReport.cases[{second_row}].id") and shown["run"] == want_col["run"]
          and (shown["transport"] or "") == want_col["transport"], "arrow keys and Enter opened the wrong cell")
    check(not b.console_errors, "console errors: " + "; ".join(b.console_errors))


def must_refuse(b, html, report, what):
    try:
        check_page(b, html, report, deep=False, ready_timeout=5)
    except (Failed, cdp.CdpError):
        return
    raise Failed(f"the checks accepted a broken page ({what})")


def break_pages(b, html, report, work):
    with open(html, encoding="utf-8") as f:
        page = f.read()
    variants = {
        "a console error": page.replace("<body>", "<body><script>console.error('broken on purpose')</script>", 1),
        "data that disagrees with report.json": page.replace('"verdict":"fail"', '"verdict":"pass"', 1),
        "a script that does not run": re.sub(r"'use strict';", "'use strict'; throw new Error('broken on purpose');", page, 1),
    }
    for what, text in variants.items():
        check(text != page, f"could not break the page for: {what}")
        path = os.path.join(work, "broken.html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        must_refuse(b, path, report, what)


def first_screen(b, mtprobe, work):
    synth = os.path.join(work, "synth")
    os.makedirs(synth, exist_ok=True)
    src = os.path.join(synth, "report.json")
    subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "synth_report.py"), src,
                    "--results", "5000"], check=True)
    t0 = time.monotonic()
    subprocess.run([mtprobe, "report", "html", src], check=True, capture_output=True)
    write_s = time.monotonic() - t0
    html = os.path.join(synth, "index.html")
    b.console_errors.clear()
    t0 = time.monotonic()
    b.open("file://" + html)
    b.wait_for("document.body.dataset.ready === '1'", timeout=60, what="the 5,000-result report's first screen")
    wall_ms = (time.monotonic() - t0) * 1000
    ms = float(b.eval("document.body.dataset.firstScreenMs"))
    cells = b.eval("document.querySelectorAll('#matrix td.c[data-v]').length")
    check(cells == 5000, f"the synthetic report shows {cells} cells, not 5000")
    b.eval("document.querySelector('#matrix td.c[data-v]').click()")
    b.wait_for("document.getElementById('detail').dataset.state === 'open'", what="a cell of the big report to open")
    check(b.eval("document.querySelectorAll('#detail table.wire tbody tr').length") > 10, "its wire log is not shown")
    check(not b.console_errors, "console errors: " + "; ".join(b.console_errors))
    size = os.path.getsize(html) / 1e6
    jsize = os.path.getsize(src) / 1e6
    print(f"5,000-result report: first screen in {ms:.0f} ms (page clock; {wall_ms:.0f} ms wall from navigate), "
          f"index.html {size:.1f} MB for a {jsize:.1f} MB report.json, written in {write_s:.1f} s")
    check(ms < FIRST_SCREEN_BUDGET_MS, f"first screen took {ms:.0f} ms, over the {FIRST_SCREEN_BUDGET_MS} ms budget")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mtprobe", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--work", help="where runs and screenshots go (default: a temporary directory)")
    ap.add_argument("--screenshot", help="also copy the merged report's screenshot here")
    ap.add_argument("--skip-perf", action="store_true")
    a = ap.parse_args()
    chromium = cdp.find_chromium()
    if chromium is None:
        print("FAIL: no chromium (scripts/deps.sh installs Debian's)")
        return 1
    work = a.work or tempfile.mkdtemp(prefix="mtprobe-report-browser-")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    src, mtprobe = os.path.abspath(a.source_dir), os.path.abspath(a.mtprobe)
    cases = make_cases(src, work)
    ref = os.path.join(work, "reference")
    tel = os.path.join(work, "telethon")
    check_run(mtprobe, src, cases, ref, f"{mtprobe} client --server {{host}}:{{port}} --rsa-pub {{rsa_pub}} "
              "--transport {transport} --dc {dc} --timeout {timeout} --call '{\"_\":\"help.getNearestDc\"}'",
              "intermediate,obfuscated-abridged")
    # Telethon 1.25.1 does not test dh_prime for safety: recorded once as an expected failure (xfail).
    expect = os.path.join(work, "telethon-expect.json")
    with open(expect, "w") as f:
        json.dump({"implementation": "Telethon", "expected_failures": [
            {"cases": "client.dh.prime-not-safe", "transports": ["intermediate"], "reason": XFAIL_REASON,
             "ref": XFAIL_REF}]}, f)
    check_run(mtprobe, src, cases, tel, f"/usr/bin/python3 {src}/harness/adapters/telethon_adapter.py --connect "
              "{host}:{port} --rsa-key {rsa_pub} --transport {transport} --dc {dc} --timeout {timeout} "
              "--request nearest_dc", "intermediate,obfuscated-abridged", ["--expect", expect])
    merged = os.path.join(work, "merged")
    p = run([mtprobe, "report", "merge", f"reference={ref}", f"telethon={tel}", "--out", merged])
    check(p.returncode == 0, f"merge failed: {p.stderr}")
    b = cdp.Browser(chromium)
    try:
        with open(os.path.join(merged, "report.json")) as f:
            report = json.load(f)
        check([r["id"] for r in report["runs"]] == ["reference", "telethon"], "merged runs are not labelled")
        check(any(r["verdict"] == "xfail" for r in report["results"]), "Telethon's expected failure is not an xfail")
        shot = os.path.join(work, "report.png")
        check_page(b, os.path.join(merged, "index.html"), report, shot=shot)
        print(f"merged report of 2 implementations, {len(report['results'])} results: the page agrees with report.json")
        with open(os.path.join(ref, "report.json")) as f:
            single = json.load(f)
        check_page(b, os.path.join(ref, "index.html"), single, deep=False)
        print("single-run report: the page agrees with report.json")
        # The other kinds: kat (no transports, no wire logs) and the fuzz summary.
        kat = os.path.join(work, "kat")
        run([mtprobe, "kat", "--vectors", os.path.join(src, "vectors/aes_ige"), "--report-dir", kat])
        fuzz = os.path.join(work, "fuzz")
        run([mtprobe, "report", "merge", os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_sample.json"),
             "--out", fuzz])
        for name, html, rpath, section in (("kat", f"{kat}/kat.html", f"{kat}/kat.json", "Vector"),
                                            ("fuzz", f"{fuzz}/index.html", f"{fuzz}/report.json", "Fuzzing")):
            with open(rpath) as f:
                other = json.load(f)
            check_page(b, html, other, deep=False)
            b.eval("document.querySelector('#matrix td.c[data-v]').click()")
            b.wait_for("document.getElementById('detail').dataset.state === 'open'", what=f"a {name} result to open")
            check(section in b.eval("document.getElementById('detail').textContent"), f"the {name} result lacks {section}")
            check(not b.console_errors, "console errors: " + "; ".join(b.console_errors))
            print(f"{name} report: the page agrees with report.json")
        break_pages(b, os.path.join(merged, "index.html"), report, work)
        print("broken pages (console error, wrong data, dead script) are refused")
        if not a.skip_perf:
            first_screen(b, mtprobe, work)
    except (Failed, cdp.CdpError) as e:
        print(f"FAIL: {e}")
        print(f"(runs and pages in {work})")
        return 1
    finally:
        b.close()
    if a.screenshot:
        shutil.copyfile(shot, a.screenshot)
    print(f"screenshots: {shot}, {shot.replace('.png', '-case.png')}")
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
