/* Hostile server messages for the client checks (the scenario action
 * "inject", docs/scenarios.md): each breaks exactly one rule a client must
 * check on what it receives, and carries a canary, so that a client lacking
 * that one check accepts and decodes it and the canary becomes visible
 * (in its answer, or as the salt it uses next), while a conformant client
 * discards it.
 *
 * The messages are made outside the session core: the connection supplies
 * the session's state (salt, session_id, fresh msg_ids, seqno, the key), this
 * file builds the plaintext and the packet, and the connection sends it and
 * logs what it carries on the wire (struct mtps_hostile). */
#ifndef MTPS_INJECT_H
#define MTPS_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"
#include "mtp/env.h"
#include "mtp/err.h"
#include "mtps_api.h"
#include "mtps_scenario.h"

/* The canary salt of carry "bad_server_salt": the bytes "CANARY!!" on the wire. */
#define MTPS_CANARY_SALT 0x21215952414e4143ull
/* The canary values of carry "rpc_result". */
#define MTPS_CANARY_NEAREST_DC 77
#define MTPS_CANARY_CONFIG_DATE 1234567890

/* One canary message body in up to four lengths, 4 bytes apart, so that a
 * mutation that needs a given length modulo 16 finds one. */
#define MTPS_CANARY_VARIANTS 4
struct mtps_canary {
    uint8_t *body[MTPS_CANARY_VARIANTS];
    size_t len[MTPS_CANARY_VARIANTS];
    size_t n;
};
void mtps_canary_free(struct mtps_canary *c);

/* rpc_result for req_msg_id with the method's canary answer: nearestDc with
 * country "CANARY" (then "CANARY0000", ... in the longer variants) and
 * nearest_dc 77; config with date 1234567890 and dc_txt_domain_name
 * "canary.invalid" (then "canary0000.invalid", ...).  Everything else is the
 * method's template, this_dc included.  MTP_ERR_UNSUPPORTED for other
 * methods (and calls that do not decode), which have no canary. */
MTP_MUST_USE int mtps_canary_rpc_result(const struct mtps_api *api, const struct mtps_rpc *rpc,
                                        const struct mtps_api_env *env, uint64_t req_msg_id, struct mtps_canary *c,
                                        struct mtp_error *err);
/* bad_server_salt for the call (req_msg_id, req_seqno), code 48, with the salt "CANARY!!". */
MTP_MUST_USE int mtps_canary_bad_salt(uint64_t req_msg_id, int32_t req_seqno, struct mtps_canary *c);

/* The session state the hostile message is made from. */
struct mtps_inject_in {
    const uint8_t *auth_key;   /* 256 bytes */
    uint64_t auth_key_id;      /* the key's id (its wire bytes as a LE integer) */
    uint64_t salt, session_id; /* the session's */
    uint64_t msg_id;           /* a fresh msg_id the message would honestly carry */
    uint64_t msg_id_above;     /* container_order: a second fresh msg_id, above msg_id */
    uint64_t last_sent_msg_id; /* msg_id_duplicate: the session's previous message (0: none) */
    int64_t now_ms;            /* the clock the session's msg_ids follow */
    int32_t seqno;             /* the seqno the carried message would honestly have */
    const struct mtp_env *env; /* padding bytes */
};

/* What the hostile message carries on the wire. */
struct mtps_hostile {
    bool encrypted;
    uint64_t auth_key_id, session_id, msg_id;
    int32_t seqno;
    uint32_t length;           /* message_data_length as sent */
    size_t body_len;           /* the body actually there (the canary, or the container holding it) */
    size_t padding;            /* padding bytes actually there */
    uint64_t nested_msg_id;    /* container_order: the message inside */
};

/* Builds the hostile message: the plaintext (header, body, padding; for
 * plain_after_key the unencrypted message) into plain and the transport
 * payload into payload.  MTP_ERR_ARG when the mutation cannot be made (no
 * earlier message to duplicate, no body length that allows the padding). */
MTP_MUST_USE int mtps_inject_build(const struct mtps_inject_in *in, enum mtps_mutation mut,
                                   const struct mtps_canary *c, struct mtp_wr *plain, struct mtp_wr *payload,
                                   struct mtps_hostile *out, struct mtp_error *err);

#endif
