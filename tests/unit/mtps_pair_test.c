#include <string.h>

#include "mtp_test.h"
#include "mtps_pair.h"

#define T0 1700000000000ll

static struct mtp_det_state sds, cds;
static struct mtps_scenario scen;
static struct mtps_server srv;
static struct mtp_rsa_key *rsa;
static struct mtps_conn conn;
static struct mtps_client cl;

static void up(void)
{
    size_t len;
    uint8_t *pem = mtp_test_read_file("vectors/rsa/test_key_private.pem", &len);
    ck_assert_ok(mtp_rsa_key_from_pem(pem, len, &rsa, NULL));
    mtps_scenario_default(&scen);
    struct mtps_server_cfg cfg = {.env = mtp_env_deterministic(&sds, "s", 1, T0), .scenario = &scen, .rsa = rsa,
                                  .dc_ids = {2}, .ndcs = 1};
    mtps_limits_default(&cfg.limits);
    ck_assert_ok(mtps_server_init(&srv, &cfg, NULL));
    struct mtp_env env = mtp_env_deterministic(&cds, "c", 1, T0);
    struct mtps_client_opts o = {.kind = MTP_TR_FULL, .dc = 2, .server_key = rsa, .env = &env};
    ck_assert_ok(mtps_client_init(&cl, &o, NULL));
    ck_assert_ok(mtps_conn_init(&conn, &srv, 2, "pair", 0, NULL));
}

static void down(void)
{
    mtps_client_free(&cl);
    mtps_conn_free(&conn);
    mtps_server_free(&srv);
    mtp_rsa_key_free(rsa);
}

START_TEST(pump_runs_the_exchange_to_its_end)
{
    up();
    ck_assert_ok(mtps_client_start(&cl, NULL));
    ck_assert_ok(mtps_pair_pump(&conn, &cl, NULL));
    ck_assert(mtps_client_ready(&cl));
    ck_assert_uint_eq(cl.out.len, 0);
    size_t n;
    mtps_conn_output(&conn, &n);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(conn.frames_in, 3);
    ck_assert_uint_eq(conn.frames_out, 3);
    down();
}
END_TEST

START_TEST(pump_stops_feeding_a_closed_connection)
{
    up();
    ck_assert_ok(mtps_client_start(&cl, NULL));
    mtps_conn_close(&conn, MTP_ERR_SRV_FAULT_CLOSE, "test");
    ck_assert_ok(mtps_pair_pump(&conn, &cl, NULL));
    ck_assert_uint_eq(conn.frames_in, 0);
    ck_assert_uint_eq(cl.out.len, 0);
    ck_assert_int_eq(cl.state, MTPS_CL_HANDSHAKE);
    down();
}
END_TEST

Suite *mtps_pair_suite(void);
Suite *mtps_pair_suite(void)
{
    Suite *s = suite_create("mtps_pair");
    TCase *tc = tcase_create("pair");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, pump_runs_the_exchange_to_its_end);
    tcase_add_test(tc, pump_stops_feeding_a_closed_connection);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_pair_suite)
