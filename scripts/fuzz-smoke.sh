#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a short time over its seed corpus,
# as many at once as there are cores.
#   scripts/fuzz-smoke.sh [SECONDS]     (default 30 per target)
# New inputs go to a scratch directory, never into fuzz/corpus/.  A crash, leak,
# timeout or out-of-memory fails the run and leaves the reproducer in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
par=$(nproc 2>/dev/null || echo 2)
bash scripts/build.sh fuzz
mkdir -p build-fuzz/artifacts

# One target; its status goes to build-fuzz/artifacts/<t>.status.
run_one() {
  local bin=$1 t scratch ml
  t=$(basename "$bin")
  scratch=$(mktemp -d)
  local opts=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0
              -artifact_prefix=build-fuzz/artifacts/"$t"- )
  [ -f "fuzz/$t.dict" ] && opts+=(-dict="fuzz/$t.dict")
  if [ -f "fuzz/$t.options" ]; then
    ml=$(sed -n 's/^max_len *= *//p' "fuzz/$t.options")
    [ -n "$ml" ] && opts+=(-max_len="$ml")
  fi
  local seeds=()
  [ -d "fuzz/corpus/$t" ] && seeds+=("fuzz/corpus/$t")
  if "$bin" "${opts[@]}" "$scratch" "${seeds[@]}" > "build-fuzz/artifacts/$t.log" 2>&1; then
    echo ok > "build-fuzz/artifacts/$t.status"
  else
    echo failed > "build-fuzz/artifacts/$t.status"
  fi
  rm -rf "$scratch"
}

targets=()
for bin in build-fuzz/fuzzers/fuzz_*; do
  [ -x "$bin" ] && targets+=("$bin")
done
running=0
for bin in "${targets[@]}"; do
  echo "=== $(basename "$bin") (${secs}s)"
  run_one "$bin" &
  running=$((running + 1))
  if [ "$running" -ge "$par" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

failed=()
for bin in "${targets[@]}"; do
  t=$(basename "$bin")
  if [ "$(cat "build-fuzz/artifacts/$t.status" 2>/dev/null)" != ok ]; then
    failed+=("$t")
    echo "--- $t:"
    tail -n 40 "build-fuzz/artifacts/$t.log"
  else
    grep -E "^(#[0-9]+.*DONE|Done)" "build-fuzz/artifacts/$t.log" | tail -n 1 || true
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz smoke: FAILED: ${failed[*]} (logs and reproducers in build-fuzz/artifacts/)"
  exit 1
fi
echo "fuzz smoke: ${#targets[@]} targets each ran ${secs}s without a finding"
