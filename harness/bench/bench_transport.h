/* Transport benchmarks (the sink of bench/bench.h; to be wired into `mtprobe bench`).
 * Each decodes a client stream of 1 KB frames handed over in 16 KiB pieces,
 * as recv() would, so that frames straddle the pieces and the buffering path
 * is part of the figure:
 *   transport_decode_abridged_1k        MB/s   plain abridged
 *   transport_decode_intermediate_1k    MB/s   plain intermediate
 *   transport_decode_obfs_intermediate_1k  MB/s  obfuscated intermediate: AES-256-CTR decryption in place + decoding
 * The ceiling of each is memcpy over the same stream in the same pieces,
 * measured in the same run.  MB is 10^6 bytes of stream.  Returns MTP_OK, or
 * a negative code when a measured call fails. */
#ifndef MTP_BENCH_TRANSPORT_H
#define MTP_BENCH_TRANSPORT_H

#include "bench/bench.h"

int mtp_bench_transport(const struct mtp_bench_sink *sink);

#endif
