/* Session-layer throughput: what the cores cost per message on top of the
 * crypto (bench_crypto.c measures that part).  Each figure is the best of
 * five timed repetitions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_session.h"
#include "mtp/session.h"

#define REPETITIONS 5
#define T0 1700000000000LL

struct duo {
    struct mtp_det_state cst, sst;
    struct mtp_env cenv, senv;
    struct mtp_session c, s;
    uint64_t last_query; /* server side: the query to answer */
    uint8_t buf[1 << 16];
    uint8_t body[1024];
    size_t body_len;
    bool packets;
};

static void on_server(void *ctx, const struct mtp_session_event *ev)
{
    struct duo *d = ctx;
    if (ev->type == MTP_SESSION_EV_MESSAGE)
        d->last_query = ev->msg_id;
}

static int duo_init(struct duo *d, bool packets, size_t body_len)
{
    memset(d, 0, sizeof *d);
    d->cenv = mtp_env_deterministic(&d->cst, "bench-c", 7, T0);
    d->senv = mtp_env_deterministic(&d->sst, "bench-s", 7, T0);
    MTP_GUARD(mtp_session_init(&d->c, MTP_SESSION_CLIENT, NULL, &d->cenv, NULL, NULL));
    MTP_GUARD(mtp_session_init(&d->s, MTP_SESSION_SERVER, NULL, &d->senv, on_server, d));
    MTP_GUARD(mtp_session_set_salt(&d->c, 42));
    MTP_GUARD(mtp_session_set_salt(&d->s, 42));
    mtp_session_sync_time(&d->c, T0 / 1000);
    uint8_t key[256];
    for (int i = 0; i < 256; i++)
        key[i] = (uint8_t)(i * 7 + 3);
    mtp_session_set_auth_key(&d->c, key);
    mtp_session_set_auth_key(&d->s, key);
    d->packets = packets;
    d->body_len = body_len;
    memset(d->body, 0x5a, sizeof d->body);
    mtp_store_u32(d->body, 0xc4f9186bu);
    return MTP_OK;
}

static void duo_free(struct duo *d)
{
    mtp_session_free(&d->c);
    mtp_session_free(&d->s);
}

/* Moves everything `from` has to send into `to`. */
static int pump(struct duo *d, struct mtp_session *from, struct mtp_session *to)
{
    for (;;) {
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, d->buf, sizeof d->buf, NULL);
        int rc = d->packets ? mtp_session_flush_packet(from, &w) : mtp_session_flush(from, &w);
        if (rc <= 0)
            return rc;
        struct mtp_error err;
        rc = d->packets ? mtp_session_recv_packet(to, w.p, w.len, NULL, &err) : mtp_session_recv(to, w.p, w.len, &err);
        if (rc < 0)
            return rc;
    }
}

/* One RPC: the clocks advance 1 ms per call so ids and salts stay realistic. */
static int rpc(struct duo *d)
{
    d->cst.now_ms++;
    d->sst.now_ms++;
    MTP_GUARD(mtp_session_send_query(&d->c, d->body, d->body_len, NULL));
    MTP_GUARD(pump(d, &d->c, &d->s));
    MTP_GUARD(mtp_session_send_result(&d->s, d->last_query, d->body, d->body_len, 0));
    MTP_GUARD(pump(d, &d->s, &d->c));
    return MTP_OK;
}

static int bench_rpc(bool packets, size_t body_len, double seconds, double *best)
{
    struct duo *d = malloc(sizeof *d);
    if (d == NULL)
        return MTP_ERR_NOMEM;
    int rc = duo_init(d, packets, body_len);
    *best = 0;
    for (int rep = 0; rc == MTP_OK && rep < REPETITIONS; rep++) {
        size_t done = 0;
        double t0 = mtp_bench_now_s(), dt;
        do {
            for (int i = 0; i < 64 && rc == MTP_OK; i++)
                rc = rpc(d);
            done += 64;
            dt = mtp_bench_now_s() - t0;
        } while (rc == MTP_OK && dt < seconds);
        if (done / dt > *best)
            *best = done / dt;
    }
    duo_free(d);
    free(d);
    return rc;
}

/* The server takes containers of 100 queries (built once, ids refreshed by a new session each round). */
static int bench_container(double seconds, double *best)
{
    struct duo *d = malloc(sizeof *d);
    if (d == NULL)
        return MTP_ERR_NOMEM;
    int rc = duo_init(d, false, 4);
    *best = 0;
    for (int rep = 0; rc == MTP_OK && rep < REPETITIONS; rep++) {
        size_t done = 0;
        double t0 = mtp_bench_now_s(), dt;
        do {
            d->cst.now_ms++;
            d->sst.now_ms++;
            for (int i = 0; i < 100 && rc == MTP_OK; i++)
                rc = mtp_session_send_query(&d->c, d->body, 4, NULL);
            struct mtp_wr w;
            mtp_wr_init_fixed(&w, d->buf, sizeof d->buf, NULL);
            if (rc == MTP_OK && mtp_session_flush(&d->c, &w) == 1) {
                struct mtp_error err;
                rc = mtp_session_recv(&d->s, w.p, w.len, &err);
            }
            /* Settle the store of both sides so that the next round has room. */
            for (size_t i = d->c.out_n; rc == MTP_OK && i > 0; i--)
                mtp_session_cancel(&d->c, d->c.out[i - 1].msg_id);
            mtp_session_flush_acks_now(&d->s);
            while (rc == MTP_OK && mtp_session_flush(&d->s, &w) > 0)
                mtp_wr_reset(&w);
            done += 100;
            dt = mtp_bench_now_s() - t0;
        } while (rc == MTP_OK && dt < seconds);
        if (done / dt > *best)
            *best = done / dt;
    }
    duo_free(d);
    free(d);
    return rc;
}

int mtp_bench_session(const struct mtp_bench_sink *sink)
{
    double seconds = sink->min_seconds > 0 ? sink->min_seconds : 0.2, r;
    MTP_GUARD(bench_rpc(false, 4, seconds, &r));
    sink->record(sink->ctx, "session_rpc_plain", r, "rpc/s", 0);
    MTP_GUARD(bench_rpc(true, 1024, seconds, &r));
    sink->record(sink->ctx, "session_rpc_packet_1k", r, "rpc/s", 0);
    MTP_GUARD(bench_container(seconds, &r));
    sink->record(sink->ctx, "session_container_100", r, "msg/s", 0);
    return MTP_OK;
}
