/* Mock DC benchmarks: see bench_server.h.  The client side (the auth client
 * machine, the session client, framing) runs untimed between the timed
 * server calls, so each figure is what one server core can do. */
#include "bench/bench_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mtp/dh.h"
#include "mtp/msgcrypt.h"
#include "mtp/rsa.h"
#include "mtps_client.h"
#include "mtps_conn.h"

#define REPETITIONS 3
#define PING_PACKETS 20000
#define PIECE 16384

struct bench {
    struct mtp_rsa_key *rsa;
    struct mtps_scenario scen;
    struct mtps_server srv;
    struct mtp_env env;
};

static int setup(struct bench *b)
{
    memset(b, 0, sizeof *b);
    char path[4096];
    snprintf(path, sizeof path, "%s/vectors/rsa/test_key_private.pem", MTPROBE_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return MTP_ERR_IO;
    char pem[8192];
    size_t n = fread(pem, 1, sizeof pem, f);
    fclose(f);
    MTP_GUARD(mtp_rsa_key_from_pem(pem, n, &b->rsa, NULL));
    mtps_scenario_default(&b->scen);
    b->env = mtp_env_system();
    struct mtps_server_cfg cfg = {.env = b->env, .scenario = &b->scen, .rsa = b->rsa, .dc_ids = {2}, .ndcs = 1};
    mtps_limits_default(&cfg.limits);
    cfg.limits.max_output = 64u << 20;
    cfg.limits.max_memory = 1ull << 30;
    int rc = mtps_server_init(&b->srv, &cfg, NULL);
    if (rc < 0)
        mtp_rsa_key_free(b->rsa);
    return rc;
}

static void teardown(struct bench *b)
{
    mtps_server_free(&b->srv);
    mtp_rsa_key_free(b->rsa);
}

/* Feeds bytes to the connection in recv-sized pieces; adds the time spent to
 * *t.  discard: the output "went to the socket" after each piece. */
static void feed_timed(struct mtps_conn *c, uint8_t *p, size_t n, double *t, bool discard)
{
    for (size_t off = 0; off < n && mtps_conn_state(c) == MTPS_CONN_OPEN; off += PIECE) {
        size_t k = n - off < PIECE ? n - off : PIECE;
        double t0 = mtp_bench_now_s();
        mtps_conn_feed(c, p + off, k);
        *t += mtp_bench_now_s() - t0;
        if (discard)
            mtps_conn_sent(c, 0);
    }
}

/* Server output goes to the client, untimed. */
static int to_client(struct mtps_conn *c, struct mtps_client *cl)
{
    size_t n;
    const uint8_t *p = mtps_conn_output(c, &n);
    if (n == 0)
        return MTP_OK;
    uint8_t *copy = malloc(n);
    if (copy == NULL)
        return MTP_ERR_NOMEM;
    memcpy(copy, p, n);
    mtps_conn_sent(c, 0);
    int rc = mtps_client_feed(cl, copy, n, NULL);
    free(copy);
    return rc;
}

/* Forgets every key and session, so the store does not fill up across runs. */
static int reset_store(struct bench *b)
{
    struct mtps_store *st = &b->srv.store;
    struct mtps_store_cfg cfg = st->cfg;
    mtps_sess_event_fn fn = st->on_event;
    void *ctx = st->event_ctx;
    mtps_store_free(st);
    return mtps_store_init(st, &cfg, &b->srv.env, fn, ctx);
}

/* One exchange over intermediate; *t gets the server's time. */
static int one_exchange(struct bench *b, double *t)
{
    struct mtps_client cl;
    struct mtps_client_opts o = {.kind = MTP_TR_INTERMEDIATE, .dc = 2, .server_key = b->rsa, .env = &b->env};
    MTP_GUARD(mtps_client_init(&cl, &o, NULL));
    struct mtps_conn c;
    int rc = mtps_conn_init(&c, &b->srv, 2, "bench", 0, NULL);
    if (rc < 0) {
        mtps_client_free(&cl);
        return rc;
    }
    rc = mtps_client_start(&cl, NULL);
    for (int step = 0; rc == MTP_OK && step < 8 && !mtps_client_ready(&cl); step++) {
        if (cl.out.len == 0 || mtps_conn_state(&c) != MTPS_CONN_OPEN) {
            rc = MTP_ERR_INTERNAL;
            break;
        }
        feed_timed(&c, cl.out.p, cl.out.len, t, false);
        mtp_wr_reset(&cl.out);
        rc = to_client(&c, &cl);
    }
    if (rc == MTP_OK && !mtps_client_ready(&cl))
        rc = MTP_ERR_INTERNAL;

    mtps_conn_free(&c);
    mtps_client_free(&cl);
    if (rc == MTP_OK)
        rc = reset_store(b);
    return rc;
}

/* The bignum work one exchange cannot avoid, in seconds per exchange (one run; keeps the best). */
static int bignum_cost(struct bench *b, double seconds, double *cost)
{
    uint8_t in[MTP_RSA_BYTES], padded[MTP_RSA_PAD_PADDED], secret[MTP_DH_BYTES], pub[MTP_DH_BYTES],
        shared[MTP_DH_BYTES];
    MTP_GUARD(mtp_env_rand(&b->env, in, sizeof in));
    in[0] = 0; /* below the modulus */
    MTP_GUARD(mtp_env_rand(&b->env, secret, sizeof secret));
    {
        size_t n = 0;
        double t0 = mtp_bench_now_s(), dt;
        do {
            /* The private operation runs before the padding check, which then fails on random input. */
            if (mtp_rsa_pad_decrypt(b->rsa, in, sizeof in, padded, NULL, NULL) == MTP_ERR_RSA_NOT_PRIVATE)
                return MTP_ERR_RSA_NOT_PRIVATE;
            MTP_GUARD(mtp_dh_public(mtp_dh_telegram_prime, MTP_DH_BYTES, 3, secret, pub, NULL));
            MTP_GUARD(mtp_dh_shared(mtp_dh_telegram_prime, MTP_DH_BYTES, pub, MTP_DH_BYTES, secret, shared, NULL));
            n++;
            dt = mtp_bench_now_s() - t0;
        } while (dt < seconds);
        if (dt / (double)n < *cost)
            *cost = dt / (double)n;
    }
    mtp_wipe(secret, sizeof secret);
    mtp_wipe(shared, sizeof shared);
    return MTP_OK;
}

/* Exchanges per second of server time (one run; keeps the best). */
static int exchanges(struct bench *b, double seconds, double *per_s)
{
    {
        double t = 0;
        size_t n = 0;
        do {
            MTP_GUARD(one_exchange(b, &t));
            n++;
        } while (t < seconds);
        if ((double)n / t > *per_s)
            *per_s = (double)n / t;
    }
    return MTP_OK;
}

/* A client with a key and a session on connection c, and a stream of ping packets. */
struct ping_stream {
    struct mtps_client cl;
    struct mtps_conn c;
    uint8_t *stream;
    size_t len;
    size_t packets;
    uint8_t *first_pkt; /* one packet as sent (no framing), for the crypto ceiling */
    size_t first_len;
};

static int ping_stream(struct bench *b, struct ping_stream *ps)
{
    memset(ps, 0, sizeof *ps);
    struct mtps_client_opts o = {.kind = MTP_TR_INTERMEDIATE, .dc = 2, .server_key = b->rsa, .env = &b->env};
    MTP_GUARD(mtps_client_init(&ps->cl, &o, NULL));
    MTP_GUARD(mtps_conn_init(&ps->c, &b->srv, 2, "bench", 0, NULL));
    MTP_GUARD(mtps_client_start(&ps->cl, NULL));
    double ignored = 0;
    for (int step = 0; step < 8 && !mtps_client_ready(&ps->cl); step++) {
        feed_timed(&ps->c, ps->cl.out.p, ps->cl.out.len, &ignored, false);
        mtp_wr_reset(&ps->cl.out);
        MTP_GUARD(to_client(&ps->c, &ps->cl));
    }
    if (!mtps_client_ready(&ps->cl))
        return MTP_ERR_INTERNAL;
    /* The first message opens the session (new_session_created); the stream starts after it. */
    MTP_GUARD(mtps_client_ping(&ps->cl, 0, NULL));
    feed_timed(&ps->c, ps->cl.out.p, ps->cl.out.len, &ignored, false);
    mtp_wr_reset(&ps->cl.out);
    MTP_GUARD(to_client(&ps->c, &ps->cl));
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1u << 16, NULL);
    for (size_t i = 1; i <= PING_PACKETS; i++) {
        uint64_t msg_id;
        MTP_GUARD(mtp_session_ping(&ps->cl.ses, i, -1, &msg_id));
        mtp_wr_reset(&w);
        if (mtp_session_flush_packet(&ps->cl.ses, &w) != 1)
            return MTP_ERR_INTERNAL;
        if (ps->first_pkt == NULL) {
            ps->first_pkt = malloc(w.len);
            if (ps->first_pkt == NULL)
                return MTP_ERR_NOMEM;
            memcpy(ps->first_pkt, w.p, w.len);
            ps->first_len = w.len;
        }
        MTP_GUARD(mtps_client_send_raw(&ps->cl, w.p, w.len, NULL));
        /* the client forgets its pings: their pongs are not fed back in this run */
        mtp_session_cancel(&ps->cl.ses, msg_id);
    }
    mtp_wr_free(&w);
    ps->stream = ps->cl.out.p;
    ps->len = ps->cl.out.len;
    ps->packets = PING_PACKETS;
    return MTP_OK;
}

static int pings(struct bench *b, double *per_s, double *crypto_per_s)
{
    *per_s = 0;
    for (int rep = 0; rep < REPETITIONS; rep++) {
        struct ping_stream ps;
        int rc = ping_stream(b, &ps);
        if (rc == MTP_OK) {
            double t = 0;
            uint64_t before = ps.c.frames_out;
            feed_timed(&ps.c, ps.stream, ps.len, &t, true);
            uint64_t answered = ps.c.frames_out - before;
            if (answered != ps.packets)
                rc = MTP_ERR_INTERNAL; /* every ping gets its pong in its own packet */
            else if ((double)ps.packets / t > *per_s)
                *per_s = (double)ps.packets / t;
        }
        /* The crypto alone: decrypt the client's packet and encrypt a reply of the same size. */
        if (rc == MTP_OK && rep == 0) {
            struct mtp_wr plain, out;
            mtp_wr_init_dyn(&plain, 4096, NULL);
            mtp_wr_init_dyn(&out, 4096, NULL);
            struct mtp_msgcrypt *mc;
            rc = mtp_msgcrypt_new(ps.c.key ? ps.c.key->auth_key : ps.cl.key.auth_key, &mc, NULL);
            double t0 = mtp_bench_now_s(), dt;
            size_t n = 0;
            do {
                mtp_wr_reset(&plain);
                mtp_wr_reset(&out);
                if (rc == MTP_OK)
                    rc = mtp_msgcrypt_decrypt(mc, MTP_SENDER_CLIENT, ps.first_pkt, ps.first_len, &plain, NULL);
                if (rc == MTP_OK)
                    rc = mtp_msgcrypt_encrypt(mc, MTP_SENDER_SERVER, plain.p, plain.len, &out, NULL);
                n++;
                dt = mtp_bench_now_s() - t0;
            } while (rc == MTP_OK && dt < 0.2);
            *crypto_per_s = (double)n / dt;
            mtp_msgcrypt_del(mc);
            mtp_wr_free(&plain);
            mtp_wr_free(&out);
        }
        free(ps.first_pkt);
        mtps_conn_free(&ps.c);
        mtps_client_free(&ps.cl);
        MTP_GUARD(rc);
    }
    return MTP_OK;
}

int mtp_bench_server(const struct mtp_bench_sink *sink)
{
    double seconds = sink->min_seconds > 0 ? sink->min_seconds : 0.2;
    struct bench b;
    MTP_GUARD(setup(&b));
    double cost = 1e9, ex = 0, pps = 0, cps = 0;
    int rc = MTP_OK;
    /* Interleaved, best of each: on a busy machine both see the same conditions. */
    for (int rep = 0; rc == MTP_OK && rep < 2 * REPETITIONS; rep++) {
        rc = bignum_cost(&b, seconds, &cost);
        if (rc == MTP_OK)
            rc = exchanges(&b, seconds, &ex);
    }
    if (rc == MTP_OK)
        rc = pings(&b, &pps, &cps);
    if (rc == MTP_OK) {
        sink->record(sink->ctx, "server_bignum_ms", cost * 1000.0, "ms", 0);
        sink->record(sink->ctx, "server_exchanges", ex, "1/s", 1.0 / cost);
        sink->record(sink->ctx, "server_pings", pps, "1/s", cps);
    }
    teardown(&b);
    return rc;
}
