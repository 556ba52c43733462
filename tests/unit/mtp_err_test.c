#include <string.h>

#include "mtp_test.h"

START_TEST(names_round_trip)
{
    ck_assert_str_eq(mtp_err_name(MTP_OK), "ok");
    ck_assert_str_eq(mtp_err_name(MTP_ERR_SHORT), "short_input");
    ck_assert_str_eq(mtp_err_name(MTP_ERR_TL_BAD_CTOR), "tl_bad_constructor");
    ck_assert_str_eq(mtp_err_name(12345), "unknown_error");
    ck_assert_int_eq(mtp_err_from_name("tl_bad_constructor"), MTP_ERR_TL_BAD_CTOR);
    ck_assert_int_eq(mtp_err_from_name("no such name"), MTP_OK);
    ck_assert_str_eq(mtp_err_text(MTP_ERR_UNSUPPORTED), "operation not supported");
}
END_TEST

START_TEST(every_code_has_a_unique_name)
{
    static const struct {
        int code;
        const char *name;
    } all[] = {
#define MTP_ERR_DEF(sym, val, name, text) {(val), (name)},
#include "mtp/errors/all.def"
#undef MTP_ERR_DEF
    };
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_lt(all[i].code, 0);
        ck_assert_int_eq(mtp_err_from_name(all[i].name), all[i].code);
        for (size_t j = i + 1; j < n; j++) {
            ck_assert_msg(all[i].code != all[j].code, "code %d defined twice", all[i].code);
            ck_assert_msg(strcmp(all[i].name, all[j].name) != 0, "name %s defined twice", all[i].name);
        }
    }
}
END_TEST

START_TEST(set_keeps_first_and_prefix)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    ck_assert_int_eq(mtp_error_set(&e, MTP_ERR_SHORT, 12, "a: %d", 1), MTP_ERR_SHORT);
    ck_assert_int_eq(mtp_error_set(&e, MTP_ERR_HEX, 3, "b"), MTP_ERR_HEX);
    ck_assert_int_eq(e.code, MTP_ERR_SHORT);
    ck_assert_uint_eq(e.offset, 12);
    ck_assert_str_eq(e.msg, "a: 1");
    mtp_error_prefix(&e, "vector %s", "x#1");
    ck_assert_str_eq(e.msg, "vector x#1: a: 1");
    ck_assert_int_eq(mtp_error_set(NULL, MTP_ERR_HEX, 0, "nobody listens"), MTP_ERR_HEX);
}
END_TEST

static Suite *err_suite(void)
{
    Suite *s = suite_create("err");
    TCase *tc = tcase_create("err");
    tcase_add_test(tc, names_round_trip);
    tcase_add_test(tc, every_code_has_a_unique_name);
    tcase_add_test(tc, set_keeps_first_and_prefix);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(err_suite)
