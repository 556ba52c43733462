/* A small sans-IO MTProto client for exercising the mock DC: transport
 * (mtp/tr_conn.h), the auth client machine (mtp/auth_client.h) and the
 * session client core (mtp/session.h) glued together.  The unit, end-to-end
 * and load tests, the benchmarks and the fuzz seeds drive the server with it.
 * It is deliberately minimal; `mtprobe client` is the reference client.
 *
 *   mtps_client_init(&c, &opts, &err);
 *   mtps_client_start(&c, &err);                 // tag or obfuscated init, req_pq_multi
 *   loop: send c.out to the server, mtp_wr_reset(&c.out);
 *         mtps_client_feed(&c, bytes, n, &err);  // the exchange runs by itself
 *   mtps_client_ready(&c) -> mtps_client_ping / _query, then flush */
#ifndef MTPS_CLIENT_H
#define MTPS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/auth.h"
#include "mtp/msgid.h"
#include "mtp/auth_client.h"
#include "mtp/session.h"
#include "mtp/tr_conn.h"

struct mtps_client_opts {
    enum mtp_tr_kind kind;
    bool obfuscated;
    struct mtp_obfs_secret secret;
    int16_t obfs_dc;                      /* DC id in the obfuscated init (0: none) */
    int32_t dc;                           /* for p_q_inner_data_dc */
    const struct mtp_rsa_key *server_key; /* the server's (public) key; must outlive the client */
    const struct mtp_env *env;            /* copied; its ctx must outlive the client */
    const struct mtp_auth_client_behaviour *auth_behaviour; /* NULL: correct */
    const struct mtp_session_cfg *session; /* NULL: defaults */
    bool salt_zero;                       /* start the session with salt 0 (as Telethon does) */
    int32_t temp_expires_in;              /* > 0: ask for a temporary key (p_q_inner_data_temp_dc) */
    bool discard_bad_packets;             /* a packet failing a crypto check is counted and dropped, as the
                                           * spec asks, instead of failing the client (tests of hostile servers) */
};

enum mtps_client_state {
    MTPS_CL_HANDSHAKE = 1,
    MTPS_CL_READY,
    MTPS_CL_FAILED,
};

struct mtps_client;
typedef void (*mtps_client_event_fn)(void *ctx, struct mtps_client *c, const struct mtp_session_event *ev);

struct mtps_client {
    struct mtps_client_opts o;
    struct mtp_env env;
    enum mtps_client_state state;
    struct mtp_tr_conn tr;
    struct mtp_auth_client *auth;
    const struct mtp_rsa_key *keys[1]; /* the machine's key list points here */
    struct mtp_msgid_gen ids;          /* msg_ids of our unencrypted messages */
    struct mtp_auth_result key;
    struct mtp_session ses;
    bool ses_init;
    struct mtp_wr out;            /* bytes for the server */
    struct mtp_wr scratch;
    mtps_client_event_fn on_event;
    void *event_ctx;
    /* What arrived. */
    int32_t transport_error;      /* the last transport error frame (0: none) */
    uint32_t quick_acks;
    uint64_t pongs, results, rpc_errors, bad_salts, new_sessions, bad_msgs;
    uint64_t last_pong_id;
    uint64_t bad_packets;         /* dropped with discard_bad_packets */
    int last_bad_packet;          /* the check the last one failed */
    int32_t last_rpc_code;
    char last_rpc_message[128];
    uint8_t last_result[1024];    /* the first bytes of the last rpc_result */
    size_t last_result_len;
    int error;                    /* why the client failed */
    char error_text[256];
};

MTP_MUST_USE int mtps_client_init(struct mtps_client *c, const struct mtps_client_opts *o, struct mtp_error *err);
void mtps_client_free(struct mtps_client *c);
/* The transport header and req_pq_multi, into c->out. */
MTP_MUST_USE int mtps_client_start(struct mtps_client *c, struct mtp_error *err);
/* Instead of start: reuse a key from an earlier exchange (a client that comes
 * back with its stored key); the transport header goes to c->out. */
MTP_MUST_USE int mtps_client_resume(struct mtps_client *c, const struct mtp_auth_result *key, struct mtp_error *err);
/* Bytes from the server (decrypted in place when obfuscated).  Answers go to
 * c->out.  An error fails the client for good (state FAILED). */
MTP_MUST_USE int mtps_client_feed(struct mtps_client *c, uint8_t *buf, size_t len, struct mtp_error *err);
static inline bool mtps_client_ready(const struct mtps_client *c) { return c->state == MTPS_CL_READY; }

/* Queue a ping / a query, then write everything queued into c->out. */
MTP_MUST_USE int mtps_client_ping(struct mtps_client *c, uint64_t ping_id, struct mtp_error *err);
MTP_MUST_USE int mtps_client_query(struct mtps_client *c, const uint8_t *body, size_t len, uint64_t *msg_id,
                                   struct mtp_error *err);
/* Encrypts and frames every queued message (and due acks) into c->out. */
MTP_MUST_USE int mtps_client_flush(struct mtps_client *c, struct mtp_error *err);
/* Frames an arbitrary payload (e.g. a hand-made packet) into c->out. */
MTP_MUST_USE int mtps_client_send_raw(struct mtps_client *c, const uint8_t *payload, size_t len,
                                      struct mtp_error *err);

#endif
