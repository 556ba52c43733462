/* The report model: verdicts, finishing (runs and counts), labels, loading
 * (including reports written before the model), and the file helpers. */
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

START_TEST(verdicts_by_severity)
{
    static const char *const names[] = {"pass", "acceptable", "wrong-error", "xfail", "unsupported", "error",
                                        "xpass", "fail", "hang", "crash"};
    ck_assert_int_eq(MTP_V_COUNT, sizeof names / sizeof names[0]);
    for (int v = 0; v < MTP_V_COUNT; v++) {
        ck_assert_str_eq(mtp_verdict_name((enum mtp_verdict)v), names[v]);
        ck_assert_int_eq(mtp_verdict_parse(names[v]), v);
    }
    ck_assert_int_eq(mtp_verdict_parse("passed"), MTP_V_ERROR);
    ck_assert_int_eq(mtp_verdict_parse(NULL), MTP_V_ERROR);
    ck_assert(mtp_verdict_bad(MTP_V_FAIL) && mtp_verdict_bad(MTP_V_CRASH) && mtp_verdict_bad(MTP_V_HANG) &&
              mtp_verdict_bad(MTP_V_XPASS));
    ck_assert(!mtp_verdict_bad(MTP_V_PASS) && !mtp_verdict_bad(MTP_V_XFAIL) && !mtp_verdict_bad(MTP_V_ERROR) &&
              !mtp_verdict_bad(MTP_V_UNSUPPORTED) && !mtp_verdict_bad(MTP_V_ACCEPTABLE));
    /* A wrong error name is reported, not failed (kat --strict turns it into fail itself). */
    ck_assert(!mtp_verdict_bad(MTP_V_WRONG_ERROR));
    ck_assert(MTP_V_WRONG_ERROR > MTP_V_ACCEPTABLE && MTP_V_WRONG_ERROR < MTP_V_XFAIL);
}
END_TEST

START_TEST(run_labels)
{
    static const char *const cases[][2] = {
        {"Telethon 1.25.1", "Telethon 1.25.1"},
        {"/usr/bin/python3 /x/harness/adapters/telethon_adapter.py --connect {host}:{port}", "telethon"},
        {"/w/build/mtprobe client --server {host}:{port} --rsa-pub {rsa_pub}", "mtprobe"},
        {"env NODE_PATH=/n node /x/gramjs_adapter.js --connect {host}", "gramjs"},
        {"/opt/py/bin/python3.11 -u tdlib_client.py", "tdlib"},
        {"", "implementation"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *l = mtp_report_run_label(cases[i][0]);
        ck_assert_msg(strcmp(l, cases[i][1]) == 0, "%s -> %s, want %s", cases[i][0], l, cases[i][1]);
        free(l);
    }
}
END_TEST

/* Appends the items of a new array and releases it (json_array_extend keeps its reference). */
static void extend_new(json_t *arr, json_t *items)
{
    ck_assert_ptr_nonnull(items);
    ck_assert_int_eq(json_array_extend(arr, items), 0);
    json_decref(items);
}

static json_t *sample(void)
{
    json_t *r = mtp_report_new("check client", "/usr/bin/python3 a/telethon_adapter.py --x {host}");
    json_object_set_new(r, "options", json_pack("{s:[s,s], s:i}", "transports", "intermediate", "full", "seed", 7));
    extend_new(json_object_get(r, "cases"),
                      json_pack("[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}]", "id", "c.must",
                                "title", "t1", "area", "dh", "level", "MUST", "id", "c.should", "title", "t2", "area",
                                "dh", "level", "SHOULD", "id", "c.may", "title", "t3", "area", "session", "level", "MAY"));
    extend_new(json_object_get(r, "results"),
                      json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s, s:s},"
                                " {s:s, s:s, s:s}, {s:s, s:s}]",
                                "case", "c.must", "transport", "intermediate", "verdict", "fail",       //
                                "case", "c.must", "transport", "full", "verdict", "crash",              //
                                "case", "c.should", "transport", "intermediate", "verdict", "xpass",    //
                                "case", "c.should", "transport", "full", "verdict", "hang", "level", "MUST",
                                "case", "c.may", "transport", "intermediate", "verdict", "fail",        //
                                "case", "c.may", "transport", "full"));
    return r;
}

START_TEST(finish_derives_runs_and_counts)
{
    json_t *r = sample();
    ck_assert_str_eq(json_string_value(json_object_get(r, "kind")), "check-client");
    ck_assert_str_eq(json_string_value(json_object_get(r, "report_format")), MTP_REPORT_FORMAT);
    json_object_set_new(json_object_get(r, "summary"), "files", json_integer(3)); /* a producer's own key */
    char why[256];
    ck_assert_int_eq(mtp_report_finish(r, why, sizeof why), 0);
    json_t *runs = json_object_get(r, "runs");
    ck_assert_uint_eq(json_array_size(runs), 1);
    json_t *run = json_array_get(runs, 0);
    ck_assert_str_eq(json_string_value(json_object_get(run, "id")), "telethon");
    ck_assert_str_eq(json_string_value(json_object_get(run, "kind")), "check-client");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(run, "transports"), 1)), "full");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(run, "options"), "seed")), 7);
    size_t i;
    json_t *res;
    json_array_foreach(json_object_get(r, "results"), i, res)
    {
        ck_assert_str_eq(json_string_value(json_object_get(res, "run")), "telethon");
        ck_assert_int_eq(json_integer_value(json_object_get(res, "repeat")), 0);
    }
    /* The last result had no verdict: it counts as an error, never as a pass. */
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(r, "results"), 5), "verdict")),
                     "error");
    json_t *s = json_object_get(r, "summary");
    ck_assert_int_eq(json_integer_value(json_object_get(s, "total")), 6);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "fail")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "crash")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "hang")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "xpass")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "error")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "pass")), 0);
    /* MUST: c.must twice, and c.should's hang whose result says MUST; SHOULD: c.should's xpass. */
    ck_assert_int_eq(json_integer_value(json_object_get(s, "must_failed")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "should_failed")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "files")), 3);
    json_t *want = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "total", 6, "pass",
                             0, "acceptable", 0, "wrong-error", 0, "xfail", 0, "unsupported", 0, "error", 1, "xpass", 1, "fail", 2, "hang", 1,
                             "crash", 1, "must_failed", 3, "should_failed", 1);
    ck_assert(json_equal(json_object_get(run, "summary"), want));
    json_decref(want);
    /* Finishing twice changes nothing. */
    json_t *copy = json_deep_copy(r);
    ck_assert_int_eq(mtp_report_finish(r, why, sizeof why), 0);
    ck_assert(json_equal(copy, r));
    json_decref(copy);
    json_decref(r);
}
END_TEST

START_TEST(finish_refuses_what_is_not_a_report)
{
    char why[256];
    json_t *r = json_pack("{s:s}", "tool", "other");
    ck_assert_int_eq(mtp_report_finish(r, why, sizeof why), -1);
    ck_assert_str_eq(why, "not an mtprobe report (no \"tool\": \"mtprobe\")");
    json_decref(r);
    r = json_pack("{s:s, s:s}", "tool", "mtprobe", "report_format", "mtprobe-report/9");
    ck_assert_int_eq(mtp_report_finish(r, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "report_format \"mtprobe-report/9\" is not the one") != NULL, "%s", why);
    json_decref(r);
    r = json_pack("{s:s, s:[{s:s}]}", "tool", "mtprobe", "results", "verdict", "pass");
    ck_assert_int_eq(mtp_report_finish(r, why, sizeof why), -1);
    ck_assert_str_eq(why, "results[0] has no \"case\"");
    json_decref(r);
    /* Two runs: every result must say which. */
    r = json_pack("{s:s, s:[{s:s}, {s:s}], s:[{s:s}]}", "tool", "mtprobe", "runs", "id", "a", "id", "b", "results",
                  "case", "x");
    ck_assert_int_eq(mtp_report_finish(r, why, sizeof why), -1);
    ck_assert_str_eq(why, "results[0] names no run, and the report has 2");
    json_decref(r);
}
END_TEST

static void write_text(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(s, f);
    fclose(f);
}

START_TEST(load_upgrades_a_legacy_kat_report)
{
    const char *dir = mtp_test_tmpdir();
    char path[512], why[256];
    snprintf(path, sizeof path, "%s/kat.json", dir);
    write_text(path, "{\"tool\":\"mtprobe\",\"version\":\"0.1.0\",\"command\":\"kat\",\"implementation\":\"shim x\","
                     "\"started\":\"2026-01-01T00:00:00Z\",\"summary\":{\"total\":2,\"passed\":1,\"failed\":1},"
                     "\"suites\":[{\"name\":\"aes_ige/a\",\"title\":\"A\",\"source\":\"s\",\"cases\":["
                     "{\"id\":\"aes_ige/a#1\",\"name\":\"one\",\"status\":\"pass\"},"
                     "{\"id\":\"aes_ige/a#2\",\"name\":\"\",\"status\":\"fail\",\"message\":\"m\",\"expected\":{\"o\":1},"
                     "\"observed\":{\"o\":2}}]}]}");
    json_t *r = mtp_report_load(dir, why, sizeof why); /* a run directory finds its kat.json */
    ck_assert_msg(r != NULL, "%s", why);
    ck_assert_str_eq(json_string_value(json_object_get(r, "kind")), "kat");
    json_t *c = json_array_get(json_object_get(r, "cases"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(c, "title")), "aes_ige/a#2");
    ck_assert_str_eq(json_string_value(json_object_get(c, "area")), "aes_ige");
    ck_assert_str_eq(json_string_value(json_object_get(c, "group")), "aes_ige/a");
    json_t *res = json_array_get(json_object_get(r, "results"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(res, "verdict")), "fail");
    ck_assert_str_eq(json_string_value(json_object_get(res, "message")), "m");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(res, "observed"), "o")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(res, "run")), "shim x");
    ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(r, "suites"), 0), "cases"));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "summary"), "fail")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "summary"), "pass")), 1);
    json_decref(r);

    ck_assert_ptr_null(mtp_report_load("/no/such/dir", why, sizeof why));
    ck_assert_str_eq(why, "/no/such/dir: No such file or directory");
    snprintf(path, sizeof path, "%s/sub", dir);
    ck_assert_int_eq(mtp_report_mkdirs(path), 0);
    ck_assert_ptr_null(mtp_report_load(path, why, sizeof why));
    ck_assert_msg(strstr(why, "holds no report.json, kat.json or fuzz.json") != NULL, "%s", why);
    snprintf(path, sizeof path, "%s/sub/report.json", dir);
    write_text(path, "{\"tool\":\"mtprobe\",");
    ck_assert_ptr_null(mtp_report_load(path, why, sizeof why));
    ck_assert_msg(strstr(why, "report.json:1:") != NULL, "%s", why);
    mtp_test_rmdir(dir);
}
END_TEST

START_TEST(write_all_writes_three_files)
{
    json_t *r = sample();
    char why[256];
    ck_assert_int_eq(mtp_report_finish(r, why, sizeof why), 0);
    const char *dir = mtp_test_tmpdir();
    char sub[512], path[600];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    ck_assert_int_eq(mtp_report_write_all(r, sub, NULL, why, sizeof why), 0);
    static const char *const names[] = {"report.json", "junit.xml", "index.html"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", sub, names[i]);
        ck_assert_msg(access(path, R_OK) == 0, "%s missing", path);
    }
    snprintf(path, sizeof path, "%s/report.json", sub);
    json_error_t je;
    json_t *back = json_load_file(path, 0, &je);
    ck_assert_msg(back != NULL, "%s", je.text);
    ck_assert(json_equal(back, r));
    json_decref(back);
    ck_assert_int_eq(mtp_report_write_all(r, sub, "kat", why, sizeof why), 0);
    snprintf(path, sizeof path, "%s/kat.html", sub);
    ck_assert_int_eq(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/kat.junit.xml", sub);
    ck_assert_int_eq(access(path, R_OK), 0);
    json_decref(r);
    mtp_test_rmdir(dir);
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
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, xml_escape);
    tcase_add_test(tc, verdicts_by_severity);
    tcase_add_test(tc, run_labels);
    tcase_add_test(tc, finish_derives_runs_and_counts);
    tcase_add_test(tc, finish_refuses_what_is_not_a_report);
    tcase_add_test(tc, load_upgrades_a_legacy_kat_report);
    tcase_add_test(tc, write_all_writes_three_files);
    tcase_add_test(tc, unwritable_dir_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(report_suite)
