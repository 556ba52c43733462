/* MTProto 1.0 message encryption (mtp/msgcrypt_v1.h), kept for the binding
 * message of auth.bindTempAuthKey.  The discipline is that of mtp_msgcrypt.c:
 * every check computed, the first failure reported, msg_key compared in
 * constant time, secrets wiped. */
#include "mtp/msgcrypt_v1.h"

#include <openssl/evp.h>
#include <string.h>

#include "mtp/aes_ige.h"

#define SHA1_LEN 20

/* SHA-1 fetched once per call, with one context for the five digests. */
struct sha1_ctx {
    EVP_MD *md;
    EVP_MD_CTX *ctx;
};

static int sha1_open(struct sha1_ctx *h)
{
    h->md = EVP_MD_fetch(NULL, "SHA1", NULL);
    h->ctx = EVP_MD_CTX_new();
    return h->md && h->ctx ? MTP_OK : MTP_ERR_OSSL;
}

static void sha1_close(struct sha1_ctx *h)
{
    EVP_MD_CTX_free(h->ctx); /* cleanses the hash state */
    EVP_MD_free(h->md);
}

/* SHA1 of up to three concatenated parts (NULL parts are skipped). */
static int sha1_parts(struct sha1_ctx *h, const void *a, size_t alen, const void *b, size_t blen, const void *c,
                      size_t clen, uint8_t out[SHA1_LEN])
{
    unsigned int n = 0;
    if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 || (alen > 0 && EVP_DigestUpdate(h->ctx, a, alen) != 1) ||
        (blen > 0 && EVP_DigestUpdate(h->ctx, b, blen) != 1) || (clen > 0 && EVP_DigestUpdate(h->ctx, c, clen) != 1) ||
        EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != SHA1_LEN)
        return MTP_ERR_OSSL;
    return MTP_OK;
}

static size_t x_of(enum mtp_sender s) { return s == MTP_SENDER_SERVER ? 8 : 0; }

static int ossl_error(struct mtp_error *err, const char *what)
{
    return mtp_error_set(err, MTP_ERR_OSSL, MTP_NO_OFFSET, "%s: an OpenSSL digest call failed", what);
}

static int key_with(struct sha1_ctx *h, const uint8_t *plain, size_t len, uint8_t msg_key[MTP_MSG_KEY_LEN])
{
    uint8_t d[SHA1_LEN];
    int rc = sha1_parts(h, plain, len, NULL, 0, NULL, 0, d);
    if (rc == MTP_OK)
        memcpy(msg_key, d + SHA1_LEN - MTP_MSG_KEY_LEN, MTP_MSG_KEY_LEN);
    mtp_wipe(d, sizeof d);
    return rc;
}

static int kdf_with(struct sha1_ctx *h, const uint8_t *auth_key, enum mtp_sender s, const uint8_t *msg_key,
                    uint8_t aes_key[32], uint8_t aes_iv[32])
{
    const size_t x = x_of(s), mk = MTP_MSG_KEY_LEN;
    uint8_t a[SHA1_LEN], b[SHA1_LEN], c[SHA1_LEN], d[SHA1_LEN];
    int rc = sha1_parts(h, msg_key, mk, auth_key + x, 32, NULL, 0, a);
    if (rc == MTP_OK)
        rc = sha1_parts(h, auth_key + 32 + x, 16, msg_key, mk, auth_key + 48 + x, 16, b);
    if (rc == MTP_OK)
        rc = sha1_parts(h, auth_key + 64 + x, 32, msg_key, mk, NULL, 0, c);
    if (rc == MTP_OK)
        rc = sha1_parts(h, msg_key, mk, auth_key + 96 + x, 32, NULL, 0, d);
    if (rc == MTP_OK) {
        memcpy(aes_key, a, 8);
        memcpy(aes_key + 8, b + 8, 12);
        memcpy(aes_key + 20, c + 4, 12);
        memcpy(aes_iv, a + 8, 12);
        memcpy(aes_iv + 12, b, 8);
        memcpy(aes_iv + 20, c + 16, 4);
        memcpy(aes_iv + 24, d, 8);
    }
    mtp_wipe(a, sizeof a);
    mtp_wipe(b, sizeof b);
    mtp_wipe(c, sizeof c);
    mtp_wipe(d, sizeof d);
    return rc;
}

int mtp_msg_v1_key(const uint8_t *plain, size_t len, uint8_t msg_key[MTP_MSG_KEY_LEN], struct mtp_error *err)
{
    struct sha1_ctx h;
    int rc = sha1_open(&h);
    if (rc == MTP_OK)
        rc = key_with(&h, plain, len, msg_key);
    sha1_close(&h);
    return rc == MTP_OK ? MTP_OK : ossl_error(err, "msg_v1_key");
}

int mtp_msg_v1_kdf(const uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender s,
                   const uint8_t msg_key[MTP_MSG_KEY_LEN], uint8_t aes_key[32], uint8_t aes_iv[32])
{
    struct sha1_ctx h;
    int rc = sha1_open(&h);
    if (rc == MTP_OK)
        rc = kdf_with(&h, auth_key, s, msg_key, aes_key, aes_iv);
    sha1_close(&h);
    return rc;
}

/* How many bytes of a (decrypted or to be encrypted) plaintext msg_key covers:
 * the header and message_data_length bytes of data, never more than there is. */
static size_t hashed_len(const uint8_t *plain, size_t len)
{
    struct mtp_rd r;
    mtp_rd_init(&r, plain, len, NULL);
    uint32_t mdl;
    if (mtp_rd_skip(&r, 28, "header") != MTP_OK || mtp_rd_u32(&r, &mdl, "message_data_length") != MTP_OK)
        return len;
    size_t room = mtp_rd_left(&r);
    return MTP_MSG_INNER_HEADER_LEN + (mdl < room ? mdl : room);
}

int mtp_msg_v1_encrypt(const uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender s, const uint8_t *plain, size_t len,
                       struct mtp_wr *out, struct mtp_error *err)
{
    if (len < MTP_MSG_INNER_HEADER_LEN || len % MTP_AES_BLOCK_LEN != 0)
        return mtp_error_set(err, MTP_ERR_BAD_PLAINTEXT_LENGTH, MTP_NO_OFFSET,
                             "plaintext: %zu bytes, need a multiple of 16 that holds the 32-byte header", len);
    struct sha1_ctx h;
    uint8_t id[MTP_AUTH_KEY_ID_LEN], msg_key[MTP_MSG_KEY_LEN], aes_key[32], aes_iv[32];
    uint8_t *ct = NULL;
    size_t start = out->len;
    int rc = sha1_open(&h);
    if (rc != MTP_OK || key_with(&h, plain, hashed_len(plain, len), msg_key) != MTP_OK ||
        kdf_with(&h, auth_key, s, msg_key, aes_key, aes_iv) != MTP_OK) {
        rc = ossl_error(err, "msg_v1_encrypt");
        goto out;
    }
    mtp_auth_key_id(auth_key, id);
    if ((rc = mtp_wr_raw(out, id, sizeof id)) < 0 || (rc = mtp_wr_raw(out, msg_key, sizeof msg_key)) < 0 ||
        (rc = mtp_wr_reserve(out, len, &ct)) < 0) {
        rc = mtp_error_set(err, rc, MTP_NO_OFFSET, "output: cannot take %zu more bytes",
                           MTP_MSG_OUTER_HEADER_LEN + len);
        goto out;
    }
    MTP_TRY(mtp_aes_ige_encrypt(aes_key, sizeof aes_key, aes_iv, plain, ct, len, err));
out:
    sha1_close(&h);
    mtp_wipe(aes_key, sizeof aes_key);
    mtp_wipe(aes_iv, sizeof aes_iv);
    if (rc < 0) {
        if (out->len > start)
            mtp_wipe(out->p + start, out->len - start);
        out->len = start;
    }
    return rc;
}

/* Header and padding checks on a plaintext whose msg_key verified; offsets are the packet's. */
static void check_plaintext(const uint8_t *plain, size_t len, struct mtp_error *first)
{
    const size_t at = MTP_MSG_OUTER_HEADER_LEN + 28;
    struct mtp_rd r;
    mtp_rd_init(&r, plain, len, NULL);
    uint32_t mdl;
    if (mtp_rd_skip(&r, 28, "header") != MTP_OK || mtp_rd_u32(&r, &mdl, "message_data_length") != MTP_OK) {
        mtp_error_set(first, MTP_ERR_BAD_CIPHERTEXT_LENGTH, MTP_MSG_OUTER_HEADER_LEN,
                      "ciphertext: %zu bytes cannot hold the 32-byte header", len);
        return;
    }
    size_t room = mtp_rd_left(&r);
    if (mdl > room) {
        mtp_error_set(first, MTP_ERR_BAD_MESSAGE_LENGTH, at,
                      "message_data_length: %u (0x%08x) exceeds the %zu bytes after the header", mdl, mdl, room);
        return;
    }
    if (mdl % 4 != 0) {
        mtp_error_set(first, MTP_ERR_UNALIGNED_MESSAGE_LENGTH, at, "message_data_length: %u is not a multiple of 4",
                      mdl);
        return;
    }
    size_t pad = room - mdl;
    if (pad > MTP_MSG_V1_MAX_PADDING)
        mtp_error_set(first, MTP_ERR_V1_BAD_PADDING_LENGTH, at + 4 + mdl,
                      "padding: %zu bytes, MTProto 1.0 pads with 0..15", pad);
}

int mtp_msg_v1_decrypt(const uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender s, const uint8_t *packet,
                       size_t len, struct mtp_wr *plain_out, struct mtp_error *err)
{
    /* Failed checks go to `first` (the earliest one stays); the work continues regardless. */
    struct mtp_error first;
    mtp_error_clear(&first);
    struct mtp_rd r;
    mtp_rd_init(&r, packet, len, NULL);
    uint8_t want_id[MTP_AUTH_KEY_ID_LEN], got_id[MTP_AUTH_KEY_ID_LEN] = {0};
    uint8_t got_key[MTP_MSG_KEY_LEN] = {0}, calc_key[MTP_MSG_KEY_LEN];
    bool have_id = mtp_rd_copy(&r, got_id, sizeof got_id, "auth_key_id") == MTP_OK;
    bool have_key = have_id && mtp_rd_copy(&r, got_key, sizeof got_key, "msg_key") == MTP_OK;
    size_t ct_len = have_key ? mtp_rd_left(&r) : 0;
    size_t whole = ct_len - ct_len % MTP_AES_BLOCK_LEN;
    const uint8_t *ct = NULL;
    if (whole > 0 && mtp_rd_raw(&r, whole, &ct, "ciphertext") != MTP_OK)
        return mtp_error_set(err, MTP_ERR_INTERNAL, MTP_NO_OFFSET, "msg_v1_decrypt: ciphertext read failed");

    mtp_auth_key_id(auth_key, want_id);
    if (!have_id)
        mtp_error_set(&first, MTP_ERR_AUTH_KEY_ID_MISMATCH, 0, "auth_key_id: packet of %zu bytes is too short", len);
    else if (memcmp(got_id, want_id, MTP_AUTH_KEY_ID_LEN) != 0)
        mtp_error_set(&first, MTP_ERR_AUTH_KEY_ID_MISMATCH, 0, "auth_key_id: 0x%016llx, expected 0x%016llx",
                      (unsigned long long)mtp_load_u64(got_id), (unsigned long long)mtp_load_u64(want_id));
    if (!have_key)
        mtp_error_set(&first, MTP_ERR_BAD_CIPHERTEXT_LENGTH, len, "msg_key: packet of %zu bytes ends before it", len);
    else if (ct_len % MTP_AES_BLOCK_LEN != 0 || ct_len < MTP_MSG_INNER_HEADER_LEN)
        mtp_error_set(&first, MTP_ERR_BAD_CIPHERTEXT_LENGTH, MTP_MSG_OUTER_HEADER_LEN,
                      "ciphertext: %zu bytes, need a multiple of 16 and at least 32", ct_len);

    struct sha1_ctx h;
    uint8_t aes_key[32], aes_iv[32];
    uint8_t *plain = NULL;
    size_t start = plain_out->len;
    int rc = sha1_open(&h);
    if (rc != MTP_OK || kdf_with(&h, auth_key, s, got_key, aes_key, aes_iv) != MTP_OK) {
        rc = ossl_error(err, "msg_v1_decrypt");
        goto out;
    }
    if (whole > 0 && (rc = mtp_wr_reserve(plain_out, whole, &plain)) < 0) {
        rc = mtp_error_set(err, rc, MTP_NO_OFFSET, "output: cannot take %zu more bytes", whole);
        goto out;
    }
    MTP_TRY(mtp_aes_ige_decrypt(aes_key, sizeof aes_key, aes_iv, ct, plain, whole, err));
    if (key_with(&h, plain, hashed_len(plain, whole), calc_key) != MTP_OK) {
        rc = ossl_error(err, "msg_v1_decrypt");
        goto out;
    }
    if (mtp_ct_memcmp(calc_key, got_key, sizeof calc_key) != 0)
        mtp_error_set(&first, MTP_ERR_V1_MSG_KEY_MISMATCH, MTP_AUTH_KEY_ID_LEN,
                      "msg_key: does not match SHA1 of the decrypted plaintext without its padding");
    if (first.code == MTP_OK)
        check_plaintext(plain, whole, &first);
    if (first.code != MTP_OK)
        rc = mtp_error_set(err, first.code, first.offset, "%s", first.msg);
out:
    sha1_close(&h);
    mtp_wipe(aes_key, sizeof aes_key);
    mtp_wipe(aes_iv, sizeof aes_iv);
    mtp_wipe(calc_key, sizeof calc_key);
    if (rc < 0) {
        if (plain != NULL)
            mtp_wipe(plain, whole);
        if (plain_out->len > start)
            plain_out->len = start;
    }
    return rc;
}

int mtp_msg_v1_pad(struct mtp_wr *plain, const struct mtp_env *env, struct mtp_error *err)
{
    size_t pad = (MTP_AES_BLOCK_LEN - plain->len % MTP_AES_BLOCK_LEN) % MTP_AES_BLOCK_LEN;
    if (pad == 0)
        return MTP_OK;
    uint8_t *p;
    int rc = mtp_wr_reserve(plain, pad, &p);
    if (rc < 0)
        return mtp_error_set(err, rc, MTP_NO_OFFSET, "output: cannot take %zu more bytes", pad);
    if ((rc = mtp_env_rand(env, p, pad)) < 0) {
        plain->len -= pad;
        return mtp_error_set(err, rc, MTP_NO_OFFSET, "padding: the random source failed");
    }
    return MTP_OK;
}
