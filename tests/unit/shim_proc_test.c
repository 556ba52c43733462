#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kat/shim_proc.h"
#include "shim/shim.h"
#include "mtp_test.h"

static json_t *req(int id) { return json_pack("{s:i, s:s}", "id", id, "op", "hello"); }

START_TEST(talks_to_the_reference_shim)
{
    char why[512] = "";
    struct shim_proc *p = shim_proc_start(MTPROBE_BINARY " shim", 5000, why, sizeof why);
    ck_assert_msg(p != NULL, "%s", why);
    for (int i = 1; i <= 3; i++) {
        json_t *r = req(i);
        json_t *a = shim_proc_call(p, r, why, sizeof why);
        ck_assert_msg(a != NULL, "%s", why);
        ck_assert_int_eq(json_integer_value(json_object_get(a, "id")), i);
        ck_assert(json_is_true(json_object_get(a, "ok")));
        ck_assert_int_eq(json_integer_value(json_object_get(a, "protocol")), MTP_SHIM_PROTOCOL_VERSION);
        json_decref(a);
        json_decref(r);
    }
    json_t *bad = json_pack("{s:i, s:s}", "id", 9, "op", "no_such_op");
    json_t *a = shim_proc_call(p, bad, why, sizeof why);
    ck_assert_ptr_nonnull(a);
    ck_assert(json_is_false(json_object_get(a, "ok")));
    ck_assert_str_eq(json_string_value(json_object_get(a, "error")), "unsupported");
    json_decref(a);
    json_decref(bad);
    ck_assert_int_eq(shim_proc_stop(p), 0);
    shim_proc_free(p);
}
END_TEST

START_TEST(reports_a_crash_with_status_and_stderr)
{
    char why[512] = "";
    struct shim_proc *p = shim_proc_start("read line; echo 'boom: bad key' >&2; exit 7", 5000, why, sizeof why);
    ck_assert_ptr_nonnull(p);
    json_t *r = req(1);
    ck_assert_ptr_null(shim_proc_call(p, r, why, sizeof why));
    ck_assert_msg(strstr(why, "exited or closed stdout") != NULL, "%s", why);
    ck_assert_msg(strstr(why, "exit status 7") != NULL, "%s", why);
    ck_assert_msg(strstr(why, "boom: bad key") != NULL, "%s", why);
    json_decref(r);
    shim_proc_free(p);
}
END_TEST

START_TEST(reports_a_hang_and_restarts)
{
    char why[512] = "";
    /* Hangs on the first request only: the second process instance answers. */
    char dir[] = "/tmp/mtprobe-shim-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "if [ -e %s/mark ]; then read l; echo '{\"id\":2,\"ok\":true}'; else : > %s/mark; exec sleep 30; fi", dir,
             dir);
    struct shim_proc *p = shim_proc_start(cmd, 300, why, sizeof why);
    ck_assert_ptr_nonnull(p);
    json_t *r1 = req(1), *r2 = req(2);
    ck_assert_ptr_null(shim_proc_call(p, r1, why, sizeof why));
    ck_assert_msg(strstr(why, "did not answer within 300 ms") != NULL, "%s", why);
    json_t *a = shim_proc_call(p, r2, why, sizeof why);
    ck_assert_msg(a != NULL, "%s", why);
    ck_assert(json_is_true(json_object_get(a, "ok")));
    json_decref(a);
    json_decref(r1);
    json_decref(r2);
    shim_proc_free(p);
    snprintf(cmd, sizeof cmd, "%s/mark", dir);
    remove(cmd);
    rmdir(dir);
}
END_TEST

START_TEST(rejects_wrong_id_and_non_json)
{
    char why[512] = "";
    struct shim_proc *p = shim_proc_start("read l; echo '{\"id\":42,\"ok\":true}'", 2000, why, sizeof why);
    json_t *r = req(1);
    ck_assert_ptr_null(shim_proc_call(p, r, why, sizeof why));
    ck_assert_msg(strstr(why, "without the request's id") != NULL, "%s", why);
    shim_proc_free(p);
    p = shim_proc_start("read l; echo 'hello there'", 2000, why, sizeof why);
    ck_assert_ptr_null(shim_proc_call(p, r, why, sizeof why));
    ck_assert_msg(strstr(why, "not JSON") != NULL, "%s", why);
    shim_proc_free(p);
    p = shim_proc_start("read l; echo '{\"id\":1}'", 2000, why, sizeof why);
    ck_assert_ptr_null(shim_proc_call(p, r, why, sizeof why));
    ck_assert_msg(strstr(why, "boolean") != NULL, "%s", why);
    shim_proc_free(p);
    json_decref(r);
}
END_TEST

START_TEST(nonzero_exit_at_end_is_reported)
{
    char why[512] = "";
    struct shim_proc *p = shim_proc_start("while read l; do echo '{\"id\":1,\"ok\":true}'; done; exit 4", 2000, why,
                                          sizeof why);
    json_t *r = req(1);
    json_t *a = shim_proc_call(p, r, why, sizeof why);
    ck_assert_ptr_nonnull(a);
    json_decref(a);
    json_decref(r);
    ck_assert_int_eq(shim_proc_stop(p), 4);
    shim_proc_free(p);
}
END_TEST

static Suite *shim_proc_suite(void)
{
    Suite *s = suite_create("shim_proc");
    TCase *tc = tcase_create("process");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, talks_to_the_reference_shim);
    tcase_add_test(tc, reports_a_crash_with_status_and_stderr);
    tcase_add_test(tc, reports_a_hang_and_restarts);
    tcase_add_test(tc, rejects_wrong_id_and_non_json);
    tcase_add_test(tc, nonzero_exit_at_end_is_reported);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(shim_proc_suite)
