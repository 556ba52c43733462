/* The probes of the server cases (check_probes.h): what each sends, and how
 * what came back becomes one reaction. */
#include "check/check_probes.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mtp/auth_tl.h"
#include "mtp/container.h"
#include "mtp/dh.h"
#include "mtp/message.h"
#include "mtp/msgcrypt_v1.h"
#include "mtp/pq.h"
#include "mtp/service.h"

#define GRACE_MS 300           /* after the sentinel's answer, for anything the server sends late */
#define MAX_IDS 2100           /* hostile msg_ids watched (a flood container has 1025) */
#define WINDOW_FILL 2100       /* msg_ids sent to fill the server's window of received ids */

/* ---- the reaction event ---- */

size_t probe_reaction(struct probe *P, const char *reaction, const size_t *hostile, size_t nhostile,
                      const size_t *evidence, size_t nevidence, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    json_t *o = probe_ev_new(P, "reaction", 0);
    json_object_set_new(o, "reaction", json_string(reaction));
    json_object_set_new(o, "detail", json_string(detail));
    json_t *h = json_array(), *e = json_array();
    for (size_t i = 0; i < nhostile; i++)
        if (hostile[i])
            json_array_append_new(h, json_integer((json_int_t)hostile[i]));
    for (size_t i = 0; i < nevidence; i++)
        if (evidence[i])
            json_array_append_new(e, json_integer((json_int_t)evidence[i]));
    json_object_set_new(o, "hostile", h);
    json_object_set_new(o, "evidence", e);
    snprintf(P->last_reaction, sizeof P->last_reaction, "%s", reaction);
    P->last_reaction_ev = probe_emit(P, o);
    return P->last_reaction_ev;
}

/* ---- spec access ---- */

static const char *sget(const json_t *spec, const char *k) { return json_string_value(json_object_get(spec, k)); }
static bool sis(const json_t *spec, const char *k, const char *v)
{
    const char *s = sget(spec, k);
    return s && strcmp(s, v) == 0;
}
static long iget(const json_t *spec, const char *k, long def)
{
    const json_t *v = json_object_get(spec, k);
    return json_is_integer(v) ? (long)json_integer_value(v) : def;
}
static bool bget(const json_t *spec, const char *k) { return json_is_true(json_object_get(spec, k)); }

/* ---- what a received item holds ---- */

struct seen {
    uint64_t msg_id;
    int32_t seqno;
    uint32_t ctor;
    struct mtp_rd body;
    size_t ev;
    uint64_t session_id;
};
typedef void (*seen_fn)(void *ctx, const struct seen *m);

/* Calls fn for the message of an encrypted item and, for a container, for each message in it. */
static void each_msg(const struct probe_rx *r, seen_fn fn, void *ctx)
{
    if (r->kind != PRX_ENC || r->body_len < 4)
        return;
    struct seen m = {r->msg_id, r->seqno, mtp_load_u32(r->body), {0}, r->ev, r->session_id};
    mtp_rd_init(&m.body, r->body, r->body_len, NULL);
    fn(ctx, &m);
    if (m.ctor != MTP_SVC_msg_container)
        return;
    struct mtp_container ct;
    struct mtp_container_limits lim = {MTP_CONTAINER_MAX_MSGS * 2, SIZE_MAX};
    if (mtp_container_open(&ct, &m.body, r->msg_id, r->seqno, &lim) < 0)
        return;
    struct mtp_nested n;
    while (mtp_container_next(&ct, &n) == 1) {
        struct seen s = {n.msg_id, n.seqno, n.ctor, n.body, r->ev, r->session_id};
        fn(ctx, &s);
    }
}

/* ---- watching the reaction to hostile messages ---- */

struct watch {
    uint64_t *ids;                  /* the hostile message's msg_ids (the message and its nested ones) */
    size_t nids;
    uint64_t ping_ids[4];           /* ping_ids of the hostile pings */
    size_t npings;
    uint64_t orig_ping_id;          /* duplicate cases: the first copy's ping_id */
    bool have_orig;
    uint64_t sentinel;              /* the sentinel ping's msg_id (0: none) */
    uint64_t sentinel_session;      /* ... and its session */
    int32_t want_code;              /* the bad_msg_notification code the case names (0: any) */
    /* what happened, by the event that showed it first (0: not seen) */
    size_t answer_ev, stored_ev, ack_ev, detailed_ev, badmsg_ev, badsalt_ev, terr_ev, close_ev, junk_ev;
    int32_t badmsg_code, terr_code;
    uint64_t new_salt;
    bool sentinel_done, closed;
    int64_t sentinel_at;
    char answer_what[64];
};

static void watch_init(struct watch *w)
{
    memset(w, 0, sizeof *w);
    w->ids = calloc(MAX_IDS, sizeof *w->ids);
}
static void watch_free(struct watch *w) { free(w->ids); }
static void watch_id(struct watch *w, uint64_t id)
{
    if (w->ids && w->nids < MAX_IDS)
        w->ids[w->nids++] = id;
}
static bool watched(const struct watch *w, uint64_t id)
{
    for (size_t i = 0; i < w->nids; i++)
        if (w->ids[i] == id)
            return true;
    return false;
}
static void first(size_t *slot, size_t ev)
{
    if (*slot == 0)
        *slot = ev;
}

static void watch_msg(void *ctx, const struct seen *m)
{
    struct watch *w = ctx;
    struct mtp_rd r = m->body;
    struct mtp_svc svc;
    if (m->ctor == MTP_SVC_msg_container)
        return;
    if (m->ctor == MTP_SVC_rpc_result) {
        uint64_t req;
        struct mtp_rd rr = r;
        uint32_t ctor;
        if (mtp_rd_u32(&rr, &ctor, "ctor") == 0 && mtp_rd_u64(&rr, &req, "req_msg_id") == 0) {
            if (req == w->sentinel && w->sentinel && m->session_id == w->sentinel_session) {
                w->sentinel_done = true;
            } else if (watched(w, req)) {
                first(&w->answer_ev, m->ev);
                snprintf(w->answer_what, sizeof w->answer_what, "rpc_result");
            }
        }
        return;
    }
    if (mtp_svc_parse(&r, &svc) < 0)
        return;
    switch (svc.id) {
    case MTP_SVC_pong:
        if (w->sentinel && svc.u.pong.msg_id == w->sentinel && m->session_id == w->sentinel_session) {
            w->sentinel_done = true;
            break;
        }
        if (w->have_orig && svc.u.pong.ping_id == w->orig_ping_id) {
            first(&w->stored_ev, m->ev);
            break;
        }
        for (size_t i = 0; i < w->npings; i++)
            if (svc.u.pong.ping_id == w->ping_ids[i] || watched(w, svc.u.pong.msg_id)) {
                first(&w->answer_ev, m->ev);
                snprintf(w->answer_what, sizeof w->answer_what, "pong");
            }
        if (w->npings == 0 && watched(w, svc.u.pong.msg_id)) {
            first(&w->answer_ev, m->ev);
            snprintf(w->answer_what, sizeof w->answer_what, "pong");
        }
        break;
    case MTP_SVC_future_salts:
        if (watched(w, svc.u.future_salts.req_msg_id)) {
            first(&w->answer_ev, m->ev);
            snprintf(w->answer_what, sizeof w->answer_what, "future_salts");
        }
        break;
    case MTP_SVC_msgs_state_info:
        if (watched(w, svc.u.state_info.req_msg_id)) {
            first(&w->answer_ev, m->ev);
            snprintf(w->answer_what, sizeof w->answer_what, "msgs_state_info");
        }
        break;
    case MTP_SVC_msgs_ack: {
        uint64_t id;
        while (mtp_svc_ids_next(&svc.u.ids, &id) == MTP_OK)
            if (watched(w, id))
                first(&w->ack_ev, m->ev);
        break;
    }
    case MTP_SVC_bad_msg_notification:
        if (watched(w, svc.u.bad_msg.bad_msg_id) && w->badmsg_ev == 0) {
            w->badmsg_ev = m->ev;
            w->badmsg_code = svc.u.bad_msg.error_code;
        }
        break;
    case MTP_SVC_bad_server_salt:
        if (watched(w, svc.u.bad_msg.bad_msg_id) && w->badsalt_ev == 0) {
            w->badsalt_ev = m->ev;
            w->new_salt = svc.u.bad_msg.new_server_salt;
        }
        break;
    case MTP_SVC_msg_detailed_info:
        if (watched(w, svc.u.detailed_info.msg_id))
            first(&w->detailed_ev, m->ev);
        break;
    default:
        break;
    }
}

static void watch_item(struct watch *w, const struct probe_rx *r)
{
    switch (r->kind) {
    case PRX_TERR:
        if (w->terr_ev == 0) {
            w->terr_ev = r->ev;
            w->terr_code = r->code;
        }
        break;
    case PRX_CLOSED:
        w->closed = true;
        break;
    case PRX_JUNK:
        first(&w->junk_ev, r->ev);
        break;
    case PRX_ENC:
        each_msg(r, watch_msg, w);
        break;
    default:
        break;
    }
    if (w->sentinel_done && w->sentinel_at == 0)
        w->sentinel_at = probe_mono_ms();
}

/* The reaction's name and the event it rests on. */
static const char *watch_reaction(const struct watch *w, size_t *ev, char *buf, size_t cap)
{
    if (w->answer_ev) {
        *ev = w->answer_ev;
        return "answer";
    }
    if (w->stored_ev) {
        *ev = w->stored_ev;
        return "stored-answer";
    }
    if (w->ack_ev) {
        *ev = w->ack_ev;
        return "accept";
    }
    if (w->detailed_ev) {
        *ev = w->detailed_ev;
        return "msg_detailed_info";
    }
    if (w->badmsg_ev) {
        *ev = w->badmsg_ev;
        if (w->want_code == 0 || w->badmsg_code == w->want_code)
            return "bad_msg_notification";
        snprintf(buf, cap, "bad_msg_notification %d", (int)w->badmsg_code);
        return buf;
    }
    if (w->badsalt_ev) {
        *ev = w->badsalt_ev;
        return "bad_server_salt";
    }
    if (w->terr_ev) {
        *ev = w->terr_ev;
        snprintf(buf, cap, "transport%d", (int)w->terr_code);
        return buf;
    }
    *ev = 0;
    if (w->closed)
        return "close";
    return "silence";
}

static void describe_watch(const struct watch *w, const char *reaction, char *out, size_t cap)
{
    if (w->answer_ev)
        snprintf(out, cap, "the server executed it: a %s for it (event %zu)", w->answer_what, w->answer_ev);
    else if (w->stored_ev)
        snprintf(out, cap, "the server sent the answer of the first copy again (event %zu), without executing it",
                 w->stored_ev);
    else if (w->ack_ev)
        snprintf(out, cap, "the server acknowledged it in msgs_ack (event %zu): accepted", w->ack_ev);
    else if (w->detailed_ev)
        snprintf(out, cap, "msg_detailed_info about it (event %zu)", w->detailed_ev);
    else if (w->badmsg_ev)
        snprintf(out, cap, "bad_msg_notification with error_code %d (event %zu)%s", (int)w->badmsg_code, w->badmsg_ev,
                 w->want_code && w->want_code != w->badmsg_code ? ", not the code the case is about" : "");
    else if (w->badsalt_ev)
        snprintf(out, cap, "bad_server_salt (event %zu)", w->badsalt_ev);
    else if (w->terr_ev)
        snprintf(out, cap, "transport error %d (event %zu)%s", (int)w->terr_code, w->terr_ev,
                 w->closed ? ", then the connection closed" : "");
    else if (w->closed)
        snprintf(out, cap, "the server closed the connection without a word");
    else if (w->sentinel && w->sentinel_done)
        snprintf(out, cap, "nothing about it; the ping sent after it (another session) was answered");
    else
        snprintf(out, cap, "nothing about it before the wait ended");
    (void)reaction;
}

/* ---- a connection with a key and a session, warmed up ---- */

struct sctx {
    struct probe *P;
    struct probe_conn c;
    struct probe_hs h;
    struct probe_key k;
    struct probe_sess s;              /* the case's session */
    struct probe_sess sent;           /* the sentinel's own session */
    bool sent_up;
    bool synced;
    uint64_t warm_ids[4], warm_pings[4], warm_pongs[4];
    int32_t warm_seqnos[4];
    size_t nwarm;
    uint64_t new_session_salt;
    size_t new_session_ev;
    uint64_t new_session_first;
    bool new_session_content;
};

static void sctx_free(struct sctx *x)
{
    probe_close(&x->c);
    probe_hs_free(&x->h);
    probe_key_free(&x->k);
}

static uint64_t rand64(struct probe *P)
{
    uint64_t v = 0;
    if (mtp_env_rand(&P->env, &v, sizeof v) < 0)
        v = (uint64_t)probe_mono_ms() * 0x9e3779b97f4a7c15ull;
    return v;
}

struct warm_look {
    struct sctx *x;
    uint64_t msg_id, ping_id;
    bool pong;
    uint64_t pong_msg_id;
    bool bad_salt;
    uint64_t salt;
};

static void warm_msg(void *ctx, const struct seen *m)
{
    struct warm_look *l = ctx;
    struct mtp_rd r = m->body;
    struct mtp_svc svc;
    if (m->ctor == MTP_SVC_msg_container || m->ctor == MTP_SVC_rpc_result || mtp_svc_parse(&r, &svc) < 0)
        return;
    if (svc.id == MTP_SVC_pong && svc.u.pong.msg_id == l->msg_id && svc.u.pong.ping_id == l->ping_id) {
        l->pong = true;
        l->pong_msg_id = m->msg_id;
    } else if (svc.id == MTP_SVC_bad_server_salt && svc.u.bad_msg.bad_msg_id == l->msg_id) {
        l->bad_salt = true;
        l->salt = svc.u.bad_msg.new_server_salt;
    } else if (svc.id == MTP_SVC_new_session_created) {
        /* "the client must ... use the new server_salt" */
        l->x->k.salt = svc.u.new_session.server_salt;
        if (l->x->new_session_ev == 0) {
            l->x->new_session_ev = m->ev;
            l->x->new_session_salt = svc.u.new_session.server_salt;
            l->x->new_session_first = svc.u.new_session.first_msg_id;
            l->x->new_session_content = (m->seqno & 1) != 0;
        }
    }
}

/* Adopts the server's clock from its first message's msg_id: server_time in
 * the exchange has a resolution of a second, msg_ids of 2^-32 s. */
static void sync_from(struct sctx *x, const struct probe_rx *r)
{
    if (x->synced || r->kind != PRX_ENC)
        return;
    x->synced = true;
    int64_t now = mtp_env_now_ms(&x->P->env);
    x->k.offset_ms = mtp_msgid_to_ms(r->msg_id) - now;
    x->s.ids.offset_ms = x->k.offset_ms;
    x->sent.ids.offset_ms = x->k.offset_ms;
}

/* A ping in session s that must be answered; bad_server_salt is followed. */
static int honest_ping(struct sctx *x, struct probe_sess *s, uint64_t *msg_id, uint64_t *ping_id, uint64_t *pong_id,
                       int32_t *seqno)
{
    struct probe *P = x->P;
    for (int attempt = 0; attempt < 3; attempt++) {
        struct warm_look l = {.x = x, .ping_id = rand64(P)};
        uint8_t b[16];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, b, sizeof b, NULL);
        PROBE_MUST(P, probe_body_ping(&w, l.ping_id));
        int32_t sq = (int32_t)(2 * s->content + 1);
        struct probe_msg m = {.body = b, .len = w.len, .content = true};
        if (probe_send_msg(&x->c, s, &m, &l.msg_id, NULL) < 0)
            return -1;
        int64_t deadline = probe_mono_ms() + P->cfg.wait_ms;
        while (!l.pong && !l.bad_salt) {
            struct probe_rx r;
            if (probe_recv(&x->c, deadline, &r) < 0)
                return -1;
            sync_from(x, &r);
            each_msg(&r, warm_msg, &l);
            enum probe_rx_kind kind = r.kind;
            int32_t code = r.code;
            probe_rx_free(&r);
            if (kind == PRX_TIMEOUT)
                return probe_fail(P, "an honest ping got no pong in %lld ms", (long long)P->cfg.wait_ms);
            if (kind == PRX_CLOSED)
                return probe_fail(P, "the server closed the connection instead of answering an honest ping");
            if (kind == PRX_TERR)
                return probe_fail(P, "an honest ping got transport error %d", (int)code);
        }
        if (l.pong) {
            if (msg_id)
                *msg_id = l.msg_id;
            if (ping_id)
                *ping_id = l.ping_id;
            if (pong_id)
                *pong_id = l.pong_msg_id;
            if (seqno)
                *seqno = sq;
            return 0;
        }
        s->k->salt = l.salt;
    }
    return probe_fail(P, "an honest ping got bad_server_salt three times");
}

/* Connects, makes a key, starts the session with nwarm honest pings. */
static int setup(struct sctx *x, struct probe *P, size_t nwarm)
{
    memset(x, 0, sizeof *x);
    x->P = P;
    if (probe_open(P, &x->c, NULL) < 0)
        return -1;
    int rc = probe_exchange(&x->c, NULL, &x->h, &x->k);
    if (rc != 0)
        return rc < 0 ? -1 : probe_fail(P, "the honest key exchange did not complete");
    probe_sess_init(P, &x->s, &x->k);
    for (size_t i = 0; i < nwarm && i < 4; i++) {
        if (honest_ping(x, &x->s, &x->warm_ids[i], &x->warm_pings[i], &x->warm_pongs[i], &x->warm_seqnos[i]) < 0)
            return -1;
        x->nwarm++;
    }
    return 0;
}

/* A ping in a session of its own, after the hostile message: when its pong
 * comes, whatever the server had to say about the hostile one was said. */
static int send_sentinel(struct sctx *x, struct watch *w, bool same_session)
{
    if (same_session) {
        /* In the case's session: what the server owes that session (acks) goes out with its pong. */
        uint8_t b[16];
        struct mtp_wr wr;
        mtp_wr_init_fixed(&wr, b, sizeof b, NULL);
        PROBE_MUST(x->P, probe_body_ping(&wr, rand64(x->P)));
        struct probe_msg m = {.body = b, .len = wr.len, .content = true};
        w->sentinel_session = x->s.session_id;
        return probe_send_msg(&x->c, &x->s, &m, &w->sentinel, NULL);
    }
    if (!x->sent_up) {
        probe_sess_init(x->P, &x->sent, &x->k);
        x->sent.ids.offset_ms = x->k.offset_ms;
        x->sent_up = true;
    }
    uint8_t b[16];
    struct mtp_wr wr;
    mtp_wr_init_fixed(&wr, b, sizeof b, NULL);
    PROBE_MUST(x->P, probe_body_ping(&wr, rand64(x->P)));
    /* Its msg_id from the case's session: ids that never repeat across the two sessions. */
    struct probe_msg m = {.body = b, .len = wr.len, .content = true, .msg_id = probe_next_msg_id(x->P, &x->s)};
    w->sentinel_session = x->sent.session_id;
    return probe_send_msg(&x->c, &x->sent, &m, &w->sentinel, NULL);
}

/* Reads until the server closes, the sentinel is answered (plus a grace), or the wait ends. */
static int collect(struct sctx *x, struct watch *w, int64_t wait_ms)
{
    int64_t deadline = probe_mono_ms() + wait_ms;
    for (;;) {
        int64_t until = deadline;
        if (w->sentinel_at && w->sentinel_at + GRACE_MS < until)
            until = w->sentinel_at + GRACE_MS;
        struct probe_rx r;
        if (probe_recv(&x->c, until, &r) < 0)
            return -1;
        sync_from(x, &r);
        watch_item(w, &r);
        enum probe_rx_kind kind = r.kind;
        probe_rx_free(&r);
        if (kind == PRX_TIMEOUT || kind == PRX_CLOSED)
            return 0;
    }
}

static void finish_watch(struct probe *P, struct watch *w, const size_t *hostile, size_t nh, const char *prefix)
{
    char buf[64], text[512];
    size_t ev;
    const char *reaction = watch_reaction(w, &ev, buf, sizeof buf);
    describe_watch(w, reaction, text, sizeof text);
    probe_reaction(P, reaction, hostile, nh, &ev, 1, "%s%s", prefix ? prefix : "", text);
}

/* ---- the key exchange ---- */

static int set_fault(struct probe_hs_faults *f, const char *name)
{
    static const struct {
        const char *name;
        size_t off;
    } names[] = {
#define F(n, field) {n, offsetof(struct probe_hs_faults, field)}
        F("req_DH_params.nonce", req_dh_nonce),
        F("req_DH_params.server_nonce", req_dh_server_nonce),
        F("req_DH_params.p_q_swapped", p_q_swapped),
        F("req_DH_params.p", p_wrong),
        F("req_DH_params.q", q_wrong),
        F("req_DH_params.public_key_fingerprint", fingerprint),
        F("encrypted_data.garbage", rsa_garbage),
        F("encrypted_data.hash", rsa_hash),
        F("encrypted_data.not_below_modulus", rsa_range),
        F("encrypted_data.short", rsa_short),
        F("p_q_inner_data.nonce", inner_nonce),
        F("p_q_inner_data.server_nonce", inner_server_nonce),
        F("p_q_inner_data.pq", inner_pq),
        F("set_client_DH_params.nonce", set_nonce),
        F("set_client_DH_params.server_nonce", set_server_nonce),
        F("set_client_DH_params.new_nonce_changed", new_nonce_changed),
        F("client_DH_inner_data.hash", cinner_hash),
        F("client_DH_inner_data.padding_16", cinner_padding16),
        F("client_DH_inner_data.unaligned", cinner_unaligned),
        F("client_DH_inner_data.nonce", cinner_nonce),
        F("client_DH_inner_data.server_nonce", cinner_server_nonce),
        F("client_DH_inner_data.retry_id", cinner_retry_id),
#undef F
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0) {
            if (f)
                *(bool *)((char *)f + names[i].off) = true;
            return 0;
        }
    return -1;
}

/* What an answer to a key-exchange message was. */
static const char *hs_reaction(const struct probe_rx *r, char *buf, size_t cap)
{
    switch (r->kind) {
    case PRX_TIMEOUT:
        return "silence";
    case PRX_CLOSED:
        return "close";
    case PRX_TERR:
        snprintf(buf, cap, "transport%d", (int)r->code);
        return buf;
    case PRX_PLAIN: {
        uint32_t id = r->len >= 4 ? mtp_load_u32(r->data) : 0;
        if (id == MTP_AUTH_ID_DH_GEN_FAIL)
            return "dh_gen_fail";
        if (id == MTP_AUTH_ID_SERVER_DH_PARAMS_FAIL)
            return "server_DH_params_fail";
        return "answer";
    }
    default:
        return "answer";
    }
}

static void hs_finish(struct probe *P, const struct probe_hs *h, const char *what)
{
    char buf[32];
    const char *re = hs_reaction(&h->answer, buf, sizeof buf);
    const char *name = h->answer.kind == PRX_PLAIN && h->answer.len >= 4 ? mtp_auth_tl_name(mtp_load_u32(h->answer.data))
                                                                          : NULL;
    char text[256];
    if (strcmp(re, "answer") == 0 || strcmp(re, "dh_gen_fail") == 0 || strcmp(re, "server_DH_params_fail") == 0)
        snprintf(text, sizeof text, "the server answered %s with %s", what, name ? name : "a message");
    else if (strcmp(re, "silence") == 0)
        snprintf(text, sizeof text, "no answer to %s within %lld ms", what, (long long)P->cfg.wait_ms);
    else if (strcmp(re, "close") == 0)
        snprintf(text, sizeof text, "the server closed the connection after %s", what);
    else
        snprintf(text, sizeof text, "the server answered %s with transport error %d", what, (int)h->answer.code);
    probe_reaction(P, re, &h->hostile_ev, 1, &h->answer.ev, 1, "%s", text);
}

static int run_exchange(struct probe *P, const json_t *spec)
{
    struct probe_hs_faults f = {0};
    const json_t *brk = json_object_get(spec, "break");
    size_t i;
    const json_t *v;
    json_array_foreach(brk, i, v) { (void)set_fault(&f, json_string_value(v)); }
    uint8_t g_b[256];
    const char *expr = sget(spec, "g_b");
    if (expr) {
        if (probe_num_expr(expr, mtp_dh_telegram_prime, g_b) < 0)
            return probe_fail(P, "g_b: \"%s\" is not an expression of p", expr);
        f.g_b = g_b;
    }
    f.dc = (int32_t)iget(spec, "dc_offset", 0) ? P->cfg.dc + (int32_t)iget(spec, "dc_offset", 0) : 0;
    struct probe_conn c;
    struct probe_hs h;
    struct probe_key k;
    int rc = probe_open(P, &c, NULL);
    if (rc == 0)
        rc = probe_exchange(&c, &f, &h, &k);
    if (rc < 0) {
        probe_close(&c);
        probe_hs_free(&h);
        return -1;
    }
    if (rc == 0) {
        /* Nothing hostile was sent (dc_offset): the exchange's end is the answer. */
        size_t key_ev = P->nev - 1;
        probe_reaction(P, "answer", NULL, 0, &key_ev, 1, "the exchange completed: the server made a key");
    } else {
        hs_finish(P, &h, h.step == PHS_REQ_DH ? "req_DH_params" : "set_client_DH_params");
    }
    probe_close(&c);
    probe_hs_free(&h);
    probe_key_free(&k);
    return 0;
}

/* A req_DH_params for a run the server may not know (fresh nonces unless given). */
static int forged_req_dh(struct probe *P, const uint8_t *nonce, const uint8_t *server_nonce, struct mtp_wr *w)
{
    uint8_t n[16], sn[16], nn[32];
    if (mtp_env_rand(&P->env, n, 16) < 0 || mtp_env_rand(&P->env, sn, 16) < 0 || mtp_env_rand(&P->env, nn, 32) < 0)
        return probe_fail(P, "no randomness");
    if (nonce)
        memcpy(n, nonce, 16);
    if (server_nonce)
        memcpy(sn, server_nonce, 16);
    static const uint8_t pq[8] = {0x17, 0xed, 0x48, 0x94, 0x1a, 0x08, 0xf9, 0x81};
    static const uint8_t p[4] = {0x49, 0x4c, 0x55, 0x3b}, q[4] = {0x53, 0x91, 0x10, 0x63};
    struct mtp_auth_pq_inner in = {.form = MTP_AUTH_INNER_DC, .pq = {pq, 8}, .p = {p, 4}, .q = {q, 4}, .dc = P->cfg.dc};
    memcpy(in.nonce, n, 16);
    memcpy(in.server_nonce, sn, 16);
    memcpy(in.new_nonce, nn, 32);
    uint8_t inner[256], ed[256];
    struct mtp_wr iw;
    mtp_wr_init_fixed(&iw, inner, sizeof inner, NULL);
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtp_auth_tl_write_pq_inner(&iw, &in) < 0 || mtp_rsa_pad_encrypt_env(P->cfg.rsa, &P->env, inner, iw.len, ed, &err) < 0)
        return probe_fail(P, "RSA_PAD: %s", err.msg);
    struct mtp_auth_req_dh_params dq = {.p = {p, 4}, .q = {q, 4}, .encrypted_data = {ed, 256}};
    memcpy(dq.nonce, n, 16);
    memcpy(dq.server_nonce, sn, 16);
    if (mtp_rsa_key_fingerprint(P->cfg.rsa, dq.fingerprint, &err) < 0 || mtp_auth_tl_write_req_dh_params(w, &dq) < 0)
        return probe_fail(P, "req_DH_params does not fit");
    return 0;
}

static int await_plain(struct probe_conn *c, struct probe_rx *r)
{
    int64_t deadline = probe_mono_ms() + c->P->cfg.wait_ms;
    for (;;) {
        if (probe_recv(c, deadline, r) < 0)
            return -1;
        if (r->kind != PRX_QACK)
            return 0;
        probe_rx_free(r);
    }
}

static void plain_finish(struct probe *P, size_t hostile_ev, const struct probe_rx *r, const char *what)
{
    struct probe_hs h;
    memset(&h, 0, sizeof h);
    h.hostile_ev = hostile_ev;
    h.answer = *r;
    hs_finish(P, &h, what);
}

static int run_exchange_order(struct probe *P, const json_t *spec)
{
    const char *order = sget(spec, "order");
    struct probe_conn c;
    struct probe_hs h;
    struct probe_key k;
    memset(&h, 0, sizeof h);
    memset(&k, 0, sizeof k);
    uint8_t buf[1200];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    struct probe_rx r = {0};
    size_t hev = 0;
    int rc = probe_open(P, &c, NULL);
    if (rc < 0)
        goto out;
    if (strcmp(order, "req_DH_params_first") == 0) {
        rc = forged_req_dh(P, NULL, NULL, &w);
        if (rc == 0)
            rc = probe_send_plain(&c, w.p, w.len, "req_DH_params before req_pq_multi", &hev);
        if (rc == 0 && (rc = await_plain(&c, &r)) == 0)
            plain_finish(P, hev, &r, "req_DH_params before any req_pq_multi");
    } else if (strcmp(order, "set_client_DH_params_first") == 0) {
        struct mtp_auth_set_client_dh sd;
        uint8_t ed[336];
        if (mtp_env_rand(&P->env, sd.nonce, 16) < 0 || mtp_env_rand(&P->env, sd.server_nonce, 16) < 0 ||
            mtp_env_rand(&P->env, ed, sizeof ed) < 0) {
            rc = probe_fail(P, "no randomness");
            goto out;
        }
        sd.encrypted_data = (struct mtp_auth_bytes){ed, sizeof ed};
        rc = mtp_auth_tl_write_set_client_dh(&w, &sd) < 0 ? probe_fail(P, "does not fit") : 0;
        if (rc == 0)
            rc = probe_send_plain(&c, w.p, w.len, "set_client_DH_params before req_DH_params", &hev);
        if (rc == 0 && (rc = await_plain(&c, &r)) == 0)
            plain_finish(P, hev, &r, "set_client_DH_params before any req_DH_params");
    } else if (strcmp(order, "after_done") == 0) {
        rc = probe_exchange(&c, NULL, &h, &k);
        if (rc == 0)
            rc = forged_req_dh(P, h.nonce, h.server_nonce, &w);
        if (rc == 0)
            rc = probe_send_plain(&c, w.p, w.len, "req_DH_params of a finished run", &hev);
        if (rc == 0 && (rc = await_plain(&c, &r)) == 0)
            plain_finish(P, hev, &r, "a req_DH_params of the run that made the key");
    } else if (strcmp(order, "refused_nonce") == 0) {
        /* A run whose req_DH_params was refused; then its correct req_DH_params on a new connection. */
        struct probe_hs_faults f = {.p_wrong = true};
        rc = probe_exchange(&c, &f, &h, &k);
        if (rc == 1) {
            struct probe_conn c2;
            rc = probe_open(P, &c2, NULL);
            if (rc == 0)
                rc = forged_req_dh(P, h.nonce, h.server_nonce, &w);
            if (rc == 0)
                rc = probe_send_plain(&c2, w.p, w.len, "req_DH_params of a refused run", &hev);
            if (rc == 0 && (rc = await_plain(&c2, &r)) == 0)
                plain_finish(P, hev, &r, "a req_DH_params for the nonces of a refused run");
            probe_close(&c2);
        } else if (rc == 0) {
            rc = probe_fail(P, "the server accepted a req_DH_params with a wrong p: the refused run never happened");
        }
    } else {
        rc = probe_fail(P, "unknown order \"%s\"", order);
    }
out:
    probe_rx_free(&r);
    probe_close(&c);
    probe_hs_free(&h);
    probe_key_free(&k);
    return rc < 0 ? -1 : 0;
}

/* S-HS-6: the same req_DH_params again (the same answer, or a refusal), or one
 * with the same nonces and another new_nonce (never a fresh answer). */
static int run_repeat(struct probe *P, const json_t *spec)
{
    bool exact = !bget(spec, "new_nonce");
    struct probe_conn c;
    struct probe_rx first = {0}, again = {0};
    int rc = probe_open(P, &c, NULL);
    uint8_t nonce[16], server_nonce[16];
    uint8_t body[1200];
    size_t body_len = 0, hev = 0;
    if (rc < 0)
        goto out;
    /* By hand up to server_DH_params_ok: the exchange helper does not stop there. */
    struct mtp_auth_req_pq rq = {.multi = true};
    uint8_t b[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    if (mtp_env_rand(&P->env, rq.nonce, 16) < 0 || mtp_auth_tl_write_req_pq(&w, &rq) < 0) {
        rc = probe_fail(P, "req_pq_multi");
        goto out;
    }
    memcpy(nonce, rq.nonce, 16);
    if ((rc = probe_send_plain(&c, w.p, w.len, NULL, NULL)) < 0 || (rc = await_plain(&c, &first)) < 0)
        goto out;
    struct mtp_auth_res_pq rp;
    struct mtp_rd r;
    struct mtp_error err;
    mtp_error_clear(&err);
    mtp_rd_init(&r, first.data, first.len, &err);
    if (first.kind != PRX_PLAIN || mtp_auth_tl_read_res_pq(&r, &rp) < 0) {
        rc = probe_fail(P, "req_pq_multi got no resPQ");
        goto out;
    }
    memcpy(server_nonce, rp.server_nonce, 16);
    uint64_t p, q;
    if (mtp_pq_factor_be(rp.pq.p, rp.pq.len, &p, &q, &err) < 0) {
        rc = probe_fail(P, "resPQ.pq: %s", err.msg);
        goto out;
    }
    uint8_t pb[8], qb[8], pqb[8];
    size_t pl = mtp_pq_to_be(p, pb), ql = mtp_pq_to_be(q, qb), pql = rp.pq.len <= 8 ? rp.pq.len : 8;
    memcpy(pqb, rp.pq.p, pql);
    probe_rx_free(&first);
    for (int round = 0; round < 2; round++) {
        if (round == 0 || !exact) {
            uint8_t nn[32], inner[256], ed[256];
            if (mtp_env_rand(&P->env, nn, 32) < 0) {
                rc = probe_fail(P, "no randomness");
                goto out;
            }
            struct mtp_auth_pq_inner in = {.form = MTP_AUTH_INNER_DC, .pq = {pqb, pql}, .p = {pb, pl}, .q = {qb, ql},
                                           .dc = P->cfg.dc};
            memcpy(in.nonce, nonce, 16);
            memcpy(in.server_nonce, server_nonce, 16);
            memcpy(in.new_nonce, nn, 32);
            struct mtp_wr iw;
            mtp_wr_init_fixed(&iw, inner, sizeof inner, NULL);
            struct mtp_auth_req_dh_params dq = {.p = {pb, pl}, .q = {qb, ql}, .encrypted_data = {ed, 256}};
            memcpy(dq.nonce, nonce, 16);
            memcpy(dq.server_nonce, server_nonce, 16);
            struct mtp_wr bw;
            mtp_wr_init_fixed(&bw, body, sizeof body, NULL);
            if (mtp_auth_tl_write_pq_inner(&iw, &in) < 0 ||
                mtp_rsa_pad_encrypt_env(P->cfg.rsa, &P->env, inner, iw.len, ed, &err) < 0 ||
                mtp_rsa_key_fingerprint(P->cfg.rsa, dq.fingerprint, &err) < 0 ||
                mtp_auth_tl_write_req_dh_params(&bw, &dq) < 0) {
                rc = probe_fail(P, "req_DH_params: %s", err.msg);
                goto out;
            }
            body_len = bw.len;
        }
        const char *hostile = round == 0 ? NULL : exact ? "the same req_DH_params again"
                                                        : "req_DH_params with the run's nonces and another new_nonce";
        if ((rc = probe_send_plain(&c, body, body_len, hostile, round ? &hev : NULL)) < 0)
            goto out;
        if ((rc = await_plain(&c, round == 0 ? &first : &again)) < 0)
            goto out;
        if (round == 0 && (first.kind != PRX_PLAIN || first.len < 4 ||
                           mtp_load_u32(first.data) != MTP_AUTH_ID_SERVER_DH_PARAMS_OK)) {
            rc = probe_fail(P, "the honest req_DH_params got no server_DH_params_ok");
            goto out;
        }
    }
    const char *re;
    char buf[32], text[256];
    if (again.kind == PRX_PLAIN && again.len == first.len && memcmp(again.data, first.data, first.len) == 0) {
        re = "stored-answer";
        snprintf(text, sizeof text, "the server sent its first server_DH_params_ok again, byte for byte");
    } else {
        re = hs_reaction(&again, buf, sizeof buf);
        if (strcmp(re, "answer") == 0)
            snprintf(text, sizeof text, "the server answered with a new %s, as if the first request never happened",
                     again.len >= 4 ? mtp_auth_tl_name(mtp_load_u32(again.data)) : "message");
        else
            snprintf(text, sizeof text, "the repeat got: %s", re);
    }
    probe_reaction(P, re, &hev, 1, &again.ev, 1, "%s", text);
    rc = 0;
out:
    probe_rx_free(&first);
    probe_rx_free(&again);
    probe_close(&c);
    return rc < 0 ? -1 : 0;
}

/* A second exchange on a connection that already made a key: must be served. */
static int run_second_exchange(struct probe *P, const json_t *spec)
{
    struct probe_conn c;
    struct probe_hs h, h2;
    struct probe_key k, k2;
    memset(&h2, 0, sizeof h2);
    memset(&k2, 0, sizeof k2);
    int rc = probe_open(P, &c, NULL);
    if (rc == 0)
        rc = probe_exchange(&c, NULL, &h, &k);
    if (rc == 0) {
        struct probe_hs_faults f = {.temp = bget(spec, "temp")};
        rc = probe_exchange(&c, &f, &h2, &k2);
        if (rc == 0) {
            size_t ev = P->nev - 1;
            probe_reaction(P, "answer", NULL, 0, &ev, 1, "the second exchange on the connection made a %s key",
                           f.temp ? "temporary" : "second");
        } else if (rc < 0) {
            /* The server refused the second exchange: that is its reaction, not a harness failure. */
            const char *why = P->error;
            probe_reaction(P, "refused", NULL, 0, &h2.answer.ev, 1, "the second exchange did not complete: %s", why);
            P->error[0] = '\0';
            rc = 0;
        }
    }
    probe_close(&c);
    probe_hs_free(&h);
    probe_hs_free(&h2);
    probe_key_free(&k);
    probe_key_free(&k2);
    return rc < 0 ? -1 : 0;
}

/* S-HS-12: after the key, an unencrypted message that is not part of a key exchange. */
static int run_plain_after_key(struct probe *P, const json_t *spec)
{
    struct sctx x;
    if (setup(&x, P, 1) < 0) {
        sctx_free(&x);
        return -1;
    }
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 4096, NULL);
    uint64_t ping_id = rand64(P);
    const char *body = sget(spec, "body");
    if (body == NULL || strcmp(body, "ping") == 0)
        PROBE_MUST(P, probe_body_ping(&w, ping_id));
    else if (strcmp(body, "msgs_ack") == 0)
        PROBE_MUST(P, mtp_svc_write_ids(&w, MTP_SVC_msgs_ack, x.warm_pongs, 1));
    else if (probe_body_api(P, &w) < 0) {
        mtp_wr_free(&w);
        sctx_free(&x);
        return -1;
    }
    size_t hev;
    int rc = probe_send_plain(&x.c, w.p, w.len, "an unencrypted message after the key", &hev);
    mtp_wr_free(&w);
    if (rc < 0) {
        sctx_free(&x);
        return -1;
    }
    /* Anything unencrypted that comes back answers it; so would an encrypted pong. */
    struct watch wt;
    watch_init(&wt);
    wt.ping_ids[wt.npings++] = ping_id;
    size_t answer_ev = 0;
    int64_t deadline = probe_mono_ms() + P->cfg.wait_ms;
    if (send_sentinel(&x, &wt, false) < 0) {
        watch_free(&wt);
        sctx_free(&x);
        return -1;
    }
    while (!wt.closed) {
        int64_t until = wt.sentinel_at ? wt.sentinel_at + GRACE_MS : deadline;
        struct probe_rx r;
        if (probe_recv(&x.c, until, &r) < 0)
            break;
        if (r.kind == PRX_PLAIN && answer_ev == 0)
            answer_ev = r.ev;
        watch_item(&wt, &r);
        enum probe_rx_kind kind = r.kind;
        probe_rx_free(&r);
        if (kind == PRX_TIMEOUT)
            break;
    }
    if (answer_ev)
        probe_reaction(P, "answer", &hev, 1, &answer_ev, 1, "the server answered the unencrypted message");
    else
        finish_watch(P, &wt, &hev, 1, NULL);
    watch_free(&wt);
    sctx_free(&x);
    return 0;
}

/* ---- encrypted messages ---- */

struct msgbuild {
    struct mtp_wr body;
    bool content;
    uint64_t ping_ids[4];
    size_t npings;
    uint64_t nested[MAX_IDS];
    size_t nnested;
};

static int add_ping(struct sctx *x, struct msgbuild *b, struct mtp_wr *w)
{
    uint64_t id = rand64(x->P);
    if (b->npings < 4)
        b->ping_ids[b->npings++] = id;
    return probe_body_ping(w, id);
}

/* The body the case sends; containers get their nested msg_ids from the session. */
static int build_body(struct sctx *x, const json_t *spec, struct msgbuild *b)
{
    struct probe *P = x->P;
    const char *body = sget(spec, "body");
    mtp_wr_init_dyn(&b->body, 1u << 20, NULL);
    b->content = true;
    if (body == NULL || strcmp(body, "ping") == 0)
        return add_ping(x, b, &b->body);
    if (strcmp(body, "api") == 0)
        return probe_body_api(P, &b->body);
    if (strcmp(body, "get_future_salts") == 0)
        return mtp_svc_write_get_future_salts(&b->body, (int32_t)iget(spec, "num", 1));
    if (strcmp(body, "ping_delay_disconnect") == 0) {
        uint64_t id = rand64(P);
        b->ping_ids[b->npings++] = id;
        return mtp_svc_write_ping_delay_disconnect(&b->body, id, (int32_t)iget(spec, "delay", 75));
    }
    if (strcmp(body, "msgs_state_req") == 0)
        return mtp_svc_write_ids(&b->body, MTP_SVC_msgs_state_req, x->warm_ids, 1);
    if (strcmp(body, "msgs_ack") == 0) {
        b->content = false;
        long n = iget(spec, "count", 1);
        if (n <= 1)
            return mtp_svc_write_ids(&b->body, MTP_SVC_msgs_ack, x->warm_pongs, 1);
        /* By hand: the library refuses to write more than the 8192 ids the page allows. */
        int rc = mtp_wr_u32(&b->body, MTP_SVC_msgs_ack);
        if (rc == 0)
            rc = mtp_wr_u32(&b->body, 0x1cb5c415u); /* vector */
        if (rc == 0)
            rc = mtp_wr_u32(&b->body, (uint32_t)n);
        for (long i = 0; rc == 0 && i < n; i++)
            rc = mtp_wr_u64(&b->body, x->warm_pongs[0] + 4 * (uint64_t)i);
        return rc < 0 ? probe_fail(P, "msgs_ack of %ld ids does not fit", n) : 0;
    }
    if (strcmp(body, "container") == 0) {
        /* msg_container: the nested messages first (their ids below the container's, unless "order"). */
        b->content = false;
        const char *kind = sget(spec, "container");
        long n = iget(spec, "messages", 1);
        struct mtp_container_wr cw;
        if (mtp_container_begin(&cw, &b->body) < 0)
            return -1;
        uint64_t base = 0;
        if (kind && strcmp(kind, "order") == 0)
            base = probe_next_msg_id(P, &x->s) + (UINT64_C(1) << 32); /* nested ids 1 s above the container's */
        for (long i = 0; i < n; i++) {
            uint8_t pb[16];
            struct mtp_wr pw;
            mtp_wr_init_fixed(&pw, pb, sizeof pb, NULL);
            if (add_ping(x, b, &pw) < 0)
                return -1;
            uint64_t id = base ? base + 4 * (uint64_t)i : probe_next_msg_id(P, &x->s);
            int32_t sq = (int32_t)(2 * x->s.content++ + 1);
            if (b->nnested < MAX_IDS)
                b->nested[b->nnested++] = id;
            if (kind && strcmp(kind, "nested") == 0 && i == 0) {
                /* a container inside the container */
                uint8_t inner[64];
                struct mtp_wr iw;
                mtp_wr_init_fixed(&iw, inner, sizeof inner, NULL);
                struct mtp_container_wr icw;
                uint64_t iid = id;
                id = probe_next_msg_id(P, &x->s);
                if (mtp_container_begin(&icw, &iw) < 0 || mtp_container_add(&icw, iid, sq, pb, pw.len) < 0 ||
                    mtp_container_end(&icw) < 0 || mtp_container_add(&cw, id, 0, iw.p, iw.len) < 0)
                    return -1;
                if (b->nnested < MAX_IDS)
                    b->nested[b->nnested++] = id;
                continue;
            }
            if (mtp_container_add(&cw, id, sq, pb, pw.len) < 0)
                return -1;
        }
        if (mtp_container_end(&cw) < 0)
            return -1;
        if (kind && strcmp(kind, "overrun") == 0) {
            /* the last nested message claims 64 bytes more than the container holds */
            size_t at = b->body.len - (16 + 12) + 12;
            mtp_store_u32(b->body.p + at, mtp_load_u32(b->body.p + at) + 64);
        }
        return 0;
    }
    return probe_fail(P, "unknown body \"%s\"", body);
}

static int run_message(struct probe *P, const json_t *spec);

/* S-ENC-19: the reaction to the case's packet against the reaction to a flipped msg_key. */
static int run_compare(struct probe *P, const json_t *spec)
{
    json_t *ref = json_pack("{s:s, s:s}", "do", "message", "msg_key", "flip");
    json_t *own = json_deep_copy(spec);
    json_object_del(own, "compare");
    char r1[64] = "", r2[64] = "";
    size_t e1 = 0, e2 = 0;
    int rc = run_message(P, ref);
    if (rc == 0) {
        snprintf(r1, sizeof r1, "%s", P->last_reaction);
        e1 = P->last_reaction_ev;
        rc = run_message(P, own);
        snprintf(r2, sizeof r2, "%s", P->last_reaction);
        e2 = P->last_reaction_ev;
    }
    json_decref(ref);
    json_decref(own);
    if (rc < 0)
        return -1;
    size_t ev[2] = {e1, e2};
    bool same = strcmp(r1, r2) == 0;
    probe_reaction(P, same ? "same-reaction" : "different-reaction", NULL, 0, ev, 2,
                   "a flipped msg_key got %s; this packet got %s", r1, r2);
    return 0;
}

static int run_message(struct probe *P, const json_t *spec)
{
    if (sget(spec, "compare"))
        return run_compare(P, spec);
    struct sctx x;
    memset(&x, 0, sizeof x);
    struct watch w;
    watch_init(&w);
    struct msgbuild *b = calloc(1, sizeof *b);
    int rc = b ? setup(&x, P, (size_t)iget(spec, "before", 1)) : -1;
    if (rc < 0)
        goto out;
    const char *mid = sget(spec, "msg_id");
    const char *sq = sget(spec, "seqno");
    const char *salt = sget(spec, "salt");
    struct probe_msg m = {0};
    char hostile[96] = "";
    /* Window cases: fill the server's window of received msg_ids first. */
    uint64_t lowest_fill = 0;
    if (mid && strcmp(mid, "below_window") == 0) {
        size_t sent = 0;
        while (sent < WINDOW_FILL) {
            struct mtp_wr cw;
            mtp_wr_init_dyn(&cw, 1u << 16, NULL);
            struct mtp_container_wr cc;
            PROBE_MUST(P, mtp_container_begin(&cc, &cw));
            for (int i = 0; i < 700 && sent < WINDOW_FILL; i++, sent++) {
                uint8_t ab[32];
                struct mtp_wr aw;
                mtp_wr_init_fixed(&aw, ab, sizeof ab, NULL);
                PROBE_MUST(P, mtp_svc_write_ids(&aw, MTP_SVC_msgs_ack, x.warm_pongs, 1));
                uint64_t id = probe_next_msg_id(P, &x.s);
                if (lowest_fill == 0)
                    lowest_fill = id;
                PROBE_MUST(P, mtp_container_add(&cc, id, (int32_t)(2 * x.s.content), ab, aw.len));
            }
            PROBE_MUST(P, mtp_container_end(&cc));
            struct probe_msg fm = {.body = cw.p, .len = cw.len};
            rc = probe_send_msg(&x.c, &x.s, &fm, NULL, NULL);
            mtp_wr_free(&cw);
            if (rc < 0)
                goto out;
        }
        /* Did the server forget the first of them?  Then its window is full. */
        uint8_t sb[32];
        struct mtp_wr sw;
        mtp_wr_init_fixed(&sw, sb, sizeof sb, NULL);
        PROBE_MUST(P, mtp_svc_write_ids(&sw, MTP_SVC_msgs_state_req, &lowest_fill, 1));
        struct probe_msg sm = {.body = sb, .len = sw.len, .content = true};
        uint64_t req;
        if ((rc = probe_send_msg(&x.c, &x.s, &sm, &req, NULL)) < 0)
            goto out;
        int state = -1;
        size_t state_ev = 0;
        int64_t deadline = probe_mono_ms() + P->cfg.wait_ms;
        while (state < 0) {
            struct probe_rx r;
            if (probe_recv(&x.c, deadline, &r) < 0 || r.kind == PRX_TIMEOUT || r.kind == PRX_CLOSED ||
                r.kind == PRX_TERR) {
                probe_rx_free(&r);
                break;
            }
            if (r.kind == PRX_ENC && r.body_len >= 4 && mtp_load_u32(r.body) == MTP_SVC_msgs_state_info) {
                struct mtp_rd rd;
                struct mtp_svc svc;
                mtp_rd_init(&rd, r.body, r.body_len, NULL);
                if (mtp_svc_parse(&rd, &svc) == 0 && svc.u.state_info.req_msg_id == req &&
                    svc.u.state_info.info_len == 1) {
                    state = svc.u.state_info.info[0] & 7;
                    state_ev = r.ev;
                }
            }
            probe_rx_free(&r);
        }
        if (state != MTP_STATE_UNKNOWN) {
            probe_reaction(P, "window-not-full", NULL, 0, &state_ev, 1,
                           "after %d msg_ids the server still knows the first of them (msgs_state_info status %d): "
                           "its window of received ids is larger, so no msg_id can be below it",
                           WINDOW_FILL, state);
            rc = 0;
            goto out;
        }
    }
    rc = build_body(&x, spec, b);
    if (rc < 0) {
        probe_fail(P, "cannot build the message the case describes");
        goto out;
    }
    m.body = b->body.p;
    m.len = b->body.len;
    m.content = b->content;
    /* the header */
    int64_t snow = probe_server_now(P, &x.k);
    if (mid == NULL) {
    } else if (strncmp(mid, "past:", 5) == 0) {
        m.msg_id = mtp_msgid_from_ms(snow - 1000 * atol(mid + 5));
        snprintf(hostile, sizeof hostile, "msg_id %s s in the past", mid + 5);
    } else if (strncmp(mid, "future:", 7) == 0) {
        m.msg_id = mtp_msgid_from_ms(snow + 1000 * atol(mid + 7));
        snprintf(hostile, sizeof hostile, "msg_id %s s in the future", mid + 7);
    } else if (strncmp(mid, "mod4:", 5) == 0) {
        m.msg_id = probe_next_msg_id(P, &x.s) + (uint64_t)atoi(mid + 5);
        snprintf(hostile, sizeof hostile, "msg_id %s mod 4", mid + 5);
    } else if (strcmp(mid, "low32_zero") == 0) {
        m.msg_id = (uint64_t)(snow / 1000 + 1) << 32;
        snprintf(hostile, sizeof hostile, "msg_id with empty lower 32 bits");
    } else if (strcmp(mid, "duplicate") == 0) {
        m.msg_id = x.warm_ids[x.nwarm - 1];
        m.seqno_set = true;
        m.seqno = x.warm_seqnos[x.nwarm - 1];
        w.orig_ping_id = x.warm_pings[x.nwarm - 1];
        w.have_orig = true;
        if (bget(spec, "same_body")) {
            /* the very same message: its ping_id too */
            b->ping_ids[0] = w.orig_ping_id;
            mtp_wr_reset(&b->body);
            PROBE_MUST(P, probe_body_ping(&b->body, w.orig_ping_id));
            m.body = b->body.p;
            m.len = b->body.len;
        }
        snprintf(hostile, sizeof hostile, "the msg_id of an earlier message");
    } else if (strcmp(mid, "container_reuse") == 0) {
        m.msg_id = x.warm_ids[x.nwarm - 1];
        /* its nested message must be below it: re-number the (one) nested ping */
        if (b->nnested == 1 && x.nwarm >= 2) {
            uint64_t nid = x.warm_ids[x.nwarm - 2] + 4;
            mtp_store_u64(b->body.p + 8, nid);
            b->nested[0] = nid;
        }
        snprintf(hostile, sizeof hostile, "a container with the msg_id of an earlier message");
    } else if (strcmp(mid, "below_window") == 0) {
        m.msg_id = lowest_fill - 4;
        snprintf(hostile, sizeof hostile, "msg_id below every stored one");
    }
    if (sq && strcmp(sq, "even") == 0) {
        m.seqno_set = true;
        m.seqno = (int32_t)(2 * x.s.content);
        snprintf(hostile, sizeof hostile, "an even seqno on a content-related message");
    } else if (sq && strcmp(sq, "odd") == 0) {
        m.seqno_set = true;
        m.seqno = (int32_t)(2 * x.s.content + 1);
        snprintf(hostile, sizeof hostile, "an odd seqno on a message that is not content-related");
    } else if (sq && strcmp(sq, "too_low") == 0) {
        /* below the seqno of the warm-up message, which has a lower msg_id */
        m.seqno_set = true;
        m.seqno = x.warm_seqnos[x.nwarm - 1] - 2;
        snprintf(hostile, sizeof hostile, "seqno %d after seqno %d", (int)m.seqno, (int)x.warm_seqnos[x.nwarm - 1]);
    } else if (sq && strcmp(sq, "too_high") == 0) {
        /* a msg_id between the two warm-up messages, with a seqno above the later one's */
        m.msg_id = x.warm_ids[x.nwarm - 1] - 4;
        m.seqno_set = true;
        m.seqno = x.warm_seqnos[x.nwarm - 1] + 2;
        snprintf(hostile, sizeof hostile, "seqno %d below a message with a higher msg_id and seqno %d", (int)m.seqno,
                 (int)x.warm_seqnos[x.nwarm - 1]);
    }
    if (salt && strcmp(salt, "wrong") == 0) {
        m.salt_set = true;
        m.salt = rand64(P);
        snprintf(hostile, sizeof hostile, "a salt the server never issued");
    }
    if (sis(spec, "session", "new")) {
        m.session_set = true;
        m.session_id = rand64(P);
    }
    /* the packet */
    m.padding = (int)iget(spec, "padding", 0);
    if (m.padding)
        snprintf(hostile, sizeof hostile, "%d bytes of padding", m.padding);
    const char *len = sget(spec, "length");
    if (len) {
        m.length_set = true;
        size_t plain = 32 + m.len + (m.padding ? (size_t)m.padding : mtp_msg_padding_len(m.len, 0));
        if (strcmp(len, "beyond") == 0)
            m.length = (uint32_t)(plain - 32 + 4);
        else if (strcmp(len, "unaligned") == 0)
            m.length = (uint32_t)m.len + 1;
        else if (strcmp(len, "negative") == 0)
            m.length = 0xfffffffcu;
        else
            m.length = 0x7ffffffcu;
        snprintf(hostile, sizeof hostile, "message_data_length %s (%" PRIu32 ")", len, m.length);
    }
    if (sis(spec, "msg_key", "flip")) {
        m.flip_msg_key = true;
        snprintf(hostile, sizeof hostile, "msg_key with a bit flipped");
    }
    if (sis(spec, "direction", "server")) {
        m.server_direction = true;
        snprintf(hostile, sizeof hostile, "encrypted with x = 8 (the server's direction)");
    }
    if (iget(spec, "mtproto", 2) == 1) {
        m.mtproto1 = true;
        snprintf(hostile, sizeof hostile, "MTProto 1.0 encryption");
    }
    if (sis(spec, "auth_key_id", "unknown")) {
        m.unknown_key = true;
        snprintf(hostile, sizeof hostile, "an auth_key_id the server does not know");
    }
    if (sis(spec, "ciphertext", "unaligned")) {
        m.ct_extra = 4;
        snprintf(hostile, sizeof hostile, "ciphertext not a multiple of 16");
    }
    if (hostile[0] == '\0')
        snprintf(hostile, sizeof hostile, "%s", sget(spec, "body") ? sget(spec, "body") : "ping");
    m.hostile = hostile;
    w.want_code = (int32_t)iget(spec, "code", 0);
    for (size_t i = 0; i < b->npings; i++)
        w.ping_ids[w.npings++] = b->ping_ids[i];
    size_t hev = 0;
    uint64_t hid;
    if (bget(spec, "reflect")) {
        /* the server's own last packet, sent back to it */
        size_t n;
        const uint8_t *p = x.c.last_rx.p;
        n = x.c.last_rx.len;
        hid = 0;
        json_t *o = probe_ev_new(P, "raw", x.c.id);
        json_object_set_new(o, "dir", json_string("c2s"));
        json_object_set_new(o, "len", json_integer((json_int_t)n));
        json_object_set_new(o, "hostile", json_string("the server's own last packet, sent back"));
        hev = probe_emit(P, o);
        /* A server that decrypts it finds its own message: any notification about that msg_id shows it. */
        watch_id(&w, x.c.last_rx_msg_id);
        w.npings = 0;
        if ((rc = probe_send_frame(&x.c, p, n, NULL)) < 0)
            goto out;
    } else {
        if ((rc = probe_send_msg(&x.c, &x.s, &m, &hid, &hev)) < 0)
            goto out;
        watch_id(&w, hid);
    }
    for (size_t i = 0; i < b->nnested; i++)
        watch_id(&w, b->nested[i]);
    if (!bget(spec, "no_sentinel") && (rc = send_sentinel(&x, &w, sis(spec, "sentinel", "same"))) < 0)
        goto out;
    if ((rc = collect(&x, &w, P->cfg.wait_ms)) < 0)
        goto out;
    if (w.badsalt_ev && salt) {
        /* S-SES-30: the salt the notification gives must work. */
        uint64_t good = w.new_salt, pid = rand64(P);
        uint8_t pb[16];
        struct mtp_wr pw;
        mtp_wr_init_fixed(&pw, pb, sizeof pb, NULL);
        PROBE_MUST(P, probe_body_ping(&pw, pid));
        struct probe_msg rm = {.body = pb, .len = pw.len, .content = true, .salt_set = true, .salt = good};
        struct watch w2;
        watch_init(&w2);
        w2.ping_ids[w2.npings++] = pid;
        uint64_t rid;
        if ((rc = probe_send_msg(&x.c, &x.s, &rm, &rid, NULL)) == 0) {
            watch_id(&w2, rid);
            w2.sentinel = 0;
            int64_t deadline = probe_mono_ms() + P->cfg.wait_ms;
            while (!w2.answer_ev && !w2.closed) {
                struct probe_rx r;
                if (probe_recv(&x.c, deadline, &r) < 0 || r.kind == PRX_TIMEOUT) {
                    probe_rx_free(&r);
                    break;
                }
                watch_item(&w2, &r);
                probe_rx_free(&r);
            }
        }
        size_t ev[2] = {w.badsalt_ev, w2.answer_ev};
        if (w2.answer_ev)
            probe_reaction(P, "bad_server_salt", &hev, 1, ev, 2,
                           "bad_server_salt (event %zu); the message re-sent with its new_server_salt was answered "
                           "(event %zu)",
                           w.badsalt_ev, w2.answer_ev);
        else
            probe_reaction(P, "bad_server_salt-unusable", &hev, 1, ev, 1,
                           "bad_server_salt (event %zu), but the message re-sent with its new_server_salt got no answer",
                           w.badsalt_ev);
        watch_free(&w2);
        rc = 0;
        goto out;
    }
    if (bget(spec, "alive_after")) {
        /* Whatever the server did, it must still take new connections. */
        struct probe_conn c2;
        struct probe_rx r = {0};
        uint8_t pb[64];
        struct mtp_wr pw;
        mtp_wr_init_fixed(&pw, pb, sizeof pb, NULL);
        struct mtp_auth_req_pq rq = {.multi = true};
        PROBE_MUST(P, mtp_env_rand(&P->env, rq.nonce, 16));
        PROBE_MUST(P, mtp_auth_tl_write_req_pq(&pw, &rq));
        bool alive = probe_open(P, &c2, NULL) == 0 && probe_send_plain(&c2, pw.p, pw.len, NULL, NULL) == 0 &&
                     await_plain(&c2, &r) == 0 && r.kind == PRX_PLAIN;
        probe_rx_free(&r);
        probe_close(&c2);
        if (!alive) {
            probe_reaction(P, "crash", &hev, 1, NULL, 0, "afterwards the server answers no req_pq_multi on a new "
                                                         "connection: %s", P->error[0] ? P->error : "no resPQ");
            P->error[0] = '\0';
            rc = 0;
            goto out;
        }
    }
    if (m.mtproto1 && w.junk_ev && !w.answer_ev && !w.closed && !w.terr_ev) {
        /* A server that switched to MTProto 1.0 answers in 1.0, which does not decrypt as 2.0. */
        probe_reaction(P, "answer", &hev, 1, &w.junk_ev, 1,
                       "the server answered with a packet that is not MTProto 2.0 (event %zu): it took the 1.0 packet",
                       w.junk_ev);
        rc = 0;
        goto out;
    }
    finish_watch(P, &w, &hev, 1, NULL);
    rc = 0;
out:
    if (b)
        mtp_wr_free(&b->body);
    free(b);
    watch_free(&w);
    sctx_free(&x);
    return rc < 0 ? -1 : 0;
}

/* ---- waiting for one answer ---- */

struct await {
    bool (*match)(void *ctx, const struct seen *m); /* true for the awaited answer */
    void *ctx;
    size_t ev;
    bool closed;
    int32_t terr;
    size_t terr_ev;
    struct sctx *x;
};

static void await_msg_cb(void *ctx, const struct seen *m)
{
    struct await *a = ctx;
    if (a->ev == 0 && a->match(a->ctx, m))
        a->ev = m->ev;
}

/* Reads until the match, a close or the wait's end; 0 (a->ev says whether it came) or -1. */
static int await_match(struct sctx *x, struct await *a, int64_t wait_ms)
{
    int64_t deadline = probe_mono_ms() + wait_ms;
    while (a->ev == 0 && !a->closed) {
        struct probe_rx r;
        if (probe_recv(&x->c, deadline, &r) < 0)
            return -1;
        sync_from(x, &r);
        each_msg(&r, await_msg_cb, a);
        if (r.kind == PRX_TERR && a->terr_ev == 0) {
            a->terr = r.code;
            a->terr_ev = r.ev;
        }
        enum probe_rx_kind kind = r.kind;
        probe_rx_free(&r);
        if (kind == PRX_CLOSED)
            a->closed = true;
        if (kind == PRX_TIMEOUT)
            break;
    }
    return 0;
}

static int send_body(struct sctx *x, struct probe_sess *s, const uint8_t *b, size_t n, bool content, uint64_t *id,
                     size_t *ev, const char *hostile)
{
    struct probe_msg m = {.body = b, .len = n, .content = content, .hostile = hostile};
    return probe_send_msg(&x->c, s, &m, id, ev);
}

static void not_answered(struct probe *P, const struct await *a, size_t hev, const char *what)
{
    if (a->terr_ev)
        probe_reaction(P, "wrong-answer", &hev, 1, &a->terr_ev, 1, "%s: transport error %d instead", what, (int)a->terr);
    else if (a->closed)
        probe_reaction(P, "wrong-answer", &hev, 1, NULL, 0, "%s: the server closed the connection instead", what);
    else
        probe_reaction(P, "wrong-answer", &hev, 1, NULL, 0, "%s: no answer within %lld ms", what,
                       (long long)P->cfg.wait_ms);
}

/* A service answer whose reference field is req (msgs_state_info, future_salts, rpc_result ...). */
struct by_req {
    uint32_t ctor;
    uint64_t req;
    struct mtp_svc svc;
    uint8_t copy[8192];
    size_t len;
};

static bool match_req(void *ctx, const struct seen *m)
{
    struct by_req *q = ctx;
    if (m->ctor != q->ctor || mtp_rd_left(&m->body) > sizeof q->copy)
        return false;
    q->len = mtp_rd_left(&m->body);
    memcpy(q->copy, mtp_rd_cur(&m->body), q->len);
    struct mtp_rd r;
    mtp_rd_init(&r, q->copy, q->len, NULL);
    if (mtp_svc_parse(&r, &q->svc) < 0)
        return false;
    uint64_t ref = q->ctor == MTP_SVC_msgs_state_info ? q->svc.u.state_info.req_msg_id
                   : q->ctor == MTP_SVC_future_salts  ? q->svc.u.future_salts.req_msg_id
                   : q->ctor == MTP_SVC_pong          ? q->svc.u.pong.msg_id
                                                      : q->svc.u.session.session_id;
    return ref == q->req;
}

/* ---- service messages ---- */

static int run_state_req(struct probe *P, const json_t *spec)
{
    (void)spec;
    struct sctx x;
    if (setup(&x, P, 1) < 0) {
        sctx_free(&x);
        return -1;
    }
    int64_t snow = probe_server_now(P, &x.k);
    uint64_t ids[3] = {x.warm_ids[0], probe_next_msg_id(P, &x.s) + (UINT64_C(2) << 32),
                       mtp_msgid_from_ms(snow - 290000)};
    uint8_t b[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    PROBE_MUST(P, mtp_svc_write_ids(&w, MTP_SVC_msgs_state_req, ids, 3));
    struct by_req q = {.ctor = MTP_SVC_msgs_state_info};
    size_t hev;
    int rc = send_body(&x, &x.s, w.p, w.len, true, &q.req, &hev, "msgs_state_req: received, higher unknown, far below");
    struct await a = {.match = match_req, .ctx = &q, .x = &x};
    if (rc == 0)
        rc = await_match(&x, &a, P->cfg.wait_ms);
    if (rc == 0 && a.ev == 0)
        not_answered(P, &a, hev, "no msgs_state_info for the msgs_state_req");
    else if (rc == 0) {
        const uint8_t *in = q.svc.u.state_info.info;
        size_t n = q.svc.u.state_info.info_len;
        bool ok = n == 3 && (in[0] & 7) == MTP_STATE_RECEIVED && (in[1] & 7) == MTP_STATE_NOT_YET &&
                  ((in[2] & 7) == MTP_STATE_UNKNOWN || (in[2] & 7) == MTP_STATE_NOT_RECEIVED);
        if (ok)
            probe_reaction(P, "answer", &hev, 1, &a.ev, 1,
                           "msgs_state_info with one byte per id: %d (received), %d (not yet), %d (too low)", in[0],
                           in[1], in[2]);
        else
            probe_reaction(P, "wrong-answer", &hev, 1, &a.ev, 1,
                           "msgs_state_info with %zu bytes for 3 ids (%d %d %d): expected 4, 3 and 1 or 2 in the low "
                           "bits",
                           n, n > 0 ? in[0] : -1, n > 1 ? in[1] : -1, n > 2 ? in[2] : -1);
    }
    sctx_free(&x);
    return rc;
}

struct resent {
    uint64_t pong_msg_id, ping_id, req;
    bool state_info;
};
static bool match_resent(void *ctx, const struct seen *m)
{
    struct resent *r = ctx;
    if (m->msg_id == r->pong_msg_id && m->ctor != MTP_SVC_msg_container)
        return true;
    struct mtp_rd rd = m->body;
    struct mtp_svc svc;
    if (m->ctor == MTP_SVC_msg_container || m->ctor == MTP_SVC_rpc_result || mtp_svc_parse(&rd, &svc) < 0)
        return false;
    if (svc.id == MTP_SVC_pong && svc.u.pong.ping_id == r->ping_id)
        return true;
    if (svc.id == MTP_SVC_msgs_state_info && svc.u.state_info.req_msg_id == r->req) {
        r->state_info = true;
        return true;
    }
    return false;
}

static int run_resend_req(struct probe *P, const json_t *spec)
{
    struct sctx x;
    if (setup(&x, P, 1) < 0) {
        sctx_free(&x);
        return -1;
    }
    bool unknown = sis(spec, "ids", "unknown");
    uint64_t ids[2] = {x.warm_pongs[0], x.warm_ids[0]};
    if (unknown)
        ids[0] = x.warm_pongs[0] + (UINT64_C(1) << 32) + 2; /* a server-style id it never sent */
    uint8_t b[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    PROBE_MUST(P, mtp_svc_write_ids(&w, MTP_SVC_msg_resend_req, ids, unknown ? 2 : 1));
    size_t hev;
    int rc;
    if (unknown) {
        struct by_req q = {.ctor = MTP_SVC_msgs_state_info};
        rc = send_body(&x, &x.s, w.p, w.len, true, &q.req, &hev, "msg_resend_req: an unknown id and one of ours");
        struct await a = {.match = match_req, .ctx = &q, .x = &x};
        if (rc == 0)
            rc = await_match(&x, &a, P->cfg.wait_ms);
        if (rc == 0 && a.ev == 0)
            not_answered(P, &a, hev, "no msgs_state_info for a msg_resend_req of unknown ids");
        else if (rc == 0 && q.svc.u.state_info.info_len == 2)
            probe_reaction(P, "answer", &hev, 1, &a.ev, 1, "msgs_state_info for both ids requested");
        else if (rc == 0)
            probe_reaction(P, "wrong-answer", &hev, 1, &a.ev, 1, "msgs_state_info with %zu bytes for 2 ids",
                           q.svc.u.state_info.info_len);
    } else {
        struct resent r = {.pong_msg_id = x.warm_pongs[0], .ping_id = x.warm_pings[0]};
        rc = send_body(&x, &x.s, w.p, w.len, true, &r.req, &hev, "msg_resend_req for the server's pong");
        struct await a = {.match = match_resent, .ctx = &r, .x = &x};
        if (rc == 0)
            rc = await_match(&x, &a, P->cfg.wait_ms);
        if (rc == 0 && a.ev == 0)
            not_answered(P, &a, hev, "the requested message was not re-sent");
        else if (rc == 0)
            probe_reaction(P, "answer", &hev, 1, &a.ev, 1, "%s",
                           r.state_info ? "msgs_state_info for it (the server forgot the message)"
                                        : "the pong was sent again");
    }
    sctx_free(&x);
    return rc;
}

static int run_future_salts(struct probe *P, const json_t *spec)
{
    struct sctx x;
    if (setup(&x, P, 1) < 0) {
        sctx_free(&x);
        return -1;
    }
    int32_t num = (int32_t)iget(spec, "num", 3);
    uint8_t b[16];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    PROBE_MUST(P, mtp_svc_write_get_future_salts(&w, num));
    struct by_req q = {.ctor = MTP_SVC_future_salts};
    size_t hev;
    int rc = send_body(&x, &x.s, w.p, w.len, true, &q.req, &hev, NULL);
    struct await a = {.match = match_req, .ctx = &q, .x = &x};
    if (rc == 0)
        rc = await_match(&x, &a, P->cfg.wait_ms);
    if (rc < 0)
        goto out;
    if (a.ev == 0) {
        not_answered(P, &a, hev, "no future_salts for get_future_salts");
        goto out;
    }
    uint32_t n = q.svc.u.future_salts.count;
    if (n < 1 || n > (uint32_t)num) {
        probe_reaction(P, "wrong-answer", &hev, 1, &a.ev, 1, "future_salts with %u salts for num = %d", n, (int)num);
        goto out;
    }
    if (bget(spec, "record")) {
        probe_reaction(P, "answer", &hev, 1, &a.ev, 1, "future_salts with %u salts for num = %d", n, (int)num);
        goto out;
    }
    /* The salt valid now must work. */
    int32_t now = (int32_t)(probe_server_now(P, &x.k) / 1000);
    struct mtp_svc_future_salt fs, use = {0};
    bool found = false;
    while (mtp_svc_future_salt_next(&q.svc, &fs) == MTP_OK)
        if (!found && fs.valid_since <= now + 1 && now < fs.valid_until) {
            use = fs;
            found = true;
        }
    if (!found) {
        probe_reaction(P, "wrong-answer", &hev, 1, &a.ev, 1, "none of the %u future salts is valid now (%d)", n,
                       (int)now);
        goto out;
    }
    uint64_t ping_id = rand64(P);
    uint8_t pb[16];
    mtp_wr_init_fixed(&w, pb, sizeof pb, NULL);
    PROBE_MUST(P, probe_body_ping(&w, ping_id));
    struct probe_msg m = {.body = pb, .len = w.len, .content = true, .salt_set = true, .salt = use.salt};
    struct by_req pq = {.ctor = MTP_SVC_pong};
    if ((rc = probe_send_msg(&x.c, &x.s, &m, &pq.req, NULL)) < 0)
        goto out;
    struct await a2 = {.match = match_req, .ctx = &pq, .x = &x};
    if ((rc = await_match(&x, &a2, P->cfg.wait_ms)) < 0)
        goto out;
    size_t ev[2] = {a.ev, a2.ev};
    if (a2.ev)
        probe_reaction(P, "answer", &hev, 1, ev, 2, "future_salts with %u salts; a ping under the one valid now was "
                                                    "answered", n);
    else
        probe_reaction(P, "wrong-answer", &hev, 1, ev, 1, "future_salts with %u salts, but a ping under the one "
                                                          "valid now got no pong", n);
out:
    sctx_free(&x);
    return rc;
}

struct destroyed {
    uint64_t session_id, req;
    uint32_t ctor;
};
static bool match_destroy(void *ctx, const struct seen *m)
{
    struct destroyed *d = ctx;
    struct mtp_rd r = m->body;
    uint32_t ctor = m->ctor;
    if (ctor == MTP_SVC_rpc_result) {
        uint64_t req;
        if (mtp_rd_u32(&r, &ctor, "ctor") < 0 || mtp_rd_u64(&r, &req, "req") < 0 || req != d->req ||
            mtp_rd_peek_u32(&r, &ctor, "ctor") < 0)
            return false;
    }
    if (ctor != MTP_SVC_destroy_session_ok && ctor != MTP_SVC_destroy_session_none)
        return false;
    struct mtp_svc svc;
    if (mtp_svc_parse(&r, &svc) < 0 || svc.u.session.session_id != d->session_id)
        return false;
    d->ctor = ctor;
    return true;
}

static int run_destroy_session(struct probe *P, const json_t *spec)
{
    struct sctx x;
    if (setup(&x, P, 1) < 0) {
        sctx_free(&x);
        return -1;
    }
    const char *which = sget(spec, "session");
    struct probe_sess other;
    probe_sess_init(P, &other, &x.k);
    other.ids.offset_ms = x.k.offset_ms;
    int rc = 0;
    struct destroyed d = {0};
    if (strcmp(which, "other") == 0) {
        if ((rc = honest_ping(&x, &other, NULL, NULL, NULL, NULL)) < 0)
            goto out;
        d.session_id = other.session_id;
    } else if (strcmp(which, "unknown") == 0) {
        d.session_id = rand64(P);
    } else {
        d.session_id = x.s.session_id;
    }
    uint8_t b[16];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    PROBE_MUST(P, mtp_svc_write_session(&w, MTP_SVC_destroy_session, d.session_id));
    size_t hev;
    if ((rc = send_body(&x, &x.s, w.p, w.len, true, &d.req, &hev, NULL)) < 0)
        goto out;
    struct await a = {.match = match_destroy, .ctx = &d, .x = &x};
    if ((rc = await_match(&x, &a, P->cfg.wait_ms)) < 0)
        goto out;
    if (strcmp(which, "current") == 0) {
        /* Any answer (or none) passes; the key must still be served. */
        struct probe_sess third;
        probe_sess_init(P, &third, &x.k);
        third.ids.offset_ms = x.k.offset_ms;
        if (a.closed) {
            probe_reaction(P, "answer", &hev, 1, NULL, 0, "the server closed the connection");
        } else if (honest_ping(&x, &third, NULL, NULL, NULL, NULL) == 0) {
            size_t ev = P->nev - 1;
            probe_reaction(P, "answer", &hev, 1, &ev, 1, "the key is still served in a new session%s",
                           a.ev ? " (and the destroy_session was answered)" : "");
        } else {
            probe_reaction(P, "wrong-answer", &hev, 1, NULL, 0,
                           "after destroy_session of the current session the key is not served any more: %s", P->error);
            P->error[0] = '\0';
        }
        goto out;
    }
    uint32_t want = strcmp(which, "other") == 0 ? MTP_SVC_destroy_session_ok : MTP_SVC_destroy_session_none;
    if (a.ev == 0)
        not_answered(P, &a, hev, "no destroy_session_ok / destroy_session_none");
    else if (d.ctor == want)
        probe_reaction(P, "answer", &hev, 1, &a.ev, 1, "%s with the session_id asked for",
                       want == MTP_SVC_destroy_session_ok ? "destroy_session_ok" : "destroy_session_none");
    else
        probe_reaction(P, "wrong-answer", &hev, 1, &a.ev, 1, "%s for %s session",
                       d.ctor == MTP_SVC_destroy_session_ok ? "destroy_session_ok" : "destroy_session_none",
                       want == MTP_SVC_destroy_session_ok ? "an existing" : "an unknown");
out:
    sctx_free(&x);
    return rc;
}

static int run_ping(struct probe *P, const json_t *spec)
{
    struct sctx x;
    if (setup(&x, P, 0) < 0) {
        sctx_free(&x);
        return -1;
    }
    long delay = iget(spec, "disconnect_delay", -1);
    bool reset = bget(spec, "reset");
    uint8_t b[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    uint64_t ping_id = rand64(P);
    if (delay < 0)
        PROBE_MUST(P, mtp_svc_write_ping(&w, ping_id));
    else
        PROBE_MUST(P, mtp_svc_write_ping_delay_disconnect(&w, ping_id, (int32_t)delay));
    struct by_req q = {.ctor = MTP_SVC_pong};
    size_t hev;
    int64_t t0 = probe_mono_ms();
    int rc = send_body(&x, &x.s, w.p, w.len, true, &q.req, &hev, NULL);
    struct await a = {.match = match_req, .ctx = &q, .x = &x};
    if (rc == 0)
        rc = await_match(&x, &a, P->cfg.wait_ms);
    if (rc < 0)
        goto out;
    if (a.ev == 0) {
        not_answered(P, &a, hev, "no pong");
        goto out;
    }
    if (q.svc.u.pong.ping_id != ping_id) {
        probe_reaction(P, "wrong-answer", &hev, 1, &a.ev, 1, "a pong for the ping's msg_id with another ping_id");
        goto out;
    }
    if (delay < 0) {
        probe_reaction(P, "answer", &hev, 1, &a.ev, 1, "pong with the ping's msg_id and ping_id");
        goto out;
    }
    if (reset) {
        /* A second one within the delay resets the timer. */
        struct timespec ts = {delay * 2 / 3, (delay * 2 % 3) * 333333333L};
        nanosleep(&ts, NULL);
        mtp_wr_reset(&w);
        PROBE_MUST(P, mtp_svc_write_ping_delay_disconnect(&w, rand64(P), (int32_t)delay));
        t0 = probe_mono_ms();
        if ((rc = send_body(&x, &x.s, w.p, w.len, true, NULL, &hev, NULL)) < 0)
            goto out;
    }
    /* Then the close, about delay seconds after the last one. */
    struct await none = {.match = match_req, .ctx = &(struct by_req){.ctor = 0}, .x = &x};
    if ((rc = await_match(&x, &none, (delay + 6) * 1000)) < 0)
        goto out;
    int64_t dt = probe_mono_ms() - t0;
    size_t ev = P->nev - 1;
    if (!none.closed)
        probe_reaction(P, "wrong-answer", &hev, 1, &a.ev, 1, "pong, but the connection was still open %lld ms later",
                       (long long)dt);
    else if (dt < delay * 1000 - 500)
        probe_reaction(P, "wrong-answer", &hev, 1, &ev, 1, "the connection closed %lld ms after the %s, before the %ld s",
                       (long long)dt, reset ? "second ping_delay_disconnect (the timer was not reset)" : "request",
                       delay);
    else
        probe_reaction(P, "answer", &hev, 1, &ev, 1, "pong, then the connection closed %lld ms after the %s "
                                                     "ping_delay_disconnect (delay %ld s)",
                       (long long)dt, reset ? "second" : "", delay);
out:
    sctx_free(&x);
    return rc;
}

/* S-SES-34: every content-related message is acknowledged, by msgs_ack or an answer. */
struct acks {
    uint64_t ids[4];
    size_t n;
    size_t ev[4];
};
static void acks_msg(void *ctx, const struct seen *m)
{
    struct acks *k = ctx;
    struct mtp_rd r = m->body;
    struct mtp_svc svc;
    uint64_t ref = 0;
    if (m->ctor == MTP_SVC_rpc_result) {
        uint32_t c;
        if (mtp_rd_u32(&r, &c, "ctor") == 0 && mtp_rd_u64(&r, &ref, "req") == 0)
            for (size_t i = 0; i < k->n; i++)
                if (k->ids[i] == ref)
                    first(&k->ev[i], m->ev);
        return;
    }
    if (m->ctor == MTP_SVC_msg_container || mtp_svc_parse(&r, &svc) < 0)
        return;
    if (svc.id == MTP_SVC_msgs_ack) {
        uint64_t id;
        while (mtp_svc_ids_next(&svc.u.ids, &id) == MTP_OK)
            for (size_t i = 0; i < k->n; i++)
                if (k->ids[i] == id)
                    first(&k->ev[i], m->ev);
        return;
    }
    ref = svc.id == MTP_SVC_pong              ? svc.u.pong.msg_id
          : svc.id == MTP_SVC_future_salts    ? svc.u.future_salts.req_msg_id
          : svc.id == MTP_SVC_msgs_state_info ? svc.u.state_info.req_msg_id
          : svc.id == MTP_SVC_bad_msg_notification || svc.id == MTP_SVC_bad_server_salt ? svc.u.bad_msg.bad_msg_id
                                                                                         : 0;
    for (size_t i = 0; ref && i < k->n; i++)
        if (k->ids[i] == ref)
            first(&k->ev[i], m->ev);
}

static int run_acks(struct probe *P, const json_t *spec)
{
    (void)spec;
    struct sctx x;
    if (setup(&x, P, 1) < 0) {
        sctx_free(&x);
        return -1;
    }
    struct acks k = {.n = 0};
    uint8_t b[64];
    struct mtp_wr w;
    size_t hev[3];
    int rc = 0;
    /* msg_resend_req: content-related, answered only by what it asks for (no req_msg_id): an ack is due. */
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    PROBE_MUST(P, mtp_svc_write_ids(&w, MTP_SVC_msg_resend_req, x.warm_pongs, 1));
    rc = send_body(&x, &x.s, w.p, w.len, true, &k.ids[k.n++], &hev[0], NULL);
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    PROBE_MUST(P, mtp_svc_write_get_future_salts(&w, 1));
    if (rc == 0)
        rc = send_body(&x, &x.s, w.p, w.len, true, &k.ids[k.n++], &hev[1], NULL);
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    PROBE_MUST(P, probe_body_ping(&w, rand64(P)));
    if (rc == 0)
        rc = send_body(&x, &x.s, w.p, w.len, true, &k.ids[k.n++], &hev[2], NULL);
    if (rc < 0)
        goto out;
    int64_t deadline = probe_mono_ms() + P->cfg.wait_ms;
    for (;;) {
        bool all = true;
        for (size_t i = 0; i < k.n; i++)
            all &= k.ev[i] != 0;
        if (all)
            break;
        struct probe_rx r;
        if ((rc = probe_recv(&x.c, deadline, &r)) < 0)
            goto out;
        each_msg(&r, acks_msg, &k);
        enum probe_rx_kind kind = r.kind;
        probe_rx_free(&r);
        if (kind == PRX_TIMEOUT || kind == PRX_CLOSED)
            break;
    }
    static const char *const names[] = {"msg_resend_req", "get_future_salts", "ping"};
    char missing[128] = "";
    for (size_t i = 0; i < k.n; i++)
        if (k.ev[i] == 0)
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s", missing[0] ? ", " : "",
                     names[i]);
    if (missing[0])
        probe_reaction(P, "unacknowledged", hev, 3, k.ev, 3,
                       "not acknowledged (no msgs_ack, no answer) within %lld ms: %s", (long long)P->cfg.wait_ms,
                       missing);
    else
        probe_reaction(P, "answer", hev, 3, k.ev, 3, "every content-related message was acknowledged or answered");
out:
    sctx_free(&x);
    return rc;
}

/* S-SES-41: new_session_created for a new session (and for a lower msg_id later). */
static bool match_new_session(void *ctx, const struct seen *m)
{
    uint64_t *first_id = ctx;
    struct mtp_rd r = m->body;
    struct mtp_svc svc;
    return m->ctor == MTP_SVC_new_session_created && mtp_svc_parse(&r, &svc) == 0 &&
           svc.u.new_session.first_msg_id == *first_id;
}

static int run_new_session(struct probe *P, const json_t *spec)
{
    struct sctx x;
    if (setup(&x, P, 1) < 0) {
        sctx_free(&x);
        return -1;
    }
    int rc = 0;
    size_t wev = 0;
    if (!sis(spec, "variant", "lower")) {
        /* The warm-up opened the session: its notification. */
        bool first_ok = x.new_session_first == x.warm_ids[0];
        if (x.new_session_ev == 0)
            probe_reaction(P, "wrong-answer", NULL, 0, NULL, 0, "no new_session_created for the first message of a "
                                                                "new session");
        else if (!first_ok)
            probe_reaction(P, "wrong-answer", NULL, 0, &x.new_session_ev, 1,
                           "new_session_created.first_msg_id is not the session's first msg_id");
        else if (!x.new_session_content)
            probe_reaction(P, "wrong-answer", NULL, 0, &x.new_session_ev, 1,
                           "new_session_created with an even seqno: not content-related, so the client would not "
                           "acknowledge it");
        else
            probe_reaction(P, "answer", NULL, 0, &x.new_session_ev, 1,
                           "new_session_created with first_msg_id = the first message's msg_id, content-related "
                           "(the honest pings went on under its server_salt)");
        goto out;
    }
    /* A message with an even lower msg_id in the same session. */
    uint64_t low = x.warm_ids[0] - 4 * 1000;
    uint8_t b[16];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    PROBE_MUST(P, probe_body_ping(&w, rand64(P)));
    struct probe_msg m = {.body = b, .len = w.len, .content = true, .msg_id = low, .hostile = "a msg_id below the "
                                                                                              "session's first"};
    if ((rc = probe_send_msg(&x.c, &x.s, &m, NULL, &wev)) < 0)
        goto out;
    struct await a = {.match = match_new_session, .ctx = &low, .x = &x};
    if ((rc = await_match(&x, &a, P->cfg.wait_ms)) < 0)
        goto out;
    if (a.ev)
        probe_reaction(P, "answer", &wev, 1, &a.ev, 1, "another new_session_created for the lower msg_id");
    else
        probe_reaction(P, "silence", &wev, 1, NULL, 0, "no new_session_created for the lower msg_id (the server may "
                                                       "have ignored it as below its stored ids)");
out:
    sctx_free(&x);
    return rc;
}

/* S-SES-32: the previous salt within 1800 s of the change. */
static int run_old_salt(struct probe *P, const json_t *spec)
{
    struct sctx x;
    if (setup(&x, P, 1) < 0) {
        sctx_free(&x);
        return -1;
    }
    int64_t max_wait = iget(spec, "max_wait", 30) * 1000;
    uint8_t b[16];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    PROBE_MUST(P, mtp_svc_write_get_future_salts(&w, 2));
    struct by_req q = {.ctor = MTP_SVC_future_salts};
    int rc = send_body(&x, &x.s, w.p, w.len, true, &q.req, NULL, NULL);
    struct await a = {.match = match_req, .ctx = &q, .x = &x};
    if (rc == 0)
        rc = await_match(&x, &a, P->cfg.wait_ms);
    if (rc < 0)
        goto out;
    if (a.ev == 0) {
        rc = probe_fail(P, "get_future_salts got no future_salts: the salt schedule is unknown");
        goto out;
    }
    int64_t now_ms = probe_server_now(P, &x.k);
    struct mtp_svc_future_salt fs, cur = {0};
    bool found = false;
    while (mtp_svc_future_salt_next(&q.svc, &fs) == MTP_OK)
        if (!found && (int64_t)fs.valid_since * 1000 <= now_ms && now_ms < (int64_t)fs.valid_until * 1000) {
            cur = fs;
            found = true;
        }
    if (!found) {
        rc = probe_fail(P, "no salt of future_salts is valid now");
        goto out;
    }
    int64_t until_ms = (int64_t)cur.valid_until * 1000 - now_ms;
    if (until_ms > max_wait) {
        probe_reaction(P, "no-salt-change", NULL, 0, &a.ev, 1,
                       "the current salt is valid for %lld s more: the change cannot be waited for (max_wait %lld s)",
                       (long long)until_ms / 1000, (long long)max_wait / 1000);
        goto out;
    }
    struct timespec ts = {(until_ms + 1500) / 1000, ((until_ms + 1500) % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    uint64_t ping_id = rand64(P);
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    PROBE_MUST(P, probe_body_ping(&w, ping_id));
    struct probe_msg m = {.body = b, .len = w.len, .content = true, .salt_set = true, .salt = cur.salt,
                          .hostile = "the previous salt, after it stopped being current"};
    size_t hev;
    uint64_t id;
    if ((rc = probe_send_msg(&x.c, &x.s, &m, &id, &hev)) < 0)
        goto out;
    struct watch wt;
    watch_init(&wt);
    watch_id(&wt, id);
    wt.ping_ids[wt.npings++] = ping_id;
    if ((rc = send_sentinel(&x, &wt, false)) == 0 && (rc = collect(&x, &wt, P->cfg.wait_ms)) == 0)
        finish_watch(P, &wt, &hev, 1, "");
    watch_free(&wt);
out:
    sctx_free(&x);
    return rc;
}

/* S-SES-20: ordinary traffic, judged by the named checks over the log. */
static int run_traffic(struct probe *P, const json_t *spec)
{
    (void)spec;
    struct sctx x;
    if (setup(&x, P, 2) < 0) {
        sctx_free(&x);
        return -1;
    }
    uint8_t b[16];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    PROBE_MUST(P, mtp_svc_write_get_future_salts(&w, 2));
    struct by_req q = {.ctor = MTP_SVC_future_salts};
    int rc = send_body(&x, &x.s, w.p, w.len, true, &q.req, NULL, NULL);
    struct await a = {.match = match_req, .ctx = &q, .x = &x};
    if (rc == 0)
        rc = await_match(&x, &a, P->cfg.wait_ms);
    struct mtp_wr api;
    mtp_wr_init_dyn(&api, 4096, NULL);
    uint64_t api_id = 0;
    if (rc == 0 && (rc = probe_body_api(P, &api)) == 0)
        rc = send_body(&x, &x.s, api.p, api.len, true, &api_id, NULL, NULL);
    mtp_wr_free(&api);
    struct watch wt;
    watch_init(&wt);
    watch_id(&wt, api_id);
    if (rc == 0 && (rc = send_sentinel(&x, &wt, false)) == 0 && (rc = collect(&x, &wt, P->cfg.wait_ms)) == 0) {
        size_t ev[2] = {a.ev, wt.answer_ev};
        probe_reaction(P, "answer", NULL, 0, ev, 2, "honest traffic: pings, get_future_salts, an API call");
    }
    watch_free(&wt);
    sctx_free(&x);
    return rc;
}

/* ---- transport ---- */

static int run_frame(struct probe *P, const json_t *spec)
{
    struct sctx x;
    memset(&x, 0, sizeof x);
    if (P->cfg.kind != MTP_TR_FULL)
        return probe_fail(P, "a frame fault needs the full transport");
    if (setup(&x, P, 1) < 0) {
        sctx_free(&x);
        return -1;
    }
    struct watch w;
    watch_init(&w);
    uint8_t b[16];
    struct mtp_wr wr;
    mtp_wr_init_fixed(&wr, b, sizeof b, NULL);
    uint64_t ping_id = rand64(P), id;
    PROBE_MUST(P, probe_body_ping(&wr, ping_id));
    bool crc = sis(spec, "fault", "bad_crc");
    struct probe_msg m = {.body = b, .len = wr.len, .content = true,
                          .frame = {.bad_crc = crc, .bad_seq = !crc},
                          .hostile = crc ? "a full frame with a wrong CRC32" : "a full frame with a skipped seqno"};
    size_t hev;
    w.ping_ids[w.npings++] = ping_id;
    int rc = probe_send_msg(&x.c, &x.s, &m, &id, &hev);
    watch_id(&w, id);
    if (rc == 0 && (rc = send_sentinel(&x, &w, false)) == 0 && (rc = collect(&x, &w, P->cfg.wait_ms)) == 0)
        finish_watch(P, &w, &hev, 1, NULL);
    watch_free(&w);
    sctx_free(&x);
    return rc;
}

/* The server's first bytes, as received, are a transport error in a plain framing
 * (abridged: 01 + code; intermediate, padded: a length of 4..19, then the code). */
static bool plain_error_in(const struct probe_conn *c, int32_t *code)
{
    const uint8_t *b = c->first;
    int32_t v = 0;
    if (c->nfirst >= 5 && b[0] == 0x01)
        v = (int32_t)mtp_load_u32(b + 1);
    else if (c->nfirst >= 8 && mtp_load_u32(b) >= 4 && mtp_load_u32(b) <= 19)
        v = (int32_t)mtp_load_u32(b + 4);
    if (v != MTP_TR_ERROR_AUTH_KEY && v != MTP_TR_ERROR_FLOOD && v != MTP_TR_ERROR_BAD_DC && v != MTP_TR_ERROR_FORBIDDEN)
        return false;
    *code = v;
    return true;
}

/* Reads until a transport error, a close or the wait's end; writes the reaction. */
static int bare_reaction(struct probe *P, struct probe_conn *c, size_t hev, bool answer_is_resPQ, const char *what)
{
    int64_t deadline = probe_mono_ms() + P->cfg.wait_ms;
    for (;;) {
        struct probe_rx r;
        if (probe_recv(c, deadline, &r) < 0)
            return -1;
        enum probe_rx_kind kind = r.kind;
        size_t ev = r.ev;
        int32_t code = r.code;
        bool plain_answer = kind == PRX_PLAIN;
        probe_rx_free(&r);
        switch (kind) {
        case PRX_TIMEOUT:
            probe_reaction(P, "silence", &hev, 1, NULL, 0, "%s: nothing within %lld ms", what, (long long)P->cfg.wait_ms);
            return 0;
        case PRX_CLOSED:
            probe_reaction(P, "close", &hev, 1, NULL, 0, "%s: the server closed the connection", what);
            return 0;
        case PRX_TERR: {
            char name[24];
            snprintf(name, sizeof name, "transport%d", (int)code);
            probe_reaction(P, name, &hev, 1, &ev, 1, "%s: transport error %d", what, (int)code);
            return 0;
        }
        case PRX_QACK:
            continue;
        default:
            if (plain_answer || !answer_is_resPQ) {
                probe_reaction(P, "answer", &hev, 1, &ev, 1, "%s: the server answered", what);
                return 0;
            }
            if (plain_error_in(c, &code)) {
                /* Under obfuscation the reply does not decrypt: the server answered in a plain transport,
                 * as it must for an init it does not take for obfuscated2. */
                char name[24];
                snprintf(name, sizeof name, "transport%d", (int)code);
                probe_reaction(P, name, &hev, 1, &ev, 1, "%s: a plain transport error %d (the server took the init "
                                                         "for a plain transport)", what, (int)code);
                return 0;
            }
            probe_reaction(P, "garbage", &hev, 1, &ev, 1, "%s: the server sent bytes that are no MTProto answer", what);
            return 0;
        }
    }
}

static int run_oversized(struct probe *P, const json_t *spec)
{
    struct probe_conn c;
    int rc = probe_open(P, &c, NULL);
    if (rc < 0) {
        probe_close(&c);
        return -1;
    }
    size_t hev = 0;
    if (sis(spec, "what", "mtproto_length")) {
        /* an unencrypted req_pq_multi whose message_data_length claims 16 bytes more than the frame holds */
        uint8_t body[20], pkt[64];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, body, sizeof body, NULL);
        struct mtp_auth_req_pq rq = {.multi = true};
        PROBE_MUST(P, mtp_env_rand(&P->env, rq.nonce, 16));
        PROBE_MUST(P, mtp_auth_tl_write_req_pq(&w, &rq));
        memset(pkt, 0, 8);
        mtp_store_u64(pkt + 8, mtp_msgid_from_ms(mtp_env_now_ms(&P->env)));
        mtp_store_u32(pkt + 16, (uint32_t)w.len + 16);
        memcpy(pkt + 20, body, w.len);
        json_t *o = probe_ev_new(P, "msg", c.id);
        json_object_set_new(o, "dir", json_string("c2s"));
        json_object_set_new(o, "enc", json_false());
        mtps_ev_set_u64(o, "msg_id", mtp_load_u64(pkt + 8));
        mtps_ev_set_body(&P->ev, o, body, w.len, mtp_load_u64(pkt + 8), 0);
        json_object_set_new(o, "hostile", json_string("message_data_length 16 bytes beyond the frame"));
        hev = probe_emit(P, o);
        rc = probe_send_frame(&c, pkt, 20 + w.len, NULL);
    } else {
        /* a frame header claiming far more than any MTProto packet */
        uint8_t h[8];
        size_t n = 4;
        switch (P->cfg.kind) {
        case MTP_TR_ABRIDGED:
            h[0] = 0x7f, h[1] = 0xff, h[2] = 0xff, h[3] = 0xff;
            break;
        default:
            mtp_store_u32(h, 0x7ffffff0u);
            break;
        }
        uint8_t junk_bytes[256];
        PROBE_MUST(P, mtp_env_rand(&P->env, junk_bytes, sizeof junk_bytes));
        uint8_t all[264];
        memcpy(all, h, n);
        memcpy(all + n, junk_bytes, sizeof junk_bytes);
        if (P->cfg.obfuscated && mtp_obfs_encrypt(&c.tr.obfs, all, n + sizeof junk_bytes) < 0)
            rc = probe_fail(P, "obfuscation");
        if (rc == 0) {
            json_t *o = probe_ev_new(P, "raw", c.id);
            json_object_set_new(o, "dir", json_string("c2s"));
            json_object_set_new(o, "len", json_integer((json_int_t)(n + sizeof junk_bytes)));
            mtps_ev_set_hex(o, "header", h, n);
            json_object_set_new(o, "hostile", json_string("a frame length of about 2 GB"));
            hev = probe_emit(P, o);
            if (mtp_wr_raw(&c.out, all, n + sizeof junk_bytes) < 0)
                rc = probe_fail(P, "raw bytes");
            else
                rc = probe_flush(&c);
        }
    }
    if (rc == 0)
        rc = bare_reaction(P, &c, hev, false, sis(spec, "what", "mtproto_length") ? "a message longer than its frame"
                                                                                 : "an oversized frame length");
    probe_close(&c);
    return rc;
}

static int run_quick_ack(struct probe *P, const json_t *spec)
{
    struct sctx x;
    if (setup(&x, P, 1) < 0) {
        sctx_free(&x);
        return -1;
    }
    bool bad = bget(spec, "bad_packet");
    uint8_t b[16];
    struct mtp_wr wr;
    mtp_wr_init_fixed(&wr, b, sizeof b, NULL);
    uint64_t ping_id = rand64(P), id;
    PROBE_MUST(P, probe_body_ping(&wr, ping_id));
    struct probe_msg m = {.body = b, .len = wr.len, .content = true, .frame = {.quick_ack = true},
                          .flip_msg_key = bad, .hostile = bad ? "a quick-ack request on a packet with a wrong msg_key"
                                                              : NULL};
    size_t hev;
    struct watch w;
    watch_init(&w);
    w.ping_ids[w.npings++] = ping_id;
    int rc = probe_send_msg(&x.c, &x.s, &m, &id, &hev);
    uint32_t want = x.c.qack_token;
    watch_id(&w, id);
    size_t qev = 0;
    uint32_t got = 0;
    if (rc == 0 && bad)
        rc = send_sentinel(&x, &w, false);
    int64_t deadline = probe_mono_ms() + P->cfg.wait_ms;
    while (rc == 0 && !w.closed) {
        int64_t until = deadline;
        if (w.sentinel_at)
            until = w.sentinel_at + GRACE_MS;
        if (!bad && w.answer_ev && qev)
            break;
        struct probe_rx r;
        if ((rc = probe_recv(&x.c, until, &r)) < 0)
            break;
        if (r.kind == PRX_QACK && qev == 0) {
            qev = r.ev;
            got = r.token;
        }
        watch_item(&w, &r);
        enum probe_rx_kind kind = r.kind;
        probe_rx_free(&r);
        if (kind == PRX_TIMEOUT)
            break;
        if (!bad && w.answer_ev && !w.sentinel) {
            /* the answer is in; a quick ack comes before it if at all, give it a moment */
            w.sentinel = 1;
            w.sentinel_at = probe_mono_ms();
        }
    }
    if (rc == 0) {
        if (bad && qev)
            probe_reaction(P, "quick-ack", &hev, 1, &qev, 1, "a quick ack (%08x) for a packet that failed decryption", got);
        else if (bad)
            finish_watch(P, &w, &hev, 1, "no quick ack; ");
        else if (qev && got == want)
            probe_reaction(P, "answer", &hev, 1, &qev, 1, "quick ack %08x, the token of the packet", got);
        else if (qev)
            probe_reaction(P, "wrong-answer", &hev, 1, &qev, 1, "quick ack %08x, but the packet's token is %08x", got,
                           want);
        else
            probe_reaction(P, "wrong-answer", &hev, 1, &w.answer_ev, 1, "no quick ack for a packet that asked for one%s",
                           w.answer_ev ? " (the ping was answered)" : "");
    }
    watch_free(&w);
    sctx_free(&x);
    return rc;
}

static int run_obfs_init(struct probe *P, const json_t *spec)
{
    if (!P->cfg.obfuscated)
        return probe_fail(P, "an obfuscated init needs an obfuscated transport");
    uint8_t init[MTP_OBFS_INIT_LEN];
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtp_obfs_make_init(&P->env, P->cfg.kind, (int16_t)P->cfg.dc, init, &err) < 0)
        return probe_fail(P, "init: %s", err.msg);
    const char *open = sget(spec, "opening");
    if (strcmp(open, "ef") == 0)
        init[0] = 0xef;
    else if (strcmp(open, "zero") == 0)
        memset(init + 4, 0, 4);
    else if (strlen(open) == 8) {
        for (int i = 0; i < 4; i++) {
            unsigned v;
            if (sscanf(open + 2 * i, "%2x", &v) != 1)
                return probe_fail(P, "opening \"%s\"", open);
            init[i] = (uint8_t)v;
        }
    }
    struct probe_conn c;
    struct probe_open_opts o = {.init = init};
    int rc = probe_open(P, &c, &o);
    uint8_t b[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    struct mtp_auth_req_pq rq = {.multi = true};
    PROBE_MUST(P, mtp_env_rand(&P->env, rq.nonce, 16));
    PROBE_MUST(P, mtp_auth_tl_write_req_pq(&w, &rq));
    size_t hev = P->nev - 1; /* the transport event, marked hostile */
    if (rc == 0)
        rc = probe_send_plain(&c, w.p, w.len, NULL, NULL);
    if (rc == 0)
        rc = bare_reaction(P, &c, hev, true, "req_pq_multi after an init with a forbidden opening");
    probe_close(&c);
    return rc;
}

static int run_secret(struct probe *P, const json_t *spec)
{
    if (!P->cfg.obfuscated)
        return probe_fail(P, "a secret needs an obfuscated transport");
    struct mtp_obfs_secret s = P->cfg.secret;
    if (sis(spec, "secret", "none")) {
        if (P->cfg.secret.mode == MTP_OBFS_SECRET_NONE) {
            probe_reaction(P, "no-secret-given", NULL, 0, NULL, 0,
                           "the run has no --secret: whether the server requires one is unknown");
            return 0;
        }
        s.mode = MTP_OBFS_SECRET_NONE;
    } else {
        if (s.mode == MTP_OBFS_SECRET_NONE)
            s.mode = MTP_OBFS_SECRET_SIMPLE;
        for (int i = 0; i < 16; i++)
            s.key[i] ^= (uint8_t)(0x5a + i); /* another secret than the server's, whatever it is */
    }
    struct probe_conn c;
    struct probe_open_opts o = {.secret = &s};
    int rc = probe_open(P, &c, &o);
    uint8_t b[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    struct mtp_auth_req_pq rq = {.multi = true};
    PROBE_MUST(P, mtp_env_rand(&P->env, rq.nonce, 16));
    PROBE_MUST(P, mtp_auth_tl_write_req_pq(&w, &rq));
    size_t hev = P->nev - 1;
    if (rc == 0)
        rc = probe_send_plain(&c, w.p, w.len, NULL, NULL);
    if (rc == 0)
        rc = bare_reaction(P, &c, hev, true, sis(spec, "secret", "none") ? "an init without the required secret"
                                                                         : "an init made with another secret");
    probe_close(&c);
    return rc;
}

static int run_dc_id(struct probe *P, const json_t *spec)
{
    if (!P->cfg.obfuscated)
        return probe_fail(P, "a DC id in the init needs an obfuscated transport");
    if (P->cfg.secret.mode == MTP_OBFS_SECRET_NONE) {
        probe_reaction(P, "no-secret-given", NULL, 0, NULL, 0,
                       "the run has no --secret: the server is not tested as an MTProxy");
        return 0;
    }
    struct probe_conn c;
    struct probe_open_opts o = {.dc_set = true, .dc = (int16_t)iget(spec, "dc", 999)};
    int rc = probe_open(P, &c, &o);
    uint8_t b[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    struct mtp_auth_req_pq rq = {.multi = true};
    PROBE_MUST(P, mtp_env_rand(&P->env, rq.nonce, 16));
    PROBE_MUST(P, mtp_auth_tl_write_req_pq(&w, &rq));
    size_t hev = 0;
    if (rc == 0)
        rc = probe_send_plain(&c, w.p, w.len, "through an MTProxy to a DC it does not serve", &hev);
    if (rc == 0)
        rc = bare_reaction(P, &c, hev, true, "an init naming a DC the proxy does not serve");
    probe_close(&c);
    return rc;
}

static int run_first_reply(struct probe *P, const json_t *spec)
{
    (void)spec;
    struct probe_conn c;
    int rc = probe_open(P, &c, NULL);
    uint8_t b[64];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    struct mtp_auth_req_pq rq = {.multi = true};
    PROBE_MUST(P, mtp_env_rand(&P->env, rq.nonce, 16));
    PROBE_MUST(P, mtp_auth_tl_write_req_pq(&w, &rq));
    struct probe_rx r = {0};
    if (rc == 0)
        rc = probe_send_plain(&c, w.p, w.len, NULL, NULL);
    if (rc == 0)
        rc = await_plain(&c, &r);
    if (rc == 0 && c.nfirst == 0) {
        rc = probe_fail(P, "req_pq_multi got no reply at all");
    } else if (rc == 0) {
        /* The bytes as they came, before any framing: what a client sees first. */
        const uint8_t *f = c.first;
        char what[96] = "";
        if (P->cfg.kind == MTP_TR_ABRIDGED && (f[0] == 0xef || f[0] > 0x7f))
            snprintf(what, sizeof what, "its first byte is 0x%02x", f[0]);
        if ((P->cfg.kind == MTP_TR_INTERMEDIATE || P->cfg.kind == MTP_TR_PADDED) && c.nfirst >= 4 &&
            (mtp_load_u32(f) == 0xeeeeeeeeu || mtp_load_u32(f) == 0xddddddddu))
            snprintf(what, sizeof what, "its first int is 0x%08x", mtp_load_u32(f));
        char hex[20] = "";
        for (size_t i = 0; i < 4 && i < c.nfirst; i++)
            snprintf(hex + 2 * i, 3, "%02x", f[i]);
        if (what[0])
            probe_reaction(P, "tag", NULL, 0, &r.ev, 1, "the server's first reply opens with a transport tag: %s",
                           what);
        else
            probe_reaction(P, "answer", NULL, 0, &r.ev, 1, "the server's first reply opens with %s", hex);
    }
    probe_rx_free(&r);
    probe_close(&c);
    return rc < 0 ? -1 : 0;
}

static int run_flood_conns(struct probe *P, const json_t *spec)
{
    long n = iget(spec, "connections", 50);
    struct probe_conn *cs = calloc((size_t)n, sizeof *cs);
    if (cs == NULL)
        return probe_fail(P, "out of memory");
    long opened = 0, answered = 0, refused = 0, closed = 0;
    size_t first_429 = 0;
    uint8_t b[64];
    for (long i = 0; i < n; i++) {
        if (probe_open(P, &cs[i], NULL) < 0) {
            P->error[0] = '\0';
            break;
        }
        opened++;
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, b, sizeof b, NULL);
        struct mtp_auth_req_pq rq = {.multi = true};
        PROBE_MUST(P, mtp_env_rand(&P->env, rq.nonce, 16));
        PROBE_MUST(P, mtp_auth_tl_write_req_pq(&w, &rq));
        PROBE_MUST(P, probe_send_plain(&cs[i], w.p, w.len, NULL, NULL));
    }
    int64_t deadline = probe_mono_ms() + P->cfg.wait_ms;
    for (long i = 0; i < opened; i++) {
        struct probe_rx r;
        if (probe_recv(&cs[i], deadline, &r) == 0) {
            if (r.kind == PRX_PLAIN)
                answered++;
            else if (r.kind == PRX_TERR && r.code == -429) {
                refused++;
                if (first_429 == 0)
                    first_429 = r.ev;
            } else if (r.kind == PRX_CLOSED || r.kind == PRX_TERR)
                closed++;
        }
        probe_rx_free(&r);
    }
    for (long i = 0; i < opened; i++)
        probe_close(&cs[i]);
    free(cs);
    probe_reaction(P, refused ? "transport-429" : "answer", NULL, 0, &first_429, 1,
                   "%ld connections opened at once: %ld answered, %ld got -429, %ld closed otherwise", opened, answered,
                   refused, closed);
    return 0;
}

/* ---- the table ---- */

struct probe_kind {
    const char *name;
    int (*run)(struct probe *P, const json_t *spec);
    const char *what;
    const char *params; /* the keys it reads, space-separated */
};

static const struct probe_kind kinds[] = {
    {"exchange", run_exchange, "a key exchange with fields broken on purpose", "break g_b dc_offset"},
    {"exchange_order", run_exchange_order, "key-exchange messages out of order or for a dead run", "order"},
    {"exchange_repeat", run_repeat, "req_DH_params again: the same, or with another new_nonce", "new_nonce"},
    {"second_exchange", run_second_exchange, "a second, honest exchange on the connection that made a key", "temp"},
    {"plain_after_key", run_plain_after_key, "an unencrypted non-exchange message once the key is in use", "body"},
    {"message", run_message, "one encrypted message with header or packet fields broken on purpose",
     "body num delay count container messages msg_id same_body seqno salt session padding length msg_key direction "
     "mtproto auth_key_id ciphertext reflect code before no_sentinel alive_after compare sentinel"},
    {"state_req", run_state_req, "msgs_state_req for a received, a higher and a far lower msg_id", ""},
    {"resend_req", run_resend_req, "msg_resend_req for a message of the server, or for unknown ids", "ids"},
    {"future_salts", run_future_salts, "get_future_salts: count, and the salt valid now works", "num record"},
    {"destroy_session", run_destroy_session, "destroy_session for another, an unknown or the current session",
     "session"},
    {"ping", run_ping, "ping, or ping_delay_disconnect and the close after the delay",
     "disconnect_delay reset"},
    {"acks", run_acks, "content-related messages that only an ack can acknowledge, and others", ""},
    {"new_session", run_new_session, "new_session_created for a new session, or for a lower msg_id", "variant"},
    {"old_salt", run_old_salt, "the previous salt, right after the server's salt changed", "max_wait"},
    {"traffic", run_traffic, "honest traffic for the named checks", ""},
    {"frame", run_frame, "a full-transport frame with a wrong CRC32 or seqno", "fault"},
    {"oversized", run_oversized, "a frame length far beyond any packet, or a message longer than its frame", "what"},
    {"quick_ack", run_quick_ack, "a quick-ack request, on a good or a bad packet", "bad_packet"},
    {"obfs_init", run_obfs_init, "an obfuscated init with a forbidden opening", "opening"},
    {"secret", run_secret, "an obfuscated init for another MTProxy secret, or none", "secret"},
    {"dc_id", run_dc_id, "an MTProxy init naming a DC the proxy does not serve", "dc"},
    {"first_reply", run_first_reply, "the server's first bytes on a plain transport", ""},
    {"flood_conns", run_flood_conns, "many connections at once from one address", "connections"},
    {"timing", probe_timing, "timing side channel: wrong msg_key with a valid vs an out-of-range length",
     "samples size confidence max_ms"},
};

static const struct probe_kind *find_kind(const char *name)
{
    for (size_t i = 0; name && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

bool probe_spec_valid(const json_t *spec, char *why, size_t why_len)
{
    if (!json_is_object(spec)) {
        snprintf(why, why_len, "\"probe\" must be an object with \"do\"");
        return false;
    }
    const struct probe_kind *k = find_kind(sget(spec, "do"));
    if (k == NULL) {
        snprintf(why, why_len, "probe: unknown \"do\": \"%s\" (mtprobe check --list-probes)",
                 sget(spec, "do") ? sget(spec, "do") : "");
        return false;
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)spec, key, v)
    {
        if (strcmp(key, "do") == 0)
            continue;
        char pat[64];
        snprintf(pat, sizeof pat, " %s ", key);
        char params[512];
        snprintf(params, sizeof params, " %s ", k->params);
        if (strstr(params, pat) == NULL) {
            snprintf(why, why_len, "probe %s: unknown parameter \"%s\" (it reads: %s)", k->name, key, k->params);
            return false;
        }
    }
    const json_t *brk = json_object_get(spec, "break");
    size_t i;
    json_array_foreach(brk, i, v)
    {
        if (!json_is_string(v) || set_fault(NULL, json_string_value(v)) < 0) {
            snprintf(why, why_len, "probe exchange: unknown field to break \"%s\"",
                     json_is_string(v) ? json_string_value(v) : "?");
            return false;
        }
    }
    uint8_t out[256];
    if (sget(spec, "g_b") && probe_num_expr(sget(spec, "g_b"), mtp_dh_telegram_prime, out) < 0) {
        snprintf(why, why_len, "probe exchange: g_b \"%s\" is not an expression of p", sget(spec, "g_b"));
        return false;
    }
    return true;
}

void probe_list(void (*fn)(void *ctx, const char *name, const char *what), void *ctx)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        fn(ctx, kinds[i].name, kinds[i].what);
}

int probe_run(struct probe *P, const json_t *spec)
{
    const struct probe_kind *k = find_kind(sget(spec, "do"));
    if (k == NULL)
        return probe_fail(P, "unknown probe");
    return k->run(P, spec) < 0 ? -1 : 0;
}
