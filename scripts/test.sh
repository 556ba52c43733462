#!/usr/bin/env bash
# README command 2: installs what is missing, builds, and runs every test (ctest).
#   scripts/test.sh          gcc build in build/
#   scripts/test.sh asan     the same tests under ASan + UBSan (clang) in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
bash scripts/deps.sh
bash scripts/build.sh "$flavour"
dir=build; [ "$flavour" = asan ] && dir=build-asan
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$dir" --output-on-failure -j"$(nproc 2>/dev/null || echo 2)"
