#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtp_test.h"
#include "report/report.h"

START_TEST(xml_escape)
{
    char *e = mtp_report_xml_escape("a<b>&\"c'\x01");
    ck_assert_str_eq(e, "a&lt;b&gt;&amp;&quot;c&apos;?");
    free(e);
    e = mtp_report_xml_escape(NULL);
    ck_assert_str_eq(e, "");
    free(e);
}
END_TEST

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

START_TEST(writes_json_and_junit_in_nested_dir)
{
    json_t *r = mtp_report_new("conf", "impl <x>");
    ck_assert_str_eq(json_string_value(json_object_get(r, "tool")), "mtprobe");
    ck_assert_str_eq(json_string_value(json_object_get(r, "command")), "conf");
    json_t *cases = json_pack("[{s:s, s:s}, {s:s, s:s, s:s, s:s, s:{s:s}, s:{s:s}}, {s:s, s:s}]", "id", "s#1",
                              "status", "pass", "id", "s#2", "status", "error", "message", "server closed",
                              "spec", "https://core.telegram.org/mtproto/auth_key", "expected", "x", "1",
                              "observed", "x", "2", "id", "s#3", "status", "unsupported");
    json_array_append_new(json_object_get(r, "suites"), json_pack("{s:s, s:o}", "name", "s", "cases", cases));
    char dir[] = "/tmp/mtprobe-report-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char sub[128], why[256];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    ck_assert_int_eq(mtp_report_write_all(r, sub, "conf", why, sizeof why), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/conf.junit.xml", sub);
    const char *xml = slurp(path);
    ck_assert_msg(strstr(xml, "<testsuites name=\"mtprobe conf\" tests=\"3\" failures=\"1\" skipped=\"1\">") != NULL,
                  "%s", xml);
    ck_assert_msg(strstr(xml, "<testcase classname=\"conf.s\" name=\"s#1\"/>") != NULL, "%s", xml);
    ck_assert_msg(strstr(xml, "<failure message=\"server closed\" type=\"error\">server closed\n"
                              "spec: https://core.telegram.org/mtproto/auth_key\n"
                              "expected: {&quot;x&quot;:&quot;1&quot;}\nobserved: {&quot;x&quot;:&quot;2&quot;}\n"
                              "</failure>") != NULL,
                  "%s", xml);
    snprintf(path, sizeof path, "%s/conf.json", sub);
    json_error_t jerr;
    json_t *back = json_load_file(path, 0, &jerr);
    ck_assert_msg(back != NULL, "%s", jerr.text);
    ck_assert(json_equal(back, r));
    json_decref(back);
    json_decref(r);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(unwritable_dir_is_an_error)
{
    json_t *r = mtp_report_new("kat", "x");
    char why[256];
    ck_assert_int_eq(mtp_report_write_all(r, "/proc/no/such/place", "kat", why, sizeof why), -1);
    ck_assert_msg(strstr(why, "cannot create report directory /proc/no/such/place") != NULL, "%s", why);
    json_decref(r);
}
END_TEST

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("writers");
    tcase_add_test(tc, xml_escape);
    tcase_add_test(tc, writes_json_and_junit_in_nested_dir);
    tcase_add_test(tc, unwritable_dir_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(report_suite)
