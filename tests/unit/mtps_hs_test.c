/* The handshake adapter: scenario "auth" sections mapped onto the auth server
 * machine, run against the auth client machine in memory. */
#include <jansson.h>
#include <string.h>

#include "mtp/auth_client.h"
#include "mtp/dh.h"
#include "mtp_test.h"
#include "mtps_hs.h"
#include "mtps_scenario.h"

#define T0 1700000000000ll

static struct mtp_rsa_key *key;
static struct mtp_det_state sds, cds;
/* What exchange() saw of the server's side, and how many retries the client accepts. */
static unsigned client_max_retries;
static uint8_t seen_g_a[1040];
static size_t seen_g_a_len;
static unsigned seen_attempts, seen_bad_retry_ids;

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
static int exchange(struct mtps_auth_cfg *a, struct mtp_auth_result *cres, struct mtp_auth_result *sres,
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
    if (client_max_retries)
        cc.max_retries = client_max_retries;
    seen_g_a_len = 0;
    seen_attempts = seen_bad_retry_ids = 0;
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
        size_t n;
        const uint8_t *g_a = mtps_hs_new_g_a(&hs, &n);
        if (g_a) {
            memcpy(seen_g_a, g_a, n);
            seen_g_a_len = n;
        }
        const struct mtp_auth_server_attempt *at = mtps_hs_new_attempt(&hs);
        if (at) {
            seen_attempts++;
            seen_bad_retry_ids += !at->retry_id_ok;
        }
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

START_TEST(server_fingerprint_in_the_list)
{
    struct mtps_auth_cfg a;
    struct mtp_error err;
    ck_assert_ok(parse(&a, "{\"send_fingerprints\":[\"0102030405060708\",\"server\"]}", &err));
    ck_assert_uint_eq(a.beh.n_fingerprints, 2);
    const uint8_t fp[8] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};
    mtps_auth_cfg_set_fingerprint(&a, fp);
    ck_assert_hex_eq(a.beh.fingerprints, 16, "0102030405060708a1a2a3a4a5a6a7a8");
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
        {"{\"send_fingerprints\":[\"0102\"]}", "t.json: auth.send_fingerprints[0]: expected 16 hex digits (the wire bytes) or \"server\""},
        {"{\"dh_gen_fail\":\"yes\"}", "t.json: auth.dh_gen_fail: expected true or false"},
        {"{\"from_exchange\":0}", "t.json: auth.from_exchange: expected an integer 1..1000"},
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

/* --- send_g_a expressions, g_a encodings, keys with a leading zero byte, other primes --- */

/* x +- small (byte-wise on a big-endian number of n bytes) */
static void be_add(uint8_t *x, size_t n, int delta)
{
    int carry = delta;
    for (size_t i = n; i-- > 0 && carry != 0;) {
        int v = x[i] + carry;
        x[i] = (uint8_t)(v & 0xff);
        carry = v < 0 ? -1 : v >> 8;
    }
}

START_TEST(send_g_a_expressions_of_the_prime_sent)
{
    uint8_t want[256];
    static const struct {
        const char *expr;
        int delta;         /* added to the prime; or, with pow, to 2^1984 */
        bool pow, minus_pow;
    } cases[] = {
        {"p", 0, false, false},         {"p-1", -1, false, false},        {"p+1", 1, false, false},
        {"2^1984", 0, true, false},     {"2^1984-1", -1, true, false},    {"p-2^1984", 0, false, true},
        {"p - 2^1984 + 1", 1, false, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[96];
        snprintf(json, sizeof json, "{\"send_g_a\":\"%s\"}", cases[i].expr);
        struct mtps_auth_cfg a;
        struct mtp_error err;
        ck_assert_msg(parse(&a, json, &err) == MTP_OK, "%s", err.msg);
        if (cases[i].pow) {
            memset(want, 0, sizeof want);
            want[7] = 1; /* 2^1984: bit 0 of byte 256 - 1 - 1984 / 8 */
        } else {
            memcpy(want, mtp_dh_telegram_prime, sizeof want);
            if (cases[i].minus_pow)
                want[7]--; /* Telegram's prime has a nonzero byte there */
        }
        be_add(want, sizeof want, cases[i].delta);
        ck_assert_uint_eq(a.beh.g_a_len, 256);
        ck_assert_mem_eq(a.beh.g_a, want, 256);
        mtps_auth_cfg_free(&a);
    }
    /* Resolved against the prime sent (send_dh_prime), given before or after, still 256 bytes. */
    struct mtps_auth_cfg a;
    struct mtp_error err;
    ck_assert_ok(parse(&a, "{\"send_g_a\":\"p-1\",\"send_dh_prime\":\"0b\"}", &err));
    memset(want, 0, sizeof want);
    want[255] = 10;
    ck_assert_mem_eq(a.beh.g_a, want, 256);
    mtps_auth_cfg_free(&a);
    /* Plain hex stays hex. */
    ck_assert_ok(parse(&a, "{\"send_g_a\":\"0102\"}", &err));
    ck_assert_hex_eq(a.beh.g_a, a.beh.g_a_len, "0102");
    mtps_auth_cfg_free(&a);
}
END_TEST

START_TEST(g_a_with_a_leading_zero_byte_either_way)
{
    for (int minimal = 0; minimal < 2; minimal++) {
        struct mtps_auth_cfg a;
        struct mtp_error err;
        ck_assert_ok(parse(&a, minimal ? "{\"g_a_leading_zero\":true,\"g_a_encoding\":\"minimal\"}"
                                       : "{\"g_a_leading_zero\":true}",
                           &err));
        struct mtp_auth_result c, s;
        unsigned n;
        ck_assert_ok(exchange(&a, &c, &s, &n));
        ck_assert_mem_eq(c.auth_key, s.auth_key, 256);
        if (minimal) {
            ck_assert_uint_eq(seen_g_a_len, 255);
            ck_assert_uint_ne(seen_g_a[0], 0);
        } else {
            ck_assert_uint_eq(seen_g_a_len, 256);
            ck_assert_uint_eq(seen_g_a[0], 0);
        }
        mtps_auth_cfg_free(&a);
    }
}
END_TEST

START_TEST(auth_key_with_a_leading_zero_byte)
{
    struct mtps_auth_cfg a;
    struct mtp_error err;
    ck_assert_ok(parse(&a, "{\"auth_key_leading_zero\":3000}", &err));
    ck_assert(a.zero_key_set);
    client_max_retries = 3000;
    struct mtp_auth_result c, s;
    unsigned n;
    ck_assert_ok(exchange(&a, &c, &s, &n));
    ck_assert_mem_eq(c.auth_key, s.auth_key, 256);
    ck_assert_uint_eq(s.auth_key[0], 0);
    ck_assert_uint_ge(s.retries, 1);
    ck_assert_uint_eq(a.zero_key_left, 3000 - s.retries);
    ck_assert_uint_eq(seen_attempts, s.retries + 1);
    ck_assert_uint_eq(seen_bad_retry_ids, 0);
    /* The counter belongs to the settings: a second exchange takes from what is left. */
    unsigned left = a.zero_key_left;
    ck_assert_ok(exchange(&a, &c, &s, &n));
    ck_assert_uint_eq(a.zero_key_left, left - s.retries);
    mtps_auth_cfg_free(&a);
}
END_TEST

/* Other safe primes: a client must accept each with every legal g and refuse every illegal one. */
START_TEST(other_safe_primes_with_each_g)
{
    size_t len;
    uint8_t *text = mtp_test_read_file("vectors/dh/safe_primes.json", &len);
    json_error_t je;
    json_t *doc = json_loadb((const char *)text, len, 0, &je);
    ck_assert_ptr_nonnull(doc);
    size_t i, tried = 0;
    json_t *e;
    json_array_foreach(json_object_get(doc, "numbers"), i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        if (strcmp(name, "F") != 0 && strcmp(name, "G") != 0)
            continue;
        for (int g = 2; g <= 7; g++) {
            bool legal = false;
            size_t k;
            json_t *v;
            json_array_foreach(json_object_get(e, "g_legal"), k, v) legal |= json_integer_value(v) == g;
            char json[700];
            snprintf(json, sizeof json, "{\"dh_prime\":\"%s\",\"g\":%d}",
                     json_string_value(json_object_get(e, "hex")), g);
            struct mtps_auth_cfg a;
            struct mtp_error err;
            ck_assert_ok(parse(&a, json, &err));
            struct mtp_auth_result c, s;
            unsigned n;
            int rc = exchange(&a, &c, &s, &n);
            ck_assert_msg(rc == (legal ? MTP_OK : MTP_ERR_DH_G_BAD_RESIDUE), "prime %s, g %d: %s", name, g,
                          mtp_err_name(rc));
            if (legal)
                ck_assert_mem_eq(c.auth_key, s.auth_key, 256);
            mtps_auth_cfg_free(&a);
            tried++;
        }
    }
    ck_assert_uint_eq(tried, 12);
    json_decref(doc);
}
END_TEST

START_TEST(new_settings_mistakes_are_named)
{
    static const struct {
        const char *json;
        const char *msg;
    } cases[] = {
        {"{\"g_a_leading_zero\":1}", "t.json: auth.g_a_leading_zero: expected true or false"},
        {"{\"g_a_encoding\":\"short\"}", "t.json: auth.g_a_encoding: expected \"full\" or \"minimal\""},
        {"{\"auth_key_leading_zero\":0}", "t.json: auth.auth_key_leading_zero: expected an integer 1..100000"},
        {"{\"send_g_a\":\"p-q\"}", "t.json: auth.send_g_a: \"p-q\": expected p, 2^N or a number at offset 2"},
        {"{\"send_g_a\":\"p*2\"}", "t.json: auth.send_g_a: \"p*2\": expected + or - at offset 1"},
        {"{\"send_g_a\":\"p-p-1\"}", "t.json: auth.send_g_a: \"p-p-1\" is negative or too large"},
        {"{\"send_g_a\":\"2^9999\"}", "t.json: auth.send_g_a: \"2^9999\": expected p, 2^N or a number at offset 0"},
        {"{\"send_g_a\":\"3^2+p\"}", "t.json: auth.send_g_a: \"3^2+p\": expected p, 2^N or a number at offset 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mtps_auth_cfg a;
        struct mtp_error err;
        ck_assert_rc(parse(&a, cases[i].json, &err), MTP_ERR_SRV_SCENARIO);
        ck_assert_str_eq(err.msg, cases[i].msg);
    }
}
END_TEST

Suite *mtps_hs_suite(void);
Suite *mtps_hs_suite(void)
{
    Suite *s = suite_create("mtps_hs");
    TCase *tc = tcase_create("exchange");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, default_exchange_agrees_on_a_key);
    tcase_add_test(tc, server_fingerprint_in_the_list);
    tcase_add_test(tc, wrong_nonce_in_resPQ_is_caught_by_the_client);
    tcase_add_test(tc, unsafe_prime_is_caught_by_the_client);
    tcase_add_test(tc, dh_gen_retry_then_ok);
    tcase_add_test(tc, server_time_offset_moves_server_time);
    tcase_add_test(tc, a_new_req_pq_starts_over_and_a_resent_one_gets_the_same_answer);
    tcase_add_test(tc, g_a_with_a_leading_zero_byte_either_way);
    tcase_add_test(tc, auth_key_with_a_leading_zero_byte);
    tcase_add_test(tc, other_safe_primes_with_each_g);
    suite_add_tcase(s, tc);
    tc = tcase_create("settings");
    tcase_add_test(tc, every_setting_maps_onto_the_machine);
    tcase_add_test(tc, mistakes_are_named);
    tcase_add_test(tc, send_g_a_expressions_of_the_prime_sent);
    tcase_add_test(tc, new_settings_mistakes_are_named);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_hs_suite)
