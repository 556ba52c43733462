/* The client side of the auth-key exchange (core.telegram.org/mtproto/auth_key,
 * checks from /mtproto/security_guidelines), sans-IO.
 *
 *   c = mtp_auth_client_new(&cfg, &env)
 *   mtp_auth_client_start(c, out)          -> req_pq_multi (or req_pq)
 *   mtp_auth_client_recv(c, resPQ, out)    -> req_DH_params
 *   mtp_auth_client_recv(c, server_DH_params_ok, out) -> set_client_DH_params
 *   mtp_auth_client_recv(c, dh_gen_ok, out)           -> nothing; state DONE
 *   (dh_gen_retry -> another set_client_DH_params with a new b)
 *   mtp_auth_client_result(c, &res)
 *
 * Bodies in, bodies out (see mtp/auth.h for the envelope).  Every random value
 * comes from env.rand, in this order: nonce (16); new_nonce (32); the RSA
 * padding then temp_key (RSA_PAD, another temp_key while the value is not
 * below the modulus) or the padding (old scheme); b (256, again while g_b is
 * outside the safe range); the padding of client_DH_inner_data; per retry b
 * and padding again.  A scripted env therefore replays a recorded exchange.
 *
 * Any rejected message fails the exchange for good (security_guidelines:
 * "completely discard the message", restart the key generation): the state
 * becomes FAILED, the error names the check, and later calls return
 * MTP_ERR_AUTH_BAD_STATE. */
#ifndef MTP_AUTH_CLIENT_H
#define MTP_AUTH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/auth.h"
#include "mtp/dh.h"
#include "mtp/env.h"
#include "mtp/err.h"
#include "mtp/rsa.h"

/* Checks a client leaves out on purpose: the seeded faults of the reference
 * client, which prove that a conformance suite notices each one missing.
 * Bits MTP_AUTH_CF(f) of mtp_auth_client_behaviour.faults. */
enum mtp_auth_client_fault {
    MTP_AUTH_CF_SKIP_DH_PRIME,         /* dh_prime not checked (size, primality, safety) */
    MTP_AUTH_CF_SKIP_G,                /* g not checked (2..7, residue); any g is used */
    MTP_AUTH_CF_SKIP_GA_RANGE,         /* 1 < g_a < dh_prime - 1 not checked */
    MTP_AUTH_CF_SKIP_GA_MARGIN,        /* 2^(2048-64) <= g_a <= dh_prime - 2^(2048-64) not checked */
    MTP_AUTH_CF_FIXED_B,               /* b is 256 bytes of 0x42 at every attempt */
    MTP_AUTH_CF_ACCEPT_WRONG_NONCE,    /* the nonce / server_nonce echoes are not compared */
    MTP_AUTH_CF_SKIP_ANSWER_HASH,      /* answer_with_hash: SHA1, padding and length not checked */
    MTP_AUTH_CF_SKIP_NEW_NONCE_HASH,   /* new_nonce_hash1/2/3 not compared */
    MTP_AUTH_CF_RETRY_ID_ZERO,         /* retry_id 0 after dh_gen_retry */
    MTP_AUTH_CF_ACCEPT_BAD_PQ,         /* a pq that is not two distinct primes: go on with p = 1, q = pq */
    MTP_AUTH_CF_ACCEPT_UNKNOWN_KEY,    /* no listed fingerprint is the client's: use its first key anyway */
};
#define MTP_AUTH_CF(f) (1u << (f))

/* A client that misbehaves on purpose, to test servers.  All zero = correct. */
struct mtp_auth_client_behaviour {
    uint32_t faults;    /* MTP_AUTH_CF(f) bits: checks left out (seeded faults) */
    uint64_t corrupt;   /* MTP_AUTH_CORRUPT(point) of client points */
    const uint8_t *g_b; /* sent instead of the real g_b (big-endian, any length) */
    size_t g_b_len;
    /* Sent, RSA-encrypted, instead of the p_q_inner_data the client builds
     * (any bytes, at most 144 for RSA_PAD, 235 for the old scheme). */
    const uint8_t *pq_inner;
    size_t pq_inner_len;
    /* Sent, hashed and AES-encrypted, instead of client_DH_inner_data. */
    const uint8_t *client_inner;
    size_t client_inner_len;
};

struct mtp_auth_client_config {
    /* The public keys the client knows; it uses the first of them whose
     * fingerprint the server lists.  The keys must outlive the client. */
    const struct mtp_rsa_key *const *keys;
    size_t n_keys;
    /* The dc sent in p_q_inner_data_dc / _temp_dc: the DC id, + 10000 for test
     * servers, negative for media DCs. */
    int32_t dc;
    bool req_pq_old;                /* send req_pq instead of req_pq_multi */
    enum mtp_auth_inner_form inner; /* default MTP_AUTH_INNER_DC */
    int32_t expires_in;             /* for the temporary forms, > 0 */
    enum mtp_auth_rsa_scheme rsa;   /* default MTP_AUTH_RSA_PAD */
    enum mtp_dh_mode dh_mode;       /* default MTP_DH_TRUST_KNOWN: skip the primality tests for known primes */
    /* Accept a g that fails the quadratic-residue condition (it then generates
     * the whole group, not the subgroup of prime order).  Only for replaying the
     * older samples-auth_key example, whose g = 2 with dh_prime mod 8 = 3 fails
     * the check that the current auth_key page asks for. */
    bool lax_g_residue;
    unsigned max_retries; /* dh_gen_retry answers accepted before giving up; default 5 */
    /* Reject server_time further than this from the local clock (seconds);
     * 0 accepts any (the default: the client adopts the server's time). */
    int64_t max_clock_skew_s;
    const struct mtp_auth_client_behaviour *behaviour; /* NULL = correct; must outlive the client */
};

/* Defaults: req_pq_multi, p_q_inner_data_dc, RSA_PAD, MTP_DH_TRUST_KNOWN,
 * 5 retries, no keys, dc 0 (set keys and dc before use). */
void mtp_auth_client_config_init(struct mtp_auth_client_config *cfg);

enum mtp_auth_client_state {
    MTP_AUTH_C_INIT,
    MTP_AUTH_C_AWAIT_RES_PQ,
    MTP_AUTH_C_AWAIT_SERVER_DH_PARAMS,
    MTP_AUTH_C_AWAIT_DH_GEN,
    MTP_AUTH_C_DONE,
    MTP_AUTH_C_FAILED,
};
/* "client: await resPQ", ... */
const char *mtp_auth_client_state_name(enum mtp_auth_client_state s);

struct mtp_auth_client;

/* Copies cfg, the behaviour (not the bytes it points to) and env (not its
 * ctx).  MTP_ERR_AUTH_CONFIG for an unusable configuration (no keys, unknown
 * enum values).  expires_in and dc are sent as given, even when a server must
 * refuse them. */
MTP_MUST_USE int mtp_auth_client_new(const struct mtp_auth_client_config *cfg, const struct mtp_env *env,
                                     struct mtp_auth_client **out, struct mtp_error *err);
/* Wipes every secret and frees.  NULL is fine. */
void mtp_auth_client_del(struct mtp_auth_client *c);

/* Appends the first message body (req_pq_multi or req_pq) to out. */
MTP_MUST_USE int mtp_auth_client_start(struct mtp_auth_client *c, struct mtp_wr *out, struct mtp_error *err);
/* Consumes one server message body and appends the answer to out (nothing
 * after dh_gen_ok).  On failure nothing is appended. */
MTP_MUST_USE int mtp_auth_client_recv(struct mtp_auth_client *c, const uint8_t *body, size_t len, struct mtp_wr *out,
                                      struct mtp_error *err);

enum mtp_auth_client_state mtp_auth_client_state(const struct mtp_auth_client *c);
/* Why the exchange failed (code MTP_OK unless the state is FAILED). */
const struct mtp_error *mtp_auth_client_error(const struct mtp_auth_client *c);
/* The exchange's nonce, server_nonce and new_nonce, for a key log: false
 * until req_DH_params was written, and again once the exchange ended (the
 * secret is wiped then). */
bool mtp_auth_client_nonces(const struct mtp_auth_client *c, uint8_t nonce[16], uint8_t server_nonce[16],
                            uint8_t new_nonce[32]);
/* The agreed key and what came with it; MTP_ERR_AUTH_BAD_STATE before DONE. */
MTP_MUST_USE int mtp_auth_client_result(const struct mtp_auth_client *c, struct mtp_auth_result *res,
                                        struct mtp_error *err);

#endif
