/* The JUnit writer: one testsuite per run x transport, one testcase per case
 * id with repeats folded, the verdicts mapped to failure/error/skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp_test.h"
#include "report/report.h"

/* Appends the items of a new array and releases it (json_array_extend keeps its reference). */
static void extend_new(json_t *arr, json_t *items)
{
    ck_assert_ptr_nonnull(items);
    ck_assert_int_eq(json_array_extend(arr, items), 0);
    json_decref(items);
}

static char *write_and_read(const json_t *r)
{
    const char *dir = mtp_test_tmpdir();
    char path[512], why[256];
    snprintf(path, sizeof path, "%s/junit.xml", dir);
    ck_assert_int_eq(mtp_report_write_junit(r, path, why, sizeof why), 0);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char *xml = NULL;
    size_t cap = 0;
    ck_assert(getdelim(&xml, &cap, '\0', f) > 0);
    fclose(f);
    mtp_test_rmdir(dir);
    return xml;
}

static json_t *check_report(void)
{
    json_t *r = mtp_report_new("check client", "impl <1>");
    extend_new(json_object_get(r, "cases"),
                      json_pack("[{s:s, s:s, s:s, s:s, s:s, s:{s:s}}, {s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s}]",
                                "id", "c.one", "title", "one", "area", "dh", "requirement", "C-DH-1", "level", "MUST",
                                "spec", "url", "https://core.telegram.org/mtproto/auth_key", "id", "c.two", "title",
                                "two", "area", "dh", "requirement", "C-DH-2", "level", "SHOULD", "id", "c.three",
                                "title", "three", "area", "dh"));
    extend_new(
        json_object_get(r, "results"),
        json_pack("[{s:s, s:s, s:i, s:s, s:s, s:s, s:i},"  /* c.one intermediate: pass then fail (repeats) */
                  " {s:s, s:s, s:i, s:s, s:s, s:s, s:i},"
                  " {s:s, s:s, s:i, s:s, s:s, s:s, s:o},"   /* c.one full: xfail with its reason */
                  " {s:s, s:s, s:i, s:s, s:s, s:s},"        /* c.two intermediate: error */
                  " {s:s, s:s, s:i, s:s},"                  /* c.three intermediate: pass */
                  " {s:s, s:s, s:i, s:s, s:s}]",           /* c.three full: unsupported */
                  "case", "c.one", "transport", "intermediate", "repeat", 0, "verdict", "pass", "expected", "e",
                  "observed", "o", "duration_ms", 1500,                                                        //
                  "case", "c.one", "transport", "intermediate", "repeat", 1, "verdict", "fail", "expected",
                  "it <rejects>", "observed", "it went on & on", "duration_ms", 500,                            //
                  "case", "c.one", "transport", "full", "repeat", 0, "verdict", "xfail", "expected", "e", "observed",
                  "o", "expectation", json_pack("{s:s, s:s}", "reason", "no safe-prime test", "ref", "lib.c:10"), //
                  "case", "c.two", "transport", "intermediate", "repeat", 0, "verdict", "error", "expected",
                  "the harness runs the case", "observed", "no mock DC",                                        //
                  "case", "c.three", "transport", "intermediate", "repeat", 0, "verdict", "pass",              //
                  "case", "c.three", "transport", "full", "repeat", 0, "verdict", "unsupported", "observed",
                  "exit 4"));
    char why[256];
    ck_assert_int_eq(mtp_report_finish(r, why, sizeof why), 0);
    return r;
}

START_TEST(suites_per_transport_and_folded_repeats)
{
    json_t *r = check_report();
    char *xml = write_and_read(r);
    ck_assert_msg(strstr(xml, "<testsuites name=\"mtprobe check client\" tests=\"5\" failures=\"1\" errors=\"1\" "
                              "skipped=\"2\" time=\"2.000\">") != NULL,
                  "%s", xml);
    ck_assert_msg(strstr(xml, "<testsuite name=\"impl &lt;1&gt; intermediate\" tests=\"3\" failures=\"1\" errors=\"1\" "
                              "skipped=\"0\" time=\"2.000\">") != NULL,
                  "%s", xml);
    ck_assert_msg(strstr(xml, "<testsuite name=\"impl &lt;1&gt; full\" tests=\"2\" failures=\"0\" errors=\"0\" "
                              "skipped=\"2\"") != NULL,
                  "%s", xml);
    /* The repeats of c.one fold into one testcase: the failing repeat wins and both are listed. */
    ck_assert_msg(strstr(xml, "<testcase classname=\"check-client.impl &lt;1&gt;.intermediate\" name=\"c.one\" "
                              "time=\"2.000\">\n      <failure message=\"fail [C-DH-1 MUST] it went on &amp; on\" "
                              "type=\"fail\">[repeat 0] pass\nrequirement: C-DH-1 (MUST)\n"
                              "spec: https://core.telegram.org/mtproto/auth_key\nexpected: e\nobserved: o\n"
                              "[repeat 1] fail\nrequirement: C-DH-1 (MUST)\n"
                              "spec: https://core.telegram.org/mtproto/auth_key\nexpected: it &lt;rejects&gt;\n"
                              "observed: it went on &amp; on\n</failure>\n    </testcase>") != NULL,
                  "%s", xml);
    ck_assert_msg(strstr(xml, "<skipped message=\"expected failure: no safe-prime test\"/>") != NULL, "%s", xml);
    ck_assert_msg(strstr(xml, "<error message=\"error [C-DH-2 SHOULD] no mock DC\" type=\"error\">") != NULL, "%s", xml);
    ck_assert_msg(strstr(xml, "name=\"c.three\" time=\"0.000\"/>") != NULL, "%s", xml);
    ck_assert_msg(strstr(xml, "<skipped message=\"unsupported by the implementation: exit 4\"/>") != NULL, "%s", xml);
    free(xml);
    json_decref(r);
}
END_TEST

START_TEST(runs_without_transports_group_by_case_group)
{
    json_t *r = mtp_report_new("kat", "shim");
    extend_new(json_object_get(r, "cases"),
                      json_pack("[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}]", "id", "a/x#1", "title", "t", "area", "a",
                                "group", "a/x", "id", "b/y#1", "title", "t", "area", "b", "group", "b/y"));
    extend_new(json_object_get(r, "results"),
                      json_pack("[{s:s, s:s}, {s:s, s:s, s:s, s:o, s:o}]", "case", "a/x#1", "verdict", "acceptable",
                                "case", "b/y#1", "verdict", "fail", "message", "field \"out\": expected 1, got 2",
                                "expected", json_pack("{s:i}", "out", 1), "observed", json_pack("{s:i}", "out", 2)));
    char why[256];
    ck_assert_int_eq(mtp_report_finish(r, why, sizeof why), 0);
    char *xml = write_and_read(r);
    ck_assert_msg(strstr(xml, "<testsuite name=\"shim a/x\" tests=\"1\" failures=\"0\"") != NULL, "%s", xml);
    ck_assert_msg(strstr(xml, "<testcase classname=\"kat.shim.a/x\" name=\"a/x#1\" time=\"0.000\"/>") != NULL, "%s", xml);
    ck_assert_msg(strstr(xml, "<failure message=\"field &quot;out&quot;: expected 1, got 2\" type=\"fail\">"
                              "message: field &quot;out&quot;: expected 1, got 2\nexpected: {&quot;out&quot;:1}\n"
                              "observed: {&quot;out&quot;:2}\n</failure>") != NULL,
                  "%s", xml);
    free(xml);
    json_decref(r);
}
END_TEST

/* wrong-error passes in CI but keeps both error names in the testcase's output;
 * folded with a failing repeat, the failure wins. */
START_TEST(wrong_error_passes_with_its_message)
{
    json_t *r = mtp_report_new("kat", "shim");
    extend_new(json_object_get(r, "cases"),
               json_pack("[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}]", "id", "m/x#1", "title", "t", "area", "m",
                         "group", "m/x", "id", "m/x#2", "title", "t", "area", "m", "group", "m/x"));
    extend_new(json_object_get(r, "results"),
               json_pack("[{s:s, s:s, s:s}, {s:s, s:i, s:s}, {s:s, s:i, s:s, s:s}]", "case", "m/x#1",
                         "verdict", "wrong-error", "message",
                         "expected error \"msg_key_mismatch\", got \"<bad-mac>\"", "case", "m/x#2", "repeat", 0,
                         "verdict", "wrong-error", "case", "m/x#2", "repeat", 1, "verdict", "fail", "message", "boom"));
    char why[256];
    ck_assert_int_eq(mtp_report_finish(r, why, sizeof why), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "summary"), "wrong-error")), 2);
    char *xml = write_and_read(r);
    ck_assert_msg(strstr(xml, "<testsuite name=\"shim m/x\" tests=\"2\" failures=\"1\" errors=\"0\" "
                              "skipped=\"0\"") != NULL,
                  "%s", xml);
    ck_assert_msg(strstr(xml, "<testcase classname=\"kat.shim.m/x\" name=\"m/x#1\" time=\"0.000\">\n"
                              "      <system-out>wrong-error: expected error &quot;msg_key_mismatch&quot;, got "
                              "&quot;&lt;bad-mac&gt;&quot;</system-out>\n    </testcase>") != NULL,
                  "%s", xml);
    ck_assert_msg(strstr(xml, "<failure message=\"boom\" type=\"fail\">") != NULL, "%s", xml);
    free(xml);
    json_decref(r);
}
END_TEST

START_TEST(unwritable_path)
{
    json_t *r = check_report();
    char why[256];
    ck_assert_int_eq(mtp_report_write_junit(r, "/proc/no/such/junit.xml", why, sizeof why), -1);
    ck_assert_msg(strstr(why, "cannot write /proc/no/such/junit.xml.tmp") != NULL, "%s", why);
    json_decref(r);
}
END_TEST

static Suite *report_junit_suite(void)
{
    Suite *s = suite_create("report_junit");
    TCase *tc = tcase_create("junit");
    tcase_add_test(tc, suites_per_transport_and_folded_repeats);
    tcase_add_test(tc, runs_without_transports_group_by_case_group);
    tcase_add_test(tc, wrong_error_passes_with_its_message);
    tcase_add_test(tc, unwritable_path);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(report_junit_suite)
