#!/usr/bin/env bash
# Configures and builds one flavour of mtprobe.
#   scripts/build.sh            build/        gcc, RelWithDebInfo
#   scripts/build.sh asan       build-asan/   clang, ASan + UBSan, Debug
#   scripts/build.sh fuzz       build-fuzz/   clang, libFuzzer targets (+ ASan + UBSan)
#   scripts/build.sh gcc-release  build-gcc-release/   gcc, Release (CI: every build type stays warning-free)
#   scripts/build.sh clang-debug  build-clang-debug/   clang, Debug, no sanitizers
# MTPROBE_WERROR=ON in the environment makes warnings errors (CI does this).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
case "${1:-release}" in
  release) dir=build;      args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)    dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DMTPROBE_SANITIZE=ON -DCMAKE_C_COMPILER=clang) ;;
  fuzz)    dir=build-fuzz; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMTPROBE_FUZZ=ON -DMTPROBE_TESTS=OFF
                                 -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
  gcc-release) dir=build-gcc-release; args=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc) ;;
  clang-debug) dir=build-clang-debug; args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang) ;;
  *) echo "usage: $0 [release|asan|fuzz|gcc-release|clang-debug]" >&2; exit 2 ;;
esac
args+=(-DMTPROBE_WERROR="${MTPROBE_WERROR:-OFF}")
cmake -S . -B "$dir" "${args[@]}" >/dev/null
cmake --build "$dir" -j"$jobs"
