/* `mtprobe kat` end to end: exit codes, the summary, the failure details and the reports. */
#include <stdio.h>
#include <string.h>

#include "mtp_test.h"

/* OpenSSL test/igetest.c, ige_test_vectors[0] (AES-128 IGE, Ben Laurie). */
#define IGE_KEY "000102030405060708090a0b0c0d0e0f"
#define IGE_IV "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define IGE_IN "0000000000000000000000000000000000000000000000000000000000000000"
#define IGE_OUT "1a8519a6557be652e9da8e43da4ef4453cf456b4ca488aa383c79c98b34797cb"

static void write_vectors(const char *dir, const char *name, bool with_wrong)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"format\":\"mtprobe-vectors/1\",\"source\":\"OpenSSL test/igetest.c\",\"testGroups\":[{\"op\":"
            "\"aes_ige_encrypt\",\"args\":{\"key\":\"" IGE_KEY "\",\"iv\":\"" IGE_IV "\"},\"tests\":["
            "{\"tcId\":1,\"comment\":\"published\",\"flags\":[],\"result\":\"valid\",\"args\":{\"data\":\"" IGE_IN
            "\"},\"expect\":{\"out\":\"" IGE_OUT "\"}},"
            "{\"tcId\":2,\"comment\":\"15 bytes\",\"flags\":[],\"result\":\"invalid\",\"args\":{\"data\":\"000000000000000000000000000000\"},"
            "\"expect\":{\"error\":\"bad_argument\"}}%s]}]}\n",
            with_wrong ? ",{\"tcId\":3,\"comment\":\"wrong on purpose\",\"flags\":[],\"result\":\"valid\","
                         "\"args\":{\"data\":\"" IGE_IN "\"},\"expect\":{\"out\":\"00\"}}"
                       : "");
    fclose(f);
}

START_TEST(all_pass_exits_zero_and_writes_reports)
{
    const char *dir = mtp_test_tmpdir();
    write_vectors(dir, "ige.json", false);
    char cmd[1024], *out, *err;
    snprintf(cmd, sizeof cmd,
             "\"$MTPROBE\" kat --vectors %s --report-dir %s/r && test -s %s/r/kat.json && test -s %s/r/kat.junit.xml && test -s %s/r/kat.html",
             dir, dir, dir, dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "  ige ") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "total: 1 files, 2 vectors: 2 passed, 0 unsupported, 0 failed") != NULL, "%s", out);
    mtp_test_rmdir(dir);
}
END_TEST

START_TEST(a_wrong_answer_exits_one_with_details)
{
    const char *dir = mtp_test_tmpdir();
    write_vectors(dir, "ige.json", true);
    char cmd[1024], *out, *err;
    snprintf(cmd, sizeof cmd, "\"$MTPROBE\" kat --vectors %s --report-dir %s/r; echo \"rc=$?\"; cat %s/r/kat.junit.xml",
             dir, dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "rc=1") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "FAIL ige#2") == NULL, "%s", out);
    ck_assert_msg(strstr(out, "FAIL ige#3 (aes_ige_encrypt: wrong on purpose): field \"out\": expected \"00\", got \"" IGE_OUT
                              "\"") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "sent:") != NULL && strstr(out, "expected:") != NULL && strstr(out, "got:") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "<testsuite name=\"mtprobe reference implementation ige\" tests=\"3\" failures=\"1\" "
                              "errors=\"0\" skipped=\"0\"") != NULL,
                  "%s", out);
    mtp_test_rmdir(dir);
}
END_TEST

START_TEST(shim_failures_and_unsupported)
{
    const char *dir = mtp_test_tmpdir();
    write_vectors(dir, "ige.json", false);
    char cmd[1024], *out, *err;
    /* A shim that supports nothing: every vector unsupported, the run passes. */
    snprintf(cmd, sizeof cmd,
             "\"$MTPROBE\" kat --vectors %s --report-dir %s/r --shim 'while read l; do id=$(echo \"$l\" | sed "
             "\"s/.*\\\"id\\\":\\([0-9]*\\).*/\\1/\"); echo \"{\\\"id\\\":$id,\\\"ok\\\":false,\\\"error\\\":\\\"unsupported\\\"}\"; done'",
             dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "total: 1 files, 2 vectors: 0 passed, 2 unsupported, 0 failed") != NULL, "%s\n%s", out,
                  err);
    /* A shim that dies on its first request fails the run, naming the vector. */
    snprintf(cmd, sizeof cmd, "\"$MTPROBE\" kat --vectors %s --report-dir %s/r --shim 'read l; echo oops >&2; exit 9'",
             dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 1);
    ck_assert_msg(strstr(out, "FAIL ige#1 (aes_ige_encrypt: published): the shim exited or closed stdout without "
                              "answering (shim exit status 9); shim stderr: oops") != NULL,
                  "%s", out);
    /* A shim that hangs is cut off by --timeout. */
    snprintf(cmd, sizeof cmd, "\"$MTPROBE\" kat --vectors %s --report-dir %s/r --timeout 0.3 --shim 'exec sleep 20'",
             dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 1);
    ck_assert_msg(strstr(out, "did not answer within 300 ms") != NULL, "%s", out);
    mtp_test_rmdir(dir);
}
END_TEST

START_TEST(unusable_input_exits_three)
{
    const char *dir = mtp_test_tmpdir();
    char cmd[1024], *out, *err;
    snprintf(cmd, sizeof cmd, "\"$MTPROBE\" kat --vectors %s/none --report-dir %s/r", dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 3);
    ck_assert_msg(strstr(out, "/none: No such file or directory") != NULL, "%s", out);
    snprintf(cmd, sizeof cmd, "\"$MTPROBE\" kat --vectors %s --report-dir %s/r", dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 3);
    ck_assert_msg(strstr(err, "no vectors found") != NULL, "%s", err);
    snprintf(cmd, sizeof cmd, "echo '{\"format\":\"mtprobe-vectors/1\"' > %s/bad.json; \"$MTPROBE\" kat --vectors %s --report-dir %s/r",
             dir, dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 3);
    ck_assert_msg(strstr(out, "bad.json:2:0: not valid JSON") != NULL, "%s", out);
    write_vectors(dir, "ige.json", false);
    snprintf(cmd, sizeof cmd, "rm %s/bad.json; \"$MTPROBE\" kat --vectors %s --report-dir /proc/nope", dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 3);
    ck_assert_msg(strstr(err, "cannot create report directory /proc/nope") != NULL, "%s", err);
    mtp_test_rmdir(dir);
}
END_TEST

/* A rejection under another name: a wrong-error note (exit 0), a failure under --strict, a pass through an
 * error map; a map that cannot be read stops the run. */
START_TEST(wrong_errors_strict_and_error_maps)
{
    const char *dir = mtp_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/v.json", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"format\":\"mtprobe-vectors/1\",\"source\":\"unit test\",\"testGroups\":[{\"op\":"
               "\"aes_ige_encrypt\",\"args\":{\"key\":\"" IGE_KEY "\",\"iv\":\"" IGE_IV "\"},\"tests\":["
               "{\"tcId\":1,\"comment\":\"15 bytes\",\"result\":\"invalid\",\"args\":{\"data\":"
               "\"000000000000000000000000000000\"},\"expect\":{\"error\":\"not-a-multiple\"}}]}]}\n");
    fclose(f);
    snprintf(path, sizeof path, "%s/map.json", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"ops\":{\"aes_ige_encrypt\":{\"bad_argument\":\"not-a-multiple\"}}}\n");
    fclose(f);
    char cmd[1024], *out, *err;
    snprintf(cmd, sizeof cmd, "\"$MTPROBE\" kat --vectors %s/v.json --report-dir %s/r", dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "wrong-error v#1 (aes_ige_encrypt: 15 bytes): expected error \"not-a-multiple\", got "
                              "\"bad_argument\"") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "total: 1 files, 1 vectors: 0 passed, 1 wrong-error, 0 unsupported, 0 failed") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "--error-map FILE says which of ours each of its names is") != NULL, "%s", out);
    snprintf(cmd, sizeof cmd, "\"$MTPROBE\" kat --strict --vectors %s/v.json --report-dir %s/r", dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 1);
    ck_assert_msg(strstr(out, "FAIL v#1 (aes_ige_encrypt: 15 bytes): wrong error (a failure under --strict)") != NULL,
                  "%s", out);
    snprintf(cmd, sizeof cmd, "\"$MTPROBE\" kat --strict --error-map %s/map.json --vectors %s/v.json --report-dir %s/r "
                              "-v && grep -c '\"error_map\"' %s/r/kat.json",
             dir, dir, dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "1 vectors: 1 passed") != NULL, "%s", out);
    snprintf(cmd, sizeof cmd, "echo '{\"errs\":{}}' > %s/bad.json; \"$MTPROBE\" kat --error-map %s/bad.json --vectors %s/v.json",
             dir, dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 3);
    ck_assert_msg(strstr(err, "--error-map: ") != NULL && strstr(err, "unknown key \"errs\"") != NULL, "%s", err);
    mtp_test_rmdir(dir);
}
END_TEST

/* A shim without hello is a version 1 shim: the report says so, and the console too. */
START_TEST(hello_and_protocol)
{
    const char *dir = mtp_test_tmpdir();
    write_vectors(dir, "ige.json", false);
    char cmd[1024], *out, *err;
    snprintf(cmd, sizeof cmd,
             "\"$MTPROBE\" kat --vectors %s --report-dir %s/r --shim 'while read l; do id=$(echo \"$l\" | sed "
             "\"s/.*\\\"id\\\":\\([0-9]*\\).*/\\1/\"); echo \"{\\\"id\\\":$id,\\\"ok\\\":false,\\\"error\\\":\\\"unsupported\\\"}\"; done'"
             " && grep -o '\"protocol\": 1' %s/r/kat.json",
             dir, dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "shim: protocol 1 (no hello answer)") != NULL, "%s\n%s", out, err);
    ck_assert_msg(strstr(out, "\"protocol\": 1") != NULL, "%s", out);
    snprintf(cmd, sizeof cmd, "\"$MTPROBE\" kat --vectors %s --report-dir %s/r --shim '\"$MTPROBE\" shim'", dir, dir);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 0);
    ck_assert_msg(strstr(out, "shim: protocol 2; features: sender, quick_ack, padding, next_plain, fake_tls_secret\n") !=
                      NULL,
                  "%s", out);
    mtp_test_rmdir(dir);
}
END_TEST

static Suite *cmd_kat_suite(void)
{
    Suite *s = suite_create("cmd_kat");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, all_pass_exits_zero_and_writes_reports);
    tcase_add_test(tc, a_wrong_answer_exits_one_with_details);
    tcase_add_test(tc, shim_failures_and_unsupported);
    tcase_add_test(tc, unusable_input_exits_three);
    tcase_add_test(tc, wrong_errors_strict_and_error_maps);
    tcase_add_test(tc, hello_and_protocol);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(cmd_kat_suite)
