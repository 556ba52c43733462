/* The MTProto session layer, client and server, as sans-IO cores
 * (core.telegram.org/mtproto/description, /service_messages,
 * /service_messages_about_messages, /security_guidelines).
 *
 * A session core owns no socket, thread or timer.  Bytes go in with
 * mtp_session_recv (one decrypted inner message), events come out through the
 * callback, and mtp_session_flush writes the next outgoing inner message
 * (padded, ready for mtp_msg_encrypt) into a writer.  Time and randomness come
 * from the struct mtp_env; timers are driven by the caller through
 * mtp_session_next_deadline / mtp_session_tick.  All memory is allocated at
 * init with the limits in struct mtp_session_cfg, except the copies of stored
 * outgoing bodies, which are bounded by max_stored_bytes.
 *
 * Typical loop (either role):
 *
 *   mtp_session_recv(s, plain, len, &err);         // events fire during the call
 *   while ((rc = mtp_session_flush(s, &out)) > 0)   // replies, acks, resends
 *       transmit(out.p, out.len), mtp_wr_reset(&out);
 *
 * The event callback may queue messages (mtp_session_send* only queue) but must
 * not call mtp_session_recv, _flush, _tick or _free.  Event bodies are valid
 * only during the callback. */
#ifndef MTP_SESSION_H
#define MTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"
#include "mtp/container.h"
#include "mtp/env.h"
#include "mtp/err.h"
#include "mtp/msgid.h"
#include "mtp/msgwin.h"
#include "mtp/salts.h"

enum mtp_session_role {
    MTP_SESSION_CLIENT = 0,
    MTP_SESSION_SERVER = 1,
};

struct mtp_session_cfg {
    size_t window;           /* N received msg_ids remembered (replay window); default 1024 */
    size_t max_stored;       /* outgoing messages kept: queued, awaiting ack/answer, recent; default 1024 */
    size_t max_stored_bytes; /* total size of their kept bodies; default 8 MiB */
    size_t max_body;         /* largest body that can be sent; default 1 MiB */
    size_t ack_max;          /* received msg_ids waiting for msgs_ack; default 8192 */
    size_t ack_threshold;    /* send a stand-alone msgs_ack once this many wait; default 16 */
    int64_t ack_delay_ms;    /* ... or once the oldest has waited this long; default 60 s */
    int64_t max_past_ms;     /* reject ids older than this (server; client once synced); 300 s */
    int64_t max_future_ms;   /* reject ids newer than this; 30 s */
    int64_t salt_grace_ms;   /* server: a salt stays acceptable this long after it expires; 1800 s */
    int64_t salt_period_ms;  /* server: how long each salt is current; 1 h */
    size_t gzip_max;         /* limit for an inflated gzip_packed object; default 1 MiB */
    size_t gzip_min;         /* server: rpc results of at least this size go out gzip_packed (0: never) */
    struct mtp_container_limits container; /* default 1020 messages, 2^15 bytes */
    unsigned extra_padding_blocks;         /* 16-byte padding blocks added beyond the minimum; 0 */
    bool client_time_check;  /* client: ignore server msg_ids outside the window once synced; true */
    /* Client: checks left out and rules broken on purpose, MTP_SESSION_CF(f)
     * bits of enum mtp_session_client_fault; 0 (the default) is correct.
     * Only for the seeded faults of the reference client, which prove that a
     * conformance suite notices each one.  A server ignores them. */
    uint32_t client_faults;
    /* Server: rules deployed clients break and the real service evidently
     * lets pass.  Strict (the default) refuses as the spec says; otherwise the
     * message is judged as its correct form and, once accepted, reported with
     * MTP_SESSION_EV_DEVIATION. */
    bool strict_seqno_parity;  /* msgs_ack with an odd seqno: bad_msg_notification 34; true */
    bool strict_msg_id_low32;  /* a msg_id with empty lower 32 bits: ignored; true */
    bool container_always;     /* server: even a single message goes out in a msg_container; false */
    /* Server: checks left out and rules broken on purpose, MTP_SESSION_SF(f)
     * bits of enum mtp_session_server_fault; 0 (the default) is correct.  Only
     * for the seeded faults of the mock DC (`mtprobe serve --fault`), which
     * prove that `mtprobe check server` notices each.  A client ignores them. */
    uint32_t server_faults;
};

enum mtp_session_client_fault {
    MTP_SESSION_CF_SKIP_SESSION_ID,       /* accept messages of any session_id */
    MTP_SESSION_CF_ACCEPT_EVEN_MSG_ID,    /* accept even server msg_ids */
    MTP_SESSION_CF_ACCEPT_DUPLICATE,      /* accept msg_ids already received or below the window */
    MTP_SESSION_CF_SKIP_CONTAINER_ORDER,  /* accept nested msg_ids not below the container's */
    MTP_SESSION_CF_SKIP_LENGTH,           /* a bad message_data_length: the body runs as far as the bytes go */
    MTP_SESSION_CF_OWN_MSG_ID_NOT_MOD4,   /* our own msg_ids are 2 mod 4 */
    MTP_SESSION_CF_NO_ACKS,               /* never acknowledge anything */
    MTP_SESSION_CF_RESEND_SAME_MSG_ID,    /* after bad_server_salt resend under the old msg_id, alone */
};
#define MTP_SESSION_CF(f) (1u << (f))

enum mtp_session_server_fault {
    MTP_SESSION_SF_EVEN_MSG_IDS,          /* our msg_ids are divisible by 4 */
    MTP_SESSION_SF_SKIP_PAST,             /* msg_ids over max_past_ms old are taken (no code 16) */
    MTP_SESSION_SF_SKIP_FUTURE,           /* msg_ids over max_future_ms ahead are taken (no code 17) */
    MTP_SESSION_SF_SKIP_LOW_BITS,         /* msg_ids not divisible by 4 are taken (no code 18) */
    MTP_SESSION_SF_CONTAINER_ID_REUSE,    /* a container with a received msg_id is opened (no code 19) */
    MTP_SESSION_SF_SKIP_WINDOW,           /* msg_ids below the full window are taken (no code 20) */
    MTP_SESSION_SF_SEQNO_LOW_AS_HIGH,     /* seqno too low gets code 33 */
    MTP_SESSION_SF_SEQNO_HIGH_AS_LOW,     /* seqno too high gets code 32 */
    MTP_SESSION_SF_SKIP_SERVICE_PARITY,   /* an odd seqno on a container or ack is taken (no code 34) */
    MTP_SESSION_SF_SKIP_CONTENT_PARITY,   /* an even seqno on content is taken (no code 35) */
    MTP_SESSION_SF_ACCEPT_BAD_SALT,       /* any salt is taken (no code 48) */
    MTP_SESSION_SF_ACCEPT_BAD_CONTAINER,  /* a container that breaks the rules is opened (no code 64) */
    MTP_SESSION_SF_NO_SALT_GRACE,         /* a salt is refused as soon as it is not current */
    MTP_SESSION_SF_EXECUTE_DUPLICATE,     /* a repeated msg_id is executed again */
    MTP_SESSION_SF_NO_ACKS,               /* never acknowledge anything */
    MTP_SESSION_SF_STATE_INFO_SHORT,      /* msgs_state_info one status byte short */
    MTP_SESSION_SF_NO_RESEND,             /* msg_resend_req ignored */
    MTP_SESSION_SF_EXTRA_FUTURE_SALT,     /* get_future_salts returns num + 1 */
    MTP_SESSION_SF_NO_DISCONNECT,         /* ping_delay_disconnect starts no timer */
    MTP_SESSION_SF_ACK_SERVICE,           /* messages with an even seqno are acknowledged too */
    MTP_SESSION_SF_NO_NEW_SESSION,        /* new_session_created never sent */
    MTP_SESSION_SF_SKIP_LENGTH,           /* a bad message_data_length: the body runs as far as the bytes go */
};
#define MTP_SESSION_SF(f) (1u << (f))

/* Flags for mtp_session_send. */
enum {
    MTP_SEND_CONTENT = 1u << 0,  /* content-related: odd seqno, the peer acknowledges it */
    MTP_SEND_AWAIT = 1u << 1,    /* an RPC query: kept until its answer arrives */
    MTP_SEND_RESPONSE = 1u << 2, /* server: answers a client message (msg_id 1 mod 4) */
    MTP_SEND_GZIP = 1u << 3,     /* wrap the body in gzip_packed */
};

enum mtp_session_event_type {
    /* An application message: on the server a query (answer with
     * mtp_session_send_result), on the client an update.  body, ctor. */
    MTP_SESSION_EV_MESSAGE = 1,
    /* Client: rpc_result for our request ref_msg_id (orig_msg_id: the id that
     * send returned, if it was resent since).  body = result, inflated. */
    MTP_SESSION_EV_RESULT,
    /* Client: rpc_error for ref_msg_id; code = error_code, body = error_message. */
    MTP_SESSION_EV_RPC_ERROR,
    /* The peer acknowledged our message ref_msg_id (msgs_ack, or an answer). */
    MTP_SESSION_EV_ACKED,
    /* Client: the transport delivered the quick ack of ref_msg_id. */
    MTP_SESSION_EV_QUICK_ACK,
    /* pong for our ping ref_msg_id; value = ping_id. */
    MTP_SESSION_EV_PONG,
    /* We answered a ping with pong; value = ping_id, code = disconnect_delay (s) or -1. */
    MTP_SESSION_EV_PING,
    /* Client: bad_msg_notification about ref_msg_id, code = error_code.
     * Server: we sent one about ref_msg_id with code. */
    MTP_SESSION_EV_BAD_MSG,
    /* Client: bad_server_salt, value = the new salt (now in use).  Server: we sent one. */
    MTP_SESSION_EV_BAD_SALT,
    /* Our message ref_msg_id went out again as msg_id. */
    MTP_SESSION_EV_RESENT,
    /* Client: our request ref_msg_id will not be answered; code = the
     * bad_msg_notification error_code that condemned it. */
    MTP_SESSION_EV_FAILED,
    /* new_session_created: ref_msg_id = first_msg_id, value = unique_id (client: received; server: sent). */
    MTP_SESSION_EV_NEW_SESSION,
    /* Client: future_salts for our request ref_msg_id stored; code = how many. */
    MTP_SESSION_EV_FUTURE_SALTS,
    /* msgs_state_info for our msgs_state_req ref_msg_id; body = info bytes. */
    MTP_SESSION_EV_STATE_INFO,
    /* msgs_all_info received; body = the info bytes, code = their count. */
    MTP_SESSION_EV_ALL_INFO,
    /* msg_detailed_info / msg_new_detailed_info: ref_msg_id = answer_msg_id, value = msg_id (0 for new). */
    MTP_SESSION_EV_DETAILED_INFO,
    /* Server: destroy_session for session value (answer with mtp_session_send_destroy_result).
     * Client: the answer; value = session_id, code = 1 destroyed, 0 none. */
    MTP_SESSION_EV_DESTROY_SESSION,
    /* Server: http_wait; body = the message (max_delay, wait_after, max_wait). */
    MTP_SESSION_EV_HTTP_WAIT,
    /* A received message (or a nested one) was ignored: code = the mtp error
     * naming the reason, text = the error message with field and offset. */
    MTP_SESSION_EV_DROPPED,
    /* Server: the ping_delay_disconnect timer expired: close the connection. */
    MTP_SESSION_EV_DISCONNECT,
    /* Server: an accepted message broke a rule the configuration tolerates
     * (see strict_*): code = the mtp error naming the rule, value = the
     * bad_msg_notification code a strict server answers (0: it ignores),
     * text = what the client did. */
    MTP_SESSION_EV_DEVIATION,
};

struct mtp_session_event {
    enum mtp_session_event_type type;
    uint64_t msg_id;      /* the received message it is about (0 for local events) */
    int32_t seqno;
    uint64_t ref_msg_id;  /* the message referred to: request, acked or resent message, ... */
    uint64_t orig_msg_id; /* client requests: the msg_id first returned by send */
    uint64_t value;
    int32_t code;
    uint32_t ctor;        /* constructor of body, when there is one */
    const uint8_t *body;
    size_t body_len;
    const char *text;
};

typedef void (*mtp_session_event_fn)(void *ctx, const struct mtp_session_event *ev);

struct mtp_msgcrypt;

/* One kept outgoing message (internal; public only so that the session can
 * live in caller storage). */
struct mtp_session_out {
    uint64_t msg_id;
    uint64_t orig_msg_id;
    uint64_t container_id; /* the container it last went out in, 0 if alone */
    uint64_t req_msg_id;   /* the message it answers (server) */
    uint64_t tag;          /* ping_id / session_id / num: matches the answer */
    int64_t sent_ms;       /* local time of the last transmission; 0 while queued */
    uint8_t *body;         /* NULL for a container, or once acknowledged */
    uint32_t len;
    int32_t seqno;
    uint32_t ctor;
    uint32_t quick_ack;
    uint16_t flags;
};

struct mtp_session {
    enum mtp_session_role role;
    struct mtp_session_cfg cfg;
    struct mtp_env env;
    mtp_session_event_fn on_event;
    void *event_ctx;

    uint64_t session_id;
    bool started;         /* server: new_session_created was sent for this session */
    uint64_t salt;        /* client: the salt messages go out with */
    struct mtp_salts salts; /* server: the salt schedule; client: future salts */
    struct mtp_msgid_gen ids;
    struct mtp_seqno seq;
    struct mtp_msgwin window;

    struct mtp_session_out *out; /* ascending msg_id */
    size_t out_n;
    size_t out_bytes;
    int64_t out_expiry_ms; /* no stored message expires before this */
    size_t out_hint;       /* no message below this index is queued */

    uint64_t *acks; /* received content-related msg_ids to acknowledge */
    size_t acks_n;
    int64_t acks_since_ms;

    uint64_t first_msg_id; /* server: the lowest msg_id received in this session */
    uint64_t unique_id;    /* server: new_session_created.unique_id of this session */
    int64_t disconnect_at_ms; /* server: ping_delay_disconnect deadline; 0 = none */
    uint32_t last_quick_ack;  /* client: token of the last flushed message (0 without a key) */
    bool flooded;             /* a service message in the current input broke a limit */
    bool have_key;
    uint8_t auth_key[256];
    struct mtp_wr scratch;       /* gzip_packed inflation */
    struct mtp_msgcrypt *crypt;  /* packet helpers: created on first use */
    struct mtp_wr packet_out;    /* packet helpers: flushed plaintext not yet encrypted out */
    bool packet_pending;
    struct mtp_wr packet_in;     /* packet helpers: decrypted plaintext */
};

void mtp_session_cfg_default(struct mtp_session_cfg *cfg);

/* cfg NULL means defaults.  A client gets a random session_id from env; a
 * server learns it from the first message it accepts.  Both start with salt 0:
 * call mtp_session_set_salt with the handshake's server_salt. */
MTP_MUST_USE int mtp_session_init(struct mtp_session *s, enum mtp_session_role role,
                                  const struct mtp_session_cfg *cfg, const struct mtp_env *env,
                                  mtp_session_event_fn on_event, void *event_ctx);
void mtp_session_free(struct mtp_session *s);

/* Client: the salt to send with.  Server: the salt current from now on (the
 * schedule restarts from it). */
MTP_MUST_USE int mtp_session_set_salt(struct mtp_session *s, uint64_t salt);
void mtp_session_set_session_id(struct mtp_session *s, uint64_t session_id);
/* The key used for quick-ack tokens and by the packet helpers. */
void mtp_session_set_auth_key(struct mtp_session *s, const uint8_t auth_key[256]);
/* Client: clock offset from the handshake's server_time (seconds). */
void mtp_session_sync_time(struct mtp_session *s, int64_t server_time_s);
/* Client: start a new session (new random session_id, seqno and window reset);
 * unanswered requests are queued again under new msg_ids. */
MTP_MUST_USE int mtp_session_renew(struct mtp_session *s);

/* Queues a message; *msg_id (may be NULL) gets its id.  Flags MTP_SEND_*. */
MTP_MUST_USE int mtp_session_send(struct mtp_session *s, const uint8_t *body, size_t len, unsigned flags,
                                  uint64_t *msg_id);
/* Client: an RPC query (content-related, kept until its answer). */
MTP_MUST_USE int mtp_session_send_query(struct mtp_session *s, const uint8_t *body, size_t len, uint64_t *msg_id);
/* Client: forget a request (no event for its answer any more). */
void mtp_session_cancel(struct mtp_session *s, uint64_t msg_id);
/* Server: rpc_result for req_msg_id carrying result (gzip_packed when asked or over cfg.gzip_min). */
MTP_MUST_USE int mtp_session_send_result(struct mtp_session *s, uint64_t req_msg_id, const uint8_t *result,
                                         size_t len, unsigned flags);
/* Server: rpc_result(rpc_error) for req_msg_id. */
MTP_MUST_USE int mtp_session_send_error(struct mtp_session *s, uint64_t req_msg_id, int32_t code,
                                        const char *message);
/* Server: the answer to a destroy_session request. */
MTP_MUST_USE int mtp_session_send_destroy_result(struct mtp_session *s, uint64_t req_msg_id, uint64_t session_id,
                                                 bool destroyed);
/* ping (disconnect_delay < 0) or ping_delay_disconnect (client). */
MTP_MUST_USE int mtp_session_ping(struct mtp_session *s, uint64_t ping_id, int32_t disconnect_delay,
                                  uint64_t *msg_id);
MTP_MUST_USE int mtp_session_get_future_salts(struct mtp_session *s, int32_t num, uint64_t *msg_id);
MTP_MUST_USE int mtp_session_state_req(struct mtp_session *s, const uint64_t *ids, size_t n, uint64_t *msg_id);
MTP_MUST_USE int mtp_session_resend_req(struct mtp_session *s, const uint64_t *ids, size_t n, uint64_t *msg_id);
MTP_MUST_USE int mtp_session_destroy_session(struct mtp_session *s, uint64_t session_id, uint64_t *msg_id);
MTP_MUST_USE int mtp_session_http_wait(struct mtp_session *s, int32_t max_delay, int32_t wait_after,
                                       int32_t max_wait);

/* Writes the next outgoing inner message (one message, or a container of the
 * queued ones plus pending acks) into out: header, body and random padding,
 * ready for encryption.  Returns 1 when a message was written, 0 when there is
 * nothing to send, or a negative code (out is then left as it was). */
MTP_MUST_USE int mtp_session_flush(struct mtp_session *s, struct mtp_wr *out);
/* True when mtp_session_flush would write something now. */
bool mtp_session_has_output(const struct mtp_session *s);
/* Makes the next flush send the pending acks even below the threshold. */
void mtp_session_flush_acks_now(struct mtp_session *s);

/* Processes one decrypted inner message (header, body, padding).  Returns
 * MTP_OK when it was accepted (even if some nested messages were dropped, see
 * MTP_SESSION_EV_DROPPED), or the negative code of the reason it was ignored
 * as a whole, with err naming the field and offset.  A server queues the
 * bad_msg_notification / bad_server_salt it owes.  MTP_ERR_SES_FLOOD (a
 * container over 1020 messages or 2^15 bytes, or a service message with over
 * 8192 msg_ids) asks the caller to answer with transport error -429. */
MTP_MUST_USE int mtp_session_recv(struct mtp_session *s, const uint8_t *plain, size_t len, struct mtp_error *err);

/* The earliest local time (ms) at which mtp_session_tick or _flush has work;
 * INT64_MAX when none. */
int64_t mtp_session_next_deadline(const struct mtp_session *s);
/* Runs due timers: emits MTP_SESSION_EV_DISCONNECT when the
 * ping_delay_disconnect deadline has passed. */
void mtp_session_tick(struct mtp_session *s);

/* Client: the quick-ack token of the last flushed message (0 without a key). */
static inline uint32_t mtp_session_last_quick_ack(const struct mtp_session *s) { return s->last_quick_ack; }
/* Client: the transport received quick-ack token; true if it matched a sent message. */
bool mtp_session_quick_ack(struct mtp_session *s, uint32_t token);

/* Encrypted packets (auth_key_id | msg_key | ciphertext), a thin step on top
 * of the plaintext calls above using MTProto 2.0 message crypto (msgcrypt.h)
 * with the key from mtp_session_set_auth_key (MTP_ERR_SES_STATE without one).
 *
 * mtp_session_flush_packet is mtp_session_flush followed by encryption (x = 0
 * from a client, 8 from a server); same return values.  When out cannot take
 * the packet the flushed message is kept and goes out at the next call.
 * mtp_session_recv_packet decrypts a packet from the peer and passes the
 * plaintext to mtp_session_recv.  A packet that fails a crypto check is
 * discarded whole with that check's code (security_guidelines: "completely
 * discard the message").  Server: when quick_ack is not NULL it receives the
 * token to answer a transport quick-ack request with. */
MTP_MUST_USE int mtp_session_flush_packet(struct mtp_session *s, struct mtp_wr *out);
MTP_MUST_USE int mtp_session_recv_packet(struct mtp_session *s, const uint8_t *packet, size_t len,
                                         uint32_t *quick_ack, struct mtp_error *err);

#endif
