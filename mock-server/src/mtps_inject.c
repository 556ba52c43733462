/* Hostile server messages with a canary (see mtps_inject.h). */
#include "mtps_inject.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/aes_ige.h"
#include "mtp/container.h"
#include "mtp/message.h"
#include "mtp/msgcrypt.h"
#include "mtp/msgcrypt_v1.h"
#include "mtp/msgid.h"
#include "mtp/service.h"

/* The time shifts of msg_id_old / msg_id_future: just outside the 300 s / 30 s
 * a client accepts (description#message-identifier-msg-id). */
#define OLD_MS (301 * 1000)
#define FUTURE_MS (31 * 1000)

void mtps_canary_free(struct mtps_canary *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->body[i]);
    memset(c, 0, sizeof *c);
}

static int keep_variant(struct mtps_canary *c, const uint8_t *p, size_t len)
{
    uint8_t *b = malloc(len ? len : 1);
    if (b == NULL)
        return MTP_ERR_NOMEM;
    memcpy(b, p, len);
    c->body[c->n] = b;
    c->len[c->n] = len;
    c->n++;
    return MTP_OK;
}

/* Each variant's string is 4 characters longer, which makes the TL string
 * (and so the body) exactly 4 bytes longer: the four variants cover every
 * length modulo 16. */
static json_t *canary_fields(const char *method, size_t variant)
{
    char pad[4 * MTPS_CANARY_VARIANTS + 1];
    memset(pad, '0', 4 * variant);
    pad[4 * variant] = '\0';
    char text[64];
    if (strcmp(method, "help.getNearestDc") == 0) {
        snprintf(text, sizeof text, "CANARY%s", pad);
        return json_pack("{s:s, s:i}", "country", text, "nearest_dc", MTPS_CANARY_NEAREST_DC);
    }
    if (strcmp(method, "help.getConfig") == 0) {
        snprintf(text, sizeof text, "canary%s.invalid", pad);
        return json_pack("{s:i, s:s}", "date", MTPS_CANARY_CONFIG_DATE, "dc_txt_domain_name", text);
    }
    return NULL;
}

int mtps_canary_rpc_result(const struct mtps_api *api, const struct mtps_rpc *rpc, const struct mtps_api_env *env,
                           uint64_t req_msg_id, struct mtps_canary *c, struct mtp_error *err)
{
    memset(c, 0, sizeof *c);
    json_t *probe = rpc->decoded ? canary_fields(rpc->method, 0) : NULL;
    if (probe == NULL)
        return mtp_error_set(err, MTP_ERR_UNSUPPORTED, MTP_NO_OFFSET, "inject: no canary answer for %s", rpc->method);
    json_decref(probe);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1u << 16, NULL);
    int rc = MTP_OK;
    for (size_t i = 0; i < MTPS_CANARY_VARIANTS && rc == MTP_OK; i++) {
        json_t *over = canary_fields(rpc->method, i);
        struct mtps_answer ans;
        mtp_wr_reset(&w);
        rc = over ? mtp_svc_write_rpc_result_head(&w, req_msg_id) : MTP_ERR_NOMEM;
        if (rc == MTP_OK)
            rc = mtps_api_answer_with(api, rpc, env, over, &w, &ans, err);
        json_decref(over);
        if (rc == MTP_OK && ans.error)
            rc = mtp_error_set(err, MTP_ERR_UNSUPPORTED, MTP_NO_OFFSET, "inject: %s answers rpc_error %d %s",
                               rpc->method, (int)ans.code, ans.message);
        if (rc == MTP_OK)
            rc = keep_variant(c, w.p, w.len);
    }
    mtp_wr_free(&w);
    if (rc < 0)
        mtps_canary_free(c);
    return rc;
}

int mtps_canary_bad_salt(uint64_t req_msg_id, int32_t req_seqno, struct mtps_canary *c)
{
    memset(c, 0, sizeof *c);
    uint8_t buf[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    MTP_GUARD(mtp_svc_write_bad_server_salt(&w, req_msg_id, req_seqno, MTPS_CANARY_SALT));
    return keep_variant(c, w.p, w.len);
}

/* --- the plaintext --- */

static size_t residue(size_t body_len) { return (MTP_MSG_HEADER_LEN + body_len) % 16; }

/* Padding that completes a block: 0..15 bytes. */
static size_t block_padding(size_t body_len) { return (16 - residue(body_len)) % 16; }

/* The variant and padding a mutation needs. */
static int choose(enum mtps_mutation mut, const struct mtps_canary *c, size_t *variant, size_t *padding,
                  struct mtp_error *err)
{
    *variant = 0;
    *padding = 0;
    switch (mut) {
    case MTPS_MUT_PADDING_SHORT:
        /* 0..11 bytes: any body whose padding to the block is not 12. */
        for (size_t i = 0; i < c->n; i++)
            if (block_padding(c->len[i]) < MTP_MSG_MIN_PADDING) {
                *variant = i;
                *padding = block_padding(c->len[i]);
                return MTP_OK;
            }
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "inject padding_short: no body length allows it");
    case MTPS_MUT_PADDING_LONG: {
        size_t p = block_padding(c->len[0]);
        *padding = MTP_MSG_MAX_PADDING + (p ? p : 16);
        return MTP_OK;
    }
    case MTPS_MUT_MTPROTO1:
        /* 12..15 bytes where a body allows it, legal in both versions; else
         * what MTProto 1.0 itself does (0..15). */
        for (size_t i = 0; i < c->n; i++)
            if (block_padding(c->len[i]) == MTP_MSG_MIN_PADDING) {
                *variant = i;
                *padding = MTP_MSG_MIN_PADDING;
                return MTP_OK;
            }
        *padding = block_padding(c->len[0]);
        return MTP_OK;
    case MTPS_MUT_LENGTH_UNALIGNED:
        /* One byte of the padding is claimed by the length: keep 12 after it. */
        *padding = mtp_msg_padding_len(c->len[0], 0);
        if (*padding == MTP_MSG_MIN_PADDING)
            *padding += 16;
        return MTP_OK;
    default:
        *padding = mtp_msg_padding_len(c->len[0], 0);
        return MTP_OK;
    }
}

static int write_plain(struct mtp_wr *w, uint64_t salt, uint64_t session_id, uint64_t msg_id, int32_t seqno,
                       uint32_t length, const uint8_t *body, size_t body_len, size_t padding,
                       const struct mtp_env *env)
{
    MTP_GUARD(mtp_wr_u64(w, salt));
    MTP_GUARD(mtp_wr_u64(w, session_id));
    MTP_GUARD(mtp_wr_u64(w, msg_id));
    MTP_GUARD(mtp_wr_i32(w, seqno));
    MTP_GUARD(mtp_wr_u32(w, length));
    MTP_GUARD(mtp_wr_raw(w, body, body_len));
    uint8_t *p;
    MTP_GUARD(mtp_wr_reserve(w, padding, &p));
    return padding ? mtp_env_rand(env, p, padding) : MTP_OK;
}

/* --- encryption --- */

/* msg_key not derived from the plaintext (the SHA256 one with a bit
 * flipped), the AES key and iv derived from the msg_key sent: a client that
 * skips the comparison decrypts the message. */
static int encrypt_with_wrong_msg_key(const uint8_t *auth_key, const uint8_t id[8], const uint8_t *plain,
                                      size_t len, struct mtp_wr *out, struct mtp_error *err)
{
    uint8_t msg_key[MTP_MSG_KEY_LEN], key[32], iv[32];
    uint8_t *ct;
    int rc = mtp_msg_key(auth_key, MTP_SENDER_SERVER, plain, len, msg_key, err);
    if (rc == MTP_OK) {
        msg_key[0] ^= 0x01;
        rc = mtp_msg_kdf(auth_key, MTP_SENDER_SERVER, msg_key, key, iv);
    }
    if (rc == MTP_OK && (rc = mtp_wr_raw(out, id, 8)) == MTP_OK && (rc = mtp_wr_raw(out, msg_key, sizeof msg_key)) == MTP_OK &&
        (rc = mtp_wr_reserve(out, len, &ct)) == MTP_OK)
        rc = mtp_aes_ige_encrypt(key, sizeof key, iv, plain, ct, len, err);
    mtp_wipe(key, sizeof key);
    mtp_wipe(iv, sizeof iv);
    return rc;
}

/* --- the whole message --- */

int mtps_inject_build(const struct mtps_inject_in *in, enum mtps_mutation mut, const struct mtps_canary *c,
                      struct mtp_wr *plain, struct mtp_wr *payload, struct mtps_hostile *out, struct mtp_error *err)
{
    memset(out, 0, sizeof *out);
    if (c->n == 0)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "inject: no canary");
    size_t variant = 0, padding = 0;
    MTP_GUARD(choose(mut, c, &variant, &padding, err));
    const uint8_t *body = c->body[variant];
    size_t body_len = c->len[variant];

    uint64_t session_id = in->session_id, msg_id = in->msg_id;
    int32_t seqno = in->seqno;
    uint32_t kind = (uint32_t)(in->msg_id & 3);
    switch (mut) {
    case MTPS_MUT_SESSION_ID:
        session_id ^= 1;
        break;
    case MTPS_MUT_MSG_ID_EVEN:
        msg_id &= ~(uint64_t)3;
        break;
    case MTPS_MUT_MSG_ID_DUPLICATE:
        if (in->last_sent_msg_id == 0)
            return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET,
                                 "inject msg_id_duplicate: the session has sent no message yet");
        msg_id = in->last_sent_msg_id;
        break;
    case MTPS_MUT_MSG_ID_OLD:
        msg_id = mtp_msgid_from_ms(in->now_ms - OLD_MS) | kind;
        break;
    case MTPS_MUT_MSG_ID_FUTURE:
        msg_id = mtp_msgid_from_ms(in->now_ms + FUTURE_MS) | kind;
        break;
    default:
        break;
    }

    /* container_order: the canary inside a container whose own msg_id is
     * below the message's (and whose seqno, even, is not below it). */
    uint8_t *container = NULL;
    if (mut == MTPS_MUT_CONTAINER_ORDER) {
        if (in->msg_id_above <= in->msg_id)
            return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "inject container_order: no msg_id above");
        struct mtp_wr cw;
        mtp_wr_init_dyn(&cw, 8 + 16 + body_len, NULL);
        struct mtp_container_wr ct;
        int rc = mtp_container_begin(&ct, &cw);
        if (rc == MTP_OK)
            rc = mtp_container_add(&ct, in->msg_id_above, seqno, body, body_len);
        if (rc == MTP_OK)
            rc = mtp_container_end(&ct);
        if (rc < 0) {
            mtp_wr_free(&cw);
            return mtp_error_set(err, rc, MTP_NO_OFFSET, "inject container_order: cannot build the container");
        }
        container = mtp_wr_take(&cw, &body_len);
        body = container;
        out->nested_msg_id = in->msg_id_above;
        seqno = (seqno + 1) & ~1;
        padding = mtp_msg_padding_len(body_len, 0);
    }

    uint32_t length = (uint32_t)body_len;
    if (mut == MTPS_MUT_LENGTH_BEYOND)
        length = (uint32_t)(body_len + padding + 4);
    else if (mut == MTPS_MUT_LENGTH_UNALIGNED)
        length = (uint32_t)body_len + 1;
    else if (mut == MTPS_MUT_LENGTH_NEGATIVE)
        length = 0xfffffffcu;

    *out = (struct mtps_hostile){
        .encrypted = mut != MTPS_MUT_PLAIN_AFTER_KEY,
        .auth_key_id = in->auth_key_id,
        .session_id = session_id,
        .msg_id = msg_id,
        .seqno = seqno,
        .length = length,
        .body_len = body_len,
        .padding = padding,
        .nested_msg_id = out->nested_msg_id,
    };
    int rc;
    if (mut == MTPS_MUT_PLAIN_AFTER_KEY) {
        /* auth_key_id 0 | msg_id | length | body, as the key exchange's messages. */
        out->auth_key_id = 0;
        out->padding = 0;
        out->session_id = 0;
        rc = mtp_wr_u64(plain, 0);
        if (rc == MTP_OK)
            rc = mtp_wr_u64(plain, msg_id);
        if (rc == MTP_OK)
            rc = mtp_wr_u32(plain, (uint32_t)body_len);
        if (rc == MTP_OK)
            rc = mtp_wr_raw(plain, body, body_len);
        if (rc == MTP_OK)
            rc = mtp_wr_raw(payload, plain->p, plain->len);
        free(container);
        return rc < 0 ? mtp_error_set(err, rc, MTP_NO_OFFSET, "inject: the output cannot take the message") : MTP_OK;
    }
    rc = write_plain(plain, in->salt, session_id, msg_id, seqno, length, body, body_len, padding, in->env);
    free(container);
    if (rc < 0)
        return mtp_error_set(err, rc, MTP_NO_OFFSET, "inject: the output cannot take the plaintext");

    uint8_t id[8];
    mtp_store_u64(id, in->auth_key_id);
    size_t start = payload->len;
    switch (mut) {
    case MTPS_MUT_MSG_KEY:
        rc = encrypt_with_wrong_msg_key(in->auth_key, id, plain->p, plain->len, payload, err);
        break;
    case MTPS_MUT_CLIENT_DIRECTION:
        rc = mtp_msg_encrypt(in->auth_key, MTP_SENDER_CLIENT, plain->p, plain->len, payload, err);
        break;
    case MTPS_MUT_MTPROTO1:
        rc = mtp_msg_v1_encrypt(in->auth_key, MTP_SENDER_SERVER, plain->p, plain->len, payload, err);
        break;
    default:
        rc = mtp_msg_encrypt(in->auth_key, MTP_SENDER_SERVER, plain->p, plain->len, payload, err);
        break;
    }
    if (rc < 0)
        return rc;
    if (mut == MTPS_MUT_AUTH_KEY_ID) {
        /* Another key's id: the last bit of the first byte flipped; the rest is
         * encrypted with the real key. */
        payload->p[start] ^= 0x01;
        out->auth_key_id ^= 1;
    }
    return MTP_OK;
}
