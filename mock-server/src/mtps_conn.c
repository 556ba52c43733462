/* One connection of the mock DC (see mtps_conn.h for the path of a frame). */
#include "mtps_conn.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/container.h"
#include "mtp/hex.h"
#include "mtp/service.h"
#include "mtp/transport.h"
#include "mtps_api.h"
#include "mtps_bind.h"
#include "mtps_conn_internal.h"
#include "mtps_pad.h"

#define MAX_NAMES 12
#define SCRATCH_KEEP (16u << 10) /* larger idle scratch buffers are given back after use */

static int64_t now_ms(const struct mtps_conn *c) { return mtps_conn_now(c); }
static const struct mtps_scenario *scen(const struct mtps_conn *c) { return mtps_conn_scen(c); }
static const struct mtps_limits *lim(const struct mtps_conn *c) { return &c->srv->limits; }
static const struct mtps_events *evs(const struct mtps_conn *c) { return mtps_conn_evs(c); }

/* --- closing --- */

static void vclose_as(struct mtps_conn *c, enum mtps_conn_state st, int reason, const char *fmt, va_list ap)
    MTP_PRINTF(4, 0);
static void vclose_as(struct mtps_conn *c, enum mtps_conn_state st, int reason, const char *fmt, va_list ap)
{
    if (c->state != MTPS_CONN_OPEN) {
        if (st == MTPS_CONN_CLOSED)
            c->state = MTPS_CONN_CLOSED;
        return;
    }
    c->state = st;
    c->reason = reason;
    c->closing_since_ms = now_ms(c);
    vsnprintf(c->reason_text, sizeof c->reason_text, fmt, ap);
}

void mtps_conn_close(struct mtps_conn *c, int reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vclose_as(c, MTPS_CONN_DRAIN, reason, fmt, ap);
    va_end(ap);
}

/* Without flushing: the output cannot or must not be sent any more. */
static void abort_conn(struct mtps_conn *c, int reason, const char *fmt, ...) MTP_PRINTF(3, 4);
static void abort_conn(struct mtps_conn *c, int reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vclose_as(c, MTPS_CONN_CLOSED, reason, fmt, ap);
    va_end(ap);
}

/* Writes one payload through the transport (no rules); fault: an s2c rule's
 * bad_crc / bad_seq (full transport), 0 for none. */
static void transmit_as(struct mtps_conn *c, const uint8_t *data, size_t len, int fault)
{
    if (c->state == MTPS_CONN_CLOSED)
        return;
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_tr_send m = {.data = data,
                            .len = len,
                            .abridged_long = scen(c)->abridged_long_form,
                            .full_bad_crc = fault == MTPS_DO_BAD_CRC,
                            .full_bad_seq = fault == MTPS_DO_BAD_SEQ};
    uint8_t pad[MTP_TR_PADDING_MAX + 1];
    if (c->tr.kind == MTP_TR_PADDED && mtp_env_rand(&c->srv->env, pad, sizeof pad) == MTP_OK) {
        /* pad[0] picks the length, the rest is the padding */
        m.padding_given = true;
        m.padding = pad + 1;
        m.padding_len = scen(c)->padding_min + pad[0] % (scen(c)->padding_max - scen(c)->padding_min + 1);
    }
    int rc = mtp_tr_conn_send(&c->tr, &m, &c->out, &err);
    if (rc == MTP_ERR_OVERFLOW || rc == MTP_ERR_NOMEM) {
        abort_conn(c, MTP_ERR_SRV_SLOW_READER, "more than %u bytes of output queued", lim(c)->max_output);
        return;
    }
    if (rc < 0) {
        abort_conn(c, rc, "cannot send: %s", err.msg);
        return;
    }
    c->frames_out++;
    c->srv->stats.frames_out++;
}

static void transmit(struct mtps_conn *c, const uint8_t *data, size_t len) { transmit_as(c, data, len, 0); }

void mtps_conn_transmit(struct mtps_conn *c, const uint8_t *data, size_t len) { transmit(c, data, len); }

/* Sends a transport error (when the transport is known) and closes. */
static void vfail_with(struct mtps_conn *c, int32_t code, int reason, const char *fmt, va_list ap) MTP_PRINTF(4, 0);
static void vfail_with(struct mtps_conn *c, int32_t code, int reason, const char *fmt, va_list ap)
{
    if (c->state != MTPS_CONN_OPEN)
        return;
    if (c->tr.state == MTP_TR_CONN_OPEN && c->tr.failed == MTP_OK) {
        uint8_t p[4];
        mtp_tr_error_payload(code, p);
        transmit(c, p, sizeof p);
        c->sent_error = code;
        json_t *o = mtps_ev_new(evs(c), "transport_error", c->id);
        json_object_set_new(o, "dir", json_string("s2c"));
        json_object_set_new(o, "code", json_integer(code));
        mtps_events_emit(evs(c), o);
        if (code == MTP_TR_ERROR_AUTH_KEY)
            c->srv->stats.errors_404++;
        else if (code == MTP_TR_ERROR_FLOOD)
            c->srv->stats.errors_429++;
    }
    vclose_as(c, MTPS_CONN_DRAIN, reason, fmt, ap);
}

static void fail_with(struct mtps_conn *c, int32_t code, int reason, const char *fmt, ...) MTP_PRINTF(4, 5);
static void fail_with(struct mtps_conn *c, int32_t code, int reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_with(c, code, reason, fmt, ap);
    va_end(ap);
}

void mtps_conn_fail(struct mtps_conn *c, int32_t code, int reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_with(c, code, reason, fmt, ap);
    va_end(ap);
}

/* --- names for rules --- */

static const char *ctor_name(const struct mtps_conn *c, uint32_t id, char buf[12])
{
    const struct mtp_tl_schema *s = mtps_api_log_schema(&c->srv->api);
    const struct mtp_tl_combinator *comb = s ? mtp_tl_find_id(s, id) : NULL;
    if (comb && comb->name)
        return comb->name;
    return mtp_svc_name(id, buf);
}

struct names {
    const char *v[MAX_NAMES];
    char bufs[MAX_NAMES][12];
    size_t n;
};

static void add_name(struct names *nm, const char *s)
{
    if (nm->n < MAX_NAMES)
        nm->v[nm->n++] = s;
}

static void add_ctor(const struct mtps_conn *c, struct names *nm, uint32_t id)
{
    if (nm->n < MAX_NAMES) {
        nm->v[nm->n] = ctor_name(c, id, nm->bufs[nm->n]);
        nm->n++;
    }
}

/* Constructors in one message body: itself, its nested messages (container),
 * and the result inside each rpc_result. */
static void body_names(const struct mtps_conn *c, struct names *nm, const uint8_t *body, size_t len, uint64_t msg_id,
                       int32_t seqno)
{
    struct mtp_rd r;
    mtp_rd_init(&r, body, len, NULL);
    uint32_t id;
    if (mtp_rd_peek_u32(&r, &id, "ctor") < 0)
        return;
    add_ctor(c, nm, id);
    if (id == MTP_SVC_rpc_result && len >= 16)
        add_ctor(c, nm, mtp_load_u32(body + 12));
    if (id != MTP_SVC_msg_container)
        return;
    struct mtp_container ct;
    struct mtp_container_limits cl = {MTP_CONTAINER_MAX_MSGS, SIZE_MAX};
    if (mtp_container_open(&ct, &r, msg_id, seqno, &cl) < 0)
        return;
    struct mtp_nested m;
    while (mtp_container_next(&ct, &m) == 1) {
        add_ctor(c, nm, m.ctor);
        if (m.ctor == MTP_SVC_rpc_result && mtp_rd_left(&m.body) >= 16)
            add_ctor(c, nm, mtp_load_u32(mtp_rd_cur(&m.body) + 12));
    }
}

/* The message body of an inner plaintext, bounded by the plaintext. */
static bool inner_body(const uint8_t *plain, size_t len, const uint8_t **body, size_t *blen)
{
    if (len < 32)
        return false;
    uint32_t n = mtp_load_u32(plain + 28);
    if (n > len - 32)
        return false;
    *body = plain + 32;
    *blen = n;
    return true;
}

/* --- the observation log --- */

/* A rule that fired, with what it does; the caller may add fields and emits it. */
static json_t *ev_rule_obj(const struct mtps_conn *c, const struct mtps_rule *r, const char *where)
{
    json_t *o = mtps_ev_new(evs(c), "rule", c->id);
    json_object_set_new(o, "at", json_string(where));
    json_object_set_new(o, "do", json_string(mtps_action_name(r->action)));
    json_object_set_new(o, "match", json_string(r->match[0] ? r->match : "*"));
    if (r->action == MTPS_DO_INJECT) {
        json_object_set_new(o, "mutation", json_string(mtps_mutation_name(r->mutation)));
        json_object_set_new(o, "carry", json_string(mtps_carry_name(r->carry)));
        json_object_set_new(o, "ms", json_integer(r->ms));
    } else if (r->action == MTPS_DO_PUSH) {
        json_object_set_new(o, "message", json_string(mtps_push_name(r->push)));
        if (r->push == MTPS_PUSH_BAD_MSG_NOTIFICATION)
            json_object_set_new(o, "code", json_integer(r->code));
        json_object_set_new(o, "ms", json_integer(r->ms));
    }
    return o;
}

json_t *mtps_conn_ev_rule(const struct mtps_conn *c, const struct mtps_rule *r, const char *where)
{
    return ev_rule_obj(c, r, where);
}

static void ev_rule(const struct mtps_conn *c, const struct mtps_rule *r, const char *where)
{
    mtps_events_emit(evs(c), ev_rule_obj(c, r, where));
}

/* An encrypted message in either direction, from its plaintext. */
static void ev_inner(const struct mtps_conn *c, const char *dir, const uint8_t *plain, size_t len, bool quick_ack)
{
    json_t *o = mtps_ev_new(evs(c), "msg", c->id);
    if (o == NULL)
        return;
    json_object_set_new(o, "dir", json_string(dir));
    json_object_set_new(o, "enc", json_true());
    if (quick_ack)
        json_object_set_new(o, "quick_ack", json_true());
    mtps_ev_set_inner(evs(c), o, c->key ? c->key->id : 0, plain, len);
    mtps_events_emit(evs(c), o);
}

/* An unencrypted (key-exchange) message in either direction. */
static void ev_plain(const struct mtps_conn *c, const char *dir, uint64_t msg_id, const uint8_t *body, size_t len)
{
    json_t *o = mtps_ev_new(evs(c), "msg", c->id);
    if (o == NULL)
        return;
    json_object_set_new(o, "dir", json_string(dir));
    json_object_set_new(o, "enc", json_false());
    mtps_ev_set_u64(o, "msg_id", msg_id);
    mtps_ev_set_body(evs(c), o, body, len, msg_id, 0);
    mtps_events_emit(evs(c), o);
}

static void ev_bad_packet(const struct mtps_conn *c, const char *what, int code, const char *text)
{
    json_t *o = mtps_ev_new(evs(c), "bad_packet", c->id);
    json_object_set_new(o, "what", json_string(what));
    json_object_set_new(o, "reason", json_string(mtp_err_name(code)));
    json_object_set_new(o, "text", json_string(text));
    mtps_events_emit(evs(c), o);
}

/* --- sending with the s2c rules --- */

static void queue_delayed(struct mtps_conn *c, const uint8_t *data, size_t len, int64_t ms, bool close_after)
{
    if (c->ndelayed == MTPS_CONN_MAX_DELAYED) {
        abort_conn(c, MTP_ERR_SRV_MEMORY, "more than %d delayed packets", MTPS_CONN_MAX_DELAYED);
        return;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL) {
        abort_conn(c, MTP_ERR_NOMEM, "out of memory for a delayed packet");
        return;
    }
    memcpy(copy, data, len);
    c->delayed[c->ndelayed++] = (struct mtps_delayed){now_ms(c) + ms, copy, len, close_after};
}

static void send_payload(struct mtps_conn *c, uint8_t *data, size_t len, const struct names *nm)
{
    if (c->state != MTPS_CONN_OPEN)
        return;
    const struct mtps_rule *r = NULL;
    if (scen(c)->nrules)
        r = mtps_rules_eval(scen(c), &c->rules, MTPS_AT_S2C_PACKET, nm->v, nm->n);
    if (r == NULL) {
        transmit(c, data, len);
        return;
    }
    mtps_logv(&c->srv->log, c->id, "rule: %s at s2c_packet (match \"%s\")", mtps_action_name(r->action), r->match);
    json_t *o = ev_rule_obj(c, r, "s2c_packet");
    bool encrypted = len > 8 && mtp_load_u64(data) != 0;
    bool full = c->tr.kind == MTP_TR_FULL;
    /* What the rule makes wrong, for reports that highlight it. */
    if (r->action == MTPS_DO_CORRUPT)
        json_object_set_new(o, "hostile", json_string(encrypted ? "msg_key" : "body"));
    else if ((r->action == MTPS_DO_BAD_CRC || r->action == MTPS_DO_BAD_SEQ) && full)
        json_object_set_new(o, "hostile", json_string(r->action == MTPS_DO_BAD_CRC ? "crc" : "seq"));
    else if (r->action == MTPS_DO_BAD_CRC || r->action == MTPS_DO_BAD_SEQ)
        json_object_set_new(o, "skipped", json_string("not the full transport"));
    mtps_events_emit(evs(c), o);
    switch (r->action) {
    case MTPS_DO_DROP:
        return;
    case MTPS_DO_DELAY:
        queue_delayed(c, data, len, r->ms, false);
        return;
    case MTPS_DO_CLOSE:
        mtps_conn_close(c, MTP_ERR_SRV_FAULT_CLOSE, "scenario rule: close instead of sending");
        return;
    case MTPS_DO_CLOSE_AFTER:
        transmit(c, data, len);
        mtps_conn_close(c, MTP_ERR_SRV_FAULT_CLOSE, "scenario rule: close after sending");
        return;
    case MTPS_DO_TRANSPORT_ERROR:
        fail_with(c, r->code, MTP_ERR_SRV_FAULT_CLOSE, "scenario rule: transport error %d", (int)r->code);
        return;
    case MTPS_DO_DUPLICATE:
        transmit(c, data, len);
        transmit(c, data, len);
        return;
    case MTPS_DO_CORRUPT:
        /* Encrypted: a bit of msg_key, so the client's msg_key check fails;
         * unencrypted: the last byte of the body. */
        if (encrypted)
            data[8] ^= 1;
        else if (len > 0)
            data[len - 1] ^= 1;
        transmit(c, data, len);
        return;
    case MTPS_DO_BAD_CRC:
    case MTPS_DO_BAD_SEQ:
        transmit_as(c, data, len, full ? r->action : 0);
        return;
    default:
        transmit(c, data, len);
        return;
    }
}

/* --- keys and sessions bound to the connection --- */

static void unbind_session(struct mtps_conn *c, struct mtps_sess *s)
{
    for (size_t i = 0; i < c->nsessions; i++)
        if (c->sessions[i] == s) {
            memmove(&c->sessions[i], &c->sessions[i + 1], (c->nsessions - i - 1) * sizeof c->sessions[0]);
            c->nsessions--;
            break;
        }
    if (s->conn == c)
        s->conn = NULL;
}

static void bind_session(struct mtps_conn *c, struct mtps_sess *s)
{
    if (s->conn != c) {
        if (s->conn)
            unbind_session(s->conn, s);
        if (c->nsessions == MTPS_CONN_MAX_SESSIONS)
            unbind_session(c, c->sessions[c->nsessions - 1]);
        s->conn = c;
    } else {
        unbind_session(c, s);
        s->conn = c;
    }
    memmove(&c->sessions[1], &c->sessions[0], c->nsessions * sizeof c->sessions[0]);
    c->sessions[0] = s;
    c->nsessions++;
    mtps_store_touch_session(&c->srv->store, s);
}

static void unbind_key(struct mtps_conn *c)
{
    while (c->nsessions)
        unbind_session(c, c->sessions[0]);
    if (c->key)
        c->key->refs--;
    c->key = NULL;
    mtp_msgcrypt_del(c->mc);
    c->mc = NULL;
}

static int bind_key(struct mtps_conn *c, struct mtps_key *k)
{
    mtps_store_touch_key(&c->srv->store, k);
    if (c->key == k)
        return MTP_OK;
    unbind_key(c);
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = mtp_msgcrypt_new(k->auth_key, &c->mc, &err);
    if (rc < 0)
        return rc;
    c->key = k;
    k->refs++;
    return MTP_OK;
}

/* --- encrypted output --- */

static void log_message(const struct mtps_conn *c, const char *dir, const uint8_t *plain, size_t len)
{
    if (!mtps_log_verbose(&c->srv->log))
        return;
    const uint8_t *body;
    size_t blen;
    if (!inner_body(plain, len, &body, &blen)) {
        mtps_logv(&c->srv->log, c->id, "%s enc (%zu bytes, no message)", dir, len);
        return;
    }
    char what[96];
    snprintf(what, sizeof what, "enc msg_id=%#" PRIx64 " seqno=%" PRId32, mtp_load_u64(plain + 16),
             (int32_t)mtp_load_u32(plain + 24));
    mtps_log_tl(&c->srv->log, c->id, dir, what, body, blen);
}

/* The salt the session's messages go out with (as the session core picks it). */
static uint64_t session_salt(const struct mtps_sess *s, int64_t now)
{
    const struct mtp_salts *salts = &s->key->salts;
    const struct mtp_salt_entry *e = mtp_salts_at(salts, now);
    if (e == NULL && salts->n > 0)
        e = &salts->e[salts->n - 1];
    return e ? e->salt : 0;
}

uint64_t mtps_conn_salt(const struct mtps_sess *s, int64_t now) { return session_salt(s, now); }

/* Logs, encrypts and sends the inner message in c->pkt through the s2c rules. */
static void send_inner(struct mtps_conn *c, struct mtps_sess *s)
{
    s->last_sent_msg_id = mtp_load_u64(c->pkt.p + 16);
    log_message(c, "s2c", c->pkt.p, c->pkt.len);
    ev_inner(c, "s2c", c->pkt.p, c->pkt.len, false);
    struct names nm = {.n = 0};
    if (scen(c)->nrules) {
        add_name(&nm, "encrypted");
        const uint8_t *body;
        size_t blen;
        if (inner_body(c->pkt.p, c->pkt.len, &body, &blen))
            body_names(c, &nm, body, blen, mtp_load_u64(c->pkt.p + 16), (int32_t)mtp_load_u32(c->pkt.p + 24));
    }
    struct mtp_error err;
    mtp_error_clear(&err);
    mtp_wr_reset(&c->plain);
    int rc = mtp_msgcrypt_encrypt(c->mc, MTP_SENDER_SERVER, c->pkt.p, c->pkt.len, &c->plain, &err);
    if (rc < 0) {
        abort_conn(c, rc, "cannot encrypt: %s", err.msg);
        return;
    }
    send_payload(c, c->plain.p, c->plain.len, &nm);
}

/* session.padding N: one msgs_ack (or a container of two) of the client's
 * message, long enough that it takes exactly N bytes of padding, for a
 * session whose answers never allowed N. */
static void send_filler(struct mtps_conn *c, struct mtps_sess *s)
{
    uint32_t n = scen(c)->padding_exact;
    int64_t now = now_ms(c);
    int32_t seqno = (int32_t)(2 * s->core.seq.content_count);
    uint64_t id1 = 0, id2 = 0;
    if (n % 16 == 0 || n % 16 == 8) {
        id1 = mtp_msgid_next(&s->core.ids, now, MTP_MSGID_SERVER_OTHER);
        id2 = mtp_msgid_next(&s->core.ids, now, MTP_MSGID_SERVER_OTHER);
    }
    uint64_t id = mtp_msgid_next(&s->core.ids, now, MTP_MSGID_SERVER_OTHER);
    uint8_t body[128];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, body, sizeof body, NULL);
    mtp_wr_reset(&c->pkt);
    if (mtps_pad_filler(n, c->last_c2s_msg_id, id1, id2, seqno, &w) < 0 ||
        mtps_pad_message(&c->pkt, session_salt(s, now), s->session_id, id, seqno, w.p, w.len, n, &c->srv->env) < 0) {
        mtps_log(&c->srv->log, c->id, "session %#" PRIx64 ": cannot make a padding filler", s->session_id);
        return;
    }
    s->exact_padding_sent = true;
    mtps_logv(&c->srv->log, c->id, "session %#" PRIx64 ": filler with exactly %u bytes of padding", s->session_id, n);
    send_inner(c, s);
}

static void flush_session(struct mtps_conn *c, struct mtps_sess *s)
{
    const struct mtps_scenario *sc = scen(c);
    bool sent = false;
    while (c->state == MTPS_CONN_OPEN && c->mc != NULL) {
        mtp_wr_reset(&c->pkt);
        int rc = mtp_session_flush(&s->core, &c->pkt);
        if (rc == 0)
            break;
        if (rc < 0) {
            mtps_log(&c->srv->log, c->id, "session %#" PRIx64 ": cannot flush: %s", s->session_id, mtp_err_name(rc));
            break;
        }
        if (sc->padding_policy != MTPS_PAD_RANDOM) {
            size_t pad = mtps_pad_len(sc->padding_policy, sc->padding_exact, mtp_load_u32(c->pkt.p + 28));
            s->exact_padding_sent |= sc->padding_policy == MTPS_PAD_EXACT && pad == sc->padding_exact;
            if (mtps_pad_apply(&c->pkt, pad, &c->srv->env) < 0) {
                abort_conn(c, MTP_ERR_INTERNAL, "cannot pad a message with %zu bytes", pad);
                break;
            }
        }
        send_inner(c, s);
        sent = true;
    }
    if (sent && sc->padding_policy == MTPS_PAD_EXACT && !s->exact_padding_sent && c->state == MTPS_CONN_OPEN &&
        c->mc != NULL)
        send_filler(c, s);
}

void mtps_conn_flush(struct mtps_conn *c, struct mtps_sess *s) { flush_session(c, s); }

/* --- session events --- */

static void on_destroy(struct mtps_conn *c, struct mtps_sess *s, const struct mtp_session_event *ev)
{
    uint64_t target = ev->value;
    bool destroyed = false;
    /* "The result of this being applied to the current session is undefined": kept. */
    if (target != s->session_id && mtps_store_find_session(s->key, target) != NULL &&
        !mtps_faulty(c->srv, MTPS_FAULT_DESTROY_SESSION_NONE)) {
        destroyed = true;
        bool listed = false;
        for (size_t i = 0; i < c->ndestroy; i++)
            listed |= c->destroy[i] == target;
        if (!listed && c->ndestroy < MTPS_CONN_MAX_DESTROY)
            c->destroy[c->ndestroy++] = target;
    }
    if (mtp_session_send_destroy_result(&s->core, ev->msg_id, target, destroyed) < 0)
        mtps_log(&c->srv->log, c->id, "destroy_session: cannot queue the answer");
}

void mtps_conn_session_event(struct mtps_server *srv, struct mtps_sess *s, const struct mtp_session_event *ev)
{
    struct mtps_conn *c = s->conn;
    if (c == NULL)
        return;
    const struct mtps_log *log = &srv->log;
    static const char *const kinds[] = {
        [MTP_SESSION_EV_BAD_MSG] = "bad_msg_notification", [MTP_SESSION_EV_BAD_SALT] = "bad_server_salt",
        [MTP_SESSION_EV_NEW_SESSION] = "new_session_created", [MTP_SESSION_EV_DROPPED] = "dropped",
        [MTP_SESSION_EV_DISCONNECT] = "ping_delay_disconnect", [MTP_SESSION_EV_DESTROY_SESSION] = "destroy_session",
    };
    if ((size_t)ev->type < sizeof kinds / sizeof kinds[0] && kinds[ev->type] != NULL) {
        /* What the server's session core decided about the client's messages. */
        json_t *o = mtps_ev_new(&srv->events, "session", c->id);
        json_object_set_new(o, "what", json_string(kinds[ev->type]));
        mtps_ev_set_wire64(o, "session_id", s->session_id);
        if (ev->type == MTP_SESSION_EV_DROPPED) {
            mtps_ev_set_u64(o, "msg_id", ev->msg_id);
            json_object_set_new(o, "reason", json_string(mtp_err_name(ev->code)));
            json_object_set_new(o, "text", json_string(ev->text ? ev->text : ""));
        } else if (ev->type == MTP_SESSION_EV_BAD_MSG || ev->type == MTP_SESSION_EV_BAD_SALT ||
                   ev->type == MTP_SESSION_EV_NEW_SESSION) {
            mtps_ev_set_u64(o, "ref_msg_id", ev->ref_msg_id);
            if (ev->type == MTP_SESSION_EV_BAD_MSG)
                json_object_set_new(o, "code", json_integer(ev->code));
        }
        mtps_events_emit(&srv->events, o);
    }
    if (ev->type == MTP_SESSION_EV_DEVIATION) {
        /* A rule the client broke that the server lets pass, as the real service does. */
        json_t *o = mtps_ev_new(&srv->events, "deviation", c->id);
        json_object_set_new(o, "requirement",
                            json_string(ev->code == MTP_ERR_SES_MSG_ID_ZERO_LOW ? "C-SES-23" : "C-SES-26"));
        json_object_set_new(o, "what", json_string(ev->text ? ev->text : ""));
        mtps_ev_set_wire64(o, "session_id", s->session_id);
        mtps_ev_set_u64(o, "msg_id", ev->msg_id);
        json_object_set_new(o, "seqno", json_integer(ev->seqno));
        json_object_set_new(o, "strict", json_string(ev->value ? "bad_msg_notification" : "ignored"));
        if (ev->value)
            json_object_set_new(o, "code", json_integer((json_int_t)ev->value));
        mtps_events_emit(&srv->events, o);
        mtps_logv(log, c->id, "session %#" PRIx64 ": tolerated: %s (msg_id %#" PRIx64 ")", s->session_id,
                  ev->text ? ev->text : "", ev->msg_id);
    }
    switch (ev->type) {
    case MTP_SESSION_EV_MESSAGE:
        mtps_rpc_on_call(c, s, ev);
        break;
    case MTP_SESSION_EV_DESTROY_SESSION:
        on_destroy(c, s, ev);
        break;
    case MTP_SESSION_EV_DISCONNECT:
        mtps_conn_close(c, MTP_ERR_SRV_PING_DISCONNECT, "ping_delay_disconnect expired");
        break;
    case MTP_SESSION_EV_BAD_MSG:
        mtps_logv(log, c->id, "session %#" PRIx64 ": bad_msg_notification %d (%s) for msg_id %#" PRIx64, s->session_id,
                  (int)ev->code, mtp_bad_msg_code_text(ev->code) ? mtp_bad_msg_code_text(ev->code) : "?",
                  ev->ref_msg_id);
        break;
    case MTP_SESSION_EV_BAD_SALT:
        mtps_logv(log, c->id, "session %#" PRIx64 ": bad_server_salt for msg_id %#" PRIx64 ", salt now %#" PRIx64,
                  s->session_id, ev->ref_msg_id, ev->value);
        break;
    case MTP_SESSION_EV_NEW_SESSION:
        mtps_logv(log, c->id, "session %#" PRIx64 ": new_session_created first_msg_id=%#" PRIx64, s->session_id,
                  ev->ref_msg_id);
        break;
    case MTP_SESSION_EV_DROPPED:
        mtps_logv(log, c->id, "session %#" PRIx64 ": ignored msg_id %#" PRIx64 ": %s (%s)", s->session_id, ev->msg_id,
                  mtp_err_name(ev->code), ev->text ? ev->text : "");
        break;
    case MTP_SESSION_EV_HTTP_WAIT:
        mtps_logv(log, c->id, "session %#" PRIx64 ": http_wait ignored (TCP transport)", s->session_id);
        break;
    default:
        break;
    }
}

/* --- received frames --- */

static bool apply_c2s_rule(struct mtps_conn *c, const struct mtps_rule *r, const char *where)
{
    if (r == NULL)
        return false;
    mtps_logv(&c->srv->log, c->id, "rule: %s at %s (match \"%s\")", mtps_action_name(r->action), where, r->match);
    ev_rule(c, r, where);
    switch (r->action) {
    case MTPS_DO_DROP:
        return true;
    case MTPS_DO_CLOSE:
        mtps_conn_close(c, MTP_ERR_SRV_FAULT_CLOSE, "scenario rule: close at %s", where);
        return true;
    case MTPS_DO_TRANSPORT_ERROR:
        fail_with(c, r->code, MTP_ERR_SRV_FAULT_CLOSE, "scenario rule: transport error %d at %s", (int)r->code, where);
        return true;
    default:
        return false;
    }
}

static bool key_exists(void *ctx, const uint8_t id[MTP_AUTH_KEY_ID_BYTES])
{
    struct mtps_server *srv = ctx;
    return mtps_store_find_key(&srv->store, mtps_key_id_u64(id)) != NULL;
}

static struct mtp_auth_server_config auth_config(const struct mtps_conn *c)
{
    struct mtp_auth_server_config cfg = c->srv->auth.cfg;
    cfg.keys = c->srv->rsa_keys;
    cfg.n_keys = 1;
    cfg.dc = c->srv->auth.dc_check ? c->dc : 0;
    cfg.key_exists = key_exists;
    cfg.key_exists_ctx = c->srv;
    return cfg;
}

static void new_key(struct mtps_conn *c, const struct mtp_auth_result *res)
{
    struct mtps_server *srv = c->srv;
    /* api/pfs: expires_at = server_time + expires_in, saturated: a client may
     * ask for any positive int32 lifetime, and the sum must not wrap into the past. */
    int64_t until = res->temp ? (int64_t)res->server_time + res->expires_in : 0;
    int32_t expires_at = until > INT32_MAX ? INT32_MAX : (int32_t)until;
    struct mtps_key *k;
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = mtps_store_add_key(&srv->store, res->auth_key, res->temp, expires_at, mtp_load_u64(res->server_salt),
                                &k, &err);
    if (rc < 0) {
        mtps_log(&srv->log, c->id, "auth key %016" PRIx64 " not stored: %s", mtp_load_u64(res->auth_key_id), err.msg);
        return;
    }
    srv->stats.keys_created++;
    json_t *o = mtps_ev_new(&srv->events, "key", c->id);
    if (o) {
        mtps_ev_set_wire64(o, "auth_key_id", k->id);
        json_object_set_new(o, "temp", json_boolean(res->temp));
        if (res->temp)
            json_object_set_new(o, "expires_at", json_integer(expires_at));
        json_object_set_new(o, "first_byte", json_integer(res->auth_key[0]));
        mtps_ev_set_hex(o, "server_salt", res->server_salt, 8);
        json_object_set_new(o, "retries", json_integer(res->retries));
        json_t *ids = json_array();
        for (size_t i = 0; i < c->hs.nretry_ids; i++) {
            char hex[17];
            mtp_hex_encode(c->hs.retry_ids[i], 8, hex);
            json_array_append_new(ids, json_string(hex));
        }
        json_object_set_new(o, "retry_ids", ids);
        json_object_set_new(o, "retry_ids_ok", json_boolean(c->hs.retry_ids_ok));
        json_object_set_new(o, "rsa", json_string(mtp_auth_rsa_scheme_name(res->rsa_scheme)));
        json_object_set_new(o, "inner", json_string(mtp_auth_inner_form_name(res->inner_form)));
        json_object_set_new(o, "req_pq_multi", json_boolean(res->req_pq_multi));
        mtps_events_emit(&srv->events, o);
    }
    mtp_keylog_auth_key(&srv->keylog, res->auth_key_id, res->auth_key, res->temp, expires_at);
    mtp_keylog_auth_key(&srv->keysfile, res->auth_key_id, res->auth_key, res->temp, expires_at);
    char fp[17];
    mtps_fingerprint_hex(res->fingerprint, fp);
    mtps_log(&srv->log, c->id, "auth key %016" PRIx64 " created (%s%s, %s, inner %s, dc %d, %u retries)",
             k->id, res->temp ? "temporary" : "permanent", res->req_pq_multi ? "" : ", old req_pq",
             mtp_auth_rsa_scheme_name(res->rsa_scheme), mtp_auth_inner_form_name(res->inner_form), (int)res->dc,
             res->retries);
}

/* What the exchange did that the log reports: g_a once sent (its leading
 * zero bytes are a legitimate edge), and each set_client_DH_params with the
 * retry_id the client sent and the one it should have sent. */
static void ev_exchange(struct mtps_conn *c)
{
    size_t n;
    const uint8_t *g_a = mtps_hs_new_g_a(&c->hs, &n);
    if (g_a != NULL) {
        json_t *o = mtps_ev_new(evs(c), "dh_params", c->id);
        size_t zeros = 0;
        while (zeros < n && g_a[zeros] == 0)
            zeros++;
        json_object_set_new(o, "g_a_len", json_integer((json_int_t)n));
        json_object_set_new(o, "g_a_leading_zero_bytes", json_integer((json_int_t)zeros));
        mtps_ev_set_hex(o, "g_a", g_a, n);
        mtps_events_emit(evs(c), o);
    }
    const struct mtp_auth_server_attempt *at = mtps_hs_new_attempt(&c->hs);
    if (at != NULL) {
        static const char *const answers[] = {"refused", "dh_gen_ok", "dh_gen_retry", "dh_gen_fail"};
        json_t *o = mtps_ev_new(evs(c), "dh_attempt", c->id);
        json_object_set_new(o, "attempt", json_integer(at->n));
        mtps_ev_set_hex(o, "retry_id", at->retry_id, 8);
        mtps_ev_set_hex(o, "retry_id_expected", at->expected, 8);
        json_object_set_new(o, "retry_id_ok", json_boolean(at->retry_id_ok));
        mtps_ev_set_hex(o, "g_b_sha256", at->g_b_sha256, sizeof at->g_b_sha256);
        json_object_set_new(o, "answer", json_string(answers[at->answer >= 0 && at->answer <= 3 ? at->answer : 0]));
        if (at->have_key)
            json_object_set_new(o, "key_first_byte", json_integer(at->key_first_byte));
        mtps_events_emit(evs(c), o);
    }
}

static void on_plain(struct mtps_conn *c, const uint8_t *data, size_t len)
{
    struct mtps_server *srv = c->srv;
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_auth_plain pm;
    int rc = mtp_auth_plain_unwrap(data, len, &pm, &err);
    if (rc == MTP_OK)
        rc = mtp_auth_msg_id_check(pm.msg_id, false, &err);
    if (rc < 0) {
        ev_bad_packet(c, "unencrypted message", rc, err.msg);
        fail_with(c, MTP_TR_ERROR_AUTH_KEY, MTP_ERR_SRV_BAD_PACKET, "unencrypted message: %s", err.msg);
        return;
    }
    ev_plain(c, "c2s", (uint64_t)pm.msg_id, pm.body, pm.body_len);
    if (mtps_log_verbose(&srv->log)) {
        char what[48];
        snprintf(what, sizeof what, "plain msg_id=%#" PRIx64, (uint64_t)pm.msg_id);
        mtps_log_tl(&srv->log, c->id, "c2s", what, pm.body, pm.body_len);
    }
    struct mtp_auth_server_config cfg = auth_config(c);
    struct mtp_auth_result res;
    bool done = false;
    mtp_wr_reset(&c->pkt);
    if (mtps_faulty(srv, MTPS_FAULT_EXECUTE_PLAIN) && mtps_fault_plain_pong(pm.body, pm.body_len, &c->pkt))
        goto answer;
    rc = mtps_hs_recv(&c->hs, &srv->auth, &cfg, &srv->env, pm.body, pm.body_len, &c->pkt, &done, &res, &err);
    ev_exchange(c);
    uint8_t nonce[16], server_nonce[16], new_nonce[32];
    if (mtps_hs_new_nonces(&c->hs, nonce, server_nonce, new_nonce))
        mtp_keylog_new_nonce(&srv->keylog, nonce, server_nonce, new_nonce);
    mtp_wipe(new_nonce, sizeof new_nonce);
    if (rc < 0) {
        ev_bad_packet(c, "auth-key exchange", rc, err.msg);
        if (mtps_faulty(srv, MTPS_FAULT_IGNORE_BAD_HANDSHAKE))
            return;
        fail_with(c, MTP_TR_ERROR_AUTH_KEY, MTP_ERR_SRV_HANDSHAKE, "auth-key exchange: %s: %s", mtp_err_name(rc),
                  err.msg);
        return;
    }
answer:
    if (c->pkt.len > 0) {
        mtp_wr_reset(&c->plain);
        if (mtp_auth_plain_wrap_next(&c->plain, &c->plain_ids, &srv->env, true, c->pkt.p, c->pkt.len) < 0) {
            abort_conn(c, MTP_ERR_INTERNAL, "cannot wrap an unencrypted answer");
            return;
        }
        ev_plain(c, "s2c", mtp_load_u64(c->plain.p + 8), c->pkt.p, c->pkt.len);
        if (mtps_log_verbose(&srv->log)) {
            char what[48];
            snprintf(what, sizeof what, "plain msg_id=%#" PRIx64, mtp_load_u64(c->plain.p + 8));
            mtps_log_tl(&srv->log, c->id, "s2c", what, c->pkt.p, c->pkt.len);
        }
        struct names nm = {.n = 0};
        if (scen(c)->nrules) {
            add_name(&nm, "plain");
            add_ctor(c, &nm, mtp_load_u32(c->pkt.p));
        }
        send_payload(c, c->plain.p, c->plain.len, &nm);
    }
    if (done)
        new_key(c, &res);
    mtp_wipe(&res, sizeof res);
}

static void destroy_pending(struct mtps_conn *c)
{
    for (size_t i = 0; i < c->ndestroy; i++) {
        struct mtps_sess *o = c->key ? mtps_store_find_session(c->key, c->destroy[i]) : NULL;
        if (o == NULL)
            continue;
        if (o->conn)
            unbind_session(o->conn, o);
        mtps_logv(&c->srv->log, c->id, "session %#" PRIx64 " destroyed on request", o->session_id);
        mtps_store_drop_session(&c->srv->store, o);
    }
    c->ndestroy = 0;
}

static void on_encrypted(struct mtps_conn *c, const uint8_t *data, size_t len, bool quick_ack)
{
    struct mtps_server *srv = c->srv;
    uint64_t id = mtp_load_u64(data);
    struct mtps_key *k = mtps_store_find_key(&srv->store, id);
    if (k && k->temp && k->refs == 0 && mtp_env_now_ms(&srv->env) / 1000 >= k->expires_at) {
        /* An expired temporary key is forgotten, as if it had never existed. */
        mtps_log(&srv->log, c->id, "temporary auth key %016" PRIx64 " expired", id);
        mtps_store_drop_key(&srv->store, k);
        k = NULL;
    }
    if (k == NULL) {
        json_t *o = mtps_ev_new(evs(c), "unknown_key", c->id);
        mtps_ev_set_wire64(o, "auth_key_id", id);
        mtps_events_emit(evs(c), o);
        if (mtps_faulty(srv, MTPS_FAULT_UNKNOWN_KEY_SILENT))
            return;
        fail_with(c, MTP_TR_ERROR_AUTH_KEY, MTP_ERR_SRV_UNKNOWN_KEY, "auth_key_id %016" PRIx64 " is not known", id);
        return;
    }
    int rc = bind_key(c, k);
    if (rc < 0) {
        abort_conn(c, rc, "cannot set up the key's cipher");
        return;
    }
    struct mtp_error err;
    mtp_error_clear(&err);
    mtp_wr_reset(&c->plain);
    if (mtps_faulty(srv, MTPS_FAULT_EARLY_LENGTH_CHECK) && mtps_fault_early_length_reject(k->auth_key, data, len))
        rc = mtp_error_set(&err, MTP_ERR_BAD_MESSAGE_LENGTH, 28, "message_data_length: beyond the packet");
    else if (srv->faults)
        rc = mtps_fault_decrypt(srv->faults, c->mc, k->auth_key, data, len, &c->plain, &err);
    else
        rc = mtp_msgcrypt_decrypt(c->mc, MTP_SENDER_CLIENT, data, len, &c->plain, &err);
    if (rc < 0) {
        ev_bad_packet(c, "encrypted message", rc, err.msg);
        if (scen(c)->bad_packet_closes)
            fail_with(c, MTP_TR_ERROR_AUTH_KEY, MTP_ERR_SRV_BAD_PACKET, "encrypted message: %s", err.msg);
        else
            mtps_logv(&srv->log, c->id, "encrypted message ignored: %s", err.msg);
        return;
    }
    const uint8_t *plain = c->plain.p;
    size_t plen = c->plain.len;
    log_message(c, "c2s", plain, plen);
    ev_inner(c, "c2s", plain, plen, quick_ack);
    if (scen(c)->nrules) {
        struct names nm = {.n = 0};
        const uint8_t *body;
        size_t blen;
        if (inner_body(plain, plen, &body, &blen))
            body_names(c, &nm, body, blen, mtp_load_u64(plain + 16), (int32_t)mtp_load_u32(plain + 24));
        const struct mtps_rule *r = mtps_rules_eval(scen(c), &c->rules, MTPS_AT_C2S_MESSAGE, nm.v, nm.n);
        if (r && r->action == MTPS_DO_BAD_SALT) {
            mtps_logv(&srv->log, c->id, "rule: bad_salt at c2s_message (match \"%s\")", r->match);
            if (mtps_key_rotate_salt(&srv->store, k) < 0) {
                abort_conn(c, MTP_ERR_INTERNAL, "no randomness for a salt");
                return;
            }
        } else if (apply_c2s_rule(c, r, "c2s_message")) {
            return;
        }
    }
    struct mtps_sess *s;
    bool created;
    mtp_error_clear(&err);
    rc = mtps_store_session(&srv->store, k, mtp_load_u64(plain + 8), &s, &created, &err);
    if (rc < 0) {
        fail_with(c, MTP_TR_ERROR_FLOOD, rc, "%s", err.msg);
        return;
    }
    bind_session(c, s);
    if (quick_ack && scen(c)->quick_ack) {
        uint32_t token;
        mtp_error_clear(&err);
        enum mtp_tr_side dir = mtps_faulty(srv, MTPS_FAULT_WRONG_QUICK_ACK) ? MTP_TR_SERVER : MTP_TR_CLIENT;
        if (mtp_tr_quick_ack_compute(k->auth_key, dir, plain, plen, &token) == MTP_OK &&
            mtp_tr_conn_send_ack(&c->tr, token, &c->out, &err) == MTP_OK) {
            mtps_logv(&srv->log, c->id, "s2c quick ack %08" PRIx32, token);
            json_t *o = mtps_ev_new(evs(c), "quick_ack", c->id);
            json_object_set_new(o, "dir", json_string("s2c"));
            char tok[9];
            snprintf(tok, sizeof tok, "%08" PRIx32, token);
            json_object_set_new(o, "token", json_string(tok));
            mtps_events_emit(evs(c), o);
        }
    }
    c->cur = s;
    c->last_c2s_msg_id = mtp_load_u64(plain + 16);
    mtp_error_clear(&err);
    rc = mtps_sess_recv(s, plain, plen, &err);
    c->cur = NULL;
    if (rc == MTP_ERR_SES_FLOOD) {
        fail_with(c, MTP_TR_ERROR_FLOOD, MTP_ERR_SRV_FLOOD, "session: %s", err.msg);
        return;
    }
    if (rc < 0)
        mtps_logv(&srv->log, c->id, "session %#" PRIx64 ": message ignored: %s: %s", s->session_id, mtp_err_name(rc),
                  err.msg);
    destroy_pending(c);
    if (s->conn == c)
        flush_session(c, s);
    mtps_rpc_send_injections(c);
    mtps_rpc_release_answers(c);
}

/* Flood control: counts per connection and interval. */
static bool flooded(struct mtps_conn *c, uint32_t packets, size_t bytes)
{
    const struct mtps_limits *l = lim(c);
    if (l->flood_packets == 0 && l->flood_bytes == 0)
        return false;
    int64_t now = now_ms(c);
    if (now - c->flood_window_ms >= l->flood_interval_ms) {
        c->flood_window_ms = now;
        c->flood_packets = 0;
        c->flood_bytes = 0;
    }
    c->flood_packets += packets;
    c->flood_bytes += bytes;
    if (l->flood_packets && c->flood_packets > l->flood_packets) {
        fail_with(c, MTP_TR_ERROR_FLOOD, MTP_ERR_SRV_FLOOD, "more than %u packets in %lld ms", l->flood_packets,
                  (long long)l->flood_interval_ms);
        return true;
    }
    if (l->flood_bytes && c->flood_bytes > l->flood_bytes) {
        fail_with(c, MTP_TR_ERROR_FLOOD, MTP_ERR_SRV_FLOOD, "more than %llu bytes in %lld ms",
                  (unsigned long long)l->flood_bytes, (long long)l->flood_interval_ms);
        return true;
    }
    return false;
}

static void on_frame(struct mtps_conn *c, const struct mtp_tr_frame *f)
{
    struct mtps_server *srv = c->srv;
    c->frames_in++;
    srv->stats.frames_in++;
    c->last_frame_ms = now_ms(c);
    if (flooded(c, 1, 0))
        return;
    struct mtp_tr_packet pk;
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtp_tr_sort_packet(c->tr.kind, MTP_TR_CLIENT, f, &pk, &err) < 0) {
        fail_with(c, MTP_TR_ERROR_AUTH_KEY, MTP_ERR_SRV_BAD_PACKET, "%s%s",
                  err.code == MTP_ERR_TR_BAD_LENGTH ? "padded frame: " : "", err.msg);
        return;
    }
    bool plain = pk.kind == MTP_TR_PKT_PLAIN;
    if (scen(c)->nrules) {
        const char *nm[1] = {plain ? "plain" : "encrypted"};
        if (apply_c2s_rule(c, mtps_rules_eval(scen(c), &c->rules, MTPS_AT_C2S_PACKET, nm, 1), "c2s_packet"))
            return;
    }
    if (plain)
        on_plain(c, pk.data, pk.len);
    else
        on_encrypted(c, pk.data, pk.len, pk.quick_ack);
}

/* Logged once, when the transport becomes known. */
static void transport_known(struct mtps_conn *c)
{
    struct mtps_server *srv = c->srv;
    c->tr_known = true;
    if (c->tr.obfuscated) {
        struct mtp_obfs_keys keys;
        if (c->tr.det.have == MTP_OBFS_INIT_LEN &&
            mtp_obfs_derive(c->tr.det.buf, &srv->secret, MTP_TR_SERVER, &keys) == MTP_OK)
            mtp_keylog_obfs2(&srv->keylog, c->tr.det.buf, &keys);
        mtp_wipe(&keys, sizeof keys);
    }
    json_t *o = mtps_ev_new(&srv->events, "transport", c->id);
    if (o) {
        json_object_set_new(o, "transport", json_string(mtp_tr_kind_name(c->tr.kind)));
        json_object_set_new(o, "obfuscated", json_boolean(c->tr.obfuscated));
        if (c->tr.obfuscated) {
            json_object_set_new(o, "dc_field", json_integer(c->tr.dc));
            if (c->tr.det.have == MTP_OBFS_INIT_LEN)
                mtps_ev_set_hex(o, "init", c->tr.det.buf, MTP_OBFS_INIT_LEN);
        }
        mtps_events_emit(&srv->events, o);
    }
    if (mtps_faulty(srv, MTPS_FAULT_ECHO_TRANSPORT_TAG) && !c->tr.obfuscated && c->tr.kind != MTP_TR_FULL) {
        uint8_t tag[4];
        mtp_store_u32(tag, mtp_tr_obfs_tag(c->tr.kind));
        if (mtp_wr_raw(&c->out, tag, c->tr.kind == MTP_TR_ABRIDGED ? 1 : 4) < 0)
            abort_conn(c, MTP_ERR_INTERNAL, "cannot queue the echoed tag");
    }
    mtps_logv(&srv->log, c->id, "transport %s%s (dc field %d)", mtp_tr_kind_name(c->tr.kind),
              c->tr.obfuscated ? ", obfuscated2" : "", (int)c->tr.dc);
    if (c->refuse_code)
        fail_with(c, c->refuse_code, c->refuse_code == MTP_TR_ERROR_FLOOD ? MTP_ERR_SRV_FLOOD : MTP_ERR_SRV_CONN_LIMIT,
                  "refused: %s", c->refuse_code == MTP_TR_ERROR_FLOOD ? "too many connections from this address"
                                                                      : "too many connections");
}

static bool mid_frame(const struct mtps_conn *c)
{
    if (c->tr.state == MTP_TR_CONN_DETECTING)
        return c->tr.det.have > 0;
    return c->tr.dec.hdr_have > 0 || c->tr.dec.in_body;
}

/* --- memory --- */

static void trim(struct mtp_wr *w, size_t max)
{
    if (w->len == 0 && w->cap > SCRATCH_KEEP) {
        mtp_wr_free(w);
        mtp_wr_init_dyn(w, max, NULL);
    }
}

static void account(struct mtps_conn *c)
{
    trim(&c->plain, c->plain.max);
    trim(&c->pkt, c->pkt.max);
    uint64_t m = c->out.cap + c->plain.cap + c->pkt.cap + c->queued_elsewhere;
    if (c->tr.state == MTP_TR_CONN_OPEN)
        m += c->tr.dec.buf.cap;
    for (size_t i = 0; i < c->ndelayed; i++)
        m += c->delayed[i].len;
    for (size_t i = 0; i < c->npending; i++)
        m += c->pending[i].len;
    struct mtps_server *srv = c->srv;
    srv->mem_used = srv->mem_used - c->mem_accounted + m;
    c->mem_accounted = m;
    if (c->state != MTPS_CONN_CLOSED && srv->mem_used > lim(c)->max_memory && m > SCRATCH_KEEP)
        abort_conn(c, MTP_ERR_SRV_MEMORY, "the server's buffers would take %llu bytes (limit %llu)",
                   (unsigned long long)srv->mem_used, (unsigned long long)lim(c)->max_memory);
}

/* --- the public calls --- */

int mtps_conn_init(struct mtps_conn *c, struct mtps_server *srv, int32_t dc, const char *peer, int32_t refuse_code,
                   struct mtp_error *err)
{
    memset(c, 0, sizeof *c);
    c->srv = srv;
    c->dc = dc;
    c->id = ++srv->next_conn_id;
    snprintf(c->peer, sizeof c->peer, "%s", peer ? peer : "?");
    c->refuse_code = refuse_code;
    c->rules.shared = &srv->rules;
    mtp_msgid_gen_init(&c->plain_ids);
    struct mtp_tr_conn_opts o = {
        .side = MTP_TR_SERVER,
        .secret = srv->secret,
        .require_obfs = srv->scenario->require_obfs,
        .secret_optional = mtps_faulty(srv, MTPS_FAULT_SECRET_OPTIONAL),
        .tr = {.max_frame = mtps_faulty(srv, MTPS_FAULT_NO_FRAME_LIMIT) ? 0x7fffffffu : srv->limits.max_frame,
               .skip_crc = mtps_faulty(srv, MTPS_FAULT_SKIP_TRANSPORT_CRC)},
        .env = &srv->env,
    };
    MTP_GUARD(mtp_tr_conn_init(&c->tr, &o, err));
    size_t scratch = (srv->limits.max_frame > srv->scenario->session.max_body ? srv->limits.max_frame
                                                                                : srv->scenario->session.max_body) +
                     8192;
    mtp_wr_init_dyn(&c->out, srv->limits.max_output, NULL);
    mtp_wr_init_dyn(&c->plain, scratch, NULL);
    mtp_wr_init_dyn(&c->pkt, scratch, NULL);
    c->state = MTPS_CONN_OPEN;
    c->opened_ms = c->last_frame_ms = c->flood_window_ms = now_ms(c);
    srv->nconns++;
    srv->stats.conns_opened++;
    mtps_log(&srv->log, c->id, "open from %s on dc %d", c->peer, (int)dc);
    json_t *ev = mtps_ev_new(&srv->events, "open", c->id);
    json_object_set_new(ev, "peer", json_string(c->peer));
    json_object_set_new(ev, "dc", json_integer(dc));
    mtps_events_emit(&srv->events, ev);
    return MTP_OK;
}

void mtps_conn_feed(struct mtps_conn *c, uint8_t *buf, size_t len)
{
    if (c->state != MTPS_CONN_OPEN || len == 0)
        return;
    if (c->first_len < sizeof c->first) {
        size_t k = len < sizeof c->first - c->first_len ? len : sizeof c->first - c->first_len;
        memcpy(c->first + c->first_len, buf, k);
        c->first_len += k;
    }
    c->bytes_in += len;
    c->srv->stats.bytes_in += len;
    if (flooded(c, 0, len)) {
        account(c);
        return;
    }
    uint64_t frames_before = c->frames_in;
    mtp_tr_conn_feed(&c->tr, buf, len);
    while (c->state == MTPS_CONN_OPEN) {
        struct mtp_tr_frame f;
        struct mtp_error err;
        mtp_error_clear(&err);
        int rc = mtp_tr_conn_next(&c->tr, &f, &err);
        if (!c->tr_known && c->tr.state == MTP_TR_CONN_OPEN)
            transport_known(c);
        if (c->state != MTPS_CONN_OPEN || rc == MTP_ERR_NEED_MORE)
            break;
        if (rc < 0) {
            mtps_conn_close(c, rc, "transport: %s", err.msg);
            break;
        }
        on_frame(c, &f);
    }
    /* The clock of a frame starts at its first byte (the transport header
     * belongs to the first frame) and stops when a frame completes. */
    bool completed = c->frames_in != frames_before;
    if (mid_frame(c)) {
        if (c->partial_since_ms == 0 || completed)
            c->partial_since_ms = now_ms(c);
    } else if (completed) {
        c->partial_since_ms = 0;
    } else if (c->partial_since_ms == 0) {
        c->partial_since_ms = now_ms(c);
    }
    account(c);
}

void mtps_conn_eof(struct mtps_conn *c)
{
    if (c->state != MTPS_CONN_OPEN)
        return;
    if (mid_frame(c))
        mtps_conn_close(c, MTP_ERR_TR_BAD_LENGTH, "the peer closed the connection inside a frame");
    else
        mtps_conn_close(c, MTP_ERR_SRV_EOF, "the peer closed the connection");
}

void mtps_conn_tick(struct mtps_conn *c)
{
    int64_t now = now_ms(c);
    const struct mtps_limits *l = lim(c);
    if (c->state == MTPS_CONN_DRAIN && now - c->closing_since_ms >= l->close_linger_ms)
        c->state = MTPS_CONN_CLOSED;
    if (c->state != MTPS_CONN_OPEN)
        return;
    if (c->partial_since_ms && now - c->partial_since_ms >= l->frame_timeout_ms) {
        mtps_conn_close(c, MTP_ERR_SRV_FRAME_TIMEOUT, "a frame stayed incomplete for %lld ms",
                        (long long)(now - c->partial_since_ms));
        return;
    }
    if (now - c->last_frame_ms >= l->idle_timeout_ms) {
        mtps_conn_close(c, MTP_ERR_SRV_IDLE, "no frame for %lld ms", (long long)(now - c->last_frame_ms));
        return;
    }
    /* Delayed packets, in the order they were held back (ties keep their order). */
    while (c->state == MTPS_CONN_OPEN) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < c->ndelayed; i++)
            if (c->delayed[i].due_ms <= now && (best == SIZE_MAX || c->delayed[i].due_ms < c->delayed[best].due_ms))
                best = i;
        if (best == SIZE_MAX)
            break;
        struct mtps_delayed d = c->delayed[best];
        memmove(&c->delayed[best], &c->delayed[best + 1], (c->ndelayed - best - 1) * sizeof d);
        c->ndelayed--;
        transmit(c, d.data, d.len);
        free(d.data);
        if (d.close_after)
            mtps_conn_close(c, MTP_ERR_SRV_FAULT_CLOSE, "scenario rule: close after a delayed packet");
    }
    mtps_rpc_release_answers(c);
    for (size_t i = 0; i < c->nsessions && c->state == MTPS_CONN_OPEN; i++) {
        struct mtps_sess *s = c->sessions[i];
        mtp_session_tick(&s->core);
        if (c->state == MTPS_CONN_OPEN && i < c->nsessions && c->sessions[i] == s && mtp_session_has_output(&s->core))
            flush_session(c, s);
    }
    account(c);
}

int64_t mtps_conn_deadline(const struct mtps_conn *c)
{
    const struct mtps_limits *l = lim(c);
    if (c->state == MTPS_CONN_CLOSED)
        return INT64_MIN;
    if (c->state == MTPS_CONN_DRAIN)
        return c->closing_since_ms + l->close_linger_ms;
    int64_t d = c->last_frame_ms + l->idle_timeout_ms;
    if (c->partial_since_ms && c->partial_since_ms + l->frame_timeout_ms < d)
        d = c->partial_since_ms + l->frame_timeout_ms;
    for (size_t i = 0; i < c->ndelayed; i++)
        if (c->delayed[i].due_ms < d)
            d = c->delayed[i].due_ms;
    for (size_t i = 0; i < c->npending; i++)
        if (c->pending[i].due_ms < d)
            d = c->pending[i].due_ms;
    for (size_t i = 0; i < c->nsessions; i++) {
        int64_t s = mtp_session_next_deadline(&c->sessions[i]->core);
        if (s < d)
            d = s;
    }
    return d;
}

void mtps_conn_sent(struct mtps_conn *c, size_t queued)
{
    c->bytes_out += c->out.len;
    c->srv->stats.bytes_out += c->out.len;
    mtp_wr_reset(&c->out);
    if (c->out.cap > SCRATCH_KEEP) {
        mtp_wr_free(&c->out);
        mtp_wr_init_dyn(&c->out, lim(c)->max_output, NULL);
    }
    c->queued_elsewhere = queued;
    if (queued > lim(c)->max_output)
        abort_conn(c, MTP_ERR_SRV_SLOW_READER, "%zu bytes wait for the peer to read them (limit %u)", queued,
                   lim(c)->max_output);
    account(c);
}

void mtps_conn_free(struct mtps_conn *c)
{
    struct mtps_server *srv = c->srv;
    if (srv == NULL)
        return;
    int64_t now = now_ms(c);
    int reason = c->state == MTPS_CONN_OPEN ? MTP_ERR_SRV_EOF : c->reason;
    const char *text = c->state == MTPS_CONN_OPEN ? "closed by the server" : c->reason_text;
    char sent[32] = "";
    if (c->sent_error)
        snprintf(sent, sizeof sent, "; sent %d", (int)c->sent_error);
    mtps_log(&srv->log, c->id, "close: %s: %s%s; in %" PRIu64 " B / %" PRIu64 " frames, out %" PRIu64 " B / %" PRIu64 " frames, %.3f s",
             mtp_err_name(reason), text, sent, c->bytes_in, c->frames_in, c->bytes_out, c->frames_out,
             (double)(now - c->opened_ms) / 1000.0);
    json_t *o = mtps_ev_new(&srv->events, "close", c->id);
    if (o) {
        /* Who ended it: the client (its FIN, or a close mid-frame), or the server (a rule, an error, a limit). */
        bool by_peer = reason == MTP_ERR_SRV_EOF && c->state != MTPS_CONN_OPEN;
        by_peer |= reason == MTP_ERR_TR_BAD_LENGTH && strstr(c->reason_text, "peer closed") != NULL;
        json_object_set_new(o, "by", json_string(c->state == MTPS_CONN_OPEN ? "shutdown" : by_peer ? "client" : "server"));
        json_object_set_new(o, "reason", json_string(mtp_err_name(reason)));
        json_object_set_new(o, "text", json_string(text));
        if (c->sent_error)
            json_object_set_new(o, "sent_error", json_integer(c->sent_error));
        json_object_set_new(o, "bytes_in", json_integer((json_int_t)c->bytes_in));
        /* What the connection opened with, whatever the transport was taken for: an
         * obfuscated init that breaks the rules is not recognised as one. */
        mtps_ev_set_hex(o, "first", c->first, c->first_len);
        json_object_set_new(o, "bytes_out", json_integer((json_int_t)c->bytes_out));
        mtps_events_emit(&srv->events, o);
    }
    unbind_key(c);
    for (size_t i = 0; i < c->ndelayed; i++)
        free(c->delayed[i].data);
    c->ndelayed = 0;
    for (size_t i = 0; i < c->npending; i++)
        free(c->pending[i].result);
    c->npending = 0;
    for (size_t i = 0; i < c->ninject; i++)
        mtps_canary_free(&c->inject[i].canary);
    c->ninject = 0;
    mtps_hs_free(&c->hs);
    mtp_tr_conn_free(&c->tr);
    mtp_wr_free(&c->out);
    mtp_wr_free(&c->plain);
    mtp_wr_free(&c->pkt);
    srv->mem_used -= c->mem_accounted;
    srv->nconns--;
    srv->stats.conns_closed++;
    c->srv = NULL;
}
