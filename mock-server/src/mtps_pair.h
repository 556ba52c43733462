/* An in-memory wire between a mtps_client and a server connection: the
 * unit tests, the fuzz seed generator and the benchmarks run whole exchanges
 * through the real connection code without sockets. */
#ifndef MTPS_PAIR_H
#define MTPS_PAIR_H

#include "mtps_client.h"
#include "mtps_conn.h"

/* Moves bytes both ways until neither side has anything to send (or the
 * connection stops reading).  MTP_OK, or the client's error. */
MTP_MUST_USE int mtps_pair_pump(struct mtps_conn *conn, struct mtps_client *cl, struct mtp_error *err);

#endif
