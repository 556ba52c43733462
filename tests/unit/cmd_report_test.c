/* `mtprobe report merge` and `mtprobe report html` end to end. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp_test.h"

static void write_run(const char *dir, const char *name, const char *impl, const char *verdict)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", path);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/%s/report.json", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"tool\":\"mtprobe\",\"version\":\"0.1.0\",\"kind\":\"check-client\",\"command\":\"check client\","
            "\"implementation\":\"%s\",\"started\":\"2026-01-01T00:00:00Z\",\"duration_s\":1.0,"
            "\"areas\":[{\"id\":\"dh\",\"title\":\"DH\"}],\"cases\":[{\"id\":\"c.a\",\"title\":\"a\",\"area\":\"dh\","
            "\"level\":\"MUST\"}],\"results\":[{\"case\":\"c.a\",\"transport\":\"intermediate\",\"verdict\":\"%s\","
            "\"expected\":\"e\",\"observed\":\"o\",\"wire\":[]}],\"summary\":{}}\n",
            impl, verdict);
    fclose(f);
}

START_TEST(merge_writes_three_files)
{
    const char *dir = mtp_test_tmpdir();
    write_run(dir, "one", "impl one", "fail");
    write_run(dir, "two", "impl two", "pass");
    char cmd[2048], *out, *err;
    snprintf(cmd, sizeof cmd,
             "\"$MTPROBE\" report merge first=%s/one %s/two/report.json --out %s/m && test -s %s/m/junit.xml && "
             "grep -c '<testsuite ' %s/m/junit.xml && grep -c 'id=\"mtp-blobs\"' %s/m/index.html",
             dir, dir, dir, dir, dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "merged 2 runs, 2 results (1 pass, 1 fail, 1 MUST failed): ") != NULL, "%s\n%s", out, err);
    ck_assert_msg(strstr(out, "/m/index.html\n2\n1\n") != NULL, "%s", out);
    char path[512];
    snprintf(path, sizeof path, "%s/m/report.json", dir);
    json_error_t je;
    json_t *m = json_load_file(path, 0, &je);
    ck_assert_msg(m != NULL, "%s", je.text);
    json_t *runs = json_object_get(m, "runs");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(runs, 0), "id")), "first");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(runs, 1), "id")), "impl two");
    char src[512];
    snprintf(src, sizeof src, "%s/one", dir);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(runs, 0), "source")), src);
    json_decref(m);
    mtp_test_rmdir(dir);
}
END_TEST

START_TEST(html_renders_next_to_the_report)
{
    const char *dir = mtp_test_tmpdir();
    write_run(dir, "one", "impl", "pass");
    char cmd[1024], *out, *err;
    snprintf(cmd, sizeof cmd, "\"$MTPROBE\" report html %s/one/report.json && test -s %s/one/index.html && "
             "cp %s/one/report.json %s/one/kat.json && \"$MTPROBE\" report html %s/one/kat.json --plain-blobs && "
             "grep -c '\"encoding\":\"json\"' %s/one/kat.html", dir, dir, dir, dir, dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "/one/index.html\n") != NULL && strstr(out, "/one/kat.html\n1\n") != NULL, "%s\n%s", out,
                  err);
    mtp_test_rmdir(dir);
}
END_TEST

START_TEST(usage_and_errors)
{
    char *out, *err;
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" report", NULL, &out, &err), 2);
    ck_assert_msg(strstr(err, "which: merge or html?") != NULL, "%s", err);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" report merge /tmp", NULL, &out, &err), 2);
    ck_assert_msg(strstr(err, "merge wants --out DIR") != NULL, "%s", err);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" report html a b", NULL, &out, &err), 2);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" report html x --body-cap 1k", NULL, &out, &err), 2);
    ck_assert_msg(strstr(err, "--body-cap wants a byte count, got '1k'") != NULL, "%s", err);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" report merge /no/such --out /tmp/x", NULL, &out, &err), 3);
    ck_assert_msg(strstr(err, "mtprobe report: /no/such: No such file or directory") != NULL, "%s", err);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" report frobnicate", NULL, &out, &err), 2);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" report --help", NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "mtprobe report merge [LABEL=]RUN... --out DIR") != NULL, "%s", out);
}
END_TEST

static Suite *cmd_report_suite(void)
{
    Suite *s = suite_create("cmd_report");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, merge_writes_three_files);
    tcase_add_test(tc, html_renders_next_to_the_report);
    tcase_add_test(tc, usage_and_errors);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(cmd_report_suite)
