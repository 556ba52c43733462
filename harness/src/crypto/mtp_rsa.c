#include "mtp/rsa.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/aes_ige.h"
#include "mtp/buf.h"
#include "mtp/tl_prim.h"

struct mtp_rsa_key {
    EVP_PKEY *pkey;
    BIGNUM *n, *e;
    uint8_t n_be[MTP_RSA_BYTES]; /* for the cheap "below the modulus" comparisons */
    bool has_private;
};

static int ossl_fail(struct mtp_error *err, const char *what)
{
    return mtp_error_set(err, MTP_ERR_OSSL, MTP_NO_OFFSET, "%s: an OpenSSL call failed", what);
}

void mtp_rsa_key_free(struct mtp_rsa_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    BN_free(k->n);
    BN_free(k->e);
    free(k);
}

bool mtp_rsa_key_has_private(const struct mtp_rsa_key *k) { return k->has_private; }

/* Takes ownership of pkey: checks it is a usable 2048-bit RSA key and caches n, e. */
static int wrap_pkey(EVP_PKEY *pkey, struct mtp_rsa_key **out, struct mtp_error *err)
{
    struct mtp_rsa_key *k = calloc(1, sizeof *k);
    if (k == NULL) {
        EVP_PKEY_free(pkey);
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "RSA key: out of memory");
    }
    k->pkey = pkey;
    int rc = MTP_OK;
    if (!EVP_PKEY_is_a(pkey, "RSA")) {
        rc = mtp_error_set(err, MTP_ERR_RSA_BAD_KEY, MTP_NO_OFFSET, "RSA key: the key is not an RSA key");
        goto out;
    }
    if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &k->n) ||
        !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &k->e)) {
        rc = mtp_error_set(err, MTP_ERR_RSA_BAD_KEY, MTP_NO_OFFSET, "RSA key: no modulus or public exponent");
        goto out;
    }
    if (BN_num_bits(k->n) != 8 * MTP_RSA_BYTES) {
        rc = mtp_error_set(err, MTP_ERR_RSA_BAD_KEY, MTP_NO_OFFSET, "RSA key: %d-bit modulus, want 2048 bits",
                           BN_num_bits(k->n));
        goto out;
    }
    if (!BN_is_odd(k->e) || BN_num_bits(k->e) < 2 || BN_num_bytes(k->e) > 64) {
        rc = mtp_error_set(err, MTP_ERR_RSA_BAD_KEY, MTP_NO_OFFSET,
                           "RSA key: public exponent must be odd, at least 3 and at most 64 bytes");
        goto out;
    }
    if (BN_bn2binpad(k->n, k->n_be, MTP_RSA_BYTES) != MTP_RSA_BYTES) {
        rc = ossl_fail(err, "RSA key");
        goto out;
    }
    BIGNUM *d = NULL;
    k->has_private = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &d) == 1 && d != NULL;
    BN_clear_free(d);
out:
    if (rc < 0) {
        mtp_rsa_key_free(k);
        return rc;
    }
    *out = k;
    return MTP_OK;
}

int mtp_rsa_key_from_pem(const void *pem, size_t len, struct mtp_rsa_key **out, struct mtp_error *err)
{
    if (len > MTP_RSA_PEM_MAX)
        return mtp_error_set(err, MTP_ERR_RSA_BAD_KEY, MTP_NO_OFFSET, "RSA key: %zu bytes of PEM, at most %u read",
                             len, MTP_RSA_PEM_MAX);
    EVP_PKEY *pkey = NULL;
    /* Selection 0 lets the decoder take any of public key, private key or key
     * pair, and in any RSA structure: PKCS#1, SubjectPublicKeyInfo, PKCS#8. */
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA", 0, NULL, NULL);
    if (dctx == NULL)
        return ossl_fail(err, "RSA key");
    /* An empty passphrase: an encrypted key fails instead of prompting on a terminal. */
    OSSL_DECODER_CTX_set_passphrase(dctx, (const unsigned char *)"", 0);
    const unsigned char *data = pem;
    size_t left = len;
    int ok = len > 0 && OSSL_DECODER_from_data(dctx, &data, &left) == 1 && pkey != NULL;
    OSSL_DECODER_CTX_free(dctx);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return mtp_error_set(err, MTP_ERR_RSA_BAD_KEY, MTP_NO_OFFSET,
                             "RSA key: no unencrypted RSA key in the %zu bytes of PEM", len);
    }
    return wrap_pkey(pkey, out, err);
}

static int pkey_fromdata(OSSL_PARAM_BLD *bld, int selection, EVP_PKEY **pkey)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    int ok = params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, pkey, selection, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return ok;
}

int mtp_rsa_key_from_ne(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len, struct mtp_rsa_key **out,
                        struct mtp_error *err)
{
    if (n_len > 4096 || e_len > 4096)
        return mtp_error_set(err, MTP_ERR_RSA_BAD_KEY, MTP_NO_OFFSET, "RSA key: n or e longer than 4096 bytes");
    BIGNUM *bn = BN_bin2bn(n, (int)n_len, NULL), *be = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    int ok = bn != NULL && be != NULL && bld != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) &&
             pkey_fromdata(bld, EVP_PKEY_PUBLIC_KEY, &pkey);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return mtp_error_set(err, MTP_ERR_RSA_BAD_KEY, MTP_NO_OFFSET, "RSA key: cannot build a key from n and e");
    }
    return wrap_pkey(pkey, out, err);
}

/* A 1024-bit prime with its top two bits set (so that two of them make a
 * 2048-bit modulus) and p - 1 coprime to 65537: a random start from env,
 * then the next such prime. */
static int draw_prime(const struct mtp_env *env, BN_CTX *ctx, BIGNUM *p)
{
    uint8_t raw[MTP_RSA_BYTES / 2];
    int rc = mtp_env_rand(env, raw, sizeof raw);
    if (rc < 0)
        return rc;
    raw[0] |= 0xC0;
    raw[sizeof raw - 1] |= 1;
    BIGNUM *got = BN_bin2bn(raw, sizeof raw, p);
    mtp_wipe(raw, sizeof raw);
    if (got == NULL)
        return MTP_ERR_OSSL;
    /* Prime gaps near 2^1024 average ~710; 100000 steps is far beyond any. */
    for (int step = 0; step < 100000; step++) {
        if (BN_num_bits(p) != 1024)
            return MTP_ERR_INTERNAL;
        if (BN_mod_word(p, 65537) != 1) {
            int r = BN_check_prime(p, ctx, NULL);
            if (r < 0)
                return MTP_ERR_OSSL;
            if (r == 1)
                return MTP_OK;
        }
        if (!BN_add_word(p, 2))
            return MTP_ERR_OSSL;
    }
    return MTP_ERR_INTERNAL;
}

int mtp_rsa_key_generate(const struct mtp_env *env, struct mtp_rsa_key **out, struct mtp_error *err)
{
    BN_CTX *ctx = BN_CTX_secure_new();
    BIGNUM *p = BN_secure_new(), *q = BN_secure_new(), *n = BN_new(), *e = BN_new(), *d = BN_secure_new();
    BIGNUM *p1 = BN_secure_new(), *q1 = BN_secure_new(), *phi = BN_secure_new();
    BIGNUM *dp = BN_secure_new(), *dq = BN_secure_new(), *qinv = BN_secure_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    int rc = MTP_OK;
    if (ctx == NULL || p == NULL || q == NULL || n == NULL || e == NULL || d == NULL || p1 == NULL || q1 == NULL ||
        phi == NULL || dp == NULL || dq == NULL || qinv == NULL || bld == NULL || !BN_set_word(e, 65537)) {
        rc = ossl_fail(err, "RSA keygen");
        goto out;
    }
    do {
        if ((rc = draw_prime(env, ctx, p)) < 0 || (rc = draw_prime(env, ctx, q)) < 0) {
            rc = mtp_error_set(err, rc, MTP_NO_OFFSET, "RSA keygen: cannot draw a 1024-bit prime");
            goto out;
        }
    } while (BN_cmp(p, q) == 0);
    if (!BN_mul(n, p, q, ctx) || !BN_sub(p1, p, BN_value_one()) || !BN_sub(q1, q, BN_value_one()) ||
        !BN_mul(phi, p1, q1, ctx) || BN_mod_inverse(d, e, phi, ctx) == NULL || !BN_mod(dp, d, p1, ctx) ||
        !BN_mod(dq, d, q1, ctx) || BN_mod_inverse(qinv, q, p, ctx) == NULL) {
        rc = ossl_fail(err, "RSA keygen");
        goto out;
    }
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv) ||
        !pkey_fromdata(bld, EVP_PKEY_KEYPAIR, &pkey)) {
        rc = ossl_fail(err, "RSA keygen");
        goto out;
    }
    rc = wrap_pkey(pkey, out, err);
    pkey = NULL;
out:
    EVP_PKEY_free(pkey);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(p);
    BN_clear_free(q);
    BN_free(n);
    BN_free(e);
    BN_clear_free(d);
    BN_clear_free(p1);
    BN_clear_free(q1);
    BN_clear_free(phi);
    BN_clear_free(dp);
    BN_clear_free(dq);
    BN_clear_free(qinv);
    BN_CTX_free(ctx);
    return rc;
}

int mtp_rsa_key_to_pem(const struct mtp_rsa_key *k, bool private_key, char **pem, size_t *len, struct mtp_error *err)
{
    if (private_key && !k->has_private)
        return mtp_error_set(err, MTP_ERR_RSA_NOT_PRIVATE, MTP_NO_OFFSET, "RSA key: no private key to write");
    OSSL_ENCODER_CTX *ectx = OSSL_ENCODER_CTX_new_for_pkey(
        k->pkey, private_key ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, "PEM",
        private_key ? "PrivateKeyInfo" : "type-specific", NULL);
    unsigned char *data = NULL;
    size_t n = 0;
    int ok = ectx != NULL && OSSL_ENCODER_CTX_get_num_encoders(ectx) > 0 && OSSL_ENCODER_to_data(ectx, &data, &n) == 1;
    OSSL_ENCODER_CTX_free(ectx);
    if (!ok)
        return ossl_fail(err, "RSA key PEM");
    char *s = malloc(n + 1);
    if (s == NULL) {
        OPENSSL_clear_free(data, n);
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "RSA key PEM: out of memory");
    }
    memcpy(s, data, n);
    s[n] = '\0';
    OPENSSL_clear_free(data, n);
    *pem = s;
    *len = n;
    return MTP_OK;
}

static int bn_out(const BIGNUM *v, uint8_t *out, size_t cap, size_t *len, struct mtp_error *err, const char *what)
{
    size_t n = (size_t)BN_num_bytes(v);
    if (n > cap)
        return mtp_error_set(err, MTP_ERR_OVERFLOW, MTP_NO_OFFSET, "RSA key %s: %zu bytes, cap %zu", what, n, cap);
    BN_bn2bin(v, out);
    *len = n;
    return MTP_OK;
}

int mtp_rsa_key_n(const struct mtp_rsa_key *k, uint8_t *out, size_t cap, size_t *len, struct mtp_error *err)
{
    return bn_out(k->n, out, cap, len, err, "n");
}

int mtp_rsa_key_e(const struct mtp_rsa_key *k, uint8_t *out, size_t cap, size_t *len, struct mtp_error *err)
{
    return bn_out(k->e, out, cap, len, err, "e");
}

/* memcpy that accepts an empty (possibly NULL) source. */
static void put(uint8_t *dst, const uint8_t *src, size_t n)
{
    if (n)
        memcpy(dst, src, n);
}

static void strip_zeros(const uint8_t **p, size_t *len)
{
    while (*len > 0 && **p == 0) {
        (*p)++;
        (*len)--;
    }
}

int mtp_rsa_fingerprint(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
                        uint8_t fp[MTP_RSA_FINGERPRINT], struct mtp_error *err)
{
    strip_zeros(&n, &n_len);
    strip_zeros(&e, &e_len);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 2 * 4096 + 16, err);
    int rc = mtp_tl_wr_bytes(&w, n, n_len);
    if (rc == MTP_OK)
        rc = mtp_tl_wr_bytes(&w, e, e_len);
    if (rc == MTP_OK) {
        uint8_t h[20];
        SHA1(w.p, w.len, h);
        memcpy(fp, h + 12, MTP_RSA_FINGERPRINT);
    } else {
        rc = mtp_error_set(err, rc, MTP_NO_OFFSET, "RSA fingerprint: n or e too long (%zu, %zu bytes)", n_len, e_len);
    }
    mtp_wr_free(&w);
    return rc;
}

int mtp_rsa_key_fingerprint(const struct mtp_rsa_key *k, uint8_t fp[MTP_RSA_FINGERPRINT], struct mtp_error *err)
{
    uint8_t e[64];
    size_t e_len = 0;
    MTP_GUARD(mtp_rsa_key_e(k, e, sizeof e, &e_len, err));
    return mtp_rsa_fingerprint(k->n_be, MTP_RSA_BYTES, e, e_len, fp, err);
}

static bool below_modulus(const struct mtp_rsa_key *k, const uint8_t v[MTP_RSA_BYTES])
{
    return memcmp(v, k->n_be, MTP_RSA_BYTES) < 0;
}

int mtp_rsa_raw_public(const struct mtp_rsa_key *k, const uint8_t in[MTP_RSA_BYTES], uint8_t out[MTP_RSA_BYTES],
                       struct mtp_error *err)
{
    if (!below_modulus(k, in))
        return mtp_error_set(err, MTP_ERR_RSA_OUT_OF_RANGE, MTP_NO_OFFSET, "RSA: the input is not below the modulus");
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *m = BN_bin2bn(in, MTP_RSA_BYTES, NULL), *r = BN_new();
    int ok = ctx != NULL && m != NULL && r != NULL && BN_mod_exp(r, m, k->e, k->n, ctx) &&
             BN_bn2binpad(r, out, MTP_RSA_BYTES) == MTP_RSA_BYTES;
    BN_clear_free(m);
    BN_free(r);
    BN_CTX_free(ctx);
    return ok ? MTP_OK : ossl_fail(err, "RSA public operation");
}

/* The private operation without padding, through the provider (the deprecated
 * RSA_* calls are not available). */
static int raw_private(const struct mtp_rsa_key *k, const uint8_t *in, size_t in_len, uint8_t out[MTP_RSA_BYTES],
                       struct mtp_error *err)
{
    if (!k->has_private)
        return mtp_error_set(err, MTP_ERR_RSA_NOT_PRIVATE, MTP_NO_OFFSET, "RSA: decryption needs the private key");
    if (in_len != MTP_RSA_BYTES)
        return mtp_error_set(err, MTP_ERR_RSA_BAD_LENGTH, MTP_NO_OFFSET, "RSA: ciphertext is %zu bytes, want %u",
                             in_len, MTP_RSA_BYTES);
    if (!below_modulus(k, in))
        return mtp_error_set(err, MTP_ERR_RSA_OUT_OF_RANGE, MTP_NO_OFFSET,
                             "RSA: ciphertext is not below the modulus");
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    size_t out_len = MTP_RSA_BYTES;
    int ok = ctx != NULL && EVP_PKEY_decrypt_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) == 1 &&
             EVP_PKEY_decrypt(ctx, out, &out_len, in, in_len) == 1 && out_len == MTP_RSA_BYTES;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        mtp_wipe(out, MTP_RSA_BYTES);
        return ossl_fail(err, "RSA private operation");
    }
    return MTP_OK;
}

int mtp_rsa_pad_encrypt(const struct mtp_rsa_key *k, const uint8_t *data, size_t data_len,
                        const uint8_t *random_padding, size_t pad_len, const uint8_t temp_key[MTP_RSA_PAD_TEMP_KEY],
                        uint8_t out[MTP_RSA_BYTES], struct mtp_error *err)
{
    if (data_len > MTP_RSA_PAD_DATA_MAX)
        return mtp_error_set(err, MTP_ERR_RSA_DATA_TOO_LONG, MTP_NO_OFFSET, "RSA_PAD: %zu bytes of data, at most %u",
                             data_len, MTP_RSA_PAD_DATA_MAX);
    if (pad_len != MTP_RSA_PAD_PADDED - data_len)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET,
                             "RSA_PAD: random_padding must be %zu bytes for %zu bytes of data, got %zu",
                             MTP_RSA_PAD_PADDED - data_len, data_len, pad_len);
    /* buf = temp_key || data_with_padding, so one SHA256 covers both. */
    uint8_t buf[MTP_RSA_PAD_TEMP_KEY + MTP_RSA_PAD_PADDED];
    uint8_t with_hash[MTP_RSA_PAD_PADDED + 32]; /* data_pad_reversed || SHA256(...) */
    uint8_t key_aes[MTP_RSA_BYTES];             /* temp_key_xor || aes_encrypted */
    static const uint8_t zero_iv[32];
    uint8_t h[32];
    int rc = MTP_OK;
    memcpy(buf, temp_key, MTP_RSA_PAD_TEMP_KEY);
    put(buf + MTP_RSA_PAD_TEMP_KEY, data, data_len);
    put(buf + MTP_RSA_PAD_TEMP_KEY + data_len, random_padding, pad_len);
    for (size_t i = 0; i < MTP_RSA_PAD_PADDED; i++)
        with_hash[i] = buf[MTP_RSA_PAD_TEMP_KEY + MTP_RSA_PAD_PADDED - 1 - i];
    SHA256(buf, sizeof buf, with_hash + MTP_RSA_PAD_PADDED);
    if ((rc = mtp_aes_ige_encrypt(temp_key, 32, zero_iv, with_hash, key_aes + 32, sizeof with_hash, err)) < 0)
        goto out;
    SHA256(key_aes + 32, sizeof with_hash, h);
    for (size_t i = 0; i < 32; i++)
        key_aes[i] = temp_key[i] ^ h[i];
    if (!below_modulus(k, key_aes)) {
        rc = mtp_error_set(err, MTP_ERR_RSA_RETRY, MTP_NO_OFFSET,
                           "RSA_PAD: key_aes_encrypted is not below the modulus; another temp_key is needed");
        goto out;
    }
    rc = mtp_rsa_raw_public(k, key_aes, out, err);
out:
    mtp_wipe(buf, sizeof buf);
    mtp_wipe(with_hash, sizeof with_hash);
    mtp_wipe(key_aes, sizeof key_aes);
    return rc;
}

int mtp_rsa_pad_encrypt_env(const struct mtp_rsa_key *k, const struct mtp_env *env, const uint8_t *data,
                            size_t data_len, uint8_t out[MTP_RSA_BYTES], struct mtp_error *err)
{
    if (data_len > MTP_RSA_PAD_DATA_MAX)
        return mtp_error_set(err, MTP_ERR_RSA_DATA_TOO_LONG, MTP_NO_OFFSET, "RSA_PAD: %zu bytes of data, at most %u",
                             data_len, MTP_RSA_PAD_DATA_MAX);
    uint8_t padding[MTP_RSA_PAD_PADDED], temp_key[MTP_RSA_PAD_TEMP_KEY];
    size_t pad_len = MTP_RSA_PAD_PADDED - data_len;
    int rc = mtp_env_rand(env, padding, pad_len);
    for (int attempt = 0; rc == MTP_OK && attempt < MTP_RSA_PAD_MAX_TRIES; attempt++) {
        if ((rc = mtp_env_rand(env, temp_key, sizeof temp_key)) < 0)
            break;
        struct mtp_error local;
        mtp_error_clear(&local);
        rc = mtp_rsa_pad_encrypt(k, data, data_len, padding, pad_len, temp_key, out, &local);
        if (rc != MTP_ERR_RSA_RETRY) {
            if (rc < 0)
                mtp_error_set(err, rc, local.offset, "%s", local.msg);
            goto out;
        }
        rc = MTP_OK;
    }
    if (rc == MTP_OK)
        rc = mtp_error_set(err, MTP_ERR_RSA_RETRY, MTP_NO_OFFSET,
                           "RSA_PAD: %d temp_keys in a row gave a value not below the modulus",
                           MTP_RSA_PAD_MAX_TRIES);
    else
        rc = mtp_error_set(err, rc, MTP_NO_OFFSET, "RSA_PAD: no randomness");
out:
    mtp_wipe(padding, sizeof padding);
    mtp_wipe(temp_key, sizeof temp_key);
    return rc;
}

static int pad_decrypt(const struct mtp_rsa_key *k, const uint8_t *in, size_t in_len,
                       uint8_t data_with_padding[MTP_RSA_PAD_PADDED], uint8_t temp_key[MTP_RSA_PAD_TEMP_KEY],
                       bool check_hash, struct mtp_error *err)
{
    uint8_t key_aes[MTP_RSA_BYTES], with_hash[MTP_RSA_PAD_PADDED + 32];
    uint8_t buf[MTP_RSA_PAD_TEMP_KEY + MTP_RSA_PAD_PADDED], h[32];
    static const uint8_t zero_iv[32];
    int rc = raw_private(k, in, in_len, key_aes, err);
    if (rc < 0)
        return rc;
    SHA256(key_aes + 32, sizeof with_hash, h);
    for (size_t i = 0; i < 32; i++)
        buf[i] = key_aes[i] ^ h[i];
    if ((rc = mtp_aes_ige_decrypt(buf, 32, zero_iv, key_aes + 32, with_hash, sizeof with_hash, err)) < 0)
        goto out;
    for (size_t i = 0; i < MTP_RSA_PAD_PADDED; i++)
        buf[MTP_RSA_PAD_TEMP_KEY + i] = with_hash[MTP_RSA_PAD_PADDED - 1 - i];
    SHA256(buf, sizeof buf, h);
    if (check_hash && mtp_ct_memcmp(h, with_hash + MTP_RSA_PAD_PADDED, 32) != 0) {
        rc = mtp_error_set(err, MTP_ERR_RSA_PAD_HASH, MTP_NO_OFFSET,
                           "RSA_PAD: SHA256(temp_key + data_with_padding) does not match the decrypted hash");
        goto out;
    }
    memcpy(data_with_padding, buf + MTP_RSA_PAD_TEMP_KEY, MTP_RSA_PAD_PADDED);
    if (temp_key != NULL)
        memcpy(temp_key, buf, MTP_RSA_PAD_TEMP_KEY);
out:
    mtp_wipe(key_aes, sizeof key_aes);
    mtp_wipe(with_hash, sizeof with_hash);
    mtp_wipe(buf, sizeof buf);
    return rc;
}

int mtp_rsa_pad_decrypt(const struct mtp_rsa_key *k, const uint8_t *in, size_t in_len,
                        uint8_t data_with_padding[MTP_RSA_PAD_PADDED], uint8_t temp_key[MTP_RSA_PAD_TEMP_KEY],
                        struct mtp_error *err)
{
    return pad_decrypt(k, in, in_len, data_with_padding, temp_key, true, err);
}

int mtp_rsa_pad_decrypt_unchecked(const struct mtp_rsa_key *k, const uint8_t *in, size_t in_len,
                                  uint8_t data_with_padding[MTP_RSA_PAD_PADDED], struct mtp_error *err)
{
    return pad_decrypt(k, in, in_len, data_with_padding, NULL, false, err);
}

int mtp_rsa_old_encrypt(const struct mtp_rsa_key *k, const uint8_t *data, size_t data_len,
                        const uint8_t *random_padding, size_t pad_len, uint8_t out[MTP_RSA_BYTES],
                        struct mtp_error *err)
{
    if (data_len > MTP_RSA_OLD_DATA_MAX)
        return mtp_error_set(err, MTP_ERR_RSA_DATA_TOO_LONG, MTP_NO_OFFSET,
                             "old RSA scheme: %zu bytes of data, at most %u", data_len, MTP_RSA_OLD_DATA_MAX);
    if (pad_len != MTP_RSA_OLD_DATA_MAX - data_len)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET,
                             "old RSA scheme: random_padding must be %zu bytes for %zu bytes of data, got %zu",
                             MTP_RSA_OLD_DATA_MAX - data_len, data_len, pad_len);
    /* A leading zero byte keeps the 255 bytes below any 2048-bit modulus. */
    uint8_t buf[MTP_RSA_BYTES];
    buf[0] = 0;
    SHA1(data, data_len, buf + 1);
    put(buf + 21, data, data_len);
    put(buf + 21 + data_len, random_padding, pad_len);
    int rc = mtp_rsa_raw_public(k, buf, out, err);
    mtp_wipe(buf, sizeof buf);
    return rc;
}

int mtp_rsa_old_encrypt_env(const struct mtp_rsa_key *k, const struct mtp_env *env, const uint8_t *data,
                            size_t data_len, uint8_t out[MTP_RSA_BYTES], struct mtp_error *err)
{
    if (data_len > MTP_RSA_OLD_DATA_MAX)
        return mtp_error_set(err, MTP_ERR_RSA_DATA_TOO_LONG, MTP_NO_OFFSET,
                             "old RSA scheme: %zu bytes of data, at most %u", data_len, MTP_RSA_OLD_DATA_MAX);
    uint8_t padding[MTP_RSA_OLD_DATA_MAX];
    size_t pad_len = MTP_RSA_OLD_DATA_MAX - data_len;
    int rc = mtp_env_rand(env, padding, pad_len);
    if (rc < 0)
        return mtp_error_set(err, rc, MTP_NO_OFFSET, "old RSA scheme: no randomness");
    rc = mtp_rsa_old_encrypt(k, data, data_len, padding, pad_len, out, err);
    mtp_wipe(padding, sizeof padding);
    return rc;
}

int mtp_rsa_old_decrypt(const struct mtp_rsa_key *k, const uint8_t *in, size_t in_len,
                        uint8_t data_with_hash[MTP_RSA_OLD_PADDED], struct mtp_error *err)
{
    uint8_t buf[MTP_RSA_BYTES];
    MTP_GUARD(raw_private(k, in, in_len, buf, err));
    int rc = MTP_OK;
    if (buf[0] != 0)
        rc = mtp_error_set(err, MTP_ERR_RSA_OUT_OF_RANGE, MTP_NO_OFFSET,
                           "old RSA scheme: the decrypted value does not fit 255 bytes");
    else
        memcpy(data_with_hash, buf + 1, MTP_RSA_OLD_PADDED);
    mtp_wipe(buf, sizeof buf);
    return rc;
}

int mtp_rsa_old_check(const uint8_t data_with_hash[MTP_RSA_OLD_PADDED], size_t data_len, struct mtp_error *err)
{
    if (data_len > MTP_RSA_OLD_DATA_MAX)
        return mtp_error_set(err, MTP_ERR_RSA_HASH, MTP_NO_OFFSET,
                             "old RSA scheme: %zu bytes of data do not fit after the hash", data_len);
    uint8_t h[20];
    SHA1(data_with_hash + 20, data_len, h);
    if (mtp_ct_memcmp(h, data_with_hash, 20) != 0)
        return mtp_error_set(err, MTP_ERR_RSA_HASH, 0, "old RSA scheme: SHA1 of the %zu bytes of data does not match",
                             data_len);
    return MTP_OK;
}
