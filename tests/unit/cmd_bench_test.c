/* `mtprobe bench`: groups, selection and the JSON it writes (not the figures: speed is never a test). */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mtp_test.h"

START_TEST(lists_and_rejects_unknown_groups)
{
    char *out, *err;
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" bench --list", NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "crypto\n") != NULL && strstr(out, "transport\n") != NULL && strstr(out, "tl\n") != NULL,
                  "%s", out);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" bench --only nope", NULL, &out, &err), 2);
    ck_assert_msg(strstr(err, "no benchmark group 'nope'") != NULL, "%s", err);
}
END_TEST

START_TEST(writes_records_with_ceiling_and_ratio)
{
    const char *dir = mtp_test_tmpdir();
    char cmd[512], *out, *err;
    snprintf(cmd, sizeof cmd, "\"$MTPROBE\" bench --only transport --seconds 0.02 --out %s/sub/bench.json", dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/sub/bench.json", dir);
    json_error_t jerr;
    json_t *list = json_load_file(path, 0, &jerr);
    ck_assert_msg(list != NULL, "%s", jerr.text);
    ck_assert(json_array_size(list) > 0);
    size_t i;
    json_t *r;
    bool with_ceiling = false;
    json_array_foreach(list, i, r)
    {
        ck_assert(json_is_string(json_object_get(r, "name")));
        ck_assert(json_is_number(json_object_get(r, "value")));
        ck_assert(json_is_string(json_object_get(r, "unit")));
        json_t *c = json_object_get(r, "ceiling"), *ratio = json_object_get(r, "ratio");
        if (json_is_number(c)) {
            with_ceiling = true;
            ck_assert(json_number_value(ratio) > 0);
            double want = json_number_value(json_object_get(r, "value")) / json_number_value(c);
            ck_assert(json_number_value(ratio) > want * 0.999 && json_number_value(ratio) < want * 1.001);
        } else {
            ck_assert(json_is_null(ratio));
        }
    }
    ck_assert(with_ceiling);
    json_decref(list);
    mtp_test_rmdir(dir);
}
END_TEST

static Suite *cmd_bench_suite(void)
{
    Suite *s = suite_create("cmd_bench");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, lists_and_rejects_unknown_groups);
    tcase_add_test(tc, writes_records_with_ceiling_and_ratio);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(cmd_bench_suite)
