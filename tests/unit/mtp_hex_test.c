#include <stdlib.h>
#include <string.h>

#include "mtp/hex.h"
#include "mtp_test.h"

START_TEST(decode_both_cases)
{
    uint8_t out[4];
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_hex_decode_exact("DEADbeef", out, 4, &err, "x"));
    ck_assert_hex_eq(out, 4, "deadbeef");
    char s[9];
    mtp_hex_encode(out, 4, s);
    ck_assert_str_eq(s, "deadbeef");
    char *a = mtp_hex_alloc(out, 2);
    ck_assert_str_eq(a, "dead");
    free(a);
}
END_TEST

START_TEST(decode_errors)
{
    uint8_t out[4];
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_hex_decode_exact("abc", out, 4, &err, "nonce"), MTP_ERR_HEX);
    ck_assert_str_eq(err.msg, "nonce: expected 4 bytes (8 hex digits), got 3 digits");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_hex_decode_exact("0011g233", out, 4, &err, "nonce"), MTP_ERR_HEX);
    ck_assert_str_eq(err.msg, "nonce: not a hex digit at character 4");
    struct mtp_wr w;
    mtp_error_clear(&err);
    mtp_wr_init_fixed(&w, out, 4, &err);
    ck_assert_rc(mtp_hex_decode("abc", 3, &w, "odd"), MTP_ERR_HEX);
    ck_assert_str_eq(err.msg, "odd: hex string has odd length 3");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_hex_decode("0011223344", 10, &w, "big"), MTP_ERR_OVERFLOW);
    /* A bad digit leaves the writer as it was. */
    mtp_error_clear(&err);
    mtp_wr_init_fixed(&w, out, 4, &err);
    ck_assert_rc(mtp_hex_decode("00zz", 4, &w, "z"), MTP_ERR_HEX);
    ck_assert_uint_eq(w.len, 0);
}
END_TEST

static Suite *hex_suite(void)
{
    Suite *s = suite_create("hex");
    TCase *tc = tcase_create("hex");
    tcase_add_test(tc, decode_both_cases);
    tcase_add_test(tc, decode_errors);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(hex_suite)
