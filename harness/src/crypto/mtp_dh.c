#include "mtp/dh.h"

#include <openssl/bn.h>
#include <string.h>

#include "mtp/buf.h"

/* From core.telegram.org/mtproto/samples-auth_key (server_DH_inner_data.dh_prime
 * in both the older and the current worked example). */
const uint8_t mtp_dh_telegram_prime[MTP_DH_BYTES] = {
    0xC7, 0x1C, 0xAE, 0xB9, 0xC6, 0xB1, 0xC9, 0x04, 0x8E, 0x6C, 0x52, 0x2F, 0x70, 0xF1, 0x3F, 0x73, 0x98, 0x0D, 0x40,
    0x23, 0x8E, 0x3E, 0x21, 0xC1, 0x49, 0x34, 0xD0, 0x37, 0x56, 0x3D, 0x93, 0x0F, 0x48, 0x19, 0x8A, 0x0A, 0xA7, 0xC1,
    0x40, 0x58, 0x22, 0x94, 0x93, 0xD2, 0x25, 0x30, 0xF4, 0xDB, 0xFA, 0x33, 0x6F, 0x6E, 0x0A, 0xC9, 0x25, 0x13, 0x95,
    0x43, 0xAE, 0xD4, 0x4C, 0xCE, 0x7C, 0x37, 0x20, 0xFD, 0x51, 0xF6, 0x94, 0x58, 0x70, 0x5A, 0xC6, 0x8C, 0xD4, 0xFE,
    0x6B, 0x6B, 0x13, 0xAB, 0xDC, 0x97, 0x46, 0x51, 0x29, 0x69, 0x32, 0x84, 0x54, 0xF1, 0x8F, 0xAF, 0x8C, 0x59, 0x5F,
    0x64, 0x24, 0x77, 0xFE, 0x96, 0xBB, 0x2A, 0x94, 0x1D, 0x5B, 0xCD, 0x1D, 0x4A, 0xC8, 0xCC, 0x49, 0x88, 0x07, 0x08,
    0xFA, 0x9B, 0x37, 0x8E, 0x3C, 0x4F, 0x3A, 0x90, 0x60, 0xBE, 0xE6, 0x7C, 0xF9, 0xA4, 0xA4, 0xA6, 0x95, 0x81, 0x10,
    0x51, 0x90, 0x7E, 0x16, 0x27, 0x53, 0xB5, 0x6B, 0x0F, 0x6B, 0x41, 0x0D, 0xBA, 0x74, 0xD8, 0xA8, 0x4B, 0x2A, 0x14,
    0xB3, 0x14, 0x4E, 0x0E, 0xF1, 0x28, 0x47, 0x54, 0xFD, 0x17, 0xED, 0x95, 0x0D, 0x59, 0x65, 0xB4, 0xB9, 0xDD, 0x46,
    0x58, 0x2D, 0xB1, 0x17, 0x8D, 0x16, 0x9C, 0x6B, 0xC4, 0x65, 0xB0, 0xD6, 0xFF, 0x9C, 0xA3, 0x92, 0x8F, 0xEF, 0x5B,
    0x9A, 0xE4, 0xE4, 0x18, 0xFC, 0x15, 0xE8, 0x3E, 0xBE, 0xA0, 0xF8, 0x7F, 0xA9, 0xFF, 0x5E, 0xED, 0x70, 0x05, 0x0D,
    0xED, 0x28, 0x49, 0xF4, 0x7B, 0xF9, 0x59, 0xD9, 0x56, 0x85, 0x0C, 0xE9, 0x29, 0x85, 0x1F, 0x0D, 0x81, 0x15, 0xF6,
    0x35, 0xB1, 0x05, 0xEE, 0x2E, 0x4E, 0x15, 0xD0, 0x4B, 0x24, 0x54, 0xBF, 0x6F, 0x4F, 0xAD, 0xF0, 0x34, 0xB1, 0x04,
    0x03, 0x11, 0x9C, 0xD8, 0xE3, 0xB9, 0x2F, 0xCC, 0x5B,
};

static void strip_zeros(const uint8_t **p, size_t *len)
{
    while (*len > 0 && **p == 0) {
        (*p)++;
        (*len)--;
    }
}

bool mtp_dh_prime_is_known(const uint8_t *p, size_t p_len)
{
    strip_zeros(&p, &p_len);
    return p_len == MTP_DH_BYTES && memcmp(p, mtp_dh_telegram_prime, MTP_DH_BYTES) == 0;
}

static int ossl_fail(struct mtp_error *err, const char *what)
{
    return mtp_error_set(err, MTP_ERR_OSSL, MTP_NO_OFFSET, "%s: an OpenSSL BN call failed", what);
}

static int check_prime(const BIGNUM *p, BN_CTX *ctx, struct mtp_error *err)
{
    BIGNUM *low = BN_new();
    if (low == NULL || !BN_set_bit(low, 2047)) {
        BN_free(low);
        return ossl_fail(err, "dh_prime");
    }
    int above = BN_cmp(p, low) > 0;
    BN_free(low);
    if (BN_num_bits(p) != 2048 || !above)
        return mtp_error_set(err, MTP_ERR_DH_PRIME_BAD_SIZE, MTP_NO_OFFSET,
                             "dh_prime: %d bits, not strictly between 2^2047 and 2^2048", BN_num_bits(p));
    int r = BN_check_prime(p, ctx, NULL);
    if (r < 0)
        return ossl_fail(err, "dh_prime");
    if (r == 0)
        return mtp_error_set(err, MTP_ERR_DH_PRIME_NOT_PRIME, MTP_NO_OFFSET, "dh_prime: not prime");
    BIGNUM *q = BN_new();
    if (q == NULL || !BN_rshift1(q, p)) {
        BN_free(q);
        return ossl_fail(err, "dh_prime");
    }
    r = BN_check_prime(q, ctx, NULL);
    BN_free(q);
    if (r < 0)
        return ossl_fail(err, "dh_prime");
    if (r == 0)
        return mtp_error_set(err, MTP_ERR_DH_PRIME_NOT_SAFE, MTP_NO_OFFSET,
                             "dh_prime: prime, but (dh_prime - 1) / 2 is not");
    return MTP_OK;
}

static int check_g(const BIGNUM *p, int64_t g, struct mtp_error *err)
{
    if (g < 2 || g > 7)
        return mtp_error_set(err, MTP_ERR_DH_G_OUT_OF_RANGE, MTP_NO_OFFSET, "g: %lld is not one of 2..7",
                             (long long)g);
    /* The conditions of the auth_key page, step 6: each makes g a quadratic
     * residue, i.e. a generator of the subgroup of order (p-1)/2. */
    BN_ULONG m;
    bool ok;
    switch (g) {
    case 2:
        m = BN_mod_word(p, 8);
        ok = m == 7;
        break;
    case 3:
        m = BN_mod_word(p, 3);
        ok = m == 2;
        break;
    case 4:
        return MTP_OK;
    case 5:
        m = BN_mod_word(p, 5);
        ok = m == 1 || m == 4;
        break;
    case 6:
        m = BN_mod_word(p, 24);
        ok = m == 19 || m == 23;
        break;
    default:
        m = BN_mod_word(p, 7);
        ok = m == 3 || m == 5 || m == 6;
        break;
    }
    if (m == (BN_ULONG)-1)
        return ossl_fail(err, "g");
    if (!ok)
        return mtp_error_set(err, MTP_ERR_DH_G_BAD_RESIDUE, MTP_NO_OFFSET,
                             "g: %lld does not generate the subgroup of order (p-1)/2 (dh_prime mod %d = %lu)",
                             (long long)g, g == 2 ? 8 : g == 6 ? 24 : (int)g, (unsigned long)m);
    return MTP_OK;
}

/* dh_prime (unless !prime), then g (unless !gen), as mtp_dh_check_params orders them. */
static int check_params(const uint8_t *p, size_t p_len, int64_t g, enum mtp_dh_mode mode, bool prime, bool gen,
                        struct mtp_error *err)
{
    if (p_len > 4096)
        return mtp_error_set(err, MTP_ERR_DH_PRIME_BAD_SIZE, MTP_NO_OFFSET, "dh_prime: %zu bytes, want 256", p_len);
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *bp = BN_bin2bn(p, (int)p_len, NULL);
    int rc = MTP_OK;
    if (ctx == NULL || bp == NULL) {
        rc = ossl_fail(err, "dh_prime");
        goto out;
    }
    if (prime && !(mode == MTP_DH_TRUST_KNOWN && mtp_dh_prime_is_known(p, p_len)))
        rc = check_prime(bp, ctx, err);
    if (rc == MTP_OK && gen)
        rc = check_g(bp, g, err);
out:
    BN_free(bp);
    BN_CTX_free(ctx);
    return rc;
}

int mtp_dh_check_params(const uint8_t *p, size_t p_len, int64_t g, enum mtp_dh_mode mode, struct mtp_error *err)
{
    return check_params(p, p_len, g, mode, true, true, err);
}

int mtp_dh_check_prime(const uint8_t *p, size_t p_len, enum mtp_dh_mode mode, struct mtp_error *err)
{
    return check_params(p, p_len, 0, mode, true, false, err);
}

int mtp_dh_check_g(const uint8_t *p, size_t p_len, int64_t g, struct mtp_error *err)
{
    return check_params(p, p_len, g, MTP_DH_FULL, false, true, err);
}

static int check_public(const uint8_t *p, size_t p_len, const uint8_t *x, size_t x_len, const char *name,
                        int code_range, int code_unsafe, bool do_range, bool do_margin, struct mtp_error *err)
{
    strip_zeros(&p, &p_len);
    strip_zeros(&x, &x_len);
    if (p_len > MTP_DH_BYTES)
        return mtp_error_set(err, MTP_ERR_DH_PRIME_BAD_SIZE, MTP_NO_OFFSET, "dh_prime: %zu bytes, want 256", p_len);
    /* Without the range check, a value outside the range is let through
     * whole: the margin is about values inside it. */
    if (x_len > MTP_DH_BYTES)
        return do_range ? mtp_error_set(err, code_range, MTP_NO_OFFSET,
                                        "%s: %zu significant bytes, larger than dh_prime", name, x_len)
                        : MTP_OK;
    BIGNUM *bp = BN_bin2bn(p, (int)p_len, NULL), *bx = BN_bin2bn(x, (int)x_len, NULL);
    BIGNUM *lim = BN_new(), *margin = BN_new();
    int rc = MTP_OK;
    if (bp == NULL || bx == NULL || lim == NULL || margin == NULL) {
        rc = ossl_fail(err, name);
        goto out;
    }
    /* 1 < x < p - 1 */
    if (!BN_sub(lim, bp, BN_value_one())) {
        rc = ossl_fail(err, name);
        goto out;
    }
    if (BN_cmp(bx, BN_value_one()) <= 0 || BN_cmp(bx, lim) >= 0) {
        if (do_range)
            rc = mtp_error_set(err, code_range, MTP_NO_OFFSET, "%s: not in 1 < %s < dh_prime - 1", name, name);
        goto out;
    }
    /* 2^(2048-64) <= x <= p - 2^(2048-64) */
    if (!do_margin)
        goto out;
    if (!BN_set_bit(margin, 2048 - 64) || !BN_sub(lim, bp, margin)) {
        rc = ossl_fail(err, name);
        goto out;
    }
    if (BN_cmp(bx, margin) < 0)
        rc = mtp_error_set(err, code_unsafe, MTP_NO_OFFSET, "%s: below 2^1984", name);
    else if (BN_cmp(bx, lim) > 0)
        rc = mtp_error_set(err, code_unsafe, MTP_NO_OFFSET, "%s: above dh_prime - 2^1984", name);
out:
    BN_free(bp);
    BN_free(bx);
    BN_free(lim);
    BN_free(margin);
    return rc;
}

int mtp_dh_check_ga(const uint8_t *p, size_t p_len, const uint8_t *ga, size_t ga_len, struct mtp_error *err)
{
    return check_public(p, p_len, ga, ga_len, "g_a", MTP_ERR_DH_GA_OUT_OF_RANGE, MTP_ERR_DH_GA_UNSAFE, true, true,
                        err);
}

int mtp_dh_check_gb(const uint8_t *p, size_t p_len, const uint8_t *gb, size_t gb_len, struct mtp_error *err)
{
    return check_public(p, p_len, gb, gb_len, "g_b", MTP_ERR_DH_GB_OUT_OF_RANGE, MTP_ERR_DH_GB_UNSAFE, true, true,
                        err);
}

int mtp_dh_check_ga_parts(const uint8_t *p, size_t p_len, const uint8_t *ga, size_t ga_len, bool range, bool margin,
                          struct mtp_error *err)
{
    return check_public(p, p_len, ga, ga_len, "g_a", MTP_ERR_DH_GA_OUT_OF_RANGE, MTP_ERR_DH_GA_UNSAFE, range, margin,
                        err);
}

int mtp_dh_check(const uint8_t *p, size_t p_len, int64_t g, const uint8_t *ga, size_t ga_len, enum mtp_dh_mode mode,
                 struct mtp_error *err)
{
    MTP_GUARD(mtp_dh_check_params(p, p_len, g, mode, err));
    return mtp_dh_check_ga(p, p_len, ga, ga_len, err);
}

/* out = base^exp mod m as a big-endian number left-padded to out_len bytes;
 * exp is secret (constant-time exponentiation, wiped copy). */
static int modexp_secret(const BIGNUM *base, const uint8_t *exp, size_t exp_len, const BIGNUM *m, uint8_t *out,
                         size_t out_len, struct mtp_error *err, const char *what)
{
    BN_CTX *ctx = BN_CTX_secure_new();
    BIGNUM *e = BN_secure_new(), *r = BN_secure_new();
    int rc = MTP_OK;
    if (ctx == NULL || e == NULL || r == NULL || BN_bin2bn(exp, (int)exp_len, e) == NULL) {
        rc = ossl_fail(err, what);
        goto out;
    }
    BN_set_flags(e, BN_FLG_CONSTTIME);
    if (!BN_mod_exp_mont_consttime(r, base, e, m, ctx, NULL) || BN_bn2binpad(r, out, (int)out_len) < 0)
        rc = ossl_fail(err, what);
out:
    BN_clear_free(e);
    BN_clear_free(r);
    BN_CTX_free(ctx);
    return rc;
}

static int prime_bn(const uint8_t *p, size_t p_len, BIGNUM **out, struct mtp_error *err)
{
    strip_zeros(&p, &p_len);
    if (p_len != MTP_DH_BYTES || (p[MTP_DH_BYTES - 1] & 1) == 0)
        return mtp_error_set(err, MTP_ERR_DH_PRIME_BAD_SIZE, MTP_NO_OFFSET,
                             "dh_prime: %zu significant bytes, want an odd 256-byte number", p_len);
    *out = BN_bin2bn(p, (int)p_len, NULL);
    return *out ? MTP_OK : ossl_fail(err, "dh_prime");
}

int mtp_dh_public(const uint8_t *p, size_t p_len, int64_t g, const uint8_t secret[MTP_DH_BYTES],
                  uint8_t pub[MTP_DH_BYTES], struct mtp_error *err)
{
    if (g < 2 || g > 7)
        return mtp_error_set(err, MTP_ERR_DH_G_OUT_OF_RANGE, MTP_NO_OFFSET, "g: %lld is not one of 2..7",
                             (long long)g);
    BIGNUM *bp = NULL;
    MTP_GUARD(prime_bn(p, p_len, &bp, err));
    BIGNUM *bg = BN_new();
    int rc;
    if (bg == NULL || !BN_set_word(bg, (BN_ULONG)g))
        rc = ossl_fail(err, "g");
    else
        rc = modexp_secret(bg, secret, MTP_DH_BYTES, bp, pub, MTP_DH_BYTES, err, "g^secret");
    BN_free(bg);
    BN_free(bp);
    return rc;
}

int mtp_dh_shared(const uint8_t *p, size_t p_len, const uint8_t *peer, size_t peer_len,
                  const uint8_t secret[MTP_DH_BYTES], uint8_t auth_key[MTP_DH_BYTES], struct mtp_error *err)
{
    BIGNUM *bp = NULL;
    MTP_GUARD(prime_bn(p, p_len, &bp, err));
    strip_zeros(&peer, &peer_len);
    BIGNUM *bx = peer_len <= MTP_DH_BYTES ? BN_bin2bn(peer, (int)peer_len, NULL) : NULL;
    int rc;
    if (peer_len > MTP_DH_BYTES)
        rc = mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "peer value: %zu bytes, longer than dh_prime", peer_len);
    else if (bx == NULL)
        rc = ossl_fail(err, "peer value");
    else
        rc = modexp_secret(bx, secret, MTP_DH_BYTES, bp, auth_key, MTP_DH_BYTES, err, "auth_key");
    BN_free(bx);
    BN_free(bp);
    return rc;
}

int mtp_dh_keypair(const struct mtp_env *env, const uint8_t *p, size_t p_len, int64_t g,
                   uint8_t secret[MTP_DH_BYTES], uint8_t pub[MTP_DH_BYTES], struct mtp_error *err)
{
    for (int attempt = 0; attempt < MTP_DH_KEYGEN_TRIES; attempt++) {
        int rc = mtp_env_rand(env, secret, MTP_DH_BYTES);
        if (rc < 0)
            return mtp_error_set(err, rc, MTP_NO_OFFSET, "DH secret: no randomness");
        rc = mtp_dh_public(p, p_len, g, secret, pub, err);
        if (rc < 0) {
            mtp_wipe(secret, MTP_DH_BYTES);
            return rc;
        }
        struct mtp_error range;
        mtp_error_clear(&range);
        rc = check_public(p, p_len, pub, MTP_DH_BYTES, "own public value", MTP_ERR_DH_GB_OUT_OF_RANGE,
                          MTP_ERR_DH_GB_UNSAFE, true, true, &range);
        if (rc == MTP_OK)
            return MTP_OK;
        if (rc != MTP_ERR_DH_GB_OUT_OF_RANGE && rc != MTP_ERR_DH_GB_UNSAFE) {
            mtp_wipe(secret, MTP_DH_BYTES);
            return mtp_error_set(err, rc, MTP_NO_OFFSET, "%s", range.msg);
        }
    }
    mtp_wipe(secret, MTP_DH_BYTES);
    return mtp_error_set(err, MTP_ERR_DH_KEYGEN, MTP_NO_OFFSET,
                         "DH secret: %d draws all gave a public value outside the safe range", MTP_DH_KEYGEN_TRIES);
}

int mtp_dh_modexp(const uint8_t *base, size_t base_len, const uint8_t *exp, size_t exp_len, const uint8_t *m,
                  size_t m_len, uint8_t *out, size_t cap, size_t *out_len, struct mtp_error *err)
{
    strip_zeros(&m, &m_len);
    if (m_len == 0 || m_len > 1024 || (m[m_len - 1] & 1) == 0 || (m_len == 1 && m[0] == 1))
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "modexp: the modulus must be odd, > 1 and <= 1024 bytes");
    if (base_len > 4096 || exp_len > 4096)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "modexp: base and exponent are limited to 4096 bytes");
    if (cap < m_len)
        return mtp_error_set(err, MTP_ERR_OVERFLOW, MTP_NO_OFFSET, "modexp: result needs up to %zu bytes, cap %zu",
                             m_len, cap);
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *bm = BN_bin2bn(m, (int)m_len, NULL), *bb = BN_bin2bn(base, (int)base_len, NULL);
    uint8_t *tmp = OPENSSL_malloc(m_len);
    int rc;
    if (ctx == NULL || bm == NULL || bb == NULL || tmp == NULL || !BN_nnmod(bb, bb, bm, ctx)) {
        rc = ossl_fail(err, "modexp");
        goto out;
    }
    rc = modexp_secret(bb, exp, exp_len, bm, tmp, m_len, err, "modexp");
    if (rc == MTP_OK) {
        const uint8_t *r = tmp;
        size_t n = m_len;
        strip_zeros(&r, &n);
        if (n == 0) {
            out[0] = 0;
            n = 1;
        } else {
            memmove(out, r, n);
        }
        *out_len = n;
    }
out:
    OPENSSL_clear_free(tmp, m_len);
    BN_free(bb);
    BN_free(bm);
    BN_CTX_free(ctx);
    return rc;
}
