/* Passive checks (--check): what a capture shows of the rules of the
 * catalogue (docs/requirements.md), reported with its ids.  The rules of the
 * key exchange and of the encrypted envelope are checked where those are
 * decoded (dec_msg.c); the session rules here: msg_id parity, order and time,
 * duplicates, seqno parity, containers, salts, the obfuscated init. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "decode/dec_internal.h"
#include "mtp/auth.h"
#include "mtp/container.h"
#include "mtp/msgid.h"
#include "mtp/service.h"

static struct dec_req_count *req_slot(struct dec *d, const char *req)
{
    for (size_t i = 0; i < d->nreqs; i++)
        if (strcmp(d->reqs[i].id, req) == 0)
            return &d->reqs[i];
    if (d->nreqs == DEC_REQS)
        return NULL;
    struct dec_req_count *r = &d->reqs[d->nreqs++];
    snprintf(r->id, sizeof r->id, "%s", req);
    return r;
}

void dec_check_count(struct dec *d, const char *req)
{
    struct dec_req_count *r = req_slot(d, req);
    if (r)
        r->checked++;
}

static json_t *catalogue_entry(const struct dec *d, const char *req)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(d->catalogue, "requirements"), i, e)
        if (strcmp(json_string_value(json_object_get(e, "id")) ? json_string_value(json_object_get(e, "id")) : "",
                   req) == 0)
            return e;
    return NULL;
}

const char *dec_check_level(const struct dec *d, const char *req)
{
    const char *l = json_string_value(json_object_get(catalogue_entry(d, req), "level"));
    return l ? l : "?";
}

void dec_check_finding(struct dec *d, struct dec_conn *c, const struct dec_msg *m, enum mtp_tcp_dir dir,
                       const char *req, const char *fmt, ...)
{
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    struct dec_req_count *r = req_slot(d, req);
    if (r) {
        r->failed++;
        if (r->checked < r->failed)
            r->checked = r->failed;
    }
    c->findings++;
    d->st->findings++;
    dec_problem(c, "%s %s", req, text);
    dec_out_finding(d, c, dir, m ? m->ts_ns : c->last_ns, m, req, text);
}

#define FINDING(...) dec_check_finding(d, m->c, m, m->dir, __VA_ARGS__)

/* ---- the obfuscated init ---- */

void dec_check_transport(struct dec *d, struct dec_conn *c, const uint8_t *init, int64_t ts)
{
    (void)ts;
    if (init == NULL)
        return;
    dec_check_count(d, "C-TR-30");
    struct mtp_error err;
    mtp_error_clear(&err);
    if (mtp_obfs_check_init(init, &err) < 0)
        dec_check_finding(d, c, NULL, MTP_TCP_C2S, "C-TR-30", "obfuscated init: %s", err.msg);
    if (d->o->secret.mode == MTP_OBFS_SECRET_PADDED && c->kind != MTP_TR_PADDED)
        dec_check_finding(d, c, NULL, MTP_TCP_C2S, "C-TR-30",
                          "obfuscated init with a dd secret carries the %s tag, not padded intermediate's",
                          mtp_tr_kind_name(c->kind));
}

/* ---- msg_id and seqno ---- */

/* The classification of a body for seqno and msg_id purposes. */
static const struct mtp_svc_info *info_of(uint32_t ctor) { return mtp_svc_info(ctor); }

static bool content_related(uint32_t ctor, bool *either)
{
    const struct mtp_svc_info *i = info_of(ctor);
    *either = i && i->seq == MTP_SVC_SEQ_EITHER;
    return i == NULL || i->seq == MTP_SVC_SEQ_CONTENT;
}

/* Whether id is one of the sender's recent msg_ids (and with which salt). */
static bool recent(const struct dec_side *s, uint64_t id, uint64_t *salt)
{
    unsigned n = s->nrecent < DEC_RECENT ? s->nrecent : DEC_RECENT;
    for (unsigned i = 0; i < n; i++)
        if (s->recent[i] == id) {
            if (salt)
                *salt = s->recent_salt[i];
            return true;
        }
    return false;
}

/* One message (top-level or nested): its msg_id and seqno against the sender's earlier ones. */
static void one_message(struct dec *d, struct dec_msg *m, struct dec_side *side, uint64_t msg_id, int32_t seqno,
                        uint32_t ctor, bool nested)
{
    bool c2s = m->dir == MTP_TCP_C2S;
    const char *what = nested ? "nested message" : "message";
    dec_check_count(d, "C-SES-23");
    if (c2s && msg_id % 4 != 0)
        FINDING("C-SES-23", "client %s msg_id %016" PRIx64 " is not divisible by 4", what, msg_id);
    if (!c2s && msg_id % 2 == 0)
        FINDING("C-SES-23", "server %s msg_id %016" PRIx64 " is even", what, msg_id);
    if (!c2s && msg_id % 2 == 1) {
        dec_check_count(d, "S-SES-20");
        const struct mtp_svc_info *i = info_of(ctor);
        bool response = i && i->response;
        unsigned want = response ? 1 : 3;
        if (ctor != MTP_SVC_msg_container && ctor != MTP_SVC_gzip_packed && msg_id % 4 != want)
            FINDING("S-SES-20", "server %s %s has msg_id %016" PRIx64 " (%u mod 4): %s expects %u mod 4", what,
                    i ? i->name : "(not a service message)", msg_id, (unsigned)(msg_id % 4),
                    response ? "an answer to a client message" : "a message that answers nothing", want);
    }
    {
        /* upper 32 bits: the sender's clock; the capture's clock is the reference */
        int64_t delta_ms = mtp_msgid_to_ms(msg_id) - m->ts_ns / 1000000;
        const char *req = c2s ? (delta_ms < 0 ? "S-SES-21" : "S-SES-22") : "C-SES-25";
        dec_check_count(d, req);
        if (m->ts_ns > 0 && (delta_ms < -(int64_t)MTP_MSGID_MAX_PAST_MS || delta_ms > MTP_MSGID_MAX_FUTURE_MS))
            FINDING(req, "%s %s msg_id %016" PRIx64 " is %.1f s %s the capture clock (%s)", c2s ? "client" : "server",
                    what, msg_id, (double)(delta_ms < 0 ? -delta_ms : delta_ms) / 1000.0,
                    delta_ms < 0 ? "behind" : "ahead of", delta_ms < 0 ? "300 s allowed" : "30 s allowed");
    }
    if (c2s && (msg_id & 0xffffffffu) == 0)
        FINDING("C-SES-23", "client %s msg_id %016" PRIx64 " has empty lower 32 bits", what, msg_id);
    if (side->any) {
        const char *req = c2s ? "C-SES-27" : "S-SES-20";
        dec_check_count(d, req);
        if (recent(side, msg_id, NULL))
            FINDING(req, "%s %s msg_id %016" PRIx64 " was sent before in this session", c2s ? "client" : "server",
                    what, msg_id);
        else if (msg_id < side->last_msg_id && !nested)
            FINDING(c2s ? "C-SES-23" : "S-SES-20",
                    "%s msg_id %016" PRIx64 " is below the sender's previous %016" PRIx64 " in this session",
                    c2s ? "client" : "server", msg_id, side->last_msg_id);
    }
    bool either;
    bool content = content_related(ctor, &either);
    if (!either) {
        dec_check_count(d, "C-SES-26");
        if (content != ((seqno & 1) == 1))
            FINDING("C-SES-26", "%s %s %s (%s) has seqno %d: %s", c2s ? "client" : "server", what,
                    info_of(ctor) ? info_of(ctor)->name : "an API message", content ? "content-related" : "not content-related",
                    (int)seqno, content ? "odd expected" : "even expected");
    }
    side->recent_salt[side->nrecent % DEC_RECENT] = m->salt;
    side->recent[side->nrecent++ % DEC_RECENT] = msg_id;
    if (msg_id > side->last_msg_id)
        side->last_msg_id = msg_id;
    if (seqno > side->max_seqno)
        side->max_seqno = seqno;
    side->any = true;
}

/* S-SES-30: the salt a bad_server_salt gives works: the server does not
 * refuse it when the client then uses it. */
static void bad_server_salt(struct dec *d, struct dec_msg *m, struct mtp_rd body)
{
    struct dec_sess *s = m->sess;
    struct mtp_svc sv;
    if (m->dir != MTP_TCP_S2C || mtp_svc_parse(&body, &sv) != MTP_OK)
        return;
    uint64_t used;
    dec_check_count(d, "S-SES-30");
    if (s->salt_given && recent(&s->side[MTP_TCP_C2S], sv.u.bad_msg.bad_msg_id, &used) && used == s->given_salt)
        FINDING("S-SES-30", "bad_server_salt for client msg_id %016" PRIx64 ", sent with %016" PRIx64
                            ", the salt the server gave before",
                sv.u.bad_msg.bad_msg_id, used);
    s->salt_given = true;
    s->given_salt = sv.u.bad_msg.new_server_salt;
}

static void container(struct dec *d, struct dec_msg *m, struct dec_side *side)
{
    struct mtp_rd r;
    mtp_rd_init(&r, m->body, m->body_len, NULL);
    struct mtp_container ct;
    struct mtp_container_limits cl = {UINT32_MAX, SIZE_MAX};
    struct mtp_error err;
    mtp_error_clear(&err);
    r.err = &err;
    dec_check_count(d, "C-SES-26");
    /* mtp_container_open checks the order rules itself: report what it says first */
    if (mtp_container_open(&ct, &r, m->msg_id, m->seqno, &cl) != MTP_OK) {
        FINDING("C-SES-26", "msg_container: %s", err.msg);
        return;
    }
    struct mtp_nested n;
    while (mtp_container_next(&ct, &n) == 1) {
        if (n.ctor == MTP_SVC_msg_container)
            FINDING("C-SES-26", "a msg_container inside a msg_container");
        one_message(d, m, side, n.msg_id, n.seqno, n.ctor, true);
        if (n.ctor == MTP_SVC_bad_server_salt)
            bad_server_salt(d, m, n.body);
    }
}

void dec_check_msg(struct dec *d, struct dec_msg *m)
{
    if (!m->enc) {
        if (m->msg_id == 0)
            return;
        dec_check_count(d, "C-SES-23");
        struct mtp_error err;
        mtp_error_clear(&err);
        if (mtp_auth_msg_id_check((int64_t)m->msg_id, m->dir == MTP_TCP_S2C, &err) < 0)
            FINDING("C-SES-23", "unencrypted message: %s", err.msg);
        return;
    }
    if (!m->decrypted || m->sess == NULL || m->body_len < 4)
        return;
    struct dec_side *side = &m->sess->side[m->dir];
    uint32_t ctor = mtp_load_u32(m->body);
    if (m->dir == MTP_TCP_S2C && m->c->tcp->s[MTP_TCP_C2S].from_syn) {
        dec_check_count(d, "C-SES-22");
        if (!m->sess->side[MTP_TCP_C2S].any)
            FINDING("C-SES-22", "the server sent session_id %016" PRIx64 ", in which the client sent nothing",
                    m->session_id);
    }
    one_message(d, m, side, m->msg_id, m->seqno, ctor, false);
    if (ctor == MTP_SVC_msg_container)
        container(d, m, side);
    if (ctor == MTP_SVC_bad_server_salt) {
        struct mtp_rd r;
        mtp_rd_init(&r, m->body, m->body_len, NULL);
        bad_server_salt(d, m, r);
    }
}
