/* Session core, common to both roles: lifecycle, the send API, acks, and
 * flush (which turns queued messages into one inner message or container). */
#include <stdlib.h>
#include <string.h>

#include "mtp/gzip.h"
#include "mtp/msgcrypt.h"
#include "mtp/quickack.h"
#include "mtp/tl_prim.h"
#include "session/mtp_session_internal.h"

/* A transient flag on store entries chosen by the current flush. */
#define OUT_SELECTED (1u << 15)

void mtp_session_cfg_default(struct mtp_session_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->window = 1024;
    cfg->max_stored = 1024;
    cfg->max_stored_bytes = 8u << 20;
    cfg->max_body = 1u << 20;
    cfg->ack_max = MTP_SVC_MAX_IDS;
    /* "if there is a large number of unacknowledged messages from the server
     * (say, over 16), the client transmits a stand-alone acknowledgment" and
     * acks should not be "generated, say, 60-120 seconds following the receipt". */
    cfg->ack_threshold = 16;
    cfg->ack_delay_ms = 60000;
    cfg->max_past_ms = MTP_MSGID_MAX_PAST_MS;
    cfg->max_future_ms = MTP_MSGID_MAX_FUTURE_MS;
    cfg->salt_grace_ms = 1800000;
    cfg->salt_period_ms = 3600000;
    cfg->gzip_max = 1u << 20;
    cfg->gzip_min = 0;
    cfg->container.max_msgs = MTP_CONTAINER_MAX_MSGS;
    cfg->container.max_bytes = MTP_CONTAINER_MAX_BYTES;
    cfg->extra_padding_blocks = 0;
    cfg->client_time_check = true;
    cfg->strict_seqno_parity = true;
    cfg->strict_msg_id_low32 = true;
    cfg->container_always = false;
}

int64_t mtp_session_now(const struct mtp_session *s) { return mtp_env_now_ms(&s->env); }

void mtp_session_emit(struct mtp_session *s, const struct mtp_session_event *ev)
{
    if (s->on_event)
        s->on_event(s->event_ctx, ev);
}

void mtp_session_dropped(struct mtp_session *s, uint64_t msg_id, int32_t seqno, int code, const struct mtp_error *err)
{
    mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_DROPPED,
                                                    .msg_id = msg_id,
                                                    .seqno = seqno,
                                                    .code = code,
                                                    .text = (err && err->code != MTP_OK) ? err->msg
                                                                                         : mtp_err_text(code)});
}

int mtp_session_init(struct mtp_session *s, enum mtp_session_role role, const struct mtp_session_cfg *cfg,
                     const struct mtp_env *env, mtp_session_event_fn on_event, void *event_ctx)
{
    memset(s, 0, sizeof *s);
    s->role = role;
    if (cfg)
        s->cfg = *cfg;
    else
        mtp_session_cfg_default(&s->cfg);
    s->env = *env;
    s->on_event = on_event;
    s->event_ctx = event_ctx;
    if ((role != MTP_SESSION_CLIENT && role != MTP_SESSION_SERVER) || s->cfg.max_stored == 0 ||
        s->cfg.ack_max == 0 || s->cfg.ack_max > MTP_SVC_MAX_IDS || s->cfg.container.max_msgs < 2 ||
        s->cfg.container.max_bytes < 64 || s->cfg.max_past_ms <= 0 || s->cfg.max_future_ms <= 0 ||
        s->cfg.salt_period_ms <= 0)
        return MTP_ERR_ARG;
    mtp_msgid_gen_init(&s->ids);
    mtp_seqno_init(&s->seq);
    mtp_salts_clear(&s->salts);
    mtp_wr_init_dyn(&s->scratch, s->cfg.gzip_max, NULL);
    /* The largest plaintext: a message of max_body (or a full container) plus header and padding. */
    size_t biggest = s->cfg.max_body > s->cfg.container.max_bytes ? s->cfg.max_body : s->cfg.container.max_bytes;
    mtp_wr_init_dyn(&s->packet_out, biggest + MTP_MSG_HEADER_LEN + MTP_MSG_MAX_PADDING + 64, NULL);
    mtp_wr_init_dyn(&s->packet_in, biggest + MTP_MSG_HEADER_LEN + MTP_MSG_MAX_PADDING + 64, NULL);
    int rc = MTP_OK;
    MTP_TRY(mtp_msgwin_init(&s->window, s->cfg.window));
    MTP_TRY(mtp_outbox_init(s));
    s->acks = calloc(s->cfg.ack_max, sizeof *s->acks);
    if (s->acks == NULL) {
        rc = MTP_ERR_NOMEM;
        goto out;
    }
    if (role == MTP_SESSION_CLIENT)
        MTP_TRY(mtp_env_rand(&s->env, &s->session_id, sizeof s->session_id));
    return MTP_OK;
out:
    mtp_session_free(s);
    return rc;
}

void mtp_session_free(struct mtp_session *s)
{
    mtp_outbox_free(s);
    mtp_msgwin_free(&s->window);
    free(s->acks);
    s->acks = NULL;
    s->acks_n = 0;
    mtp_wr_free(&s->scratch);
    mtp_wr_free(&s->packet_out);
    mtp_wr_free(&s->packet_in);
    s->packet_pending = false;
    mtp_msgcrypt_del(s->crypt);
    s->crypt = NULL;
    mtp_wipe(s->auth_key, sizeof s->auth_key);
    s->have_key = false;
}

int mtp_session_set_salt(struct mtp_session *s, uint64_t salt)
{
    if (s->role == MTP_SESSION_CLIENT) {
        s->salt = salt;
        return MTP_OK;
    }
    int64_t now = mtp_session_now(s);
    mtp_salts_clear(&s->salts);
    mtp_salts_add(&s->salts, salt, now, now + s->cfg.salt_period_ms);
    return MTP_OK;
}

void mtp_session_set_session_id(struct mtp_session *s, uint64_t session_id) { s->session_id = session_id; }

void mtp_session_set_auth_key(struct mtp_session *s, const uint8_t auth_key[256])
{
    memcpy(s->auth_key, auth_key, sizeof s->auth_key);
    s->have_key = true;
    /* A context for another key must not survive. */
    mtp_msgcrypt_del(s->crypt);
    s->crypt = NULL;
}

void mtp_session_sync_time(struct mtp_session *s, int64_t server_time_s)
{
    mtp_msgid_sync_seconds(&s->ids, mtp_session_now(s), server_time_s);
}

/* --- acks --- */

void mtp_session_ack_later(struct mtp_session *s, uint64_t msg_id)
{
    if (mtp_session_faulty(s, MTP_SESSION_CF_NO_ACKS) || mtp_session_server_faulty(s, MTP_SESSION_SF_NO_ACKS))
        return;
    if (s->acks_n == 0)
        s->acks_since_ms = mtp_session_now(s);
    /* Full (the caller has not flushed for ack_max messages): this one goes
     * unacknowledged, which only makes the peer ask or resend later. */
    if (s->acks_n == s->cfg.ack_max)
        return;
    s->acks[s->acks_n++] = msg_id;
}

void mtp_session_ack_forget(struct mtp_session *s, uint64_t msg_id)
{
    for (size_t i = 0; i < s->acks_n; i++)
        if (s->acks[i] == msg_id) {
            memmove(&s->acks[i], &s->acks[i + 1], (s->acks_n - i - 1) * sizeof *s->acks);
            s->acks_n--;
            return;
        }
}

/* Sentinel for "send the acks at the next flush regardless of count and age". */
#define ACKS_NOW INT64_MIN

void mtp_session_flush_acks_now(struct mtp_session *s)
{
    if (s->acks_n > 0)
        s->acks_since_ms = ACKS_NOW;
}

static bool acks_due(const struct mtp_session *s, int64_t now)
{
    if (s->acks_n == 0)
        return false;
    return s->acks_n >= s->cfg.ack_threshold || s->acks_since_ms == ACKS_NOW ||
           now - s->acks_since_ms >= s->cfg.ack_delay_ms;
}

/* Where scans for queued messages start. */
static size_t hint(const struct mtp_session *s) { return s->out_hint < s->out_n ? s->out_hint : s->out_n; }

static bool any_queued(const struct mtp_session *s)
{
    for (size_t i = hint(s); i < s->out_n; i++)
        if (s->out[i].flags & MTP_OUT_QUEUED)
            return true;
    return false;
}

bool mtp_session_has_output(const struct mtp_session *s)
{
    return any_queued(s) || acks_due(s, mtp_session_now(s));
}

/* --- sending --- */

int mtp_session_queue_service(struct mtp_session *s, const uint8_t *body, size_t len, uint16_t flags,
                              uint64_t req_msg_id, uint64_t tag, uint64_t *msg_id)
{
    struct mtp_session_out *e;
    MTP_GUARD(mtp_outbox_add(s, body, len, flags, req_msg_id, tag, &e));
    if (msg_id)
        *msg_id = e->msg_id;
    return MTP_OK;
}

int mtp_session_send(struct mtp_session *s, const uint8_t *body, size_t len, unsigned flags, uint64_t *msg_id)
{
    if ((flags & MTP_SEND_RESPONSE) && s->role != MTP_SESSION_SERVER)
        return MTP_ERR_SES_STATE;
    uint16_t of = 0;
    if (flags & MTP_SEND_CONTENT)
        of |= MTP_OUT_CONTENT;
    if (flags & MTP_SEND_AWAIT)
        of |= MTP_OUT_AWAIT;
    if (flags & MTP_SEND_RESPONSE)
        of |= MTP_OUT_RESPONSE;
    if (!(flags & MTP_SEND_GZIP))
        return mtp_session_queue_service(s, body, len, of, 0, 0, msg_id);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, s->cfg.max_body, NULL);
    int rc = mtp_gzip_packed_write(&w, body, len);
    if (rc == MTP_OK)
        rc = mtp_session_queue_service(s, w.p, w.len, of, 0, 0, msg_id);
    mtp_wr_free(&w);
    return rc;
}

int mtp_session_send_query(struct mtp_session *s, const uint8_t *body, size_t len, uint64_t *msg_id)
{
    if (s->role != MTP_SESSION_CLIENT)
        return MTP_ERR_SES_STATE;
    return mtp_session_send(s, body, len, MTP_SEND_CONTENT | MTP_SEND_AWAIT, msg_id);
}

void mtp_session_cancel(struct mtp_session *s, uint64_t msg_id)
{
    long i = mtp_outbox_find(s, msg_id);
    if (i >= 0)
        mtp_outbox_remove(s, (size_t)i);
}

/* Small service bodies are built on the stack. */
#define SVC_BUF 64

int mtp_session_send_result(struct mtp_session *s, uint64_t req_msg_id, const uint8_t *result, size_t len,
                            unsigned flags)
{
    if (s->role != MTP_SESSION_SERVER)
        return MTP_ERR_SES_STATE;
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, s->cfg.max_body, NULL);
    int rc = MTP_OK;
    MTP_TRY(mtp_svc_write_rpc_result_head(&w, req_msg_id));
    if ((flags & MTP_SEND_GZIP) || (s->cfg.gzip_min > 0 && len >= s->cfg.gzip_min))
        MTP_TRY(mtp_gzip_packed_write(&w, result, len));
    else
        MTP_TRY(mtp_wr_raw(&w, result, len));
    MTP_TRY(mtp_session_queue_service(s, w.p, w.len, MTP_OUT_CONTENT | MTP_OUT_RESPONSE, req_msg_id, 0, NULL));
    /* "this response serves as acknowledgment of the other party's receipt of the req_msg_id message" */
    mtp_session_ack_forget(s, req_msg_id);
out:
    mtp_wr_free(&w);
    return rc;
}

int mtp_session_send_error(struct mtp_session *s, uint64_t req_msg_id, int32_t code, const char *message)
{
    if (s->role != MTP_SESSION_SERVER)
        return MTP_ERR_SES_STATE;
    size_t mlen = message ? strlen(message) : 0;
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, s->cfg.max_body, NULL);
    int rc = MTP_OK;
    MTP_TRY(mtp_svc_write_rpc_result_head(&w, req_msg_id));
    MTP_TRY(mtp_svc_write_rpc_error(&w, code, message ? message : "", mlen));
    MTP_TRY(mtp_session_queue_service(s, w.p, w.len, MTP_OUT_CONTENT | MTP_OUT_RESPONSE, req_msg_id, 0, NULL));
    mtp_session_ack_forget(s, req_msg_id);
out:
    mtp_wr_free(&w);
    return rc;
}

int mtp_session_send_destroy_result(struct mtp_session *s, uint64_t req_msg_id, uint64_t session_id, bool destroyed)
{
    if (s->role != MTP_SESSION_SERVER)
        return MTP_ERR_SES_STATE;
    uint8_t buf[SVC_BUF];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    MTP_GUARD(mtp_svc_write_session(&w, destroyed ? MTP_SVC_destroy_session_ok : MTP_SVC_destroy_session_none,
                                    session_id));
    MTP_GUARD(mtp_session_queue_service(s, w.p, w.len, MTP_OUT_CONTENT | MTP_OUT_RESPONSE, req_msg_id, session_id,
                                        NULL));
    mtp_session_ack_forget(s, req_msg_id);
    return MTP_OK;
}

int mtp_session_ping(struct mtp_session *s, uint64_t ping_id, int32_t disconnect_delay, uint64_t *msg_id)
{
    uint8_t buf[SVC_BUF];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    if (disconnect_delay >= 0) {
        if (s->role != MTP_SESSION_CLIENT)
            return MTP_ERR_SES_STATE;
        MTP_GUARD(mtp_svc_write_ping_delay_disconnect(&w, ping_id, disconnect_delay));
    } else {
        MTP_GUARD(mtp_svc_write_ping(&w, ping_id));
    }
    /* Sent as a query (odd seqno), as deployed clients do; pong answers it. */
    return mtp_session_queue_service(s, w.p, w.len, MTP_OUT_CONTENT | MTP_OUT_AWAIT, 0, ping_id, msg_id);
}

int mtp_session_get_future_salts(struct mtp_session *s, int32_t num, uint64_t *msg_id)
{
    if (s->role != MTP_SESSION_CLIENT)
        return MTP_ERR_SES_STATE;
    uint8_t buf[SVC_BUF];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    MTP_GUARD(mtp_svc_write_get_future_salts(&w, num));
    return mtp_session_queue_service(s, w.p, w.len, MTP_OUT_CONTENT | MTP_OUT_AWAIT, 0, (uint64_t)num, msg_id);
}

static int send_ids(struct mtp_session *s, uint32_t ctor, const uint64_t *ids, size_t n, uint16_t flags,
                    uint64_t *msg_id)
{
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 16 + 8 * (size_t)MTP_SVC_MAX_IDS, NULL);
    int rc = mtp_svc_write_ids(&w, ctor, ids, n);
    if (rc == MTP_OK)
        rc = mtp_session_queue_service(s, w.p, w.len, flags, 0, 0, msg_id);
    mtp_wr_free(&w);
    return rc;
}

int mtp_session_state_req(struct mtp_session *s, const uint64_t *ids, size_t n, uint64_t *msg_id)
{
    return send_ids(s, MTP_SVC_msgs_state_req, ids, n, MTP_OUT_CONTENT | MTP_OUT_AWAIT, msg_id);
}

int mtp_session_resend_req(struct mtp_session *s, const uint64_t *ids, size_t n, uint64_t *msg_id)
{
    return send_ids(s, MTP_SVC_msg_resend_req, ids, n, MTP_OUT_CONTENT, msg_id);
}

int mtp_session_destroy_session(struct mtp_session *s, uint64_t session_id, uint64_t *msg_id)
{
    if (s->role != MTP_SESSION_CLIENT)
        return MTP_ERR_SES_STATE;
    uint8_t buf[SVC_BUF];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    MTP_GUARD(mtp_svc_write_session(&w, MTP_SVC_destroy_session, session_id));
    return mtp_session_queue_service(s, w.p, w.len, MTP_OUT_CONTENT | MTP_OUT_AWAIT, 0, session_id, msg_id);
}

int mtp_session_http_wait(struct mtp_session *s, int32_t max_delay, int32_t wait_after, int32_t max_wait)
{
    if (s->role != MTP_SESSION_CLIENT)
        return MTP_ERR_SES_STATE;
    uint8_t buf[SVC_BUF];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    MTP_GUARD(mtp_svc_write_http_wait(&w, max_delay, wait_after, max_wait));
    /* "special service query not requiring an acknowledgement" */
    return mtp_session_queue_service(s, w.p, w.len, 0, 0, 0, NULL);
}

/* --- resends and failures driven by notifications --- */

static bool sent_as(const struct mtp_session_out *e, uint64_t msg_id)
{
    return !(e->flags & MTP_OUT_QUEUED) && (e->msg_id == msg_id || e->container_id == msg_id);
}

bool mtp_session_sent_recently(const struct mtp_session *s, uint64_t msg_id)
{
    long i = mtp_outbox_find(s, msg_id);
    return i >= 0 && !(s->out[i].flags & MTP_OUT_QUEUED);
}

void mtp_session_mark_same_id(struct mtp_session *s, uint64_t msg_id)
{
    for (size_t i = 0; i < s->out_n; i++) {
        struct mtp_session_out *e = &s->out[i];
        if (sent_as(e, msg_id) && !(e->flags & MTP_OUT_CONTAINER) && e->body != NULL)
            e->flags |= MTP_OUT_SAME_ID;
    }
}

size_t mtp_session_resend_sent(struct mtp_session *s, uint64_t msg_id)
{
    size_t n = 0;
    /* Requeued entries move to the end with fresh ids and no container, so
     * they stop matching; rescanning from the start after each one also
     * survives whatever the RESENT callback queues. */
    for (;;) {
        size_t i;
        for (i = 0; i < s->out_n; i++) {
            const struct mtp_session_out *e = &s->out[i];
            if (sent_as(e, msg_id) && !(e->flags & MTP_OUT_CONTAINER) && e->body != NULL)
                break;
        }
        if (i == s->out_n)
            break;
        (void)mtp_outbox_requeue(s, i);
        n++;
    }
    long c = mtp_outbox_find(s, msg_id);
    if (c >= 0 && (s->out[c].flags & MTP_OUT_CONTAINER))
        mtp_outbox_remove(s, (size_t)c);
    return n;
}

size_t mtp_session_fail_sent(struct mtp_session *s, uint64_t msg_id, int32_t code)
{
    size_t n = 0;
    for (;;) {
        size_t i;
        for (i = 0; i < s->out_n; i++)
            if (sent_as(&s->out[i], msg_id))
                break;
        if (i == s->out_n)
            break;
        struct mtp_session_out e = s->out[i];
        mtp_outbox_remove(s, i);
        if (e.flags & MTP_OUT_AWAIT) {
            n++;
            mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_FAILED,
                                                            .ref_msg_id = e.msg_id,
                                                            .orig_msg_id = e.orig_msg_id,
                                                            .code = code,
                                                            .ctor = e.ctor});
        }
    }
    return n;
}

int mtp_session_renew(struct mtp_session *s)
{
    if (s->role != MTP_SESSION_CLIENT)
        return MTP_ERR_SES_STATE;
    MTP_GUARD(mtp_env_rand(&s->env, &s->session_id, sizeof s->session_id));
    mtp_seqno_init(&s->seq);
    mtp_msgwin_clear(&s->window);
    s->acks_n = 0;
    /* Nothing of the old session can be answered in the new one except
     * requests that are sent again. */
    size_t i = 0;
    while (i < s->out_n) {
        struct mtp_session_out *e = &s->out[i];
        if ((e->flags & MTP_OUT_AWAIT) && e->body != NULL) {
            i++;
            continue;
        }
        struct mtp_session_out gone = *e;
        mtp_outbox_remove(s, i);
        if (gone.flags & MTP_OUT_AWAIT)
            mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_FAILED,
                                                            .ref_msg_id = gone.msg_id,
                                                            .orig_msg_id = gone.orig_msg_id,
                                                            .ctor = gone.ctor});
    }
    /* Requeue the survivors in order; each moves to the end with a new id. */
    size_t left = s->out_n;
    while (left-- > 0 && s->out_n > 0) {
        s->out[0].flags &= (uint16_t)~(MTP_OUT_KEEP_ID | MTP_OUT_SAME_ID);
        (void)mtp_outbox_requeue(s, 0);
    }
    return MTP_OK;
}

/* --- flush --- */

static void client_pick_salt(struct mtp_session *s)
{
    int64_t now = mtp_msgid_now(&s->ids, mtp_session_now(s));
    mtp_salts_expire(&s->salts, now, 0);
    const struct mtp_salt_entry *e = mtp_salts_at(&s->salts, now);
    if (e)
        s->salt = e->salt;
}

static uint64_t server_salt_now(struct mtp_session *s)
{
    const struct mtp_salt_entry *e = mtp_salts_at(&s->salts, mtp_session_now(s));
    if (e == NULL && s->salts.n > 0)
        e = &s->salts.e[s->salts.n - 1];
    return e ? e->salt : 0;
}

/* Marks the queued entries that go into the next message; returns how many
 * and whether one of them must not travel alone (a message resent under its
 * old id goes in a container with a fresh id). */
static size_t select_queued(struct mtp_session *s, size_t limit, size_t *body_bytes, bool *keep_id)
{
    size_t room = s->cfg.container.max_bytes - 8; /* msg_container id and count */
    size_t n = 0, bytes = 0;
    *keep_id = false;
    for (size_t i = hint(s); i < s->out_n; i++) {
        struct mtp_session_out *e = &s->out[i];
        if (!(e->flags & MTP_OUT_QUEUED))
            continue;
        if (n == 0)
            s->out_hint = i;
        size_t item = mtp_container_item_size(e->len);
        if (e->flags & MTP_OUT_SAME_ID) {
            /* Alone, so that its old msg_id is the message's own. */
            if (n > 0)
                break;
            e->flags |= OUT_SELECTED;
            *body_bytes = e->len;
            return 1;
        }
        if (n == 0 && item > room) {
            /* Too big for any container: alone. */
            e->flags |= OUT_SELECTED;
            *body_bytes = e->len;
            return 1;
        }
        if (n >= limit || item > room - bytes)
            break;
        e->flags |= OUT_SELECTED;
        if (e->flags & MTP_OUT_KEEP_ID)
            *keep_id = true;
        bytes += item;
        n++;
    }
    *body_bytes = bytes;
    return n;
}

static void unselect(struct mtp_session *s)
{
    for (size_t i = hint(s); i < s->out_n; i++)
        s->out[i].flags &= (uint16_t)~OUT_SELECTED;
}

/* Moves up to MTP_SESSION_ACKS_PER_MSG pending acks into a queued msgs_ack
 * message (not content-related); from then on they travel with it, also
 * through a resend. */
static int queue_acks(struct mtp_session *s, int64_t now)
{
    size_t n = s->acks_n < MTP_SESSION_ACKS_PER_MSG ? s->acks_n : MTP_SESSION_ACKS_PER_MSG;
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 16 + 8 * MTP_SESSION_ACKS_PER_MSG, NULL);
    int rc = mtp_svc_write_ids(&w, MTP_SVC_msgs_ack, s->acks, n);
    if (rc == MTP_OK)
        rc = mtp_session_queue_service(s, w.p, w.len, 0, 0, 0, NULL);
    mtp_wr_free(&w);
    if (rc == MTP_OK) {
        memmove(&s->acks[0], &s->acks[n], (s->acks_n - n) * sizeof *s->acks);
        s->acks_n -= n;
        s->acks_since_ms = now;
    }
    return rc;
}

static int write_header(struct mtp_wr *w, uint64_t salt, uint64_t session_id, uint64_t msg_id, int32_t seqno,
                        size_t len)
{
    MTP_GUARD(mtp_wr_u64(w, salt));
    MTP_GUARD(mtp_wr_u64(w, session_id));
    MTP_GUARD(mtp_wr_u64(w, msg_id));
    MTP_GUARD(mtp_wr_i32(w, seqno));
    return mtp_wr_i32(w, (int32_t)len);
}

static int write_padding(struct mtp_session *s, struct mtp_wr *w, size_t body_len)
{
    unsigned extra = 0;
    if (s->cfg.extra_padding_blocks > 0) {
        uint8_t r;
        MTP_GUARD(mtp_env_rand(&s->env, &r, 1));
        extra = r % (s->cfg.extra_padding_blocks + 1);
    }
    size_t pad = mtp_msg_padding_len(body_len, extra);
    uint8_t *p;
    MTP_GUARD(mtp_wr_reserve(w, pad, &p));
    return mtp_env_rand(&s->env, p, pad);
}

int mtp_session_flush(struct mtp_session *s, struct mtp_wr *out)
{
    if (out->failed)
        return mtp_wr_status(out);
    int64_t now = mtp_session_now(s);
    mtp_outbox_expire(s, now);
    uint64_t salt;
    if (s->role == MTP_SESSION_CLIENT) {
        client_pick_salt(s);
        salt = s->salt;
    } else {
        salt = server_salt_now(s);
    }

    /* Acks ride along with anything queued, or go alone when due. */
    if (acks_due(s, now) || (s->acks_n > 0 && any_queued(s))) {
        int arc = queue_acks(s, now);
        if (arc < 0 && arc != MTP_ERR_SES_QUEUE_FULL)
            return arc;
    }
    /* Several messages need a container, and the container a slot in the store. */
    bool room = mtp_outbox_make_room(s, 0) == MTP_OK;
    size_t limit = room ? s->cfg.container.max_msgs : 1;
    size_t body_bytes;
    bool keep_id;
    size_t n = select_queued(s, limit, &body_bytes, &keep_id);
    if (n == 0)
        return 0;

    size_t start = out->len;
    uint64_t container_id = 0;
    int rc = MTP_OK;
    struct mtp_session_out *top = NULL;
    bool wrap = room && s->role == MTP_SESSION_SERVER && s->cfg.container_always;
    if (n == 1 && !keep_id && !wrap) {
        for (size_t i = hint(s); i < s->out_n && top == NULL; i++)
            if (s->out[i].flags & OUT_SELECTED)
                top = &s->out[i];
        MTP_TRY(write_header(out, salt, s->session_id, top->msg_id, top->seqno, top->len));
        MTP_TRY(mtp_wr_raw(out, top->body, top->len));
        MTP_TRY(write_padding(s, out, top->len));
    } else {
        bool response = false;
        for (size_t i = hint(s); i < s->out_n; i++)
            if ((s->out[i].flags & OUT_SELECTED) && (s->out[i].flags & MTP_OUT_RESPONSE))
                response = true;
        /* The container is created after its contents: its msg_id is above
         * theirs and its (even) seqno not below theirs. */
        uint16_t cflags = MTP_OUT_CONTAINER | (response ? MTP_OUT_RESPONSE : 0);
        MTP_TRY(mtp_session_queue_service(s, NULL, 0, cflags, 0, 0, &container_id));
        top = &s->out[s->out_n - 1];
        top->flags &= (uint16_t)~MTP_OUT_QUEUED;
        size_t clen = 8 + body_bytes;
        MTP_TRY(write_header(out, salt, s->session_id, top->msg_id, top->seqno, clen));
        struct mtp_container_wr cw;
        MTP_TRY(mtp_container_begin(&cw, out));
        for (size_t i = hint(s); i < s->out_n; i++) {
            const struct mtp_session_out *e = &s->out[i];
            if (e->flags & OUT_SELECTED)
                MTP_TRY(mtp_container_add(&cw, e->msg_id, e->seqno, e->body, e->len));
        }
        MTP_TRY(mtp_container_end(&cw));
        MTP_TRY(write_padding(s, out, clen));
    }
    uint32_t token = 0;
    if (s->role == MTP_SESSION_CLIENT && s->have_key)
        MTP_TRY(mtp_quick_ack_token(s->auth_key, 0, out->p + start, out->len - start, &token));

    /* Written: commit. */
    top->quick_ack = token;
    top->sent_ms = now;
    s->last_quick_ack = token;
    size_t after = hint(s);
    for (size_t i = hint(s); i < s->out_n; i++) {
        struct mtp_session_out *e = &s->out[i];
        if (!(e->flags & OUT_SELECTED))
            continue;
        e->flags &= (uint16_t)~(OUT_SELECTED | MTP_OUT_QUEUED | MTP_OUT_KEEP_ID | MTP_OUT_SAME_ID);
        e->sent_ms = now;
        e->container_id = container_id;
        after = i + 1;
    }
    /* The selection took the first queued messages in order, so none is left before it ends. */
    s->out_hint = after;
    return 1;
out:
    unselect(s);
    out->len = start;
    out->failed = false;
    if (container_id) {
        long ci = mtp_outbox_find(s, container_id);
        if (ci >= 0)
            mtp_outbox_remove(s, (size_t)ci);
    }
    /* A msgs_ack created above stays queued for the next attempt. */
    return rc;
}

/* --- timers and the transport --- */

int64_t mtp_session_next_deadline(const struct mtp_session *s)
{
    int64_t t = INT64_MAX;
    if (any_queued(s))
        t = mtp_session_now(s);
    if (s->acks_n > 0) {
        int64_t a = s->acks_since_ms == ACKS_NOW ? mtp_session_now(s) : s->acks_since_ms + s->cfg.ack_delay_ms;
        if (a < t)
            t = a;
    }
    if (s->disconnect_at_ms != 0 && s->disconnect_at_ms < t)
        t = s->disconnect_at_ms;
    return t;
}

void mtp_session_tick(struct mtp_session *s)
{
    if (s->disconnect_at_ms != 0 && mtp_session_now(s) >= s->disconnect_at_ms) {
        s->disconnect_at_ms = 0;
        mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_DISCONNECT});
    }
}

bool mtp_session_quick_ack(struct mtp_session *s, uint32_t token)
{
    if (token == 0)
        return false;
    for (size_t i = s->out_n; i > 0; i--) {
        struct mtp_session_out *e = &s->out[i - 1];
        if (e->quick_ack == token && !(e->flags & MTP_OUT_QUEUED)) {
            uint64_t id = e->msg_id;
            e->quick_ack = 0;
            mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_QUICK_ACK, .ref_msg_id = id});
            return true;
        }
    }
    return false;
}
