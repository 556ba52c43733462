/* The mock DC's connection core, fed in memory: a mtps_client on the other
 * end of an in-memory wire, every transport, the exact transport errors, the
 * timeouts on a fake clock, and the scenario rules. */
#include <jansson.h>
#include <string.h>

#include "mtp/hex.h"
#include "mtp/msgcrypt.h"
#include "mtp/service.h"
#include "mtp_test.h"
#include "mtps_client.h"
#include "mtps_conn.h"
#include "mtps_pair.h"
#include "tlengine/tl_json.h"

#define T0 1700000000000ll

/* Per test process (Check forks each test). */
static struct mtp_det_state sds, cds;
static struct mtps_scenario scen;
static struct mtps_server srv;
static struct mtp_rsa_key *rsa;
static struct mtps_conn conn;
static struct mtps_client cl;

static struct mtp_rsa_key *test_key(void)
{
    size_t len;
    uint8_t *pem = mtp_test_read_file("vectors/rsa/test_key_private.pem", &len);
    struct mtp_rsa_key *k;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_rsa_key_from_pem(pem, len, &k, &err) == MTP_OK, "%s", err.msg);
    return k;
}

/* A server with the scenario given as JSON text (NULL: default) and limits changed by lim_fn. */
static void server_up(const char *scenario_json, void (*lim_fn)(struct mtps_limits *))
{
    struct mtp_error err;
    mtp_error_clear(&err);
    if (scenario_json)
        ck_assert_msg(mtps_scenario_parse(&scen, scenario_json, strlen(scenario_json), "test", &err) == MTP_OK, "%s",
                      err.msg);
    else
        mtps_scenario_default(&scen);
    struct mtps_limits lim;
    mtps_limits_default(&lim);
    mtps_scenario_apply_limits(&scen, &lim);
    if (lim_fn)
        lim_fn(&lim);
    rsa = test_key();
    struct mtps_server_cfg cfg = {
        .env = mtp_env_deterministic(&sds, "server", 6, T0),
        .limits = lim,
        .scenario = &scen,
        .rsa = rsa,
        .dc_ids = {2},
        .ndcs = 1,
    };
    ck_assert_msg(mtps_server_init(&srv, &cfg, &err) == MTP_OK, "%s", err.msg);
    mtps_server_set_addr(&srv, 0, "127.0.0.1", 4430);
}

static void server_down(void)
{
    mtps_server_free(&srv);
    mtp_rsa_key_free(rsa);
    mtps_scenario_free(&scen);
}

static void advance(int64_t ms)
{
    sds.now_ms += ms;
    cds.now_ms += ms;
}

static void client_up(enum mtp_tr_kind kind, bool obfuscated, bool salt_zero)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_env env = mtp_env_deterministic(&cds, "client", 6, T0);
    struct mtps_client_opts o = {.kind = kind, .obfuscated = obfuscated, .dc = 2, .server_key = rsa, .env = &env,
                                 .salt_zero = salt_zero};
    ck_assert_msg(mtps_client_init(&cl, &o, &err) == MTP_OK, "%s", err.msg);
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:1", 0, &err));
}

static void pump(void)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = mtps_pair_pump(&conn, &cl, &err);
    ck_assert_msg(rc == MTP_OK, "pump: %s (%s)", mtp_err_name(rc), err.msg);
}

static void handshake(void)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_client_start(&cl, &err));
    pump();
    ck_assert_msg(mtps_client_ready(&cl), "client not ready: %s", cl.error_text);
}

static void both_down(void)
{
    mtps_client_free(&cl);
    mtps_conn_free(&conn);
}

/* The output the connection has for the socket, as hex. */
static void assert_output(const char *hex)
{
    size_t n;
    const uint8_t *p = mtps_conn_output(&conn, &n);
    ck_assert_hex_eq(p, n, hex);
}

static void feed_hex(const char *hex)
{
    size_t n;
    uint8_t *p = mtp_test_hex(hex, &n);
    mtps_conn_feed(&conn, p, n);
}

/* invokeWithLayer(layer, initConnection(..., query)) from JSON through the schema. */
static size_t encode_query(const char *inner_json, int layer, uint8_t *out, size_t cap)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"_\":\"invokeWithLayer\",\"layer\":%d,\"query\":{\"_\":\"initConnection\",\"api_id\":1,"
             "\"device_model\":\"t\",\"system_version\":\"t\",\"app_version\":\"1\",\"system_lang_code\":\"en\","
             "\"lang_pack\":\"\",\"lang_code\":\"en\",\"query\":%s}}",
             layer, inner_json);
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    ck_assert_ptr_nonnull(j);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, out, cap, &err);
    ck_assert_msg(mtp_tl_json_encode(mtps_api_log_schema(&srv.api), NULL, j, &w, &err) == MTP_OK, "%s", err.msg);
    json_decref(j);
    return w.len;
}

struct variant {
    enum mtp_tr_kind kind;
    bool obfuscated;
};
static const struct variant variants[] = {
    {MTP_TR_ABRIDGED, false}, {MTP_TR_INTERMEDIATE, false}, {MTP_TR_PADDED, false},
    {MTP_TR_FULL, false},     {MTP_TR_ABRIDGED, true},      {MTP_TR_INTERMEDIATE, true},
    {MTP_TR_PADDED, true},
};
#define NVARIANTS (int)(sizeof variants / sizeof variants[0])

START_TEST(exchange_and_ping_on_every_transport)
{
    server_up(NULL, NULL);
    client_up(variants[_i].kind, variants[_i].obfuscated, false);
    handshake();
    /* Both ends agree on the key, and the server keeps it under its id. */
    ck_assert_uint_eq(srv.store.nkeys, 1);
    struct mtps_key *k = mtps_store_find_key(&srv.store, mtp_load_u64(cl.key.auth_key_id));
    ck_assert_ptr_nonnull(k);
    ck_assert_mem_eq(k->auth_key, cl.key.auth_key, 256);
    ck_assert_uint_eq(k->first_salt, mtp_load_u64(cl.key.server_salt));
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_client_ping(&cl, 0x1122334455667788ull, &err));
    pump();
    ck_assert_uint_eq(cl.pongs, 1);
    ck_assert_uint_eq(cl.last_pong_id, 0x1122334455667788ull);
    ck_assert_uint_eq(cl.new_sessions, 1);
    ck_assert_uint_eq(cl.bad_salts, 0);
    ck_assert_int_eq(mtps_conn_state(&conn), MTPS_CONN_OPEN);
    ck_assert_uint_eq(srv.store.nsessions, 1);
    both_down();
    ck_assert_uint_eq(srv.mem_used, 0);
    ck_assert_uint_eq(srv.nconns, 0);
    server_down();
}
END_TEST

START_TEST(obfuscated_with_a_proxy_secret)
{
    /* 16-byte secret: any transport; with "dd" in front: padded only (MTProxy's rule). */
    static const uint8_t raw[17] = {0xdd, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    for (int dd = 0; dd < 2; dd++) {
        server_up(NULL, NULL);
        struct mtp_error err;
        mtp_error_clear(&err);
        ck_assert_ok(mtp_obfs_secret_parse(&srv.secret, dd ? raw : raw + 1, dd ? 17 : 16, &err));
        struct mtp_env env = mtp_env_deterministic(&cds, "client", 6, T0);
        struct mtps_client_opts o = {.kind = dd ? MTP_TR_PADDED : MTP_TR_INTERMEDIATE, .obfuscated = true,
                                     .secret = srv.secret, .obfs_dc = 2, .dc = 2, .server_key = rsa, .env = &env};
        ck_assert_ok(mtps_client_init(&cl, &o, &err));
        ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:1", 0, &err));
        handshake();
        ck_assert_int_eq(conn.tr.dc, 2);
        ck_assert_ok(mtps_client_ping(&cl, 3, &err));
        pump();
        ck_assert_uint_eq(cl.pongs, 1);
        both_down();
        /* the wrong secret: the init decrypts to no tag, and the connection closes */
        struct mtp_obfs_secret other = srv.secret;
        other.key[0] ^= 1;
        o.secret = other;
        ck_assert_ok(mtps_client_init(&cl, &o, &err));
        ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:2", 0, &err));
        ck_assert_ok(mtps_client_start(&cl, &err));
        pump();
        ck_assert_int_eq(conn.reason, MTP_ERR_OBFS_BAD_TAG);
        both_down();
        server_down();
    }
}
END_TEST

START_TEST(nearest_dc_answer_is_the_template)
{
    server_up(NULL, NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    uint8_t q[512];
    size_t n = encode_query("{\"_\":\"help.getNearestDc\"}", 198, q, sizeof q);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_client_query(&cl, q, n, NULL, &err));
    pump();
    ck_assert_uint_eq(cl.results, 1);
    /* nearestDc#8e1a1775 country:"ZZ" this_dc:2 nearest_dc:2 */
    ck_assert_hex_eq(cl.last_result, cl.last_result_len, "75171a8e025a5a000200000002000000");
    ck_assert_int_eq(srv.store.klru->sessions->layer, 198);
    both_down();
    server_down();
}
END_TEST

START_TEST(config_answer_names_this_dc_and_address)
{
    server_up(NULL, NULL);
    client_up(MTP_TR_ABRIDGED, false, false);
    handshake();
    uint8_t q[512];
    size_t n = encode_query("{\"_\":\"help.getConfig\"}", 198, q, sizeof q);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_client_query(&cl, q, n, NULL, &err));
    pump();
    ck_assert_uint_eq(cl.results, 1);
    struct mtp_tl_arena a;
    mtp_tl_arena_init(&a, 0);
    struct mtp_tl_value v;
    struct mtp_tl_decode_opts o = {.allow_trailing = true};
    ck_assert_ok(mtp_tl_decode(mtps_api_log_schema(&srv.api), NULL, cl.last_result, cl.last_result_len, &o, &a, &v,
                               NULL, &err));
    const struct mtp_tl_object *obj = mtp_tl_value_object(&v);
    ck_assert_str_eq(obj->ctor->name, "config");
    ck_assert_int_eq(mtp_tl_obj_get(obj, "this_dc")->u.i, 2);
    ck_assert_int_eq(mtp_tl_obj_get(obj, "date")->u.i, (int32_t)(T0 / 1000));
    ck_assert_int_eq(mtp_tl_obj_get(obj, "expires")->u.i, (int32_t)(T0 / 1000) + 3600);
    const struct mtp_tl_value *opts = mtp_tl_obj_get(obj, "dc_options");
    ck_assert_uint_eq(opts->len, 1);
    const struct mtp_tl_object *dco = mtp_tl_value_object(&opts->u.items[0]);
    ck_assert_int_eq(mtp_tl_obj_get(dco, "id")->u.i, 2);
    ck_assert_int_eq(mtp_tl_obj_get(dco, "port")->u.i, 4430);
    const struct mtp_tl_value *ip = mtp_tl_obj_get(dco, "ip_address");
    ck_assert_uint_eq(ip->len, 9);
    ck_assert_mem_eq(ip->u.p, "127.0.0.1", 9);
    mtp_tl_arena_free(&a);
    both_down();
    server_down();
}
END_TEST

START_TEST(errors_for_unknown_and_broken_queries)
{
    server_up(NULL, NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    struct mtp_error err;
    mtp_error_clear(&err);
    uint8_t q[512];
    size_t n = encode_query("{\"_\":\"help.getAppConfig\",\"hash\":0}", 198, q, sizeof q);
    ck_assert_ok(mtps_client_query(&cl, q, n, NULL, &err));
    pump();
    ck_assert_uint_eq(cl.rpc_errors, 1);
    ck_assert_int_eq(cl.last_rpc_code, 400);
    ck_assert_str_eq(cl.last_rpc_message, "METHOD_NOT_SUPPORTED");
    /* A constructor id no schema has. */
    uint8_t unknown[8] = {0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0};
    ck_assert_ok(mtps_client_query(&cl, unknown, sizeof unknown, NULL, &err));
    pump();
    ck_assert_uint_eq(cl.rpc_errors, 2);
    ck_assert_str_eq(cl.last_rpc_message, "INPUT_METHOD_INVALID");
    /* A known method cut short: help.getAppConfig without its hash. */
    uint8_t cut[4] = {0x54, 0xf8, 0xe3, 0x61};
    ck_assert_ok(mtps_client_query(&cl, cut, sizeof cut, NULL, &err));
    pump();
    ck_assert_uint_eq(cl.rpc_errors, 3);
    ck_assert_str_eq(cl.last_rpc_message, "INPUT_FETCH_ERROR");
    ck_assert_int_eq(mtps_conn_state(&conn), MTPS_CONN_OPEN);
    both_down();
    server_down();
}
END_TEST

START_TEST(unknown_auth_key_gets_404)
{
    server_up(NULL, NULL);
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:1", 0, NULL));
    /* intermediate tag, then a 40-byte packet under auth_key_id 0102030405060708 */
    feed_hex("eeeeeeee28000000"
             "0102030405060708"
             "00000000000000000000000000000000"
             "0000000000000000000000000000000000000000000000000000000000000000");
    /* the frame of transport error -404, then the connection drains and closes */
    assert_output("040000006cfeffff");
    ck_assert_int_eq(mtps_conn_state(&conn), MTPS_CONN_DRAIN);
    ck_assert_int_eq(conn.reason, MTP_ERR_SRV_UNKNOWN_KEY);
    ck_assert_str_eq(conn.reason_text, "auth_key_id 0807060504030201 is not known");
    ck_assert_uint_eq(srv.stats.errors_404, 1);
    mtps_conn_free(&conn);
    server_down();
}
END_TEST

START_TEST(undecryptable_packet_gets_404)
{
    server_up(NULL, NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    uint8_t pkt[8 + 16 + 32];
    memcpy(pkt, cl.key.auth_key_id, 8);
    memset(pkt + 8, 0x5a, sizeof pkt - 8);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_client_send_raw(&cl, pkt, sizeof pkt, &err));
    pump();
    ck_assert_int_eq(cl.transport_error, -404);
    ck_assert_int_eq(conn.reason, MTP_ERR_SRV_BAD_PACKET);
    ck_assert_str_eq(conn.reason_text, "encrypted message: msg_key: does not match SHA256 of the auth key part and the decrypted plaintext");
    both_down();
    server_down();
}
END_TEST

START_TEST(garbage_closes_without_a_reply)
{
    server_up(NULL, NULL);
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:1", 0, NULL));
    /* 64 bytes that pass as an obfuscated init but decrypt to no protocol tag. */
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(0x31 + 7 * i);
    mtps_conn_feed(&conn, junk, sizeof junk);
    assert_output("");
    ck_assert_int_eq(mtps_conn_state(&conn), MTPS_CONN_DRAIN);
    ck_assert_int_eq(conn.reason, MTP_ERR_OBFS_BAD_TAG);
    mtps_conn_free(&conn);
    server_down();
}
END_TEST

static void small_frames(struct mtps_limits *l) { l->max_frame = 1024; }

START_TEST(oversized_length_claim_closes_before_buffering)
{
    server_up(NULL, small_frames);
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:1", 0, NULL));
    feed_hex("eeeeeeee" "ffffff7f" "00000000");
    assert_output("");
    ck_assert_int_eq(mtps_conn_state(&conn), MTPS_CONN_DRAIN);
    ck_assert_int_eq(conn.reason, MTP_ERR_TR_BAD_LENGTH);
    ck_assert_uint_lt(conn.mem_accounted, 64u << 10);
    mtps_conn_free(&conn);
    server_down();
}
END_TEST

static void flood_limit(struct mtps_limits *l)
{
    l->flood_packets = 5;
    l->flood_interval_ms = 1000;
}

START_TEST(packet_flood_gets_429)
{
    server_up(NULL, flood_limit);
    client_up(MTP_TR_ABRIDGED, false, false);
    handshake(); /* 3 packets */
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_client_ping(&cl, 1, &err));
    ck_assert_ok(mtps_client_ping(&cl, 2, &err));
    pump();
    ck_assert_uint_eq(cl.pongs, 2);
    ck_assert_int_eq(cl.transport_error, 0);
    ck_assert_ok(mtps_client_ping(&cl, 3, &err));
    pump();
    ck_assert_int_eq(cl.transport_error, -429);
    ck_assert_int_eq(conn.reason, MTP_ERR_SRV_FLOOD);
    ck_assert_int_eq(mtps_conn_state(&conn), MTPS_CONN_DRAIN);
    ck_assert_uint_eq(srv.stats.errors_429, 1);
    both_down();
    server_down();
}
END_TEST

START_TEST(flood_window_resets_after_the_interval)
{
    server_up(NULL, flood_limit);
    client_up(MTP_TR_ABRIDGED, false, false);
    handshake();
    struct mtp_error err;
    mtp_error_clear(&err);
    for (int i = 0; i < 6; i++) {
        advance(400);
        ck_assert_ok(mtps_client_ping(&cl, (uint64_t)i, &err));
        pump();
    }
    ck_assert_uint_eq(cl.pongs, 6);
    ck_assert_int_eq(cl.transport_error, 0);
    both_down();
    server_down();
}
END_TEST

START_TEST(refused_connection_gets_429_once_its_transport_is_known)
{
    server_up(NULL, NULL);
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:1", -429, NULL));
    feed_hex("dddddddd");
    /* padded intermediate: the length, the error, 0..15 bytes of random padding */
    size_t n;
    const uint8_t *p = mtps_conn_output(&conn, &n);
    ck_assert_uint_ge(n, 8);
    ck_assert_uint_eq(mtp_load_u32(p), n - 4);
    ck_assert_hex_eq(p + 4, 4, "53feffff");
    ck_assert_int_eq(conn.reason, MTP_ERR_SRV_FLOOD);
    mtps_conn_free(&conn);
    server_down();
}
END_TEST

START_TEST(idle_connection_times_out)
{
    server_up(NULL, NULL);
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:1", 0, NULL));
    ck_assert_int_eq(mtps_conn_deadline(&conn), T0 + 120000);
    advance(119999);
    mtps_conn_tick(&conn);
    ck_assert_int_eq(mtps_conn_state(&conn), MTPS_CONN_OPEN);
    advance(1);
    mtps_conn_tick(&conn);
    ck_assert_int_eq(mtps_conn_state(&conn), MTPS_CONN_DRAIN);
    ck_assert_int_eq(conn.reason, MTP_ERR_SRV_IDLE);
    /* nothing to flush: the shell closes at once; the linger bounds a stuck flush */
    advance(2000);
    mtps_conn_tick(&conn);
    ck_assert_int_eq(mtps_conn_state(&conn), MTPS_CONN_CLOSED);
    mtps_conn_free(&conn);
    server_down();
}
END_TEST

START_TEST(slow_writer_times_out_inside_a_frame)
{
    server_up(NULL, NULL);
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:1", 0, NULL));
    /* one byte per second of an intermediate stream */
    static const uint8_t stream[] = {0xee, 0xee, 0xee, 0xee, 0x28, 0, 0, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < sizeof stream && mtps_conn_state(&conn) == MTPS_CONN_OPEN; i++) {
        uint8_t b = stream[i];
        mtps_conn_feed(&conn, &b, 1);
        advance(1000);
        mtps_conn_tick(&conn);
    }
    ck_assert_int_eq(mtps_conn_state(&conn), MTPS_CONN_OPEN); /* 12 s < 30 s */
    advance(18000);
    mtps_conn_tick(&conn);
    ck_assert_int_eq(mtps_conn_state(&conn), MTPS_CONN_DRAIN);
    ck_assert_int_eq(conn.reason, MTP_ERR_SRV_FRAME_TIMEOUT);
    mtps_conn_free(&conn);
    server_down();
}
END_TEST

START_TEST(eof_inside_a_frame_is_a_bad_length)
{
    server_up(NULL, NULL);
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:1", 0, NULL));
    feed_hex("eeeeeeee280000000000");
    mtps_conn_eof(&conn);
    ck_assert_int_eq(conn.reason, MTP_ERR_TR_BAD_LENGTH);
    mtps_conn_free(&conn);
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:2", 0, NULL));
    feed_hex("eeeeeeee");
    mtps_conn_eof(&conn);
    ck_assert_int_eq(conn.reason, MTP_ERR_SRV_EOF);
    mtps_conn_free(&conn);
    server_down();
}
END_TEST

START_TEST(salt_zero_gets_bad_server_salt_then_works)
{
    server_up(NULL, NULL);
    client_up(MTP_TR_INTERMEDIATE, false, true);
    handshake();
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_client_ping(&cl, 42, &err));
    pump();
    ck_assert_uint_eq(cl.bad_salts, 1);
    /* the session core resent the ping with the salt it was given */
    ck_assert_uint_eq(cl.pongs, 1);
    ck_assert_uint_eq(cl.ses.salt, srv.store.klru->first_salt);
    both_down();
    server_down();
}
END_TEST

START_TEST(get_future_salts_starts_with_the_exchange_salt)
{
    server_up(NULL, NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_session_get_future_salts(&cl.ses, 3, NULL));
    ck_assert_ok(mtps_client_flush(&cl, &err));
    pump();
    ck_assert_uint_eq(cl.ses.salts.n, 3);
    ck_assert_uint_eq(cl.ses.salts.e[0].salt, mtp_load_u64(cl.key.server_salt));
    both_down();
    server_down();
}
END_TEST

START_TEST(quick_ack_is_answered)
{
    server_up(NULL, NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    ck_assert_ok(mtp_session_ping(&cl.ses, 7, -1, NULL));
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 4096, NULL);
    ck_assert_int_eq(mtp_session_flush_packet(&cl.ses, &w), 1);
    struct mtp_tr_send m = {.data = w.p, .len = w.len, .quick_ack = true};
    ck_assert_ok(mtp_tr_conn_send(&cl.tr, &m, &cl.out, NULL));
    mtp_wr_free(&w);
    pump();
    ck_assert_uint_eq(cl.quick_acks, 1);
    ck_assert_uint_eq(cl.pongs, 1);
    both_down();
    server_down();
}
END_TEST

START_TEST(ping_delay_disconnect_closes_after_the_delay)
{
    server_up(NULL, NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    ck_assert_ok(mtp_session_ping(&cl.ses, 9, 2, NULL));
    ck_assert_ok(mtps_client_flush(&cl, NULL));
    pump();
    ck_assert_uint_eq(cl.pongs, 1);
    ck_assert_int_eq(mtps_conn_deadline(&conn), T0 + 2000);
    advance(2000);
    mtps_conn_tick(&conn);
    ck_assert_int_eq(mtps_conn_state(&conn), MTPS_CONN_DRAIN);
    ck_assert_int_eq(conn.reason, MTP_ERR_SRV_PING_DISCONNECT);
    both_down();
    server_down();
}
END_TEST

START_TEST(destroy_session_forgets_the_other_session)
{
    server_up(NULL, NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    ck_assert_ok(mtps_client_ping(&cl, 1, NULL));
    pump();
    uint64_t first = cl.ses.session_id;
    ck_assert_ok(mtp_session_renew(&cl.ses));
    ck_assert_ok(mtps_client_ping(&cl, 2, NULL));
    pump();
    ck_assert_uint_eq(srv.store.nsessions, 2);
    ck_assert_ok(mtp_session_destroy_session(&cl.ses, first, NULL));
    ck_assert_ok(mtps_client_flush(&cl, NULL));
    pump();
    ck_assert_uint_eq(srv.store.nsessions, 1);
    ck_assert_ptr_null(mtps_store_find_session(srv.store.klru, first));
    ck_assert_ptr_nonnull(mtps_store_find_session(srv.store.klru, cl.ses.session_id));
    both_down();
    server_down();
}
END_TEST

START_TEST(broken_exchange_gets_404)
{
    server_up(NULL, NULL);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_env env = mtp_env_deterministic(&cds, "client", 6, T0);
    struct mtp_auth_client_behaviour beh = {.corrupt = MTP_AUTH_CORRUPT(MTP_AUTH_X_REQ_DH_SERVER_NONCE)};
    struct mtps_client_opts o = {.kind = MTP_TR_INTERMEDIATE, .dc = 2, .server_key = rsa, .env = &env,
                                 .auth_behaviour = &beh};
    ck_assert_ok(mtps_client_init(&cl, &o, &err));
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:1", 0, &err));
    ck_assert_ok(mtps_client_start(&cl, &err));
    pump();
    ck_assert_int_eq(cl.transport_error, -404);
    ck_assert_int_eq(conn.reason, MTP_ERR_SRV_HANDSHAKE);
    ck_assert_uint_eq(srv.store.nkeys, 0);
    both_down();
    server_down();
}
END_TEST

START_TEST(expired_temporary_key_is_unknown)
{
    server_up(NULL, NULL);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_env env = mtp_env_deterministic(&cds, "client", 6, T0);
    struct mtps_client_opts o = {.kind = MTP_TR_INTERMEDIATE, .dc = 2, .server_key = rsa, .env = &env,
                                 .temp_expires_in = 60};
    ck_assert_ok(mtps_client_init(&cl, &o, &err));
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:1", 0, &err));
    handshake();
    ck_assert(cl.key.temp);
    struct mtps_key *k = srv.store.klru;
    ck_assert(k->temp);
    ck_assert_int_eq(k->expires_at, (int32_t)(T0 / 1000) + 60);
    struct mtp_auth_result key = cl.key;
    both_down();
    /* before expiry the key works on a new connection */
    advance(59000);
    ck_assert_ok(mtps_client_init(&cl, &o, &err));
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:2", 0, &err));
    ck_assert_ok(mtps_client_resume(&cl, &key, &err));
    ck_assert_ok(mtps_client_ping(&cl, 1, &err));
    pump();
    ck_assert_uint_eq(cl.pongs, 1);
    both_down();
    /* after it, the key is gone: -404 */
    advance(1000);
    ck_assert_ok(mtps_client_init(&cl, &o, &err));
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:3", 0, &err));
    ck_assert_ok(mtps_client_resume(&cl, &key, &err));
    ck_assert_ok(mtps_client_ping(&cl, 2, &err));
    pump();
    ck_assert_int_eq(cl.transport_error, -404);
    ck_assert_uint_eq(srv.store.nkeys, 0);
    both_down();
    server_down();
}
END_TEST

/* --- scenario rules --- */

START_TEST(rule_bad_salt_on_the_first_message)
{
    server_up("{\"rules\":[{\"at\":\"c2s_message\",\"do\":\"bad_salt\"}]}", NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    uint64_t first_salt = mtp_load_u64(cl.key.server_salt);
    ck_assert_ok(mtps_client_ping(&cl, 5, NULL));
    pump();
    ck_assert_uint_eq(cl.bad_salts, 1);
    ck_assert_uint_eq(cl.pongs, 1);
    ck_assert_uint_ne(cl.ses.salt, first_salt);
    ck_assert_uint_eq(cl.ses.salt, srv.store.klru->salts.e[0].salt);
    both_down();
    server_down();
}
END_TEST

START_TEST(rule_drop_the_first_pong)
{
    server_up("{\"rules\":[{\"at\":\"s2c_packet\",\"match\":\"pong\",\"do\":\"drop\"}]}", NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    ck_assert_ok(mtps_client_ping(&cl, 1, NULL));
    pump();
    ck_assert_uint_eq(cl.pongs, 0);
    ck_assert_ok(mtps_client_ping(&cl, 2, NULL));
    pump();
    ck_assert_uint_eq(cl.pongs, 1);
    ck_assert_uint_eq(cl.last_pong_id, 2);
    both_down();
    server_down();
}
END_TEST

START_TEST(rule_delay_holds_a_packet_until_its_time)
{
    server_up("{\"rules\":[{\"at\":\"s2c_packet\",\"match\":\"pong\",\"do\":\"delay\",\"ms\":500}]}", NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    ck_assert_ok(mtps_client_ping(&cl, 1, NULL));
    pump();
    ck_assert_uint_eq(cl.pongs, 0);
    ck_assert_int_eq(mtps_conn_deadline(&conn), T0 + 500);
    advance(499);
    mtps_conn_tick(&conn);
    pump();
    ck_assert_uint_eq(cl.pongs, 0);
    advance(1);
    mtps_conn_tick(&conn);
    pump();
    ck_assert_uint_eq(cl.pongs, 1);
    both_down();
    server_down();
}
END_TEST

START_TEST(rule_corrupt_fails_the_clients_msg_key_check)
{
    server_up("{\"rules\":[{\"at\":\"s2c_packet\",\"match\":\"encrypted\",\"do\":\"corrupt\"}]}", NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    ck_assert_ok(mtps_client_ping(&cl, 1, NULL));
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtps_pair_pump(&conn, &cl, &err), MTP_ERR_MSG_KEY_MISMATCH);
    both_down();
    server_down();
}
END_TEST

START_TEST(rule_rpc_error_for_a_method)
{
    server_up("{\"rules\":[{\"at\":\"rpc\",\"match\":\"help.getNearestDc\",\"do\":\"rpc_error\",\"code\":420,"
              "\"message\":\"FLOOD_WAIT_3\"}]}",
              NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    uint8_t q[512];
    size_t n = encode_query("{\"_\":\"help.getNearestDc\"}", 198, q, sizeof q);
    ck_assert_ok(mtps_client_query(&cl, q, n, NULL, NULL));
    pump();
    ck_assert_int_eq(cl.last_rpc_code, 420);
    ck_assert_str_eq(cl.last_rpc_message, "FLOOD_WAIT_3");
    ck_assert_ok(mtps_client_query(&cl, q, n, NULL, NULL));
    pump();
    ck_assert_uint_eq(cl.results, 1); /* the rule fired once */
    both_down();
    server_down();
}
END_TEST

START_TEST(rule_transport_error_at_the_second_packet)
{
    server_up("{\"rules\":[{\"at\":\"c2s_packet\",\"nth\":2,\"do\":\"transport_error\",\"code\":-444}]}", NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_client_start(&cl, &err));
    pump();
    ck_assert_int_eq(cl.transport_error, -444);
    ck_assert_int_eq(conn.reason, MTP_ERR_SRV_FAULT_CLOSE);
    both_down();
    server_down();
}
END_TEST

START_TEST(scenario_resPQ_with_a_wrong_nonce)
{
    server_up("{\"auth\":{\"corrupt\":[\"resPQ.nonce\"]}}", NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_client_start(&cl, &err));
    ck_assert_rc(mtps_pair_pump(&conn, &cl, &err), MTP_ERR_AUTH_NONCE);
    both_down();
    server_down();
}
END_TEST

Suite *mtps_conn_suite(void);
Suite *mtps_conn_suite(void)
{
    Suite *s = suite_create("mtps_conn");
    TCase *tc = tcase_create("exchange");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, exchange_and_ping_on_every_transport, 0, NVARIANTS);
    tcase_add_test(tc, broken_exchange_gets_404);
    tcase_add_test(tc, obfuscated_with_a_proxy_secret);
    suite_add_tcase(s, tc);
    tc = tcase_create("api");
    tcase_add_test(tc, nearest_dc_answer_is_the_template);
    tcase_add_test(tc, config_answer_names_this_dc_and_address);
    tcase_add_test(tc, errors_for_unknown_and_broken_queries);
    suite_add_tcase(s, tc);
    tc = tcase_create("session");
    tcase_add_test(tc, salt_zero_gets_bad_server_salt_then_works);
    tcase_add_test(tc, get_future_salts_starts_with_the_exchange_salt);
    tcase_add_test(tc, quick_ack_is_answered);
    tcase_add_test(tc, ping_delay_disconnect_closes_after_the_delay);
    tcase_add_test(tc, destroy_session_forgets_the_other_session);
    tcase_add_test(tc, expired_temporary_key_is_unknown);
    suite_add_tcase(s, tc);
    tc = tcase_create("hostile");
    tcase_add_test(tc, unknown_auth_key_gets_404);
    tcase_add_test(tc, undecryptable_packet_gets_404);
    tcase_add_test(tc, garbage_closes_without_a_reply);
    tcase_add_test(tc, oversized_length_claim_closes_before_buffering);
    tcase_add_test(tc, packet_flood_gets_429);
    tcase_add_test(tc, flood_window_resets_after_the_interval);
    tcase_add_test(tc, refused_connection_gets_429_once_its_transport_is_known);
    tcase_add_test(tc, idle_connection_times_out);
    tcase_add_test(tc, slow_writer_times_out_inside_a_frame);
    tcase_add_test(tc, eof_inside_a_frame_is_a_bad_length);
    suite_add_tcase(s, tc);
    tc = tcase_create("rules");
    tcase_add_test(tc, rule_bad_salt_on_the_first_message);
    tcase_add_test(tc, rule_drop_the_first_pong);
    tcase_add_test(tc, rule_delay_holds_a_packet_until_its_time);
    tcase_add_test(tc, rule_corrupt_fails_the_clients_msg_key_check);
    tcase_add_test(tc, rule_rpc_error_for_a_method);
    tcase_add_test(tc, rule_transport_error_at_the_second_packet);
    tcase_add_test(tc, scenario_resPQ_with_a_wrong_nonce);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_conn_suite)
