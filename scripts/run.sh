#!/usr/bin/env bash
# README command 1: installs what is missing, builds, and runs the main job:
# every known-answer vector against the reference implementation, reports in reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh release
./build/mtprobe kat --report-dir reports "$@"
