/* The test client on its own: what it sends first, how it takes transport
 * errors, quick acks and broken packets. */
#include <string.h>

#include "mtp/transport.h"
#include "mtp_test.h"
#include "mtps_client.h"

#define T0 1700000000000ll

static struct mtp_det_state ds;
static struct mtp_rsa_key *key;

static void up(struct mtps_client *c, enum mtp_tr_kind kind)
{
    size_t len;
    uint8_t *pem = mtp_test_read_file("vectors/rsa/test_key_public_pkcs1.pem", &len);
    ck_assert_ok(mtp_rsa_key_from_pem(pem, len, &key, NULL));
    struct mtp_env env = mtp_env_deterministic(&ds, "cl", 2, T0);
    struct mtps_client_opts o = {.kind = kind, .dc = 2, .server_key = key, .env = &env};
    ck_assert_ok(mtps_client_init(c, &o, NULL));
}

static void down(struct mtps_client *c)
{
    mtps_client_free(c);
    mtp_rsa_key_free(key);
}

START_TEST(start_sends_the_tag_and_req_pq_multi)
{
    struct mtps_client c;
    up(&c, MTP_TR_INTERMEDIATE);
    ck_assert_int_eq(c.state, MTPS_CL_HANDSHAKE);
    ck_assert_ok(mtps_client_start(&c, NULL));
    ck_assert_uint_eq(c.out.len, 4 + 4 + 20 + 20);
    ck_assert_hex_eq(c.out.p, 8, "eeeeeeee28000000");
    ck_assert_hex_eq(c.out.p + 8, 8, "0000000000000000"); /* auth_key_id 0 */
    ck_assert_hex_eq(c.out.p + 24, 8, "14000000f18e7ebe"); /* length 20, req_pq_multi */
    /* msg_id: the clock's time, divisible by 4 */
    uint64_t msg_id = mtp_load_u64(c.out.p + 16);
    ck_assert_uint_eq(msg_id >> 32, T0 / 1000);
    ck_assert_uint_eq(msg_id & 3, 0);
    down(&c);
}
END_TEST

START_TEST(queries_wait_for_the_key)
{
    struct mtps_client c;
    up(&c, MTP_TR_ABRIDGED);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtps_client_ping(&c, 1, &err), MTP_ERR_SES_STATE);
    ck_assert_rc(mtps_client_query(&c, (const uint8_t *)"abcd", 4, NULL, &err), MTP_ERR_SES_STATE);
    ck_assert_rc(mtps_client_flush(&c, &err), MTP_ERR_SES_STATE);
    down(&c);
}
END_TEST

START_TEST(transport_errors_and_quick_acks_are_recorded)
{
    struct mtps_client c;
    up(&c, MTP_TR_INTERMEDIATE);
    ck_assert_ok(mtps_client_start(&c, NULL));
    /* -404 from the server */
    uint8_t e404[8] = {4, 0, 0, 0, 0x6c, 0xfe, 0xff, 0xff};
    ck_assert_ok(mtps_client_feed(&c, e404, sizeof e404, NULL));
    ck_assert_int_eq(c.transport_error, -404);
    /* a quick-ack token (MSB set) */
    uint8_t ack[4] = {0x01, 0x02, 0x03, 0x83};
    ck_assert_ok(mtps_client_feed(&c, ack, sizeof ack, NULL));
    ck_assert_uint_eq(c.quick_acks, 1);
    down(&c);
}
END_TEST

START_TEST(a_broken_answer_fails_the_client_for_good)
{
    struct mtps_client c;
    up(&c, MTP_TR_INTERMEDIATE);
    ck_assert_ok(mtps_client_start(&c, NULL));
    /* an unencrypted "resPQ" that is not one */
    uint8_t bad[4 + 28] = {28, 0, 0, 0};
    mtp_store_u64(bad + 4 + 8, 1);
    mtp_store_u32(bad + 4 + 16, 8);
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = mtps_client_feed(&c, bad, sizeof bad, &err);
    ck_assert_int_lt(rc, 0);
    ck_assert_int_eq(c.state, MTPS_CL_FAILED);
    ck_assert_int_eq(c.error, rc);
    ck_assert_str_eq(c.error_text, err.msg);
    uint8_t more[8] = {4, 0, 0, 0, 0x6c, 0xfe, 0xff, 0xff};
    ck_assert_rc(mtps_client_feed(&c, more, sizeof more, NULL), rc);
    down(&c);
}
END_TEST

Suite *mtps_client_suite(void);
Suite *mtps_client_suite(void)
{
    Suite *s = suite_create("mtps_client");
    TCase *tc = tcase_create("client");
    tcase_add_test(tc, start_sends_the_tag_and_req_pq_multi);
    tcase_add_test(tc, queries_wait_for_the_key);
    tcase_add_test(tc, transport_errors_and_quick_acks_are_recorded);
    tcase_add_test(tc, a_broken_answer_fails_the_client_for_good);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_client_suite)
