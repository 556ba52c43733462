/* Client core: the checks of security_guidelines#checking-msg-id on server
 * messages, and the client side of the service messages (answers, salts,
 * notifications and the resends they call for). */
#include <string.h>

#include "mtp/gzip.h"
#include "session/mtp_session_internal.h"

static int drop(struct mtp_session *s, uint64_t msg_id, int32_t seqno, struct mtp_error *err, int code, size_t at,
                const char *what)
{
    int rc = mtp_error_set(err, code, at, "%s at offset %zu: %s", what, at, mtp_err_text(code));
    mtp_session_dropped(s, msg_id, seqno, rc, err);
    return rc;
}

/* "Certain client-to-server service messages ... may, nonetheless, be
 * processed on the client even if the time appears to be 'incorrect'. This is
 * especially true of messages to change server_salt and notifications about
 * invalid time on the client." */
static bool time_exempt(uint32_t ctor, const struct mtp_rd *body)
{
    if (ctor == MTP_SVC_bad_server_salt)
        return true;
    if (ctor != MTP_SVC_bad_msg_notification)
        return false;
    struct mtp_rd r = *body;
    r.err = NULL;
    struct mtp_svc svc;
    if (mtp_svc_parse(&r, &svc) < 0)
        return false;
    return svc.u.bad_msg.error_code == MTP_BADMSG_ID_TOO_LOW || svc.u.bad_msg.error_code == MTP_BADMSG_ID_TOO_HIGH;
}

static int check_parity(struct mtp_session *s, uint64_t msg_id, int32_t seqno, size_t at, struct mtp_error *err)
{
    if (!mtp_msgid_parity_ok(msg_id, true) && !mtp_session_faulty(s, MTP_SESSION_CF_ACCEPT_EVEN_MSG_ID))
        return drop(s, msg_id, seqno, err, MTP_ERR_SES_MSG_ID_PARITY, at, "message.msg_id");
    return MTP_OK;
}

static int check_window(struct mtp_session *s, uint64_t msg_id, int32_t seqno, size_t at, struct mtp_error *err)
{
    if (mtp_session_faulty(s, MTP_SESSION_CF_ACCEPT_DUPLICATE))
        return MTP_OK;
    switch (mtp_msgwin_check(&s->window, msg_id)) {
    case MTP_MSGWIN_DUPLICATE:
        return drop(s, msg_id, seqno, err, MTP_ERR_SES_DUPLICATE, at, "message.msg_id");
    case MTP_MSGWIN_BELOW:
        return drop(s, msg_id, seqno, err, MTP_ERR_SES_BELOW_WINDOW, at, "message.msg_id");
    default:
        return MTP_OK;
    }
}

int mtp_session_client_recv(struct mtp_session *s, const struct mtp_msg_header *h, struct mtp_rd *body,
                            struct mtp_error *err)
{
    uint32_t ctor;
    MTP_GUARD(mtp_session_accept_header(s, h, body, &ctor, err));
    MTP_GUARD(check_parity(s, h->msg_id, h->seqno, 16, err));
    int tc = 0;
    if (s->ids.synced && s->cfg.client_time_check)
        tc = mtp_msgid_time_cmp(h->msg_id, mtp_msgid_now(&s->ids, mtp_session_now(s)), s->cfg.max_past_ms,
                                s->cfg.max_future_ms);
    bool is_container = ctor == MTP_SVC_msg_container;
    if (tc != 0 && !is_container && !time_exempt(ctor, body))
        return drop(s, h->msg_id, h->seqno, err, tc < 0 ? MTP_ERR_SES_MSG_ID_TOO_OLD : MTP_ERR_SES_MSG_ID_TOO_NEW, 16,
                    "message.msg_id");
    MTP_GUARD(check_window(s, h->msg_id, h->seqno, 16, err));
    if (!is_container) {
        mtp_msgwin_insert(&s->window, h->msg_id, h->seqno);
        struct mtp_session_msg msg = {h->msg_id, h->seqno, ctor, *body, false};
        mtp_session_dispatch(s, &msg, 0);
        return MTP_OK;
    }
    struct mtp_container c;
    /* With the order check off every nested msg_id counts as below the container's. */
    uint64_t cid = mtp_session_faulty(s, MTP_SESSION_CF_SKIP_CONTAINER_ORDER) ? UINT64_MAX : h->msg_id;
    int rc = mtp_container_open(&c, body, cid, h->seqno, &s->cfg.container);
    if (rc < 0) {
        mtp_session_dropped(s, h->msg_id, h->seqno, rc, err);
        return rc;
    }
    struct mtp_nested m;
    while (mtp_container_next(&c, &m) == 1) {
        struct mtp_error e;
        mtp_error_clear(&e);
        if (check_parity(s, m.msg_id, m.seqno, m.offset, &e) < 0)
            continue;
        /* With the container's time out of range, only the exempt messages inside count. */
        if (tc != 0 && !time_exempt(m.ctor, &m.body)) {
            (void)drop(s, m.msg_id, m.seqno, &e, tc < 0 ? MTP_ERR_SES_MSG_ID_TOO_OLD : MTP_ERR_SES_MSG_ID_TOO_NEW,
                       16, "message.msg_id (of the container)");
            continue;
        }
        if (check_window(s, m.msg_id, m.seqno, m.offset, &e) < 0)
            continue;
        mtp_msgwin_insert(&s->window, m.msg_id, m.seqno);
        struct mtp_session_msg msg = {m.msg_id, m.seqno, m.ctor, m.body, true};
        mtp_session_dispatch(s, &msg, 0);
    }
    mtp_msgwin_insert(&s->window, h->msg_id, h->seqno);
    return MTP_OK;
}

static void on_rpc_result(struct mtp_session *s, const struct mtp_session_msg *m, const struct mtp_svc *svc,
                          int depth)
{
    uint64_t req = svc->u.rpc_result.req_msg_id;
    long i = mtp_session_awaited(s, req, 0);
    if (i < 0) {
        mtp_session_unknown_request(s, m, "rpc_result.req_msg_id", req);
        return;
    }
    uint64_t orig = s->out[i].orig_msg_id;
    /* The answer is also the acknowledgement of the request. */
    mtp_outbox_remove(s, (size_t)i);

    struct mtp_error e;
    mtp_error_clear(&e);
    struct mtp_rd result = svc->u.rpc_result.result;
    result.err = &e;
    uint32_t ctor;
    if (mtp_rd_peek_u32(&result, &ctor, "rpc_result.result") < 0) {
        mtp_session_dropped(s, m->msg_id, m->seqno, e.code, &e);
        return;
    }
    if (ctor == MTP_SVC_gzip_packed) {
        int rc = MTP_ERR_SES_NESTED_GZIP;
        if (depth > 0) {
            mtp_error_set(&e, rc, mtp_rd_offset(&result), "rpc_result.result: gzip_packed inside gzip_packed at offset %zu",
                          mtp_rd_offset(&result));
        } else {
            mtp_wr_reset(&s->scratch);
            s->scratch.err = &e;
            rc = mtp_gzip_packed_read(&result, &s->scratch, s->cfg.gzip_max);
            s->scratch.err = NULL;
            if (rc == MTP_OK && s->scratch.len < 4)
                rc = mtp_error_set(&e, MTP_ERR_TL_SHORT, mtp_rd_offset(&result),
                                   "rpc_result.result: gzip_packed inflates to %zu bytes", s->scratch.len);
        }
        if (rc < 0) {
            mtp_session_dropped(s, m->msg_id, m->seqno, rc, &e);
            return;
        }
        mtp_rd_init(&result, s->scratch.p, s->scratch.len, &e);
        ctor = mtp_load_u32(s->scratch.p);
    }
    struct mtp_session_event ev = {.type = MTP_SESSION_EV_RESULT,
                                   .msg_id = m->msg_id,
                                   .seqno = m->seqno,
                                   .ref_msg_id = req,
                                   .orig_msg_id = orig,
                                   .ctor = ctor,
                                   .body = mtp_rd_cur(&result),
                                   .body_len = mtp_rd_left(&result)};
    if (ctor == MTP_SVC_rpc_error) {
        struct mtp_svc err;
        if (mtp_svc_parse(&result, &err) < 0) {
            mtp_session_dropped(s, m->msg_id, m->seqno, e.code, &e);
            return;
        }
        ev.type = MTP_SESSION_EV_RPC_ERROR;
        ev.code = err.u.rpc_error.error_code;
        ev.body = err.u.rpc_error.message;
        ev.body_len = err.u.rpc_error.message_len;
    }
    mtp_session_emit(s, &ev);
}

static void on_bad_msg(struct mtp_session *s, const struct mtp_session_msg *m, const struct mtp_svc *svc)
{
    uint64_t id = svc->u.bad_msg.bad_msg_id;
    int32_t code = svc->u.bad_msg.error_code;
    /* "The client must check that it has, in fact, recently sent a message
     * with the specified msg_id". */
    if (!mtp_session_sent_recently(s, id)) {
        mtp_session_unknown_request(s, m, "bad_msg_notification.bad_msg_id", id);
        return;
    }
    bool salt = svc->id == MTP_SVC_bad_server_salt;
    if (salt && mtp_session_faulty(s, MTP_SESSION_CF_RESEND_SAME_MSG_ID))
        mtp_session_mark_same_id(s, id);
    if (salt) {
        s->salt = svc->u.bad_msg.new_server_salt;
        /* Any future salt we hold is evidently not what the server uses now. */
        mtp_salts_clear(&s->salts);
    }
    mtp_session_emit(s, &(struct mtp_session_event){.type = salt ? MTP_SESSION_EV_BAD_SALT : MTP_SESSION_EV_BAD_MSG,
                                                    .msg_id = m->msg_id,
                                                    .seqno = m->seqno,
                                                    .ref_msg_id = id,
                                                    .value = salt ? svc->u.bad_msg.new_server_salt : 0,
                                                    .code = code,
                                                    .ctor = svc->id});
    if (salt) {
        (void)mtp_session_resend_sent(s, id);
        return;
    }
    int64_t now = mtp_session_now(s);
    switch (code) {
    case MTP_BADMSG_ID_TOO_LOW:
    case MTP_BADMSG_ID_TOO_HIGH:
        /* Time correction from the notification's own msg_id ("update its
         * time correction value ... based on msg_id"), then resend. */
        mtp_msgid_sync(&s->ids, now, m->msg_id);
        if (code == MTP_BADMSG_ID_TOO_HIGH && s->ids.last >= mtp_msgid_from_ms(mtp_msgid_now(&s->ids, now))) {
            /* Our earlier ids are ahead of the corrected clock: new ones could
             * only continue above them and be too high again.  A new session
             * lets the ids restart from the right time (below every id sent,
             * so none is sent twice).  Too low (16): the ids only move up. */
            uint64_t last = s->ids.last;
            s->ids.last = 0;
            /* When the clock does not bear the notice out, the corrected time
             * may give the refused id again: the resend must carry another. */
            s->ids.avoid = id;
            if (mtp_session_renew(s) == MTP_OK)
                return;
            s->ids.last = last;
        }
        (void)mtp_session_resend_sent(s, id);
        return;
    case MTP_BADMSG_TOO_OLD:
    case MTP_BADMSG_BAD_SALT:
        (void)mtp_session_resend_sent(s, id);
        return;
    default:
        /* 18, 19, 32-35, 64: the message was wrong in a way a resend cannot fix. */
        (void)mtp_session_fail_sent(s, id, code);
        return;
    }
}

static void on_new_session(struct mtp_session *s, const struct mtp_session_msg *m, const struct mtp_svc *svc)
{
    uint64_t first = svc->u.new_session.first_msg_id;
    s->salt = svc->u.new_session.server_salt;
    mtp_salts_clear(&s->salts);
    mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_NEW_SESSION,
                                                    .msg_id = m->msg_id,
                                                    .seqno = m->seqno,
                                                    .ref_msg_id = first,
                                                    .value = svc->u.new_session.unique_id,
                                                    .ctor = svc->id});
    /* Requests sent before first_msg_id reached a session the server no longer
     * has: they will never be answered unless sent again. */
    for (;;) {
        size_t i;
        for (i = 0; i < s->out_n; i++) {
            const struct mtp_session_out *e = &s->out[i];
            if ((e->flags & MTP_OUT_AWAIT) && !(e->flags & MTP_OUT_QUEUED) && e->body != NULL && e->msg_id < first)
                break;
        }
        if (i == s->out_n)
            break;
        (void)mtp_outbox_requeue(s, i);
    }
}

static void on_future_salts(struct mtp_session *s, const struct mtp_session_msg *m, const struct mtp_svc *svc)
{
    uint64_t req = svc->u.future_salts.req_msg_id;
    /* "The client must check to see that the response's req_msg_id in fact
     * coincides with msg_id of the query for get_future_salts." */
    long i = mtp_session_awaited(s, req, MTP_SVC_get_future_salts);
    if (i < 0) {
        mtp_session_unknown_request(s, m, "future_salts.req_msg_id", req);
        return;
    }
    uint64_t orig = s->out[i].orig_msg_id;
    mtp_outbox_remove(s, (size_t)i);
    struct mtp_svc fs = *svc;
    struct mtp_svc_future_salt salt;
    for (uint32_t k = 0; k < fs.u.future_salts.count; k++) {
        if (mtp_svc_future_salt_next(&fs, &salt) < 0)
            break;
        mtp_salts_add(&s->salts, salt.salt, (int64_t)salt.valid_since * 1000, (int64_t)salt.valid_until * 1000);
    }
    mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_FUTURE_SALTS,
                                                    .msg_id = m->msg_id,
                                                    .seqno = m->seqno,
                                                    .ref_msg_id = req,
                                                    .orig_msg_id = orig,
                                                    .code = (int32_t)fs.u.future_salts.count,
                                                    .ctor = svc->id});
}

static void on_destroy_result(struct mtp_session *s, const struct mtp_session_msg *m, const struct mtp_svc *svc)
{
    uint64_t sid = svc->u.session.session_id;
    for (size_t i = 0; i < s->out_n; i++) {
        const struct mtp_session_out *e = &s->out[i];
        if (e->ctor == MTP_SVC_destroy_session && e->tag == sid && (e->flags & MTP_OUT_AWAIT) &&
            !(e->flags & MTP_OUT_QUEUED)) {
            uint64_t id = e->msg_id, orig = e->orig_msg_id;
            mtp_outbox_remove(s, i);
            mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_DESTROY_SESSION,
                                                            .msg_id = m->msg_id,
                                                            .seqno = m->seqno,
                                                            .ref_msg_id = id,
                                                            .orig_msg_id = orig,
                                                            .value = sid,
                                                            .code = svc->id == MTP_SVC_destroy_session_ok,
                                                            .ctor = svc->id});
            return;
        }
    }
    mtp_session_unknown_request(s, m, "destroy_session result session_id", sid);
}

bool mtp_session_client_dispatch(struct mtp_session *s, const struct mtp_session_msg *m, const struct mtp_svc *svc,
                                 int depth)
{
    switch (svc->id) {
    case MTP_SVC_rpc_result:
        on_rpc_result(s, m, svc, depth);
        return true;
    case MTP_SVC_bad_msg_notification:
    case MTP_SVC_bad_server_salt:
        on_bad_msg(s, m, svc);
        return true;
    case MTP_SVC_new_session_created:
        on_new_session(s, m, svc);
        return true;
    case MTP_SVC_future_salts:
        on_future_salts(s, m, svc);
        return true;
    case MTP_SVC_destroy_session_ok:
    case MTP_SVC_destroy_session_none:
        on_destroy_result(s, m, svc);
        return true;
    default:
        return false;
    }
}
