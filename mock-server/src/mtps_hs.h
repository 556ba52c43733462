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
 *                            values sent instead of the real ones
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
    uint8_t *bufs[8];                       /* owned hex-decoded values */
    size_t nbufs;
};

MTP_MUST_USE int mtps_auth_cfg_parse(struct mtps_auth_cfg *a, const json_t *auth, const char *origin,
                                     struct mtp_error *err);
void mtps_auth_cfg_free(struct mtps_auth_cfg *a);

/* One connection's exchange in progress (at most one at a time: a new
 * req_pq_multi starts over). */
struct mtps_hs {
    struct mtp_auth_server *m;
    struct mtp_auth_server_behaviour beh; /* per exchange: server_time is the clock's at its start */
};

/* Runs one unencrypted message body through the machine; the answer body
 * goes to out.  *done is set when this message completed the exchange (res
 * filled).  An error (the machine's, with its check named) means the client
 * broke the exchange. */
MTP_MUST_USE int mtps_hs_recv(struct mtps_hs *h, const struct mtps_auth_cfg *a,
                              const struct mtp_auth_server_config *cfg, const struct mtp_env *env,
                              const uint8_t *body, size_t len, struct mtp_wr *out, bool *done,
                              struct mtp_auth_result *res, struct mtp_error *err);
void mtps_hs_free(struct mtps_hs *h);

#endif
