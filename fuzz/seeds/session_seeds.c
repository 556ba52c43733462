/* Writes the seed corpora of fuzz_session_recv and fuzz_session_client_recv.
 *
 * The seeds are real exchanges between the reference client and server cores
 * (set up exactly as the fuzz targets set them up, see fuzz_session_common.h),
 * plus hand-made messages that break each rule once.  Regenerate with:
 *
 *   cmake --build build --target mtp
 *   cc -std=c17 -D_DEFAULT_SOURCE -Iharness/include -Ifuzz fuzz/seeds/session_seeds.c build/libmtp.a \
 *      -lcrypto -lz -o build/session_seeds && build/session_seeds fuzz/corpus
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_session_common.h"
#include "mtp/gzip.h"

#define MAX_MSGS 64

struct script {
    uint8_t buf[1 << 18];
    size_t len;
};

struct msgs {
    uint8_t *p[MAX_MSGS];
    size_t len[MAX_MSGS];
    size_t n;
};

static void die(const char *what)
{
    fprintf(stderr, "session_seeds: %s\n", what);
    exit(1);
}

static void collect(void *ctx, const uint8_t *p, size_t n)
{
    struct msgs *m = ctx;
    if (m->n == MAX_MSGS)
        die("too many messages");
    m->p[m->n] = malloc(n);
    memcpy(m->p[m->n], p, n);
    m->len[m->n++] = n;
}

static void script_start(struct script *s, uint8_t sel)
{
    s->buf[0] = sel;
    s->len = 1;
}

static void script_add(struct script *s, uint8_t advance, const uint8_t *p, size_t n)
{
    if (n > 0xffff || s->len + 3 + n > sizeof s->buf)
        die("record too large");
    s->buf[s->len++] = advance;
    s->buf[s->len++] = (uint8_t)n;
    s->buf[s->len++] = (uint8_t)(n >> 8);
    if (n > 0)
        memcpy(s->buf + s->len, p, n);
    s->len += n;
}

static void script_write(const struct script *s, const char *dir, const char *target, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(s->buf, 1, s->len, f) != s->len || fclose(f) != 0)
        die(path);
}

static void one(const char *dir, const char *target, const char *name, uint8_t sel, const uint8_t *p, size_t n)
{
    struct script *s = malloc(sizeof *s);
    script_start(s, sel);
    script_add(s, 0, p, n);
    script_write(s, dir, target, name);
    free(s);
}

/* An inner message with zero padding. */
static size_t craft(uint8_t *out, size_t cap, uint64_t salt, uint64_t session, uint64_t msg_id, int32_t seqno,
                    const uint8_t *body, size_t len)
{
    static const uint8_t zeros[32];
    struct mtp_script_state st;
    struct mtp_env env = mtp_env_scripted(&st, zeros, sizeof zeros, 0);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, out, cap, NULL);
    struct mtp_msg_header h = {salt, session, msg_id, seqno, (uint32_t)len};
    if (mtp_msg_build(&w, &h, body, len, mtp_msg_padding_len(len, 0), &env) != MTP_OK)
        die("craft");
    return w.len;
}

/* Rejections are part of what the seeds are for. */
static void feed(struct fz *f, const uint8_t *p, size_t n)
{
    struct mtp_error err;
    if (mtp_session_recv(&f->s, p, n, &err) < 0)
        return;
}

static uint64_t at(int64_t ms, unsigned kind) { return mtp_msgid_from_ms(FZ_T0 + ms) | kind; }

/* The ids of the requests fz_client_init sends, in order. */
static uint64_t client_req(int i) { return mtp_msgid_from_ms(FZ_T0) + 4 * (uint64_t)(i + 1); }

/* A normal conversation: every message each way becomes a seed, plus both transcripts. */
static void conversation(const char *dir)
{
    struct fz *c = malloc(sizeof *c), *s = malloc(sizeof *s);
    fz_client_init(c, 0);
    fz_server_init(s, 0);
    struct msgs to_server = {0}, to_client = {0};
    fz_drain(c, collect, &to_server);
    size_t cs = 0, sc = 0;
    for (int round = 0; round < 6; round++) {
        for (; cs < to_server.n; cs++) {
            feed(s, to_server.p[cs], to_server.len[cs]);
            fz_drain(s, collect, &to_client);
        }
        for (; sc < to_client.n; sc++)
            feed(c, to_client.p[sc], to_client.len[sc]);
        mtp_session_flush_acks_now(&c->s);
        fz_drain(c, collect, &to_server);
    }
    struct script *all = malloc(sizeof *all);
    char name[64];
    script_start(all, 0);
    for (size_t i = 0; i < to_server.n; i++) {
        snprintf(name, sizeof name, "conversation_%02zu", i);
        one(dir, "fuzz_session_recv", name, 0, to_server.p[i], to_server.len[i]);
        script_add(all, 0, to_server.p[i], to_server.len[i]);
    }
    script_write(all, dir, "fuzz_session_recv", "conversation_all");
    script_start(all, 0);
    for (size_t i = 0; i < to_client.n; i++) {
        snprintf(name, sizeof name, "conversation_%02zu", i);
        one(dir, "fuzz_session_client_recv", name, 0, to_client.p[i], to_client.len[i]);
        script_add(all, 0, to_client.p[i], to_client.len[i]);
    }
    script_write(all, dir, "fuzz_session_client_recv", "conversation_all");
    printf("conversation: %zu client messages, %zu server messages\n", to_server.n, to_client.n);
    for (size_t i = 0; i < to_server.n; i++)
        free(to_server.p[i]);
    for (size_t i = 0; i < to_client.n; i++)
        free(to_client.p[i]);
    free(all);
    mtp_session_free(&c->s);
    mtp_session_free(&s->s);
    free(c);
    free(s);
}

/* The server's answer to the client's first flight under a changed condition. */
static void server_answer(const char *dir, const char *name, uint64_t client_salt, int64_t server_skew_ms)
{
    struct fz *c = malloc(sizeof *c), *s = malloc(sizeof *s);
    fz_client_init(c, 0);
    if (mtp_session_set_salt(&c->s, client_salt) != MTP_OK)
        die("salt");
    fz_server_init(s, 0);
    s->st.now_ms += server_skew_ms;
    struct msgs to_server = {0}, to_client = {0};
    fz_drain(c, collect, &to_server);
    for (size_t i = 0; i < to_server.n; i++)
        feed(s, to_server.p[i], to_server.len[i]);
    fz_drain(s, collect, &to_client);
    struct script *sc = malloc(sizeof *sc);
    script_start(sc, 0);
    for (size_t i = 0; i < to_client.n; i++)
        script_add(sc, 0, to_client.p[i], to_client.len[i]);
    script_write(sc, dir, "fuzz_session_client_recv", name);
    /* The same client flight for the server fuzzer, with its clock moved the
     * same way (its clock only moves forward). */
    if (server_skew_ms < 0)
        goto out;
    script_start(sc, 0);
    int64_t skew = server_skew_ms / 1000;
    while (skew > 255) {
        script_add(sc, 255, NULL, 0);
        skew -= 255;
    }
    for (size_t i = 0; i < to_server.n; i++)
        script_add(sc, i == 0 ? (uint8_t)skew : 0, to_server.p[i], to_server.len[i]);
    script_write(sc, dir, "fuzz_session_recv", name);
out:
    for (size_t i = 0; i < to_server.n; i++)
        free(to_server.p[i]);
    for (size_t i = 0; i < to_client.n; i++)
        free(to_client.p[i]);
    free(sc);
    mtp_session_free(&c->s);
    mtp_session_free(&s->s);
    free(c);
    free(s);
}

struct body {
    uint8_t p[4096];
    struct mtp_wr w;
};

static struct mtp_wr *body_start(struct body *b)
{
    mtp_wr_init_fixed(&b->w, b->p, sizeof b->p, NULL);
    return &b->w;
}

static void ok(int rc)
{
    if (rc != MTP_OK)
        die("writer");
}

/* Hand-made server messages for the client, each about the client's requests. */
static void client_crafted(const char *dir)
{
    uint8_t m[8192];
    struct body b;
    size_t n;
    uint64_t q = client_req(0);
    const char *T = "fuzz_session_client_recv";

    uint64_t ids[3] = {client_req(0), client_req(1), client_req(2)};
    ok(mtp_svc_write_ids(body_start(&b), MTP_SVC_msgs_ack, ids, 3));
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(10, 3), 0, b.w.p, b.w.len);
    one(dir, T, "msgs_ack", 0, m, n);

    static const int32_t codes[] = {16, 17, 18, 19, 20, 32, 33, 34, 35, 48, 64};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        ok(mtp_svc_write_bad_msg(body_start(&b), q, 1, codes[i]));
        n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(20, 1), 0, b.w.p, b.w.len);
        char name[32];
        snprintf(name, sizeof name, "bad_msg_%d", codes[i]);
        one(dir, T, name, 0, m, n);
    }
    ok(mtp_svc_write_bad_server_salt(body_start(&b), mtp_msgid_from_ms(FZ_T0) + 4 * 10, 12, 0xabcdef));
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(20, 1), 0, b.w.p, b.w.len);
    one(dir, T, "bad_server_salt_container", 0, m, n);

    ok(mtp_svc_write_ids(body_start(&b), MTP_SVC_msg_resend_req, &q, 1));
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(30, 3), 1, b.w.p, b.w.len);
    one(dir, T, "msg_resend_req", 0, m, n);

    uint64_t ask[2] = {at(10, 3), at(99999, 3)};
    ok(mtp_svc_write_ids(body_start(&b), MTP_SVC_msgs_state_req, ask, 2));
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(40, 3), 1, b.w.p, b.w.len);
    one(dir, T, "msgs_state_req", 0, m, n);

    uint8_t info[2] = {4, 2};
    ok(mtp_svc_write_state_info(body_start(&b), MTP_SVC_msgs_all_info, 0, ask, 2, info, 2));
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(50, 3), 0, b.w.p, b.w.len);
    one(dir, T, "msgs_all_info", 0, m, n);

    ok(mtp_svc_write_detailed_info(body_start(&b), q, at(60, 1), 100, 0));
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(61, 3), 0, b.w.p, b.w.len);
    one(dir, T, "msg_detailed_info", 0, m, n);

    ok(mtp_svc_write_new_detailed_info(body_start(&b), at(70, 3), 100, 0));
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(71, 3), 0, b.w.p, b.w.len);
    one(dir, T, "msg_new_detailed_info", 0, m, n);

    ok(mtp_svc_write_ping(body_start(&b), 99));
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(80, 3), 1, b.w.p, b.w.len);
    one(dir, T, "ping", 0, m, n);

    /* rpc_result carrying a gzip bomb (run with the small gzip limit). */
    uint8_t *zeros = calloc(1, 1 << 16);
    struct mtp_wr *w = body_start(&b);
    ok(mtp_svc_write_rpc_result_head(w, q));
    ok(mtp_gzip_packed_write(w, zeros, 1 << 16));
    free(zeros);
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(90, 1), 1, b.w.p, b.w.len);
    one(dir, T, "rpc_result_gzip_bomb", 8, m, n);

    /* A container from the server: an ack and an rpc_error. */
    struct body inner;
    ok(mtp_svc_write_rpc_result_head(body_start(&inner), q));
    ok(mtp_svc_write_rpc_error(&inner.w, 420, "FLOOD_WAIT_1", 12));
    struct mtp_container_wr cw;
    ok(mtp_container_begin(&cw, body_start(&b)));
    ok(mtp_container_add(&cw, at(100, 1), 1, inner.w.p, inner.w.len));
    ok(mtp_svc_write_ids(body_start(&inner), MTP_SVC_msgs_ack, ids, 1));
    ok(mtp_container_add(&cw, at(101, 3), 2, inner.w.p, inner.w.len));
    ok(mtp_container_end(&cw));
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(102, 1), 2, b.w.p, b.w.len);
    one(dir, T, "container_error_and_ack", 0, m, n);
}

/* Hand-made client messages for the server, each breaking one rule (or none). */
static void server_crafted(const char *dir)
{
    uint8_t m[8192];
    struct body b, inner;
    size_t n;
    const char *T = "fuzz_session_recv";
    static const uint8_t query[4] = {0x6b, 0x18, 0xf9, 0xc4};
    struct script *s = malloc(sizeof *s);

    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(100, 0) | 2, 1, query, 4);
    one(dir, T, "low_bits", 0, m, n);
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(100, 0), 2, query, 4);
    one(dir, T, "even_seqno_query", 0, m, n);

    /* Seqno order faults and a duplicate, in one script. */
    script_start(s, 0);
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(500, 0), 5, query, 4);
    script_add(s, 0, m, n);
    script_add(s, 0, m, n);
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(600, 0), 3, query, 4);
    script_add(s, 0, m, n);
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(400, 0), 7, query, 4);
    script_add(s, 0, m, n);
    script_write(s, dir, T, "seqno_faults");

    /* A container with a nested container, and one with a nested id above its own. */
    struct mtp_container_wr cw;
    static const uint8_t empty[8] = {0xdc, 0xf8, 0xf1, 0x73, 0, 0, 0, 0};
    ok(mtp_container_begin(&cw, body_start(&b)));
    ok(mtp_container_add(&cw, at(100, 0), 1, query, 4));
    ok(mtp_container_add(&cw, at(101, 0), 2, empty, 8));
    ok(mtp_container_end(&cw));
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(102, 0), 2, b.w.p, b.w.len);
    one(dir, T, "nested_container", 0, m, n);
    ok(mtp_container_begin(&cw, body_start(&b)));
    ok(mtp_container_add(&cw, at(300, 0), 1, query, 4));
    ok(mtp_container_end(&cw));
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(200, 0), 2, b.w.p, b.w.len);
    one(dir, T, "container_id_order", 0, m, n);

    /* Every client service message the server handles, in one container. */
    ok(mtp_container_begin(&cw, body_start(&b)));
    uint64_t id = at(100, 0);
    int32_t seq = 1;
    ok(mtp_svc_write_ping_delay_disconnect(body_start(&inner), 5, 3));
    ok(mtp_container_add(&cw, id += 4, seq, inner.w.p, inner.w.len));
    ok(mtp_svc_write_get_future_salts(body_start(&inner), 64));
    ok(mtp_container_add(&cw, id += 4, seq += 2, inner.w.p, inner.w.len));
    ok(mtp_svc_write_session(body_start(&inner), MTP_SVC_destroy_session, 0x77));
    ok(mtp_container_add(&cw, id += 4, seq += 2, inner.w.p, inner.w.len));
    uint64_t ask[2] = {at(100, 0) + 4, at(999, 0)};
    ok(mtp_svc_write_ids(body_start(&inner), MTP_SVC_msgs_state_req, ask, 2));
    ok(mtp_container_add(&cw, id += 4, seq += 2, inner.w.p, inner.w.len));
    ok(mtp_svc_write_ids(body_start(&inner), MTP_SVC_msg_resend_req, ask, 1));
    ok(mtp_container_add(&cw, id += 4, seq += 2, inner.w.p, inner.w.len));
    ok(mtp_svc_write_http_wait(body_start(&inner), 0, 0, 25000));
    ok(mtp_container_add(&cw, id += 4, seq + 1, inner.w.p, inner.w.len));
    ok(mtp_svc_write_rpc_drop_answer(body_start(&inner), at(1, 0)));
    ok(mtp_container_add(&cw, id += 4, seq += 2, inner.w.p, inner.w.len));
    ok(mtp_container_end(&cw));
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, id + 4, seq + 1, b.w.p, b.w.len);
    script_start(s, 32);
    script_add(s, 0, m, n);
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, id + 8, seq + 2, query, 4);
    script_add(s, 4, m, n); /* after the disconnect delay */
    script_write(s, dir, T, "service_container");

    /* A gzip-packed query that inflates past the small limit. */
    uint8_t *zeros = calloc(1, 1 << 16);
    ok(mtp_gzip_packed_write(body_start(&b), zeros, 1 << 16));
    free(zeros);
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(100, 0), 1, b.w.p, b.w.len);
    one(dir, T, "gzip_bomb", 8, m, n);
    ok(mtp_gzip_packed_write(body_start(&b), query, 4));
    n = craft(m, sizeof m, FZ_SALT, FZ_SID, at(100, 0), 1, b.w.p, b.w.len);
    one(dir, T, "gzip_query", 0, m, n);
    free(s);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        die("usage: session_seeds <corpus dir>");
    conversation(argv[1]);
    server_answer(argv[1], "bad_server_salt", 0xbad, 0);
    server_answer(argv[1], "client_time_too_old", FZ_SALT, 400000);
    server_answer(argv[1], "client_time_too_new", FZ_SALT, -40000);
    client_crafted(argv[1]);
    server_crafted(argv[1]);
    return 0;
}
