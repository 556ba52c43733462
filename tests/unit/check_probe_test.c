/* The probe's number expressions (g_b cases) and its message bodies. */
#include <string.h>

#include "check/check_probe.h"
#include "mtp/dh.h"
#include "mtp/service.h"
#include "mtp_test.h"

static const uint8_t *P = mtp_dh_telegram_prime;

START_TEST(num_expr_small_and_powers)
{
    uint8_t out[256], want[256];
    memset(want, 0, sizeof want);
    ck_assert_int_eq(probe_num_expr("0", P, out), 0);
    ck_assert_mem_eq(out, want, 256);
    want[255] = 1;
    ck_assert_int_eq(probe_num_expr("1", P, out), 0);
    ck_assert_mem_eq(out, want, 256);
    memset(want, 0, sizeof want);
    want[256 - 1984 / 8 - 1] = 1; /* 2^1984: bit 0 of byte 7 from the top of 256 */
    ck_assert_int_eq(probe_num_expr("2^1984", P, out), 0);
    ck_assert_mem_eq(out, want, 256);
    /* 2^1984 - 1: 248 bytes of 0xff */
    memset(want, 0, 8);
    memset(want + 8, 0xff, 248);
    ck_assert_int_eq(probe_num_expr("2^1984-1", P, out), 0);
    ck_assert_mem_eq(out, want, 256);
}
END_TEST

START_TEST(num_expr_of_the_prime)
{
    uint8_t out[256], want[256];
    ck_assert_int_eq(probe_num_expr("p", P, out), 0);
    ck_assert_mem_eq(out, P, 256);
    memcpy(want, P, 256);
    want[255] -= 1; /* Telegram's prime ends in ...5b: no borrow */
    ck_assert_int_eq(probe_num_expr("p-1", P, out), 0);
    ck_assert_mem_eq(out, want, 256);
    want[255] += 2;
    ck_assert_int_eq(probe_num_expr("p+1", P, out), 0);
    ck_assert_mem_eq(out, want, 256);
    /* p - 2^1984 + 1: only byte 7 and the last one change */
    memcpy(want, P, 256);
    want[7] -= 1;
    want[255] += 1;
    ck_assert_int_eq(probe_num_expr("p-2^1984+1", P, out), 0);
    ck_assert_mem_eq(out, want, 256);
}
END_TEST

START_TEST(num_expr_refused)
{
    uint8_t out[256];
    ck_assert_int_eq(probe_num_expr("0-1", P, out), -1);    /* negative */
    ck_assert_int_eq(probe_num_expr("2^2048", P, out), -1); /* does not fit 256 bytes */
    ck_assert_int_eq(probe_num_expr("q", P, out), -1);
    ck_assert_int_eq(probe_num_expr("p*2", P, out), -1);
    ck_assert_int_eq(probe_num_expr("", P, out), -1);
}
END_TEST

START_TEST(ping_body)
{
    uint8_t b[16];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, b, sizeof b, NULL);
    ck_assert_ok(probe_body_ping(&w, 0x0102030405060708ull));
    ck_assert_hex_eq(w.p, w.len, "ec77be7a0807060504030201");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("check_probe");
    TCase *t = tcase_create("probe");
    tcase_add_test(t, num_expr_small_and_powers);
    tcase_add_test(t, num_expr_of_the_prime);
    tcase_add_test(t, num_expr_refused);
    tcase_add_test(t, ping_body);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(suite)
