/* Session-layer benchmarks (same sink as bench.h; to be wired into `mtprobe bench`).
 *   session_rpc_plain         rpc/s   client query -> server -> rpc_result -> client, plaintext cores
 *   session_rpc_packet_1k     rpc/s   the same with 1 KB query and result, encrypted packets both ways
 *   session_container_100     msg/s   server receiving containers of 100 queries (messages per second)
 * All cores use a deterministic environment, so the work is identical across runs. */
#ifndef MTP_BENCH_SESSION_H
#define MTP_BENCH_SESSION_H

#include "bench/bench.h"

int mtp_bench_session(const struct mtp_bench_sink *sink);

#endif
