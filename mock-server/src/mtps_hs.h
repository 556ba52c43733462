/* The auth-key exchange as the mock DC runs it: the auth server machine
 * (mtp/auth_server.h) behind the scenario's "auth" section.
 *
 * The scenario section is data mapped onto the machine's configuration and
 * its behaviour struct by a table (mtps_hs.c):
 *   "dh_prime": hex          the prime used (default: Telegram's published one)
 *   "g": n                   the generator used (default 3)
 *   "pq_bits": [p, q]        sizes of the primes of pq (default 31, 31)
 *   "dc_check": bool         p_q_inner_data_dc must name this DC (default false)
 *   "refuse_old": bool       refuse req_pq, inner data without dc, the old RSA scheme
 *   "corrupt": [names]       fields corrupted on purpose ("resPQ.nonce", ...: mtp_auth_corrupt_name)
 *   "send_pq", "send_fingerprints", "send_dh_prime", "send_g", "send_g_a", "send_answer":
 *                            values sent instead of the real ones (send_g_a also as an
 *                            expression of the prime sent: "p-1", "2^1984-1", ...)
 *   "g_a_leading_zero": bool g_a below 2^2040, sent as 256 bytes with a leading zero
 *   "g_a_encoding": "full" | "minimal"   g_a as 256 bytes (default) or without leading zeros
 *   "auth_key_leading_zero": N  dh_gen_retry until the auth key's first byte is 0, at most
 *                            N times per server
 *   "send_server_time_offset": s   server_time = the clock + s
 *   "dh_params_fail", "dh_gen_retries", "dh_gen_fail", "dh_gen_hash_number": see mtp/auth_server.h */
#ifndef MTPS_HS_H
#define MTPS_HS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "mtp/auth.h"
#include "mtp/auth_server.h"
#include "mtp/buf.h"
#include "mtp/env.h"
#include "mtp/err.h"

/* The scenario's exchange settings, with the buffers the machine's structs point into. */
struct mtps_auth_cfg {
    struct mtp_auth_server_config cfg;      /* keys, key_exists and dc are filled in per DC */
    struct mtp_auth_server_behaviour beh;
    bool time_offset_set;
    int32_t time_offset_s;
    bool dc_check;
    /* auth_key_leading_zero: the dh_gen_retry rounds left, for all the server's
     * exchanges (the machine's behaviour points here; 0 set: off). */
    bool zero_key_set;
    unsigned zero_key_left;
    /* from_exchange N: the misbehaviour settings apply from the server's N-th
     * exchange on (counted across connections); the earlier ones are honest. */
    uint32_t from_exchange;
    uint32_t exchanges;
    const char *g_a_expr;                   /* while parsing: send_g_a as an expression */
    uint32_t fp_server;                     /* send_fingerprints: bit i is "server", the server's own key */
    uint8_t *bufs[8];                       /* owned hex-decoded values */
    size_t nbufs;
};

MTP_MUST_USE int mtps_auth_cfg_parse(struct mtps_auth_cfg *a, const json_t *auth, const char *origin,
                                     struct mtp_error *err);
void mtps_auth_cfg_free(struct mtps_auth_cfg *a);
/* Fills the send_fingerprints entries given as "server" with the server's own
 * fingerprint (wire order), known only once the key is loaded. */
void mtps_auth_cfg_set_fingerprint(struct mtps_auth_cfg *a, const uint8_t fingerprint[8]);

/* One connection's exchange in progress (at most one at a time: a new
 * req_pq_multi starts over). */
#define MTPS_HS_RETRY_IDS 16
struct mtps_hs {
    struct mtp_auth_server *m;
    struct mtp_auth_server_behaviour beh; /* per exchange: server_time is the clock's at its start */
    /* For the observation log: what was reported of this exchange already,
     * and the retry_ids the client sent in it (the first MTPS_HS_RETRY_IDS). */
    uint32_t attempts_seen;
    bool g_a_seen;
    bool nonces_seen;
    uint8_t retry_ids[MTPS_HS_RETRY_IDS][8];
    size_t nretry_ids;
    bool retry_ids_ok;
};

/* Runs one unencrypted message body through the machine; the answer body
 * goes to out.  *done is set when this message completed the exchange (res
 * filled).  An error (the machine's, with its check named) means the client
 * broke the exchange.  a is written to: its auth_key_leading_zero counter. */
MTP_MUST_USE int mtps_hs_recv(struct mtps_hs *h, struct mtps_auth_cfg *a,
                              const struct mtp_auth_server_config *cfg, const struct mtp_env *env,
                              const uint8_t *body, size_t len, struct mtp_wr *out, bool *done,
                              struct mtp_auth_result *res, struct mtp_error *err);
void mtps_hs_free(struct mtps_hs *h);

/* The client's set_client_DH_params the last mtps_hs_recv saw, once (NULL
 * when it saw none or it was reported already). */
const struct mtp_auth_server_attempt *mtps_hs_new_attempt(struct mtps_hs *h);
/* The exchange's nonce, server_nonce and new_nonce for the key log's
 * NEW_NONCE line, once: true the first time they are known (after
 * req_DH_params), false before and after. */
bool mtps_hs_new_nonces(struct mtps_hs *h, uint8_t nonce[16], uint8_t server_nonce[16], uint8_t new_nonce[32]);
/* g_a as sent, once the exchange sent it (NULL before, and after the first call). */
const uint8_t *mtps_hs_new_g_a(struct mtps_hs *h, size_t *len);

#endif
