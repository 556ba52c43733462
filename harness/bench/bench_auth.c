/* Auth-key exchange benchmarks: whole exchanges between the client and server
 * machines in memory, with the time each side spends.  The client's cost is
 * dominated by the DH arithmetic (its key pair and the shared key; the
 * primality tests of dh_prime unless the prime is known), the server's by the
 * RSA private operation and its own DH.
 *   auth_exchange               exchanges/s  RSA_PAD, Telegram's prime, known-prime shortcut
 *   auth_exchange_client        ms           client time per exchange (same runs)
 *   auth_exchange_server        ms           server time per exchange (same runs)
 *   auth_exchange_client_full   ms           client time with MTP_DH_FULL (primality tests every time)
 * Each figure is the best of three runs of at least sink->min_seconds. */
#include <stdio.h>
#include <time.h>

#include "bench/bench.h"
#include "mtp/auth_client.h"
#include "mtp/auth_server.h"
#include "mtp/rsa.h"

int mtp_bench_auth(const struct mtp_bench_sink *sink);

#define RUNS 3

struct timing {
    double client_s, server_s;
};

/* One whole exchange with environments seeded by n. */
static int exchange(const struct mtp_rsa_key *key, enum mtp_dh_mode mode, uint64_t n, struct timing *t)
{
    uint8_t seed[16];
    snprintf((char *)seed, sizeof seed, "%llu", (unsigned long long)n);
    struct mtp_det_state cdet, sdet;
    struct mtp_env cenv = mtp_env_deterministic(&cdet, seed, sizeof seed, 1700000000000);
    seed[15] ^= 1;
    struct mtp_env senv = mtp_env_deterministic(&sdet, seed, sizeof seed, 1700000000000);
    const struct mtp_rsa_key *keys[] = {key};
    struct mtp_auth_client_config cc;
    mtp_auth_client_config_init(&cc);
    cc.keys = keys;
    cc.n_keys = 1;
    cc.dc = 2;
    cc.dh_mode = mode;
    struct mtp_auth_server_config sc;
    mtp_auth_server_config_init(&sc);
    sc.keys = keys;
    sc.n_keys = 1;
    struct mtp_auth_client *c = NULL;
    struct mtp_auth_server *s = NULL;
    uint8_t cbuf[MTP_AUTH_BODY_MAX], sbuf[MTP_AUTH_BODY_MAX];
    struct mtp_wr cw, sw;
    mtp_wr_init_fixed(&cw, cbuf, sizeof cbuf, NULL);
    mtp_wr_init_fixed(&sw, sbuf, sizeof sbuf, NULL);
    int rc = MTP_OK;
    double t0 = mtp_bench_now_s();
    MTP_TRY(mtp_auth_client_new(&cc, &cenv, &c, NULL));
    MTP_TRY(mtp_auth_client_start(c, &cw, NULL));
    double t1 = mtp_bench_now_s();
    t->client_s += t1 - t0;
    MTP_TRY(mtp_auth_server_new(&sc, &senv, &s, NULL));
    while (mtp_auth_client_state(c) != MTP_AUTH_C_DONE) {
        t0 = mtp_bench_now_s();
        mtp_wr_reset(&sw);
        MTP_TRY(mtp_auth_server_recv(s, cbuf, cw.len, &sw, NULL));
        t1 = mtp_bench_now_s();
        mtp_wr_reset(&cw);
        MTP_TRY(mtp_auth_client_recv(c, sbuf, sw.len, &cw, NULL));
        double t2 = mtp_bench_now_s();
        t->server_s += t1 - t0;
        t->client_s += t2 - t1;
    }
out:
    mtp_auth_client_del(c);
    mtp_auth_server_del(s);
    return rc;
}

/* Exchanges per second and the per-side times of the best run. */
static int measure(const struct mtp_rsa_key *key, enum mtp_dh_mode mode, double seconds, double *per_s,
                   double *client_ms, double *server_ms)
{
    uint64_t n = 0;
    *per_s = 0;
    for (int run = 0; run < RUNS; run++) {
        struct timing t = {0, 0};
        size_t done = 0;
        double t0 = mtp_bench_now_s(), dt;
        do {
            MTP_GUARD(exchange(key, mode, n++, &t));
            done++;
            dt = mtp_bench_now_s() - t0;
        } while (dt < seconds);
        if ((double)done / dt > *per_s) {
            *per_s = (double)done / dt;
            *client_ms = 1000 * t.client_s / (double)done;
            *server_ms = 1000 * t.server_s / (double)done;
        }
    }
    return MTP_OK;
}

int mtp_bench_auth(const struct mtp_bench_sink *sink)
{
    double seconds = sink->min_seconds > 0 ? sink->min_seconds : 0.2;
    struct mtp_det_state det;
    struct mtp_env env = mtp_env_deterministic(&det, "bench auth key", 14, 0);
    struct mtp_rsa_key *key = NULL;
    MTP_GUARD(mtp_rsa_key_generate(&env, &key, NULL));
    double per_s = 0, client_ms = 0, server_ms = 0, full_per_s, full_client_ms = 0, full_server_ms;
    int rc = measure(key, MTP_DH_TRUST_KNOWN, seconds, &per_s, &client_ms, &server_ms);
    if (rc == MTP_OK)
        rc = measure(key, MTP_DH_FULL, seconds, &full_per_s, &full_client_ms, &full_server_ms);
    mtp_rsa_key_free(key);
    MTP_GUARD(rc);
    sink->record(sink->ctx, "auth_exchange", per_s, "exchanges/s", 0);
    sink->record(sink->ctx, "auth_exchange_client", client_ms, "ms", 0);
    sink->record(sink->ctx, "auth_exchange_server", server_ms, "ms", 0);
    sink->record(sink->ctx, "auth_exchange_client_full", full_client_ms, "ms", 0);
    return MTP_OK;
}
