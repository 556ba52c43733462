/* MTProto 2.0 message encryption: msg_key, the AES key/IV derivation, and
 * the receive-side checks in the order the security guidelines give them. */
#include "mtp/msgcrypt.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/mtp_sha256_internal.h"
#include "mtp/aes_ige.h"

/* SHA-256 fetched once and one digest context, reused for every digest of a
 * call (or of a struct mtp_msgcrypt's life): OpenSSL 3 would otherwise fetch
 * the algorithm at every init, which costs more than hashing a small input. */
struct sha256_ctx {
    EVP_MD *md;
    EVP_MD_CTX *ctx;
    bool shani; /* the SHA extensions: no call into OpenSSL at all (mtp_sha256_shani.c) */
};

static int sha256_open(struct sha256_ctx *h)
{
    h->shani = mtp_sha256_shani_available();
    h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    h->ctx = EVP_MD_CTX_new();
    return h->md && h->ctx ? MTP_OK : MTP_ERR_OSSL;
}

static void sha256_close(struct sha256_ctx *h)
{
    EVP_MD_CTX_free(h->ctx); /* cleanses the hash state */
    EVP_MD_free(h->md);
}

static int sha256_two(struct sha256_ctx *h, const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32])
{
    if (h->shani) {
        mtp_sha256_shani(a, alen, b, blen, out);
        return MTP_OK;
    }
    unsigned int n = 0;
    if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 || EVP_DigestUpdate(h->ctx, a, alen) != 1 ||
        (blen > 0 && EVP_DigestUpdate(h->ctx, b, blen) != 1) || EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != 32)
        return MTP_ERR_OSSL;
    return MTP_OK;
}

static size_t x_of(enum mtp_sender s) { return s == MTP_SENDER_SERVER ? 8 : 0; }

static int ossl_error(struct mtp_error *err, const char *what)
{
    return mtp_error_set(err, MTP_ERR_OSSL, MTP_NO_OFFSET, "%s: an OpenSSL digest call failed", what);
}

void mtp_auth_key_id(const uint8_t auth_key[MTP_AUTH_KEY_LEN], uint8_t id[MTP_AUTH_KEY_ID_LEN])
{
    uint8_t d[20];
    unsigned int n = 0;
    /* A failed digest yields an all-zero id, which no real key has in practice and which then fails every check. */
    if (EVP_Digest(auth_key, MTP_AUTH_KEY_LEN, d, &n, EVP_sha1(), NULL) != 1 || n != 20)
        memset(d, 0, sizeof d);
    memcpy(id, d + 12, MTP_AUTH_KEY_ID_LEN);
}

static int msg_key_with(struct sha256_ctx *h, const uint8_t *auth_key, enum mtp_sender s, const uint8_t *plain,
                        size_t len, uint8_t msg_key[MTP_MSG_KEY_LEN])
{
    uint8_t large[32];
    int rc = sha256_two(h, auth_key + 88 + x_of(s), 32, plain, len, large);
    if (rc == MTP_OK)
        memcpy(msg_key, large + 8, MTP_MSG_KEY_LEN);
    mtp_wipe(large, sizeof large);
    return rc;
}

static int kdf_with(struct sha256_ctx *h, const uint8_t *auth_key, enum mtp_sender s, const uint8_t *msg_key,
                    uint8_t aes_key[32], uint8_t aes_iv[32])
{
    size_t x = x_of(s);
    uint8_t a[32], b[32];
    int rc = sha256_two(h, msg_key, MTP_MSG_KEY_LEN, auth_key + x, 36, a);
    if (rc == MTP_OK)
        rc = sha256_two(h, auth_key + 40 + x, 36, msg_key, MTP_MSG_KEY_LEN, b);
    if (rc == MTP_OK) {
        memcpy(aes_key, a, 8);
        memcpy(aes_key + 8, b + 8, 16);
        memcpy(aes_key + 24, a + 24, 8);
        memcpy(aes_iv, b, 8);
        memcpy(aes_iv + 8, a + 8, 16);
        memcpy(aes_iv + 24, b + 24, 8);
    }
    mtp_wipe(a, sizeof a);
    mtp_wipe(b, sizeof b);
    return rc;
}

int mtp_msg_key(const uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender s, const uint8_t *plain, size_t len,
                uint8_t msg_key[MTP_MSG_KEY_LEN], struct mtp_error *err)
{
    struct sha256_ctx h;
    int rc = sha256_open(&h);
    if (rc == MTP_OK)
        rc = msg_key_with(&h, auth_key, s, plain, len, msg_key);
    sha256_close(&h);
    return rc == MTP_OK ? MTP_OK : ossl_error(err, "msg_key");
}

int mtp_msg_kdf(const uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender s, const uint8_t msg_key[MTP_MSG_KEY_LEN],
                uint8_t aes_key[32], uint8_t aes_iv[32])
{
    struct sha256_ctx h;
    int rc = sha256_open(&h);
    if (rc == MTP_OK)
        rc = kdf_with(&h, auth_key, s, msg_key, aes_key, aes_iv);
    sha256_close(&h);
    return rc;
}

/* Reports a failed write to out in err too (out->err may be another struct or NULL). */
static int output_error(struct mtp_error *err, int rc, size_t need)
{
    return mtp_error_set(err, rc, MTP_NO_OFFSET, "output: cannot take %zu more bytes", need);
}

static int encrypt_with(struct sha256_ctx *h, const uint8_t *auth_key, const uint8_t id[MTP_AUTH_KEY_ID_LEN],
                        enum mtp_sender s, const uint8_t *plain, size_t len, struct mtp_wr *out, struct mtp_error *err)
{
    if (len == 0 || len % MTP_AES_BLOCK_LEN != 0)
        return mtp_error_set(err, MTP_ERR_BAD_PLAINTEXT_LENGTH, MTP_NO_OFFSET,
                             "plaintext: %zu bytes, need a positive multiple of 16", len);
    uint8_t msg_key[MTP_MSG_KEY_LEN], aes_key[32], aes_iv[32];
    uint8_t *ct = NULL;
    size_t start = out->len;
    int rc = MTP_OK;
    if (msg_key_with(h, auth_key, s, plain, len, msg_key) != MTP_OK ||
        kdf_with(h, auth_key, s, msg_key, aes_key, aes_iv) != MTP_OK) {
        rc = ossl_error(err, "msg_encrypt");
        goto out;
    }
    if ((rc = mtp_wr_raw(out, id, MTP_AUTH_KEY_ID_LEN)) < 0 || (rc = mtp_wr_raw(out, msg_key, sizeof msg_key)) < 0 ||
        (rc = mtp_wr_reserve(out, len, &ct)) < 0) {
        rc = output_error(err, rc, MTP_MSG_OUTER_HEADER_LEN + len);
        goto out;
    }
    MTP_TRY(mtp_aes_ige_encrypt(aes_key, sizeof aes_key, aes_iv, plain, ct, len, err));
out:
    mtp_wipe(aes_key, sizeof aes_key);
    mtp_wipe(aes_iv, sizeof aes_iv);
    if (rc < 0) {
        if (out->len > start)
            mtp_wipe(out->p + start, out->len - start);
        out->len = start;
    }
    return rc;
}

/* Header and padding checks on a plaintext whose msg_key verified.  first
 * records the failure; offsets are those of the packet. */
static void check_plaintext(const uint8_t *plain, size_t len, unsigned skip, struct mtp_error *first)
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
        /* Skipped, there is no padding length to check either. */
        if (!(skip & MTP_MSGCRYPT_SKIP_LENGTH))
            mtp_error_set(first, MTP_ERR_BAD_MESSAGE_LENGTH, at,
                          "message_data_length: %u (0x%08x) exceeds the %zu bytes after the header", mdl, mdl, room);
        return;
    }
    if (mdl % 4 != 0 && !(skip & MTP_MSGCRYPT_SKIP_LENGTH)) {
        mtp_error_set(first, MTP_ERR_UNALIGNED_MESSAGE_LENGTH, at, "message_data_length: %u is not a multiple of 4",
                      mdl);
        return;
    }
    size_t pad = room - mdl;
    if ((pad < MTP_MSG_MIN_PADDING || pad > MTP_MSG_MAX_PADDING) && !(skip & MTP_MSGCRYPT_SKIP_PADDING))
        mtp_error_set(first, MTP_ERR_BAD_PADDING_LENGTH, at + 4 + mdl, "padding: %zu bytes, must be 12..1024", pad);
}

static int decrypt_with(struct sha256_ctx *h, const uint8_t *auth_key, const uint8_t want_id[MTP_AUTH_KEY_ID_LEN],
                        enum mtp_sender s, unsigned skip, const uint8_t *packet, size_t len,
                        struct mtp_wr *plain_out, struct mtp_error *err)
{
    /* Failed checks go to `first` (the earliest one stays); the work continues regardless. */
    struct mtp_error first;
    mtp_error_clear(&first);
    struct mtp_rd r;
    mtp_rd_init(&r, packet, len, NULL);
    uint8_t got_id[MTP_AUTH_KEY_ID_LEN] = {0};
    uint8_t got_key[MTP_MSG_KEY_LEN] = {0}, calc_key[MTP_MSG_KEY_LEN];
    bool have_id = mtp_rd_copy(&r, got_id, sizeof got_id, "auth_key_id") == MTP_OK;
    bool have_key = have_id && mtp_rd_copy(&r, got_key, sizeof got_key, "msg_key") == MTP_OK;
    size_t ct_len = have_key ? mtp_rd_left(&r) : 0;
    size_t whole = ct_len - ct_len % MTP_AES_BLOCK_LEN;
    const uint8_t *ct = NULL;
    if (whole > 0 && mtp_rd_raw(&r, whole, &ct, "ciphertext") != MTP_OK)
        return mtp_error_set(err, MTP_ERR_INTERNAL, MTP_NO_OFFSET, "msg_decrypt: ciphertext read failed");

    if (!have_id)
        mtp_error_set(&first, MTP_ERR_AUTH_KEY_ID_MISMATCH, 0, "auth_key_id: packet of %zu bytes is too short", len);
    else if (memcmp(got_id, want_id, MTP_AUTH_KEY_ID_LEN) != 0 && !(skip & MTP_MSGCRYPT_SKIP_AUTH_KEY_ID))
        mtp_error_set(&first, MTP_ERR_AUTH_KEY_ID_MISMATCH, 0, "auth_key_id: 0x%016llx, expected 0x%016llx",
                      (unsigned long long)mtp_load_u64(got_id), (unsigned long long)mtp_load_u64(want_id));
    if (!have_key)
        mtp_error_set(&first, MTP_ERR_BAD_CIPHERTEXT_LENGTH, len, "msg_key: packet of %zu bytes ends before it", len);
    else if (ct_len % MTP_AES_BLOCK_LEN != 0 || ct_len < MTP_MSG_INNER_HEADER_LEN)
        mtp_error_set(&first, MTP_ERR_BAD_CIPHERTEXT_LENGTH, MTP_MSG_OUTER_HEADER_LEN,
                      "ciphertext: %zu bytes, need a multiple of 16 and at least 32", ct_len);

    uint8_t aes_key[32], aes_iv[32];
    uint8_t *plain = NULL;
    size_t start = plain_out->len;
    int rc = MTP_OK;
    if (kdf_with(h, auth_key, s, got_key, aes_key, aes_iv) != MTP_OK) {
        rc = ossl_error(err, "msg_decrypt");
        goto out;
    }
    if (whole > 0 && (rc = mtp_wr_reserve(plain_out, whole, &plain)) < 0) {
        rc = output_error(err, rc, whole);
        goto out;
    }
    MTP_TRY(mtp_aes_ige_decrypt(aes_key, sizeof aes_key, aes_iv, ct, plain, whole, err));
    if (msg_key_with(h, auth_key, s, plain, whole, calc_key) != MTP_OK) {
        rc = ossl_error(err, "msg_decrypt");
        goto out;
    }
    if (mtp_ct_memcmp(calc_key, got_key, sizeof calc_key) != 0 && !(skip & MTP_MSGCRYPT_SKIP_MSG_KEY))
        mtp_error_set(&first, MTP_ERR_MSG_KEY_MISMATCH, MTP_AUTH_KEY_ID_LEN,
                      "msg_key: does not match SHA256 of the auth key part and the decrypted plaintext");
    if (first.code == MTP_OK)
        check_plaintext(plain, whole, skip, &first);
    if (first.code != MTP_OK)
        rc = mtp_error_set(err, first.code, first.offset, "%s", first.msg);
out:
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

int mtp_msg_encrypt(const uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender s, const uint8_t *plain, size_t len,
                    struct mtp_wr *out, struct mtp_error *err)
{
    struct sha256_ctx h;
    uint8_t id[MTP_AUTH_KEY_ID_LEN];
    int rc = sha256_open(&h);
    if (rc == MTP_OK) {
        mtp_auth_key_id(auth_key, id);
        rc = encrypt_with(&h, auth_key, id, s, plain, len, out, err);
    } else {
        rc = ossl_error(err, "msg_encrypt");
    }
    sha256_close(&h);
    return rc;
}

int mtp_msg_decrypt(const uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender s, const uint8_t *packet, size_t len,
                    struct mtp_wr *plain_out, struct mtp_error *err)
{
    struct sha256_ctx h;
    uint8_t id[MTP_AUTH_KEY_ID_LEN];
    int rc = sha256_open(&h);
    if (rc == MTP_OK) {
        mtp_auth_key_id(auth_key, id);
        rc = decrypt_with(&h, auth_key, id, s, 0, packet, len, plain_out, err);
    } else {
        rc = ossl_error(err, "msg_decrypt");
    }
    sha256_close(&h);
    return rc;
}

struct mtp_msgcrypt {
    uint8_t auth_key[MTP_AUTH_KEY_LEN];
    uint8_t id[MTP_AUTH_KEY_ID_LEN];
    struct sha256_ctx h;
};

int mtp_msgcrypt_new(const uint8_t auth_key[MTP_AUTH_KEY_LEN], struct mtp_msgcrypt **out, struct mtp_error *err)
{
    *out = NULL;
    struct mtp_msgcrypt *c = malloc(sizeof *c);
    if (c == NULL)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "msgcrypt: out of memory");
    if (sha256_open(&c->h) != MTP_OK) {
        sha256_close(&c->h);
        free(c);
        return ossl_error(err, "msgcrypt");
    }
    memcpy(c->auth_key, auth_key, MTP_AUTH_KEY_LEN);
    mtp_auth_key_id(auth_key, c->id);
    *out = c;
    return MTP_OK;
}

void mtp_msgcrypt_del(struct mtp_msgcrypt *c)
{
    if (c == NULL)
        return;
    sha256_close(&c->h);
    mtp_wipe(c, sizeof *c);
    free(c);
}

const uint8_t *mtp_msgcrypt_auth_key_id(const struct mtp_msgcrypt *c) { return c->id; }

int mtp_msgcrypt_encrypt(struct mtp_msgcrypt *c, enum mtp_sender s, const uint8_t *plain, size_t len,
                         struct mtp_wr *out, struct mtp_error *err)
{
    return encrypt_with(&c->h, c->auth_key, c->id, s, plain, len, out, err);
}

int mtp_msgcrypt_decrypt(struct mtp_msgcrypt *c, enum mtp_sender s, const uint8_t *packet, size_t len,
                         struct mtp_wr *plain_out, struct mtp_error *err)
{
    return decrypt_with(&c->h, c->auth_key, c->id, s, 0, packet, len, plain_out, err);
}

int mtp_msgcrypt_decrypt_skip(struct mtp_msgcrypt *c, enum mtp_sender s, unsigned skip, const uint8_t *packet,
                              size_t len, struct mtp_wr *plain_out, struct mtp_error *err)
{
    return decrypt_with(&c->h, c->auth_key, c->id, s, skip, packet, len, plain_out, err);
}

int mtp_msg_pad(struct mtp_wr *plain, size_t max_padding, const struct mtp_env *env, struct mtp_error *err)
{
    /* The shortest padding that aligns any length is 12..27 bytes. */
    size_t min_pad = MTP_MSG_MIN_PADDING + (16 - (plain->len + MTP_MSG_MIN_PADDING) % 16) % 16;
    if (max_padding < MTP_MSG_MIN_PADDING + 15 || max_padding > MTP_MSG_MAX_PADDING)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "max_padding: %zu, must be 27..1024", max_padding);
    size_t choices = (max_padding - min_pad) / 16 + 1;
    uint8_t rnd[4];
    MTP_GUARD(mtp_env_rand(env, rnd, sizeof rnd));
    /* At most 63 choices from 32 random bits: the modulo bias is below 2^-26. */
    size_t pad = min_pad + 16 * (mtp_load_u32(rnd) % choices);
    uint8_t *p;
    int rc = mtp_wr_reserve(plain, pad, &p);
    if (rc < 0)
        return output_error(err, rc, pad);
    if ((rc = mtp_env_rand(env, p, pad)) < 0) {
        plain->len -= pad;
        return mtp_error_set(err, rc, MTP_NO_OFFSET, "padding: the random source failed");
    }
    return MTP_OK;
}
