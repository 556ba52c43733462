/* Server core: checks each client message, decides through the bad-message
 * table (badmsg.h) what it deserves, answers with the notification it owes,
 * and runs the server side of the service messages. */
#include <string.h>

#include "mtp/badmsg.h"
#include "session/mtp_session_internal.h"

static void maintain_salts(struct mtp_session *s, int64_t now)
{
    mtp_salts_expire(&s->salts, now, s->cfg.salt_grace_ms);
    /* Keep a current salt; the schedule continues the existing one. */
    if (mtp_salts_at(&s->salts, now) == NULL && mtp_salts_extend(&s->salts, now, s->cfg.salt_period_ms, 1, &s->env) < 0)
        mtp_session_dropped(s, 0, 0, MTP_ERR_INTERNAL, NULL); /* no randomness: every salt will be refused */
}

static uint64_t current_salt(const struct mtp_session *s, int64_t now)
{
    const struct mtp_salt_entry *e = mtp_salts_at(&s->salts, now);
    return e ? e->salt : 0;
}

/* Where the message being judged sits, for error messages. */
struct judged {
    uint64_t msg_id;
    int32_t seqno;
    uint64_t salt;
    size_t at;     /* offset of its msg_id */
    size_t seq_at; /* offset of its seqno */
    size_t salt_at;
};

static int describe(struct mtp_error *err, const struct mtp_session *s, const struct judged *j,
                    const struct mtp_badmsg_verdict *v, int64_t now, const struct mtp_error *cerr)
{
    unsigned long long id = (unsigned long long)j->msg_id;
    long long dt = (long long)(mtp_msgid_to_ms(j->msg_id) - now);
    switch (v->fact) {
    case MTP_FACT_ID_LOW_BITS:
        return mtp_error_set(err, v->err, j->at, "message.msg_id: %#llx at offset %zu is not divisible by 4", id, j->at);
    case MTP_FACT_ID_ZERO_LOW32:
        return mtp_error_set(err, v->err, j->at, "message.msg_id: %#llx at offset %zu has empty lower 32 bits", id,
                             j->at);
    case MTP_FACT_ID_TOO_OLD:
        return mtp_error_set(err, v->err, j->at, "message.msg_id: %#llx at offset %zu is %lld ms in the past (limit %lld)",
                             id, j->at, -dt, (long long)s->cfg.max_past_ms);
    case MTP_FACT_ID_TOO_NEW:
        return mtp_error_set(err, v->err, j->at,
                             "message.msg_id: %#llx at offset %zu is %lld ms in the future (limit %lld)", id, j->at, dt,
                             (long long)s->cfg.max_future_ms);
    case MTP_FACT_BAD_SALT:
        return mtp_error_set(err, v->err, j->salt_at, "message.salt: %#llx at offset %zu is not a valid server salt",
                             (unsigned long long)j->salt, j->salt_at);
    case MTP_FACT_DUPLICATE:
        return mtp_error_set(err, v->err, j->at, "message.msg_id: %#llx at offset %zu was already received%s", id, j->at,
                             v->code == MTP_BADMSG_CONTAINER_ID_REUSED ? " (container)" : "");
    case MTP_FACT_BELOW_WINDOW:
        return mtp_error_set(err, v->err, j->at,
                             "message.msg_id: %#llx at offset %zu is below all %zu stored msg_ids (lowest %#llx)", id,
                             j->at, s->window.n, (unsigned long long)mtp_msgwin_min(&s->window));
    case MTP_FACT_CONTAINER_FLOOD:
    case MTP_FACT_CONTAINER_INVALID:
        return mtp_error_set(err, v->err, cerr->offset, "%s", cerr->msg);
    case MTP_FACT_SEQNO_ODD_FOR_SERVICE:
        return mtp_error_set(err, v->err, j->seq_at,
                             "message.seq_no: %d at offset %zu is odd, but the message is not content-related",
                             j->seqno, j->seq_at);
    case MTP_FACT_SEQNO_EVEN_FOR_CONTENT:
        return mtp_error_set(err, v->err, j->seq_at,
                             "message.seq_no: %d at offset %zu is even, but the message is content-related", j->seqno,
                             j->seq_at);
    case MTP_FACT_SEQNO_TOO_LOW:
        return mtp_error_set(err, v->err, j->seq_at,
                             "message.seq_no: %d at offset %zu is too low for a message after a lower msg_id", j->seqno,
                             j->seq_at);
    default:
        return mtp_error_set(err, v->err, j->seq_at,
                             "message.seq_no: %d at offset %zu is too high for a message before a higher msg_id",
                             j->seqno, j->seq_at);
    }
}

/* Sends what the verdict owes and reports it; returns the verdict's error. */
static int reject(struct mtp_session *s, const struct judged *j, const struct mtp_badmsg_verdict *v, int64_t now,
                  const struct mtp_error *cerr, struct mtp_error *err)
{
    int rc = describe(err, s, j, v, now, cerr);
    uint8_t buf[40];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    if (v->action == MTP_BADMSG_NOTIFY || v->action == MTP_BADMSG_SALT) {
        uint64_t salt = current_salt(s, now);
        int wrc = v->action == MTP_BADMSG_SALT ? mtp_svc_write_bad_server_salt(&w, j->msg_id, j->seqno, salt)
                                               : mtp_svc_write_bad_msg(&w, j->msg_id, j->seqno, v->code);
        /* Notifications "do not require acknowledgment (i.e., are irrelevant)". */
        if (wrc == MTP_OK)
            wrc = mtp_session_queue_service(s, w.p, w.len, MTP_OUT_RESPONSE, j->msg_id, 0, NULL);
        if (wrc == MTP_OK)
            mtp_session_emit(s, &(struct mtp_session_event){
                                    .type = v->action == MTP_BADMSG_SALT ? MTP_SESSION_EV_BAD_SALT : MTP_SESSION_EV_BAD_MSG,
                                    .msg_id = j->msg_id,
                                    .seqno = j->seqno,
                                    .ref_msg_id = j->msg_id,
                                    .value = v->action == MTP_BADMSG_SALT ? salt : 0,
                                    .code = v->code});
    }
    mtp_session_dropped(s, j->msg_id, j->seqno, rc, err);
    return rc;
}

static int seq_class(uint32_t ctor)
{
    const struct mtp_svc_info *info = mtp_svc_info(ctor);
    return info ? info->seq : MTP_SVC_SEQ_CONTENT;
}

/* Deviations a non-strict server lets pass (mtp_session_cfg.strict_*).  The
 * message is judged as its correct form: an odd msgs_ack as the even one it
 * should have been (so the seqno order checks and acks see that one too). */
static int32_t judged_seqno(const struct mtp_session *s, int32_t seqno, uint32_t ctor, uint32_t *tolerated)
{
    if (!s->cfg.strict_seqno_parity && ctor == MTP_SVC_msgs_ack && (seqno & 1)) {
        *tolerated |= MTP_FACT_SEQNO_ODD_FOR_SERVICE;
        return seqno & ~1;
    }
    return seqno;
}

/* Reports what was let pass, for a message that was accepted. */
static void report_deviations(struct mtp_session *s, uint64_t msg_id, int32_t seqno, uint32_t ctor,
                              uint32_t tolerated)
{
    if (tolerated & MTP_FACT_SEQNO_ODD_FOR_SERVICE)
        mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_DEVIATION,
                                                        .msg_id = msg_id,
                                                        .seqno = seqno,
                                                        .code = MTP_ERR_SES_SEQNO_PARITY,
                                                        .value = MTP_BADMSG_SEQNO_EVEN_EXPECTED,
                                                        .ctor = ctor,
                                                        .text = "msgs_ack with an odd seqno"});
    if (tolerated & MTP_FACT_ID_ZERO_LOW32)
        mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_DEVIATION,
                                                        .msg_id = msg_id,
                                                        .seqno = seqno,
                                                        .code = MTP_ERR_SES_MSG_ID_ZERO_LOW,
                                                        .value = 0,
                                                        .ctor = ctor,
                                                        .text = "a msg_id with empty lower 32 bits"});
}

static uint32_t window_facts(const struct mtp_session *s, uint64_t msg_id, int32_t seqno, uint32_t ctor,
                             uint32_t *tolerated)
{
    uint32_t f = 0;
    if (msg_id & 3)
        f |= MTP_FACT_ID_LOW_BITS;
    if ((msg_id & 0xffffffffu) == 0) {
        if (s->cfg.strict_msg_id_low32)
            f |= MTP_FACT_ID_ZERO_LOW32;
        else
            *tolerated |= MTP_FACT_ID_ZERO_LOW32;
    }
    switch (mtp_msgwin_check(&s->window, msg_id)) {
    case MTP_MSGWIN_DUPLICATE:
        f |= MTP_FACT_DUPLICATE;
        break;
    case MTP_MSGWIN_BELOW:
        f |= MTP_FACT_BELOW_WINDOW;
        break;
    default:
        break;
    }
    const struct mtp_msgwin_entry *below, *above;
    mtp_msgwin_neighbours(&s->window, msg_id, &below, &above);
    return f | mtp_badmsg_seqno_facts(seqno, seq_class(ctor), below, above);
}

/* Seeded faults (mtp_session_cfg.server_faults): facts the server does not see. */
static uint32_t faulty_facts(const struct mtp_session *s, uint32_t f)
{
    if (s->cfg.server_faults == 0)
        return f;
    static const struct {
        enum mtp_session_server_fault fault;
        uint32_t fact;
    } blind[] = {
        {MTP_SESSION_SF_SKIP_PAST, MTP_FACT_ID_TOO_OLD},
        {MTP_SESSION_SF_SKIP_FUTURE, MTP_FACT_ID_TOO_NEW},
        {MTP_SESSION_SF_SKIP_LOW_BITS, MTP_FACT_ID_LOW_BITS},
        {MTP_SESSION_SF_SKIP_WINDOW, MTP_FACT_BELOW_WINDOW},
        {MTP_SESSION_SF_SKIP_SERVICE_PARITY, MTP_FACT_SEQNO_ODD_FOR_SERVICE},
        {MTP_SESSION_SF_SKIP_CONTENT_PARITY, MTP_FACT_SEQNO_EVEN_FOR_CONTENT},
        {MTP_SESSION_SF_ACCEPT_BAD_SALT, MTP_FACT_BAD_SALT},
    };
    for (size_t i = 0; i < sizeof blind / sizeof blind[0]; i++)
        if (mtp_session_server_faulty(s, blind[i].fault))
            f &= ~blind[i].fact;
    bool container = (f & MTP_FACT_CONTAINER) != 0;
    if ((container && mtp_session_server_faulty(s, MTP_SESSION_SF_CONTAINER_ID_REUSE)) ||
        (!container && mtp_session_server_faulty(s, MTP_SESSION_SF_EXECUTE_DUPLICATE)))
        f &= ~MTP_FACT_DUPLICATE;
    uint32_t lo = f & MTP_FACT_SEQNO_TOO_LOW, hi = f & MTP_FACT_SEQNO_TOO_HIGH;
    if (lo && mtp_session_server_faulty(s, MTP_SESSION_SF_SEQNO_LOW_AS_HIGH))
        f = (f & ~MTP_FACT_SEQNO_TOO_LOW) | MTP_FACT_SEQNO_TOO_HIGH;
    if (hi && mtp_session_server_faulty(s, MTP_SESSION_SF_SEQNO_HIGH_AS_LOW))
        f = (f & ~MTP_FACT_SEQNO_TOO_HIGH) | MTP_FACT_SEQNO_TOO_LOW;
    return f;
}

static void announce_session(struct mtp_session *s, uint64_t first_msg_id, int64_t now)
{
    if (mtp_session_server_faulty(s, MTP_SESSION_SF_NO_NEW_SESSION))
        return;
    uint8_t buf[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    s->first_msg_id = first_msg_id;
    /* "The server notifies the client that a new session (from the server's
     * standpoint) had to be created"; it "must be acknowledged". */
    int rc = mtp_svc_write_new_session_created(&w, first_msg_id, s->unique_id, current_salt(s, now));
    if (rc == MTP_OK)
        rc = mtp_session_queue_service(s, w.p, w.len, MTP_OUT_CONTENT, 0, 0, NULL);
    if (rc < 0) {
        mtp_session_dropped(s, first_msg_id, 0, rc, NULL);
        return;
    }
    mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_NEW_SESSION,
                                                    .ref_msg_id = first_msg_id,
                                                    .value = s->unique_id});
}

static void nested(struct mtp_session *s, const struct mtp_nested *m, int64_t now)
{
    struct judged j = {m->msg_id, m->seqno, 0, m->offset, m->offset + 8, 0};
    uint32_t tolerated = 0;
    int32_t seqno = judged_seqno(s, m->seqno, m->ctor, &tolerated);
    uint32_t facts = faulty_facts(s, window_facts(s, m->msg_id, seqno, m->ctor, &tolerated));
    struct mtp_badmsg_verdict v = mtp_badmsg_decide(facts);
    if (v.action != MTP_BADMSG_ACCEPT) {
        struct mtp_error e;
        mtp_error_clear(&e);
        (void)reject(s, &j, &v, now, NULL, &e);
        return;
    }
    report_deviations(s, m->msg_id, m->seqno, m->ctor, tolerated);
    mtp_msgwin_insert(&s->window, m->msg_id, seqno);
    struct mtp_session_msg msg = {m->msg_id, seqno, m->ctor, m->body, true};
    mtp_session_dispatch(s, &msg, 0);
}

int mtp_session_server_recv(struct mtp_session *s, const struct mtp_msg_header *h, struct mtp_rd *body,
                            struct mtp_error *err)
{
    int64_t now = mtp_session_now(s);
    maintain_salts(s, now);
    /* Routing a message to the right session is the caller's job; a message
     * of another session is not this core's to judge.  The first message
     * names the session, so that even a notification about it goes there. */
    if (s->session_id == 0)
        s->session_id = h->session_id;
    uint32_t ctor;
    MTP_GUARD(mtp_session_accept_header(s, h, body, &ctor, err));
    struct judged j = {h->msg_id, h->seqno, h->salt, 16, 24, 0};
    uint32_t tolerated = 0;
    int32_t seqno = judged_seqno(s, h->seqno, ctor, &tolerated);
    uint32_t facts = window_facts(s, h->msg_id, seqno, ctor, &tolerated);
    switch (mtp_msgid_time_cmp(h->msg_id, now, s->cfg.max_past_ms, s->cfg.max_future_ms)) {
    case -1:
        facts |= MTP_FACT_ID_TOO_OLD;
        break;
    case 1:
        facts |= MTP_FACT_ID_TOO_NEW;
        break;
    default:
        break;
    }
    int64_t grace = mtp_session_server_faulty(s, MTP_SESSION_SF_NO_SALT_GRACE) ? 0 : s->cfg.salt_grace_ms;
    if (!mtp_salts_accepts(&s->salts, h->salt, now, grace))
        facts |= MTP_FACT_BAD_SALT;
    bool is_container = ctor == MTP_SVC_msg_container;
    struct mtp_container c;
    struct mtp_error cerr;
    mtp_error_clear(&cerr);
    if (is_container) {
        facts |= MTP_FACT_CONTAINER;
        struct mtp_rd cb = *body;
        cb.err = &cerr;
        int crc = mtp_container_open(&c, &cb, h->msg_id, h->seqno, &s->cfg.container);
        if (crc == MTP_ERR_SES_FLOOD)
            facts |= MTP_FACT_CONTAINER_FLOOD;
        else if (crc < 0)
            facts |= MTP_FACT_CONTAINER_INVALID;
        if (crc < 0 && cerr.code != crc)
            mtp_error_set(&cerr, crc, mtp_rd_offset(&cb), "msg_container: %s", mtp_err_text(crc));
        if (crc == MTP_ERR_SES_BAD_CONTAINER && mtp_session_server_faulty(s, MTP_SESSION_SF_ACCEPT_BAD_CONTAINER)) {
            struct mtp_rd lax = *body;
            lax.err = &cerr;
            if (mtp_container_open_unchecked(&c, &lax, h->msg_id, h->seqno, &s->cfg.container) == MTP_OK)
                facts &= ~MTP_FACT_CONTAINER_INVALID;
        }
    }
    facts = faulty_facts(s, facts);
    struct mtp_badmsg_verdict v = mtp_badmsg_decide(facts);
    if (v.action != MTP_BADMSG_ACCEPT)
        return reject(s, &j, &v, now, &cerr, err);

    /* Accepted: the session exists from now on. */
    uint64_t first = h->msg_id;
    if (is_container) {
        struct mtp_container scan = c;
        struct mtp_nested m;
        while (mtp_container_next(&scan, &m) == 1)
            if (m.msg_id < first)
                first = m.msg_id;
    }
    if (!s->started) {
        s->session_id = h->session_id;
        s->started = true;
        if (mtp_env_rand(&s->env, &s->unique_id, sizeof s->unique_id) < 0)
            s->unique_id = h->msg_id;
        announce_session(s, first, now);
    } else if (first < s->first_msg_id) {
        /* "If, after this, the server receives a message with an even smaller
         * msg_id within the same session, a similar notification will be
         * generated for this msg_id as well." */
        announce_session(s, first, now);
    }
    report_deviations(s, h->msg_id, h->seqno, ctor, tolerated);
    if (is_container) {
        struct mtp_nested m;
        while (mtp_container_next(&c, &m) == 1)
            nested(s, &m, now);
        mtp_msgwin_insert(&s->window, h->msg_id, seqno);
        return MTP_OK;
    }
    mtp_msgwin_insert(&s->window, h->msg_id, seqno);
    struct mtp_session_msg msg = {h->msg_id, seqno, ctor, *body, false};
    mtp_session_dispatch(s, &msg, 0);
    return MTP_OK;
}

bool mtp_session_server_dispatch(struct mtp_session *s, const struct mtp_session_msg *m, const struct mtp_svc *svc)
{
    switch (svc->id) {
    case MTP_SVC_get_future_salts: {
        /* "between 1 and 64 ... The server returns a maximum of num future server salts (may return fewer)." */
        int32_t num = svc->u.get_future_salts.num;
        if (num < 1)
            num = 1;
        if (num > MTP_SVC_MAX_FUTURE_SALTS)
            num = MTP_SVC_MAX_FUTURE_SALTS;
        if (mtp_session_server_faulty(s, MTP_SESSION_SF_EXTRA_FUTURE_SALT) && num < MTP_SVC_MAX_FUTURE_SALTS)
            num++;
        int64_t now = mtp_session_now(s);
        struct mtp_svc_future_salt out[MTP_SVC_MAX_FUTURE_SALTS];
        size_t n = 0;
        int rc = mtp_salts_extend(&s->salts, now, s->cfg.salt_period_ms, (size_t)num, &s->env);
        for (size_t i = 0; rc == MTP_OK && i < s->salts.n && n < (size_t)num; i++) {
            const struct mtp_salt_entry *e = &s->salts.e[i];
            if (e->valid_until_ms <= now)
                continue;
            out[n++] = (struct mtp_svc_future_salt){(int32_t)(e->valid_since_ms / 1000),
                                                    (int32_t)(e->valid_until_ms / 1000), e->salt};
        }
        struct mtp_wr w;
        mtp_wr_init_dyn(&w, 64 + 16 * MTP_SVC_MAX_FUTURE_SALTS, NULL);
        if (rc == MTP_OK)
            rc = mtp_svc_write_future_salts(&w, m->msg_id, (int32_t)(now / 1000), out, n);
        /* "The response serves as the acknowledgment of the query and does not require an acknowledgment itself." */
        if (rc == MTP_OK)
            rc = mtp_session_queue_service(s, w.p, w.len, MTP_OUT_RESPONSE, m->msg_id, 0, NULL);
        mtp_wr_free(&w);
        if (rc < 0)
            mtp_session_dropped(s, m->msg_id, m->seqno, rc, NULL);
        mtp_session_ack_forget(s, m->msg_id);
        return true;
    }
    case MTP_SVC_destroy_session:
        mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_DESTROY_SESSION,
                                                        .msg_id = m->msg_id,
                                                        .seqno = m->seqno,
                                                        .value = svc->u.session.session_id,
                                                        .ctor = svc->id});
        return true;
    case MTP_SVC_http_wait:
        mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_HTTP_WAIT,
                                                        .msg_id = m->msg_id,
                                                        .seqno = m->seqno,
                                                        .ctor = svc->id,
                                                        .body = mtp_rd_cur(&m->body),
                                                        .body_len = mtp_rd_left(&m->body)});
        return true;
    default:
        return false;
    }
}
