/* The mock DC's connection core, fed in memory: a mtps_client on the other
 * end of an in-memory wire, every transport, the exact transport errors, the
 * timeouts on a fake clock, and the scenario rules. */
#include <string.h>

#include "client/mtpc_client.h"
#include "mtp/msgcrypt.h"
#include "mtp/service.h"
#include "mtps_conn_fixture.h"

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

/* --- knobs for the client checks (issue 7): hostile messages, pushes, padding --- */

/* Paddings of the server's encrypted messages in the log. */
static void paddings(json_t *all, size_t *n, int64_t *lo, int64_t *hi, size_t *count_of, int64_t value)
{
    *n = 0;
    *lo = INT64_MAX;
    *hi = -1;
    *count_of = 0;
    size_t i;
    json_t *o;
    json_array_foreach(all, i, o)
    {
        if (strcmp(str_of(o, "ev"), "msg") != 0 || strcmp(str_of(o, "dir"), "s2c") != 0 ||
            !json_is_true(json_object_get(o, "enc")))
            continue;
        int64_t p = json_integer_value(json_object_get(o, "padding"));
        ck_assert_int_eq((32 + json_integer_value(json_object_get(o, "len")) + p) % 16, 0);
        (*n)++;
        *lo = p < *lo ? p : *lo;
        *hi = p > *hi ? p : *hi;
        *count_of += p == value;
    }
}

START_TEST(padding_policies)
{
    static const struct {
        const char *setting;
        int64_t lo, hi, exact;
    } cases[] = {
        {"\"min\"", 12, 27, -1},
        {"\"max\"", 1009, 1024, -1},
        {"12", 12, 27, 12},
        {"1024", 1009, 1024, 1024},
        {"100", 92, 108, 100},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[128];
        snprintf(json, sizeof json, "{\"session\":{\"padding\":%s}}", cases[i].setting);
        events_on();
        server_up(json, NULL);
        client_up(MTP_TR_INTERMEDIATE, false, false);
        handshake();
        query_nearest_dc();
        ck_assert_ok(mtps_client_ping(&cl, 5, NULL));
        pump();
        /* A correct client accepts every legal padding. */
        ck_assert_uint_eq(cl.results, 1);
        ck_assert_uint_eq(cl.pongs, 1);
        json_t *all = events();
        size_t n, exact;
        int64_t lo, hi;
        paddings(all, &n, &lo, &hi, &exact, cases[i].exact);
        ck_assert_uint_ge(n, 2);
        ck_assert_int_ge(lo, cases[i].lo);
        ck_assert_int_le(hi, cases[i].hi);
        if (cases[i].exact >= 0)
            ck_assert_msg(exact >= 1, "padding %s: no message with exactly that padding", cases[i].setting);
        json_decref(all);
        both_down();
        server_down();
    }
}
END_TEST

START_TEST(padding_filler_when_no_answer_allows_it)
{
    /* Every answer here (pong 20 bytes, new_session_created in a container...) is
     * checked against: a filler msgs_ack makes sure one message has exactly 12. */
    events_on();
    server_up("{\"session\":{\"padding\":12}}", NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    ck_assert_ok(mtps_client_ping(&cl, 5, NULL));
    pump();
    ck_assert_uint_eq(cl.pongs, 1);
    json_t *all = events();
    size_t n, exact;
    int64_t lo, hi;
    paddings(all, &n, &lo, &hi, &exact, 12);
    ck_assert_uint_eq(exact, 1);
    ck_assert(srv.store.klru->sessions->exact_padding_sent);
    json_decref(all);
    both_down();
    server_down();
}
END_TEST

START_TEST(container_always_and_gzip_answers)
{
    events_on();
    server_up("{\"session\":{\"gzip_min\":1},\"behaviour\":{\"container_always\":true}}", NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    query_nearest_dc();
    ck_assert_uint_eq(cl.results, 1);
    ck_assert_hex_eq(cl.last_result, cl.last_result_len, NEAREST_DC_HONEST);
    ck_assert_ok(mtps_client_ping(&cl, 5, NULL));
    pump();
    ck_assert_uint_eq(cl.pongs, 1);
    json_t *all = events();
    size_t k = 0, enc = 0;
    json_t *o;
    bool gzip = false;
    while ((o = find_ev(all, "msg", "dir", "s2c", k++)) != NULL) {
        if (!json_is_true(json_object_get(o, "enc")))
            continue;
        enc++;
        ck_assert_str_eq(str_of(o, "ctor"), "msg_container");
        size_t j;
        json_t *nm;
        json_array_foreach(json_object_get(o, "names"), j, nm) gzip |= strcmp(json_string_value(nm), "gzip_packed") == 0;
    }
    ck_assert_uint_ge(enc, 2);
    ck_assert(gzip);
    json_decref(all);
    both_down();
    server_down();
}
END_TEST

START_TEST(odd_msgs_ack_is_a_deviation_unless_strict)
{
    for (int strict = 0; strict < 2; strict++) {
        events_on();
        server_up(strict ? "{\"session\":{\"strict_seqno_parity\":true}}" : NULL, NULL);
        client_up(MTP_TR_INTERMEDIATE, false, false);
        handshake();
        ck_assert_ok(mtps_client_ping(&cl, 1, NULL));
        pump();
        /* msgs_ack sent as content-related (odd seqno), as a widely used client does */
        uint8_t ack[32];
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, ack, sizeof ack, NULL);
        uint64_t id = cl.ses.window.n ? mtp_msgwin_min(&cl.ses.window) : 1;
        ck_assert_ok(mtp_svc_write_ids(&w, MTP_SVC_msgs_ack, &id, 1));
        uint64_t ack_id;
        ck_assert_ok(mtp_session_send(&cl.ses, w.p, w.len, MTP_SEND_CONTENT, &ack_id));
        ck_assert_ok(mtps_client_flush(&cl, NULL));
        pump();
        json_t *all = events();
        char idhex[17];
        snprintf(idhex, sizeof idhex, "%016llx", (unsigned long long)ack_id);
        if (!strict) {
            json_t *d = find_ev(all, "deviation", NULL, NULL, 0);
            ck_assert_ptr_nonnull(d);
            ck_assert_str_eq(str_of(d, "requirement"), "C-SES-26");
            ck_assert_str_eq(str_of(d, "what"), "msgs_ack with an odd seqno");
            ck_assert_str_eq(str_of(d, "msg_id"), idhex);
            ck_assert_str_eq(str_of(d, "strict"), "bad_msg_notification");
            ck_assert_int_eq(json_integer_value(json_object_get(d, "code")), 34);
            ck_assert_uint_eq(cl.bad_msgs, 0);
        } else {
            ck_assert_uint_eq(count_ev(all, "deviation", NULL, NULL), 0);
            json_t *b = find_ev(all, "session", "what", "bad_msg_notification", 0);
            ck_assert_ptr_nonnull(b);
            ck_assert_int_eq(json_integer_value(json_object_get(b, "code")), 34);
            ck_assert_str_eq(str_of(b, "ref_msg_id"), idhex);
        }
        json_decref(all);
        both_down();
        server_down();
    }
}
END_TEST

START_TEST(clock_offset_moves_the_servers_clock)
{
    /* An hour ahead: server_time, the server's msg_ids and its window move with it. */
    events_on();
    server_up("{\"behaviour\":{\"clock_offset_ms\":3600000}}", NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    ck_assert_int_eq(cl.key.server_time, (int32_t)(T0 / 1000) + 3600);
    ck_assert_ok(mtps_client_ping(&cl, 1, NULL));
    pump();
    ck_assert_uint_eq(cl.pongs, 1);
    ck_assert_uint_eq(cl.bad_msgs, 0);
    json_t *all = events();
    json_t *s2c = find_ev(all, "msg", "dir", "s2c", 3); /* the first encrypted answer */
    ck_assert(json_is_true(json_object_get(s2c, "enc")));
    uint64_t id = strtoull(str_of(s2c, "msg_id"), NULL, 16);
    ck_assert_int_ge(mtp_msgid_to_ms(id), T0 + 3600000);
    json_decref(all);
    /* A client that kept its own clock (its key from before) is told so with 16 and corrects it. */
    struct mtp_auth_result key = cl.key;
    both_down();
    struct mtp_env env = mtp_env_deterministic(&cds, "client 2", 8, T0);
    struct mtps_client_opts o = {.kind = MTP_TR_ABRIDGED, .dc = 2, .server_key = rsa, .env = &env};
    ck_assert_ok(mtps_client_init(&cl, &o, NULL));
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:2", 0, NULL));
    ck_assert_ok(mtps_client_resume(&cl, &key, NULL));
    ck_assert_ok(mtps_client_ping(&cl, 2, NULL));
    pump();
    ck_assert_uint_eq(cl.bad_msgs, 1);
    ck_assert_uint_eq(cl.pongs, 1);
    all = events();
    json_t *b = find_ev(all, "session", "what", "bad_msg_notification", 0);
    ck_assert_int_eq(json_integer_value(json_object_get(b, "code")), 16);
    json_decref(all);
    both_down();
    server_down();
}
END_TEST

START_TEST(abridged_long_form_frames)
{
    server_up("{\"behaviour\":{\"abridged_long_form\":true}}", NULL);
    client_up(MTP_TR_ABRIDGED, false, false);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_client_start(&cl, &err));
    size_t n = cl.out.len;
    uint8_t *copy = malloc(n);
    memcpy(copy, cl.out.p, n);
    mtp_wr_reset(&cl.out);
    mtps_conn_feed(&conn, copy, n);
    free(copy);
    /* resPQ: 0x7f and its length in words, 3 bytes LE, although it is short */
    size_t on;
    const uint8_t *p = mtps_conn_output(&conn, &on);
    ck_assert_uint_ge(on, 4);
    ck_assert_uint_eq(p[0], 0x7f);
    ck_assert_uint_eq((size_t)(p[1] | p[2] << 8 | p[3] << 16) * 4, on - 4);
    pump();
    ck_assert(mtps_client_ready(&cl));
    ck_assert_ok(mtps_client_ping(&cl, 1, NULL));
    pump();
    ck_assert_uint_eq(cl.pongs, 1);
    both_down();
    server_down();
}
END_TEST

START_TEST(full_transport_bad_crc_and_seq)
{
    static const struct {
        const char *act, *hostile;
        int rc;
    } cases[] = {{"bad_crc", "crc", MTP_ERR_TR_BAD_CRC}, {"bad_seq", "seq", MTP_ERR_TR_BAD_SEQ}};
    for (size_t i = 0; i < 2; i++) {
        for (int full = 0; full < 2; full++) {
            char json[160];
            snprintf(json, sizeof json, "{\"rules\":[{\"at\":\"s2c_packet\",\"match\":\"pong\",\"do\":\"%s\"}]}",
                     cases[i].act);
            events_on();
            server_up(json, NULL);
            client_up(full ? MTP_TR_FULL : MTP_TR_INTERMEDIATE, false, false);
            handshake();
            ck_assert_ok(mtps_client_ping(&cl, 1, NULL));
            struct mtp_error err;
            mtp_error_clear(&err);
            int rc = mtps_pair_pump(&conn, &cl, &err);
            json_t *all = events();
            json_t *r = find_ev(all, "rule", "do", cases[i].act, 0);
            ck_assert_ptr_nonnull(r);
            if (full) {
                ck_assert_rc(rc, cases[i].rc);
                ck_assert_str_eq(str_of(r, "hostile"), cases[i].hostile);
            } else {
                ck_assert_ok(rc);
                ck_assert_uint_eq(cl.pongs, 1);
                ck_assert_str_eq(str_of(r, "skipped"), "not the full transport");
            }
            json_decref(all);
            both_down();
            server_down();
        }
    }
}
END_TEST

START_TEST(corrupt_names_the_field)
{
    events_on();
    server_up("{\"rules\":[{\"at\":\"s2c_packet\",\"match\":\"pong\",\"do\":\"corrupt\"}]}", NULL);
    cl_discard = true;
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    ck_assert_ok(mtps_client_ping(&cl, 1, NULL));
    pump();
    ck_assert_uint_eq(cl.bad_packets, 1);
    ck_assert_int_eq(cl.last_bad_packet, MTP_ERR_MSG_KEY_MISMATCH);
    json_t *all = events();
    ck_assert_str_eq(str_of(find_ev(all, "rule", "do", "corrupt", 0), "hostile"), "msg_key");
    json_decref(all);
    both_down();
    server_down();
}
END_TEST

START_TEST(exchange_events_name_g_a_and_each_retry_id)
{
    events_on();
    server_up("{\"auth\":{\"dh_gen_retries\":1,\"g_a_leading_zero\":true}}", NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    json_t *all = events();
    json_t *p = find_ev(all, "dh_params", NULL, NULL, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "g_a_len")), 256);
    ck_assert_int_ge(json_integer_value(json_object_get(p, "g_a_leading_zero_bytes")), 1);
    ck_assert_int_eq(strncmp(str_of(p, "g_a"), "00", 2), 0);
    ck_assert_uint_eq(strlen(str_of(p, "g_a")), 512);
    json_t *a1 = find_ev(all, "dh_attempt", NULL, NULL, 0), *a2 = find_ev(all, "dh_attempt", NULL, NULL, 1);
    ck_assert_str_eq(str_of(a1, "answer"), "dh_gen_retry");
    ck_assert_str_eq(str_of(a1, "retry_id"), "0000000000000000");
    ck_assert(json_is_true(json_object_get(a1, "retry_id_ok")));
    ck_assert_str_eq(str_of(a2, "answer"), "dh_gen_ok");
    ck_assert_str_ne(str_of(a2, "retry_id"), "0000000000000000");
    ck_assert_str_eq(str_of(a2, "retry_id"), str_of(a2, "retry_id_expected"));
    ck_assert_int_eq(json_integer_value(json_object_get(a2, "key_first_byte")), cl.key.auth_key[0]);
    json_t *k = find_ev(all, "key", NULL, NULL, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(k, "retries")), 1);
    json_t *ids = json_object_get(k, "retry_ids");
    ck_assert_uint_eq(json_array_size(ids), 2);
    ck_assert_str_eq(json_string_value(json_array_get(ids, 1)), str_of(a2, "retry_id"));
    ck_assert(json_is_true(json_object_get(k, "retry_ids_ok")));
    json_decref(all);
    both_down();

    /* A client whose retry_id is wrong: refused, then -404. */
    struct mtp_env env = mtp_env_deterministic(&cds, "client 2", 8, T0);
    struct mtp_auth_client_behaviour beh = {.corrupt = MTP_AUTH_CORRUPT(MTP_AUTH_X_CLIENT_INNER_RETRY_ID)};
    struct mtps_client_opts o = {.kind = MTP_TR_INTERMEDIATE, .dc = 2, .server_key = rsa, .env = &env,
                                 .auth_behaviour = &beh};
    ck_assert_ok(mtps_client_init(&cl, &o, NULL));
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "test:2", 0, NULL));
    ck_assert_ok(mtps_client_start(&cl, NULL));
    pump();
    ck_assert_int_eq(cl.transport_error, -404);
    all = events();
    json_t *bad = find_ev(all, "dh_attempt", NULL, NULL, 2);
    ck_assert_int_eq(json_integer_value(json_object_get(bad, "conn")), 2);
    ck_assert(json_is_false(json_object_get(bad, "retry_id_ok")));
    ck_assert_str_eq(str_of(bad, "answer"), "refused");
    ck_assert_str_eq(str_of(bad, "retry_id_expected"), "0000000000000000");
    ck_assert_ptr_null(json_object_get(bad, "key_first_byte"));
    ck_assert_str_eq(str_of(find_ev(all, "bad_packet", NULL, NULL, 0), "reason"), "auth_retry_id_mismatch");
    json_decref(all);
    both_down();
    server_down();
}
END_TEST

/* --- the reference client (mtpc) against the connection: PFS and restarts --- */

static const uint8_t CALL_NEAREST_DC[4] = {0x26, 0x30, 0xb3, 0x1f};

struct ref {
    struct mtp_det_state det;
    struct mtp_env env;
    struct mtpc_config cfg;
    const struct mtp_rsa_key *keys[1];
    struct mtpc_client *c;
    unsigned conns;
};

static void ref_setup(struct ref *r, enum mtp_tr_kind kind, bool obfuscated)
{
    memset(r, 0, sizeof *r);
    r->env = mtp_env_deterministic(&r->det, "ref client", 10, T0);
    mtpc_config_init(&r->cfg);
    r->cfg.kind = kind;
    r->cfg.obfuscated = obfuscated;
    r->keys[0] = rsa;
    r->cfg.auth.keys = r->keys;
    r->cfg.auth.n_keys = 1;
    r->cfg.auth.dh_mode = MTP_DH_TRUST_KNOWN;
    r->cfg.call = CALL_NEAREST_DC;
    r->cfg.call_len = sizeof CALL_NEAREST_DC;
    r->cfg.pfs.enabled = true;
    r->cfg.pfs.expires_in = 3600;
}

/* Moves bytes between the client core and a fresh connection per attempt
 * until neither moves; a closed connection reaches the client as a close. */
static void ref_run(struct ref *r)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtpc_new(&r->cfg, &r->env, &r->c, &err) == MTP_OK, "%s", err.msg);
    ck_assert_ok(mtpc_start(r->c));
    for (;;) {
        char peer[16];
        snprintf(peer, sizeof peer, "ref:%u", ++r->conns);
        ck_assert_ok(mtps_conn_init(&conn, &srv, 2, peer, 0, &err));
        for (unsigned rounds = 0; rounds < 1000; rounds++) {
            bool moved = false;
            size_t n;
            const uint8_t *p = mtpc_output(r->c, &n);
            if (n > 0 && mtps_conn_state(&conn) == MTPS_CONN_OPEN) {
                uint8_t *copy = malloc(n);
                memcpy(copy, p, n);
                mtpc_output_done(r->c, n);
                mtps_conn_feed(&conn, copy, n);
                free(copy);
                moved = true;
            }
            p = mtps_conn_output(&conn, &n);
            if (n > 0) {
                uint8_t *copy = malloc(n);
                memcpy(copy, p, n);
                mtps_conn_sent(&conn, 0);
                (void)mtpc_feed(r->c, copy, n);
                free(copy);
                moved = true;
            }
            if (!moved)
                break;
        }
        if (mtps_conn_state(&conn) != MTPS_CONN_OPEN)
            mtpc_peer_closed(r->c);
        mtps_conn_free(&conn);
        if (!mtpc_wants_reconnect(r->c))
            return;
        ck_assert_ok(mtpc_reconnect(r->c));
    }
}

static const struct mtpc_outcome *ref_done(struct ref *r)
{
    const struct mtpc_outcome *o = mtpc_outcome(r->c);
    ck_assert_msg(mtpc_state(r->c) == MTPC_DONE, "state %d: %s: %s", (int)mtpc_state(r->c), mtp_err_name(o->error),
                  o->error_msg);
    return o;
}

static void ref_failed(struct ref *r, int code, enum mtpc_step step, const char *text)
{
    const struct mtpc_outcome *o = mtpc_outcome(r->c);
    ck_assert_int_eq(mtpc_state(r->c), MTPC_FAILED);
    ck_assert_msg(o->error == code, "error %s (%s), want %s", mtp_err_name(o->error), o->error_msg,
                  mtp_err_name(code));
    ck_assert_int_eq(o->error_step, step);
    ck_assert_msg(strstr(o->error_msg, text) != NULL, "'%s' lacks '%s'", o->error_msg, text);
}

static struct mtps_key *key_of(const uint8_t id[8]) { return mtps_store_find_key(&srv.store, mtp_load_u64(id)); }

START_TEST(pfs_binds_then_works_with_the_temporary_key)
{
    server_up(NULL, NULL);
    struct ref r;
    ref_setup(&r, variants[_i].kind, variants[_i].obfuscated);
    ref_run(&r);
    const struct mtpc_outcome *o = ref_done(&r);
    ck_assert(o->have_key && o->have_temp_key && o->bound);
    ck_assert_uint_eq(o->pongs, 1);
    ck_assert(o->answered && !o->rpc_error);
    ck_assert_uint_eq(o->result_ctor, 0x8e1a1775u); /* nearestDc */
    ck_assert_uint_eq(o->auth_attempts, 2);          /* the two exchanges, no restart */
    ck_assert_uint_eq(r.conns, 1);                   /* both on one connection */
    struct mtps_key *perm = key_of(o->key.auth_key_id), *temp = key_of(o->temp_key.auth_key_id);
    ck_assert_ptr_nonnull(perm);
    ck_assert_ptr_nonnull(temp);
    ck_assert(!perm->temp && temp->temp);
    ck_assert_ptr_eq(mtps_store_bound_perm(&srv.store, temp), perm);
    ck_assert_int_eq(temp->expires_at, (int32_t)(T0 / 1000) + 3600);
    ck_assert_int_eq(o->temp_expires_at, temp->expires_at);
    /* api/pfs: the permanent key is never used directly */
    ck_assert_uint_eq(perm->nsessions, 0);
    ck_assert_uint_eq(temp->nsessions, 1);
    ck_assert_uint_eq(temp->sessions->session_id, o->session_id);
    ck_assert_uint_eq(srv.stats.binds, 1);
    mtpc_del(r.c);
    server_down();
}
END_TEST

START_TEST(pfs_the_longest_lifetime_saturates_expires_at)
{
    /* issue 13: server_time + expires_in overflowed int32 for expires_in = 2^31 - 1,
     * and the key was born expired (-404 on its first use). */
    server_up(NULL, NULL);
    struct ref r;
    ref_setup(&r, MTP_TR_INTERMEDIATE, false);
    r.cfg.pfs.expires_in = INT32_MAX;
    ref_run(&r);
    const struct mtpc_outcome *o = ref_done(&r);
    ck_assert(o->bound);
    ck_assert(o->answered && !o->rpc_error);
    struct mtps_key *temp = key_of(o->temp_key.auth_key_id);
    ck_assert_ptr_nonnull(temp);
    ck_assert_int_eq(temp->expires_at, INT32_MAX);
    ck_assert_uint_eq(temp->nsessions, 1);
    mtpc_del(r.c);
    server_down();
}
END_TEST

START_TEST(pfs_a_second_temporary_key_replaces_the_first)
{
    server_up(NULL, NULL);
    struct ref r1, r2;
    ref_setup(&r1, MTP_TR_ABRIDGED, false);
    r1.cfg.call = NULL;
    ref_run(&r1);
    const struct mtpc_outcome *o1 = ref_done(&r1);
    /* the same permanent key again, given: only a temporary key is made */
    ref_setup(&r2, MTP_TR_FULL, false);
    r2.cfg.pfs.perm_key = o1->key.auth_key;
    r2.cfg.pings = 2;
    r2.det.counter = 99; /* other random values than the first run's */
    ref_run(&r2);
    const struct mtpc_outcome *o2 = ref_done(&r2);
    ck_assert(o2->bound);
    ck_assert_uint_eq(o2->auth_attempts, 1);
    ck_assert_uint_eq(o2->pongs, 2);
    ck_assert_mem_eq(o2->key.auth_key_id, o1->key.auth_key_id, 8);
    ck_assert(memcmp(o2->temp_key.auth_key_id, o1->temp_key.auth_key_id, 8) != 0);
    struct mtps_key *perm = key_of(o1->key.auth_key_id);
    ck_assert_ptr_eq(mtps_store_bound_perm(&srv.store, key_of(o2->temp_key.auth_key_id)), perm);
    ck_assert_ptr_null(mtps_store_bound_perm(&srv.store, key_of(o1->temp_key.auth_key_id)));
    ck_assert_uint_eq(srv.stats.binds, 2);
    mtpc_del(r1.c);
    mtpc_del(r2.c);
    server_down();
}
END_TEST

START_TEST(pfs_binding_message_follows_a_resend)
{
    /* salt 0: the bind request gets bad_server_salt and goes out again under a
     * new msg_id, which the binding message must name. */
    server_up(NULL, NULL);
    struct ref r;
    ref_setup(&r, MTP_TR_INTERMEDIATE, false);
    r.cfg.behaviour.salt_zero = true;
    ref_run(&r);
    const struct mtpc_outcome *o = ref_done(&r);
    ck_assert(o->bound);
    ck_assert_uint_eq(o->bad_salts, 1);
    ck_assert_uint_ge(o->resends, 1);
    mtpc_del(r.c);
    server_down();
}
END_TEST

START_TEST(pfs_refusals_reach_the_client)
{
    static const struct {
        const char *scenario, *text;
        int code;
    } cases[] = {
        {"{\"rules\":[{\"at\":\"rpc\",\"match\":\"auth.bindTempAuthKey\",\"do\":\"bool_false\"}]}",
         "auth.bindTempAuthKey answered boolFalse", MTP_ERR_CLIENT_BIND_FAILED},
        {"{\"rules\":[{\"at\":\"rpc\",\"match\":\"auth.bindTempAuthKey\",\"do\":\"rpc_error\",\"code\":400,"
         "\"message\":\"ENCRYPTED_MESSAGE_INVALID\"}]}",
         "auth.bindTempAuthKey answered rpc_error 400 ENCRYPTED_MESSAGE_INVALID", MTP_ERR_CLIENT_BIND_FAILED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        server_up(cases[i].scenario, NULL);
        struct ref r;
        ref_setup(&r, MTP_TR_INTERMEDIATE, false);
        ref_run(&r);
        ref_failed(&r, cases[i].code, MTPC_STEP_BIND, cases[i].text);
        ck_assert(!mtpc_outcome(r.c)->bound);
        ck_assert_uint_eq(srv.stats.binds, 0);
        mtpc_del(r.c);
        server_down();
    }
}
END_TEST

START_TEST(first_req_pq_404_restarts_on_a_new_connection)
{
    /* Counted per server: only the first connection's first packet gets -404. */
    server_up("{\"rules\":[{\"at\":\"c2s_packet\",\"match\":\"plain\",\"per\":\"server\",\"do\":\"transport_error\","
              "\"code\":-404}]}",
              NULL);
    struct ref r;
    ref_setup(&r, MTP_TR_ABRIDGED, true);
    ref_run(&r);
    const struct mtpc_outcome *o = ref_done(&r);
    ck_assert_uint_eq(r.conns, 2);
    ck_assert_uint_eq(o->auth_attempts, 3); /* permanent twice, temporary once */
    ck_assert(o->bound);
    mtpc_del(r.c);
    server_down();
}
END_TEST

START_TEST(every_req_pq_404_ends_after_the_attempts)
{
    server_up("{\"rules\":[{\"at\":\"c2s_packet\",\"match\":\"plain\",\"do\":\"transport_error\",\"code\":-404}]}",
              NULL);
    struct ref r;
    ref_setup(&r, MTP_TR_INTERMEDIATE, false);
    ref_run(&r);
    ref_failed(&r, MTP_ERR_CLIENT_AUTH_RESTARTS, MTPC_STEP_AUTH_KEY,
               "auth_key: transport error -404 (auth_key_not_found) while waiting for resPQ, on attempt 3 of 3 at the "
               "permanent key exchange");
    ck_assert_uint_eq(r.conns, 3);
    mtpc_del(r.c);
    server_down();
}
END_TEST

START_TEST(temporary_exchange_404_restarts_only_that_exchange)
{
    /* The second plain packet of the first connection is the permanent
     * exchange's req_DH_params: let the first exchange through (three plain
     * packets) and fail the temporary one's req_pq_multi. */
    server_up("{\"rules\":[{\"at\":\"c2s_packet\",\"match\":\"plain\",\"per\":\"server\",\"nth\":4,"
              "\"do\":\"transport_error\",\"code\":-404}]}",
              NULL);
    struct ref r;
    ref_setup(&r, MTP_TR_PADDED, false);
    ref_run(&r);
    const struct mtpc_outcome *o = ref_done(&r);
    ck_assert_uint_eq(r.conns, 2);
    ck_assert_uint_eq(o->auth_attempts, 3);
    ck_assert(o->bound);
    ck_assert_uint_eq(srv.stats.keys_created, 2); /* the permanent key was not made again */
    mtpc_del(r.c);
    server_down();
}
END_TEST

START_TEST(transport_error_444_names_the_dc)
{
    server_up("{\"rules\":[{\"at\":\"c2s_packet\",\"do\":\"transport_error\",\"code\":-444}]}", NULL);
    struct ref r;
    ref_setup(&r, MTP_TR_INTERMEDIATE, false);
    r.cfg.pfs.enabled = false;
    r.cfg.auth.dc = 10002;
    ref_run(&r);
    ref_failed(&r, MTP_ERR_CLIENT_INVALID_DC, MTPC_STEP_AUTH_KEY,
               "auth_key: transport error -444 (invalid DC id): the server does not serve DC 10002");
    ck_assert_uint_eq(r.conns, 1);
    mtpc_del(r.c);
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
    tc = tcase_create("pfs");
    tcase_add_loop_test(tc, pfs_binds_then_works_with_the_temporary_key, 0, NVARIANTS);
    tcase_add_test(tc, pfs_a_second_temporary_key_replaces_the_first);
    tcase_add_test(tc, pfs_the_longest_lifetime_saturates_expires_at);
    tcase_add_test(tc, pfs_binding_message_follows_a_resend);
    tcase_add_test(tc, pfs_refusals_reach_the_client);
    tcase_add_test(tc, first_req_pq_404_restarts_on_a_new_connection);
    tcase_add_test(tc, every_req_pq_404_ends_after_the_attempts);
    tcase_add_test(tc, temporary_exchange_404_restarts_only_that_exchange);
    tcase_add_test(tc, transport_error_444_names_the_dc);
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
    tc = tcase_create("knobs");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, padding_policies);
    tcase_add_test(tc, padding_filler_when_no_answer_allows_it);
    tcase_add_test(tc, container_always_and_gzip_answers);
    tcase_add_test(tc, odd_msgs_ack_is_a_deviation_unless_strict);
    tcase_add_test(tc, clock_offset_moves_the_servers_clock);
    tcase_add_test(tc, abridged_long_form_frames);
    tcase_add_test(tc, full_transport_bad_crc_and_seq);
    tcase_add_test(tc, corrupt_names_the_field);
    tcase_add_test(tc, exchange_events_name_g_a_and_each_retry_id);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_conn_suite)
