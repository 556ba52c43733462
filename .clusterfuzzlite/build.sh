#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: $CC, $CFLAGS, $LIB_FUZZING_ENGINE and $OUT come from the base image.
cmake -S "$SRC/mtprobe" -B "$WORK/build" -DMTPROBE_FUZZ=ON -DMTPROBE_TESTS=OFF -DMTPROBE_WERROR=OFF \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" -DOPENSSL_USE_STATIC_LIBS=TRUE
cmake --build "$WORK/build" -j"$(nproc)"
for bin in "$WORK"/build/fuzzers/fuzz_*; do
  t=$(basename "$bin")
  cp "$bin" "$OUT/"
  if [ -d "$SRC/mtprobe/fuzz/corpus/$t" ]; then
    (cd "$SRC/mtprobe/fuzz/corpus/$t" && zip -jq "$OUT/${t}_seed_corpus.zip" ./*)
  fi
  for ext in dict options; do
    [ -f "$SRC/mtprobe/fuzz/$t.$ext" ] && cp "$SRC/mtprobe/fuzz/$t.$ext" "$OUT/"
  done
done
