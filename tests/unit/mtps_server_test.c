#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mtp/hex.h"
#include "mtp/msgcrypt.h"
#include "mtp_test.h"
#include "mtps_server.h"

#define T0 1700000000000ll

static struct mtp_det_state ds;
static struct mtps_scenario scen;
static struct mtp_rsa_key *rsa;

static struct mtps_server_cfg base_cfg(void)
{
    size_t len;
    uint8_t *pem = mtp_test_read_file("vectors/rsa/test_key_private.pem", &len);
    ck_assert_ok(mtp_rsa_key_from_pem(pem, len, &rsa, NULL));
    mtps_scenario_default(&scen);
    struct mtps_server_cfg cfg = {
        .env = mtp_env_deterministic(&ds, "srv", 3, T0),
        .scenario = &scen,
        .rsa = rsa,
        .dc_ids = {2, 4},
        .ndcs = 2,
    };
    mtps_limits_default(&cfg.limits);
    return cfg;
}

START_TEST(fingerprint_prints_the_longs_value)
{
    uint8_t wire[8] = {0xd4, 0x77, 0x66, 0xfd, 0xdb, 0xfd, 0xe8, 0x24};
    char hex[17];
    mtps_fingerprint_hex(wire, hex);
    ck_assert_str_eq(hex, "24e8fddbfd6677d4");
}
END_TEST

START_TEST(init_sets_up_every_part)
{
    struct mtps_server_cfg cfg = base_cfg();
    struct mtps_server srv;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtps_server_init(&srv, &cfg, &err) == MTP_OK, "%s", err.msg);
    uint8_t fp[8];
    ck_assert_ok(mtp_rsa_key_fingerprint(rsa, fp, NULL));
    ck_assert_mem_eq(srv.fingerprint, fp, 8);
    ck_assert_uint_eq(srv.ndcs, 2);
    ck_assert_int_eq(srv.dcs[1].id, 4);
    mtps_server_set_addr(&srv, 1, "127.0.0.2", 4431);
    ck_assert_str_eq(srv.dcs[1].ip, "127.0.0.2");
    ck_assert_uint_eq(srv.dcs[1].port, 4431);
    mtps_server_set_addr(&srv, 7, "x", 1); /* out of range: ignored */
    ck_assert_ptr_nonnull(srv.log.schema);
    ck_assert_uint_eq(srv.api.nschemas, 2); /* api.tl and mock-server/schemas/api_143.tl */
    ck_assert_int_eq(srv.api.layers[0], 198);
    ck_assert_int_eq(srv.api.layers[1], 143);
    mtps_server_free(&srv);
    mtp_rsa_key_free(rsa);
}
END_TEST

START_TEST(keys_file_keys_are_known_at_start)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/mtps_server_keys_%d", (int)getpid());
    uint8_t key[256], id[8];
    for (int i = 0; i < 256; i++)
        key[i] = (uint8_t)(i * 7);
    mtp_auth_key_id(key, id);
    char idh[17], keyh[513];
    mtp_hex_encode(id, 8, idh);
    mtp_hex_encode(key, 256, keyh);
    FILE *f = fopen(path, "w");
    fprintf(f, "# keys\nAUTH_KEY %s %s\nAUTH_KEY %s %s\n", idh, keyh, idh, keyh);
    fclose(f);
    struct mtps_server_cfg cfg = base_cfg();
    cfg.keys_path = path;
    struct mtps_server srv;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtps_server_init(&srv, &cfg, &err) == MTP_OK, "%s", err.msg);
    ck_assert_uint_eq(srv.store.nkeys, 1);
    struct mtps_key *k = mtps_store_find_key(&srv.store, mtp_load_u64(id));
    ck_assert_ptr_nonnull(k);
    ck_assert_mem_eq(k->auth_key, key, 256);
    ck_assert_uint_ne(k->salts.e[0].salt, 0);
    mtps_server_free(&srv);
    /* a broken line stops the start */
    f = fopen(path, "w");
    fprintf(f, "AUTH_KEY 00 11\n");
    fclose(f);
    mtp_error_clear(&err);
    ck_assert_rc(mtps_server_init(&srv, &cfg, &err), MTP_ERR_SRV_KEYS_FILE);
    unlink(path);
    mtp_rsa_key_free(rsa);
}
END_TEST

START_TEST(keys_file_bindings_are_restored)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/mtps_server_binds_%d", (int)getpid());
    uint8_t perm[256], temp[256], pid[8], tid[8];
    for (int i = 0; i < 256; i++) {
        perm[i] = (uint8_t)(i * 7);
        temp[i] = (uint8_t)(i * 11 + 1);
    }
    mtp_auth_key_id(perm, pid);
    mtp_auth_key_id(temp, tid);
    char ph[17], th[17], pk[513], tk[513];
    mtp_hex_encode(pid, 8, ph);
    mtp_hex_encode(tid, 8, th);
    mtp_hex_encode(perm, 256, pk);
    mtp_hex_encode(temp, 256, tk);
    FILE *f = fopen(path, "w");
    /* a binding to an unknown key is skipped; the one whose keys are there is kept */
    fprintf(f, "AUTH_KEY %s %s\nTEMP_AUTH_KEY %s %s 1800000000\nBIND %s 0102030405060708 1700000100\n"
               "BIND %s %s 1700090000\n",
            ph, pk, th, tk, th, th, ph);
    fclose(f);
    struct mtps_server_cfg cfg = base_cfg();
    cfg.keys_path = path;
    struct mtps_server srv;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtps_server_init(&srv, &cfg, &err) == MTP_OK, "%s", err.msg);
    struct mtps_key *p = mtps_store_find_key(&srv.store, mtp_load_u64(pid));
    struct mtps_key *t = mtps_store_find_key(&srv.store, mtp_load_u64(tid));
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(t);
    ck_assert(t->temp);
    ck_assert_ptr_eq(mtps_store_bound_perm(&srv.store, t), p);
    ck_assert_int_eq(t->expires_at, 1700090000);
    mtps_server_free(&srv);
    unlink(path);
    mtp_rsa_key_free(rsa);
}
END_TEST

START_TEST(bad_configurations_are_refused)
{
    struct mtps_server_cfg cfg = base_cfg();
    struct mtps_server srv;
    struct mtp_error err;
    cfg.ndcs = 0;
    mtp_error_clear(&err);
    ck_assert_rc(mtps_server_init(&srv, &cfg, &err), MTP_ERR_ARG);
    cfg.ndcs = 1;
    struct mtps_scenario bad;
    const char *text = "{\"auth\":{\"g\":1}}";
    mtp_error_clear(&err);
    ck_assert_ok(mtps_scenario_parse(&bad, text, strlen(text), "bad", &err));
    cfg.scenario = &bad;
    ck_assert_rc(mtps_server_init(&srv, &cfg, &err), MTP_ERR_SRV_SCENARIO);
    ck_assert_str_eq(err.msg, "default: auth.g: expected an integer 2..7");
    mtps_scenario_free(&bad);
    cfg.scenario = &scen;
    cfg.keylog_path = "/nonexistent/dir/keylog";
    mtp_error_clear(&err);
    ck_assert_rc(mtps_server_init(&srv, &cfg, &err), MTP_ERR_IO);
    mtp_rsa_key_free(rsa);
}
END_TEST

Suite *mtps_server_suite(void);
Suite *mtps_server_suite(void)
{
    Suite *s = suite_create("mtps_server");
    TCase *tc = tcase_create("server");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, fingerprint_prints_the_longs_value);
    tcase_add_test(tc, init_sets_up_every_part);
    tcase_add_test(tc, keys_file_keys_are_known_at_start);
    tcase_add_test(tc, keys_file_bindings_are_restored);
    tcase_add_test(tc, bad_configurations_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_server_suite)
