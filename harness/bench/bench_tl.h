/* TL decoder benchmark: decode MB/s over a mixed corpus of real-shaped
 * MTProto and API messages, against memcpy and CRC32 over the same bytes. */
#ifndef MTP_BENCH_TL_H
#define MTP_BENCH_TL_H

#include "mtp/err.h"

#include "bench/bench.h"

struct mtp_bench_tl_opts {
    double seconds;           /* time per figure; 0: 1 s */
    unsigned long iterations; /* > 0: decode the corpus this many times, untimed, and report the byte count
                                 (for `valgrind --tool=callgrind --toggle-collect=mtp_tl_decode`) */
};

/* Records: tl_decode_mixed (MB/s, ceiling memcpy), tl_decode_crc32_ceiling,
 * tl_decode_messages (messages/s), tl_schema_load_api (ms). */
MTP_MUST_USE int mtp_bench_tl_run(const struct mtp_bench_sink *sink, const struct mtp_bench_tl_opts *opts,
                                  struct mtp_error *err);
/* The `mtprobe bench` entry: mtp_bench_tl_run with sink->min_seconds per figure. */
int mtp_bench_tl(const struct mtp_bench_sink *sink);

#endif
