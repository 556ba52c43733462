/* auth.bindTempAuthKey's binding message: made by the client, checked by the
 * server (mtp/auth_bind.h). */
#include "mtp/auth_bind.h"

#include <inttypes.h>
#include <string.h>

#include "mtp/msgcrypt_v1.h"
#include "mtp/tl_prim.h"

/* Offsets in encrypted_message: the outer header, then the plaintext. */
#define AT_MSG_ID (MTP_MSG_OUTER_HEADER_LEN + 16)
#define AT_SEQNO (MTP_MSG_OUTER_HEADER_LEN + 24)
#define AT_LENGTH (MTP_MSG_OUTER_HEADER_LEN + 28)
#define AT_INNER (MTP_MSG_OUTER_HEADER_LEN + 32)

static int write_inner(struct mtp_wr *w, const struct mtp_bind_inner *in)
{
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_BIND_AUTH_KEY_INNER_ID));
    MTP_GUARD(mtp_wr_u64(w, in->nonce));
    MTP_GUARD(mtp_wr_u64(w, in->temp_auth_key_id));
    MTP_GUARD(mtp_wr_u64(w, in->perm_auth_key_id));
    MTP_GUARD(mtp_wr_u64(w, in->temp_session_id));
    return mtp_tl_wr_int(w, in->expires_at);
}

int mtp_bind_encrypt(const uint8_t perm_key[MTP_AUTH_KEY_LEN], uint64_t msg_id, const struct mtp_bind_inner *in,
                     const struct mtp_env *env, struct mtp_wr *out, struct mtp_error *err)
{
    uint8_t buf[MTP_BIND_ENCRYPTED_LEN - MTP_MSG_OUTER_HEADER_LEN];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    uint8_t *random;
    int rc = MTP_OK;
    if (mtp_wr_reserve(&w, 16, &random) < 0 || mtp_env_rand(env, random, 16) < 0) {
        rc = mtp_error_set(err, MTP_ERR_LIMIT, MTP_NO_OFFSET, "binding message: the random source failed");
        goto out;
    }
    if (mtp_wr_u64(&w, msg_id) < 0 || mtp_wr_u32(&w, 0) < 0 || mtp_wr_u32(&w, MTP_BIND_INNER_LEN) < 0 ||
        write_inner(&w, in) < 0) {
        rc = mtp_error_set(err, MTP_ERR_INTERNAL, MTP_NO_OFFSET, "binding message: does not fit");
        goto out;
    }
    MTP_TRY(mtp_msg_v1_pad(&w, env, err));
    MTP_TRY(mtp_msg_v1_encrypt(perm_key, MTP_SENDER_CLIENT, w.p, w.len, out, err));
out:
    mtp_wipe(buf, sizeof buf);
    return rc;
}

int mtp_bind_write_request(struct mtp_wr *out, uint64_t perm_auth_key_id, uint64_t nonce, int32_t expires_at,
                           const uint8_t *encrypted, size_t encrypted_len)
{
    MTP_GUARD(mtp_tl_wr_uint(out, MTP_BIND_TEMP_AUTH_KEY_ID));
    MTP_GUARD(mtp_wr_u64(out, perm_auth_key_id));
    MTP_GUARD(mtp_wr_u64(out, nonce));
    MTP_GUARD(mtp_tl_wr_int(out, expires_at));
    return mtp_tl_wr_bytes(out, encrypted, encrypted_len);
}

static int field_error(struct mtp_error *err, int code, size_t at, const char *field, uint64_t got, uint64_t want,
                       const char *what)
{
    return mtp_error_set(err, code, at, "bind_auth_key_inner.%s: %#" PRIx64 ", %s %#" PRIx64, field, got, what, want);
}

int mtp_bind_check(const uint8_t perm_key[MTP_AUTH_KEY_LEN], const uint8_t *encrypted, size_t len,
                   const struct mtp_bind_expect *want, struct mtp_bind_inner *got, struct mtp_error *err)
{
    /* Any length decrypts: a longer message fails on its length field or its padding, in check order. */
    struct mtp_wr plain;
    mtp_wr_init_dyn(&plain, len, NULL);
    struct mtp_bind_inner in;
    memset(&in, 0, sizeof in);
    int rc = mtp_msg_v1_decrypt(perm_key, MTP_SENDER_CLIENT, encrypted, len, &plain, err);
    if (rc < 0)
        goto out;
    struct mtp_rd r;
    mtp_rd_init(&r, plain.p, plain.len, NULL);
    uint64_t msg_id;
    uint32_t seqno, length, ctor;
    /* The decryption checked that the plaintext holds the header and length bytes of data. */
    if (mtp_rd_skip(&r, 16, "random") < 0 || mtp_rd_u64(&r, &msg_id, "msg_id") < 0 ||
        mtp_rd_u32(&r, &seqno, "seq_no") < 0 || mtp_rd_u32(&r, &length, "length") < 0) {
        rc = mtp_error_set(err, MTP_ERR_INTERNAL, MTP_NO_OFFSET, "binding message: header unreadable");
        goto out;
    }
    if (seqno != 0) {
        rc = mtp_error_set(err, MTP_ERR_BIND_BAD_HEADER, AT_SEQNO, "binding message seq_no: %" PRIu32 ", must be 0",
                           seqno);
        goto out;
    }
    if (length != MTP_BIND_INNER_LEN) {
        rc = mtp_error_set(err, MTP_ERR_BIND_BAD_HEADER, AT_LENGTH,
                           "binding message length: %" PRIu32 ", bind_auth_key_inner has %d", length,
                           MTP_BIND_INNER_LEN);
        goto out;
    }
    if (msg_id != want->msg_id) {
        rc = mtp_error_set(err, MTP_ERR_BIND_MSG_ID, AT_MSG_ID,
                           "binding message msg_id: %#" PRIx64 ", the request's is %#" PRIx64, msg_id, want->msg_id);
        goto out;
    }
    if (mtp_rd_u32(&r, &ctor, "constructor") < 0 || ctor != MTP_BIND_AUTH_KEY_INNER_ID) {
        rc = mtp_error_set(err, MTP_ERR_BIND_BAD_INNER, AT_INNER,
                           "binding message: constructor %#010" PRIx32 ", not bind_auth_key_inner#75a3f765", ctor);
        goto out;
    }
    int32_t expires_at = 0;
    if (mtp_rd_u64(&r, &in.nonce, "nonce") < 0 || mtp_rd_u64(&r, &in.temp_auth_key_id, "temp_auth_key_id") < 0 ||
        mtp_rd_u64(&r, &in.perm_auth_key_id, "perm_auth_key_id") < 0 ||
        mtp_rd_u64(&r, &in.temp_session_id, "temp_session_id") < 0 || mtp_rd_i32(&r, &expires_at, "expires_at") < 0) {
        rc = mtp_error_set(err, MTP_ERR_INTERNAL, MTP_NO_OFFSET, "binding message: inner unreadable");
        goto out;
    }
    in.expires_at = expires_at;
    if (got != NULL)
        *got = in;
    if (in.nonce != want->nonce)
        rc = field_error(err, MTP_ERR_BIND_NONCE, AT_INNER + 4, "nonce", in.nonce, want->nonce, "the request's is");
    else if (in.temp_auth_key_id != want->temp_auth_key_id)
        rc = field_error(err, MTP_ERR_BIND_TEMP_KEY, AT_INNER + 12, "temp_auth_key_id", in.temp_auth_key_id,
                         want->temp_auth_key_id, "the request came with");
    else if (in.perm_auth_key_id != want->perm_auth_key_id)
        rc = field_error(err, MTP_ERR_BIND_PERM_KEY, AT_INNER + 20, "perm_auth_key_id", in.perm_auth_key_id,
                         want->perm_auth_key_id, "the request's is");
    else if (in.temp_session_id != want->temp_session_id)
        rc = field_error(err, MTP_ERR_BIND_SESSION, AT_INNER + 28, "temp_session_id", in.temp_session_id,
                         want->temp_session_id, "the request came in session");
    else if (in.expires_at != want->expires_at)
        rc = mtp_error_set(err, MTP_ERR_BIND_EXPIRES_AT, AT_INNER + 36,
                           "bind_auth_key_inner.expires_at: %" PRId32 ", the request's is %" PRId32, in.expires_at,
                           want->expires_at);
out:
    mtp_wr_free(&plain);
    mtp_wipe(&in, sizeof in);
    return rc;
}
