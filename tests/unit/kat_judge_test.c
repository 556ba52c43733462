#include <string.h>

#include "kat/kat.h"
#include "mtp_test.h"

static enum kat_status judge(const char *result, const char *expect, const char *answer, char *why)
{
    json_t *e = json_loads(expect, 0, NULL), *a = json_loads(answer, 0, NULL);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_nonnull(a);
    enum kat_status st = kat_judge(result, e, a, why, 300);
    json_decref(e);
    json_decref(a);
    return st;
}

START_TEST(valid_vectors)
{
    char why[300];
    ck_assert_int_eq(judge("valid", "{\"out\":\"ABCD\"}", "{\"id\":1,\"ok\":true,\"out\":\"abcd\",\"x\":1}", why),
                     KAT_PASS);
    ck_assert_int_eq(judge("valid", "{\"out\":\"abcd\"}", "{\"id\":1,\"ok\":true,\"out\":\"abce\"}", why), KAT_FAIL);
    ck_assert_str_eq(why, "field \"out\": expected \"abcd\", got \"abce\"");
    ck_assert_int_eq(judge("valid", "{\"out\":\"abcd\"}", "{\"id\":1,\"ok\":true}", why), KAT_FAIL);
    ck_assert_str_eq(why, "field \"out\": expected \"abcd\", got (absent)");
    ck_assert_int_eq(judge("valid", "{}", "{\"ok\":false,\"error\":\"msg_key_mismatch\",\"message\":\"m\"}", why),
                     KAT_FAIL);
    ck_assert_str_eq(why, "expected success, got error \"msg_key_mismatch\": m");
    /* Non-hex strings compare exactly. */
    ck_assert_int_eq(judge("valid", "{\"reason\":\"Xyz\"}", "{\"ok\":true,\"reason\":\"xyz\"}", why), KAT_FAIL);
}
END_TEST

START_TEST(invalid_vectors)
{
    char why[300];
    ck_assert_int_eq(judge("invalid", "{\"error\":\"msg_key_mismatch\"}",
                           "{\"ok\":false,\"error\":\"msg_key_mismatch\"}", why),
                     KAT_PASS);
    ck_assert_int_eq(judge("invalid", "{\"error\":\"msg_key_mismatch\"}",
                           "{\"ok\":false,\"error\":\"bad_padding_length\",\"message\":\"pad 4\"}", why),
                     KAT_FAIL);
    ck_assert_str_eq(why, "expected error \"msg_key_mismatch\", got \"bad_padding_length\" (pad 4)");
    ck_assert_int_eq(judge("invalid", "{\"error\":\"retry\"}", "{\"ok\":true}", why), KAT_FAIL);
    ck_assert_str_eq(why, "expected error \"retry\", but the implementation accepted it");
    /* A verdict reported as data. */
    ck_assert_int_eq(judge("invalid", "{\"valid\":false,\"reason\":\"dh_g_bad_residue\"}",
                           "{\"ok\":true,\"valid\":false,\"reason\":\"dh_g_bad_residue\"}", why),
                     KAT_PASS);
    ck_assert_int_eq(judge("invalid", "{\"valid\":false}", "{\"ok\":true,\"valid\":true}", why), KAT_FAIL);
}
END_TEST

START_TEST(unsupported_and_acceptable)
{
    char why[300];
    ck_assert_int_eq(judge("valid", "{\"out\":\"00\"}", "{\"ok\":false,\"error\":\"unsupported\"}", why),
                     KAT_UNSUPPORTED);
    ck_assert_int_eq(judge("invalid", "{\"error\":\"x\"}", "{\"ok\":false,\"error\":\"unsupported\"}", why),
                     KAT_UNSUPPORTED);
    ck_assert_int_eq(judge("acceptable", "{\"out\":\"00\"}", "{\"ok\":false,\"error\":\"whatever\"}", why),
                     KAT_ACCEPTABLE);
    ck_assert_int_eq(judge("acceptable", "{\"out\":\"00\"}", "{\"ok\":true,\"out\":\"00\"}", why), KAT_ACCEPTABLE);
    ck_assert_int_eq(judge("acceptable", "{\"out\":\"00\"}", "{\"ok\":true,\"out\":\"01\"}", why), KAT_FAIL);
}
END_TEST

START_TEST(value_equality)
{
    json_t *a = json_loads("{\"_\":\"resPQ\",\"v\":[1,2,\"AB\"],\"d\":1.5}", 0, NULL);
    json_t *b = json_loads("{\"d\":1.5,\"v\":[1,2,\"ab\"],\"_\":\"resPQ\"}", 0, NULL);
    json_t *c = json_loads("{\"d\":1.5,\"v\":[1,2,\"ab\"],\"_\":\"resPQ\",\"extra\":0}", 0, NULL);
    json_t *d = json_loads("{\"d\":1.5,\"v\":[1,2],\"_\":\"resPQ\"}", 0, NULL);
    ck_assert(kat_value_equal(a, b));
    ck_assert(!kat_value_equal(a, c)); /* nested objects must match exactly */
    ck_assert(!kat_value_equal(a, d));
    json_t *i = json_integer(3), *r = json_real(3.0), *s = json_string("3");
    ck_assert(kat_value_equal(i, r));
    ck_assert(!kat_value_equal(i, s));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
    json_decref(i);
    json_decref(r);
    json_decref(s);
}
END_TEST

static Suite *kat_judge_suite(void)
{
    Suite *s = suite_create("kat_judge");
    TCase *tc = tcase_create("judge");
    tcase_add_test(tc, valid_vectors);
    tcase_add_test(tc, invalid_vectors);
    tcase_add_test(tc, unsupported_and_acceptable);
    tcase_add_test(tc, value_equality);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(kat_judge_suite)
