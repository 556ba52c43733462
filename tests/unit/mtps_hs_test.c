/* The handshake adapter: scenario "auth" sections mapped onto the auth server
 * machine, run against the auth client machine in memory. */
#include <string.h>

#include "mtp/auth_client.h"
#include "mtp/dh.h"
#include "mtp_test.h"
#include "mtps_hs.h"
#include "mtps_scenario.h"

#define T0 1700000000000ll

static struct mtp_rsa_key *key;
static struct mtp_det_state sds, cds;

static void load_key(void)
{
    size_t len;
    uint8_t *pem = mtp_test_read_file("vectors/rsa/test_key_private.pem", &len);
    ck_assert_ok(mtp_rsa_key_from_pem(pem, len, &key, NULL));
}

static int parse(struct mtps_auth_cfg *a, const char *json, struct mtp_error *err)
{
    json_t *j = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    mtp_error_clear(err);
    int rc = mtps_auth_cfg_parse(a, j, "t.json", err);
    json_decref(j);
    return rc;
}

/* Runs a whole exchange; returns the client's error (MTP_OK when both agree on a key). */
static int exchange(const struct mtps_auth_cfg *a, struct mtp_auth_result *cres, struct mtp_auth_result *sres,
                    unsigned *messages)
{
    load_key();
    struct mtp_env senv = mtp_env_deterministic(&sds, "s", 1, T0);
    struct mtp_env cenv = mtp_env_deterministic(&cds, "c", 1, T0);
    struct mtp_auth_client_config cc;
    mtp_auth_client_config_init(&cc);
    const struct mtp_rsa_key *keys[1] = {key};
    cc.keys = keys;
    cc.n_keys = 1;
    cc.dc = 2;
    struct mtp_auth_client *c;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_auth_client_new(&cc, &cenv, &c, &err));
    struct mtp_auth_server_config sc = a->cfg;
    sc.keys = keys;
    sc.n_keys = 1;
    struct mtps_hs hs = {0};
    struct mtp_wr cw, sw;
    mtp_wr_init_dyn(&cw, 4096, NULL);
    mtp_wr_init_dyn(&sw, 4096, NULL);
    ck_assert_ok(mtp_auth_client_start(c, &cw, &err));
    int rc = MTP_OK;
    bool done = false;
    *messages = 0;
    while (!done && rc == MTP_OK) {
        mtp_wr_reset(&sw);
        (*messages)++;
        ck_assert_msg(mtps_hs_recv(&hs, a, &sc, &senv, cw.p, cw.len, &sw, &done, sres, &err) == MTP_OK, "%s",
                      err.msg);
        mtp_wr_reset(&cw);
        rc = mtp_auth_client_recv(c, sw.p, sw.len, &cw, &err);
    }
    if (rc == MTP_OK) {
        ck_assert_int_eq(mtp_auth_client_state(c), MTP_AUTH_C_DONE);
        ck_assert_ok(mtp_auth_client_result(c, cres, &err));
    }
    mtp_wr_free(&cw);
    mtp_wr_free(&sw);
    mtps_hs_free(&hs);
    mtp_auth_client_del(c);
    mtp_rsa_key_free(key);
    return rc;
}

START_TEST(default_exchange_agrees_on_a_key)
{
    struct mtps_auth_cfg a;
    struct mtp_error err;
    ck_assert_ok(parse(&a, "{}", &err));
    struct mtp_auth_result c, s;
    unsigned n;
    ck_assert_ok(exchange(&a, &c, &s, &n));
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(c.auth_key, s.auth_key, 256);
    ck_assert_mem_eq(c.server_salt, s.server_salt, 8);
    ck_assert_int_eq(s.server_time, (int32_t)(T0 / 1000));
    ck_assert_int_eq(s.dc, 2);
    ck_assert(s.req_pq_multi);
    mtps_auth_cfg_free(&a);
}
END_TEST

START_TEST(wrong_nonce_in_resPQ_is_caught_by_the_client)
{
    struct mtps_scenario scen;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_scenario_load(&scen, "res_pq_wrong_nonce", NULL, &err));
    struct mtps_auth_cfg a;
    ck_assert_ok(mtps_auth_cfg_parse(&a, scen.auth, scen.name, &err));
    struct mtp_auth_result c, s;
    unsigned n;
    ck_assert_rc(exchange(&a, &c, &s, &n), MTP_ERR_AUTH_NONCE);
    ck_assert_uint_eq(n, 1);
    mtps_auth_cfg_free(&a);
    mtps_scenario_free(&scen);
}
END_TEST

START_TEST(unsafe_prime_is_caught_by_the_client)
{
    struct mtps_scenario scen;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_scenario_load(&scen, "dh_prime_not_safe", NULL, &err));
    struct mtps_auth_cfg a;
    ck_assert_ok(mtps_auth_cfg_parse(&a, scen.auth, scen.name, &err));
    /* The prime itself passes every check but the safe one. */
    ck_assert_rc(mtp_dh_check_params(a.beh.dh_prime, a.beh.dh_prime_len, 3, MTP_DH_FULL, &err),
                 MTP_ERR_DH_PRIME_NOT_SAFE);
    struct mtp_auth_result c, s;
    unsigned n;
    ck_assert_rc(exchange(&a, &c, &s, &n), MTP_ERR_DH_PRIME_NOT_SAFE);
    ck_assert_uint_eq(n, 2);
    mtps_auth_cfg_free(&a);
    mtps_scenario_free(&scen);
}
END_TEST

START_TEST(dh_gen_retry_then_ok)
{
    struct mtps_auth_cfg a;
    struct mtp_error err;
    ck_assert_ok(parse(&a, "{\"dh_gen_retries\":1}", &err));
    struct mtp_auth_result c, s;
    unsigned n;
    ck_assert_ok(exchange(&a, &c, &s, &n));
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(c.retries, 1);
    ck_assert_mem_eq(c.auth_key, s.auth_key, 256);
    mtps_auth_cfg_free(&a);
}
END_TEST

START_TEST(server_time_offset_moves_server_time)
{
    struct mtps_auth_cfg a;
    struct mtp_error err;
    ck_assert_ok(parse(&a, "{\"send_server_time_offset\":-3600}", &err));
    struct mtp_auth_result c, s;
    unsigned n;
    ck_assert_ok(exchange(&a, &c, &s, &n));
    ck_assert_int_eq(c.server_time, (int32_t)(T0 / 1000) - 3600);
    mtps_auth_cfg_free(&a);
}
END_TEST

START_TEST(every_setting_maps_onto_the_machine)
{
    struct mtps_auth_cfg a;
    struct mtp_error err;
    ck_assert_ok(parse(&a,
                       "{\"g\":2,\"pq_bits\":[20,25],\"dc_check\":true,\"refuse_old\":true,"
                       "\"corrupt\":[\"dh_gen.new_nonce_hash\",\"resPQ.nonce\"],\"send_pq\":\"17ed48941a08f981\","
                       "\"send_fingerprints\":[\"0102030405060708\"],\"send_g\":9,\"send_g_a\":\"02\","
                       "\"send_answer\":\"00\",\"dh_params_fail\":true,\"dh_gen_fail\":true,"
                       "\"dh_gen_hash_number\":2,\"dh_prime\":\"17\",\"send_dh_prime\":\"0b\"}",
                       &err));
    ck_assert_int_eq(a.cfg.g, 2);
    ck_assert_uint_eq(a.cfg.pq_p_bits, 20);
    ck_assert_uint_eq(a.cfg.pq_q_bits, 25);
    ck_assert(a.dc_check);
    ck_assert(a.cfg.refuse_old);
    ck_assert_uint_eq(a.beh.corrupt, MTP_AUTH_CORRUPT(MTP_AUTH_X_DH_GEN_HASH) | MTP_AUTH_CORRUPT(MTP_AUTH_X_RES_PQ_NONCE));
    ck_assert_hex_eq(a.beh.pq, a.beh.pq_len, "17ed48941a08f981");
    ck_assert_uint_eq(a.beh.n_fingerprints, 1);
    ck_assert_hex_eq(a.beh.fingerprints, 8, "0102030405060708");
    ck_assert(a.beh.g_set);
    ck_assert_int_eq(a.beh.g, 9);
    ck_assert_hex_eq(a.beh.g_a, a.beh.g_a_len, "02");
    ck_assert_hex_eq(a.beh.answer, a.beh.answer_len, "00");
    ck_assert(a.beh.dh_params_fail);
    ck_assert(a.beh.dh_gen_fail);
    ck_assert_int_eq(a.beh.dh_gen_hash_number, 2);
    ck_assert_hex_eq(a.cfg.dh_prime, a.cfg.dh_prime_len, "17");
    ck_assert_hex_eq(a.beh.dh_prime, a.beh.dh_prime_len, "0b");
    mtps_auth_cfg_free(&a);
}
END_TEST

START_TEST(mistakes_are_named)
{
    static const struct {
        const char *json;
        const char *msg;
    } cases[] = {
        {"{\"gg\":3}", "t.json: auth.gg: unknown setting"},
        {"{\"g\":9}", "t.json: auth.g: expected an integer 2..7"},
        {"{\"pq_bits\":[32,32]}", "t.json: auth.pq_bits: p_bits + q_bits must be at most 63"},
        {"{\"corrupt\":[\"req_DH_params.nonce\"]}",
         "t.json: auth.corrupt[0]: not a field the server sends (see mtp/auth.h)"},
        {"{\"send_pq\":\"xyz\"}", "t.json: auth.send_pq: not a non-empty hex string of at most 64 KiB"},
        {"{\"send_fingerprints\":[\"0102\"]}", "t.json: auth.send_fingerprints[0]: expected 16 hex digits (the wire bytes)"},
        {"{\"dh_gen_fail\":\"yes\"}", "t.json: auth.dh_gen_fail: expected true or false"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mtps_auth_cfg a;
        struct mtp_error err;
        ck_assert_rc(parse(&a, cases[i].json, &err), MTP_ERR_SRV_SCENARIO);
        ck_assert_str_eq(err.msg, cases[i].msg);
    }
}
END_TEST

START_TEST(a_new_req_pq_starts_over_and_a_resent_one_gets_the_same_answer)
{
    load_key();
    struct mtps_auth_cfg a;
    struct mtp_error err;
    ck_assert_ok(parse(&a, "{}", &err));
    struct mtp_auth_server_config sc = a.cfg;
    const struct mtp_rsa_key *keys[1] = {key};
    sc.keys = keys;
    sc.n_keys = 1;
    struct mtp_env senv = mtp_env_deterministic(&sds, "s", 1, T0);
    struct mtps_hs hs = {0};
    uint8_t req1[20] = {0xf1, 0x8e, 0x7e, 0xbe, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    uint8_t req2[20];
    memcpy(req2, req1, sizeof req2);
    req2[4] ^= 0xff;
    struct mtp_wr w1, w2, w3;
    mtp_wr_init_dyn(&w1, 4096, NULL);
    mtp_wr_init_dyn(&w2, 4096, NULL);
    mtp_wr_init_dyn(&w3, 4096, NULL);
    bool done;
    struct mtp_auth_result res;
    ck_assert_ok(mtps_hs_recv(&hs, &a, &sc, &senv, req1, sizeof req1, &w1, &done, &res, &err));
    ck_assert_ok(mtps_hs_recv(&hs, &a, &sc, &senv, req1, sizeof req1, &w2, &done, &res, &err));
    ck_assert_uint_eq(w1.len, w2.len);
    ck_assert_mem_eq(w1.p, w2.p, w1.len);
    ck_assert_ok(mtps_hs_recv(&hs, &a, &sc, &senv, req2, sizeof req2, &w3, &done, &res, &err));
    ck_assert(!done);
    /* resPQ echoes the new nonce, with a new server_nonce */
    ck_assert_mem_eq(w3.p + 4, req2 + 4, 16);
    ck_assert(memcmp(w3.p + 20, w1.p + 20, 16) != 0);
    /* garbage fails the exchange with the machine's error */
    uint8_t junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    mtp_error_clear(&err);
    ck_assert_int_lt(mtps_hs_recv(&hs, &a, &sc, &senv, junk, sizeof junk, &w3, &done, &res, &err), 0);
    mtp_wr_free(&w1);
    mtp_wr_free(&w2);
    mtp_wr_free(&w3);
    mtps_hs_free(&hs);
    mtps_auth_cfg_free(&a);
    mtp_rsa_key_free(key);
}
END_TEST

Suite *mtps_hs_suite(void);
Suite *mtps_hs_suite(void)
{
    Suite *s = suite_create("mtps_hs");
    TCase *tc = tcase_create("exchange");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, default_exchange_agrees_on_a_key);
    tcase_add_test(tc, wrong_nonce_in_resPQ_is_caught_by_the_client);
    tcase_add_test(tc, unsafe_prime_is_caught_by_the_client);
    tcase_add_test(tc, dh_gen_retry_then_ok);
    tcase_add_test(tc, server_time_offset_moves_server_time);
    tcase_add_test(tc, a_new_req_pq_starts_over_and_a_resent_one_gets_the_same_answer);
    suite_add_tcase(s, tc);
    tc = tcase_create("settings");
    tcase_add_test(tc, every_setting_maps_onto_the_machine);
    tcase_add_test(tc, mistakes_are_named);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_hs_suite)
