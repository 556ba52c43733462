#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kat/kat.h"
#include "mtp_test.h"
#include "report/report.h"

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    strcpy(dir, "/tmp/mtprobe-kat-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static const char *good_file =
    "{\"format\":\"mtprobe-vectors/1\",\"title\":\"meta\",\"source\":\"unit test\",\"spec\":[\"docs/shim.md\"],"
    "\"testGroups\":[{\"op\":\"hello\",\"tests\":["
    "{\"tcId\":1,\"comment\":\"protocol one\",\"flags\":[],\"result\":\"valid\",\"expect\":{\"protocol\":1}},"
    "{\"tcId\":2,\"comment\":\"wrong on purpose\",\"flags\":[],\"result\":\"valid\",\"expect\":{\"protocol\":2}}]},"
    "{\"op\":\"not_an_op\",\"tests\":["
    "{\"tcId\":3,\"comment\":\"unknown op\",\"flags\":[],\"result\":\"valid\",\"args\":{\"x\":\"00\"},\"expect\":{}}]}]}";

static json_t *run(struct kat_totals *tot, int *rc, char **out_text)
{
    const char *paths[] = {dir};
    size_t len = 0;
    FILE *mem = open_memstream(out_text, &len);
    struct kat_options o = {.paths = paths, .n_paths = 1, .out = mem};
    struct kat_target t = {0};
    json_t *report = mtp_report_new("kat", "test");
    *rc = kat_run(&o, &t, report, tot);
    fclose(mem);
    return report;
}

START_TEST(counts_and_report_contents)
{
    write_file("a.json", good_file);
    write_file("data.json", "{\"not\":\"a vector file\"}");
    struct kat_totals tot;
    int rc;
    char *text = NULL;
    json_t *report = run(&tot, &rc, &text);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(tot.files, 1);
    ck_assert_uint_eq(tot.vectors, 3);
    ck_assert_uint_eq(tot.passed, 1);
    ck_assert_uint_eq(tot.failed, 1);
    ck_assert_uint_eq(tot.unsupported, 1);
    ck_assert_msg(strstr(text, "FAIL a#2 (hello: wrong on purpose): field \"protocol\": expected 2, got 1") != NULL,
                  "%s", text);
    ck_assert_msg(strstr(text, "3 vectors    1 passed    1 unsupported    1 FAILED") != NULL, "%s", text);

    json_t *suite = json_array_get(json_object_get(report, "suites"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(suite, "name")), "a");
    ck_assert_str_eq(json_string_value(json_object_get(suite, "source")), "unit test");
    /* Each vector is a case (what was tested) and a result (what happened). */
    json_t *cases = json_object_get(report, "cases"), *results = json_object_get(report, "results");
    ck_assert_uint_eq(json_array_size(cases), 3);
    ck_assert_uint_eq(json_array_size(results), 3);
    json_t *c2 = json_array_get(cases, 1), *r2 = json_array_get(results, 1);
    ck_assert_str_eq(json_string_value(json_object_get(c2, "id")), "a#2");
    ck_assert_str_eq(json_string_value(json_object_get(c2, "title")), "wrong on purpose");
    ck_assert_str_eq(json_string_value(json_object_get(c2, "group")), "a");
    ck_assert_str_eq(json_string_value(json_object_get(c2, "op")), "hello");
    ck_assert_str_eq(json_string_value(json_object_get(r2, "case")), "a#2");
    ck_assert_str_eq(json_string_value(json_object_get(r2, "verdict")), "fail");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r2, "expected"), "protocol")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r2, "observed"), "protocol")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r2, "request"), "op")), "hello");
    ck_assert_ptr_null(json_object_get(json_array_get(results, 0), "request"));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(results, 2), "verdict")), "unsupported");
    json_t *area = json_array_get(json_object_get(report, "areas"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(area, "id")), "a");
    json_t *sum = json_object_get(report, "summary");
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "failed")), 1);

    char why[256];
    ck_assert_int_eq(mtp_report_finish(report, why, sizeof why), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "fail")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "unsupported")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "pass")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(results, 1), "run")), "test");
    ck_assert_int_eq(mtp_report_write_all(report, dir, "kat", why, sizeof why), 0);
    size_t n;
    char path[256];
    snprintf(path, sizeof path, "%s/kat.junit.xml", dir + 0);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char xml[8192];
    n = fread(xml, 1, sizeof xml - 1, f);
    xml[n] = '\0';
    fclose(f);
    ck_assert_msg(strstr(xml, "<testsuite name=\"test a\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\"") != NULL,
                  "%s", xml);
    ck_assert_msg(strstr(xml, "<testcase classname=\"kat.test.a\" name=\"a#2\"") != NULL, "%s", xml);
    ck_assert_msg(strstr(xml, "<failure message=\"field &quot;protocol&quot;: expected 2, got 1\" type=\"fail\">") != NULL,
                  "%s", xml);
    ck_assert_msg(strstr(xml, "<skipped message=\"unsupported by the implementation: ") != NULL, "%s", xml);
    snprintf(path, sizeof path, "%s/kat.html", dir + 0);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    json_decref(report);
    free(text);
}
END_TEST

START_TEST(malformed_files_are_named)
{
    struct kat_totals tot;
    int rc;
    char *text = NULL;
    write_file("b.json", "{\"format\":\"mtprobe-vectors/1\",\"source\":\"x\",\"testGroups\":[{\"op\":\"hello\","
                         "\"tests\":[{\"tcId\":1,\"result\":\"maybe\"}]}]}");
    json_decref(run(&tot, &rc, &text));
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(text, "b.json: malformed vector file: testGroups[0].tests[0] (tcId 1): \"result\" must be "
                               "valid, invalid or acceptable") != NULL,
                  "%s", text);
    free(text);
    write_file("b.json", "{\"format\":\"mtprobe-vectors/1\",\n \"source\": ]}");
    json_decref(run(&tot, &rc, &text));
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(text, "b.json:2:12: not valid JSON") != NULL, "%s", text);
    free(text);
    write_file("b.json", "{\"format\":\"mtprobe-vectors/1\",\"testGroups\":[]}");
    json_decref(run(&tot, &rc, &text));
    ck_assert_msg(strstr(text, "missing string \"source\"") != NULL, "%s", text);
    free(text);
}
END_TEST

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static Suite *kat_runner_suite(void)
{
    Suite *s = suite_create("kat_runner");
    TCase *tc = tcase_create("runner");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, counts_and_report_contents);
    tcase_add_test(tc, malformed_files_are_named);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(kat_runner_suite)
