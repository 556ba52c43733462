/* The (p,q) proof of work of the auth-key exchange (core.telegram.org/mtproto/auth_key, steps 2-3).
 *
 * pq is "a product of two different odd prime numbers", "normally less than or
 * equal to 2^63-1"; the client decomposes it into p < q.  Both sides carry pq,
 * p and q as TL bytes holding big-endian numbers without leading zeros.
 *
 * Every rejection has its own code, and factoring is bounded, so a hostile pq
 * can neither hang the client nor be mistaken for another failure. */
#ifndef MTP_PQ_H
#define MTP_PQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/env.h"
#include "mtp/err.h"

/* Deterministic Miller-Rabin, exact for every 64-bit n. */
bool mtp_pq_is_prime(uint64_t n);

/* Splits pq into primes p < q.  Fails, checked in this order, with
 * MTP_ERR_PQ_TOO_SMALL (pq < 15), MTP_ERR_PQ_EVEN_FACTOR, MTP_ERR_PQ_PRIME,
 * MTP_ERR_PQ_EQUAL_FACTORS (pq = p^2, p prime), MTP_ERR_PQ_NOT_TWO_PRIMES, or
 * MTP_ERR_PQ_FACTOR_FAILED if Pollard-Brent finds no factor within its bound
 * (not expected for 64-bit inputs). */
MTP_MUST_USE int mtp_pq_factor(uint64_t pq, uint64_t *p, uint64_t *q, struct mtp_error *err);

/* The same for pq as received: big-endian bytes, leading zero bytes allowed.
 * More than 8 significant bytes is MTP_ERR_PQ_TOO_LARGE. */
MTP_MUST_USE int mtp_pq_factor_be(const uint8_t *pq, size_t len, uint64_t *p, uint64_t *q, struct mtp_error *err);

/* Server side: draws two distinct primes of exactly p_bits and q_bits bits from
 * env (each 2..32, p_bits + q_bits <= 63 so pq < 2^63 as the spec expects) and
 * returns them ordered (*p < *q) with their product. */
MTP_MUST_USE int mtp_pq_generate(const struct mtp_env *env, unsigned p_bits, unsigned q_bits, uint64_t *pq,
                                 uint64_t *p, uint64_t *q, struct mtp_error *err);
#define MTP_PQ_DEFAULT_BITS 31u /* as in Telegram's examples: two ~31-bit primes, pq < 2^62 */

/* Minimal big-endian encoding (no leading zeros; 0 encodes as one zero byte),
 * the form pq/p/q take inside TL bytes.  Returns the length, 1..8. */
size_t mtp_pq_to_be(uint64_t v, uint8_t out[8]);

#endif
