#include <string.h>

#include "mtp_test.h"
#include "mtps_util.h"

START_TEST(host_and_port)
{
    char host[64];
    uint16_t port;
    ck_assert_ok(mtps_parse_hostport("127.0.0.1:443", host, sizeof host, &port, NULL));
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_uint_eq(port, 443);
    ck_assert_ok(mtps_parse_hostport("[::1]:0", host, sizeof host, &port, NULL));
    ck_assert_str_eq(host, "::1");
    ck_assert_uint_eq(port, 0);
    ck_assert_ok(mtps_parse_hostport("localhost:65535", host, sizeof host, &port, NULL));
    ck_assert_uint_eq(port, 65535);
    static const char *bad[] = {"127.0.0.1", ":443", "h:", "h:65536", "h:-1", "h:12x", "[]:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct mtp_error err;
        mtp_error_clear(&err);
        ck_assert_rc(mtps_parse_hostport(bad[i], host, sizeof host, &port, &err), MTP_ERR_ARG);
    }
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtps_parse_hostport("h:99999", host, sizeof host, &port, &err), MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "'h:99999': bad port");
}
END_TEST

START_TEST(files)
{
    size_t n;
    struct mtp_error err;
    mtp_error_clear(&err);
    char *t = mtps_read_file(mtp_test_path("mock-server/templates/help.getNearestDc.json"), 1u << 20, &n, &err);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(strlen(t), n);
    ck_assert_ptr_nonnull(strstr(t, "nearestDc"));
    free(t);
    ck_assert_ptr_null(mtps_read_file(mtp_test_path("mock-server/templates/help.getNearestDc.json"), 8, &n, &err));
    ck_assert_int_eq(err.code, MTP_ERR_LIMIT);
    mtp_error_clear(&err);
    ck_assert_ptr_null(mtps_read_file("/nonexistent/x", 8, &n, &err));
    ck_assert_int_eq(err.code, MTP_ERR_IO);
    ck_assert_str_eq(err.msg, "/nonexistent/x: No such file or directory");
    ck_assert_ptr_nonnull(mtps_source_dir());
}
END_TEST

Suite *mtps_util_suite(void);
Suite *mtps_util_suite(void)
{
    Suite *s = suite_create("mtps_util");
    TCase *tc = tcase_create("util");
    tcase_add_test(tc, host_and_port);
    tcase_add_test(tc, files);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_util_suite)
