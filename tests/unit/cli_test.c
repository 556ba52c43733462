/* harness/cli/cli.c: the shared usage-error path every subcommand uses. */
#include <string.h>

#include "mtp_test.h"

START_TEST(usage_error_names_command_and_points_to_help)
{
    char *out, *err;
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" kat --timeout 0", NULL, &out, &err), 2);
    ck_assert_str_eq(err, "mtprobe kat: --timeout wants seconds in (0, 3600], got '0'\n(see 'mtprobe kat --help')\n");
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" shim --bogus", NULL, &out, &err), 2);
    ck_assert_str_eq(err, "mtprobe shim: unknown argument '--bogus'\n(see 'mtprobe shim --help')\n");
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("usage");
    tcase_add_test(tc, usage_error_names_command_and_points_to_help);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(cli_suite)
