/* The thin libevent shell around the sans-IO connections: listening sockets,
 * one bufferevent and one timer per connection, per-address connection
 * counts, SIGINT/SIGTERM.  Single-threaded. */
#ifndef MTPS_LOOP_H
#define MTPS_LOOP_H

#include <stdint.h>
#include <stdio.h>

#include "mtp/err.h"
#include "mtps_server.h"

struct mtps_listen {
    char host[64];
    uint16_t port;  /* 0: any free port */
    size_t dc;      /* index into the server's DCs */
};

struct mtps_loop_cfg {
    struct mtps_server *srv;
    const struct mtps_listen *listens;
    size_t nlistens;
    FILE *ready; /* gets one "listening HOST:PORT dc N fingerprint X" line per address, flushed */
};

/* Serves until SIGINT or SIGTERM; MTP_OK then.  Errors: the addresses cannot
 * be bound (MTP_ERR_IO), libevent fails (MTP_ERR_INTERNAL). */
MTP_MUST_USE int mtps_loop_run(const struct mtps_loop_cfg *cfg, struct mtp_error *err);

#endif
