/* The reference client core against the library's server-side machines in
 * memory (mtpc_testserver.h): every transport, the script (key, pings, call,
 * acks), and what it does when the server closes, sends garbage, transport
 * errors, plaintext after the key, tampered packets, endless bad_server_salt,
 * or nothing at all. */
#include "client/mtpc_client.h"
#include "mtp/container.h"
#include "mtp/message.h"
#include "mtp/msgcrypt.h"
#include "mtp/dh.h"
#include "mtpc_testrun.h"

/* The whole script worked and both sides agree on everything. */
static void check_agreement(struct run *r)
{
    const struct mtpc_outcome *o = done_ok(r);
    ck_assert(o->have_key);
    ck_assert(r->srv.have_key);
    ck_assert_mem_eq(o->key.auth_key, r->srv.key.auth_key, 256);
    uint8_t id[8];
    mtp_auth_key_id(o->key.auth_key, id);
    ck_assert_mem_eq(o->key.auth_key_id, id, 8);
    ck_assert_mem_eq(o->key.server_salt, r->srv.key.server_salt, 8);
    ck_assert_uint_eq(o->session_id, r->srv.ses.session_id);
    ck_assert_uint_eq(o->pongs, 1);
    ck_assert(o->answered);
    ck_assert(!o->rpc_error);
    uint8_t want[16];
    size_t n = ts_nearest_dc(want);
    ck_assert_uint_eq(o->result_len, n);
    ck_assert_mem_eq(o->result, want, n);
    ck_assert_uint_eq(o->result_ctor, 0x8e1a1775u);
    ck_assert_uint_eq(o->new_sessions, 1);
    ck_assert_int_eq(o->error, MTP_OK);
    ck_assert_int_eq(mtpc_step(r->c), MTPC_STEP_FINISH);
    /* The final acks reached the server and broke no rule. */
    ck_assert_uint_eq(r->srv.bad_packets, 0);
    ck_assert_uint_eq(r->srv.bad_msgs_sent, 0);
    ck_assert_uint_eq(r->srv.queries, 1);
}

struct transport_case {
    enum mtp_tr_kind kind;
    bool obfuscated;
};
static const struct transport_case TRANSPORTS[] = {
    {MTP_TR_ABRIDGED, false},     {MTP_TR_INTERMEDIATE, false}, {MTP_TR_PADDED, false},
    {MTP_TR_FULL, false},         {MTP_TR_ABRIDGED, true},      {MTP_TR_INTERMEDIATE, true},
    {MTP_TR_PADDED, true},
};

START_TEST(every_transport)
{
    struct run r;
    run_setup(&r, TRANSPORTS[_i].kind, TRANSPORTS[_i].obfuscated, TS_NORMAL);
    run_start(&r);
    check_agreement(&r);
    ck_assert_int_eq(r.srv.tr.kind, TRANSPORTS[_i].kind);
    ck_assert_int_eq(r.srv.tr.obfuscated, TRANSPORTS[_i].obfuscated);
    ck_assert_int_eq(mtpc_obfs_init(r.c) != NULL, TRANSPORTS[_i].obfuscated);
    /* Everything written was taken. */
    size_t left;
    (void)mtpc_output(r.c, &left);
    ck_assert_uint_eq(left, 0);
    ck_assert_uint_gt(mtpc_outcome(r.c)->bytes_out, 0);
    ck_assert_uint_gt(mtpc_outcome(r.c)->bytes_in, 0);
    run_free(&r);
}
END_TEST

START_TEST(mtproxy_secrets)
{
    /* 16-byte secret with each obfuscated transport, and the dd form with padded. */
    static const enum mtp_tr_kind kinds[] = {MTP_TR_ABRIDGED, MTP_TR_INTERMEDIATE, MTP_TR_PADDED, MTP_TR_PADDED};
    uint8_t raw[17] = {0xdd, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    struct mtp_obfs_secret secret;
    struct mtp_error err;
    mtp_error_clear(&err);
    if (_i == 3)
        ck_assert_ok(mtp_obfs_secret_parse(&secret, raw, 17, &err));
    else
        ck_assert_ok(mtp_obfs_secret_parse(&secret, raw + 1, 16, &err));
    struct run r;
    run_setup(&r, kinds[_i], true, TS_NORMAL);
    ts_free(&r.srv);
    ts_init(&r.srv, TS_NORMAL, r.key, &secret, NULL);
    r.cfg.secret = secret;
    r.cfg.obfs_dc = -2;
    run_start(&r);
    check_agreement(&r);
    ck_assert_int_eq(r.srv.tr.dc, -2);
    run_free(&r);
}
END_TEST

START_TEST(fixed_obfuscated_init_is_used)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, true, TS_NORMAL);
    uint8_t init[64];
    for (size_t i = 0; i < sizeof init; i++)
        init[i] = (uint8_t)(0x40 + i);
    mtp_store_u32(init + 56, 0xeeeeeeeeu);
    r.cfg.obfs_init = init;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtpc_new(&r.cfg, &r.env, &r.c, &err));
    ck_assert_mem_eq(mtpc_obfs_init(r.c), init, 64);
    ck_assert_ok(mtpc_start(r.c));
    size_t n;
    const uint8_t *p = mtpc_output(r.c, &n);
    /* The first 56 bytes go out as they are. */
    ck_assert_uint_gt(n, 64);
    ck_assert_mem_eq(p, init, 56);
    ts_pump(&r.srv, r.c);
    check_agreement(&r);
    run_free(&r);
}
END_TEST

START_TEST(full_dh_checks)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    r.cfg.auth.dh_mode = MTP_DH_FULL;
    run_start(&r);
    check_agreement(&r);
    run_free(&r);
}
END_TEST

START_TEST(auth_key_with_a_leading_zero_byte)
{
    /* With this seed g_ab < 2^2040: the key's first byte is 0.  It stays in
     * the key (256 bytes) for the auth_key_aux_hash that dh_gen_ok checks and
     * for the auth_key_id; Telethon and GramJS drop it and fail such runs. */
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    r.env = mtp_env_deterministic(&r.det, "client-263", 10, TS_T0);
    run_start(&r);
    check_agreement(&r);
    ck_assert_uint_eq(mtpc_outcome(r.c)->key.auth_key[0], 0);
    run_free(&r);
}
END_TEST

START_TEST(several_pings_then_the_call)
{
    struct run r;
    run_setup(&r, MTP_TR_ABRIDGED, false, TS_NORMAL);
    r.cfg.pings = 3;
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    ck_assert_uint_eq(o->pongs, 3);
    ck_assert(o->answered);
    ck_assert_uint_eq(r.srv.queries, 1);
    run_free(&r);
}
END_TEST

START_TEST(key_only)
{
    struct run r;
    run_setup(&r, MTP_TR_FULL, false, TS_NORMAL);
    r.cfg.pings = 0;
    r.cfg.call = NULL;
    r.cfg.call_len = 0;
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    ck_assert(o->have_key);
    ck_assert_uint_eq(o->pongs, 0);
    ck_assert(!o->answered);
    ck_assert_uint_eq(r.srv.packets_in, 0);
    /* Nothing the server can send now changes the run. */
    mtpc_peer_closed(r.c);
    ck_assert_int_eq(mtpc_state(r.c), MTPC_DONE);
    uint8_t junk[4] = {1, 2, 3, 4};
    ck_assert_ok(mtpc_feed(r.c, junk, sizeof junk));
    ck_assert_int_eq(mtpc_state(r.c), MTPC_DONE);
    run_free(&r);
}
END_TEST

START_TEST(pfs_two_exchanges_then_the_bind)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    r.cfg.pfs.enabled = true;
    r.cfg.pfs.expires_in = 600;
    struct sent_log log = {.n = 0};
    r.cfg.trace = log_sent;
    r.cfg.trace_ctx = &log;
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    ck_assert(o->have_key && o->have_temp_key && o->bound);
    ck_assert_uint_eq(r.srv.binds_ok, 1);
    ck_assert_uint_eq(r.srv.binds_refused, 0);
    /* the first exchange made the permanent key, the second the temporary one the session uses */
    ck_assert(r.srv.have_perm);
    ck_assert_mem_eq(o->key.auth_key, r.srv.perm.auth_key, 256);
    ck_assert(!o->key.temp);
    ck_assert_mem_eq(o->temp_key.auth_key, r.srv.key.auth_key, 256);
    ck_assert(o->temp_key.temp);
    ck_assert_int_eq(o->temp_key.expires_in, 600);
    ck_assert_int_eq(o->temp_expires_at, o->temp_key.server_time + 600);
    ck_assert_uint_eq(o->auth_attempts, 2);
    /* then the usual script, on the temporary key: the bind first, a ping, the call */
    ck_assert_uint_ge(log.n, 3);
    ck_assert_uint_eq(log.ctor[0], MTP_BIND_TEMP_AUTH_KEY_ID);
    ck_assert_uint_eq(o->pongs, 1);
    ck_assert(o->answered);
    ck_assert_uint_eq(o->result_ctor, 0x8e1a1775u);
    ck_assert_int_eq(r.srv.last_bind_check, MTP_OK);
    run_free(&r);
}
END_TEST

START_TEST(pfs_with_a_given_permanent_key)
{
    /* The double knows no such key: the bind is refused, and the run says so. */
    struct run r;
    run_setup(&r, MTP_TR_ABRIDGED, false, TS_NORMAL);
    uint8_t perm[256];
    memset(perm, 0x5a, sizeof perm);
    r.cfg.pfs.enabled = true;
    r.cfg.pfs.perm_key = perm;
    run_start(&r);
    const struct mtpc_outcome *o =
        failed(&r, MTP_ERR_CLIENT_BIND_FAILED, MTPC_STEP_BIND,
               "bind: auth.bindTempAuthKey answered rpc_error 400 ENCRYPTED_MESSAGE_INVALID");
    ck_assert(o->have_key && o->have_temp_key && !o->bound);
    ck_assert_mem_eq(o->key.auth_key, perm, 256);
    uint8_t id[8];
    mtp_auth_key_id(perm, id);
    ck_assert_mem_eq(o->key.auth_key_id, id, 8);
    ck_assert_uint_eq(o->auth_attempts, 1); /* only the temporary key was made */
    ck_assert(!r.srv.have_perm);
    run_free(&r);
    /* a temporary key needs a lifetime */
    run_setup(&r, MTP_TR_ABRIDGED, false, TS_NORMAL);
    r.cfg.pfs.enabled = true;
    r.cfg.pfs.expires_in = 0;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtpc_new(&r.cfg, &r.env, &r.c, &err), MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "client: a temporary key needs expires_in > 0, not 0");
    run_free(&r);
}
END_TEST

START_TEST(salt_zero_gets_bad_server_salt_and_resends)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    r.cfg.behaviour.salt_zero = true;
    struct sent_log sent = {0};
    r.cfg.trace = log_sent;
    r.cfg.trace_ctx = &sent;
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    /* The ping went out with salt 0, then again under a new, higher msg_id with the new salt. */
    ck_assert_uint_ge(sent.n, 2);
    ck_assert_uint_eq(sent.ctor[0], MTP_SVC_ping);
    ck_assert_uint_eq(sent.salt[0], 0);
    ck_assert_uint_eq(sent.salt[1], mtp_load_u64(o->key.server_salt));
    ck_assert_uint_gt(sent.msg_id[1], sent.msg_id[0]);
    ck_assert_uint_eq(sent.msg_id[1] % 4, 0);
    ck_assert_uint_eq(o->bad_salts, 1);
    ck_assert_uint_eq(o->resends, 1);
    ck_assert_uint_eq(r.srv.bad_salts_sent, 1);
    /* The new salt is the one the handshake made, which the server uses. */
    ck_assert_uint_eq(o->salt, mtp_load_u64(o->key.server_salt));
    ck_assert_uint_eq(o->pongs, 1);
    ck_assert(o->answered);
    run_free(&r);
}
END_TEST

START_TEST(endless_bad_server_salt_hits_the_resend_limit)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_BAD_SALT_LOOP);
    r.cfg.behaviour.salt_zero = true;
    r.cfg.max_resends = 3;
    run_start(&r);
    const struct mtpc_outcome *o =
        failed(&r, MTP_ERR_CLIENT_RESEND_LIMIT, MTPC_STEP_PING, "made the client send the ping 5 times (limit 4");
    ck_assert_uint_eq(o->bad_salts, 4);
    ck_assert_uint_eq(r.srv.bad_salts_sent, 4);
    run_free(&r);
}
END_TEST

START_TEST(rpc_error_is_an_answer)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_RPC_ERROR);
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    ck_assert(o->answered);
    ck_assert(o->rpc_error);
    ck_assert_int_eq(o->rpc_code, 400);
    ck_assert_str_eq(o->rpc_message, "TEST_ERROR");
    run_free(&r);
}
END_TEST

START_TEST(quick_acks_are_counted)
{
    struct run r;
    run_setup(&r, MTP_TR_PADDED, false, TS_QUICK_ACK);
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    ck_assert_uint_eq(o->quick_acks, 2); /* one before the pong, one before the result */
    run_free(&r);
}
END_TEST

START_TEST(wrong_answer_type_is_kept_for_the_caller)
{
    /* The core does not know result types: it keeps the bytes (mtpc_call judges them). */
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_WRONG_ANSWER);
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    ck_assert_uint_eq(o->result_ctor, 0x997275b5u);
    ck_assert_uint_eq(o->result_len, 4);
    run_free(&r);
}
END_TEST

START_TEST(server_closes_during_the_exchange)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_CLOSE_AFTER_RES_PQ);
    run_start(&r);
    failed(&r, MTP_ERR_CLIENT_PEER_CLOSED, MTPC_STEP_AUTH_KEY,
           "auth_key: the server closed the connection while the client waited for server_DH_params");
    ck_assert_int_eq(mtpc_auth_state(r.c), MTP_AUTH_C_AWAIT_SERVER_DH_PARAMS);
    ck_assert(!mtpc_outcome(r.c)->have_key);
    run_free(&r);
}
END_TEST

START_TEST(garbage_payload)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_GARBAGE_FRAME);
    run_start(&r);
    /* 24 bytes whose auth_key_id is not 0. */
    failed(&r, MTP_ERR_AUTH_NOT_PLAIN, MTPC_STEP_AUTH_KEY, "auth_key (waiting for resPQ)");
    run_free(&r);
}
END_TEST

START_TEST(garbage_stream)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_GARBAGE_STREAM);
    run_start(&r);
    /* A length of 2^31 - 1: refused at the header, before any body is buffered. */
    failed(&r, MTP_ERR_TR_BAD_LENGTH, MTPC_STEP_AUTH_KEY, "auth_key: transport:");
    run_free(&r);
}
END_TEST

START_TEST(frame_over_the_limit)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_BAD_FRAME_LEN);
    run_start(&r);
    failed(&r, MTP_ERR_TR_BAD_LENGTH, MTPC_STEP_AUTH_KEY, "transport");
    run_free(&r);
}
END_TEST

/* The client asked for a new connection: a fresh server double (mode) on it. */
static void reconnect(struct run *r, enum ts_mode mode)
{
    ck_assert(mtpc_wants_reconnect(r->c));
    ck_assert_int_eq(mtpc_state(r->c), MTPC_RUNNING);
    size_t left;
    (void)mtpc_output(r->c, &left);
    ck_assert_uint_eq(left, 0); /* nothing is sent to the dead connection */
    ts_free(&r->srv);
    ts_init(&r->srv, mode, r->key, NULL, NULL);
    ck_assert_ok(mtpc_reconnect(r->c));
    ck_assert(!mtpc_wants_reconnect(r->c));
    ts_pump(&r->srv, r->c);
}

START_TEST(transport_error_404_during_the_exchange)
{
    /* REQUIREMENTS C-HS-12: -404 during the handshake restarts it, a bounded number of times. */
    struct run r;
    run_setup(&r, MTP_TR_ABRIDGED, false, TS_ERR404);
    run_start(&r);
    ck_assert(mtpc_wants_reconnect(r.c));
    ck_assert_uint_eq(mtpc_outcome(r.c)->auth_attempts, 1);
    /* while it waits, a close is no failure and input is ignored */
    mtpc_peer_closed(r.c);
    uint8_t junk[4] = {9, 9, 9, 9};
    ck_assert_ok(mtpc_feed(r.c, junk, sizeof junk));
    ck_assert_int_eq(mtpc_state(r.c), MTPC_RUNNING);
    reconnect(&r, TS_ERR404);
    ck_assert_uint_eq(mtpc_outcome(r.c)->auth_attempts, 2);
    reconnect(&r, TS_ERR404);
    const struct mtpc_outcome *o =
        failed(&r, MTP_ERR_CLIENT_AUTH_RESTARTS, MTPC_STEP_AUTH_KEY,
               "auth_key: transport error -404 (auth_key_not_found) while waiting for resPQ, on attempt 3 of 3 at the "
               "key exchange (each earlier attempt also ended with -404 and was restarted on a new connection)");
    ck_assert_uint_eq(o->auth_attempts, 3);
    ck_assert(!mtpc_wants_reconnect(r.c));
    ck_assert_int_eq(mtpc_reconnect(r.c), MTP_ERR_CLIENT_AUTH_RESTARTS);
    run_free(&r);
}
END_TEST

START_TEST(transport_error_404_once_then_a_key)
{
    struct run r;
    run_setup(&r, TRANSPORTS[_i].kind, TRANSPORTS[_i].obfuscated, TS_ERR404);
    run_start(&r);
    uint8_t first_init[64];
    if (TRANSPORTS[_i].obfuscated)
        memcpy(first_init, mtpc_obfs_init(r.c), 64);
    reconnect(&r, TS_NORMAL);
    check_agreement(&r);
    ck_assert_uint_eq(mtpc_outcome(r.c)->auth_attempts, 2);
    /* a new connection gets a new obfuscated init */
    if (TRANSPORTS[_i].obfuscated)
        ck_assert(memcmp(first_init, mtpc_obfs_init(r.c), 64) != 0);
    run_free(&r);
}
END_TEST

START_TEST(one_attempt_means_no_restart)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_ERR404);
    r.cfg.max_auth_attempts = 1;
    run_start(&r);
    failed(&r, MTP_ERR_CLIENT_AUTH_RESTARTS, MTPC_STEP_AUTH_KEY, "on attempt 1 of 1");
    run_free(&r);
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    r.cfg.max_auth_attempts = 0;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtpc_new(&r.cfg, &r.env, &r.c, &err), MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "client: max_auth_attempts must be at least 1");
    run_free(&r);
}
END_TEST

START_TEST(transport_error_444_is_an_invalid_dc)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_ERR444);
    run_start(&r);
    failed(&r, MTP_ERR_CLIENT_INVALID_DC, MTPC_STEP_AUTH_KEY,
           "auth_key: transport error -444 (invalid DC id): the server does not serve DC 2 (a test DC id, +10000, "
           "against a production server or the reverse?) while waiting for resPQ");
    ck_assert(!mtpc_wants_reconnect(r.c));
    run_free(&r);
}
END_TEST

START_TEST(transport_error_429_after_the_key)
{
    struct run r;
    run_setup(&r, MTP_TR_FULL, false, TS_ERR429_AFTER_KEY);
    run_start(&r);
    const struct mtpc_outcome *o =
        failed(&r, MTP_ERR_CLIENT_TRANSPORT_ERROR, MTPC_STEP_PING, "ping: transport error -429 (flood)");
    ck_assert(o->have_key); /* what was made is still reported */
    run_free(&r);
}
END_TEST

START_TEST(silent_server_times_out)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_SILENT);
    run_start(&r);
    ck_assert_int_eq(mtpc_state(r.c), MTPC_RUNNING);
    ck_assert_int_eq(mtpc_tick_in_ms(r.c), INT64_MAX);
    mtpc_timeout(r.c, 5000);
    failed(&r, MTP_ERR_TIMEOUT, MTPC_STEP_AUTH_KEY, "auth_key: still waiting for resPQ after 5000 ms");
    run_free(&r);
}
END_TEST

START_TEST(plaintext_after_the_key_is_discarded)
{
    /* description#unencrypted-message, security_guidelines: discarded, and
     * the client waits on for the answer (which this server never sends). */
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_PLAIN_AFTER_KEY);
    run_start(&r);
    const struct mtpc_outcome *o = mtpc_outcome(r.c);
    ck_assert_int_eq(mtpc_state(r.c), MTPC_RUNNING);
    ck_assert_uint_eq(o->dropped, 1);
    ck_assert_int_eq(o->last_dropped, MTP_ERR_CLIENT_UNEXPECTED);
    ck_assert_str_eq(o->last_dropped_msg, "ping: an unencrypted message (auth_key_id 0, 24 bytes) after the key exchange");
    mtpc_timeout(r.c, 5000);
    failed(&r, MTP_ERR_TIMEOUT, MTPC_STEP_PING,
           "ping: still waiting for pong after 5000 ms (the last message the client ignored: client_unexpected_packet: ping: "
           "an unencrypted message");
    run_free(&r);
}
END_TEST

START_TEST(tampered_packet_is_discarded)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_TAMPER);
    run_start(&r);
    const struct mtpc_outcome *o = mtpc_outcome(r.c);
    ck_assert_int_eq(mtpc_state(r.c), MTPC_RUNNING);
    ck_assert_uint_eq(o->dropped, 1);
    ck_assert_int_eq(o->last_dropped, MTP_ERR_MSG_KEY_MISMATCH);
    ck_assert_msg(strstr(o->last_dropped_msg, "ping: encrypted packet of") == o->last_dropped_msg, "%s",
                  o->last_dropped_msg);
    ck_assert_uint_eq(o->pongs, 0);
    run_free(&r);
}
END_TEST

START_TEST(auth_failure_names_the_check)
{
    /* The server's dh_gen_ok carries a wrong new_nonce_hash1. */
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    struct mtp_auth_server_behaviour b = {.corrupt = MTP_AUTH_CORRUPT(MTP_AUTH_X_DH_GEN_HASH)};
    ts_free(&r.srv);
    ts_init(&r.srv, TS_NORMAL, r.key, NULL, &b);
    run_start(&r);
    const struct mtpc_outcome *o = mtpc_outcome(r.c);
    ck_assert_int_eq(mtpc_state(r.c), MTPC_FAILED);
    ck_assert_int_eq(o->error_step, MTPC_STEP_AUTH_KEY);
    ck_assert_msg(strstr(o->error_msg, "auth_key (waiting for dh_gen_ok)") == o->error_msg, "%s", o->error_msg);
    ck_assert_msg(strstr(o->error_msg, mtp_err_name(o->error)) != NULL, "%s", o->error_msg);
    ck_assert_int_eq(mtpc_auth_state(r.c), MTP_AUTH_C_FAILED);
    run_free(&r);
}
END_TEST

START_TEST(client_auth_behaviour_reaches_the_server)
{
    /* A corrupted req_DH_params nonce: the server refuses and answers -404. */
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    struct mtp_auth_client_behaviour b = {.corrupt = MTP_AUTH_CORRUPT(MTP_AUTH_X_REQ_DH_NONCE)};
    r.cfg.auth.behaviour = &b;
    run_start(&r);
    ck_assert(r.srv.auth_failed);
    /* -404 restarts the exchange, which the same corruption breaks again */
    reconnect(&r, TS_NORMAL);
    ck_assert(r.srv.auth_failed);
    reconnect(&r, TS_NORMAL);
    ck_assert(r.srv.auth_failed);
    failed(&r, MTP_ERR_CLIENT_AUTH_RESTARTS, MTPC_STEP_AUTH_KEY,
           "-404 (auth_key_not_found) while waiting for server_DH_params, on attempt 3 of 3");
    run_free(&r);
}
END_TEST

/* Flips a ciphertext byte of every encrypted packet. */
static int flip_packet(void *ctx, enum mtpc_stage stage, struct mtp_wr *msg)
{
    unsigned *seen = ctx;
    if (stage == MTPC_STAGE_PACKET) {
        (*seen)++;
        msg->p[msg->len - 1] ^= 0x80;
    }
    return MTP_OK;
}

START_TEST(mutate_hook_changes_what_goes_out)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    unsigned seen = 0;
    r.cfg.behaviour.mutate = flip_packet;
    r.cfg.behaviour.mutate_ctx = &seen;
    run_start(&r);
    ck_assert_uint_eq(seen, 1);
    ck_assert_uint_eq(r.srv.bad_packets, 1);
    ck_assert_int_eq(r.srv.last_recv_rc, MTP_ERR_MSG_KEY_MISMATCH);
    ck_assert_int_eq(mtpc_state(r.c), MTPC_RUNNING); /* waiting for a pong that will not come */
    run_free(&r);
}
END_TEST

/* Makes the call's seqno even although it is content-related (it goes out
 * in a container with the acks of the pong). */
static int even_seqno(void *ctx, enum mtpc_stage stage, struct mtp_wr *msg)
{
    (void)ctx;
    if (stage != MTPC_STAGE_INNER)
        return MTP_OK;
    struct mtp_rd r, body;
    mtp_rd_init(&r, msg->p, msg->len, NULL);
    struct mtp_msg_header h;
    ck_assert_ok(mtp_msg_parse(&r, &h, &body));
    if (mtp_load_u32(msg->p + 32) != MTP_SVC_msg_container)
        return MTP_OK;
    struct mtp_container_limits lim = {MTP_CONTAINER_MAX_MSGS, MTP_CONTAINER_MAX_BYTES};
    struct mtp_container c;
    ck_assert_ok(mtp_container_open(&c, &body, h.msg_id, h.seqno, &lim));
    struct mtp_nested m;
    while (mtp_container_next(&c, &m) == 1)
        if (m.ctor == 0x1fb33026u)
            msg->p[m.offset + 8] &= 0xfe;
    return MTP_OK;
}

START_TEST(fatal_bad_msg_notification_fails_the_request)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    r.cfg.behaviour.mutate = even_seqno;
    run_start(&r);
    ck_assert_uint_eq(r.srv.bad_msgs_sent, 1);
    failed(&r, MTP_ERR_CLIENT_REQUEST_FAILED, MTPC_STEP_CALL, "bad_msg_notification error_code 35");
    run_free(&r);
}
END_TEST

static int drop_plain(void *ctx, enum mtpc_stage stage, struct mtp_wr *msg)
{
    (void)ctx;
    (void)msg;
    return stage == MTPC_STAGE_PLAIN_BODY ? MTPC_MUTATE_DROP : MTP_OK;
}

static int fail_hook(void *ctx, enum mtpc_stage stage, struct mtp_wr *msg)
{
    (void)ctx;
    (void)stage;
    (void)msg;
    return MTP_ERR_LIMIT;
}

START_TEST(mutate_hook_drops_and_fails)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    r.cfg.behaviour.mutate = drop_plain;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtpc_new(&r.cfg, &r.env, &r.c, &err));
    ck_assert_ok(mtpc_start(r.c));
    size_t n;
    (void)mtpc_output(r.c, &n);
    ck_assert_uint_eq(n, 4); /* the tag only */
    mtpc_del(r.c);
    r.cfg.behaviour.mutate = fail_hook;
    ck_assert_ok(mtpc_new(&r.cfg, &r.env, &r.c, &err));
    ck_assert_int_eq(mtpc_start(r.c), MTP_ERR_LIMIT);
    failed(&r, MTP_ERR_LIMIT, MTPC_STEP_AUTH_KEY, "mutate hook (stage 1)");
    run_free(&r);
}
END_TEST

START_TEST(output_limit)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    static uint8_t big[8192];
    memcpy(big, CALL_NEAREST_DC, 4);
    r.cfg.call = big;
    r.cfg.call_len = sizeof big;
    r.cfg.max_output = 4096;
    run_start(&r);
    failed(&r, MTP_ERR_CLIENT_OUTPUT_LIMIT, MTPC_STEP_CALL, "queued for the server, limit 4096");
    run_free(&r);
}
END_TEST

START_TEST(output_is_taken_in_pieces)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtpc_new(&r.cfg, &r.env, &r.c, &err));
    ck_assert_ok(mtpc_start(r.c));
    size_t n;
    const uint8_t *p = mtpc_output(r.c, &n);
    ck_assert_uint_eq(n, 4 + 4 + 40); /* tag, length, req_pq_multi */
    uint8_t all[48];
    memcpy(all, p, n);
    mtpc_output_done(r.c, 10);
    p = mtpc_output(r.c, &n);
    ck_assert_uint_eq(n, 38);
    ck_assert_mem_eq(p, all + 10, 38);
    mtpc_output_done(r.c, 100); /* more than there is: clamped */
    (void)mtpc_output(r.c, &n);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(mtpc_outcome(r.c)->bytes_out, 48);
    run_free(&r);
}
END_TEST

START_TEST(bad_configurations)
{
    struct run r;
    run_setup(&r, MTP_TR_FULL, true, TS_NORMAL);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtpc_new(&r.cfg, &r.env, &r.c, &err), MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "client: full cannot be obfuscated");
    ck_assert_ptr_null(r.c);
    r.cfg.obfuscated = false;
    r.cfg.secret.mode = MTP_OBFS_SECRET_SIMPLE;
    mtp_error_clear(&err);
    ck_assert_rc(mtpc_new(&r.cfg, &r.env, &r.c, &err), MTP_ERR_ARG);
    r.cfg.secret.mode = MTP_OBFS_SECRET_NONE;
    r.cfg.call_len = 3;
    ck_assert_rc(mtpc_new(&r.cfg, &r.env, &r.c, &err), MTP_ERR_ARG);
    r.cfg.call_len = 4;
    r.cfg.auth.n_keys = 0;
    ck_assert_rc(mtpc_new(&r.cfg, &r.env, &r.c, &err), MTP_ERR_AUTH_CONFIG);
    r.cfg.auth.n_keys = 1;
    r.cfg.max_frame = 10;
    ck_assert_rc(mtpc_new(&r.cfg, &r.env, &r.c, &err), MTP_ERR_ARG);
    ck_assert_ptr_null(r.c);
    run_free(&r);
}
END_TEST

START_TEST(start_twice_and_early_bytes)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtpc_new(&r.cfg, &r.env, &r.c, &err));
    uint8_t b[1] = {0};
    ck_assert_rc(mtpc_feed(r.c, b, 1), MTP_ERR_CLIENT_UNEXPECTED);
    failed(&r, MTP_ERR_CLIENT_UNEXPECTED, MTPC_STEP_CONNECT, "before the client started");
    /* The first failure stays. */
    mtpc_fail(r.c, MTP_ERR_IO, "later");
    ck_assert_int_eq(mtpc_outcome(r.c)->error, MTP_ERR_CLIENT_UNEXPECTED);
    mtpc_del(r.c);
    ck_assert_ok(mtpc_new(&r.cfg, &r.env, &r.c, &err));
    ck_assert_ok(mtpc_start(r.c));
    ck_assert_rc(mtpc_start(r.c), MTP_ERR_ARG);
    run_free(&r);
}
END_TEST

START_TEST(step_names)
{
    ck_assert_str_eq(mtpc_step_name(MTPC_STEP_CONNECT), "connect");
    ck_assert_str_eq(mtpc_step_name(MTPC_STEP_AUTH_KEY), "auth_key");
    ck_assert_str_eq(mtpc_step_name(MTPC_STEP_BIND), "bind");
    ck_assert_str_eq(mtpc_step_name(MTPC_STEP_PING), "ping");
    ck_assert_str_eq(mtpc_step_name(MTPC_STEP_CALL), "call");
    ck_assert_str_eq(mtpc_step_name(MTPC_STEP_FINISH), "finish");
    ck_assert_str_eq(mtpc_step_name((enum mtpc_step)99), "unknown");
}
END_TEST

struct trace_log {
    unsigned plain_out, plain_in, inner_out, inner_in, events;
};

static void count_trace(void *ctx, const struct mtpc_trace *t)
{
    struct trace_log *l = ctx;
    if (t->kind == MTPC_TRACE_PLAIN)
        (*(t->dir == MTPC_OUT ? &l->plain_out : &l->plain_in))++;
    else if (t->kind == MTPC_TRACE_INNER)
        (*(t->dir == MTPC_OUT ? &l->inner_out : &l->inner_in))++;
    else if (t->kind == MTPC_TRACE_EVENT)
        l->events++;
}

START_TEST(trace_sees_every_message)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    struct trace_log l = {0};
    r.cfg.trace = count_trace;
    r.cfg.trace_ctx = &l;
    run_start(&r);
    done_ok(&r);
    ck_assert_uint_eq(l.plain_out, 3); /* req_pq_multi, req_DH_params, set_client_DH_params */
    ck_assert_uint_eq(l.plain_in, 3);
    ck_assert_uint_eq(l.inner_out, 3); /* ping, call (with acks), final acks */
    ck_assert_uint_eq(l.inner_in, 2);
    ck_assert_uint_ge(l.events, 3);
    run_free(&r);
}
END_TEST

/* ---- discarded, not fatal: a hostile message, then the honest answer ---- */

static const struct {
    enum hostile h;
    int code; /* why the client discards it */
} DISCARDS[] = {
    {HOSTILE_OTHER_KEY_ID, MTP_ERR_AUTH_KEY_ID_MISMATCH},
    {HOSTILE_FAKE_MSG_KEY, MTP_ERR_MSG_KEY_MISMATCH},
    {HOSTILE_WRONG_SESSION, MTP_ERR_SES_WRONG_SESSION},
    {HOSTILE_EVEN_MSG_ID, MTP_ERR_SES_MSG_ID_PARITY},
    {HOSTILE_DUPLICATE_MSG_ID, MTP_ERR_SES_DUPLICATE},
    {HOSTILE_TOO_OLD, MTP_ERR_SES_MSG_ID_TOO_OLD},
    {HOSTILE_TOO_NEW, MTP_ERR_SES_MSG_ID_TOO_NEW},
    {HOSTILE_LENGTH_BEYOND, MTP_ERR_BAD_MESSAGE_LENGTH},
    {HOSTILE_LENGTH_NEGATIVE, MTP_ERR_BAD_MESSAGE_LENGTH},
    {HOSTILE_LENGTH_UNALIGNED, MTP_ERR_UNALIGNED_MESSAGE_LENGTH},
    {HOSTILE_PADDING_SHORT, MTP_ERR_BAD_PADDING_LENGTH},
    {HOSTILE_PADDING_LONG, MTP_ERR_BAD_PADDING_LENGTH},
    {HOSTILE_CONTAINER_ORDER, MTP_ERR_SES_BAD_CONTAINER},
    {HOSTILE_PLAIN, MTP_ERR_CLIENT_UNEXPECTED},
    {HOSTILE_SALT_WRONG_SESSION, MTP_ERR_SES_WRONG_SESSION},
};

START_TEST(hostile_message_is_discarded)
{
    /* security_guidelines: a message that fails a check is discarded
     * completely and nothing from it is used; the run goes on. */
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    enum hostile h = DISCARDS[_i].h;
    r.srv.before_answer = send_hostile;
    r.srv.hook_ctx = &h;
    struct sent_log sent = {0};
    r.cfg.trace = log_sent;
    r.cfg.trace_ctx = &sent;
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    char cc[3];
    result_country(o, cc);
    ck_assert_str_eq(cc, "ZZ");
    ck_assert_uint_eq(o->dropped, 1);
    ck_assert_msg(o->last_dropped == DISCARDS[_i].code, "dropped for %s (%s), want %s", mtp_err_name(o->last_dropped),
                  o->last_dropped_msg, mtp_err_name(DISCARDS[_i].code));
    /* not acknowledged, its salt not taken */
    if (h != HOSTILE_PLAIN)
        ck_assert(!was_acked(&sent, r.srv.last_crafted_id));
    ck_assert_uint_eq(o->salt, mtp_load_u64(o->key.server_salt));
    ck_assert_uint_eq(r.srv.bad_packets, 0);
    ck_assert_uint_eq(r.srv.bad_msgs_sent, 0);
    run_free(&r);
}
END_TEST

/* ---- legitimate edges a client must accept ---- */

/* The hook's answer replaces the honest one: nearestDc "ZZ" with some country
 * length and padding. */
struct edge_answer {
    const char *country;
    size_t padding;
    bool in_container; /* with a msgs_ack for the query, in a container */
};

static void send_edge_answer(struct ts_server *s, void *ctx)
{
    const struct edge_answer *e = ctx;
    uint8_t dc[32], body[128];
    size_t n = ts_rpc_result(body, sizeof body, s->last_query_msg_id, dc, ts_nearest_dc_of(dc, e->country));
    struct ts_craft m = {.body = body, .len = n, .padding = e->padding, .padding_set = e->padding > 0};
    uint8_t ct[256];
    if (e->in_container) {
        int64_t now = mtp_env_now_ms(&s->env);
        uint64_t ids[2] = {mtp_msgid_next(&s->ses.ids, now, MTP_MSGID_SERVER_OTHER),
                           mtp_msgid_next(&s->ses.ids, now, MTP_MSGID_SERVER_RESPONSE)};
        mtp_store_u32(ct, MTP_SVC_msg_container);
        mtp_store_u32(ct + 4, 2);
        struct mtp_wr w;
        mtp_wr_init_fixed(&w, ct + 24, sizeof ct - 24, NULL);
        ck_assert_ok(mtp_svc_write_ids(&w, MTP_SVC_msgs_ack, &s->last_query_msg_id, 1));
        mtp_store_u64(ct + 8, ids[0]);
        mtp_store_u32(ct + 16, 0);
        mtp_store_u32(ct + 20, (uint32_t)w.len);
        size_t at = 24 + w.len;
        mtp_store_u64(ct + at, ids[1]);
        mtp_store_u32(ct + at + 8, 1);
        mtp_store_u32(ct + at + 12, (uint32_t)n);
        memcpy(ct + at + 16, body, n);
        m.body = ct;
        m.len = at + 16 + n;
        m.seqno = 2;
        m.seqno_set = true;
    }
    ts_send_crafted(s, &m);
    s->no_answer = true;
}

START_TEST(padding_of_exactly_12_and_1024_bytes)
{
    /* rpc_result of a nearestDc with a 10-letter country is 36 bytes:
     * 32 + 36 + 12 = 80; with 6 letters it is 32 bytes: 32 + 32 + 1024 = 1088. */
    static const struct edge_answer cases[] = {{"ZZZZZZZZZZ", 12, false}, {"ZZZZZZ", 1024, false}};
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    r.srv.before_answer = send_edge_answer;
    r.srv.hook_ctx = (void *)&cases[_i];
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    ck_assert_uint_eq(o->dropped, 0);
    ck_assert_uint_eq(o->result[4], strlen(cases[_i].country));
    ck_assert_mem_eq(o->result + 5, cases[_i].country, strlen(cases[_i].country));
    run_free(&r);
}
END_TEST

START_TEST(container_with_an_ack_and_the_answer)
{
    static const struct edge_answer e = {"ZZ", 0, true};
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    r.srv.before_answer = send_edge_answer;
    r.srv.hook_ctx = (void *)&e;
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    ck_assert_uint_eq(o->dropped, 0);
    char cc[3];
    result_country(o, cc);
    ck_assert_str_eq(cc, "ZZ");
    run_free(&r);
}
END_TEST

static void gzip_answer(struct ts_server *s, void *ctx)
{
    (void)ctx;
    uint8_t res[16];
    size_t n = ts_nearest_dc(res);
    ck_assert_ok(mtp_session_send_result(&s->ses, s->last_query_msg_id, res, n, MTP_SEND_GZIP));
    s->no_answer = true;
}

START_TEST(gzip_packed_answer)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    r.srv.before_answer = gzip_answer;
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    uint8_t want[16];
    size_t n = ts_nearest_dc(want);
    ck_assert_uint_eq(o->result_len, n);
    ck_assert_mem_eq(o->result, want, n);
    run_free(&r);
}
END_TEST

static void ack_then_answer(struct ts_server *s, void *ctx)
{
    (void)ctx;
    uint8_t body[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, body, sizeof body, NULL);
    ck_assert_ok(mtp_svc_write_ids(&w, MTP_SVC_msgs_ack, &s->last_query_msg_id, 1));
    struct ts_craft m = {.body = body, .len = w.len, .seqno = 0, .seqno_set = true};
    ts_send_crafted(s, &m);
}

START_TEST(msgs_ack_from_the_server)
{
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    r.srv.before_answer = ack_then_answer;
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    ck_assert_uint_eq(o->acks, 1);
    ck_assert_uint_eq(o->dropped, 0);
    ck_assert(o->answered);
    run_free(&r);
}
END_TEST

START_TEST(future_salts_answer)
{
    /* get_future_salts#b921bd04 num:int */
    static const uint8_t call[] = {0x04, 0xbd, 0x21, 0xb9, 0x02, 0x00, 0x00, 0x00};
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    r.cfg.call = call;
    r.cfg.call_len = sizeof call;
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    ck_assert_uint_eq(o->result_ctor, MTP_SVC_future_salts);
    ck_assert_uint_eq(mtp_load_u32(o->answers[1].result), MTP_SVC_future_salts);
    ck_assert_uint_eq(o->dropped, 0);
    run_free(&r);
}
END_TEST

START_TEST(padded_intermediate_with_0_to_15_bytes_of_padding)
{
    struct run r;
    run_setup(&r, MTP_TR_PADDED, _i >= 16, TS_NORMAL);
    r.srv.pad = _i % 16;
    run_start(&r);
    check_agreement(&r);
    run_free(&r);
}
END_TEST

START_TEST(dh_gen_retry_then_ok)
{
    /* auth_key step 9: a new b, and retry_id = auth_key_aux_hash of the key
     * that failed; the server checks both. */
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    struct mtp_auth_server_behaviour b = {.dh_gen_retries = 2};
    ts_free(&r.srv);
    ts_init(&r.srv, TS_NORMAL, r.key, NULL, &b);
    run_start(&r);
    check_agreement(&r);
    ck_assert_uint_eq(mtpc_outcome(r.c)->key.retries, 2);
    ck_assert_uint_eq(r.srv.plain_in, 5); /* req_pq_multi, req_DH_params, set_client_DH_params x 3 */
    run_free(&r);
}
END_TEST

START_TEST(server_time_far_off)
{
    /* The offset comes from server_time; the server's msg_ids (its real clock)
     * then look an hour old, so the first answer is bad_msg_notification 16/17,
     * which is processed whatever its time, and corrects the offset. */
    static const int32_t shift[] = {3600, -3600};
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    struct mtp_auth_server_behaviour b = {.server_time_set = true,
                                          .server_time = (int32_t)(TS_T0 / 1000) + shift[_i]};
    ts_free(&r.srv);
    ts_init(&r.srv, TS_NORMAL, r.key, NULL, &b);
    struct sent_log sent = {0};
    r.cfg.trace = log_sent;
    r.cfg.trace_ctx = &sent;
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    ck_assert_int_eq(o->key.server_time, (int32_t)(TS_T0 / 1000) + shift[_i]);
    /* the first message went out in the server's announced time, the resend in its real time */
    ck_assert_int_eq(mtp_msgid_to_ms(sent.msg_id[0]) / 1000, (int64_t)(TS_T0 / 1000) + shift[_i]);
    ck_assert_uint_eq(r.srv.bad_msgs_sent, 1);
    ck_assert_uint_eq(o->bad_msgs, 1);
    ck_assert_int_eq(mtp_msgid_to_ms(sent.msg_id[1]) / 1000, (int64_t)(TS_T0 / 1000));
    ck_assert_uint_eq(o->pongs, 1);
    ck_assert(o->answered);
    run_free(&r);
}
END_TEST

START_TEST(other_safe_primes_with_each_legal_g)
{
    /* auth_key step 6: g = 2 needs p mod 8 = 7, 3 p mod 3 = 2, 4 nothing,
     * 5 p mod 5 in {1, 4}, 6 p mod 24 in {19, 23}, 7 p mod 7 in {3, 5, 6}.
     * Prime A has p mod 8 = 7, mod 5 = 4, mod 24 = 23; prime B mod 3 = 2, mod 7 = 3. */
    static const struct {
        const char *prime;
        int32_t g;
    } cases[] = {{"A", 2}, {"B", 3}, {"A", 4}, {"B", 4}, {"A", 5}, {"A", 6}, {"B", 7}};
    size_t len = 256;
    uint8_t *p = dh_prime_from_vectors(cases[_i].prime);
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    struct ts_opts so = {.dh_prime = p, .dh_prime_len = len, .g = cases[_i].g};
    ts_free(&r.srv);
    ts_init_opts(&r.srv, TS_NORMAL, r.key, NULL, NULL, &so);
    r.cfg.auth.dh_mode = MTP_DH_FULL;
    run_start(&r);
    check_agreement(&r);
    run_free(&r);
}
END_TEST

START_TEST(g_a_with_a_leading_zero_byte)
{
    /* With the env seed "server-283" the server's a gives g_a < 2^2040: the
     * 256 bytes of g_a start with 0.  The test computes g_a the way the server
     * draws it (server_nonce, then a, pq being fixed) and has the server send
     * exactly those bytes, so a wrong guess would break the key. */
    static const uint8_t pq[] = {0x17, 0xED, 0x48, 0x94, 0x1A, 0x08, 0xF9, 0x81};
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "server-283", 10, TS_T0);
    uint8_t nonce[16], a[256], g_a[256];
    ck_assert_ok(mtp_env_rand(&env, nonce, sizeof nonce));
    ck_assert_ok(mtp_env_rand(&env, a, sizeof a));
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_dh_public(mtp_dh_telegram_prime, 256, 3, a, g_a, &err));
    ck_assert_uint_eq(g_a[0], 0);
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    struct mtp_auth_server_behaviour b = {.pq = pq, .pq_len = sizeof pq, .g_a = g_a, .g_a_len = sizeof g_a};
    struct ts_opts so = {.seed = "server-283"};
    ts_free(&r.srv);
    ts_init_opts(&r.srv, TS_NORMAL, r.key, NULL, &b, &so);
    r.cfg.auth.dh_mode = MTP_DH_FULL;
    run_start(&r);
    check_agreement(&r);
    run_free(&r);
}
END_TEST

static void rpc_error_bytes(struct ts_server *s, void *ctx)
{
    const char *msg = ctx;
    size_t len = 9; /* "BAD" 0xff 0x00 "TAIL" */
    uint8_t body[64], err[32];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, err, sizeof err, NULL);
    ck_assert_ok(mtp_svc_write_rpc_error(&w, 420, msg, len));
    size_t n = ts_rpc_result(body, sizeof body, s->last_query_msg_id, err, w.len);
    struct ts_craft m = {.body = body, .len = n};
    ts_send_crafted(s, &m);
    s->no_answer = true;
}

START_TEST(rpc_error_message_bytes_are_kept)
{
    /* Not UTF-8, with a NUL inside: every byte reaches the outcome. */
    static const char msg[] = "BAD\xff\x00TAIL";
    struct run r;
    run_setup(&r, MTP_TR_INTERMEDIATE, false, TS_NORMAL);
    r.srv.before_answer = rpc_error_bytes;
    r.srv.hook_ctx = (void *)msg;
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    const struct mtpc_answer *a = &o->answers[1];
    ck_assert(a->answered && a->rpc_error);
    ck_assert_int_eq(a->rpc_code, 420);
    ck_assert_uint_eq(a->rpc_message_len, sizeof msg - 1);
    ck_assert_mem_eq(a->rpc_message, msg, sizeof msg - 1);
    ck_assert(o->rpc_error);
    ck_assert_str_eq(o->rpc_message, "BAD\xff");
    run_free(&r);
}
END_TEST

START_TEST(request_list_in_order)
{
    const struct mtpc_request reqs[] = {
        {MTPC_REQ_CALL, CALL_NEAREST_DC, 4}, {MTPC_REQ_PING, NULL, 0}, {MTPC_REQ_CALL, CALL_NEAREST_DC, 4},
        {MTPC_REQ_PING, NULL, 0}};
    struct run r;
    run_setup(&r, MTP_TR_ABRIDGED, false, TS_NORMAL);
    r.cfg.requests = reqs;
    r.cfg.n_requests = 4;
    struct sent_log sent = {0};
    r.cfg.trace = log_sent;
    r.cfg.trace_ctx = &sent;
    run_start(&r);
    const struct mtpc_outcome *o = done_ok(&r);
    ck_assert_uint_eq(o->n_answers, 4);
    for (size_t i = 0; i < 4; i++)
        ck_assert(o->answers[i].answered);
    ck_assert_uint_eq(o->answers[0].ctor, 0x8e1a1775u);
    ck_assert_uint_eq(o->answers[1].ctor, MTP_SVC_pong);
    ck_assert_uint_eq(o->answers[2].ctor, 0x8e1a1775u);
    ck_assert_uint_eq(o->answers[3].ctor, MTP_SVC_pong);
    ck_assert_uint_ne(o->answers[1].ping_id, o->answers[3].ping_id);
    ck_assert_uint_eq(o->pongs, 2);
    ck_assert_uint_eq(r.srv.queries, 2);
    /* one request at a time, in order: the first message carries the call */
    ck_assert_uint_eq(sent.ctor[0], 0x1fb33026u);
    run_free(&r);
    /* a call without a body is no request */
    const struct mtpc_request bad[] = {{MTPC_REQ_CALL, NULL, 0}};
    run_setup(&r, MTP_TR_ABRIDGED, false, TS_NORMAL);
    r.cfg.requests = bad;
    r.cfg.n_requests = 1;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtpc_new(&r.cfg, &r.env, &r.c, &err), MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "client: request 0 is neither a ping nor a call of at least 4 bytes");
    run_free(&r);
}
END_TEST

static Suite *mtpc_client_suite(void)
{
    Suite *s = suite_create("mtpc_client");
    TCase *tc = tcase_create("script");
    tcase_add_loop_test(tc, every_transport, 0, (int)(sizeof TRANSPORTS / sizeof TRANSPORTS[0]));
    tcase_add_loop_test(tc, mtproxy_secrets, 0, 4);
    tcase_add_test(tc, fixed_obfuscated_init_is_used);
    tcase_add_test(tc, full_dh_checks);
    tcase_add_test(tc, auth_key_with_a_leading_zero_byte);
    tcase_add_test(tc, several_pings_then_the_call);
    tcase_add_test(tc, key_only);
    tcase_add_test(tc, salt_zero_gets_bad_server_salt_and_resends);
    tcase_add_test(tc, pfs_two_exchanges_then_the_bind);
    tcase_add_test(tc, pfs_with_a_given_permanent_key);
    tcase_add_test(tc, rpc_error_is_an_answer);
    tcase_add_test(tc, quick_acks_are_counted);
    tcase_add_test(tc, wrong_answer_type_is_kept_for_the_caller);
    tcase_add_test(tc, trace_sees_every_message);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_test(tc, endless_bad_server_salt_hits_the_resend_limit);
    tcase_add_test(tc, server_closes_during_the_exchange);
    tcase_add_test(tc, garbage_payload);
    tcase_add_test(tc, garbage_stream);
    tcase_add_test(tc, frame_over_the_limit);
    tcase_add_test(tc, transport_error_404_during_the_exchange);
    tcase_add_loop_test(tc, transport_error_404_once_then_a_key, 0, (int)(sizeof TRANSPORTS / sizeof TRANSPORTS[0]));
    tcase_add_test(tc, one_attempt_means_no_restart);
    tcase_add_test(tc, transport_error_444_is_an_invalid_dc);
    tcase_add_test(tc, transport_error_429_after_the_key);
    tcase_add_test(tc, silent_server_times_out);
    tcase_add_test(tc, plaintext_after_the_key_is_discarded);
    tcase_add_test(tc, tampered_packet_is_discarded);
    tcase_add_test(tc, auth_failure_names_the_check);
    tcase_add_test(tc, fatal_bad_msg_notification_fails_the_request);
    tcase_add_test(tc, output_limit);
    suite_add_tcase(s, tc);
    tc = tcase_create("discard");
    tcase_add_loop_test(tc, hostile_message_is_discarded, 0, (int)(sizeof DISCARDS / sizeof DISCARDS[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("accept");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, padding_of_exactly_12_and_1024_bytes, 0, 2);
    tcase_add_test(tc, container_with_an_ack_and_the_answer);
    tcase_add_test(tc, gzip_packed_answer);
    tcase_add_test(tc, msgs_ack_from_the_server);
    tcase_add_test(tc, future_salts_answer);
    tcase_add_loop_test(tc, padded_intermediate_with_0_to_15_bytes_of_padding, 0, 32);
    tcase_add_test(tc, dh_gen_retry_then_ok);
    tcase_add_loop_test(tc, server_time_far_off, 0, 2);
    tcase_add_loop_test(tc, other_safe_primes_with_each_legal_g, 0, 7);
    tcase_add_test(tc, g_a_with_a_leading_zero_byte);
    tcase_add_test(tc, rpc_error_message_bytes_are_kept);
    tcase_add_test(tc, request_list_in_order);
    suite_add_tcase(s, tc);
    tc = tcase_create("hooks");
    tcase_add_test(tc, client_auth_behaviour_reaches_the_server);
    tcase_add_test(tc, mutate_hook_changes_what_goes_out);
    tcase_add_test(tc, mutate_hook_drops_and_fails);
    suite_add_tcase(s, tc);
    tc = tcase_create("api");
    tcase_add_test(tc, output_is_taken_in_pieces);
    tcase_add_test(tc, bad_configurations);
    tcase_add_test(tc, start_twice_and_early_bytes);
    tcase_add_test(tc, step_names);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtpc_client_suite)
