/* What one connection's files share (mtps_conn.c, and mtps_rpc.c for its API
 * calls); not for other users of mtps_conn.h. */
#ifndef MTPS_CONN_INTERNAL_H
#define MTPS_CONN_INTERNAL_H

#include <jansson.h>

#include "mtps_conn.h"

static inline int64_t mtps_conn_now(const struct mtps_conn *c) { return mtp_env_now_ms(&c->srv->env); }
static inline const struct mtps_scenario *mtps_conn_scen(const struct mtps_conn *c) { return c->srv->scenario; }
static inline const struct mtps_events *mtps_conn_evs(const struct mtps_conn *c) { return &c->srv->events; }

/* --- mtps_conn.c --- */
/* Writes one payload through the transport, past the s2c rules. */
void mtps_conn_transmit(struct mtps_conn *c, const uint8_t *data, size_t len);
/* Sends a transport error (when the transport is known) and closes. */
void mtps_conn_fail(struct mtps_conn *c, int32_t code, int reason, const char *fmt, ...) MTP_PRINTF(4, 5);
/* Sends what the session has queued (padding policy, s2c rules, fillers). */
void mtps_conn_flush(struct mtps_conn *c, struct mtps_sess *s);
/* The salt the session's messages go out with. */
uint64_t mtps_conn_salt(const struct mtps_sess *s, int64_t now);
/* A `rule` event for a rule that fired (the caller may add fields, then emits it). */
json_t *mtps_conn_ev_rule(const struct mtps_conn *c, const struct mtps_rule *r, const char *where);

/* --- mtps_rpc.c --- */
/* An API call the session core delivered (MTP_SESSION_EV_MESSAGE). */
void mtps_rpc_on_call(struct mtps_conn *c, struct mtps_sess *s, const struct mtp_session_event *ev);
/* The hostile messages "inject" rules asked for while a message was processed. */
void mtps_rpc_send_injections(struct mtps_conn *c);
/* Held answers whose time has come go to their sessions. */
void mtps_rpc_release_answers(struct mtps_conn *c);

#endif
