/* The mtprobe binary's dispatcher: help, version, unknown commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp_test.h"

START_TEST(help_lists_every_command)
{
    char *out, *err;
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" --help", NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "usage: mtprobe <command> [options]") != NULL, "%s", out);
    static const char *const cmds[] = {"kat", "shim", "tl", "bench"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char want[32];
        snprintf(want, sizeof want, "\n  %s ", cmds[i]);
        ck_assert_msg(strstr(out, want) != NULL, "'%s' missing from:\n%s", cmds[i], out);
    }
    ck_assert_msg(strstr(out, "exit codes: 0 all passed, 1 a check failed, 2 bad command line") != NULL, "%s", out);
}
END_TEST

START_TEST(no_command_and_unknown_command_are_usage_errors)
{
    char *out, *err;
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\"", NULL, &out, &err), 2);
    ck_assert_msg(strstr(err, "usage: mtprobe") != NULL, "%s", err);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" frobnicate", NULL, &out, &err), 2);
    ck_assert_msg(strstr(err, "mtprobe: unknown command 'frobnicate'") != NULL, "%s", err);
}
END_TEST

START_TEST(version_and_per_command_help)
{
    char *out, *err;
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" --version", NULL, &out, &err), 0);
    ck_assert_msg(strncmp(out, "mtprobe ", 8) == 0, "%s", out);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" kat --help", NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "usage: mtprobe kat") != NULL, "%s", out);
}
END_TEST

static Suite *main_suite(void)
{
    Suite *s = suite_create("main");
    TCase *tc = tcase_create("dispatch");
    tcase_add_test(tc, help_lists_every_command);
    tcase_add_test(tc, no_command_and_unknown_command_are_usage_errors);
    tcase_add_test(tc, version_and_per_command_help);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(main_suite)
