#include <stdlib.h>
#include <string.h>

#include "mtp/tr_conn.h"
#include "mtp_test.h"

#define NMSG 5
static const size_t sizes[NMSG] = {4, 40, 508, 1024, 12};

static void fill(uint8_t *p, size_t n, unsigned salt)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + salt);
}

/* Feeds bytes to c in chunks of chunk bytes and checks the frames against the messages sent. */
static int receive(struct mtp_tr_conn *c, uint8_t *bytes, size_t len, size_t chunk, bool from_client,
                   size_t *got, bool *acked)
{
    struct mtp_error err;
    for (size_t at = 0; at < len; at += chunk) {
        size_t n = at + chunk > len ? len - at : chunk;
        mtp_tr_conn_feed(c, bytes + at, n);
        int rc;
        struct mtp_tr_frame f;
        mtp_error_clear(&err);
        while ((rc = mtp_tr_conn_next(c, &f, &err)) == MTP_OK) {
            if (f.is_ack) {
                ck_assert(!from_client);
                ck_assert_uint_eq(f.ack_token, 0x80abcdefu);
                *acked = true;
                continue;
            }
            ck_assert_uint_lt(*got, NMSG);
            uint8_t want[1024];
            fill(want, sizes[*got], (unsigned)*got + (from_client ? 0 : 100));
            /* padded frames carry their padding after the payload */
            if (c->kind == MTP_TR_PADDED)
                ck_assert_uint_le(f.len - sizes[*got], MTP_TR_PADDING_MAX);
            else
                ck_assert_uint_eq(f.len, sizes[*got]);
            ck_assert_mem_eq(f.data, want, sizes[*got]);
            ck_assert_int_eq(f.quick_ack, from_client && c->kind != MTP_TR_FULL && *got % 2 == 1);
            (*got)++;
        }
        if (rc != MTP_ERR_NEED_MORE)
            return rc;
    }
    return MTP_OK;
}

struct pair_case {
    enum mtp_tr_kind kind;
    bool obfuscated;
    const char *secret;
    int16_t dc;
};

static void parse_secret(const char *hex, struct mtp_obfs_secret *s)
{
    size_t len = 0;
    uint8_t *p = hex ? mtp_test_hex(hex, &len) : NULL;
    ck_assert_ok(mtp_obfs_secret_parse(s, p, len, NULL));
}

static void run_pair(const struct pair_case *pc, size_t chunk)
{
    struct mtp_det_state ds_c, ds_s;
    struct mtp_env env_c = mtp_env_deterministic(&ds_c, "client", 6, 0);
    struct mtp_env env_s = mtp_env_deterministic(&ds_s, "server", 6, 0);
    struct mtp_tr_conn_opts co = {.side = MTP_TR_CLIENT, .kind = pc->kind, .obfuscated = pc->obfuscated,
                                  .dc = pc->dc, .env = &env_c};
    struct mtp_tr_conn_opts so = {.side = MTP_TR_SERVER, .env = &env_s, .require_obfs = pc->obfuscated};
    parse_secret(pc->secret, &co.secret);
    parse_secret(pc->secret, &so.secret);
    struct mtp_tr_conn c, s;
    ck_assert_ok(mtp_tr_conn_init(&c, &co, NULL));
    ck_assert_ok(mtp_tr_conn_init(&s, &so, NULL));

    struct mtp_wr up, down;
    mtp_wr_init_dyn(&up, 1 << 20, NULL);
    mtp_wr_init_dyn(&down, 1 << 20, NULL);
    uint8_t msg[1024];
    for (size_t i = 0; i < NMSG; i++) {
        fill(msg, sizes[i], (unsigned)i);
        struct mtp_tr_send m = {.data = msg, .len = sizes[i], .quick_ack = pc->kind != MTP_TR_FULL && i % 2 == 1};
        ck_assert_ok(mtp_tr_conn_send(&c, &m, &up, NULL));
    }
    if (pc->obfuscated)
        ck_assert_uint_eq(c.obfs.kind, pc->kind);
    size_t got = 0;
    bool acked = false;
    ck_assert_ok(receive(&s, up.p, up.len, chunk, true, &got, &acked));
    ck_assert_uint_eq(got, NMSG);
    ck_assert_int_eq(s.kind, pc->kind);
    ck_assert_int_eq(s.obfuscated, pc->obfuscated);
    /* without a DC id, bytes 60..61 are random, but both ends read the same */
    ck_assert_int_eq(s.dc, pc->dc ? pc->dc : c.dc);

    for (size_t i = 0; i < NMSG; i++) {
        fill(msg, sizes[i], (unsigned)i + 100);
        struct mtp_tr_send m = {.data = msg, .len = sizes[i]};
        ck_assert_ok(mtp_tr_conn_send(&s, &m, &down, NULL));
        if (i == 2 && pc->kind != MTP_TR_FULL)
            ck_assert_ok(mtp_tr_conn_send_ack(&s, 0x80abcdefu, &down, NULL));
    }
    got = 0;
    ck_assert_ok(receive(&c, down.p, down.len, chunk, false, &got, &acked));
    ck_assert_uint_eq(got, NMSG);
    ck_assert_int_eq(acked, pc->kind != MTP_TR_FULL);
    mtp_wr_free(&up);
    mtp_wr_free(&down);
    mtp_tr_conn_free(&c);
    mtp_tr_conn_free(&s);
}

static const struct pair_case pairs[] = {
    {MTP_TR_ABRIDGED, false, NULL, 0},
    {MTP_TR_INTERMEDIATE, false, NULL, 0},
    {MTP_TR_PADDED, false, NULL, 0},
    {MTP_TR_FULL, false, NULL, 0},
    {MTP_TR_ABRIDGED, true, NULL, 0},
    {MTP_TR_INTERMEDIATE, true, NULL, 0},
    {MTP_TR_PADDED, true, NULL, 0},
    {MTP_TR_ABRIDGED, true, "00112233445566778899aabbccddeeff", 2},
    {MTP_TR_INTERMEDIATE, true, "00112233445566778899aabbccddeeff", -4},
    {MTP_TR_PADDED, true, "dd00112233445566778899aabbccddeeff", 10002},
    {MTP_TR_PADDED, true, "ee00112233445566778899aabbccddeeff6578616d706c652e636f6d", 1},
};

START_TEST(client_server_pairs)
{
    static const size_t chunks[] = {1, 3, 64, 1 << 20};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
        run_pair(&pairs[_i], chunks[i]);
}
END_TEST

static int server_reads(const char *hex, const struct mtp_tr_conn_opts *so, struct mtp_error *err)
{
    size_t len;
    uint8_t *p = mtp_test_hex(hex, &len);
    struct mtp_tr_conn s;
    ck_assert_ok(mtp_tr_conn_init(&s, so, NULL));
    mtp_tr_conn_feed(&s, p, len);
    struct mtp_tr_frame f;
    mtp_error_clear(err);
    int rc;
    while ((rc = mtp_tr_conn_next(&s, &f, err)) == MTP_OK)
        ;
    /* failures are sticky */
    if (rc != MTP_ERR_NEED_MORE) {
        struct mtp_error again;
        mtp_error_clear(&again);
        ck_assert_rc(mtp_tr_conn_next(&s, &f, &again), rc);
    }
    mtp_tr_conn_free(&s);
    return rc;
}

START_TEST(server_refusals)
{
    struct mtp_tr_conn_opts so = {.side = MTP_TR_SERVER};
    struct mtp_error err;
    ck_assert_rc(server_reads("504f5354202f20485454502f312e31", &so, &err), MTP_ERR_UNSUPPORTED);
    ck_assert_str_eq(err.msg, "connection: HTTP transport is not supported");
    ck_assert_rc(server_reads("1603010200010001fc0303", &so, &err), MTP_ERR_UNSUPPORTED);
    ck_assert_rc(server_reads("eeeeeeee0400000001020304", &so, &err), MTP_ERR_NEED_MORE);
    ck_assert_rc(server_reads("ef7fffffff", &so, &err), MTP_ERR_TR_BAD_LENGTH);
    ck_assert_rc(server_reads("1000000000000000a1a2a3a42654770c" "1000000000000000a1a2a3a42654770c", &so, &err),
                 MTP_ERR_TR_BAD_SEQ);
    /* a full stream that starts at seq 1 does not even look like full: it waits for 64 bytes of an init */
    ck_assert_rc(server_reads("1000000001000000b1b2b3b462a297db", &so, &err), MTP_ERR_NEED_MORE);
    so.require_obfs = true;
    ck_assert_rc(server_reads("eeeeeeee0400000001020304", &so, &err), MTP_ERR_OBFS_BAD_INIT);
    ck_assert_str_eq(err.msg, "connection: plain intermediate refused, only obfuscated connections are accepted");
    /* an obfuscated init (Telethon's, vectors/transport/obfuscated.json #13) read without its secret */
    ck_assert_rc(server_reads("4226937b9d3d088f64aabac55ae0a6a3727c115bc3009caeddf94a847de7c5984eb374ae6831b650f83f99"
                              "f690cfee3e1636f8b4a6468f2df204a90c113b6fb8",
                              &so, &err),
                 MTP_ERR_OBFS_BAD_TAG);
    parse_secret("ddd8126e73d27f55ebcb3a6d2d1c12fce7", &so.secret);
    ck_assert_rc(server_reads("4226937b9d3d088f64aabac55ae0a6a3727c115bc3009caeddf94a847de7c5984eb374ae6831b650f83f99"
                              "f690cfee3e1636f8b4a6468f2df204a90c113b6fb8",
                              &so, &err),
                 MTP_ERR_NEED_MORE);
}
END_TEST

START_TEST(client_start_and_misuse)
{
    /* a fixed init replays Telethon's bytes (vectors/transport/obfuscated.json #13) */
    size_t len;
    uint8_t *init = mtp_test_hex("4226937b9d3d088f64aabac55ae0a6a3727c115bc3009caeddf94a847de7c5984eb374ae6831b650f83f"
                                 "99f690cfee3e1636f8b4a6468f2ddddddddd040089bf",
                                 &len);
    struct mtp_tr_conn_opts co = {.side = MTP_TR_CLIENT, .kind = MTP_TR_PADDED, .obfuscated = true, .init = init};
    parse_secret("ddd8126e73d27f55ebcb3a6d2d1c12fce7", &co.secret);
    struct mtp_tr_conn c;
    ck_assert_ok(mtp_tr_conn_init(&c, &co, NULL));
    uint8_t buf[128];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_tr_conn_start(&c, &w, NULL));
    ck_assert_ok(mtp_tr_conn_start(&c, &w, NULL));
    ck_assert_hex_eq(w.p, w.len,
                     "4226937b9d3d088f64aabac55ae0a6a3727c115bc3009caeddf94a847de7c5984eb374ae6831b650f83f99f690cfee3e"
                     "1636f8b4a6468f2df204a90c113b6fb8");
    ck_assert_int_eq(c.dc, 4);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tr_conn_send_ack(&c, 0x80000000u, &w, &err), MTP_ERR_ARG);
    mtp_tr_conn_free(&c);

    /* the init must carry the transport asked for */
    co.kind = MTP_TR_INTERMEDIATE;
    co.secret.mode = MTP_OBFS_SECRET_SIMPLE;
    ck_assert_ok(mtp_tr_conn_init(&c, &co, NULL));
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tr_conn_start(&c, &w, &err), MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "connection: the given init carries padded, not intermediate");
    mtp_tr_conn_free(&c);

    /* full cannot be obfuscated; a plain client's start is its tag */
    co.kind = MTP_TR_FULL;
    ck_assert_rc(mtp_tr_conn_init(&c, &co, NULL), MTP_ERR_ARG);
    struct mtp_tr_conn_opts plain = {.side = MTP_TR_CLIENT, .kind = MTP_TR_ABRIDGED};
    ck_assert_ok(mtp_tr_conn_init(&c, &plain, NULL));
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    ck_assert_ok(mtp_tr_conn_start(&c, &w, NULL));
    ck_assert_hex_eq(w.p, w.len, "ef");
    mtp_tr_conn_free(&c);

    /* a server cannot send before it knows the transport, nor start */
    struct mtp_tr_conn_opts so = {.side = MTP_TR_SERVER};
    ck_assert_ok(mtp_tr_conn_init(&c, &so, NULL));
    struct mtp_tr_send m = {.data = buf, .len = 4};
    ck_assert_rc(mtp_tr_conn_send(&c, &m, &w, NULL), MTP_ERR_ARG);
    ck_assert_rc(mtp_tr_conn_start(&c, &w, NULL), MTP_ERR_ARG);
    mtp_tr_conn_free(&c);
}
END_TEST

static Suite *tr_conn_suite(void)
{
    Suite *s = suite_create("tr_conn");
    TCase *tc = tcase_create("pairs");
    tcase_add_loop_test(tc, client_server_pairs, 0, (int)(sizeof pairs / sizeof pairs[0]));
    suite_add_tcase(s, tc);
    TCase *bad = tcase_create("malformed");
    tcase_add_test(bad, server_refusals);
    tcase_add_test(bad, client_start_and_misuse);
    suite_add_tcase(s, bad);
    return s;
}

MTP_TEST_MAIN(tr_conn_suite)
