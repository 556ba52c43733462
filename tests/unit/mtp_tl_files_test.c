#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtp_test.h"
#include "tlengine/tl_files.h"

static struct mtp_error err;

START_TEST(schema_dir)
{
    char buf[4096], want[4096];
    unsetenv("MTPROBE_SCHEMA_DIR");
    unsetenv("MTPROBE_SOURCE_DIR");
    snprintf(want, sizeof want, "%s/vectors/schema", MTPROBE_SOURCE_DIR);
    ck_assert_str_eq(mtp_tl_schema_dir(buf, sizeof buf), want);
    setenv("MTPROBE_SOURCE_DIR", "/src/elsewhere", 1);
    ck_assert_str_eq(mtp_tl_schema_dir(buf, sizeof buf), "/src/elsewhere/vectors/schema");
    setenv("MTPROBE_SCHEMA_DIR", "/schemas", 1);
    ck_assert_str_eq(mtp_tl_schema_dir(buf, sizeof buf), "/schemas");
}
END_TEST

START_TEST(named_schemas)
{
    unsetenv("MTPROBE_SCHEMA_DIR");
    unsetenv("MTPROBE_SOURCE_DIR");
    struct mtp_tl_schema *s;
    ck_assert_ok(mtp_tl_schema_load(NULL, 0, &s, &err));
    ck_assert_uint_eq(mtp_tl_schema_count(s), 59);
    mtp_tl_schema_free(s);
    static const char *const api[] = {"api"};
    ck_assert_ok(mtp_tl_schema_load(api, 1, &s, &err));
    ck_assert_uint_eq(mtp_tl_schema_count(s), 2149);
    ck_assert_str_eq(mtp_tl_find_name(s, "message")->file, "api.tl");
    mtp_tl_schema_free(s);
    /* a path, next to a name */
    const char *both[] = {"mtproto", mtp_test_path("vectors/schema/api.tl")};
    ck_assert_ok(mtp_tl_schema_load(both, 2, &s, &err));
    ck_assert_uint_eq(mtp_tl_schema_count(s), 2149);
    ck_assert_str_eq(mtp_tl_find_name(s, "message")->file, "mtproto.tl");
    mtp_tl_schema_free(s);
    /* a schema directory without the files */
    setenv("MTPROBE_SCHEMA_DIR", "/nonexistent", 1);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tl_schema_load(NULL, 0, &s, &err), MTP_ERR_IO);
    ck_assert_str_eq(err.msg, "/nonexistent/mtproto.tl: No such file or directory");
    /* a file that does not parse */
    char path[] = "/tmp/mtp_tl_files_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "foo x:Bar = Foo;\n", 17), 17);
    close(fd);
    const char *bad[] = {path};
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tl_schema_load(bad, 1, &s, &err), MTP_ERR_SCHEMA_UNKNOWN_TYPE);
    ck_assert_ptr_nonnull(strstr(err.msg, ":1:7: foo: unknown type 'Bar'"));
    unlink(path);
}
END_TEST

static Suite *tl_files_suite(void)
{
    Suite *s = suite_create("tl_files");
    TCase *tc = tcase_create("files");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, schema_dir);
    tcase_add_test(tc, named_schemas);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(tl_files_suite)
