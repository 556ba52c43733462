/* Receiving, common to both roles: parse the inner header, hand the message to
 * the role's checks, and dispatch accepted bodies, including the service
 * messages either side may get (service_messages_about_messages). */
#include <string.h>

#include "mtp/gzip.h"
#include "session/mtp_session_internal.h"

/* mtp_msg_parse without the length rule (fault SKIP_LENGTH of either role): a
 * message_data_length that is negative or runs past the plaintext takes what
 * is there; one that is not a multiple of 4 is taken as it is. */
static int parse_any_length(struct mtp_rd *r, struct mtp_msg_header *h, struct mtp_rd *body)
{
    struct mtp_rd t = *r;
    int32_t len;
    MTP_GUARD(mtp_rd_u64(&t, &h->salt, "message.salt"));
    MTP_GUARD(mtp_rd_u64(&t, &h->session_id, "message.session_id"));
    MTP_GUARD(mtp_rd_u64(&t, &h->msg_id, "message.msg_id"));
    MTP_GUARD(mtp_rd_i32(&t, &h->seqno, "message.seq_no"));
    MTP_GUARD(mtp_rd_i32(&t, &len, "message.message_data_length"));
    size_t n = len < 0 || (size_t)len > mtp_rd_left(&t) ? mtp_rd_left(&t) : (size_t)len;
    h->length = (uint32_t)n;
    MTP_GUARD(mtp_rd_sub(&t, n, body, "message.message_data"));
    *r = t;
    return MTP_OK;
}

int mtp_session_recv(struct mtp_session *s, const uint8_t *plain, size_t len, struct mtp_error *err)
{
    struct mtp_error local;
    if (err == NULL)
        err = &local;
    mtp_error_clear(err);
    struct mtp_rd r, body;
    mtp_rd_init(&r, plain, len, err);
    struct mtp_msg_header h;
    bool any_length =
        mtp_session_faulty(s, MTP_SESSION_CF_SKIP_LENGTH) || mtp_session_server_faulty(s, MTP_SESSION_SF_SKIP_LENGTH);
    int rc = any_length ? parse_any_length(&r, &h, &body) : mtp_msg_parse(&r, &h, &body);
    if (rc < 0) {
        mtp_session_dropped(s, 0, 0, rc, err);
        return rc;
    }
    s->flooded = false;
    rc = s->role == MTP_SESSION_CLIENT ? mtp_session_client_recv(s, &h, &body, err)
                                       : mtp_session_server_recv(s, &h, &body, err);
    /* "Error 429 (transport flood) is returned ... if any of the container/service
     * message limits are reached": the caller has to know even though the rest
     * of the input was processed. */
    if (rc == MTP_OK && s->flooded)
        rc = mtp_error_set(err, MTP_ERR_SES_FLOOD, MTP_NO_OFFSET,
                           "a service message in msg_id %#llx carries more than %d msg_ids",
                           (unsigned long long)h.msg_id, MTP_SVC_MAX_IDS);
    s->flooded = false;
    return rc;
}

/* msgs_state_info status of a msg_id the peer sent us. */
static uint8_t state_of(const struct mtp_session *s, uint64_t id)
{
    const struct mtp_msgwin *w = &s->window;
    int32_t seqno;
    if (mtp_msgwin_lookup(w, id, &seqno)) {
        uint8_t st = MTP_STATE_RECEIVED;
        if (!(seqno & 1)) {
            st |= MTP_STATE_F_NO_ACK;
        } else {
            bool pending = false;
            for (size_t i = 0; i < s->acks_n; i++)
                if (s->acks[i] == id)
                    pending = true;
            if (!pending)
                st |= MTP_STATE_F_ACKED;
        }
        return st;
    }
    if (w->n == 0 || id > mtp_msgwin_max(w))
        return MTP_STATE_NOT_YET;
    if (mtp_msgwin_full(w) && id < mtp_msgwin_min(w))
        return MTP_STATE_UNKNOWN;
    return MTP_STATE_NOT_RECEIVED;
}

static void answer_state(struct mtp_session *s, uint64_t req_msg_id, struct mtp_svc_ids ids)
{
    uint8_t info[MTP_SVC_MAX_IDS];
    size_t n = 0;
    uint64_t id;
    while (n < ids.count && mtp_svc_ids_next(&ids, &id) == MTP_OK)
        info[n++] = state_of(s, id);
    if (n > 0 && mtp_session_server_faulty(s, MTP_SESSION_SF_STATE_INFO_SHORT))
        n--;
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 32 + sizeof info, NULL);
    int rc = mtp_svc_write_state_info(&w, MTP_SVC_msgs_state_info, req_msg_id, NULL, 0, info, n);
    if (rc == MTP_OK)
        rc = mtp_session_queue_service(s, w.p, w.len, s->role == MTP_SESSION_SERVER ? MTP_OUT_RESPONSE : 0,
                                       req_msg_id, 0, NULL);
    mtp_wr_free(&w);
    if (rc < 0)
        mtp_session_dropped(s, req_msg_id, 0, rc, NULL);
    /* "This response ... is an acknowledgment of the relevant msgs_state_req" */
    mtp_session_ack_forget(s, req_msg_id);
}

static void on_acks(struct mtp_session *s, const struct mtp_session_msg *m, struct mtp_svc_ids ids)
{
    uint64_t id;
    while (mtp_svc_ids_next(&ids, &id) == MTP_OK) {
        long i = mtp_outbox_find(s, id);
        if (i < 0 || (s->out[i].flags & (MTP_OUT_QUEUED | MTP_OUT_ACKED)))
            continue;
        struct mtp_session_out *e = &s->out[i];
        uint64_t orig = e->orig_msg_id;
        uint32_t ctor = e->ctor;
        if (e->flags & MTP_OUT_AWAIT) {
            e->flags |= MTP_OUT_ACKED;
            mtp_outbox_drop_body(s, (size_t)i);
        } else {
            mtp_outbox_remove(s, (size_t)i);
        }
        mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_ACKED,
                                                        .msg_id = m->msg_id,
                                                        .seqno = m->seqno,
                                                        .ref_msg_id = id,
                                                        .orig_msg_id = orig,
                                                        .ctor = ctor});
    }
}

static void on_ping(struct mtp_session *s, const struct mtp_session_msg *m, const struct mtp_svc *svc)
{
    uint8_t buf[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    int rc = mtp_svc_write_pong(&w, m->msg_id, svc->u.ping.ping_id);
    /* pong is not content-related ("These messages do not require acknowledgments"). */
    if (rc == MTP_OK)
        rc = mtp_session_queue_service(s, w.p, w.len, s->role == MTP_SESSION_SERVER ? MTP_OUT_RESPONSE : 0,
                                       m->msg_id, 0, NULL);
    if (rc < 0) {
        mtp_session_dropped(s, m->msg_id, m->seqno, rc, NULL);
        return;
    }
    mtp_session_ack_forget(s, m->msg_id);
    int32_t delay = -1;
    if (svc->id == MTP_SVC_ping_delay_disconnect) {
        delay = svc->u.ping.disconnect_delay;
        /* "the server starts a timer which will close the current connection
         * disconnect_delay seconds later unless it receives a new message of
         * the same type which automatically resets all previous timers" */
        s->disconnect_at_ms = delay > 0 ? mtp_session_now(s) + (int64_t)delay * 1000 : 0;
        if (mtp_session_server_faulty(s, MTP_SESSION_SF_NO_DISCONNECT))
            s->disconnect_at_ms = 0;
    }
    mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_PING,
                                                    .msg_id = m->msg_id,
                                                    .seqno = m->seqno,
                                                    .value = svc->u.ping.ping_id,
                                                    .code = delay,
                                                    .ctor = svc->id});
}

/* Finds the stored request an answer refers to. */
long mtp_session_awaited(const struct mtp_session *s, uint64_t req_msg_id, uint32_t ctor)
{
    long i = mtp_outbox_find(s, req_msg_id);
    if (i < 0 || !(s->out[i].flags & MTP_OUT_AWAIT) || (s->out[i].flags & MTP_OUT_QUEUED))
        return -1;
    if (ctor != 0 && s->out[i].ctor != ctor)
        return -1;
    return i;
}

void mtp_session_unknown_request(struct mtp_session *s, const struct mtp_session_msg *m, const char *what, uint64_t id)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    mtp_error_set(&e, MTP_ERR_SES_UNKNOWN_REQUEST, mtp_rd_offset(&m->body),
                  "%s: refers to msg_id %#llx, which is not a request awaiting an answer", what,
                  (unsigned long long)id);
    mtp_session_dropped(s, m->msg_id, m->seqno, MTP_ERR_SES_UNKNOWN_REQUEST, &e);
}

static void on_pong(struct mtp_session *s, const struct mtp_session_msg *m, const struct mtp_svc *svc)
{
    long i = mtp_session_awaited(s, svc->u.pong.msg_id, 0);
    if (i < 0 || (s->out[i].ctor != MTP_SVC_ping && s->out[i].ctor != MTP_SVC_ping_delay_disconnect)) {
        mtp_session_unknown_request(s, m, "pong.msg_id", svc->u.pong.msg_id);
        return;
    }
    uint64_t orig = s->out[i].orig_msg_id;
    mtp_outbox_remove(s, (size_t)i);
    mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_PONG,
                                                    .msg_id = m->msg_id,
                                                    .seqno = m->seqno,
                                                    .ref_msg_id = svc->u.pong.msg_id,
                                                    .orig_msg_id = orig,
                                                    .value = svc->u.pong.ping_id});
}

static void on_resend_req(struct mtp_session *s, const struct mtp_session_msg *m, const struct mtp_svc *svc)
{
    /* "If at least one message with requested msg_id does not exist or has
     * already been forgotten, or has been sent by the requesting party (known
     * from parity), MsgsStateInfo is returned for all messages requested as if
     * the MsgResendReq query had been a MsgsStateReq query as well."  msg_resend_ans_req
     * asks for answers, which this layer does not keep apart: state info. */
    if (mtp_session_server_faulty(s, MTP_SESSION_SF_NO_RESEND))
        return;
    bool all = svc->id == MTP_SVC_msg_resend_req;
    struct mtp_svc_ids ids = svc->u.ids;
    uint64_t id;
    while (all && mtp_svc_ids_next(&ids, &id) == MTP_OK) {
        long i = mtp_outbox_find(s, id);
        if (i < 0 || s->out[i].body == NULL || (s->out[i].flags & MTP_OUT_CONTAINER))
            all = false;
    }
    if (!all) {
        answer_state(s, m->msg_id, svc->u.ids);
        return;
    }
    ids = svc->u.ids;
    while (mtp_svc_ids_next(&ids, &id) == MTP_OK) {
        long i = mtp_outbox_find(s, id);
        if (i < 0 || (s->out[i].flags & MTP_OUT_QUEUED))
            continue;
        /* Same msg_id, in a container with a higher one (description#message-identifier-msg-id). */
        s->out[i].flags |= MTP_OUT_KEEP_ID;
        (void)mtp_outbox_requeue(s, (size_t)i);
    }
}

static void on_state_info(struct mtp_session *s, const struct mtp_session_msg *m, const struct mtp_svc *svc)
{
    long i = mtp_session_awaited(s, svc->u.state_info.req_msg_id, MTP_SVC_msgs_state_req);
    if (i < 0) {
        mtp_session_unknown_request(s, m, "msgs_state_info.req_msg_id", svc->u.state_info.req_msg_id);
        return;
    }
    uint64_t orig = s->out[i].orig_msg_id;
    mtp_outbox_remove(s, (size_t)i);
    mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_STATE_INFO,
                                                    .msg_id = m->msg_id,
                                                    .seqno = m->seqno,
                                                    .ref_msg_id = svc->u.state_info.req_msg_id,
                                                    .orig_msg_id = orig,
                                                    .body = svc->u.state_info.info,
                                                    .body_len = svc->u.state_info.info_len});
}

static void on_detailed_info(struct mtp_session *s, const struct mtp_session_msg *m, const struct mtp_svc *svc)
{
    uint64_t answer = svc->u.detailed_info.answer_msg_id;
    /* msg_detailed_info says the peer has our msg_id: as good as an ack. */
    if (svc->id == MTP_SVC_msg_detailed_info) {
        long i = mtp_outbox_find(s, svc->u.detailed_info.msg_id);
        if (i >= 0 && !(s->out[i].flags & MTP_OUT_QUEUED)) {
            s->out[i].flags |= MTP_OUT_ACKED;
            mtp_outbox_drop_body(s, (size_t)i);
        }
    }
    /* The answer is known: acknowledge it; otherwise ask for it again. */
    if (mtp_msgwin_contains(&s->window, answer)) {
        mtp_session_ack_later(s, answer);
    } else {
        int rc = mtp_session_resend_req(s, &answer, 1, NULL);
        if (rc < 0)
            mtp_session_dropped(s, m->msg_id, m->seqno, rc, NULL);
    }
    mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_DETAILED_INFO,
                                                    .msg_id = m->msg_id,
                                                    .seqno = m->seqno,
                                                    .ref_msg_id = answer,
                                                    .value = svc->u.detailed_info.msg_id,
                                                    .code = svc->u.detailed_info.status,
                                                    .ctor = svc->id});
}

static void on_gzip(struct mtp_session *s, const struct mtp_session_msg *m, int depth)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    struct mtp_rd r = m->body;
    r.err = &e;
    if (depth > 0) {
        mtp_error_set(&e, MTP_ERR_SES_NESTED_GZIP, mtp_rd_offset(&r), "gzip_packed: inside gzip_packed at offset %zu",
                      mtp_rd_offset(&r));
        mtp_session_dropped(s, m->msg_id, m->seqno, MTP_ERR_SES_NESTED_GZIP, &e);
        return;
    }
    mtp_wr_reset(&s->scratch);
    s->scratch.err = &e;
    int rc = mtp_gzip_packed_read(&r, &s->scratch, s->cfg.gzip_max);
    s->scratch.err = NULL;
    if (rc == MTP_OK && s->scratch.len < 4)
        rc = mtp_error_set(&e, MTP_ERR_TL_SHORT, mtp_rd_offset(&m->body), "gzip_packed: inflates to %zu bytes, no object",
                           s->scratch.len);
    if (rc < 0) {
        mtp_session_dropped(s, m->msg_id, m->seqno, rc, &e);
        return;
    }
    struct mtp_session_msg inner = *m;
    mtp_rd_init(&inner.body, s->scratch.p, s->scratch.len, NULL);
    inner.ctor = mtp_load_u32(s->scratch.p);
    if (inner.ctor == MTP_SVC_msg_container) {
        mtp_error_set(&e, MTP_ERR_UNSUPPORTED, mtp_rd_offset(&m->body), "gzip_packed: a packed msg_container is not supported");
        mtp_session_dropped(s, m->msg_id, m->seqno, MTP_ERR_UNSUPPORTED, &e);
        return;
    }
    mtp_session_dispatch(s, &inner, depth + 1);
}

void mtp_session_dispatch(struct mtp_session *s, const struct mtp_session_msg *m, int depth)
{
    /* Content-related messages are acknowledged (a gzip-packed one once, as itself). */
    if (depth == 0 && ((m->seqno & 1) || mtp_session_server_faulty(s, MTP_SESSION_SF_ACK_SERVICE)))
        mtp_session_ack_later(s, m->msg_id);

    const struct mtp_svc_info *info = mtp_svc_info(m->ctor);
    if (info == NULL || m->ctor == MTP_SVC_rpc_drop_answer) {
        /* An application message; rpc_drop_answer is a query for the application too. */
        mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_MESSAGE,
                                                        .msg_id = m->msg_id,
                                                        .seqno = m->seqno,
                                                        .ctor = m->ctor,
                                                        .body = mtp_rd_cur(&m->body),
                                                        .body_len = mtp_rd_left(&m->body)});
        return;
    }
    struct mtp_error e;
    mtp_error_clear(&e);
    unsigned from = s->role == MTP_SESSION_CLIENT ? MTP_SVC_FROM_SERVER : MTP_SVC_FROM_CLIENT;
    if (!(info->from & from)) {
        mtp_error_set(&e, MTP_ERR_SES_UNEXPECTED, mtp_rd_offset(&m->body), "%s: only the %s sends it (offset %zu)",
                      info->name, s->role == MTP_SESSION_CLIENT ? "client" : "server", mtp_rd_offset(&m->body));
        mtp_session_dropped(s, m->msg_id, m->seqno, MTP_ERR_SES_UNEXPECTED, &e);
        return;
    }
    if (m->ctor == MTP_SVC_gzip_packed) {
        on_gzip(s, m, depth);
        return;
    }
    if (m->ctor == MTP_SVC_msg_container || m->ctor == MTP_SVC_msg_copy) {
        /* Containers are opened by the role code; one here is nested in
         * something else.  msg_copy is "not used at this time". */
        mtp_error_set(&e, MTP_ERR_UNSUPPORTED, mtp_rd_offset(&m->body), "%s: not accepted here (offset %zu)", info->name,
                      mtp_rd_offset(&m->body));
        mtp_session_dropped(s, m->msg_id, m->seqno, MTP_ERR_UNSUPPORTED, &e);
        return;
    }
    struct mtp_svc svc;
    struct mtp_rd r = m->body;
    r.err = &e;
    int rc = mtp_svc_parse(&r, &svc);
    if (rc < 0) {
        if (rc == MTP_ERR_SES_FLOOD)
            s->flooded = true;
        mtp_session_dropped(s, m->msg_id, m->seqno, rc, &e);
        return;
    }
    switch (svc.id) {
    case MTP_SVC_msgs_ack:
        on_acks(s, m, svc.u.ids);
        return;
    case MTP_SVC_ping:
    case MTP_SVC_ping_delay_disconnect:
        on_ping(s, m, &svc);
        return;
    case MTP_SVC_pong:
        on_pong(s, m, &svc);
        return;
    case MTP_SVC_msgs_state_req:
        answer_state(s, m->msg_id, svc.u.ids);
        return;
    case MTP_SVC_msg_resend_req:
    case MTP_SVC_msg_resend_ans_req:
        on_resend_req(s, m, &svc);
        return;
    case MTP_SVC_msgs_state_info:
        on_state_info(s, m, &svc);
        return;
    case MTP_SVC_msgs_all_info:
        /* Informational only ("This message does not require an acknowledgment"). */
        mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_ALL_INFO,
                                                        .msg_id = m->msg_id,
                                                        .seqno = m->seqno,
                                                        .code = (int32_t)svc.u.all_info.info_len,
                                                        .ctor = svc.id,
                                                        .body = svc.u.all_info.info,
                                                        .body_len = svc.u.all_info.info_len});
        return;
    case MTP_SVC_msg_detailed_info:
    case MTP_SVC_msg_new_detailed_info:
        on_detailed_info(s, m, &svc);
        return;
    default:
        break;
    }
    bool handled = s->role == MTP_SESSION_CLIENT ? mtp_session_client_dispatch(s, m, &svc, depth)
                                                 : mtp_session_server_dispatch(s, m, &svc);
    if (!handled) {
        mtp_error_set(&e, MTP_ERR_SES_UNEXPECTED, mtp_rd_offset(&m->body), "%s: not expected here (offset %zu)",
                      info->name, mtp_rd_offset(&m->body));
        mtp_session_dropped(s, m->msg_id, m->seqno, MTP_ERR_SES_UNEXPECTED, &e);
    }
}

int mtp_session_accept_header(struct mtp_session *s, const struct mtp_msg_header *h, const struct mtp_rd *body,
                              uint32_t *ctor, struct mtp_error *err)
{
    /* security_guidelines#checking-session-id */
    if (h->session_id != s->session_id && !mtp_session_faulty(s, MTP_SESSION_CF_SKIP_SESSION_ID)) {
        int rc = mtp_error_set(err, MTP_ERR_SES_WRONG_SESSION, 8,
                               "message.session_id: %#llx at offset 8 is not this session (%#llx)",
                               (unsigned long long)h->session_id, (unsigned long long)s->session_id);
        mtp_session_dropped(s, h->msg_id, h->seqno, rc, err);
        return rc;
    }
    int rc = mtp_rd_peek_u32(body, ctor, "message.message_data");
    if (rc < 0)
        mtp_session_dropped(s, h->msg_id, h->seqno, rc, err);
    return rc;
}
