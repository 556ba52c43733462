#include "mtp/pq.h"

#include "mtp/buf.h"

typedef unsigned __int128 u128;

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m) { return (uint64_t)((u128)a * b % m); }

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t m)
{
    uint64_t r = 1 % m;
    b %= m;
    while (e) {
        if (e & 1)
            r = mulmod(r, b, m);
        b = mulmod(b, b, m);
        e >>= 1;
    }
    return r;
}

/* x^2 + c mod n without overflowing when x^2 mod n is close to 2^64. */
static uint64_t rho_step(uint64_t x, uint64_t c, uint64_t n) { return (uint64_t)(((u128)mulmod(x, x, n) + c) % n); }

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

bool mtp_pq_is_prime(uint64_t n)
{
    /* These twelve bases make Miller-Rabin exact below 3.3e24, so for all of uint64_t. */
    static const uint64_t bases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    if (n < 2)
        return false;
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        if (n == bases[i])
            return true;
        if (n % bases[i] == 0)
            return false;
    }
    uint64_t d = n - 1;
    unsigned s = 0;
    while ((d & 1) == 0) {
        d >>= 1;
        s++;
    }
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        uint64_t x = powmod(bases[i], d, n);
        if (x == 1 || x == n - 1)
            continue;
        bool witness = true;
        for (unsigned r = 1; r < s && witness; r++) {
            x = mulmod(x, x, n);
            if (x == n - 1)
                witness = false;
        }
        if (witness)
            return false;
    }
    return true;
}

static uint64_t isqrt(uint64_t n)
{
    uint64_t r = 0;
    for (int bit = 31; bit >= 0; bit--) {
        uint64_t t = r | (uint64_t)1 << bit;
        if (t * t <= n) /* t < 2^32, so t*t cannot overflow */
            r = t;
    }
    return r;
}

/* Pollard's rho with Brent's cycle detection and batched gcds.  The expected
 * work for a 64-bit semiprime is about 2^16 steps; the bounds below allow about
 * fifty times that before giving up, so an unlucky start cannot hang. */
#define BRENT_MAX_STEPS (1u << 22)
#define BRENT_BATCH 128u
#define BRENT_MAX_CONSTANTS 8u

static uint64_t brent(uint64_t n, uint64_t c)
{
    uint64_t y = 2, x = 2, ys = 2, q = 1, g = 1;
    uint64_t r = 1, steps = 0;
    while (g == 1) {
        x = y;
        for (uint64_t i = 0; i < r; i++)
            y = rho_step(y, c, n);
        uint64_t k = 0;
        while (k < r && g == 1) {
            ys = y;
            uint64_t lim = r - k < BRENT_BATCH ? r - k : BRENT_BATCH;
            for (uint64_t i = 0; i < lim; i++) {
                y = rho_step(y, c, n);
                q = mulmod(q, x > y ? x - y : y - x, n);
            }
            g = gcd(q, n);
            k += lim;
        }
        steps += r;
        r <<= 1;
        if (steps > BRENT_MAX_STEPS)
            return 0;
    }
    if (g == n) {
        /* The batch overshot: redo its steps one at a time. */
        do {
            ys = rho_step(ys, c, n);
            g = gcd(x > ys ? x - ys : ys - x, n);
        } while (g == 1);
    }
    return g == n ? 0 : g;
}

int mtp_pq_factor(uint64_t pq, uint64_t *p, uint64_t *q, struct mtp_error *err)
{
    if (pq < 15)
        return mtp_error_set(err, MTP_ERR_PQ_TOO_SMALL, MTP_NO_OFFSET,
                             "pq: %llu is below 15 = 3*5, the smallest product of two distinct odd primes",
                             (unsigned long long)pq);
    if ((pq & 1) == 0)
        return mtp_error_set(err, MTP_ERR_PQ_EVEN_FACTOR, MTP_NO_OFFSET, "pq: %llu is even",
                             (unsigned long long)pq);
    if (mtp_pq_is_prime(pq))
        return mtp_error_set(err, MTP_ERR_PQ_PRIME, MTP_NO_OFFSET, "pq: %llu is prime", (unsigned long long)pq);
    uint64_t r = isqrt(pq);
    if (r * r == pq) {
        if (mtp_pq_is_prime(r))
            return mtp_error_set(err, MTP_ERR_PQ_EQUAL_FACTORS, MTP_NO_OFFSET, "pq: %llu = %llu^2",
                                 (unsigned long long)pq, (unsigned long long)r);
        return mtp_error_set(err, MTP_ERR_PQ_NOT_TWO_PRIMES, MTP_NO_OFFSET,
                             "pq: %llu = %llu^2 with %llu composite", (unsigned long long)pq,
                             (unsigned long long)r, (unsigned long long)r);
    }
    /* Small factors first: rho is slow to find them relative to trial division
     * and they already decide the verdict (pq = 3 * 5 * 7 ...). */
    uint64_t f = 0;
    for (uint64_t d = 3; d < 1000 && d * d <= pq; d += 2)
        if (pq % d == 0) {
            f = d;
            break;
        }
    for (uint64_t c = 1; f == 0 && c <= BRENT_MAX_CONSTANTS; c++)
        f = brent(pq, c);
    if (f == 0)
        return mtp_error_set(err, MTP_ERR_PQ_FACTOR_FAILED, MTP_NO_OFFSET,
                             "pq: no factor of %llu found within the iteration bound", (unsigned long long)pq);
    uint64_t g = pq / f;
    if (!mtp_pq_is_prime(f) || !mtp_pq_is_prime(g))
        return mtp_error_set(err, MTP_ERR_PQ_NOT_TWO_PRIMES, MTP_NO_OFFSET,
                             "pq: %llu = %llu * %llu has more than two prime factors", (unsigned long long)pq,
                             (unsigned long long)f, (unsigned long long)g);
    /* f != g here: squares of primes were caught above. */
    *p = f < g ? f : g;
    *q = f < g ? g : f;
    return MTP_OK;
}

int mtp_pq_factor_be(const uint8_t *pq, size_t len, uint64_t *p, uint64_t *q, struct mtp_error *err)
{
    struct mtp_rd r;
    mtp_rd_init(&r, pq, len, err);
    uint64_t v = 0;
    size_t digits = 0;
    uint8_t b;
    while (mtp_rd_left(&r) > 0) {
        MTP_GUARD(mtp_rd_u8(&r, &b, "pq"));
        if (digits == 0 && b == 0)
            continue;
        if (++digits > 8)
            return mtp_error_set(err, MTP_ERR_PQ_TOO_LARGE, MTP_NO_OFFSET,
                                 "pq: %zu bytes with more than 8 significant ones (over 64 bits)", len);
        v = v << 8 | b;
    }
    return mtp_pq_factor(v, p, q, err);
}

static int random_prime(const struct mtp_env *env, unsigned bits, uint64_t *out)
{
    /* Random odd start with the top bit set, then the next prime of the same
     * size; a start too close to 2^bits just draws again. */
    for (int attempt = 0; attempt < 64; attempt++) {
        uint8_t raw[8];
        MTP_GUARD(mtp_env_rand(env, raw, sizeof raw));
        uint64_t top = (uint64_t)1 << (bits - 1);
        uint64_t v = (mtp_load_u64(raw) & (top - 1)) | top | 1;
        for (; v < top << 1 && v >= top; v += 2)
            if (mtp_pq_is_prime(v)) {
                *out = v;
                return MTP_OK;
            }
    }
    return MTP_ERR_INTERNAL;
}

int mtp_pq_generate(const struct mtp_env *env, unsigned p_bits, unsigned q_bits, uint64_t *pq, uint64_t *p,
                    uint64_t *q, struct mtp_error *err)
{
    if (p_bits < 2 || q_bits < 2 || p_bits > 32 || q_bits > 32 || p_bits + q_bits > 63)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET,
                             "pq: prime sizes %u and %u bits must each be 2..32 and add up to at most 63", p_bits,
                             q_bits);
    /* 2-bit primes are 2 and 3; an odd prime needs an odd start, so 2 never comes out. */
    uint64_t a = 0, b = 0;
    for (int attempt = 0; attempt < 64; attempt++) {
        int rc = random_prime(env, p_bits, &a);
        if (rc == MTP_OK)
            rc = random_prime(env, q_bits, &b);
        if (rc < 0)
            return mtp_error_set(err, rc, MTP_NO_OFFSET, "pq: cannot draw a %u- and a %u-bit prime", p_bits, q_bits);
        if (a != b) {
            *p = a < b ? a : b;
            *q = a < b ? b : a;
            *pq = a * b;
            return MTP_OK;
        }
    }
    return mtp_error_set(err, MTP_ERR_INTERNAL, MTP_NO_OFFSET, "pq: drew equal primes 64 times");
}

size_t mtp_pq_to_be(uint64_t v, uint8_t out[8])
{
    size_t n = 1;
    while (n < 8 && (v >> (8 * n)) != 0)
        n++;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return n;
}
