#!/usr/bin/env bash
# Merges the runs of several implementations into the committed conformance report and refreshes the
# screenshots the README shows.
#
#   scripts/reports.sh [LABEL=]RUN_DIR...
#   e.g. scripts/reports.sh reference=out/reference telethon=out/telethon gramjs=out/gramjs
#
# Each RUN_DIR is a `mtprobe check client --report-dir` directory (or any report.json).  Writes
# reports/report.json, reports/junit.xml and reports/index.html, then docs/report.png (the first
# screen) and docs/report-case.png (the first MUST failure opened).
# Environment: OUT (default reports/), BODY_CAP (bytes: leave the hex of larger messages out of
# index.html; report.json keeps it; default 0, keep all), SHOT (default docs/report.png; empty: no
# screenshots), MTPROBE (default build/mtprobe, built if missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -eq 0 ]; then
  sed -n '2,15p' "$0" >&2
  exit 2
fi
mtprobe=${MTPROBE:-$root/build/mtprobe}
[ -x "$mtprobe" ] || bash "$root/scripts/build.sh" release
out=${OUT:-$root/reports}
"$mtprobe" report merge "$@" --out "$out"
if [ "${BODY_CAP:-0}" != 0 ]; then
  "$mtprobe" report html "$out/report.json" --body-cap "$BODY_CAP"
fi
shot=${SHOT-$root/docs/report.png}
if [ -n "$shot" ]; then
  /usr/bin/python3 "$root/scripts/report-screenshot.py" "$out/index.html" "$shot"
fi
ls -l "$out/report.json" "$out/junit.xml" "$out/index.html"
