/* What the client and server machines share: names, the unencrypted envelope,
 * msg_ids, and sealing/opening the AES-encrypted inner data. */
#include <string.h>

#include "auth/mtp_auth_internal.h"
#include "mtp/aes_ige.h"
#include "mtp/auth.h"
#include "mtp/authcrypt.h"

const char *mtp_auth_rsa_scheme_name(enum mtp_auth_rsa_scheme s)
{
    switch (s) {
    case MTP_AUTH_RSA_PAD:
        return "RSA_PAD";
    case MTP_AUTH_RSA_OLD:
        return "old RSA (SHA1 + data + padding)";
    }
    return "unknown RSA scheme";
}

static const struct {
    const char *name;
    bool server;
} corrupt_points[MTP_AUTH_X_COUNT] = {
    [MTP_AUTH_X_RES_PQ_NONCE] = {"resPQ.nonce", true},
    [MTP_AUTH_X_DH_PARAMS_NONCE] = {"server_DH_params.nonce", true},
    [MTP_AUTH_X_DH_PARAMS_SERVER_NONCE] = {"server_DH_params.server_nonce", true},
    [MTP_AUTH_X_DH_PARAMS_FAIL_HASH] = {"server_DH_params_fail.new_nonce_hash", true},
    [MTP_AUTH_X_ENCRYPTED_ANSWER] = {"server_DH_params_ok.encrypted_answer", true},
    [MTP_AUTH_X_ANSWER_HASH] = {"answer_with_hash.hash", true},
    [MTP_AUTH_X_ANSWER_PADDING] = {"answer_with_hash.padding", true},
    [MTP_AUTH_X_SERVER_INNER_NONCE] = {"server_DH_inner_data.nonce", true},
    [MTP_AUTH_X_SERVER_INNER_SERVER_NONCE] = {"server_DH_inner_data.server_nonce", true},
    [MTP_AUTH_X_DH_GEN_NONCE] = {"dh_gen.nonce", true},
    [MTP_AUTH_X_DH_GEN_SERVER_NONCE] = {"dh_gen.server_nonce", true},
    [MTP_AUTH_X_DH_GEN_HASH] = {"dh_gen.new_nonce_hash", true},
    [MTP_AUTH_X_REQ_DH_NONCE] = {"req_DH_params.nonce", false},
    [MTP_AUTH_X_REQ_DH_SERVER_NONCE] = {"req_DH_params.server_nonce", false},
    [MTP_AUTH_X_REQ_DH_P] = {"req_DH_params.p", false},
    [MTP_AUTH_X_REQ_DH_Q] = {"req_DH_params.q", false},
    [MTP_AUTH_X_REQ_DH_FINGERPRINT] = {"req_DH_params.public_key_fingerprint", false},
    [MTP_AUTH_X_REQ_DH_ENCRYPTED_DATA] = {"req_DH_params.encrypted_data", false},
    [MTP_AUTH_X_PQ_INNER_NONCE] = {"p_q_inner_data.nonce", false},
    [MTP_AUTH_X_PQ_INNER_SERVER_NONCE] = {"p_q_inner_data.server_nonce", false},
    [MTP_AUTH_X_PQ_INNER_PQ] = {"p_q_inner_data.pq", false},
    [MTP_AUTH_X_SET_DH_NONCE] = {"set_client_DH_params.nonce", false},
    [MTP_AUTH_X_SET_DH_SERVER_NONCE] = {"set_client_DH_params.server_nonce", false},
    [MTP_AUTH_X_SET_DH_ENCRYPTED_DATA] = {"set_client_DH_params.encrypted_data", false},
    [MTP_AUTH_X_CLIENT_INNER_HASH] = {"data_with_hash.hash", false},
    [MTP_AUTH_X_CLIENT_INNER_NONCE] = {"client_DH_inner_data.nonce", false},
    [MTP_AUTH_X_CLIENT_INNER_SERVER_NONCE] = {"client_DH_inner_data.server_nonce", false},
    [MTP_AUTH_X_CLIENT_INNER_RETRY_ID] = {"client_DH_inner_data.retry_id", false},
};

const char *mtp_auth_corrupt_name(enum mtp_auth_corrupt point)
{
    return (unsigned)point < MTP_AUTH_X_COUNT ? corrupt_points[point].name : NULL;
}

int mtp_auth_corrupt_from_name(const char *name)
{
    for (int i = 0; i < MTP_AUTH_X_COUNT; i++)
        if (strcmp(corrupt_points[i].name, name) == 0)
            return i;
    return -1;
}

bool mtp_auth_corrupt_is_server(enum mtp_auth_corrupt point)
{
    return (unsigned)point < MTP_AUTH_X_COUNT && corrupt_points[point].server;
}

int mtp_auth_plain_wrap(struct mtp_wr *out, int64_t msg_id, const uint8_t *body, size_t len)
{
    if (len > INT32_MAX)
        return mtp_error_set(out->err, MTP_ERR_ARG, MTP_NO_OFFSET, "unencrypted message: body of %zu bytes", len);
    MTP_GUARD(mtp_wr_u64(out, 0));
    MTP_GUARD(mtp_wr_i64(out, msg_id));
    MTP_GUARD(mtp_wr_u32(out, (uint32_t)len));
    return mtp_wr_raw(out, body, len);
}

int mtp_auth_plain_unwrap(const uint8_t *msg, size_t len, struct mtp_auth_plain *out, struct mtp_error *err)
{
    struct mtp_rd r;
    mtp_rd_init(&r, msg, len, err);
    uint64_t key_id;
    uint32_t body_len;
    MTP_GUARD(mtp_rd_u64(&r, &key_id, "unencrypted message.auth_key_id"));
    if (key_id != 0)
        return mtp_error_set(err, MTP_ERR_AUTH_NOT_PLAIN, 0, "unencrypted message.auth_key_id: %016llx, not 0",
                             (unsigned long long)key_id);
    MTP_GUARD(mtp_rd_i64(&r, &out->msg_id, "unencrypted message.msg_id"));
    MTP_GUARD(mtp_rd_u32(&r, &body_len, "unencrypted message.message_data_length"));
    if (body_len != mtp_rd_left(&r))
        return mtp_error_set(err, MTP_ERR_AUTH_PLAIN_LENGTH, 16,
                             "unencrypted message.message_data_length: %u, but %zu bytes follow", body_len,
                             mtp_rd_left(&r));
    MTP_GUARD(mtp_rd_raw(&r, body_len, &out->body, "unencrypted message.message_data"));
    out->body_len = body_len;
    return MTP_OK;
}

int mtp_auth_msg_id_check(int64_t msg_id, bool from_server, struct mtp_error *err)
{
    uint64_t id = (uint64_t)msg_id;
    if (id == 0)
        return mtp_error_set(err, MTP_ERR_AUTH_MSG_ID, 8, "unencrypted message.msg_id: 0");
    if (!mtp_msgid_parity_ok(id, from_server))
        return mtp_error_set(err, MTP_ERR_AUTH_MSG_ID, 8,
                             "unencrypted message.msg_id: %016llx from the %s is %llu mod 4", (unsigned long long)id,
                             from_server ? "server" : "client", (unsigned long long)(id % 4));
    return MTP_OK;
}

int mtp_auth_plain_wrap_next(struct mtp_wr *out, struct mtp_msgid_gen *gen, const struct mtp_env *env, bool server,
                             const uint8_t *body, size_t len)
{
    uint64_t id = mtp_msgid_next(gen, mtp_env_now_ms(env), server ? MTP_MSGID_SERVER_RESPONSE : MTP_MSGID_CLIENT);
    return mtp_auth_plain_wrap(out, (int64_t)id, body, len);
}

int mtp_auth_expect_ctor(struct mtp_rd *r, const uint32_t *ids, size_t n, const char *expected, const char *state,
                         struct mtp_error *e)
{
    uint32_t id;
    MTP_GUARD(mtp_rd_peek_u32(r, &id, "constructor"));
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return MTP_OK;
    const char *name = mtp_auth_tl_name(id);
    return mtp_error_set(e, MTP_ERR_AUTH_UNEXPECTED, mtp_rd_offset(r), "%s: got %s#%08x, expected %s", state,
                         name ? name : "unknown constructor ", id, expected);
}

int mtp_auth_pass_error(struct mtp_error *dst, const struct mtp_error *src)
{
    if (dst != NULL && dst->code == MTP_OK)
        *dst = *src;
    return src->code;
}

int mtp_auth_seal(const struct mtp_env *env, const uint8_t key[32], const uint8_t iv[32], const uint8_t *data,
                  size_t len, bool corrupt_hash, bool extra_padding, uint8_t *out, size_t cap, size_t *out_len,
                  struct mtp_error *err)
{
    if (!corrupt_hash && !extra_padding)
        return mtp_authcrypt_inner_encrypt(env, key, iv, data, len, out, cap, out_len, err);
    /* The corrupted forms cannot come out of mtp_authcrypt_inner_encrypt, which
     * only makes correct ones: build answer_with_hash here. */
    size_t pad = (16 - (20 + len) % 16) % 16 + (extra_padding ? 16 : 0);
    size_t total = 20 + len + pad;
    if (total > cap)
        return mtp_error_set(err, MTP_ERR_OVERFLOW, MTP_NO_OFFSET, "inner data: %zu bytes do not fit %zu", total, cap);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, out, cap, err);
    uint8_t *hash, *padding;
    MTP_GUARD(mtp_wr_reserve(&w, 20, &hash));
    MTP_GUARD(mtp_wr_raw(&w, data, len));
    MTP_GUARD(mtp_wr_reserve(&w, pad, &padding));
    int rc = mtp_env_rand(env, padding, pad);
    if (rc < 0)
        return mtp_error_set(err, rc, MTP_NO_OFFSET, "inner data: no randomness for the padding");
    mtp_authcrypt_sha1(data, len, hash);
    if (corrupt_hash)
        mtp_auth_flip_first(hash, 20);
    MTP_GUARD(mtp_aes_ige_encrypt(key, 32, iv, out, out, total, err));
    *out_len = total;
    return MTP_OK;
}

int mtp_auth_open(const uint8_t key[32], const uint8_t iv[32], const uint8_t *in, size_t in_len, uint8_t *buf,
                  size_t cap, mtp_auth_parse_fn parse, void *obj, const char *what, struct mtp_error *err)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    int rc = mtp_authcrypt_inner_decrypt(key, iv, in, in_len, buf, cap, &e);
    if (rc < 0) {
        mtp_error_prefix(&e, "%s", what);
        return mtp_auth_pass_error(err, &e);
    }
    /* inner_decrypt guarantees in_len >= MTP_AUTHCRYPT_INNER_MIN > 20. */
    struct mtp_rd r;
    mtp_rd_init(&r, buf + 20, in_len - 20, &e);
    r.base = 20;
    rc = parse(&r, obj);
    if (rc == MTP_OK) {
        rc = mtp_authcrypt_inner_check(buf, in_len, r.pos, &e);
        if (rc < 0)
            mtp_error_prefix(&e, "%s", what);
        return rc < 0 ? mtp_auth_pass_error(err, &e) : MTP_OK;
    }
    for (size_t pad = 0; pad <= 15 && pad <= in_len - 20; pad++) {
        struct mtp_error ignored;
        mtp_error_clear(&ignored);
        if (mtp_authcrypt_inner_check(buf, in_len, in_len - 20 - pad, &ignored) == MTP_OK) {
            mtp_error_prefix(&e, "%s (authentic, malformed)", what);
            return mtp_auth_pass_error(err, &e);
        }
    }
    mtp_error_clear(&e);
    return mtp_error_set(err, MTP_ERR_INNER_HASH, 0,
                         "%s: the SHA1 in front of the decrypted data matches none of the lengths it may have "
                         "(%zu..%zu bytes)",
                         what, in_len - 20 > 15 ? in_len - 35 : 0, in_len - 20);
}

int mtp_auth_open_unchecked(const uint8_t key[32], const uint8_t iv[32], const uint8_t *in, size_t in_len,
                            uint8_t *buf, size_t cap, mtp_auth_parse_fn parse, void *obj, const char *what,
                            struct mtp_error *err)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    size_t n = in_len - in_len % 16;
    if (n > MTP_AUTHCRYPT_INNER_MAX)
        n = MTP_AUTHCRYPT_INNER_MAX;
    int rc = mtp_authcrypt_inner_decrypt(key, iv, in, n, buf, cap, &e);
    if (rc == MTP_OK) {
        struct mtp_rd r;
        mtp_rd_init(&r, buf + 20, n - 20, &e);
        r.base = 20;
        rc = parse(&r, obj);
    }
    if (rc < 0) {
        mtp_error_prefix(&e, "%s", what);
        return mtp_auth_pass_error(err, &e);
    }
    return MTP_OK;
}
