/* The mock DC's observation log (`mtprobe serve --events FILE`, docs/events.md).
 *
 * One JSON object per line, written whole and flushed, for programs rather
 * than people: the conformance runner (`mtprobe check client`) judges a
 * client from it, and reports show it as the wire log.  Every line has "t"
 * (milliseconds since the server started, the env clock), "ev" (the kind) and,
 * for connection events, "conn".  Message lines carry the header fields, the
 * body as hex and as TL text, and what the scenario did to them ("hostile").
 *
 * Keys are logged only with --keylog, never here: the log is meant to be
 * committed in reports. */
#ifndef MTPS_EVENTS_H
#define MTPS_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mtp/env.h"
#include "mtp/err.h"
#include "mtp/tl_schema.h"

struct mtps_events {
    FILE *f;                            /* NULL: off */
    const struct mtp_env *env;
    const struct mtp_tl_schema *schema; /* TL text of bodies; NULL: hex only */
    int64_t t0_ms;
};

/* Opens path for writing (truncating); path NULL leaves the log off. */
MTP_MUST_USE int mtps_events_open(struct mtps_events *e, const char *path, const struct mtp_env *env,
                                  struct mtp_error *err);
void mtps_events_close(struct mtps_events *e);
static inline bool mtps_events_on(const struct mtps_events *e) { return e != NULL && e->f != NULL; }

/* A new event object with "t", "ev" and (conn != 0) "conn"; NULL when the log
 * is off.  Add fields, then mtps_events_emit writes and frees it. */
json_t *mtps_ev_new(const struct mtps_events *e, const char *ev, uint64_t conn);
void mtps_events_emit(const struct mtps_events *e, json_t *o);

/* Field helpers.  msg_ids as 16 hex digits of their value (so they sort by
 * time); auth_key_id, session_id and salt as their 8 wire bytes in hex (as
 * the key log and client JSON lines write them); bytes as hex. */
void mtps_ev_set_u64(json_t *o, const char *key, uint64_t v);
void mtps_ev_set_wire64(json_t *o, const char *key, uint64_t v);
void mtps_ev_set_hex(json_t *o, const char *key, const uint8_t *p, size_t n);

/* One message body (a boxed TL object): "ctor", "names" (with the messages of
 * a container and the result of each rpc_result), "acks" (msg_ids in msgs_ack,
 * nested too), "nested" (msg_id, seqno, ctor of each message of a container),
 * "tl" (text) and "body" (hex). */
void mtps_ev_set_body(const struct mtps_events *e, json_t *o, const uint8_t *body, size_t len, uint64_t msg_id,
                      int32_t seqno);

/* An encrypted message's plaintext (header, body, padding): auth_key_id
 * (given), salt, session_id, msg_id, seqno, length, padding, and the body. */
void mtps_ev_set_inner(const struct mtps_events *e, json_t *o, uint64_t auth_key_id, const uint8_t *plain,
                       size_t len);

#endif
