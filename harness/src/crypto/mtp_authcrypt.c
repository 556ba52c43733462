#include "mtp/authcrypt.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

#include "mtp/aes_ige.h"
#include "mtp/buf.h"

void mtp_authcrypt_sha1(const void *data, size_t len, uint8_t out[20]) { SHA1(data, len, out); }

void mtp_authcrypt_sha256(const void *data, size_t len, uint8_t out[32]) { SHA256(data, len, out); }

static void sha1_two(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, uint8_t out[20])
{
    uint8_t buf[64];
    memcpy(buf, a, a_len);
    memcpy(buf + a_len, b, b_len);
    SHA1(buf, a_len + b_len, out);
    mtp_wipe(buf, sizeof buf);
}

void mtp_authcrypt_tmp_aes(const uint8_t new_nonce[MTP_AUTHCRYPT_NEW_NONCE],
                           const uint8_t server_nonce[MTP_AUTHCRYPT_NONCE], uint8_t key[32], uint8_t iv[32])
{
    uint8_t ns[20], sn[20], nn[20];
    sha1_two(new_nonce, 32, server_nonce, 16, ns);
    sha1_two(server_nonce, 16, new_nonce, 32, sn);
    sha1_two(new_nonce, 32, new_nonce, 32, nn);
    memcpy(key, ns, 20);
    memcpy(key + 20, sn, 12);
    memcpy(iv, sn + 12, 8);
    memcpy(iv + 8, nn, 20);
    memcpy(iv + 28, new_nonce, 4);
    mtp_wipe(ns, sizeof ns);
    mtp_wipe(sn, sizeof sn);
    mtp_wipe(nn, sizeof nn);
}

static size_t inner_size(size_t len) { return (20 + len + 15) / 16 * 16; }

int mtp_authcrypt_inner_encrypt_padded(const uint8_t key[32], const uint8_t iv[32], const uint8_t *data, size_t len,
                                       const uint8_t *padding, size_t pad_len, uint8_t *out, size_t cap,
                                       size_t *out_len, struct mtp_error *err)
{
    if (len > MTP_AUTHCRYPT_INNER_MAX - 20)
        return mtp_error_set(err, MTP_ERR_INNER_BAD_LENGTH, MTP_NO_OFFSET,
                             "inner data: %zu bytes, at most %u fit", len, MTP_AUTHCRYPT_INNER_MAX - 20);
    size_t total = inner_size(len);
    if (pad_len != total - 20 - len)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET,
                             "inner data: padding must be %zu bytes for %zu bytes of data, got %zu", total - 20 - len,
                             len, pad_len);
    if (cap < total)
        return mtp_error_set(err, MTP_ERR_OVERFLOW, MTP_NO_OFFSET, "inner data: needs %zu bytes of output, cap %zu",
                             total, cap);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, out, cap, err);
    uint8_t *hash;
    MTP_GUARD(mtp_wr_reserve(&w, 20, &hash));
    MTP_GUARD(mtp_wr_raw(&w, data, len));
    MTP_GUARD(mtp_wr_raw(&w, padding, pad_len));
    SHA1(data, len, hash);
    int rc = mtp_aes_ige_encrypt(key, 32, iv, out, out, total, err);
    if (rc < 0) {
        mtp_wipe(out, total);
        return rc;
    }
    *out_len = total;
    return MTP_OK;
}

int mtp_authcrypt_inner_encrypt(const struct mtp_env *env, const uint8_t key[32], const uint8_t iv[32],
                                const uint8_t *data, size_t len, uint8_t *out, size_t cap, size_t *out_len,
                                struct mtp_error *err)
{
    uint8_t padding[15];
    size_t pad_len = len > MTP_AUTHCRYPT_INNER_MAX - 20 ? 0 : inner_size(len) - 20 - len;
    int rc = mtp_env_rand(env, padding, pad_len);
    if (rc < 0)
        return mtp_error_set(err, rc, MTP_NO_OFFSET, "inner data: no randomness for the padding");
    return mtp_authcrypt_inner_encrypt_padded(key, iv, data, len, padding, pad_len, out, cap, out_len, err);
}

int mtp_authcrypt_inner_decrypt(const uint8_t key[32], const uint8_t iv[32], const uint8_t *in, size_t in_len,
                                uint8_t *out, size_t cap, struct mtp_error *err)
{
    if (in_len % 16 != 0 || in_len < MTP_AUTHCRYPT_INNER_MIN || in_len > MTP_AUTHCRYPT_INNER_MAX)
        return mtp_error_set(err, MTP_ERR_INNER_BAD_LENGTH, MTP_NO_OFFSET,
                             "encrypted inner data: %zu bytes, want a multiple of 16 in %u..%u", in_len,
                             MTP_AUTHCRYPT_INNER_MIN, MTP_AUTHCRYPT_INNER_MAX);
    if (cap < in_len)
        return mtp_error_set(err, MTP_ERR_OVERFLOW, MTP_NO_OFFSET,
                             "encrypted inner data: %zu bytes do not fit the %zu-byte output", in_len, cap);
    return mtp_aes_ige_decrypt(key, 32, iv, in, out, in_len, err);
}

int mtp_authcrypt_inner_check(const uint8_t *with_hash, size_t len, size_t answer_len, struct mtp_error *err)
{
    if (len < 20 || answer_len > len - 20)
        return mtp_error_set(err, MTP_ERR_INNER_BAD_PADDING, 20,
                             "inner data: the %zu-byte object runs past the %zu decrypted bytes after the hash",
                             answer_len, len < 20 ? 0 : len - 20);
    uint8_t hash[20];
    SHA1(with_hash + 20, answer_len, hash);
    if (mtp_ct_memcmp(hash, with_hash, 20) != 0)
        return mtp_error_set(err, MTP_ERR_INNER_HASH, 0,
                             "inner data: SHA1 of the %zu-byte object differs from the hash in front of it",
                             answer_len);
    size_t pad = len - 20 - answer_len;
    if (pad > 15)
        return mtp_error_set(err, MTP_ERR_INNER_BAD_PADDING, 20 + answer_len,
                             "inner data: %zu padding bytes after the object, at most 15 allowed", pad);
    return MTP_OK;
}

void mtp_authcrypt_auth_key_aux_hash(const uint8_t auth_key[MTP_AUTHCRYPT_AUTH_KEY], uint8_t out[8])
{
    uint8_t h[20];
    SHA1(auth_key, MTP_AUTHCRYPT_AUTH_KEY, h);
    memcpy(out, h, 8);
}

int mtp_authcrypt_new_nonce_hash(const uint8_t new_nonce[MTP_AUTHCRYPT_NEW_NONCE], int number,
                                 const uint8_t auth_key_aux_hash[8], uint8_t out[16], struct mtp_error *err)
{
    if (number < 1 || number > 3)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "new_nonce_hash: number must be 1, 2 or 3, got %d",
                             number);
    uint8_t buf[32 + 1 + 8], h[20];
    memcpy(buf, new_nonce, 32);
    buf[32] = (uint8_t)number;
    memcpy(buf + 33, auth_key_aux_hash, 8);
    SHA1(buf, sizeof buf, h);
    memcpy(out, h + 4, 16);
    mtp_wipe(buf, sizeof buf);
    return MTP_OK;
}

int mtp_authcrypt_new_nonce_hash_key(const uint8_t new_nonce[MTP_AUTHCRYPT_NEW_NONCE], int number,
                                     const uint8_t auth_key[MTP_AUTHCRYPT_AUTH_KEY], uint8_t out[16],
                                     struct mtp_error *err)
{
    uint8_t aux[8];
    mtp_authcrypt_auth_key_aux_hash(auth_key, aux);
    return mtp_authcrypt_new_nonce_hash(new_nonce, number, aux, out, err);
}

void mtp_authcrypt_dh_params_fail_hash(const uint8_t new_nonce[MTP_AUTHCRYPT_NEW_NONCE], uint8_t out[16])
{
    uint8_t h[20];
    SHA1(new_nonce, 32, h);
    memcpy(out, h + 4, 16);
}

void mtp_authcrypt_server_salt(const uint8_t new_nonce[MTP_AUTHCRYPT_NEW_NONCE],
                               const uint8_t server_nonce[MTP_AUTHCRYPT_NONCE], uint8_t salt[8])
{
    for (int i = 0; i < 8; i++)
        salt[i] = new_nonce[i] ^ server_nonce[i];
}
