/* The server side of the auth-key exchange (core.telegram.org/mtproto/auth_key),
 * sans-IO: the machine a mock datacenter drives.
 *
 *   s = mtp_auth_server_new(&cfg, &env)
 *   mtp_auth_server_recv(s, req_pq_multi, out)         -> resPQ
 *   mtp_auth_server_recv(s, req_DH_params, out)        -> server_DH_params_ok
 *   mtp_auth_server_recv(s, set_client_DH_params, out) -> dh_gen_ok (state DONE)
 *                                                         or dh_gen_retry (state unchanged)
 *   mtp_auth_server_result(s, &res)
 *
 * Random values come from env.rand in this order: server_nonce (16); the
 * primes of pq (unless the behaviour gives pq); a (256, again while g_a is
 * outside the safe range, or with g_a_leading_zero not below 2^2040); the
 * padding of server_DH_inner_data.  server_time is the env clock's.
 *
 * A request that fails a check fails the exchange (state FAILED, nothing
 * written; a real server answers with the transport error -404 then).  A
 * request identical to the previous one is answered with the previous answer
 * again, as the spec's "Error Handling" asks. */
#ifndef MTP_AUTH_SERVER_H
#define MTP_AUTH_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/auth.h"
#include "mtp/env.h"
#include "mtp/err.h"
#include "mtp/rsa.h"

/* Checks a server leaves out on purpose: the seeded faults of the mock DC,
 * which prove that `mtprobe check server` notices each one missing.  Bits
 * MTP_AUTH_SF(f) of mtp_auth_server_behaviour.faults. */
enum mtp_auth_server_fault {
    MTP_AUTH_SF_ACCEPT_WRONG_NONCE,     /* the outer nonce / server_nonce of steps 5 and 7 are not compared */
    MTP_AUTH_SF_SKIP_PQ,                /* p and q (outer and inner) are not compared with pq's factors */
    MTP_AUTH_SF_ACCEPT_UNKNOWN_KEY,     /* a fingerprint not offered is taken for the first key */
    MTP_AUTH_SF_SKIP_RSA_HASH,          /* RSA_PAD's SHA256 is not checked */
    MTP_AUTH_SF_SKIP_PQ_INNER,          /* p_q_inner_data's nonces and pq are not compared */
    MTP_AUTH_SF_RESTART_ON_REPEAT,      /* a req_DH_params after server_DH_params_ok starts the run over */
    MTP_AUTH_SF_SKIP_CLIENT_INNER_HASH, /* client_DH_inner_data's SHA1, padding and length are not checked */
    MTP_AUTH_SF_SKIP_GB_RANGE,          /* 1 < g_b < dh_prime - 1 not checked */
    MTP_AUTH_SF_SKIP_GB_MARGIN,         /* the 2^1984 margin of g_b not checked */
};
#define MTP_AUTH_SF(f) (1u << (f))

/* A server that misbehaves on purpose, to test clients.  All zero = correct.
 * Data, not code paths: the mock datacenter fills one of these from a
 * conformance case. */
struct mtp_auth_server_behaviour {
    uint32_t faults;   /* MTP_AUTH_SF(f) bits: checks left out (seeded faults) */
    uint64_t corrupt;  /* MTP_AUTH_CORRUPT(point) of server points */
    const uint8_t *pq; /* sent instead of a generated pq (big-endian, any length) */
    size_t pq_len;
    const uint8_t *fingerprints; /* advertised instead of the keys' (8 wire bytes each) */
    size_t n_fingerprints;       /* used when fingerprints != NULL, at most MTP_AUTH_MAX_FINGERPRINTS */
    const uint8_t *dh_prime;     /* sent instead of the configured prime */
    size_t dh_prime_len;
    bool g_set; /* send g instead of the configured generator */
    int32_t g;
    const uint8_t *g_a; /* sent instead of g^a (the server still uses its a) */
    size_t g_a_len;
    bool server_time_set; /* send server_time instead of the clock's */
    int32_t server_time;
    /* Sent, hashed and AES-encrypted, instead of server_DH_inner_data. */
    const uint8_t *answer;
    size_t answer_len;
    bool dh_params_fail;     /* answer req_DH_params with server_DH_params_fail */
    unsigned dh_gen_retries; /* answer dh_gen_retry this many times before dh_gen_ok */
    bool dh_gen_fail;        /* answer set_client_DH_params with dh_gen_fail */
    int dh_gen_hash_number;  /* 1..3: compute new_nonce_hash with this number whatever is sent */
    /* Legitimate edges a client must accept.  g_a below 2^2040 (a is drawn
     * again until it is: its first byte of 256 is 0), and g_a sent without
     * its leading zero bytes instead of as 256 bytes. */
    bool g_a_leading_zero;
    bool g_a_minimal;
    /* Not NULL: answer dh_gen_retry while the auth key's first byte is not 0
     * and *zero_key_retries > 0, taking one each time (a counter a mock
     * datacenter shares between exchanges, so that clients that start over
     * instead of retrying still get a key with a leading zero byte). */
    unsigned *zero_key_retries;
};

/* What the client sent in its last client_DH_inner_data and what it got. */
struct mtp_auth_server_attempt {
    uint32_t n;                /* attempts so far in this exchange (1-based; 0: none yet) */
    uint8_t retry_id[8];       /* as the client sent it */
    uint8_t expected[8];       /* 0 on the first attempt, else auth_key_aux_hash of the key that got dh_gen_retry */
    bool retry_id_ok;
    int answer;                /* 1 dh_gen_ok, 2 dh_gen_retry, 3 dh_gen_fail, 0 refused (the exchange failed) */
    bool have_key;             /* the auth key was computed: */
    uint8_t key_first_byte;    /* its first byte */
    uint8_t g_b_sha256[32];    /* SHA256 of the client's g_b as sent: repeats show a client with a fixed b
                                * (security_guidelines: a CSPRNG), without logging the value */
};

/* Did a key with this auth_key_id exist already?  Then the server answers
 * dh_gen_retry (auth_key step 8). */
typedef bool (*mtp_auth_key_exists_fn)(void *ctx, const uint8_t auth_key_id[MTP_AUTH_KEY_ID_BYTES]);

struct mtp_auth_server_config {
    /* Private keys; all of them are advertised.  Must outlive the server. */
    const struct mtp_rsa_key *const *keys;
    size_t n_keys;
    const uint8_t *dh_prime; /* NULL: Telegram's published prime (mtp_dh_telegram_prime) */
    size_t dh_prime_len;
    int32_t g;          /* default 3, as in the current samples-auth_key example */
    unsigned pq_p_bits; /* sizes of the primes of pq; default MTP_PQ_DEFAULT_BITS each (pq < 2^62) */
    unsigned pq_q_bits;
    int32_t dc;                        /* the dc p_q_inner_data_dc must name; 0 accepts any */
    bool refuse_old;                   /* refuse req_pq, p_q_inner_data(_temp) without dc and the old RSA scheme */
    mtp_auth_key_exists_fn key_exists; /* may be NULL */
    void *key_exists_ctx;
    const struct mtp_auth_server_behaviour *behaviour; /* NULL = correct; must outlive the server */
};

/* Defaults: Telegram's prime with g = 3, 31-bit primes, any dc, old forms accepted. */
void mtp_auth_server_config_init(struct mtp_auth_server_config *cfg);

enum mtp_auth_server_state {
    MTP_AUTH_S_AWAIT_REQ_PQ,
    MTP_AUTH_S_AWAIT_REQ_DH_PARAMS,
    MTP_AUTH_S_AWAIT_SET_CLIENT_DH_PARAMS,
    MTP_AUTH_S_DONE,
    MTP_AUTH_S_ABORTED, /* the behaviour made it answer server_DH_params_fail or dh_gen_fail */
    MTP_AUTH_S_FAILED,  /* a client message was rejected */
};
/* "server: await req_pq_multi", ... */
const char *mtp_auth_server_state_name(enum mtp_auth_server_state s);

struct mtp_auth_server;

/* MTP_ERR_AUTH_CONFIG for no keys, MTP_ERR_RSA_NOT_PRIVATE for a public-only key. */
MTP_MUST_USE int mtp_auth_server_new(const struct mtp_auth_server_config *cfg, const struct mtp_env *env,
                                     struct mtp_auth_server **out, struct mtp_error *err);
void mtp_auth_server_del(struct mtp_auth_server *s);

/* Consumes one client message body and appends the answer to out.  On
 * failure nothing is appended. */
MTP_MUST_USE int mtp_auth_server_recv(struct mtp_auth_server *s, const uint8_t *body, size_t len, struct mtp_wr *out,
                                      struct mtp_error *err);

enum mtp_auth_server_state mtp_auth_server_state(const struct mtp_auth_server *s);
/* The last set_client_DH_params that decrypted (n = 0 before any). */
const struct mtp_auth_server_attempt *mtp_auth_server_attempt(const struct mtp_auth_server *s);
/* g_a as sent in server_DH_inner_data (*len 0 before it was sent). */
const uint8_t *mtp_auth_server_sent_g_a(const struct mtp_auth_server *s, size_t *len);
const struct mtp_error *mtp_auth_server_error(const struct mtp_auth_server *s);
/* The exchange's nonce, server_nonce and new_nonce, for a key log (a capture
 * decoder needs new_nonce to decrypt server_DH_inner_data and
 * client_DH_inner_data): false until req_DH_params decrypted, and again once
 * the exchange ended (the secret is wiped then). */
bool mtp_auth_server_nonces(const struct mtp_auth_server *s, uint8_t nonce[16], uint8_t server_nonce[16],
                            uint8_t new_nonce[32]);
/* MTP_ERR_AUTH_BAD_STATE before DONE. */
MTP_MUST_USE int mtp_auth_server_result(const struct mtp_auth_server *s, struct mtp_auth_result *res,
                                        struct mtp_error *err);

#endif
