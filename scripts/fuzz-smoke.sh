#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a short time over its seed corpus.
#   scripts/fuzz-smoke.sh [SECONDS]     (default 30 per target)
# New inputs go to a scratch directory, never into fuzz/corpus/.  A crash, leak,
# timeout or out-of-memory fails the run and leaves the reproducer in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
bash scripts/build.sh fuzz
mkdir -p build-fuzz/artifacts
failed=()
for bin in build-fuzz/fuzzers/fuzz_*; do
  [ -x "$bin" ] || continue
  t=$(basename "$bin")
  scratch=$(mktemp -d)
  opts=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0
        -artifact_prefix=build-fuzz/artifacts/"$t"- )
  [ -f "fuzz/$t.dict" ] && opts+=(-dict="fuzz/$t.dict")
  [ -f "fuzz/$t.options" ] && ml=$(sed -n 's/^max_len *= *//p' "fuzz/$t.options") && [ -n "$ml" ] && opts+=(-max_len="$ml")
  seeds=()
  [ -d "fuzz/corpus/$t" ] && seeds+=("fuzz/corpus/$t")
  echo "=== $t (${secs}s, ${#seeds[@]} seed dir)"
  if ! "$bin" "${opts[@]}" "$scratch" "${seeds[@]}" > "build-fuzz/artifacts/$t.log" 2>&1; then
    failed+=("$t")
    tail -n 40 "build-fuzz/artifacts/$t.log"
  else
    grep -E "^(#[0-9]+.*DONE|Done)" "build-fuzz/artifacts/$t.log" | tail -n 1 || true
  fi
  rm -rf "$scratch"
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz smoke: FAILED: ${failed[*]} (logs and reproducers in build-fuzz/artifacts/)"
  exit 1
fi
echo "fuzz smoke: every target ran ${secs}s without a finding"
