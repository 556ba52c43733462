#!/usr/bin/env python3
"""Screenshots of an HTML report in headless Chromium: the first screen, and the first MUST
failure opened (else the first failing result, else the first result).

  report-screenshot.py INDEX.html OUT.png      writes OUT.png and OUT-case.png
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "report"))
import cdp  # noqa: E402

OPEN_CASE = """(() => {
  const m = window.mtpReport, r = m.report.results;
  const bad = new Set(['fail', 'hang', 'crash', 'xpass']);
  const level = (x) => x.level || (m.cases.find((c) => c.id === x.case) || {}).level;
  let i = r.findIndex((x) => bad.has(x.verdict) && level(x) === 'MUST');
  if (i < 0) i = r.findIndex((x) => bad.has(x.verdict));
  m.openResult(Math.max(i, 0));
})()"""


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    page, shot = os.path.abspath(sys.argv[1]), sys.argv[2]
    chromium = cdp.find_chromium()
    if chromium is None:
        print("report-screenshot: no chromium (scripts/deps.sh installs it)", file=sys.stderr)
        return 3
    b = cdp.Browser(chromium, width=1400, height=900)
    try:
        b.open("file://" + page)
        b.wait_for("document.body.dataset.ready === '1'", timeout=60, what="the report's first screen")
        b.screenshot(shot)
        if b.eval("window.mtpReport.report.results.length"):
            b.eval(OPEN_CASE)
            b.wait_for("document.getElementById('detail').dataset.state === 'open'", what="a case to open")
            # Down to the wire log, where the hostile message is.
            b.eval("(() => { const d = document.getElementById('detail'), w = d.querySelector('table.wire');"
                   " if (w) d.scrollTop = w.offsetTop - 120; })()")
            b.screenshot(shot[:-4] + "-case.png" if shot.endswith(".png") else shot + "-case.png")
        if b.console_errors:
            print("report-screenshot: the page logged errors: " + "; ".join(b.console_errors), file=sys.stderr)
            return 1
    finally:
        b.close()
    print(shot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
