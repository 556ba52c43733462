#include "mtp/service.h"

#include <stdio.h>

#include "mtp/tl_prim.h"

/* Classification of every service constructor.  Sources, per row:
 * - content-related: description#content-related-message ("virtually all with
 *   the exception of containers and acknowledgments") and the per-message
 *   notes on service_messages(_about_messages): msgs_state_info, msgs_all_info,
 *   msg_detailed_info, future_salts, bad_msg_notification and pong "do not
 *   require acknowledgment"; new_session_created "must be acknowledged".
 * - EITHER: ping, ping_delay_disconnect and http_wait are queries (content by
 *   the general rule) that the spec also calls "not requiring acknowledgment";
 *   deployed clients send them both ways, so neither parity is an error.
 * - direction: who the pages say sends it ("ping can be initiated by either
 *   side"; msgs_state_req/msg_resend_req: "either party").
 * - response: a server message answering one client message (msg_id 1 mod 4). */
static const struct mtp_svc_info svc_table[] = {
    {MTP_SVC_rpc_result, "rpc_result", MTP_SVC_SEQ_CONTENT, MTP_SVC_FROM_SERVER, true},
    {MTP_SVC_msg_container, "msg_container", MTP_SVC_SEQ_SERVICE, MTP_SVC_FROM_CLIENT | MTP_SVC_FROM_SERVER, false},
    {MTP_SVC_msg_copy, "msg_copy", MTP_SVC_SEQ_CONTENT, MTP_SVC_FROM_CLIENT | MTP_SVC_FROM_SERVER, false},
    {MTP_SVC_gzip_packed, "gzip_packed", MTP_SVC_SEQ_CONTENT, MTP_SVC_FROM_CLIENT | MTP_SVC_FROM_SERVER, false},
    {MTP_SVC_msgs_ack, "msgs_ack", MTP_SVC_SEQ_SERVICE, MTP_SVC_FROM_CLIENT | MTP_SVC_FROM_SERVER, false},
    {MTP_SVC_bad_msg_notification, "bad_msg_notification", MTP_SVC_SEQ_SERVICE, MTP_SVC_FROM_SERVER, true},
    {MTP_SVC_bad_server_salt, "bad_server_salt", MTP_SVC_SEQ_SERVICE, MTP_SVC_FROM_SERVER, true},
    {MTP_SVC_msg_resend_req, "msg_resend_req", MTP_SVC_SEQ_CONTENT, MTP_SVC_FROM_CLIENT | MTP_SVC_FROM_SERVER, false},
    {MTP_SVC_msg_resend_ans_req, "msg_resend_ans_req", MTP_SVC_SEQ_CONTENT, MTP_SVC_FROM_CLIENT, false},
    {MTP_SVC_msgs_state_req, "msgs_state_req", MTP_SVC_SEQ_CONTENT, MTP_SVC_FROM_CLIENT | MTP_SVC_FROM_SERVER, false},
    {MTP_SVC_msgs_state_info, "msgs_state_info", MTP_SVC_SEQ_SERVICE, MTP_SVC_FROM_CLIENT | MTP_SVC_FROM_SERVER, true},
    {MTP_SVC_msgs_all_info, "msgs_all_info", MTP_SVC_SEQ_SERVICE, MTP_SVC_FROM_CLIENT | MTP_SVC_FROM_SERVER, false},
    {MTP_SVC_msg_detailed_info, "msg_detailed_info", MTP_SVC_SEQ_SERVICE, MTP_SVC_FROM_CLIENT | MTP_SVC_FROM_SERVER,
     true},
    {MTP_SVC_msg_new_detailed_info, "msg_new_detailed_info", MTP_SVC_SEQ_SERVICE,
     MTP_SVC_FROM_CLIENT | MTP_SVC_FROM_SERVER, false},
    {MTP_SVC_future_salts, "future_salts", MTP_SVC_SEQ_SERVICE, MTP_SVC_FROM_SERVER, true},
    {MTP_SVC_pong, "pong", MTP_SVC_SEQ_SERVICE, MTP_SVC_FROM_CLIENT | MTP_SVC_FROM_SERVER, true},
    {MTP_SVC_destroy_session_ok, "destroy_session_ok", MTP_SVC_SEQ_CONTENT, MTP_SVC_FROM_SERVER, true},
    {MTP_SVC_destroy_session_none, "destroy_session_none", MTP_SVC_SEQ_CONTENT, MTP_SVC_FROM_SERVER, true},
    {MTP_SVC_new_session_created, "new_session_created", MTP_SVC_SEQ_CONTENT, MTP_SVC_FROM_SERVER, false},
    {MTP_SVC_rpc_drop_answer, "rpc_drop_answer", MTP_SVC_SEQ_CONTENT, MTP_SVC_FROM_CLIENT, false},
    {MTP_SVC_get_future_salts, "get_future_salts", MTP_SVC_SEQ_CONTENT, MTP_SVC_FROM_CLIENT, false},
    {MTP_SVC_ping, "ping", MTP_SVC_SEQ_EITHER, MTP_SVC_FROM_CLIENT | MTP_SVC_FROM_SERVER, false},
    {MTP_SVC_ping_delay_disconnect, "ping_delay_disconnect", MTP_SVC_SEQ_EITHER, MTP_SVC_FROM_CLIENT, false},
    {MTP_SVC_destroy_session, "destroy_session", MTP_SVC_SEQ_CONTENT, MTP_SVC_FROM_CLIENT, false},
    {MTP_SVC_http_wait, "http_wait", MTP_SVC_SEQ_EITHER, MTP_SVC_FROM_CLIENT, false},
};

const struct mtp_svc_info *mtp_svc_info(uint32_t id)
{
    for (size_t i = 0; i < sizeof svc_table / sizeof svc_table[0]; i++)
        if (svc_table[i].id == id)
            return &svc_table[i];
    return NULL;
}

const char *mtp_svc_name(uint32_t id, char buf[12])
{
    const struct mtp_svc_info *info = mtp_svc_info(id);
    if (info)
        return info->name;
    snprintf(buf, 12, "#%08x", id);
    return buf;
}

const char *mtp_bad_msg_code_text(int32_t code)
{
    switch (code) {
    case MTP_BADMSG_ID_TOO_LOW:
        return "msg_id too low";
    case MTP_BADMSG_ID_TOO_HIGH:
        return "msg_id too high";
    case MTP_BADMSG_ID_LOW_BITS:
        return "incorrect two lower order msg_id bits";
    case MTP_BADMSG_CONTAINER_ID_REUSED:
        return "container msg_id is the same as msg_id of a previously received message";
    case MTP_BADMSG_TOO_OLD:
        return "message too old to verify";
    case MTP_BADMSG_SEQNO_TOO_LOW:
        return "msg_seqno too low";
    case MTP_BADMSG_SEQNO_TOO_HIGH:
        return "msg_seqno too high";
    case MTP_BADMSG_SEQNO_EVEN_EXPECTED:
        return "an even msg_seqno expected (irrelevant message), but odd received";
    case MTP_BADMSG_SEQNO_ODD_EXPECTED:
        return "odd msg_seqno expected (relevant message), but even received";
    case MTP_BADMSG_BAD_SALT:
        return "incorrect server salt";
    case MTP_BADMSG_BAD_CONTAINER:
        return "invalid container";
    default:
        return NULL;
    }
}

int mtp_svc_ids_next(struct mtp_svc_ids *v, uint64_t *id) { return mtp_rd_u64(&v->r, id, "msg_ids[]"); }

static int read_ids(struct mtp_rd *r, struct mtp_svc_ids *v, const char *field)
{
    uint32_t n;
    MTP_GUARD(mtp_tl_rd_vector_boxed(r, 8, &n, field));
    if (n > MTP_SVC_MAX_IDS)
        return mtp_rd_fail(r, MTP_ERR_SES_FLOOD, "%s: %u ids, more than the %d allowed per constructor at offset %zu",
                           field, n, MTP_SVC_MAX_IDS, mtp_rd_offset(r));
    v->count = n;
    return mtp_rd_sub(r, (size_t)n * 8, &v->r, field);
}

static int read_u64(struct mtp_rd *r, uint64_t *v, const char *field) { return mtp_rd_u64(r, v, field); }

static int parse_body(struct mtp_rd *r, struct mtp_svc *out)
{
    uint32_t id;
    size_t ctor_at = mtp_rd_offset(r);
    MTP_GUARD(mtp_tl_rd_uint(r, &id, "constructor"));
    out->id = id;
    switch (id) {
    case MTP_SVC_rpc_result:
        MTP_GUARD(read_u64(r, &out->u.rpc_result.req_msg_id, "rpc_result.req_msg_id"));
        if (mtp_rd_left(r) < 4)
            return mtp_rd_fail(r, MTP_ERR_TL_SHORT, "rpc_result.result: no object at offset %zu", mtp_rd_offset(r));
        MTP_GUARD(mtp_rd_sub(r, mtp_rd_left(r), &out->u.rpc_result.result, "rpc_result.result"));
        break;
    case MTP_SVC_rpc_error:
        MTP_GUARD(mtp_tl_rd_int(r, &out->u.rpc_error.error_code, "rpc_error.error_code"));
        MTP_GUARD(mtp_tl_rd_bytes(r, &out->u.rpc_error.message, &out->u.rpc_error.message_len, false,
                                  "rpc_error.error_message"));
        break;
    case MTP_SVC_msgs_ack:
    case MTP_SVC_msg_resend_req:
    case MTP_SVC_msg_resend_ans_req:
    case MTP_SVC_msgs_state_req:
        MTP_GUARD(read_ids(r, &out->u.ids, "msg_ids"));
        break;
    case MTP_SVC_bad_server_salt:
    case MTP_SVC_bad_msg_notification:
        MTP_GUARD(read_u64(r, &out->u.bad_msg.bad_msg_id, "bad_msg_notification.bad_msg_id"));
        MTP_GUARD(mtp_tl_rd_int(r, &out->u.bad_msg.bad_msg_seqno, "bad_msg_notification.bad_msg_seqno"));
        MTP_GUARD(mtp_tl_rd_int(r, &out->u.bad_msg.error_code, "bad_msg_notification.error_code"));
        out->u.bad_msg.new_server_salt = 0;
        if (id == MTP_SVC_bad_server_salt)
            MTP_GUARD(read_u64(r, &out->u.bad_msg.new_server_salt, "bad_server_salt.new_server_salt"));
        break;
    case MTP_SVC_msgs_state_info:
        MTP_GUARD(read_u64(r, &out->u.state_info.req_msg_id, "msgs_state_info.req_msg_id"));
        MTP_GUARD(mtp_tl_rd_bytes(r, &out->u.state_info.info, &out->u.state_info.info_len, false,
                                  "msgs_state_info.info"));
        break;
    case MTP_SVC_msgs_all_info:
        MTP_GUARD(read_ids(r, &out->u.all_info.ids, "msgs_all_info.msg_ids"));
        MTP_GUARD(
            mtp_tl_rd_bytes(r, &out->u.all_info.info, &out->u.all_info.info_len, false, "msgs_all_info.info"));
        if (out->u.all_info.info_len != out->u.all_info.ids.count)
            return mtp_rd_fail(r, MTP_ERR_SES_BAD_SERVICE,
                               "msgs_all_info.info: %zu status bytes for %u msg_ids at offset %zu",
                               out->u.all_info.info_len, out->u.all_info.ids.count, mtp_rd_offset(r));
        break;
    case MTP_SVC_msg_detailed_info:
        MTP_GUARD(read_u64(r, &out->u.detailed_info.msg_id, "msg_detailed_info.msg_id"));
        /* fall through */
    case MTP_SVC_msg_new_detailed_info:
        if (id == MTP_SVC_msg_new_detailed_info)
            out->u.detailed_info.msg_id = 0;
        MTP_GUARD(read_u64(r, &out->u.detailed_info.answer_msg_id, "msg_detailed_info.answer_msg_id"));
        MTP_GUARD(mtp_tl_rd_int(r, &out->u.detailed_info.bytes, "msg_detailed_info.bytes"));
        MTP_GUARD(mtp_tl_rd_int(r, &out->u.detailed_info.status, "msg_detailed_info.status"));
        break;
    case MTP_SVC_future_salts: {
        MTP_GUARD(read_u64(r, &out->u.future_salts.req_msg_id, "future_salts.req_msg_id"));
        MTP_GUARD(mtp_tl_rd_int(r, &out->u.future_salts.now, "future_salts.now"));
        /* salts:vector<future_salt>: both lower case, so a bare vector (no 1cb5c415) of bare
         * 16-byte future_salt values (no constructor id each). */
        uint32_t n;
        MTP_GUARD(mtp_tl_rd_vector_bare(r, 16, &n, "future_salts.salts"));
        if (n > MTP_SVC_MAX_FUTURE_SALTS)
            return mtp_rd_fail(r, MTP_ERR_SES_BAD_SERVICE, "future_salts.salts: %u salts, at most %d at offset %zu",
                               n, MTP_SVC_MAX_FUTURE_SALTS, mtp_rd_offset(r));
        out->u.future_salts.count = n;
        MTP_GUARD(mtp_rd_sub(r, (size_t)n * 16, &out->u.future_salts.salts, "future_salts.salts"));
        break;
    }
    case MTP_SVC_get_future_salts:
        MTP_GUARD(mtp_tl_rd_int(r, &out->u.get_future_salts.num, "get_future_salts.num"));
        break;
    case MTP_SVC_pong:
        MTP_GUARD(read_u64(r, &out->u.pong.msg_id, "pong.msg_id"));
        MTP_GUARD(read_u64(r, &out->u.pong.ping_id, "pong.ping_id"));
        break;
    case MTP_SVC_ping:
        MTP_GUARD(read_u64(r, &out->u.ping.ping_id, "ping.ping_id"));
        out->u.ping.disconnect_delay = 0;
        break;
    case MTP_SVC_ping_delay_disconnect:
        MTP_GUARD(read_u64(r, &out->u.ping.ping_id, "ping_delay_disconnect.ping_id"));
        MTP_GUARD(mtp_tl_rd_int(r, &out->u.ping.disconnect_delay, "ping_delay_disconnect.disconnect_delay"));
        break;
    case MTP_SVC_destroy_session:
    case MTP_SVC_destroy_session_ok:
    case MTP_SVC_destroy_session_none:
        MTP_GUARD(read_u64(r, &out->u.session.session_id, "destroy_session.session_id"));
        break;
    case MTP_SVC_new_session_created:
        MTP_GUARD(read_u64(r, &out->u.new_session.first_msg_id, "new_session_created.first_msg_id"));
        MTP_GUARD(read_u64(r, &out->u.new_session.unique_id, "new_session_created.unique_id"));
        MTP_GUARD(read_u64(r, &out->u.new_session.server_salt, "new_session_created.server_salt"));
        break;
    case MTP_SVC_http_wait:
        MTP_GUARD(mtp_tl_rd_int(r, &out->u.http_wait.max_delay, "http_wait.max_delay"));
        MTP_GUARD(mtp_tl_rd_int(r, &out->u.http_wait.wait_after, "http_wait.wait_after"));
        MTP_GUARD(mtp_tl_rd_int(r, &out->u.http_wait.max_wait, "http_wait.max_wait"));
        break;
    case MTP_SVC_rpc_drop_answer:
        MTP_GUARD(read_u64(r, &out->u.drop_answer.req_msg_id, "rpc_drop_answer.req_msg_id"));
        break;
    case MTP_SVC_rpc_answer_unknown:
    case MTP_SVC_rpc_answer_dropped_running:
        break;
    case MTP_SVC_rpc_answer_dropped:
        MTP_GUARD(read_u64(r, &out->u.answer_dropped.msg_id, "rpc_answer_dropped.msg_id"));
        MTP_GUARD(mtp_tl_rd_int(r, &out->u.answer_dropped.seq_no, "rpc_answer_dropped.seq_no"));
        MTP_GUARD(mtp_tl_rd_int(r, &out->u.answer_dropped.bytes, "rpc_answer_dropped.bytes"));
        break;
    case MTP_SVC_gzip_packed:
        MTP_GUARD(mtp_tl_rd_bytes(r, &out->u.gzip.data, &out->u.gzip.len, false, "gzip_packed.packed_data"));
        break;
    default:
        return mtp_error_set(r->err, MTP_ERR_TL_BAD_CTOR, ctor_at,
                             "constructor #%08x at offset %zu is not a service message", id, ctor_at);
    }
    char nb[12];
    return mtp_rd_end(r, mtp_svc_name(id, nb));
}

int mtp_svc_parse(struct mtp_rd *r, struct mtp_svc *out)
{
    /* On a copy, so that a failure consumes nothing. */
    struct mtp_rd t = *r;
    MTP_GUARD(parse_body(&t, out));
    *r = t;
    return MTP_OK;
}

int mtp_svc_future_salt_next(struct mtp_svc *fs, struct mtp_svc_future_salt *out)
{
    struct mtp_rd *r = &fs->u.future_salts.salts;
    MTP_GUARD(mtp_tl_rd_int(r, &out->valid_since, "future_salt.valid_since"));
    MTP_GUARD(mtp_tl_rd_int(r, &out->valid_until, "future_salt.valid_until"));
    return mtp_rd_u64(r, &out->salt, "future_salt.salt");
}

int mtp_svc_write_ids(struct mtp_wr *w, uint32_t ctor, const uint64_t *ids, size_t n)
{
    if (n > MTP_SVC_MAX_IDS)
        return mtp_error_set(w->err, MTP_ERR_ARG, MTP_NO_OFFSET, "msg_ids: %zu ids, at most %d", n, MTP_SVC_MAX_IDS);
    MTP_GUARD(mtp_tl_wr_uint(w, ctor));
    MTP_GUARD(mtp_tl_wr_vector_boxed(w, (uint32_t)n));
    for (size_t i = 0; i < n; i++)
        MTP_GUARD(mtp_wr_u64(w, ids[i]));
    return MTP_OK;
}

int mtp_svc_write_rpc_result_head(struct mtp_wr *w, uint64_t req_msg_id)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_rpc_result));
    return mtp_wr_u64(w, req_msg_id);
}

int mtp_svc_write_rpc_error(struct mtp_wr *w, int32_t code, const char *message, size_t len)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_rpc_error));
    MTP_GUARD(mtp_tl_wr_int(w, code));
    return mtp_tl_wr_bytes(w, message, len);
}

int mtp_svc_write_bad_msg(struct mtp_wr *w, uint64_t bad_msg_id, int32_t bad_msg_seqno, int32_t code)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_bad_msg_notification));
    MTP_GUARD(mtp_wr_u64(w, bad_msg_id));
    MTP_GUARD(mtp_tl_wr_int(w, bad_msg_seqno));
    return mtp_tl_wr_int(w, code);
}

int mtp_svc_write_bad_server_salt(struct mtp_wr *w, uint64_t bad_msg_id, int32_t bad_msg_seqno,
                                  uint64_t new_server_salt)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_bad_server_salt));
    MTP_GUARD(mtp_wr_u64(w, bad_msg_id));
    MTP_GUARD(mtp_tl_wr_int(w, bad_msg_seqno));
    MTP_GUARD(mtp_tl_wr_int(w, MTP_BADMSG_BAD_SALT));
    return mtp_wr_u64(w, new_server_salt);
}

int mtp_svc_write_state_info(struct mtp_wr *w, uint32_t ctor, uint64_t req_msg_id, const uint64_t *ids, size_t n,
                             const uint8_t *info, size_t info_len)
{
    if (ctor == MTP_SVC_msgs_state_info) {
        MTP_GUARD(mtp_tl_wr_uint(w, ctor));
        MTP_GUARD(mtp_wr_u64(w, req_msg_id));
    } else {
        if (ctor != MTP_SVC_msgs_all_info || n != info_len)
            return mtp_error_set(w->err, MTP_ERR_ARG, MTP_NO_OFFSET, "msgs_all_info: %zu ids, %zu status bytes", n,
                                 info_len);
        MTP_GUARD(mtp_svc_write_ids(w, ctor, ids, n));
    }
    return mtp_tl_wr_bytes(w, info, info_len);
}

int mtp_svc_write_detailed_info(struct mtp_wr *w, uint64_t msg_id, uint64_t answer_msg_id, int32_t bytes,
                                int32_t status)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_msg_detailed_info));
    MTP_GUARD(mtp_wr_u64(w, msg_id));
    MTP_GUARD(mtp_wr_u64(w, answer_msg_id));
    MTP_GUARD(mtp_tl_wr_int(w, bytes));
    return mtp_tl_wr_int(w, status);
}

int mtp_svc_write_new_detailed_info(struct mtp_wr *w, uint64_t answer_msg_id, int32_t bytes, int32_t status)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_msg_new_detailed_info));
    MTP_GUARD(mtp_wr_u64(w, answer_msg_id));
    MTP_GUARD(mtp_tl_wr_int(w, bytes));
    return mtp_tl_wr_int(w, status);
}

int mtp_svc_write_future_salts(struct mtp_wr *w, uint64_t req_msg_id, int32_t now,
                               const struct mtp_svc_future_salt *salts, size_t n)
{
    if (n > MTP_SVC_MAX_FUTURE_SALTS)
        return mtp_error_set(w->err, MTP_ERR_ARG, MTP_NO_OFFSET, "future_salts: %zu salts, at most %d", n,
                             MTP_SVC_MAX_FUTURE_SALTS);
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_future_salts));
    MTP_GUARD(mtp_wr_u64(w, req_msg_id));
    MTP_GUARD(mtp_tl_wr_int(w, now));
    MTP_GUARD(mtp_tl_wr_vector_bare(w, (uint32_t)n));
    for (size_t i = 0; i < n; i++) {
        MTP_GUARD(mtp_tl_wr_int(w, salts[i].valid_since));
        MTP_GUARD(mtp_tl_wr_int(w, salts[i].valid_until));
        MTP_GUARD(mtp_wr_u64(w, salts[i].salt));
    }
    return MTP_OK;
}

int mtp_svc_write_get_future_salts(struct mtp_wr *w, int32_t num)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_get_future_salts));
    return mtp_tl_wr_int(w, num);
}

int mtp_svc_write_ping(struct mtp_wr *w, uint64_t ping_id)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_ping));
    return mtp_wr_u64(w, ping_id);
}

int mtp_svc_write_ping_delay_disconnect(struct mtp_wr *w, uint64_t ping_id, int32_t disconnect_delay)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_ping_delay_disconnect));
    MTP_GUARD(mtp_wr_u64(w, ping_id));
    return mtp_tl_wr_int(w, disconnect_delay);
}

int mtp_svc_write_pong(struct mtp_wr *w, uint64_t msg_id, uint64_t ping_id)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_pong));
    MTP_GUARD(mtp_wr_u64(w, msg_id));
    return mtp_wr_u64(w, ping_id);
}

int mtp_svc_write_session(struct mtp_wr *w, uint32_t ctor, uint64_t session_id)
{
    MTP_GUARD(mtp_tl_wr_uint(w, ctor));
    return mtp_wr_u64(w, session_id);
}

int mtp_svc_write_new_session_created(struct mtp_wr *w, uint64_t first_msg_id, uint64_t unique_id,
                                      uint64_t server_salt)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_new_session_created));
    MTP_GUARD(mtp_wr_u64(w, first_msg_id));
    MTP_GUARD(mtp_wr_u64(w, unique_id));
    return mtp_wr_u64(w, server_salt);
}

int mtp_svc_write_http_wait(struct mtp_wr *w, int32_t max_delay, int32_t wait_after, int32_t max_wait)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_http_wait));
    MTP_GUARD(mtp_tl_wr_int(w, max_delay));
    MTP_GUARD(mtp_tl_wr_int(w, wait_after));
    return mtp_tl_wr_int(w, max_wait);
}

int mtp_svc_write_rpc_drop_answer(struct mtp_wr *w, uint64_t req_msg_id)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_rpc_drop_answer));
    return mtp_wr_u64(w, req_msg_id);
}
