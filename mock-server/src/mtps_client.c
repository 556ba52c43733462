#include "mtps_client.h"

#include <stdio.h>
#include <string.h>

#include "mtp/service.h"
#include "mtp/transport.h"

#define OUT_MAX (4u << 20)

static int fail(struct mtps_client *c, int rc, const struct mtp_error *err)
{
    if (c->state != MTPS_CL_FAILED) {
        c->state = MTPS_CL_FAILED;
        c->error = rc;
        snprintf(c->error_text, sizeof c->error_text, "%s", err && err->code ? err->msg : mtp_err_text(rc));
    }
    return rc;
}

static void on_session_event(void *ctx, const struct mtp_session_event *ev)
{
    struct mtps_client *c = ctx;
    switch (ev->type) {
    case MTP_SESSION_EV_PONG:
        c->pongs++;
        c->last_pong_id = ev->value;
        break;
    case MTP_SESSION_EV_RESULT:
        c->results++;
        c->last_result_len = ev->body_len < sizeof c->last_result ? ev->body_len : sizeof c->last_result;
        if (c->last_result_len)
            memcpy(c->last_result, ev->body, c->last_result_len);
        break;
    case MTP_SESSION_EV_RPC_ERROR:
        c->rpc_errors++;
        c->last_rpc_code = ev->code;
        snprintf(c->last_rpc_message, sizeof c->last_rpc_message, "%.*s", (int)ev->body_len, (const char *)ev->body);
        break;
    case MTP_SESSION_EV_BAD_SALT:
        c->bad_salts++;
        break;
    case MTP_SESSION_EV_BAD_MSG:
        c->bad_msgs++;
        break;
    case MTP_SESSION_EV_NEW_SESSION:
        c->new_sessions++;
        break;
    default:
        break;
    }
    if (c->on_event)
        c->on_event(c->event_ctx, c, ev);
}

int mtps_client_init(struct mtps_client *c, const struct mtps_client_opts *o, struct mtp_error *err)
{
    memset(c, 0, sizeof *c);
    c->o = *o;
    mtp_msgid_gen_init(&c->ids);
    c->env = *o->env;
    struct mtp_tr_conn_opts to = {
        .side = MTP_TR_CLIENT,
        .kind = o->kind,
        .obfuscated = o->obfuscated,
        .dc = o->obfs_dc,
        .secret = o->secret,
        .env = &c->env,
    };
    MTP_GUARD(mtp_tr_conn_init(&c->tr, &to, err));
    struct mtp_auth_client_config ac;
    mtp_auth_client_config_init(&ac);
    c->keys[0] = o->server_key;
    ac.keys = c->keys;
    ac.n_keys = 1;
    ac.dc = o->dc;
    ac.behaviour = o->auth_behaviour;
    if (o->temp_expires_in > 0) {
        ac.inner = MTP_AUTH_INNER_TEMP_DC;
        ac.expires_in = o->temp_expires_in;
    }
    int rc = mtp_auth_client_new(&ac, &c->env, &c->auth, err);
    if (rc < 0) {
        mtp_tr_conn_free(&c->tr);
        return rc;
    }
    mtp_wr_init_dyn(&c->out, OUT_MAX, NULL);
    mtp_wr_init_dyn(&c->scratch, OUT_MAX, NULL);
    c->state = MTPS_CL_HANDSHAKE;
    return MTP_OK;
}

void mtps_client_free(struct mtps_client *c)
{
    mtp_auth_client_del(c->auth);
    c->auth = NULL;
    if (c->ses_init)
        mtp_session_free(&c->ses);
    c->ses_init = false;
    mtp_tr_conn_free(&c->tr);
    mtp_wr_free(&c->out);
    mtp_wr_free(&c->scratch);
    mtp_wipe(&c->key, sizeof c->key);
}

int mtps_client_send_raw(struct mtps_client *c, const uint8_t *payload, size_t len, struct mtp_error *err)
{
    struct mtp_tr_send m = {.data = payload, .len = len};
    return mtp_tr_conn_send(&c->tr, &m, &c->out, err);
}

static int send_plain(struct mtps_client *c, const uint8_t *body, size_t len, struct mtp_error *err)
{
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 4096, err);
    int rc = mtp_auth_plain_wrap_next(&w, &c->ids, &c->env, false, body, len);
    if (rc == MTP_OK)
        rc = mtps_client_send_raw(c, w.p, w.len, err);
    mtp_wr_free(&w);
    return rc;
}

int mtps_client_start(struct mtps_client *c, struct mtp_error *err)
{
    MTP_GUARD(mtp_tr_conn_start(&c->tr, &c->out, err));
    mtp_wr_reset(&c->scratch);
    int rc = mtp_auth_client_start(c->auth, &c->scratch, err);
    if (rc == MTP_OK)
        rc = send_plain(c, c->scratch.p, c->scratch.len, err);
    return rc < 0 ? fail(c, rc, err) : MTP_OK;
}

static int session_up(struct mtps_client *c, bool fresh)
{
    MTP_GUARD(mtp_session_init(&c->ses, MTP_SESSION_CLIENT, c->o.session, &c->env, on_session_event, c));
    c->ses_init = true;
    mtp_session_set_auth_key(&c->ses, c->key.auth_key);
    MTP_GUARD(mtp_session_set_salt(&c->ses, c->o.salt_zero ? 0 : mtp_load_u64(c->key.server_salt)));
    /* A resumed key's server_time is old news: keep the local clock. */
    if (fresh)
        mtp_session_sync_time(&c->ses, c->key.server_time);
    c->state = MTPS_CL_READY;
    return MTP_OK;
}

static int key_done(struct mtps_client *c, struct mtp_error *err)
{
    MTP_GUARD(mtp_auth_client_result(c->auth, &c->key, err));
    return session_up(c, true);
}

int mtps_client_resume(struct mtps_client *c, const struct mtp_auth_result *key, struct mtp_error *err)
{
    MTP_GUARD(mtp_tr_conn_start(&c->tr, &c->out, err));
    c->key = *key;
    return session_up(c, false);
}

static int on_frame(struct mtps_client *c, const struct mtp_tr_frame *f, struct mtp_error *err)
{
    struct mtp_tr_packet pk;
    int rc = mtp_tr_sort_packet(c->tr.kind, MTP_TR_SERVER, f, &pk, err);
    /* a packet too short for an auth_key_id goes on: the checks below refuse it as they did */
    if (rc < 0 && rc != MTP_ERR_TR_SHORT_PACKET)
        return rc;
    if (rc < 0)
        mtp_error_clear(err);
    if (pk.kind == MTP_TR_PKT_QUICK_ACK) {
        c->quick_acks++;
        if (c->ses_init)
            (void)mtp_session_quick_ack(&c->ses, pk.ack_token);
        return MTP_OK;
    }
    if (pk.kind == MTP_TR_PKT_TRANSPORT_ERROR) {
        c->transport_error = pk.error_code;
        return MTP_OK;
    }
    const uint8_t *data = pk.data;
    size_t len = pk.len;
    if (c->state == MTPS_CL_HANDSHAKE) {
        struct mtp_auth_plain pm;
        MTP_GUARD(mtp_auth_plain_unwrap(data, len, &pm, err));
        mtp_wr_reset(&c->scratch);
        MTP_GUARD(mtp_auth_client_recv(c->auth, pm.body, pm.body_len, &c->scratch, err));
        if (c->scratch.len)
            MTP_GUARD(send_plain(c, c->scratch.p, c->scratch.len, err));
        if (mtp_auth_client_state(c->auth) == MTP_AUTH_C_DONE)
            MTP_GUARD(key_done(c, err));
        return MTP_OK;
    }
    if (c->state != MTPS_CL_READY)
        return mtp_error_set(err, MTP_ERR_SES_STATE, MTP_NO_OFFSET, "client: not ready");
    rc = mtp_session_recv_packet(&c->ses, data, len, NULL, err);
    /* A packet that fails the crypto checks fails the client; a message the
     * session core ignores (a replay, a bad msg_id) does not. */
    bool crypto = rc == MTP_ERR_AUTH_KEY_ID_MISMATCH || rc == MTP_ERR_MSG_KEY_MISMATCH ||
                  rc == MTP_ERR_BAD_CIPHERTEXT_LENGTH || rc == MTP_ERR_BAD_MESSAGE_LENGTH ||
                  rc == MTP_ERR_UNALIGNED_MESSAGE_LENGTH || rc == MTP_ERR_BAD_PADDING_LENGTH;
    if (crypto && c->o.discard_bad_packets) {
        c->bad_packets++;
        c->last_bad_packet = rc;
        mtp_error_clear(err);
        return MTP_OK;
    }
    return crypto ? rc : MTP_OK;
}

int mtps_client_feed(struct mtps_client *c, uint8_t *buf, size_t len, struct mtp_error *err)
{
    if (c->state == MTPS_CL_FAILED)
        return c->error;
    mtp_tr_conn_feed(&c->tr, buf, len);
    for (;;) {
        struct mtp_tr_frame f;
        int rc = mtp_tr_conn_next(&c->tr, &f, err);
        if (rc == MTP_ERR_NEED_MORE)
            break;
        if (rc == MTP_OK)
            rc = on_frame(c, &f, err);
        if (rc < 0)
            return fail(c, rc, err);
    }
    if (c->state == MTPS_CL_READY)
        return mtps_client_flush(c, err);
    return MTP_OK;
}

int mtps_client_flush(struct mtps_client *c, struct mtp_error *err)
{
    if (c->state != MTPS_CL_READY)
        return mtp_error_set(err, MTP_ERR_SES_STATE, MTP_NO_OFFSET, "client: no key yet");
    for (;;) {
        mtp_wr_reset(&c->scratch);
        int rc = mtp_session_flush_packet(&c->ses, &c->scratch);
        if (rc < 0)
            return fail(c, rc, err);
        if (rc == 0)
            return MTP_OK;
        rc = mtps_client_send_raw(c, c->scratch.p, c->scratch.len, err);
        if (rc < 0)
            return fail(c, rc, err);
    }
}

int mtps_client_ping(struct mtps_client *c, uint64_t ping_id, struct mtp_error *err)
{
    if (c->state != MTPS_CL_READY)
        return mtp_error_set(err, MTP_ERR_SES_STATE, MTP_NO_OFFSET, "client: no key yet");
    MTP_GUARD(mtp_session_ping(&c->ses, ping_id, -1, NULL));
    return mtps_client_flush(c, err);
}

int mtps_client_query(struct mtps_client *c, const uint8_t *body, size_t len, uint64_t *msg_id,
                      struct mtp_error *err)
{
    if (c->state != MTPS_CL_READY)
        return mtp_error_set(err, MTP_ERR_SES_STATE, MTP_NO_OFFSET, "client: no key yet");
    MTP_GUARD(mtp_session_send_query(&c->ses, body, len, msg_id));
    return mtps_client_flush(c, err);
}
