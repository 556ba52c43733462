/* Target functions: mtp_pq_factor_be (and so mtp_pq_factor, mtp_pq_is_prime)
 * Input: resPQ.pq as received: big-endian bytes, any length.
 * Oracles: it always returns (bounded work); an acceptance gives primes p < q with p * q = pq;
 * a rejection is one of the pq codes, and for pq < 2^32 it is exactly the verdict of an
 * independent trial-division factorisation. */
#include <stdint.h>

#include "mtp/pq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The expected code for a 32-bit value, by trial division. */
static int expected(uint64_t v)
{
    if (v < 15)
        return MTP_ERR_PQ_TOO_SMALL;
    if (v % 2 == 0)
        return MTP_ERR_PQ_EVEN_FACTOR;
    uint64_t f[64];
    size_t n = 0;
    uint64_t r = v;
    for (uint64_t d = 3; d * d <= r; d += 2)
        while (r % d == 0) {
            f[n++] = d;
            r /= d;
        }
    if (r > 1)
        f[n++] = r;
    if (n == 1)
        return MTP_ERR_PQ_PRIME;
    if (n == 2)
        return f[0] == f[1] ? MTP_ERR_PQ_EQUAL_FACTORS : MTP_OK;
    return MTP_ERR_PQ_NOT_TWO_PRIMES;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    uint64_t p = 0, q = 0;
    int rc = mtp_pq_factor_be(data, size, &p, &q, &err);
    size_t sig = size, i = 0;
    while (i < size && data[i] == 0) {
        i++;
        sig--;
    }
    uint64_t v = 0;
    for (; i < size && sig <= 8; i++)
        v = v << 8 | data[i];
    if (sig > 8) {
        if (rc != MTP_ERR_PQ_TOO_LARGE)
            __builtin_trap();
        return 0;
    }
    if (rc == MTP_OK) {
        if (!(p < q) || !mtp_pq_is_prime(p) || !mtp_pq_is_prime(q) || (unsigned __int128)p * q != v)
            __builtin_trap();
    } else if (rc > MTP_ERR_PQ_TOO_LARGE || rc < MTP_ERR_PQ_FACTOR_FAILED || err.code != rc) {
        __builtin_trap();
    }
    if (v < (1ull << 32) && rc != expected(v))
        __builtin_trap();
    return 0;
}
