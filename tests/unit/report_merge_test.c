/* Merging runs: labels, unique column ids, cases and areas united, counts redone. */
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

static json_t *run_report(const char *impl, const char *verdict_a, const char *verdict_b)
{
    json_t *r = mtp_report_new("check client", impl);
    extend_new(json_object_get(r, "areas"),
                      json_pack("[{s:s, s:s}, {s:s, s:s}]", "id", "dh", "title", "DH", "id", "session", "title", "S"));
    extend_new(json_object_get(r, "cases"),
                      json_pack("[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}]", "id", "c.a", "title", "a", "area", "dh",
                                "level", "MUST", "id", "c.b", "title", "b", "area", "session", "level", "MAY"));
    extend_new(json_object_get(r, "results"),
                      json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}]", "case", "c.a", "transport", "intermediate",
                                "verdict", verdict_a, "case", "c.b", "transport", "intermediate", "verdict", verdict_b));
    json_object_set_new(r, "duration_s", json_real(2.5));
    char why[256];
    ck_assert_int_eq(mtp_report_finish(r, why, sizeof why), 0);
    return r;
}

START_TEST(merges_runs_into_one_matrix)
{
    json_t *in[3] = {run_report("Telethon", "fail", "pass"), run_report("Telethon", "pass", "pass"),
                     run_report("/x/gramjs_adapter.js --a", "crash", "hang")};
    /* A third run with a case the others lack. */
    json_array_append_new(json_object_get(in[2], "cases"),
                          json_pack("{s:s, s:s, s:s}", "id", "c.new", "title", "n", "area", "transport"));
    json_array_append_new(json_object_get(in[2], "areas"), json_pack("{s:s, s:s}", "id", "transport", "title", "T"));
    json_array_append_new(json_object_get(in[2], "results"),
                          json_pack("{s:s, s:s, s:s}", "case", "c.new", "run", "gramjs", "verdict", "pass"));
    const char *labels[3] = {NULL, NULL, "GramJS"};
    char why[256];
    json_t *m = mtp_report_merge(in, labels, 3, why, sizeof why);
    ck_assert_msg(m != NULL, "%s", why);
    ck_assert_str_eq(json_string_value(json_object_get(m, "kind")), "check-client");
    ck_assert_str_eq(json_string_value(json_object_get(m, "command")), "report merge");
    json_t *runs = json_object_get(m, "runs");
    ck_assert_uint_eq(json_array_size(runs), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(runs, 0), "id")), "Telethon");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(runs, 1), "id")), "Telethon (2)");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(runs, 2), "id")), "GramJS");
    ck_assert_str_eq(json_string_value(json_object_get(m, "implementation")),
                     "Telethon, Telethon, /x/gramjs_adapter.js --a");
    ck_assert(json_real_value(json_object_get(m, "duration_s")) == 7.5);
    json_t *res = json_object_get(m, "results");
    ck_assert_uint_eq(json_array_size(res), 7);
    static const char *const want_runs[] = {"Telethon", "Telethon", "Telethon (2)", "Telethon (2)",
                                            "GramJS",   "GramJS",   "GramJS"};
    for (size_t i = 0; i < 7; i++)
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(res, i), "run")), want_runs[i]);
    json_t *cases = json_object_get(m, "cases"), *areas = json_object_get(m, "areas");
    ck_assert_uint_eq(json_array_size(cases), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(cases, 2), "id")), "c.new");
    ck_assert_uint_eq(json_array_size(areas), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(areas, 2), "id")), "transport");
    json_t *s = json_object_get(m, "summary");
    ck_assert_int_eq(json_integer_value(json_object_get(s, "total")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "pass")), 4);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "fail")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "crash")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "hang")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(s, "must_failed")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_array_get(runs, 2), "summary"), "total")), 3);
    /* The inputs are untouched. */
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(in[1], "results"), 0), "run")),
                     "Telethon");
    json_decref(m);
    for (size_t i = 0; i < 3; i++)
        json_decref(in[i]);
}
END_TEST

START_TEST(refuses_mixed_kinds)
{
    json_t *in[2] = {run_report("a", "pass", "pass"), mtp_report_new("kat", "b")};
    char why[256];
    ck_assert_int_eq(mtp_report_finish(in[1], why, sizeof why), 0);
    ck_assert_ptr_null(mtp_report_merge(in, NULL, 2, why, sizeof why));
    ck_assert_str_eq(why, "cannot merge reports of different kinds (check-client and kat)");
    ck_assert_ptr_null(mtp_report_merge(in, NULL, 0, why, sizeof why));
    ck_assert_str_eq(why, "nothing to merge");
    json_decref(in[0]);
    json_decref(in[1]);
}
END_TEST

static Suite *report_merge_suite(void)
{
    Suite *s = suite_create("report_merge");
    TCase *tc = tcase_create("merge");
    tcase_add_test(tc, merges_runs_into_one_matrix);
    tcase_add_test(tc, refuses_mixed_kinds);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(report_merge_suite)
