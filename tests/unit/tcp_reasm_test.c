/* The TCP reassembler: the vectors of tests/decode/tcp_reasm.json (out of
 * order, retransmissions, overlaps, gaps, mid-connection starts, connections
 * open at the end, wraparound, RST, reuse), then random captures of a known
 * stream: shuffled, duplicated and overlapping segments must give the stream
 * back exactly, and with segments dropped every byte is either delivered
 * right or declared lost, once. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "decode/tcp_reasm.h"
#include "mtp/env.h"
#include "mtp_test.h"

struct rec {
    char lines[64][160];
    size_t n;
};

static const char *dir_name(enum mtp_tcp_dir d) { return d == MTP_TCP_C2S ? "c2s" : "s2c"; }

static void add(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct rec *r, const char *fmt, ...)
{
    ck_assert_uint_lt(r->n, 64);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->lines[r->n++], sizeof r->lines[0], fmt, ap);
    va_end(ap);
}

static void on_open(void *ctx, struct mtp_tcp_conn *c) { add(ctx, "open %llu", (unsigned long long)c->id); }
static void on_data(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_dir d, uint64_t off, const uint8_t *p, size_t n,
                    int64_t ts)
{
    (void)ts;
    add(ctx, "data %llu %s %llu %.*s", (unsigned long long)c->id, dir_name(d), (unsigned long long)off, (int)n,
        (const char *)p);
}
static void on_gap(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_dir d, uint64_t off, uint64_t n, int64_t ts)
{
    (void)ts;
    add(ctx, "gap %llu %s %llu %llu", (unsigned long long)c->id, dir_name(d), (unsigned long long)off,
        (unsigned long long)n);
}
static void on_close(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_end how, int64_t ts)
{
    (void)ts;
    add(ctx, "close %llu %s", (unsigned long long)c->id, mtp_tcp_end_name(how));
}

static struct mtp_tcp_addr addr(int host, uint16_t port)
{
    struct mtp_tcp_addr a = {.family = 4, .port = port};
    a.ip[0] = 10;
    a.ip[3] = (uint8_t)host;
    return a;
}

START_TEST(vectors)
{
    json_error_t je;
    json_t *root = json_load_file(mtp_test_path("tests/decode/tcp_reasm.json"), 0, &je);
    ck_assert_msg(root != NULL, "tcp_reasm.json: %s", je.text);
    json_t *vs = json_object_get(root, "vectors");
    ck_assert_uint_ge(json_array_size(vs), 10);
    size_t i;
    json_t *v;
    json_array_foreach(vs, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        struct rec rec = {.n = 0};
        struct mtp_tcp_reasm_cb cb = {on_open, on_data, on_gap, on_close, &rec};
        struct mtp_tcp_reasm r;
        mtp_tcp_reasm_init(&r, &cb, NULL);
        size_t j;
        json_t *s;
        json_array_foreach(json_object_get(v, "segments"), j, s)
        {
            json_t *conn = json_object_get(s, "conn");
            uint16_t cport = (uint16_t)(40000 + (conn ? json_integer_value(conn) - 1 : 0));
            bool c2s = strcmp(json_string_value(json_object_get(s, "dir")), "c2s") == 0;
            struct mtp_tcp_seg seg = {.ts_ns = (int64_t)j * 1000};
            seg.src = c2s ? addr(1, cport) : addr(2, 443);
            seg.dst = c2s ? addr(2, 443) : addr(1, cport);
            seg.seq = (uint32_t)json_integer_value(json_object_get(s, "seq"));
            json_t *ack = json_object_get(s, "ack");
            if (ack) {
                seg.ack = (uint32_t)json_integer_value(ack);
                seg.flags |= MTP_TCP_ACK;
            }
            const char *fl = json_string_value(json_object_get(s, "flags"));
            for (; fl && *fl; fl++)
                seg.flags |= *fl == 'S' ? MTP_TCP_SYN : *fl == 'F' ? MTP_TCP_FIN : *fl == 'R' ? MTP_TCP_RST : 0;
            const char *data = json_string_value(json_object_get(s, "data"));
            seg.data = (const uint8_t *)data;
            seg.len = data ? strlen(data) : 0;
            seg.missing = (size_t)json_integer_value(json_object_get(s, "missing"));
            mtp_tcp_reasm_add(&r, &seg);
        }
        mtp_tcp_reasm_finish(&r, 0);
        mtp_tcp_reasm_free(&r);
        json_t *want = json_object_get(v, "events");
        char got_all[4096] = "", want_all[4096] = "";
        for (size_t k = 0; k < rec.n; k++)
            snprintf(got_all + strlen(got_all), sizeof got_all - strlen(got_all), "%s\n", rec.lines[k]);
        json_t *e;
        json_array_foreach(want, j, e)
            snprintf(want_all + strlen(want_all), sizeof want_all - strlen(want_all), "%s\n", json_string_value(e));
        ck_assert_msg(strcmp(got_all, want_all) == 0, "%s:\ngot:\n%swant:\n%s", name, got_all, want_all);
    }
    json_decref(root);
}
END_TEST

/* ---- random captures of a known stream ---- */

#define STREAM 20000

struct check {
    const uint8_t *stream;
    uint8_t seen[STREAM]; /* 0 never, 1 delivered, 2 declared lost */
    uint64_t next;
    bool closed;
};

static void ck_data(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_dir d, uint64_t off, const uint8_t *p, size_t n,
                    int64_t ts)
{
    (void)c, (void)ts;
    struct check *k = ctx;
    ck_assert_int_eq(d, MTP_TCP_C2S);
    ck_assert_uint_eq(off, k->next);
    ck_assert_uint_le(off + n, STREAM);
    ck_assert_mem_eq(p, k->stream + off, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(k->seen[off + i], 0);
        k->seen[off + i] = 1;
    }
    k->next = off + n;
}

static void ck_gap(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_dir d, uint64_t off, uint64_t n, int64_t ts)
{
    (void)c, (void)ts, (void)d;
    struct check *k = ctx;
    ck_assert_uint_eq(off, k->next);
    ck_assert_uint_le(off + n, STREAM);
    for (uint64_t i = 0; i < n; i++) {
        ck_assert_uint_eq(k->seen[off + i], 0);
        k->seen[off + i] = 2;
    }
    k->next = off + n;
}

static void ck_close(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_end how, int64_t ts)
{
    (void)c, (void)ts, (void)how;
    ((struct check *)ctx)->closed = true;
}

struct piece {
    uint32_t off, len;
};

/* drop_pct: share of pieces left out of the capture; max_held: the reassembler's limit. */
static void random_capture(uint32_t seed, int drop_pct, size_t max_held, bool fin)
{
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, &seed, sizeof seed, 0);
    static uint8_t stream[STREAM];
    ck_assert_ok(mtp_env_rand(&env, stream, sizeof stream));
    /* pieces: random cuts, then duplicates and overlapping re-cuts of random ranges */
    static struct piece pieces[4096];
    size_t np = 0;
    for (uint32_t at = 0; at < STREAM;) {
        uint16_t r;
        ck_assert_ok(mtp_env_rand(&env, &r, sizeof r));
        uint32_t len = 1 + r % 1500;
        if (at + len > STREAM)
            len = STREAM - at;
        pieces[np++] = (struct piece){at, len};
        at += len;
    }
    size_t base = np;
    for (size_t i = 0; i < base / 3; i++) {
        uint32_t r[2];
        ck_assert_ok(mtp_env_rand(&env, r, sizeof r));
        uint32_t off = r[0] % STREAM, len = 1 + r[1] % 2000;
        if (off + len > STREAM)
            len = STREAM - off;
        pieces[np++] = (struct piece){off, len};
    }
    /* a mild shuffle: each piece moves a few places (captures reorder locally) */
    for (size_t i = 0; i + 1 < np; i++) {
        uint8_t r;
        ck_assert_ok(mtp_env_rand(&env, &r, 1));
        size_t j = i + r % 6;
        if (j >= np)
            j = np - 1;
        struct piece t = pieces[i];
        pieces[i] = pieces[j];
        pieces[j] = t;
    }
    struct check k = {.stream = stream};
    struct mtp_tcp_reasm_cb cb = {NULL, ck_data, ck_gap, ck_close, &k};
    struct mtp_tcp_reasm_opts o = {.max_held = max_held};
    struct mtp_tcp_reasm r;
    mtp_tcp_reasm_init(&r, &cb, &o);
    uint32_t isn = 0xfffff000u + seed; /* wraps inside the stream */
    struct mtp_tcp_seg syn = {.src = addr(1, 50000), .dst = addr(2, 443), .seq = isn, .flags = MTP_TCP_SYN};
    mtp_tcp_reasm_add(&r, &syn);
    size_t dropped = 0;
    for (size_t i = 0; i < np; i++) {
        uint8_t d;
        ck_assert_ok(mtp_env_rand(&env, &d, 1));
        if (d % 100 < drop_pct) {
            dropped++;
            continue;
        }
        struct mtp_tcp_seg s = {.src = addr(1, 50000), .dst = addr(2, 443), .seq = isn + 1 + pieces[i].off,
                                .data = stream + pieces[i].off, .len = pieces[i].len};
        mtp_tcp_reasm_add(&r, &s);
    }
    if (fin) {
        struct mtp_tcp_seg f = {.src = addr(1, 50000), .dst = addr(2, 443), .seq = isn + 1 + STREAM,
                                .flags = MTP_TCP_FIN};
        mtp_tcp_reasm_add(&r, &f);
        struct mtp_tcp_seg g = {.src = addr(2, 443), .dst = addr(1, 50000), .seq = 7, .flags = MTP_TCP_FIN};
        mtp_tcp_reasm_add(&r, &g);
    }
    mtp_tcp_reasm_finish(&r, 0);
    mtp_tcp_reasm_free(&r);
    ck_assert(k.closed);
    size_t delivered = 0;
    for (size_t i = 0; i < STREAM; i++)
        delivered += k.seen[i] == 1;
    if (drop_pct == 0 && max_held >= STREAM) {
        ck_assert_uint_eq(delivered, STREAM);
    } else if (fin) {
        /* with the FIN known every byte is accounted for */
        for (size_t i = 0; i < STREAM; i++)
            ck_assert_uint_ne(k.seen[i], 0);
    }
    (void)dropped;
}

START_TEST(shuffled_duplicated_overlapping) { random_capture((uint32_t)_i, 0, 1u << 20, _i % 2 == 0); }
END_TEST

START_TEST(dropped_segments_are_gaps) { random_capture((uint32_t)_i + 100, 10, 1u << 20, true); }
END_TEST

START_TEST(held_bytes_are_bounded) { random_capture((uint32_t)_i + 200, 0, 3000, true); }
END_TEST

static int opens, closes_evicted;
static void cnt_open(void *ctx, struct mtp_tcp_conn *c) { (void)ctx, (void)c, opens++; }
static void cnt_close(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_end how, int64_t ts)
{
    (void)ctx, (void)c, (void)ts;
    closes_evicted += how == MTP_TCP_END_EVICTED;
}

START_TEST(connections_are_bounded)
{
    struct mtp_tcp_reasm_cb cb = {cnt_open, NULL, NULL, cnt_close, NULL};
    struct mtp_tcp_reasm_opts o = {.max_conns = 100};
    struct mtp_tcp_reasm r;
    mtp_tcp_reasm_init(&r, &cb, &o);
    opens = closes_evicted = 0;
    for (int i = 0; i < 5000; i++) {
        struct mtp_tcp_seg s = {.src = addr(1, (uint16_t)(10000 + i)), .dst = addr(2, 443), .seq = 1,
                                .flags = MTP_TCP_SYN};
        mtp_tcp_reasm_add(&r, &s);
        ck_assert_uint_le(r.nconns, 100);
    }
    ck_assert_int_eq(opens, 5000);
    ck_assert_int_eq(closes_evicted, 4900);
    mtp_tcp_reasm_finish(&r, 0);
    ck_assert_uint_eq(r.nconns, 0);
    mtp_tcp_reasm_free(&r);
}
END_TEST

static Suite *tcp_reasm_suite(void)
{
    Suite *s = suite_create("tcp_reasm");
    TCase *tc = tcase_create("reasm");
    tcase_add_test(tc, vectors);
    tcase_add_loop_test(tc, shuffled_duplicated_overlapping, 0, 8);
    tcase_add_loop_test(tc, dropped_segments_are_gaps, 0, 8);
    tcase_add_loop_test(tc, held_bytes_are_bounded, 0, 4);
    tcase_add_test(tc, connections_are_bounded);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(tcp_reasm_suite)
