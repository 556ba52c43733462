/* The reference client core behind `mtprobe client`: one MTProto connection
 * from the first transport byte to the answers, sans-IO.
 *
 * It glues the library's machines together - the transport connection
 * (mtp/tr_conn.h), the auth-key exchange client (mtp/auth_client.h) and the
 * session client core (mtp/session.h) with MTProto 2.0 message crypto - and
 * runs a fixed script over them: create a key, send the requests one after
 * the other (pings and calls, in the order configured; by default `pings`
 * pings, then the call if any), acknowledge what the server sent, done.
 * With Perfect Forward Secrecy (cfg.pfs, core.telegram.org/api/pfs) the key
 * is a permanent one (made first on the same connection, or given), then a
 * temporary key is made, auth.bindTempAuthKey binds it, and the pings and the
 * call go out with the temporary key.  A transport error -404 during a key
 * exchange restarts it on a new connection (mtpc_wants_reconnect), up to
 * cfg.max_auth_attempts attempts; -444 names the DC id as the problem.
 * Every check the library offers a client is on.  An encrypted message that
 * fails a check is discarded, as security_guidelines asks, and the run goes on
 * (outcome.dropped counts them); a failed check of the key exchange, a
 * transport error or a broken frame ends the run with the error and the step
 * it happened in.  Nothing a server sends can make the core loop or grow
 * without bound (frames, output, stored messages and resends all have
 * limits).  cfg.faults turns single checks off on purpose (mtpc_fault.h).
 *
 *   mtpc_new(&cfg, &env, &c, &err);
 *   mtpc_start(c);                                  // tag or obfuscated init, req_pq_multi
 *   loop:  p = mtpc_output(c, &n); send(p, n); mtpc_output_done(c, sent);
 *          n = recv(buf); n ? mtpc_feed(c, buf, n) : mtpc_peer_closed(c);
 *          after mtpc_tick_in_ms(c): mtpc_tick(c);  at the run's deadline: mtpc_timeout(c);
 *   until mtpc_state(c) != MTPC_RUNNING (and, when DONE, the output is sent);
 *   when mtpc_wants_reconnect(c): close, connect again, mtpc_reconnect(c), loop;
 *   mtpc_outcome(c) -> key, salt, session, the answer or the error.
 *
 * Sockets, clocks for deadlines, files and JSON belong to the caller
 * (mtpc_net.h, harness/cli/cmd_client.c).  Hooks for misbehaving on purpose,
 * to test servers: the auth machine's behaviour struct, salt_zero, and
 * mutate, which may rewrite or drop any outgoing message at three stages. */
#ifndef MTPC_CLIENT_H
#define MTPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/auth.h"
#include "mtp/auth_client.h"
#include "mtp/buf.h"
#include "mtp/env.h"
#include "mtp/err.h"
#include "mtp/obfs.h"
#include "mtp/session.h"
#include "mtp/transport.h"

enum mtpc_state {
    MTPC_RUNNING = 1,
    MTPC_DONE,   /* every answer is in; what is left in the output is the final acks */
    MTPC_FAILED, /* see mtpc_outcome()->error */
};

/* Where the run is; failures are reported against it. */
enum mtpc_step {
    MTPC_STEP_CONNECT = 1, /* before the first byte: resolving, connecting (the caller's part) */
    MTPC_STEP_AUTH_KEY,    /* the auth-key exchange (with PFS: both of them) */
    MTPC_STEP_BIND,        /* PFS: waiting for the answer to auth.bindTempAuthKey */
    MTPC_STEP_PING,        /* waiting for a pong */
    MTPC_STEP_CALL,        /* waiting for the answer to the call */
    MTPC_STEP_FINISH,      /* all answered */
};
/* "connect", "auth_key", "bind", "ping", "call", "finish". */
const char *mtpc_step_name(enum mtpc_step step);

/* ---- observation and misbehaviour hooks ---- */

enum mtpc_dir { MTPC_OUT = 0, MTPC_IN = 1 };

enum mtpc_trace_kind {
    MTPC_TRACE_PLAIN = 1,   /* an unencrypted message: data = its body (one TL object), msg_id */
    MTPC_TRACE_INNER,       /* an encrypted message's plaintext: data = header, body and padding */
    MTPC_TRACE_TRANSPORT,   /* a transport error frame: code */
    MTPC_TRACE_QUICK_ACK,   /* a quick-ack token from the server: code = the token */
    MTPC_TRACE_EVENT,       /* a session event (ev) */
    MTPC_TRACE_DROPPED,     /* a packet discarded before the session saw it: code, data = the reason (text) */
};

struct mtpc_trace {
    enum mtpc_dir dir;
    enum mtpc_trace_kind kind;
    int64_t msg_id;
    const uint8_t *data;
    size_t len;
    int32_t code;
    const struct mtp_session_event *ev;
};
typedef void (*mtpc_trace_fn)(void *ctx, const struct mtpc_trace *t);

/* Outgoing messages pass the mutate hook at three stages. */
enum mtpc_stage {
    MTPC_STAGE_PLAIN_BODY = 1, /* the body of an unencrypted message, before the envelope */
    MTPC_STAGE_INNER,          /* the plaintext of an encrypted message (header, body, padding) */
    MTPC_STAGE_PACKET,         /* the encrypted packet, before the transport frames it */
};
#define MTPC_MUTATE_DROP 1
/* msg is a dynamic writer holding the message; the hook may change its bytes,
 * reset and rewrite it.  Returns MTP_OK to send it, MTPC_MUTATE_DROP to send
 * nothing, or a negative code to fail the run. */
typedef int (*mtpc_mutate_fn)(void *ctx, enum mtpc_stage stage, struct mtp_wr *msg);

struct mtpc_behaviour {
    /* Start the session with salt 0 instead of the handshake's, as Telethon
     * and GramJS do; a correct server answers with bad_server_salt. */
    bool salt_zero;
    mtpc_mutate_fn mutate; /* NULL: send everything as made */
    void *mutate_ctx;
};

/* ---- configuration ---- */

/* One request of the script. */
enum mtpc_request_kind {
    MTPC_REQ_PING = 1, /* ping with a random ping_id; answered by a pong */
    MTPC_REQ_CALL,     /* a complete TL request (body, len); answered by rpc_result or a service answer */
};
struct mtpc_request {
    enum mtpc_request_kind kind;
    const uint8_t *body; /* CALL only; must outlive the client */
    size_t len;
};
#define MTPC_MAX_REQUESTS 4096

/* Perfect Forward Secrecy (core.telegram.org/api/pfs). */
struct mtpc_pfs {
    bool enabled;
    int32_t expires_in;       /* the temporary key's lifetime (p_q_inner_data_temp_dc.expires_in), > 0 */
    const uint8_t *perm_key;  /* 256 bytes: bind to this permanent key; NULL makes one first */
};

struct mtpc_config {
    enum mtp_tr_kind kind;
    bool obfuscated;
    struct mtp_obfs_secret secret;   /* MTProxy secret (obfuscated only); mode NONE for none */
    const uint8_t *obfs_init;        /* a fixed 64-byte plaintext init (replays); NULL draws one */
    int16_t obfs_dc;                 /* DC id in init bytes 60..61; 0 leaves them random */
    /* The auth-key exchange: keys, dc for p_q_inner_data_dc, DH checks, and the
     * machine's own behaviour hooks.  The keys must outlive the client. */
    struct mtp_auth_client_config auth;
    const struct mtp_session_cfg *session; /* NULL: defaults */
    /* The requests, in order; NULL: `pings` pings, then the call if any. */
    const struct mtpc_request *requests;
    size_t n_requests;
    unsigned pings;                  /* pings sent one after the other before the call */
    const uint8_t *call;             /* a complete TL request to send after the pings; NULL: none */
    size_t call_len;
    unsigned max_resends;            /* resends of one request the server may cause (bad_server_salt, ...) */
    unsigned max_auth_attempts;      /* attempts at one key exchange the server may end with -404 */
    struct mtpc_pfs pfs;
    size_t max_frame;                /* largest frame accepted from the server */
    size_t max_output;               /* bytes queued for the server before the run fails */
    bool strict_transport;           /* reject framing the spec rules out (see mtp_tr_opts.strict) */
    struct mtpc_behaviour behaviour;
    mtpc_trace_fn trace;             /* NULL: none */
    void *trace_ctx;
    /* Each key exchange's nonces once its new_nonce is chosen, for a key log's
     * NEW_NONCE line (docs/keylog.md); NULL: none. */
    void (*on_new_nonce)(void *ctx, const uint8_t nonce[16], const uint8_t server_nonce[16],
                         const uint8_t new_nonce[32]);
    void *new_nonce_ctx;
    uint64_t faults;                 /* MTPC_FAULT_BIT(f) of mtpc_fault.h: test-only; 0 for a correct client */
};

/* Defaults: intermediate, DC 2, full DH checks (MTP_DH_FULL), 1 ping, no call,
 * 5 resends, 3 attempts per key exchange, 1 MiB frames, 8 MiB output, strict
 * transport, no PFS (a temporary key would live a day).  Set auth.keys. */
void mtpc_config_init(struct mtpc_config *cfg);

/* ---- the run ---- */

/* The answer to one request, as far as it came. */
struct mtpc_answer {
    bool answered;
    bool rpc_error;
    int32_t rpc_code;
    const uint8_t *rpc_message;      /* error_message as received (any bytes, NULs included), owned by the client */
    size_t rpc_message_len;
    uint32_t ctor;                   /* the answer's constructor */
    const uint8_t *result;           /* the answer's TL bytes (inflated; a ping: the pong), owned by the client */
    size_t result_len;
    uint64_t ping_id, ping_msg_id;   /* a ping: the pong's fields */
};

/* What the run produced, filled as it goes. */
struct mtpc_outcome {
    bool have_key;
    struct mtp_auth_result key;      /* valid when have_key; with PFS the permanent key (given: only the key
                                      * and its id are set) */
    bool have_temp_key;              /* PFS: the temporary key, the one the session uses */
    struct mtp_auth_result temp_key;
    int32_t temp_expires_at;         /* PFS: unix time it expires (its server_time + expires_in) */
    bool bound;                      /* PFS: auth.bindTempAuthKey answered boolTrue */
    unsigned auth_attempts;          /* key exchanges started, restarts after -404 included */
    uint64_t session_id;             /* current; a LE integer, as on the wire */
    uint64_t salt;                   /* the salt in use at the end (after bad_server_salt, new_session_created) */
    /* One answer per request of the script, in order (n_answers = the number of requests). */
    const struct mtpc_answer *answers;
    size_t n_answers;
    unsigned pongs;
    uint64_t ping_id, ping_msg_id;   /* the last pong's fields */
    /* The last call answered (with the default script: the call). */
    bool answered;                   /* the call got its answer (a result or an rpc_error) */
    bool rpc_error;
    int32_t rpc_code;
    char rpc_message[256];           /* for display: cut at 255 bytes and at a NUL (see answers[] for the bytes) */
    uint32_t result_ctor;
    const uint8_t *result;           /* the answer's TL bytes (inflated), owned by the client */
    size_t result_len;
    /* What else happened. */
    unsigned bad_salts, bad_msgs, new_sessions, resends, quick_acks, acks, dropped, updates;
    uint64_t bytes_in, bytes_out;
    int last_dropped;                /* code of the last message the session ignored */
    char last_dropped_msg[MTP_ERROR_MSG_MAX];
    /* Failure: code, the step, "step: what" with the field and offset. */
    int error;
    enum mtpc_step error_step;
    char error_msg[512];
};

struct mtpc_client;

/* Copies cfg (not what its pointers point to, which must outlive the client)
 * and env (not its ctx).  MTP_ERR_ARG / MTP_ERR_AUTH_CONFIG for a
 * configuration that cannot work. */
MTP_MUST_USE int mtpc_new(const struct mtpc_config *cfg, const struct mtp_env *env, struct mtpc_client **out,
                          struct mtp_error *err);
/* Wipes every secret and frees.  NULL is fine. */
void mtpc_del(struct mtpc_client *c);

/* Queues the transport header and req_pq_multi.  Returns MTP_OK or the
 * failure's code; like every call below it also records a failure in the
 * state and the outcome, so a loop may just check mtpc_state. */
int mtpc_start(struct mtpc_client *c);
/* Bytes from the server, decrypted in place under obfuscation. */
int mtpc_feed(struct mtpc_client *c, uint8_t *buf, size_t len);
/* The server closed the connection: a failure unless the run is DONE. */
void mtpc_peer_closed(struct mtpc_client *c);
/* The caller's deadline passed: fails the run, naming what it waited for. */
void mtpc_timeout(struct mtpc_client *c, int64_t waited_ms);
/* Fails the run from outside (connect or I/O errors); no-op once it ended. */
void mtpc_fail(struct mtpc_client *c, int code, const char *fmt, ...) MTP_PRINTF(3, 4);

/* The server ended a key exchange with -404 and attempts are left: the
 * caller closes the connection, connects again and calls mtpc_reconnect,
 * which queues the transport header and req_pq_multi again (the exchange
 * restarts; a permanent key already made is kept).  Until then input is
 * ignored and a close is no failure. */
bool mtpc_wants_reconnect(const struct mtpc_client *c);
int mtpc_reconnect(struct mtpc_client *c);

/* Milliseconds (env clock) until mtpc_tick has work: 0 for now, INT64_MAX for never. */
int64_t mtpc_tick_in_ms(const struct mtpc_client *c);
int mtpc_tick(struct mtpc_client *c);

/* Bytes waiting to be sent, and how many of them went out. */
const uint8_t *mtpc_output(const struct mtpc_client *c, size_t *len);
void mtpc_output_done(struct mtpc_client *c, size_t n);

enum mtpc_state mtpc_state(const struct mtpc_client *c);
enum mtpc_step mtpc_step(const struct mtpc_client *c);
const struct mtpc_outcome *mtpc_outcome(const struct mtpc_client *c);
/* The obfuscated init in plaintext (64 bytes; NULL when not obfuscated). */
const uint8_t *mtpc_obfs_init(const struct mtpc_client *c);
/* The auth machine's state, for messages and tests. */
enum mtp_auth_client_state mtpc_auth_state(const struct mtpc_client *c);
/* The session core, once the key exists (NULL before): for tests and hooks
 * that want to queue more. */
struct mtp_session *mtpc_session(struct mtpc_client *c);

#endif
