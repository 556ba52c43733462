/* Case files and expectations files: what loads, and every problem named with its file and case. */
#include <stdio.h>
#include <string.h>

#include "check/check.h"
#include "mtp_test.h"

static const char *CATALOGUE =
    "{\"areas\":[{\"id\":\"dh\",\"title\":\"DH\"}],\"requirements\":["
    "{\"id\":\"C-DH-1\",\"side\":\"client\",\"area\":\"dh\",\"level\":\"MUST\",\"spec\":{\"url\":\"https://x/a\",\"quote\":\"q\"}},"
    "{\"id\":\"C-DH-5\",\"side\":\"client\",\"area\":\"dh\",\"level\":\"RECOMMENDED\",\"spec\":{\"url\":\"https://x/b\"}}]}";

static void write(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Loads dir's case files with the test catalogue; returns the problem count and what was printed. */
static int load(const char *dir, struct check_suite *s, char *printed, size_t cap)
{
    char cat[512];
    snprintf(cat, sizeof cat, "%s/cat.json.txt", dir);
    FILE *f = fopen(cat, "w");
    fputs(CATALOGUE, f);
    fclose(f);
    FILE *err = fmemopen(printed, cap, "w");
    int n = check_suite_load(s, dir, cat, err);
    fclose(err);
    return n;
}

START_TEST(valid_case_takes_level_spec_and_defaults)
{
    const char *dir = mtp_test_tmpdir();
    write(dir, "dh.json",
          "{\"format\":\"mtprobe-cases-1\",\"side\":\"client\",\"group\":\"dh\",\"title\":\"t\","
          "\"defaults\":{\"timeout\":7,\"transports\":\"obfuscated\"},\"cases\":["
          "{\"id\":\"client.dh.a\",\"requirement\":\"C-DH-1\",\"title\":\"a\",\"expect\":\"reject_exchange\","
          "\"hostile\":\"server_DH_params_ok\",\"scenario\":{\"auth\":{\"send_g\":2}}},"
          "{\"id\":\"client.dh.b\",\"requirement\":\"C-DH-5\",\"level\":\"INFO\",\"title\":\"b\",\"expect\":\"accept\","
          "\"transports\":[\"full\",\"abridged\"],\"requests\":\"ping,config\",\"checks\":[\"padding_12\"]}]}");
    struct check_suite s;
    char printed[4096] = "";
    ck_assert_int_eq(load(dir, &s, printed, sizeof printed), 0);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(s.cases[0].id, "client.dh.a");
    ck_assert_int_eq(s.cases[0].level, CHECK_MUST);
    ck_assert_str_eq(json_string_value(json_object_get(s.cases[0].spec, "url")), "https://x/a");
    ck_assert_uint_eq(s.cases[0].transports, 0x70);
    ck_assert(s.cases[0].timeout_s == 7.0);
    ck_assert_str_eq(s.cases[0].requests, "nearest_dc");
    ck_assert_int_eq(s.cases[1].level, CHECK_INFO);
    ck_assert_uint_eq(s.cases[1].transports, (1u << 0) | (1u << 3));
    ck_assert_str_eq(s.cases[1].requests, "ping,config");
    check_suite_free(&s);
    mtp_test_rmdir(dir);
}
END_TEST

START_TEST(problems_are_named)
{
    const char *dir = mtp_test_tmpdir();
    write(dir, "bad.json",
          "{\"format\":\"mtprobe-cases-1\",\"side\":\"client\",\"group\":\"dh\",\"title\":\"t\",\"cases\":["
          "{\"id\":\"client.dh.a\",\"requirement\":\"C-NOPE-1\",\"title\":\"a\",\"expect\":\"accept\"},"
          "{\"id\":\"client.dh.b\",\"requirement\":\"C-DH-1\",\"title\":\"b\",\"expect\":\"reject_exchange\"},"
          "{\"id\":\"client.dh.c\",\"requirement\":\"C-DH-1\",\"title\":\"c\",\"expect\":\"accept\",\"scenario\":{\"auth\":{\"nope\":1}}},"
          "{\"id\":\"client.dh.d\",\"requirement\":\"C-DH-1\",\"title\":\"d\",\"expect\":\"passive\",\"checks\":[\"no_such\"]},"
          "{\"id\":\"client.dh.g\",\"requirement\":\"C-DH-1\",\"title\":\"g\",\"expect\":\"accept\",\"typo\":1},"
          "{\"id\":\"client.dh.e\",\"requirement\":\"C-DH-1\",\"title\":\"e\",\"expect\":\"accept\"},"
          "{\"id\":\"client.dh.e\",\"requirement\":\"C-DH-1\",\"title\":\"e2\",\"expect\":\"accept\"},"
          "{\"id\":\"client.dh.f\",\"requirement\":\"C-DH-1\",\"title\":\"f\",\"expect\":\"accept\",\"transports\":[\"smoke\"]}]}");
    struct check_suite s;
    char printed[8192] = "";
    int n = load(dir, &s, printed, sizeof printed);
    ck_assert_int_ge(n, 7);
    ck_assert_msg(strstr(printed, "bad.json: case client.dh.a: requirement \"C-NOPE-1\" is not in the catalogue"), "%s", printed);
    ck_assert_msg(strstr(printed, "case client.dh.b: reject_exchange needs \"hostile\""), "%s", printed);
    ck_assert_msg(strstr(printed, "case client.dh.c: scenario:") && strstr(printed, "nope"), "%s", printed);
    ck_assert_msg(strstr(printed, "unknown check \"no_such\""), "%s", printed);
    ck_assert_msg(strstr(printed, "case client.dh.g: unknown key \"typo\""), "%s", printed);
    ck_assert_msg(strstr(printed, "the id is used twice"), "%s", printed);
    ck_assert_msg(strstr(printed, "case client.dh.f: \"transports\""), "%s", printed);
    check_suite_free(&s);
    mtp_test_rmdir(dir);
}
END_TEST

START_TEST(expectations_match_globs_and_transports)
{
    const char *dir = mtp_test_tmpdir();
    write(dir, "x.json",
          "{\"implementation\":\"Lib 1\",\"expected_failures\":["
          "{\"cases\":\"client.dh.prime-*,client.hs.a\",\"reason\":\"r\",\"ref\":\"lib.py:1\"},"
          "{\"cases\":\"client.tr.split\",\"transports\":[\"abridged\"],\"sometimes\":true,\"reason\":\"r2\",\"ref\":\"lib.py:2\"}]}");
    char path[512], why[256];
    snprintf(path, sizeof path, "%s/x.json", dir);
    struct check_expectations x;
    ck_assert_int_eq(check_expectations_load(&x, path, why, sizeof why), 0);
    ck_assert_str_eq(x.implementation, "Lib 1");
    ck_assert_ptr_nonnull(check_expected(&x, "client.dh.prime-c", 1));
    ck_assert_ptr_nonnull(check_expected(&x, "client.hs.a", 6));
    ck_assert_ptr_null(check_expected(&x, "client.hs.ab", 6));
    const struct check_expected_failure *f = check_expected(&x, "client.tr.split", 0);
    ck_assert_ptr_nonnull(f);
    ck_assert(f->sometimes);
    ck_assert_ptr_null(check_expected(&x, "client.tr.split", 4));
    check_expectations_free(&x);
    write(dir, "y.json", "{\"expected_failures\":[{\"cases\":\"a\",\"reason\":\"r\"}]}");
    snprintf(path, sizeof path, "%s/y.json", dir);
    ck_assert_int_eq(check_expectations_load(&x, path, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "entry 0 needs"), "%s", why);
    mtp_test_rmdir(dir);
}
END_TEST

START_TEST(shipped_cases_are_valid)
{
    struct check_suite s;
    char dir[1024], cat[1024];
    snprintf(dir, sizeof dir, "%s", mtp_test_path("vectors/cases/client"));
    snprintf(cat, sizeof cat, "%s", mtp_test_path("vectors/cases/requirements.json"));
    int n = check_suite_load(&s, dir, cat, stderr);
    ck_assert_int_eq(n, 0);
    ck_assert_uint_ge(s.n, 100);
    check_suite_free(&s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("check_case");
    TCase *t = tcase_create("cases");
    tcase_add_test(t, valid_case_takes_level_spec_and_defaults);
    tcase_add_test(t, problems_are_named);
    tcase_add_test(t, expectations_match_globs_and_transports);
    tcase_add_test(t, shipped_cases_are_valid);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(suite)
