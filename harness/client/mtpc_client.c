/* The reference client core: the script (key, pings, call, acks) over the
 * library's transport, auth and session machines.  See mtpc_client.h. */
#include "client/mtpc_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/mtpc_fault.h"
#include "client/mtpc_text.h"
#include "mtp/auth_bind.h"
#include "mtp/container.h"
#include "mtp/message.h"
#include "mtp/msgcrypt.h"
#include "mtp/msgid.h"
#include "mtp/service.h"
#include "mtp/tr_conn.h"
#include "mtp/auth.h"

#define DEFAULT_MAX_FRAME ((size_t)1 << 20)
#define DEFAULT_MAX_OUTPUT ((size_t)8 << 20)
#define DEFAULT_MAX_RESENDS 5
#define DEFAULT_MAX_AUTH_ATTEMPTS 3
#define DEFAULT_TEMP_EXPIRES_IN 86400
#define ID_BOOL_TRUE 0x997275b5u
#define ID_BOOL_FALSE 0xbc799737u
/* Scratch writers hold one message: the largest frame plus what the
 * envelope or the encryption adds. */
#define SCRATCH_SLACK 4096

struct mtpc_client {
    struct mtpc_config cfg;
    struct mtp_env env;
    enum mtpc_state state;
    enum mtpc_step step;
    struct mtp_tr_conn tr;
    uint8_t init[MTP_OBFS_INIT_LEN];
    bool have_init;
    struct mtp_auth_client *auth;
    uint64_t last_plain_msg_id; /* the server's last key-exchange message: its time to the millisecond */
    struct mtp_auth_client_behaviour auth_bh; /* cfg.auth.behaviour with the auth faults added */
    bool temp_phase;          /* PFS: the exchange in progress makes the temporary key */
    unsigned attempts;        /* attempts at the exchange in progress */
    bool reconnect;           /* waiting for the caller's new connection (mtpc_reconnect) */
    uint64_t bind_nonce;      /* PFS: auth.bindTempAuthKey.nonce and expires_at */
    int32_t bind_expires_at;
    struct mtp_msgid_gen ids; /* msg_ids of the unencrypted messages */
    struct mtp_session_cfg ses_cfg; /* cfg.session (or the defaults) with the session faults added */
    struct mtp_session ses;
    bool ses_init;
    struct mtp_msgcrypt *crypt;
    struct mtp_wr out;   /* bytes for the server; out_pos of them are sent */
    size_t out_pos;
    struct mtp_wr msg;   /* the message being made */
    struct mtp_wr pkt;   /* its envelope or encryption */
    struct mtp_wr plain; /* a decrypted message */
    /* The script: the requests, their answers, the next one to send. */
    struct mtpc_request *reqs;
    struct mtpc_answer *answers;
    size_t n_reqs, next_req;
    /* The one request in flight (a ping or a call: reqs[cur]). */
    size_t cur;
    bool req_pending;
    uint64_t req_orig;   /* the msg_id send returned; resends keep it as orig_msg_id */
    uint64_t req_cur;    /* the msg_id it last went out with */
    uint32_t req_ctor;
    /* A service answer to the call as received (future_salts, pong, ...): the
     * session consumes those itself and reports only their fields. */
    uint8_t *tapped;
    size_t tapped_len;
    uint64_t req_ping_id;
    unsigned req_resends;
    /* Set by session events, acted on when the session returns. */
    bool answer_in;
    int ev_fail;
    char ev_fail_msg[384];
    struct mtpc_outcome o;
};

const char *mtpc_step_name(enum mtpc_step step)
{
    switch (step) {
    case MTPC_STEP_CONNECT:
        return "connect";
    case MTPC_STEP_AUTH_KEY:
        return "auth_key";
    case MTPC_STEP_BIND:
        return "bind";
    case MTPC_STEP_PING:
        return "ping";
    case MTPC_STEP_CALL:
        return "call";
    case MTPC_STEP_FINISH:
        return "finish";
    }
    return "unknown";
}

void mtpc_config_init(struct mtpc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = MTP_TR_INTERMEDIATE;
    mtp_auth_client_config_init(&cfg->auth);
    cfg->auth.dc = 2;
    /* The reference client checks everything: primality and safety of
     * dh_prime even when it is one of the embedded primes. */
    cfg->auth.dh_mode = MTP_DH_FULL;
    /* The spec puts no bound on dh_gen_retry rounds (each costs the server a
     * message and the client one modexp; the run's deadline bounds the rest):
     * an auth key whose first byte is 0 takes about 256 of them to meet. */
    cfg->auth.max_retries = 4096;
    cfg->pings = 1;
    cfg->max_resends = DEFAULT_MAX_RESENDS;
    cfg->max_auth_attempts = DEFAULT_MAX_AUTH_ATTEMPTS;
    cfg->pfs.expires_in = DEFAULT_TEMP_EXPIRES_IN;
    cfg->max_frame = DEFAULT_MAX_FRAME;
    cfg->max_output = DEFAULT_MAX_OUTPUT;
    cfg->strict_transport = true;
}

/* ---- seeded faults ---- */

static bool faulty(const struct mtpc_client *c, enum mtpc_fault f) { return (c->cfg.faults & MTPC_FAULT_BIT(f)) != 0; }

/* The faults the library machines implement, as their own bits. */
static const struct {
    enum mtpc_fault f;
    unsigned bit;
} AUTH_FAULTS[] = {
    {MTPC_FAULT_SKIP_DH_PRIME_CHECK, MTP_AUTH_CF_SKIP_DH_PRIME},
    {MTPC_FAULT_SKIP_G_CHECK, MTP_AUTH_CF_SKIP_G},
    {MTPC_FAULT_SKIP_G_A_RANGE, MTP_AUTH_CF_SKIP_GA_RANGE},
    {MTPC_FAULT_SKIP_G_A_MARGIN, MTP_AUTH_CF_SKIP_GA_MARGIN},
    {MTPC_FAULT_FIXED_B, MTP_AUTH_CF_FIXED_B},
    {MTPC_FAULT_ACCEPT_WRONG_NONCE, MTP_AUTH_CF_ACCEPT_WRONG_NONCE},
    {MTPC_FAULT_SKIP_ANSWER_HASH, MTP_AUTH_CF_SKIP_ANSWER_HASH},
    {MTPC_FAULT_SKIP_NEW_NONCE_HASH, MTP_AUTH_CF_SKIP_NEW_NONCE_HASH},
    {MTPC_FAULT_RETRY_ID_ZERO, MTP_AUTH_CF_RETRY_ID_ZERO},
    {MTPC_FAULT_ACCEPT_BAD_PQ, MTP_AUTH_CF_ACCEPT_BAD_PQ},
    {MTPC_FAULT_ACCEPT_UNKNOWN_FINGERPRINT, MTP_AUTH_CF_ACCEPT_UNKNOWN_KEY},
}, SESSION_FAULTS[] = {
    {MTPC_FAULT_SKIP_SESSION_ID_CHECK, MTP_SESSION_CF_SKIP_SESSION_ID},
    {MTPC_FAULT_ACCEPT_EVEN_MSG_ID, MTP_SESSION_CF_ACCEPT_EVEN_MSG_ID},
    {MTPC_FAULT_ACCEPT_DUPLICATE_MSG_ID, MTP_SESSION_CF_ACCEPT_DUPLICATE},
    {MTPC_FAULT_SKIP_CONTAINER_ORDER, MTP_SESSION_CF_SKIP_CONTAINER_ORDER},
    {MTPC_FAULT_SKIP_LENGTH_CHECK, MTP_SESSION_CF_SKIP_LENGTH},
    {MTPC_FAULT_OWN_MSG_ID_NOT_MOD4, MTP_SESSION_CF_OWN_MSG_ID_NOT_MOD4},
    {MTPC_FAULT_NO_ACKS, MTP_SESSION_CF_NO_ACKS},
    {MTPC_FAULT_RESEND_SAME_MSG_ID, MTP_SESSION_CF_RESEND_SAME_MSG_ID},
};

/* The configurations of the machines the client drives, with its faults added. */
static void apply_faults(struct mtpc_client *c)
{
    if (c->cfg.auth.behaviour != NULL)
        c->auth_bh = *c->cfg.auth.behaviour;
    for (size_t i = 0; i < sizeof AUTH_FAULTS / sizeof AUTH_FAULTS[0]; i++)
        if (faulty(c, AUTH_FAULTS[i].f))
            c->auth_bh.faults |= MTP_AUTH_CF(AUTH_FAULTS[i].bit);
    if (c->cfg.session != NULL)
        c->ses_cfg = *c->cfg.session;
    else
        mtp_session_cfg_default(&c->ses_cfg);
    for (size_t i = 0; i < sizeof SESSION_FAULTS / sizeof SESSION_FAULTS[0]; i++)
        if (faulty(c, SESSION_FAULTS[i].f))
            c->ses_cfg.client_faults |= MTP_SESSION_CF(SESSION_FAULTS[i].bit);
    if (faulty(c, MTPC_FAULT_SKIP_TIME_WINDOW))
        c->ses_cfg.client_time_check = false;
}

/* The checks of message decryption the faults leave out. */
static unsigned decrypt_skips(const struct mtpc_client *c)
{
    return (faulty(c, MTPC_FAULT_SKIP_AUTH_KEY_ID_CHECK) ? MTP_MSGCRYPT_SKIP_AUTH_KEY_ID : 0u) |
           (faulty(c, MTPC_FAULT_SKIP_MSG_KEY_CHECK) ? MTP_MSGCRYPT_SKIP_MSG_KEY : 0u) |
           (faulty(c, MTPC_FAULT_SKIP_LENGTH_CHECK) ? MTP_MSGCRYPT_SKIP_LENGTH : 0u) |
           (faulty(c, MTPC_FAULT_SKIP_PADDING_CHECK) ? MTP_MSGCRYPT_SKIP_PADDING : 0u);
}

/* ---- failures ---- */

static int vfail(struct mtpc_client *c, int code, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
static int vfail(struct mtpc_client *c, int code, const char *fmt, va_list ap)
{
    if (c->state != MTPC_RUNNING)
        return c->state == MTPC_FAILED ? c->o.error : code;
    c->state = MTPC_FAILED;
    c->o.error = code < 0 ? code : MTP_ERR_INTERNAL;
    c->o.error_step = c->step;
    vsnprintf(c->o.error_msg, sizeof c->o.error_msg, fmt, ap);
    return c->o.error;
}

static int fail(struct mtpc_client *c, int code, const char *fmt, ...) MTP_PRINTF(3, 4);
static int fail(struct mtpc_client *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c, code, fmt, ap);
    va_end(ap);
    return rc;
}

void mtpc_fail(struct mtpc_client *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vfail(c, code, fmt, ap);
    va_end(ap);
}

/* A failure a library call recorded in e, with what we were doing in front. */
static int fail_err(struct mtpc_client *c, int rc, const struct mtp_error *e, const char *doing)
{
    const char *why = e->code != MTP_OK && e->msg[0] ? e->msg : mtp_err_text(rc);
    return fail(c, rc, "%s: %s (%s)", doing, why, mtp_err_name(rc));
}

static void trace(struct mtpc_client *c, enum mtpc_dir dir, enum mtpc_trace_kind kind, int64_t msg_id,
                  const uint8_t *p, size_t len, int32_t code, const struct mtp_session_event *ev)
{
    if (c->cfg.trace == NULL)
        return;
    struct mtpc_trace t = {dir, kind, msg_id, p, len, code, ev};
    c->cfg.trace(c->cfg.trace_ctx, &t);
}

/* ---- output ---- */

static int mutate(struct mtpc_client *c, enum mtpc_stage stage, struct mtp_wr *w)
{
    if (c->cfg.behaviour.mutate == NULL)
        return MTP_OK;
    int rc = c->cfg.behaviour.mutate(c->cfg.behaviour.mutate_ctx, stage, w);
    if (rc < 0)
        return fail(c, rc, "mutate hook (stage %d): %s", (int)stage, mtp_err_text(rc));
    int st = mtp_wr_status(w);
    if (st < 0)
        return fail(c, st, "mutate hook (stage %d): the rewritten message: %s", (int)stage, mtp_err_text(st));
    return rc;
}

static int send_frame(struct mtpc_client *c, const uint8_t *payload, size_t len)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    struct mtp_tr_send m = {.data = payload, .len = len};
    int rc = mtp_tr_conn_send(&c->tr, &m, &c->out, &e);
    if (rc == MTP_OK)
        return MTP_OK;
    if (rc == MTP_ERR_OVERFLOW)
        return fail(c, MTP_ERR_CLIENT_OUTPUT_LIMIT, "output: %zu bytes queued for the server, limit %zu",
                    c->out.len - c->out_pos, c->cfg.max_output);
    return fail_err(c, rc, &e, "transport: framing a message");
}

/* Sends the body in c->msg as an unencrypted message. */
static int send_plain(struct mtpc_client *c)
{
    int m = mutate(c, MTPC_STAGE_PLAIN_BODY, &c->msg);
    if (m != MTP_OK)
        return m < 0 ? m : MTP_OK;
    int64_t msg_id = (int64_t)mtp_msgid_next(&c->ids, mtp_env_now_ms(&c->env), MTP_MSGID_CLIENT);
    trace(c, MTPC_OUT, MTPC_TRACE_PLAIN, msg_id, c->msg.p, c->msg.len, 0, NULL);
    mtp_wr_reset(&c->pkt);
    int rc = mtp_auth_plain_wrap(&c->pkt, msg_id, c->msg.p, c->msg.len);
    if (rc < 0)
        return fail(c, rc, "auth_key: wrapping a %zu-byte message: %s", c->msg.len, mtp_err_text(rc));
    return send_frame(c, c->pkt.p, c->pkt.len);
}

/* ---- auth.bindTempAuthKey ---- */

/* encrypted_message carries the msg_id of the request it travels in, which
 * the session assigns when the request goes out (and anew at every resend).
 * So the request is queued with a placeholder, and each time it is written
 * out the binding message is made for the msg_id and session of that very
 * message, in place (same length). */
static int bind_patch_at(struct mtpc_client *c, size_t at, size_t len, uint64_t session_id, uint64_t msg_id)
{
    if (len != MTP_BIND_REQUEST_LEN)
        return MTP_OK;
    struct mtp_bind_inner in = {
        .nonce = c->bind_nonce,
        .temp_auth_key_id = mtp_load_u64(c->o.temp_key.auth_key_id),
        .perm_auth_key_id = mtp_load_u64(c->o.key.auth_key_id),
        .temp_session_id = session_id,
        .expires_at = c->bind_expires_at,
    };
    uint8_t enc[MTP_BIND_ENCRYPTED_LEN];
    struct mtp_error e;
    mtp_error_clear(&e);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, enc, sizeof enc, NULL);
    int rc = mtp_bind_encrypt(c->o.key.auth_key, msg_id, &in, &c->env, &w, &e);
    if (rc == MTP_OK) {
        struct mtp_wr dst;
        mtp_wr_init_fixed(&dst, c->msg.p + at + MTP_BIND_REQUEST_ENCRYPTED_AT, sizeof enc, NULL);
        rc = mtp_wr_raw(&dst, enc, sizeof enc);
    }
    mtp_wipe(enc, sizeof enc);
    return rc == MTP_OK ? MTP_OK : fail_err(c, rc, &e, "bind: making the binding message");
}

static int bind_patch(struct mtpc_client *c)
{
    struct mtp_rd r, body;
    mtp_rd_init(&r, c->msg.p, c->msg.len, NULL);
    struct mtp_msg_header h;
    uint32_t ctor;
    if (mtp_msg_parse(&r, &h, &body) < 0 || mtp_rd_peek_u32(&body, &ctor, "body") < 0)
        return MTP_OK;
    if (ctor == MTP_BIND_TEMP_AUTH_KEY_ID)
        return bind_patch_at(c, mtp_rd_offset(&body), mtp_rd_left(&body), h.session_id, h.msg_id);
    struct mtp_container ct;
    if (ctor != MTP_SVC_msg_container || mtp_container_open(&ct, &body, h.msg_id, h.seqno, &c->ses.cfg.container) < 0)
        return MTP_OK;
    struct mtp_nested m;
    while (mtp_container_next(&ct, &m) == 1)
        if (m.ctor == MTP_BIND_TEMP_AUTH_KEY_ID)
            MTP_GUARD(bind_patch_at(c, mtp_rd_offset(&m.body), mtp_rd_left(&m.body), h.session_id, m.msg_id));
    return MTP_OK;
}

/* Encrypts and sends whatever the session has to send. */
static int flush(struct mtpc_client *c)
{
    for (;;) {
        mtp_wr_reset(&c->msg);
        int rc = mtp_session_flush(&c->ses, &c->msg);
        if (rc < 0)
            return fail(c, rc, "session: cannot write the next message: %s", mtp_err_text(rc));
        if (rc == 0)
            return MTP_OK;
        if (c->step == MTPC_STEP_BIND)
            MTP_GUARD(bind_patch(c));
        int m = mutate(c, MTPC_STAGE_INNER, &c->msg);
        if (m < 0)
            return m;
        if (m == MTPC_MUTATE_DROP)
            continue;
        trace(c, MTPC_OUT, MTPC_TRACE_INNER, 0, c->msg.p, c->msg.len, 0, NULL);
        struct mtp_error e;
        mtp_error_clear(&e);
        mtp_wr_reset(&c->pkt);
        c->pkt.err = &e;
        rc = mtp_msgcrypt_encrypt(c->crypt, MTP_SENDER_CLIENT, c->msg.p, c->msg.len, &c->pkt, &e);
        c->pkt.err = NULL;
        mtp_wipe(c->msg.p, c->msg.len);
        if (rc < 0)
            return fail_err(c, rc, &e, "session: encrypting a message");
        m = mutate(c, MTPC_STAGE_PACKET, &c->pkt);
        if (m < 0)
            return m;
        if (m == MTPC_MUTATE_DROP)
            continue;
        MTP_GUARD(send_frame(c, c->pkt.p, c->pkt.len));
    }
}

/* ---- the script ---- */

static const char *auth_waiting_for(const struct mtpc_client *c)
{
    bool t = c->temp_phase && c->cfg.pfs.enabled;
    switch (mtp_auth_client_state(c->auth)) {
    case MTP_AUTH_C_INIT:
    case MTP_AUTH_C_AWAIT_RES_PQ:
        return t ? "resPQ (temporary key)" : "resPQ";
    case MTP_AUTH_C_AWAIT_SERVER_DH_PARAMS:
        return t ? "server_DH_params (temporary key)" : "server_DH_params";
    case MTP_AUTH_C_AWAIT_DH_GEN:
        return t ? "dh_gen_ok (temporary key)" : "dh_gen_ok";
    default:
        return "nothing";
    }
}

/* Queues the call.  Service functions whose answers the session handles
 * itself go through its own calls, so that it can match the answer; the
 * rest is an RPC query. */
static int queue_call(struct mtpc_client *c)
{
    const struct mtpc_request *rq = &c->reqs[c->cur];
    struct mtp_rd r;
    mtp_rd_init(&r, rq->body, rq->len, NULL);
    uint32_t ctor = 0, n = 0;
    uint64_t id = 0;
    int32_t v = 0;
    int rc = -1;
    if (mtp_rd_u32(&r, &ctor, "ctor") < 0)
        ctor = 0;
    switch (ctor) {
    case MTP_SVC_ping:
        if (mtp_rd_u64(&r, &id, "ping_id") == MTP_OK && mtp_rd_end(&r, "ping") == MTP_OK)
            rc = mtp_session_ping(&c->ses, id, -1, &c->req_orig);
        break;
    case MTP_SVC_ping_delay_disconnect:
        if (mtp_rd_u64(&r, &id, "ping_id") == MTP_OK && mtp_rd_i32(&r, &v, "disconnect_delay") == MTP_OK &&
            v >= 0 && mtp_rd_end(&r, "ping_delay_disconnect") == MTP_OK)
            rc = mtp_session_ping(&c->ses, id, v, &c->req_orig);
        break;
    case MTP_SVC_get_future_salts:
        if (mtp_rd_i32(&r, &v, "num") == MTP_OK && mtp_rd_end(&r, "get_future_salts") == MTP_OK)
            rc = mtp_session_get_future_salts(&c->ses, v, &c->req_orig);
        break;
    case MTP_SVC_destroy_session:
        if (mtp_rd_u64(&r, &id, "session_id") == MTP_OK && mtp_rd_end(&r, "destroy_session") == MTP_OK)
            rc = mtp_session_destroy_session(&c->ses, id, &c->req_orig);
        break;
    case MTP_SVC_msgs_state_req: {
        uint32_t vec;
        if (mtp_rd_u32(&r, &vec, "vector") < 0 || vec != 0x1cb5c415u || mtp_rd_u32(&r, &n, "count") < 0 ||
            n > MTP_SVC_MAX_IDS || mtp_rd_left(&r) != (size_t)n * 8)
            break;
        uint64_t *ids = malloc(n ? (size_t)n * 8 : 1);
        if (ids == NULL)
            return fail(c, MTP_ERR_NOMEM, "call: no memory");
        for (uint32_t i = 0; i < n; i++)
            if (mtp_rd_u64(&r, &ids[i], "msg_ids") < 0)
                ids[i] = 0;
        rc = mtp_session_state_req(&c->ses, ids, n, &c->req_orig);
        free(ids);
        break;
    }
    default:
        break;
    }
    if (rc == -1)
        rc = mtp_session_send_query(&c->ses, rq->body, rq->len, &c->req_orig);
    if (rc < 0)
        return fail(c, rc, "call: cannot queue the %zu-byte request: %s", rq->len, mtp_err_text(rc));
    return MTP_OK;
}

/* Queues auth.bindTempAuthKey with a placeholder encrypted_message (see bind_patch). */
static int queue_bind(struct mtpc_client *c)
{
    int rc = mtp_env_rand(&c->env, &c->bind_nonce, sizeof c->bind_nonce);
    if (rc < 0)
        return fail(c, rc, "bind: no randomness for the nonce");
    /* api/pfs: expires_at = time + expires_in, the time the temporary key's exchange gave. */
    int64_t at = (int64_t)c->o.temp_key.server_time + c->o.temp_key.expires_in;
    c->bind_expires_at = at > INT32_MAX ? INT32_MAX : (int32_t)at;
    c->o.temp_expires_at = c->bind_expires_at;
    uint8_t placeholder[MTP_BIND_ENCRYPTED_LEN] = {0}, body[MTP_BIND_REQUEST_LEN];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, body, sizeof body, NULL);
    rc = mtp_bind_write_request(&w, mtp_load_u64(c->o.key.auth_key_id), c->bind_nonce, c->bind_expires_at,
                                placeholder, sizeof placeholder);
    if (rc == MTP_OK)
        rc = mtp_session_send_query(&c->ses, body, w.len, &c->req_orig);
    if (rc < 0)
        return fail(c, rc, "bind: cannot queue auth.bindTempAuthKey: %s", mtp_err_text(rc));
    return MTP_OK;
}

/* Queues the next request, or ends the run when every answer is in. */
static int advance(struct mtpc_client *c)
{
    if (c->req_pending)
        return flush(c);
    int rc;
    if (c->cfg.pfs.enabled && !c->o.bound) {
        c->step = MTPC_STEP_BIND;
        MTP_GUARD(queue_bind(c));
    } else if (c->next_req < c->n_reqs && c->reqs[c->next_req].kind == MTPC_REQ_PING) {
        c->cur = c->next_req++;
        c->step = MTPC_STEP_PING;
        rc = mtp_env_rand(&c->env, &c->req_ping_id, sizeof c->req_ping_id);
        if (rc == MTP_OK)
            rc = mtp_session_ping(&c->ses, c->req_ping_id, -1, &c->req_orig);
        if (rc < 0)
            return fail(c, rc, "ping: cannot queue it: %s", mtp_err_text(rc));
    } else if (c->next_req < c->n_reqs) {
        c->cur = c->next_req++;
        c->step = MTPC_STEP_CALL;
        MTP_GUARD(queue_call(c));
    } else {
        /* Everything answered: acknowledge what is still unacknowledged, so
         * the server need not resend it, and stop. */
        c->step = MTPC_STEP_FINISH;
        mtp_session_flush_acks_now(&c->ses);
        MTP_GUARD(flush(c));
        c->state = MTPC_DONE;
        return MTP_OK;
    }
    c->req_pending = true;
    c->req_resends = 0;
    c->req_cur = c->req_orig;
    c->req_ctor = c->step == MTPC_STEP_CALL   ? mtp_load_u32(c->reqs[c->cur].body)
                  : c->step == MTPC_STEP_BIND ? MTP_BIND_TEMP_AUTH_KEY_ID
                                              : MTP_SVC_ping;
    return flush(c);
}

static void ev_fail(struct mtpc_client *c, int code, const char *fmt, ...) MTP_PRINTF(3, 4);
static void ev_fail(struct mtpc_client *c, int code, const char *fmt, ...)
{
    if (c->ev_fail != MTP_OK)
        return;
    c->ev_fail = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->ev_fail_msg, sizeof c->ev_fail_msg, fmt, ap);
    va_end(ap);
}

static bool is_ours(const struct mtpc_client *c, const struct mtp_session_event *ev)
{
    return c->req_pending && (ev->orig_msg_id == c->req_orig || ev->ref_msg_id == c->req_orig);
}

static void got_pong(struct mtpc_client *c, uint64_t ping_msg_id, uint64_t ping_id)
{
    if (ping_id != c->req_ping_id) {
        ev_fail(c, MTP_ERR_CLIENT_BAD_ANSWER, "pong.ping_id %#llx is not the ping's %#llx",
                (unsigned long long)ping_id, (unsigned long long)c->req_ping_id);
        return;
    }
    c->o.pongs++;
    c->o.ping_id = ping_id;
    c->o.ping_msg_id = ping_msg_id;
    struct mtpc_answer *a = &c->answers[c->cur];
    a->answered = true;
    a->ctor = MTP_SVC_pong;
    a->ping_id = ping_id;
    a->ping_msg_id = ping_msg_id;
    c->answer_in = true;
}

/* A pong that came as an rpc_result (some servers answer ping like any query). */
static void pong_in_result(struct mtpc_client *c, const struct mtp_session_event *ev)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    struct mtp_rd r;
    mtp_rd_init(&r, ev->body, ev->body_len, &e);
    uint32_t ctor;
    uint64_t msg_id, ping_id;
    if (mtp_rd_u32(&r, &ctor, "pong") < 0 || ctor != MTP_SVC_pong || mtp_rd_u64(&r, &msg_id, "pong.msg_id") < 0 ||
        mtp_rd_u64(&r, &ping_id, "pong.ping_id") < 0 || mtp_rd_end(&r, "pong") < 0) {
        ev_fail(c, MTP_ERR_CLIENT_BAD_ANSWER, "rpc_result for the ping is not a pong (constructor %#010x, %zu bytes)",
                (unsigned)ev->ctor, ev->body_len);
        return;
    }
    got_pong(c, msg_id, ping_id);
}

/* The answer to auth.bindTempAuthKey: a Bool. */
static void bind_result(struct mtpc_client *c, const struct mtp_session_event *ev)
{
    struct mtp_rd r;
    mtp_rd_init(&r, ev->body, ev->body_len, NULL);
    uint32_t ctor = 0;
    bool one = mtp_rd_u32(&r, &ctor, "Bool") == MTP_OK && mtp_rd_end(&r, "Bool") == MTP_OK;
    if (one && ctor == ID_BOOL_TRUE) {
        c->o.bound = true;
        c->answer_in = true;
    } else if (one && ctor == ID_BOOL_FALSE) {
        ev_fail(c, MTP_ERR_CLIENT_BIND_FAILED, "auth.bindTempAuthKey answered boolFalse: the temporary key is not bound");
    } else {
        ev_fail(c, MTP_ERR_CLIENT_BAD_ANSWER,
                "the answer to auth.bindTempAuthKey is not a Bool (constructor %#010x, %zu bytes)", (unsigned)ctor,
                ev->body_len);
    }
}

/* The answer to the call in flight (bytes copied) becomes its result. */
static void set_result(struct mtpc_client *c, const uint8_t *p, size_t len, uint8_t *owned)
{
    struct mtpc_answer *a = &c->answers[c->cur];
    uint8_t *copy = owned;
    if (copy == NULL) {
        copy = malloc(len ? len : 1);
        if (copy == NULL) {
            ev_fail(c, MTP_ERR_NOMEM, "call: no memory for the %zu-byte answer", len);
            return;
        }
        if (len)
            memcpy(copy, p, len);
    }
    free((void *)a->result);
    a->result = copy;
    a->result_len = len;
    a->ctor = len >= 4 ? mtp_load_u32(copy) : 0;
    a->answered = true;
    c->o.result = a->result;
    c->o.result_len = len;
    c->o.result_ctor = a->ctor;
    c->o.rpc_error = false;
    c->o.answered = true;
    c->answer_in = true;
}

static void keep_result(struct mtpc_client *c, const struct mtp_session_event *ev)
{
    set_result(c, ev->body, ev->body_len, NULL);
    c->answers[c->cur].ctor = ev->ctor;
    c->o.result_ctor = ev->ctor;
}

/* An rpc_error for the call in flight: the message is kept as the bytes it is. */
static void keep_rpc_error(struct mtpc_client *c, const struct mtp_session_event *ev)
{
    struct mtpc_answer *a = &c->answers[c->cur];
    uint8_t *copy = malloc(ev->body_len ? ev->body_len : 1);
    if (copy == NULL) {
        ev_fail(c, MTP_ERR_NOMEM, "call: no memory for the %zu-byte error message", ev->body_len);
        return;
    }
    if (ev->body_len)
        memcpy(copy, ev->body, ev->body_len);
    free((void *)a->rpc_message);
    a->rpc_message = copy;
    a->rpc_message_len = ev->body_len;
    a->answered = true;
    a->rpc_error = true;
    a->rpc_code = ev->code;
    a->ctor = MTP_SVC_rpc_error;
    c->o.rpc_error = true;
    c->o.rpc_code = ev->code;
    size_t n = ev->body_len < sizeof c->o.rpc_message ? ev->body_len : sizeof c->o.rpc_message - 1;
    memcpy(c->o.rpc_message, ev->body, n);
    c->o.rpc_message[n] = '\0';
    c->o.result = NULL;
    c->o.result_len = 0;
    c->o.answered = true;
    c->answer_in = true;
}

/* Whether a service message body answers the call in flight. */
static bool answers_call(const struct mtpc_client *c, uint32_t ctor, struct mtp_rd body)
{
    uint32_t want;
    switch (ctor) {
    case MTP_SVC_future_salts:
        want = MTP_SVC_get_future_salts;
        break;
    case MTP_SVC_pong:
        want = c->req_ctor == MTP_SVC_ping_delay_disconnect ? MTP_SVC_ping_delay_disconnect : MTP_SVC_ping;
        break;
    case MTP_SVC_msgs_state_info:
        want = MTP_SVC_msgs_state_req;
        break;
    case MTP_SVC_destroy_session_ok:
    case MTP_SVC_destroy_session_none:
        want = MTP_SVC_destroy_session;
        break;
    default:
        return false;
    }
    if (c->req_ctor != want)
        return false;
    /* Every one of them names the request (or, destroy_session_*, its session) first. */
    uint32_t id;
    uint64_t ref;
    body.err = NULL;
    if (mtp_rd_u32(&body, &id, "ctor") < 0 || mtp_rd_u64(&body, &ref, "ref") < 0)
        return false;
    if (want == MTP_SVC_destroy_session)
        return c->reqs[c->cur].len >= 12 && ref == mtp_load_u64(c->reqs[c->cur].body + 4);
    return ref == c->req_cur || ref == c->req_orig;
}

static void tap_one(struct mtpc_client *c, uint32_t ctor, const struct mtp_rd *body)
{
    if (!answers_call(c, ctor, *body))
        return;
    size_t n = mtp_rd_left(body);
    uint8_t *copy = malloc(n);
    if (copy == NULL)
        return;
    memcpy(copy, mtp_rd_cur(body), n);
    free(c->tapped);
    c->tapped = copy;
    c->tapped_len = n;
}

/* Keeps a copy of a service answer to the call before the session consumes it. */
static void tap(struct mtpc_client *c, const uint8_t *plain, size_t len)
{
    if (c->step != MTPC_STEP_CALL || !c->req_pending)
        return;
    struct mtp_rd r, body;
    mtp_rd_init(&r, plain, len, NULL);
    struct mtp_msg_header h;
    uint32_t ctor;
    if (mtp_msg_parse(&r, &h, &body) < 0 || mtp_rd_peek_u32(&body, &ctor, "body") < 0)
        return;
    if (ctor != MTP_SVC_msg_container) {
        tap_one(c, ctor, &body);
        return;
    }
    struct mtp_container ct;
    if (mtp_container_open(&ct, &body, h.msg_id, h.seqno, &c->ses.cfg.container) < 0)
        return;
    struct mtp_nested m;
    while (mtp_container_next(&ct, &m) == 1)
        tap_one(c, m.ctor, &m.body);
}

/* The session handled a service answer to the call: the tapped copy is the result. */
static void answer_from_tap(struct mtpc_client *c)
{
    if (c->tapped == NULL || c->tapped_len < 4) {
        ev_fail(c, MTP_ERR_INTERNAL, "the session took an answer to the call that the client did not see");
        return;
    }
    uint8_t *t = c->tapped;
    c->tapped = NULL;
    set_result(c, t, c->tapped_len, t);
}

static void on_event(void *ctx, const struct mtp_session_event *ev)
{
    struct mtpc_client *c = ctx;
    trace(c, MTPC_IN, MTPC_TRACE_EVENT, (int64_t)ev->msg_id, ev->body, ev->body_len, ev->code, ev);
    switch (ev->type) {
    case MTP_SESSION_EV_PONG:
        if (is_ours(c, ev) && c->step == MTPC_STEP_PING)
            got_pong(c, ev->ref_msg_id, ev->value);
        else if (is_ours(c, ev) && c->step == MTPC_STEP_CALL)
            answer_from_tap(c);
        break;
    case MTP_SESSION_EV_FUTURE_SALTS:
    case MTP_SESSION_EV_STATE_INFO:
    case MTP_SESSION_EV_DESTROY_SESSION:
        if (is_ours(c, ev) && c->step == MTPC_STEP_CALL)
            answer_from_tap(c);
        break;
    case MTP_SESSION_EV_RESULT:
        if (!is_ours(c, ev))
            break;
        if (c->step == MTPC_STEP_PING)
            pong_in_result(c, ev);
        else if (c->step == MTPC_STEP_BIND)
            bind_result(c, ev);
        else
            keep_result(c, ev);
        break;
    case MTP_SESSION_EV_RPC_ERROR:
        if (!is_ours(c, ev))
            break;
        if (c->step == MTPC_STEP_PING) {
            char msg[256];
            ev_fail(c, MTP_ERR_CLIENT_BAD_ANSWER, "ping answered with rpc_error %d %s", (int)ev->code,
                    mtpc_text_escape(ev->body, ev->body_len, msg, sizeof msg));
            break;
        }
        if (c->step == MTPC_STEP_BIND) {
            char msg[256];
            ev_fail(c, MTP_ERR_CLIENT_BIND_FAILED, "auth.bindTempAuthKey answered rpc_error %d %s", (int)ev->code,
                    mtpc_text_escape(ev->body, ev->body_len, msg, sizeof msg));
            break;
        }
        keep_rpc_error(c, ev);
        break;
    case MTP_SESSION_EV_RESENT:
        c->o.resends++;
        if (is_ours(c, ev))
            c->req_cur = ev->msg_id;
        if (is_ours(c, ev) && ++c->req_resends > c->cfg.max_resends)
            ev_fail(c, MTP_ERR_CLIENT_RESEND_LIMIT,
                    "the server made the client send the %s %u times (limit %u; %u bad_server_salt, %u "
                    "bad_msg_notification so far)",
                    c->step == MTPC_STEP_PING   ? "ping"
                    : c->step == MTPC_STEP_BIND ? "auth.bindTempAuthKey"
                                                : "call",
                    c->req_resends + 1, c->cfg.max_resends + 1,
                    c->o.bad_salts, c->o.bad_msgs);
        break;
    case MTP_SESSION_EV_FAILED:
        if (is_ours(c, ev))
            ev_fail(c, MTP_ERR_CLIENT_REQUEST_FAILED, "bad_msg_notification error_code %d for msg_id %#llx",
                    (int)ev->code, (unsigned long long)ev->ref_msg_id);
        break;
    case MTP_SESSION_EV_BAD_SALT:
        c->o.bad_salts++;
        break;
    case MTP_SESSION_EV_BAD_MSG:
        c->o.bad_msgs++;
        break;
    case MTP_SESSION_EV_NEW_SESSION:
        c->o.new_sessions++;
        break;
    case MTP_SESSION_EV_ACKED:
        c->o.acks++;
        break;
    case MTP_SESSION_EV_DROPPED:
        c->o.dropped++;
        c->o.last_dropped = ev->code;
        snprintf(c->o.last_dropped_msg, sizeof c->o.last_dropped_msg, "%s", ev->text ? ev->text : "");
        break;
    case MTP_SESSION_EV_MESSAGE:
        c->o.updates++;
        break;
    default:
        break;
    }
}

/* The auth machines for the exchange in progress: the permanent (or only)
 * key as configured, or the temporary key of PFS. */
static int new_auth(struct mtpc_client *c, struct mtp_error *err)
{
    mtp_auth_client_del(c->auth);
    c->auth = NULL;
    struct mtp_auth_client_config ac = c->cfg.auth;
    ac.behaviour = &c->auth_bh;
    if (c->temp_phase) {
        ac.inner = MTP_AUTH_INNER_TEMP_DC;
        ac.expires_in = c->cfg.pfs.expires_in;
    }
    return mtp_auth_client_new(&ac, &c->env, &c->auth, err);
}

/* Starts an exchange: req_pq_multi. */
static int start_exchange(struct mtpc_client *c)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    c->attempts++;
    c->o.auth_attempts++;
    int rc = MTP_OK;
    if (c->auth == NULL || mtp_auth_client_state(c->auth) != MTP_AUTH_C_INIT)
        rc = new_auth(c, &e);
    if (rc < 0)
        return fail_err(c, rc, &e, "auth_key: machine");
    mtp_wr_reset(&c->msg);
    rc = mtp_auth_client_start(c->auth, &c->msg, &e);
    if (rc < 0)
        return fail_err(c, rc, &e, "auth_key: req_pq_multi");
    return send_plain(c);
}

/* The session over the key the messages go out with. */
static int session_up(struct mtpc_client *c, const struct mtp_auth_result *key)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    int rc = mtp_msgcrypt_new(key->auth_key, &c->crypt, &e);
    if (rc < 0)
        return fail_err(c, rc, &e, "session: message crypto");
    rc = mtp_session_init(&c->ses, MTP_SESSION_CLIENT, &c->ses_cfg, &c->env, on_event, c);
    if (rc < 0)
        return fail(c, rc, "session: init: %s", mtp_err_text(rc));
    c->ses_init = true;
    mtp_session_set_auth_key(&c->ses, key->auth_key);
    uint64_t salt = c->cfg.behaviour.salt_zero ? 0 : mtp_load_u64(key->server_salt);
    rc = mtp_session_set_salt(&c->ses, salt);
    if (rc < 0)
        return fail(c, rc, "session: salt: %s", mtp_err_text(rc));
    if (!faulty(c, MTPC_FAULT_IGNORE_SERVER_TIME)) {
        mtp_session_sync_time(&c->ses, key->server_time);
        /* server_time has whole seconds; dh_gen_ok's msg_id, just received,
         * has the server's clock to the millisecond.  Taken when the two agree
         * (dh_gen_ok comes after server_time, within a minute), so the first msg_ids follow the exchange's
         * and the 300 s / 30 s window is not off by up to a second. */
        int64_t id_ms = mtp_msgid_to_ms(c->last_plain_msg_id), st_ms = (int64_t)key->server_time * 1000;
        if (c->last_plain_msg_id != 0 && id_ms >= st_ms - 1000 && id_ms <= st_ms + 60000)
            mtp_msgid_sync(&c->ses.ids, mtp_env_now_ms(&c->env), c->last_plain_msg_id);
    } else {
        /* The local clock taken as the server's: no offset, but the checks
         * that wait for a synchronised clock still run. */
        c->ses.ids.offset_ms = 0;
        c->ses.ids.synced = true;
    }
    c->o.session_id = c->ses.session_id;
    c->o.salt = c->ses.salt;
    return advance(c);
}

/* An exchange finished: the key goes to work, or (PFS) the temporary key's exchange starts. */
static int key_done(struct mtpc_client *c)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    c->attempts = 0;
    bool temp = c->cfg.pfs.enabled && c->temp_phase;
    struct mtp_auth_result *res = temp ? &c->o.temp_key : &c->o.key;
    int rc = mtp_auth_client_result(c->auth, res, &e);
    if (rc < 0)
        return fail_err(c, rc, &e, "auth_key: result");
    if (temp) {
        c->o.have_temp_key = true;
    } else {
        c->o.have_key = true;
        if (c->cfg.pfs.enabled) {
            /* api/pfs: the permanent key is never used directly; the temporary
             * key is made next, on the same connection. */
            c->temp_phase = true;
            return start_exchange(c);
        }
    }
    return session_up(c, res);
}

static int on_plain(struct mtpc_client *c, const uint8_t *p, size_t len)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    char doing[96];
    snprintf(doing, sizeof doing, "auth_key (waiting for %s)", auth_waiting_for(c));
    struct mtp_auth_plain pm;
    int rc = mtp_auth_plain_unwrap(p, len, &pm, &e);
    if (rc == MTP_OK)
        rc = mtp_auth_msg_id_check(pm.msg_id, true, &e);
    if (rc < 0)
        return fail_err(c, rc, &e, doing);
    trace(c, MTPC_IN, MTPC_TRACE_PLAIN, pm.msg_id, pm.body, pm.body_len, 0, NULL);
    c->last_plain_msg_id = (uint64_t)pm.msg_id;
    mtp_wr_reset(&c->msg);
    enum mtp_auth_client_state before = mtp_auth_client_state(c->auth);
    rc = mtp_auth_client_recv(c->auth, pm.body, pm.body_len, &c->msg, &e);
    if (rc < 0)
        return fail_err(c, rc, &e, doing);
    uint8_t nonce[16], server_nonce[16], new_nonce[32];
    if (c->cfg.on_new_nonce && before == MTP_AUTH_C_AWAIT_RES_PQ &&
        mtp_auth_client_nonces(c->auth, nonce, server_nonce, new_nonce)) {
        c->cfg.on_new_nonce(c->cfg.new_nonce_ctx, nonce, server_nonce, new_nonce);
        mtp_wipe(new_nonce, sizeof new_nonce);
    }
    if (c->msg.len > 0)
        MTP_GUARD(send_plain(c));
    if (mtp_auth_client_state(c->auth) == MTP_AUTH_C_DONE)
        return key_done(c);
    return MTP_OK;
}

/* Whether a packet starts with auth_key_id 0, the mark of an unencrypted message. */
static bool is_unencrypted(const uint8_t *p, size_t len)
{
    struct mtp_rd r;
    mtp_rd_init(&r, p, len, NULL);
    uint64_t id;
    return mtp_rd_u64(&r, &id, "auth_key_id") == MTP_OK && id == 0;
}

/* An encrypted message that failed a check: "completely discard the message"
 * (security_guidelines), count it, and wait for what follows. */
static int discard(struct mtpc_client *c, int code, const char *fmt, ...) MTP_PRINTF(3, 4);
static int discard(struct mtpc_client *c, int code, const char *fmt, ...)
{
    c->o.dropped++;
    c->o.last_dropped = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->o.last_dropped_msg, sizeof c->o.last_dropped_msg, fmt, ap);
    va_end(ap);
    trace(c, MTPC_IN, MTPC_TRACE_DROPPED, 0, (const uint8_t *)c->o.last_dropped_msg, strlen(c->o.last_dropped_msg),
          code, NULL);
    return MTP_OK;
}

/* The checks of message decryption: these failures discard the message;
 * anything else (memory, OpenSSL) ends the run. */
static bool is_check_failure(int rc)
{
    switch (rc) {
    case MTP_ERR_AUTH_KEY_ID_MISMATCH:
    case MTP_ERR_BAD_CIPHERTEXT_LENGTH:
    case MTP_ERR_MSG_KEY_MISMATCH:
    case MTP_ERR_BAD_MESSAGE_LENGTH:
    case MTP_ERR_UNALIGNED_MESSAGE_LENGTH:
    case MTP_ERR_BAD_PADDING_LENGTH:
        return true;
    default:
        return false;
    }
}

static void salt_of(struct mtpc_client *c, struct mtp_rd body)
{
    body.err = NULL;
    struct mtp_svc svc;
    if (mtp_svc_parse(&body, &svc) == MTP_OK && svc.id == MTP_SVC_bad_server_salt)
        c->ses.salt = svc.u.bad_msg.new_server_salt;
}

/* Fault salt-from-dropped: the new_server_salt of a bad_server_salt in a
 * message the session has just dropped is used after all. */
static void salt_from_dropped(struct mtpc_client *c, const uint8_t *plain, size_t len)
{
    struct mtp_rd r, body;
    mtp_rd_init(&r, plain, len, NULL);
    struct mtp_msg_header h;
    uint32_t ctor;
    if (mtp_msg_parse(&r, &h, &body) < 0 || mtp_rd_peek_u32(&body, &ctor, "body") < 0)
        return;
    if (ctor != MTP_SVC_msg_container) {
        salt_of(c, body);
        return;
    }
    struct mtp_container ct;
    if (mtp_container_open(&ct, &body, UINT64_MAX, INT32_MAX, &c->ses.cfg.container) < 0)
        return;
    struct mtp_nested m;
    while (mtp_container_next(&ct, &m) == 1)
        salt_of(c, m.body);
}

/* Hands a decrypted message to the session; the events it fires do the rest. */
static int take_plaintext(struct mtpc_client *c, const uint8_t *plain, size_t len)
{
    const char *step = mtpc_step_name(c->step);
    trace(c, MTPC_IN, MTPC_TRACE_INNER, 0, plain, len, 0, NULL);
    tap(c, plain, len);
    c->ev_fail = MTP_OK;
    c->answer_in = false;
    struct mtp_error e;
    mtp_error_clear(&e);
    unsigned dropped = c->o.dropped;
    int rc = mtp_session_recv(&c->ses, plain, len, &e);
    if (rc < 0 && rc != MTP_ERR_SES_FLOOD && faulty(c, MTPC_FAULT_SALT_FROM_DROPPED))
        salt_from_dropped(c, plain, len);
    if (rc < 0 && c->o.dropped == dropped) {
        /* Ignored without an event: keep the reason for a later timeout message. */
        c->o.dropped++;
        c->o.last_dropped = rc;
        snprintf(c->o.last_dropped_msg, sizeof c->o.last_dropped_msg, "%s", e.msg);
    }
    c->o.salt = c->ses.salt;
    c->o.session_id = c->ses.session_id;
    if (c->ev_fail != MTP_OK)
        return fail(c, c->ev_fail, "%s: %s", step, c->ev_fail_msg);
    if (c->answer_in) {
        c->answer_in = false;
        c->req_pending = false;
    }
    return advance(c);
}

/* Fault accept-plain-after-key: an unencrypted message's body taken as a
 * message of the session (content-related, under its own msg_id). */
static int plain_as_message(struct mtpc_client *c, const uint8_t *p, size_t len)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    struct mtp_auth_plain pm;
    if (mtp_auth_plain_unwrap(p, len, &pm, &e) < 0 || pm.body_len % 4 != 0)
        return discard(c, MTP_ERR_CLIENT_UNEXPECTED, "%s: an unencrypted message of %zu bytes that does not parse",
                       mtpc_step_name(c->step), len);
    struct mtp_msg_header h = {.salt = c->ses.salt, .session_id = c->ses.session_id, .msg_id = (uint64_t)pm.msg_id,
                               .seqno = 1};
    mtp_wr_reset(&c->plain);
    c->plain.err = &e;
    int rc = mtp_msg_build(&c->plain, &h, pm.body, pm.body_len, mtp_msg_padding_len(pm.body_len, 0), &c->env);
    c->plain.err = NULL;
    if (rc < 0)
        return fail_err(c, rc, &e, "accept-plain-after-key");
    rc = take_plaintext(c, c->plain.p, c->plain.len);
    mtp_wipe(c->plain.p, c->plain.len);
    return rc;
}

static int on_packet(struct mtpc_client *c, const uint8_t *p, size_t len)
{
    const char *step = mtpc_step_name(c->step);
    /* description#unencrypted-message: only the key exchange travels in the
     * clear; once the key is in use a plaintext message has no place. */
    if (is_unencrypted(p, len)) {
        if (faulty(c, MTPC_FAULT_ACCEPT_PLAIN_AFTER_KEY))
            return plain_as_message(c, p, len);
        return discard(c, MTP_ERR_CLIENT_UNEXPECTED,
                       "%s: an unencrypted message (auth_key_id 0, %zu bytes) after the key exchange", step, len);
    }
    struct mtp_error e;
    mtp_error_clear(&e);
    mtp_wr_reset(&c->plain);
    c->plain.err = &e;
    int rc = mtp_msgcrypt_decrypt_skip(c->crypt, MTP_SENDER_SERVER, decrypt_skips(c), p, len, &c->plain, &e);
    c->plain.err = NULL;
    if (rc < 0 && is_check_failure(rc))
        return discard(c, rc, "%s: encrypted packet of %zu bytes: %s (%s)", step, len,
                       e.code != MTP_OK && e.msg[0] ? e.msg : mtp_err_text(rc), mtp_err_name(rc));
    if (rc < 0) {
        char doing[64];
        snprintf(doing, sizeof doing, "%s: encrypted packet of %zu bytes", step, len);
        return fail_err(c, rc, &e, doing);
    }
    rc = take_plaintext(c, c->plain.p, c->plain.len);
    mtp_wipe(c->plain.p, c->plain.len);
    return rc;
}

static const char *waiting_for(const struct mtpc_client *c);

/* mtproto-transports: -404 during the key exchange restarts it (REQUIREMENTS
 * C-HS-12), on a new connection since the server closes this one; -444 says
 * the DC id is wrong (a test DC id against production, or the reverse). */
static int transport_error(struct mtpc_client *c, int32_t code)
{
    const char *step = mtpc_step_name(c->step);
    if (code == MTP_TR_ERROR_BAD_DC)
        return fail(c, MTP_ERR_CLIENT_INVALID_DC,
                    "%s: transport error -444 (invalid DC id): the server does not serve DC %d (a test DC id, "
                    "+10000, against a production server or the reverse?) while waiting for %s",
                    step, (int)c->cfg.auth.dc, waiting_for(c));
    if (code == MTP_TR_ERROR_AUTH_KEY && c->step == MTPC_STEP_AUTH_KEY) {
        if (c->attempts < c->cfg.max_auth_attempts && !faulty(c, MTPC_FAULT_NO_RESTART_ON_404)) {
            c->reconnect = true;
            mtp_wr_reset(&c->out);
            c->out_pos = 0;
            return MTP_OK;
        }
        return fail(c, MTP_ERR_CLIENT_AUTH_RESTARTS,
                    "%s: transport error -404 (%s) while waiting for %s, on attempt %u of %u at the %skey exchange%s",
                    step, mtp_tr_error_name(code), waiting_for(c), c->attempts, c->cfg.max_auth_attempts,
                    c->cfg.pfs.enabled ? (c->temp_phase ? "temporary " : "permanent ") : "",
                    c->attempts > 1 ? " (each earlier attempt also ended with -404 and was restarted on a new "
                                      "connection)"
                                    : "");
    }
    return fail(c, MTP_ERR_CLIENT_TRANSPORT_ERROR, "%s: transport error %d (%s) while waiting for %s", step, (int)code,
                mtp_tr_error_name(code), waiting_for(c));
}

static int on_frame(struct mtpc_client *c, const struct mtp_tr_frame *f)
{
    struct mtp_tr_packet pk;
    struct mtp_error e;
    mtp_error_clear(&e);
    int rc = mtp_tr_sort_packet(c->tr.kind, MTP_TR_SERVER, f, &pk, &e);
    /* a packet too short for an auth_key_id goes on: the checks below drop it as they did */
    if (rc < 0 && rc != MTP_ERR_TR_SHORT_PACKET)
        return fail_err(c, rc, &e, "transport");
    if (pk.kind == MTP_TR_PKT_QUICK_ACK) {
        c->o.quick_acks++;
        trace(c, MTPC_IN, MTPC_TRACE_QUICK_ACK, 0, NULL, 0, (int32_t)pk.ack_token, NULL);
        if (c->ses_init)
            (void)mtp_session_quick_ack(&c->ses, pk.ack_token);
        return MTP_OK;
    }
    if (pk.kind == MTP_TR_PKT_TRANSPORT_ERROR) {
        trace(c, MTPC_IN, MTPC_TRACE_TRANSPORT, 0, pk.data, pk.len, pk.error_code, NULL);
        return transport_error(c, pk.error_code);
    }
    if (c->step == MTPC_STEP_AUTH_KEY)
        return on_plain(c, pk.data, pk.len);
    return on_packet(c, pk.data, pk.len);
}

/* ---- public calls ---- */

/* The transport connection, with a new obfuscated init unless the
 * configuration fixes one.  The init is made here rather than by the
 * connection so that the caller can log it (key logs) before it goes out. */
static int open_transport(struct mtpc_client *c, struct mtp_error *err)
{
    const struct mtpc_config *cfg = &c->cfg;
    int rc = MTP_OK;
    if (cfg->obfuscated) {
        if (cfg->obfs_init != NULL)
            memcpy(c->init, cfg->obfs_init, sizeof c->init);
        else
            rc = mtp_obfs_make_init(&c->env, cfg->kind, cfg->obfs_dc, c->init, err);
        if (faulty(c, MTPC_FAULT_OBFS_INIT_ZERO))
            memset(c->init + 4, 0, 4);
        c->have_init = true;
    }
    struct mtp_tr_conn_opts to = {
        .side = MTP_TR_CLIENT,
        .kind = cfg->kind,
        .obfuscated = cfg->obfuscated,
        .init = c->have_init ? c->init : NULL,
        .unchecked_init = faulty(c, MTPC_FAULT_OBFS_INIT_ZERO),
        .dc = cfg->obfs_dc,
        .secret = cfg->secret,
        .tr = {.max_frame = cfg->max_frame,
               .strict = cfg->strict_transport,
               .skip_crc = faulty(c, MTPC_FAULT_SKIP_TRANSPORT_CRC)},
        .env = &c->env,
    };
    if (rc == MTP_OK)
        rc = mtp_tr_conn_init(&c->tr, &to, err);
    return rc;
}

int mtpc_new(const struct mtpc_config *cfg, const struct mtp_env *env, struct mtpc_client **out,
             struct mtp_error *err)
{
    *out = NULL;
    if (cfg->obfuscated && mtp_tr_obfs_tag(cfg->kind) == 0)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "client: %s cannot be obfuscated",
                             mtp_tr_kind_name(cfg->kind));
    if (!cfg->obfuscated && cfg->secret.mode != MTP_OBFS_SECRET_NONE)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "client: an MTProxy secret needs an obfuscated transport");
    if (cfg->call != NULL && cfg->call_len < 4)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "client: the call has %zu bytes, not a TL object",
                             cfg->call_len);
    if (cfg->max_frame < 1024 || cfg->max_output < 4096)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "client: max_frame / max_output too small");
    if (cfg->max_auth_attempts < 1)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "client: max_auth_attempts must be at least 1");
    if (cfg->pfs.enabled && cfg->pfs.expires_in <= 0)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "client: a temporary key needs expires_in > 0, not %d",
                             (int)cfg->pfs.expires_in);
    size_t n = cfg->requests != NULL ? cfg->n_requests : (size_t)cfg->pings + (cfg->call != NULL);
    if (n > MTPC_MAX_REQUESTS)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "client: %zu requests, at most %d", n,
                             MTPC_MAX_REQUESTS);
    for (size_t i = 0; cfg->requests != NULL && i < n; i++) {
        const struct mtpc_request *rq = &cfg->requests[i];
        if (rq->kind != MTPC_REQ_PING && (rq->kind != MTPC_REQ_CALL || rq->body == NULL || rq->len < 4))
            return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET,
                                 "client: request %zu is neither a ping nor a call of at least 4 bytes", i);
    }
    struct mtpc_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "client: no memory");
    c->reqs = calloc(n ? n : 1, sizeof *c->reqs);
    c->answers = calloc(n ? n : 1, sizeof *c->answers);
    if (c->reqs == NULL || c->answers == NULL) {
        free(c->reqs);
        free(c->answers);
        free(c);
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "client: no memory");
    }
    c->n_reqs = n;
    if (cfg->requests != NULL) {
        memcpy(c->reqs, cfg->requests, n * sizeof *c->reqs);
    } else {
        for (unsigned i = 0; i < cfg->pings; i++)
            c->reqs[i].kind = MTPC_REQ_PING;
        if (cfg->call != NULL)
            c->reqs[n - 1] = (struct mtpc_request){MTPC_REQ_CALL, cfg->call, cfg->call_len};
    }
    c->o.answers = c->answers;
    c->o.n_answers = n;
    c->cfg = *cfg;
    c->env = *env;
    c->state = MTPC_RUNNING;
    c->step = MTPC_STEP_CONNECT;
    c->o.error_step = MTPC_STEP_CONNECT;
    apply_faults(c);
    mtp_msgid_gen_init(&c->ids);
    mtp_wr_init_dyn(&c->out, cfg->max_output, NULL);
    mtp_wr_init_dyn(&c->msg, cfg->max_frame + SCRATCH_SLACK, NULL);
    mtp_wr_init_dyn(&c->pkt, cfg->max_frame + 2 * SCRATCH_SLACK, NULL);
    mtp_wr_init_dyn(&c->plain, cfg->max_frame, NULL);
    if (cfg->pfs.enabled && cfg->pfs.perm_key != NULL) {
        /* An existing permanent key: only the temporary key is made. */
        memcpy(c->o.key.auth_key, cfg->pfs.perm_key, sizeof c->o.key.auth_key);
        mtp_auth_key_id(c->o.key.auth_key, c->o.key.auth_key_id);
        c->o.have_key = true;
        c->temp_phase = true;
    }
    int rc = open_transport(c, err);
    if (rc == MTP_OK)
        rc = new_auth(c, err);
    if (rc < 0) {
        mtpc_del(c);
        return rc;
    }
    *out = c;
    return MTP_OK;
}

void mtpc_del(struct mtpc_client *c)
{
    if (c == NULL)
        return;
    mtp_auth_client_del(c->auth);
    if (c->ses_init)
        mtp_session_free(&c->ses);
    mtp_msgcrypt_del(c->crypt);
    mtp_tr_conn_free(&c->tr);
    mtp_wr_free(&c->out);
    mtp_wr_free(&c->msg);
    mtp_wr_free(&c->pkt);
    mtp_wr_free(&c->plain);
    for (size_t i = 0; i < c->n_reqs; i++) {
        free((void *)c->answers[i].result);
        free((void *)c->answers[i].rpc_message);
    }
    free(c->answers);
    free(c->reqs);
    free(c->tapped);
    mtp_wipe(c, sizeof *c);
    free(c);
}

int mtpc_start(struct mtpc_client *c)
{
    if (c->state != MTPC_RUNNING || c->step != MTPC_STEP_CONNECT)
        return fail(c, MTP_ERR_ARG, "start: the run was already started");
    c->step = MTPC_STEP_AUTH_KEY;
    struct mtp_error e;
    mtp_error_clear(&e);
    int rc = mtp_tr_conn_start(&c->tr, &c->out, &e);
    if (rc < 0)
        return fail_err(c, rc, &e, "transport: start");
    return start_exchange(c);
}

bool mtpc_wants_reconnect(const struct mtpc_client *c) { return c->state == MTPC_RUNNING && c->reconnect; }

int mtpc_reconnect(struct mtpc_client *c)
{
    if (!mtpc_wants_reconnect(c))
        return fail(c, MTP_ERR_ARG, "reconnect: the run did not ask for a new connection");
    c->reconnect = false;
    mtp_wr_reset(&c->out);
    c->out_pos = 0;
    mtp_tr_conn_free(&c->tr);
    memset(&c->tr, 0, sizeof c->tr);
    struct mtp_error e;
    mtp_error_clear(&e);
    int rc = open_transport(c, &e);
    if (rc == MTP_OK)
        rc = mtp_tr_conn_start(&c->tr, &c->out, &e);
    if (rc < 0)
        return fail_err(c, rc, &e, "transport: a new connection");
    return start_exchange(c);
}

int mtpc_feed(struct mtpc_client *c, uint8_t *buf, size_t len)
{
    if (c->state != MTPC_RUNNING)
        return c->state == MTPC_FAILED ? c->o.error : MTP_OK;
    if (c->reconnect)
        return MTP_OK;
    if (c->step == MTPC_STEP_CONNECT)
        return fail(c, MTP_ERR_CLIENT_UNEXPECTED, "connect: the server sent %zu bytes before the client started", len);
    c->o.bytes_in += len;
    mtp_tr_conn_feed(&c->tr, buf, len);
    while (c->state == MTPC_RUNNING && !c->reconnect) {
        struct mtp_error e;
        mtp_error_clear(&e);
        struct mtp_tr_frame f;
        int rc = mtp_tr_conn_next(&c->tr, &f, &e);
        if (rc == MTP_ERR_NEED_MORE)
            break;
        if (rc < 0) {
            char doing[64];
            snprintf(doing, sizeof doing, "%s: transport", mtpc_step_name(c->step));
            return fail_err(c, rc, &e, doing);
        }
        (void)on_frame(c, &f);
    }
    return c->state == MTPC_FAILED ? c->o.error : MTP_OK;
}

static const char *waiting_for(const struct mtpc_client *c)
{
    switch (c->step) {
    case MTPC_STEP_CONNECT:
        return "the connection";
    case MTPC_STEP_AUTH_KEY:
        return auth_waiting_for(c);
    case MTPC_STEP_BIND:
        return "the answer to auth.bindTempAuthKey";
    case MTPC_STEP_PING:
        return "pong";
    case MTPC_STEP_CALL:
        return "the answer";
    default:
        return "nothing";
    }
}

void mtpc_peer_closed(struct mtpc_client *c)
{
    if (c->reconnect)
        return;
    (void)fail(c, MTP_ERR_CLIENT_PEER_CLOSED, "%s: the server closed the connection while the client waited for %s",
               mtpc_step_name(c->step), waiting_for(c));
}

void mtpc_timeout(struct mtpc_client *c, int64_t waited_ms)
{
    if (c->o.last_dropped != MTP_OK)
        (void)fail(c, MTP_ERR_TIMEOUT, "%s: still waiting for %s after %lld ms (the last message the client ignored: %s: %s)",
                   mtpc_step_name(c->step), waiting_for(c), (long long)waited_ms, mtp_err_name(c->o.last_dropped),
                   c->o.last_dropped_msg);
    else
        (void)fail(c, MTP_ERR_TIMEOUT, "%s: still waiting for %s after %lld ms", mtpc_step_name(c->step), waiting_for(c),
                   (long long)waited_ms);
}

int64_t mtpc_tick_in_ms(const struct mtpc_client *c)
{
    if (!c->ses_init || c->state != MTPC_RUNNING)
        return INT64_MAX;
    int64_t at = mtp_session_next_deadline(&c->ses);
    if (at == INT64_MAX)
        return INT64_MAX;
    int64_t now = mtp_env_now_ms(&c->env);
    return at <= now ? 0 : at - now;
}

int mtpc_tick(struct mtpc_client *c)
{
    if (!c->ses_init || c->state != MTPC_RUNNING)
        return c->state == MTPC_FAILED ? c->o.error : MTP_OK;
    mtp_session_tick(&c->ses);
    return flush(c);
}

const uint8_t *mtpc_output(const struct mtpc_client *c, size_t *len)
{
    *len = c->out.len - c->out_pos;
    return c->out.p ? c->out.p + c->out_pos : NULL;
}

void mtpc_output_done(struct mtpc_client *c, size_t n)
{
    size_t left = c->out.len - c->out_pos;
    if (n > left)
        n = left;
    c->out_pos += n;
    c->o.bytes_out += n;
    if (c->out_pos == c->out.len) {
        mtp_wr_reset(&c->out);
        c->out_pos = 0;
    } else if (c->out_pos > c->out.len / 2) {
        memmove(c->out.p, c->out.p + c->out_pos, c->out.len - c->out_pos);
        c->out.len -= c->out_pos;
        c->out_pos = 0;
    }
}

enum mtpc_state mtpc_state(const struct mtpc_client *c) { return c->state; }
enum mtpc_step mtpc_step(const struct mtpc_client *c) { return c->step; }
const struct mtpc_outcome *mtpc_outcome(const struct mtpc_client *c) { return &c->o; }
const uint8_t *mtpc_obfs_init(const struct mtpc_client *c) { return c->have_init ? c->init : NULL; }
enum mtp_auth_client_state mtpc_auth_state(const struct mtpc_client *c) { return mtp_auth_client_state(c->auth); }
struct mtp_session *mtpc_session(struct mtpc_client *c) { return c->ses_init ? &c->ses : NULL; }
