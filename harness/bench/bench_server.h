/* Mock DC benchmarks (`mtprobe bench --only server`),
 * through the real server connection code (mtps_conn) in memory, timing only
 * the server's side (the best of interleaved runs, so that both figures of a ratio see the same machine load):
 *   server_bignum_ms              ms       one RSA-2048 private operation + two 2048-bit modexps
 *                                          (g^a and g_b^a): the unavoidable work of one exchange
 *   server_exchanges              1/s      complete auth-key exchanges per second of server time,
 *                                          ceiling = 1 / server_bignum_ms (the bound; aim 0.8 of it)
 *   server_pings                  1/s      encrypted pings answered per second of server time, one
 *                                          core, pipelined (a stream of pings, one per packet, fed in
 *                                          16 KiB pieces); ceiling = msgcrypt decrypt + encrypt of the
 *                                          same packets alone, measured in the same run
 * Returns MTP_OK, or a negative code when a measured call fails. */
#ifndef MTP_BENCH_SERVER_H
#define MTP_BENCH_SERVER_H

#include "bench/bench.h"

int mtp_bench_server(const struct mtp_bench_sink *sink);

#endif
