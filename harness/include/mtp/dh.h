/* Diffie-Hellman of the auth-key exchange (core.telegram.org/mtproto/auth_key
 * steps 6-8, and /mtproto/security_guidelines "Validation of DH parameters").
 *
 * All numbers are big-endian byte strings (leading zeros allowed in inputs);
 * outputs are 256 bytes, left-padded with zeros.  Secret exponents are used
 * with BN_mod_exp_mont_consttime and wiped. */
#ifndef MTP_DH_H
#define MTP_DH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/env.h"
#include "mtp/err.h"

#define MTP_DH_BYTES 256u

/* Telegram's published 2048-bit safe prime (the dh_prime of the
 * samples-auth_key examples; generator g = 3 in the current one). */
extern const uint8_t mtp_dh_telegram_prime[MTP_DH_BYTES];

/* Primality testing two 2048-bit numbers takes a noticeable fraction of a
 * second.  The spec allows embedding known-good primes: with MTP_DH_TRUST_KNOWN
 * a prime equal byte for byte to a known one skips the tests (any other prime
 * gets them all); MTP_DH_FULL always runs them. */
enum mtp_dh_mode { MTP_DH_TRUST_KNOWN, MTP_DH_FULL };

/* True when p (leading zeros ignored) is exactly one of the embedded primes. */
bool mtp_dh_prime_is_known(const uint8_t *p, size_t p_len);

/* Checks dh_prime and g, in this order: MTP_ERR_DH_PRIME_BAD_SIZE
 * (not 2^2047 < p < 2^2048), MTP_ERR_DH_PRIME_NOT_PRIME, MTP_ERR_DH_PRIME_NOT_SAFE
 * ((p-1)/2 composite), MTP_ERR_DH_G_OUT_OF_RANGE (g not in 2..7),
 * MTP_ERR_DH_G_BAD_RESIDUE (g=2: p mod 8 = 7; g=3: p mod 3 = 2; g=4: none;
 * g=5: p mod 5 in {1,4}; g=6: p mod 24 in {19,23}; g=7: p mod 7 in {3,5,6}). */
MTP_MUST_USE int mtp_dh_check_params(const uint8_t *p, size_t p_len, int64_t g, enum mtp_dh_mode mode,
                                     struct mtp_error *err);
/* Range checks of the peer's public value: 1 < x < p - 1, then
 * 2^(2048-64) <= x <= p - 2^(2048-64).  The client checks g_a
 * (MTP_ERR_DH_GA_OUT_OF_RANGE / MTP_ERR_DH_GA_UNSAFE); the server checks g_b
 * (MTP_ERR_DH_GB_OUT_OF_RANGE / MTP_ERR_DH_GB_UNSAFE).  p is not re-validated. */
MTP_MUST_USE int mtp_dh_check_ga(const uint8_t *p, size_t p_len, const uint8_t *ga, size_t ga_len,
                                 struct mtp_error *err);
MTP_MUST_USE int mtp_dh_check_gb(const uint8_t *p, size_t p_len, const uint8_t *gb, size_t gb_len,
                                 struct mtp_error *err);
/* The checks above one by one, for a client that leaves some out on purpose
 * (the seeded faults of the reference client): dh_prime alone (size, then
 * primality and safety unless mode trusts a known prime), g alone (2..7 and its
 * residue condition; p is only reduced, not validated), and g_a's range
 * 1 < g_a < p - 1 and/or its margin 2^(2048-64) <= g_a <= p - 2^(2048-64).
 * Without the range check a g_a outside the range passes (the margin check
 * applies to values inside it), so that each fault is seen by its own cases. */
MTP_MUST_USE int mtp_dh_check_prime(const uint8_t *p, size_t p_len, enum mtp_dh_mode mode, struct mtp_error *err);
MTP_MUST_USE int mtp_dh_check_g(const uint8_t *p, size_t p_len, int64_t g, struct mtp_error *err);
MTP_MUST_USE int mtp_dh_check_ga_parts(const uint8_t *p, size_t p_len, const uint8_t *ga, size_t ga_len, bool range,
                                       bool margin, struct mtp_error *err);
/* Everything the client checks about server_DH_inner_data: params, then g_a. */
MTP_MUST_USE int mtp_dh_check(const uint8_t *p, size_t p_len, int64_t g, const uint8_t *ga, size_t ga_len,
                              enum mtp_dh_mode mode, struct mtp_error *err);

/* Draws a 2048-bit secret (a or b) from env and computes pub = g^secret mod p,
 * drawing again (at most MTP_DH_KEYGEN_TRIES times) while pub falls outside
 * the safe range, as the spec asks of the client.  p and g are assumed
 * checked.  secret must be wiped by the caller. */
#define MTP_DH_KEYGEN_TRIES 16
MTP_MUST_USE int mtp_dh_keypair(const struct mtp_env *env, const uint8_t *p, size_t p_len, int64_t g,
                                uint8_t secret[MTP_DH_BYTES], uint8_t pub[MTP_DH_BYTES], struct mtp_error *err);
/* pub = g^secret mod p (secret: exactly 256 bytes, constant-time). */
MTP_MUST_USE int mtp_dh_public(const uint8_t *p, size_t p_len, int64_t g, const uint8_t secret[MTP_DH_BYTES],
                               uint8_t pub[MTP_DH_BYTES], struct mtp_error *err);
/* auth_key = peer^secret mod p (constant-time in secret).  The peer value is
 * not range-checked here: call mtp_dh_check_ga / _gb first. */
MTP_MUST_USE int mtp_dh_shared(const uint8_t *p, size_t p_len, const uint8_t *peer, size_t peer_len,
                               const uint8_t secret[MTP_DH_BYTES], uint8_t auth_key[MTP_DH_BYTES],
                               struct mtp_error *err);
/* Generic modular exponentiation for known-answer tests: out = base^exp mod m,
 * big-endian, no leading zeros (*out_len <= cap; a zero result is one 0 byte).
 * m must be odd and > 1 (MTP_ERR_ARG); exp is treated as secret. */
MTP_MUST_USE int mtp_dh_modexp(const uint8_t *base, size_t base_len, const uint8_t *exp, size_t exp_len,
                               const uint8_t *m, size_t m_len, uint8_t *out, size_t cap, size_t *out_len,
                               struct mtp_error *err);

#endif
