/* The socket side of `mtprobe client`: connect with a deadline, then a poll()
 * loop that moves bytes between one TCP socket and the client core
 * (mtpc_client.h) until the core is done, fails, or the deadline passes.
 * Reads are bounded (one 64 KiB buffer); memory is bounded by the core's
 * limits; a server that says nothing, or trickles, still ends at the deadline. */
#ifndef MTPC_NET_H
#define MTPC_NET_H

#include <stddef.h>
#include <stdint.h>

#include "client/mtpc_client.h"
#include "mtp/err.h"

/* CLOCK_MONOTONIC in milliseconds: what the deadlines below are measured in. */
int64_t mtpc_net_now_ms(void);

/* Splits "HOST:PORT", "[V6]:PORT" or "V6ADDR:PORT" (the last colon).
 * MTP_ERR_ARG when a part is missing or does not fit. */
MTP_MUST_USE int mtpc_net_split(const char *hostport, char *host, size_t host_cap, char *port, size_t port_cap,
                                struct mtp_error *err);

/* Resolves host and port and connects to the first address that accepts,
 * before deadline.  *fd is then a non-blocking, close-on-exec socket.
 * MTP_ERR_CLIENT_CONNECT (with the reason: refused, unreachable, timed out,
 * unknown host) otherwise. */
MTP_MUST_USE int mtpc_net_connect(const char *host, const char *port, int64_t deadline_ms, int *fd,
                                  struct mtp_error *err);

/* Starts the client if it is not started yet and runs it over fd until it is
 * DONE and its output is written (MTP_OK), it wants a new connection
 * (mtpc_wants_reconnect; MTP_OK), or it fails (its error code).  At the
 * deadline the run fails with MTP_ERR_TIMEOUT.  Does not close fd. */
MTP_MUST_USE int mtpc_net_run(struct mtpc_client *c, int fd, int64_t deadline_ms);

#endif
