#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kat/kat.h"
#include "mtp_test.h"
#include "report/report.h"

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    strcpy(dir, "/tmp/mtprobe-kat-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static const char *good_file =
    "{\"format\":\"mtprobe-vectors/1\",\"title\":\"meta\",\"source\":\"unit test\",\"spec\":[\"docs/shim.md\"],"
    "\"testGroups\":[{\"op\":\"hello\",\"tests\":["
    "{\"tcId\":1,\"comment\":\"protocol two\",\"flags\":[],\"result\":\"valid\",\"expect\":{\"protocol\":2}},"
    "{\"tcId\":2,\"comment\":\"wrong on purpose\",\"flags\":[],\"result\":\"valid\",\"expect\":{\"protocol\":1}}]},"
    "{\"op\":\"not_an_op\",\"tests\":["
    "{\"tcId\":3,\"comment\":\"unknown op\",\"flags\":[],\"result\":\"valid\",\"args\":{\"x\":\"00\"},\"expect\":{}}]}]}";

static json_t *run(struct kat_totals *tot, int *rc, char **out_text)
{
    const char *paths[] = {dir};
    size_t len = 0;
    FILE *mem = open_memstream(out_text, &len);
    struct kat_options o = {.paths = paths, .n_paths = 1, .out = mem};
    struct kat_target t = {0};
    json_t *report = mtp_report_new("kat", "test");
    *rc = kat_run(&o, &t, report, tot);
    fclose(mem);
    return report;
}

START_TEST(counts_and_report_contents)
{
    write_file("a.json", good_file);
    write_file("data.json", "{\"not\":\"a vector file\"}");
    struct kat_totals tot;
    int rc;
    char *text = NULL;
    json_t *report = run(&tot, &rc, &text);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(tot.files, 1);
    ck_assert_uint_eq(tot.vectors, 3);
    ck_assert_uint_eq(tot.passed, 1);
    ck_assert_uint_eq(tot.failed, 1);
    ck_assert_uint_eq(tot.unsupported, 1);
    ck_assert_msg(strstr(text, "FAIL a#2 (hello: wrong on purpose): field \"protocol\": expected 1, got 2") != NULL,
                  "%s", text);
    ck_assert_msg(strstr(text, "3 vectors    1 passed    1 unsupported    1 FAILED") != NULL, "%s", text);

    json_t *suite = json_array_get(json_object_get(report, "suites"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(suite, "name")), "a");
    ck_assert_str_eq(json_string_value(json_object_get(suite, "source")), "unit test");
    /* Each vector is a case (what was tested) and a result (what happened). */
    json_t *cases = json_object_get(report, "cases"), *results = json_object_get(report, "results");
    ck_assert_uint_eq(json_array_size(cases), 3);
    ck_assert_uint_eq(json_array_size(results), 3);
    json_t *c2 = json_array_get(cases, 1), *r2 = json_array_get(results, 1);
    ck_assert_str_eq(json_string_value(json_object_get(c2, "id")), "a#2");
    ck_assert_str_eq(json_string_value(json_object_get(c2, "title")), "wrong on purpose");
    ck_assert_str_eq(json_string_value(json_object_get(c2, "group")), "a");
    ck_assert_str_eq(json_string_value(json_object_get(c2, "op")), "hello");
    ck_assert_str_eq(json_string_value(json_object_get(r2, "case")), "a#2");
    ck_assert_str_eq(json_string_value(json_object_get(r2, "verdict")), "fail");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r2, "expected"), "protocol")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r2, "observed"), "protocol")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(c2, "level")), "MUST");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r2, "request"), "op")), "hello");
    ck_assert_ptr_null(json_object_get(json_array_get(results, 0), "request"));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(results, 2), "verdict")), "unsupported");
    json_t *area = json_array_get(json_object_get(report, "areas"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(area, "id")), "a");
    json_t *sum = json_object_get(report, "summary");
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "failed")), 1);

    char why[256];
    ck_assert_int_eq(mtp_report_finish(report, why, sizeof why), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "fail")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "unsupported")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "pass")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(results, 1), "run")), "test");
    ck_assert_int_eq(mtp_report_write_all(report, dir, "kat", why, sizeof why), 0);
    size_t n;
    char path[256];
    snprintf(path, sizeof path, "%s/kat.junit.xml", dir + 0);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char xml[8192];
    n = fread(xml, 1, sizeof xml - 1, f);
    xml[n] = '\0';
    fclose(f);
    ck_assert_msg(strstr(xml, "<testsuite name=\"test a\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\"") != NULL,
                  "%s", xml);
    ck_assert_msg(strstr(xml, "<testcase classname=\"kat.test.a\" name=\"a#2\"") != NULL, "%s", xml);
    ck_assert_msg(strstr(xml, "<failure message=\"field &quot;protocol&quot;: expected 1, got 2\" type=\"fail\">") != NULL,
                  "%s", xml);
    ck_assert_msg(strstr(xml, "<skipped message=\"unsupported by the implementation: ") != NULL, "%s", xml);
    snprintf(path, sizeof path, "%s/kat.html", dir + 0);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    json_decref(report);
    free(text);
}
END_TEST

START_TEST(malformed_files_are_named)
{
    struct kat_totals tot;
    int rc;
    char *text = NULL;
    write_file("b.json", "{\"format\":\"mtprobe-vectors/1\",\"source\":\"x\",\"testGroups\":[{\"op\":\"hello\","
                         "\"tests\":[{\"tcId\":1,\"result\":\"maybe\"}]}]}");
    json_decref(run(&tot, &rc, &text));
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(text, "b.json: malformed vector file: testGroups[0].tests[0] (tcId 1): \"result\" must be "
                               "valid, invalid or acceptable") != NULL,
                  "%s", text);
    free(text);
    write_file("b.json", "{\"format\":\"mtprobe-vectors/1\",\n \"source\": ]}");
    json_decref(run(&tot, &rc, &text));
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(text, "b.json:2:12: not valid JSON") != NULL, "%s", text);
    free(text);
    write_file("b.json", "{\"format\":\"mtprobe-vectors/1\",\"testGroups\":[]}");
    json_decref(run(&tot, &rc, &text));
    ck_assert_msg(strstr(text, "missing string \"source\"") != NULL, "%s", text);
    free(text);
}
END_TEST

/* SHA-256("abc"), FIPS 180-2 appendix B.1. */
#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static const char *levels_file =
    "{\"format\":\"mtprobe-vectors/1\",\"source\":\"unit test\",\"notes\":{"
    "\"Plain\":\"a note as a string\","
    "\"Margin\":{\"description\":\"a recommended check\",\"level\":\"RECOMMENDED\",\"requirement\":\"C-DH-5\"},"
    "\"Open\":{\"description\":\"either way\",\"level\":\"MAY\"}},"
    "\"testGroups\":[{\"op\":\"sha256\",\"args\":{\"data\":\"616263\"},\"tests\":["
    "{\"tcId\":1,\"comment\":\"the strict answer\",\"flags\":[\"Plain\",\"Margin\"],\"result\":\"valid\","
    "\"expect\":{\"hash\":\"" SHA256_ABC "\"},\"lax\":{\"hash\":\"00\"}},"
    "{\"tcId\":2,\"comment\":\"the lax answer\",\"flags\":[\"Open\",\"Margin\"],\"result\":\"valid\","
    "\"expect\":{\"hash\":\"00\"},\"lax\":{\"hash\":\"" SHA256_ABC "\"}},"
    "{\"tcId\":3,\"comment\":\"another reason\",\"result\":\"invalid\",\"args\":{\"data\":\"6\"},"
    "\"expect\":{\"error\":\"tl_short\"}}]},"
    "{\"op\":\"transport_decode\",\"features\":[\"sender\"],\"tests\":["
    "{\"tcId\":4,\"comment\":\"a server stream\",\"result\":\"valid\",\"args\":{\"transport\":\"intermediate\","
    "\"sender\":\"server\",\"data\":\"0400000001020304\"},\"expect\":{\"payloads\":[\"01020304\"]}}]},"
    "{\"op\":\"transport_decode\",\"tests\":["
    "{\"tcId\":5,\"comment\":\"quick acks\",\"result\":\"valid\",\"args\":{\"transport\":\"intermediate\","
    "\"data\":\"eeeeeeee0400000001020304\"},\"expect\":{\"payloads\":[\"01020304\"],\"quick_ack\":[false]}}]}]}";

static json_t *run_with(const struct kat_options *base, struct kat_totals *tot, int *rc, char **out_text)
{
    const char *paths[] = {dir};
    size_t len = 0;
    FILE *mem = open_memstream(out_text, &len);
    struct kat_options o = *base;
    o.paths = paths;
    o.n_paths = 1;
    o.out = mem;
    struct kat_target t = {0};
    json_t *report = mtp_report_new("kat", "test");
    *rc = kat_run(&o, &t, report, tot);
    fclose(mem);
    return report;
}

static const char *verdict_of(const json_t *report, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(report, "results"), i), "verdict"));
}

/* Levels from the flags' notes, lax answers, --strict, wrong errors and shim features, through the runner. */
START_TEST(levels_features_and_wrong_errors)
{
    write_file("l.json", levels_file);
    struct kat_totals tot;
    int rc;
    char *text = NULL;
    struct kat_options o = {0};
    json_t *report = run_with(&o, &tot, &rc, &text);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(tot.vectors, 5);
    ck_assert_uint_eq(tot.passed, 3);
    ck_assert_uint_eq(tot.acceptable, 1);
    ck_assert_uint_eq(tot.wrong_error, 1);
    ck_assert_uint_eq(tot.failed, 0);
    ck_assert_str_eq(verdict_of(report, 1), "acceptable");
    ck_assert_str_eq(verdict_of(report, 2), "wrong-error");
    /* A wrong error is shown without -v, with both names. */
    ck_assert_msg(strstr(text, "wrong-error l#3 (sha256: another reason): expected error \"tl_short\", got "
                               "\"bad_hex\"") != NULL,
                  "%s", text);
    ck_assert_msg(strstr(text, "5 vectors    3 passed    1 acceptable    1 wrong-error\n") != NULL, "%s", text);
    json_t *cases = json_object_get(report, "cases");
    /* The strongest level of the flags, and the requirement of the flag that set it. */
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(cases, 0), "level")), "RECOMMENDED");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(cases, 0), "requirement")), "C-DH-5");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(cases, 1), "level")), "RECOMMENDED");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(cases, 2), "level")), "MUST");
    ck_assert_ptr_nonnull(json_object_get(json_array_get(cases, 0), "lax"));
    json_t *r3 = json_array_get(json_object_get(report, "results"), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r3, "observed"), "error")), "bad_hex");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(report, "summary"), "wrong_error")), 1);
    json_decref(report);
    free(text);

    /* --strict: the lax answer to a RECOMMENDED check and the wrong error fail. */
    o.strict = true;
    report = run_with(&o, &tot, &rc, &text);
    ck_assert_uint_eq(tot.failed, 2);
    ck_assert_str_eq(verdict_of(report, 1), "fail");
    ck_assert_str_eq(verdict_of(report, 2), "fail");
    char why[256];
    ck_assert_int_eq(mtp_report_finish(report, why, sizeof why), 0);
    json_t *sum = json_object_get(report, "summary");
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "must_failed")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "should_failed")), 1);
    json_decref(report);
    free(text);

    /* A version 1 shim: the vector needing "sender" is not sent, quick_ack is not checked. */
    json_t *hello = json_pack("{s:b, s:i}", "ok", 1, "protocol", 1);
    struct kat_caps caps;
    kat_caps_from_hello(&caps, hello);
    json_decref(hello);
    struct kat_options o1 = {.caps = &caps};
    report = run_with(&o1, &tot, &rc, &text);
    ck_assert_uint_eq(tot.unsupported, 1);
    ck_assert_str_eq(verdict_of(report, 3), "unsupported");
    json_t *r4 = json_array_get(json_object_get(report, "results"), 3);
    ck_assert_str_eq(json_string_value(json_object_get(r4, "message")),
                     "needs the shim feature \"sender\", which the implementation did not announce (hello: protocol 1)");
    ck_assert_ptr_null(json_object_get(r4, "request"));
    /* The reference answers quick_ack anyway, so it is checked and passes. */
    ck_assert_str_eq(verdict_of(report, 4), "pass");
    ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(report, "results"), 4), "not_checked"));
    kat_caps_clear(&caps);
    json_decref(report);
    free(text);
}
END_TEST

START_TEST(malformed_levels_lax_and_features)
{
    static const char *const bad[][2] = {
        {"\"notes\":{\"F\":{\"description\":\"d\",\"level\":\"must\"}},", "notes.F.level: MUST, SHOULD, RECOMMENDED"},
        {"\"notes\":{\"F\":{\"level\":\"MAY\"}},", "notes.F: a string, or an object with a string \"description\""},
        {"\"notes\":[],", "\"notes\": not an object of flag names"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "{\"format\":\"mtprobe-vectors/1\",\"source\":\"x\",%s\"testGroups\":[{\"op\":\"sha1\",\"tests\":[]}]}",
                 bad[i][0]);
        write_file("b.json", text);
        struct kat_totals tot;
        int rc;
        char *out = NULL;
        json_decref(run(&tot, &rc, &out));
        ck_assert_int_eq(rc, -1);
        ck_assert_msg(strstr(out, bad[i][1]) != NULL, "%s", out);
        free(out);
    }
    static const char *const bad_tests[][2] = {
        {"\"result\":\"valid\",\"expect\":{},\"lax\":{}",
         "tcId 7: \"lax\" is for acceptable vectors and vectors whose flags name a level below MUST"},
        {"\"result\":\"invalid\",\"flags\":[\"Rec\"],\"expect\":{\"valid\":false}",
         "tcId 7: below MUST, an invalid vector without an expected error needs \"lax\""},
        {"\"result\":\"valid\",\"expect\":{\"error\":\"x\"}", "tcId 7: a valid vector cannot expect an error"},
        {"\"result\":\"valid\",\"features\":[\"telepathy\"]", "tcId 7.features[0]: not a shim feature"},
        {"\"result\":\"valid\",\"flags\":[1]", "tcId 7: \"flags\" must be an array of flag names"},
        {"\"result\":\"valid\",\"lax\":[]", "\"args\", \"expect\" and \"lax\" must be objects"},
    };
    for (size_t i = 0; i < sizeof bad_tests / sizeof bad_tests[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "{\"format\":\"mtprobe-vectors/1\",\"source\":\"x\",\"notes\":{\"Rec\":{\"description\":\"d\","
                 "\"level\":\"RECOMMENDED\"}},\"testGroups\":[{\"op\":\"sha1\",\"tests\":[{\"tcId\":7,%s}]}]}",
                 bad_tests[i][0]);
        write_file("b.json", text);
        struct kat_totals tot;
        int rc;
        char *out = NULL;
        json_decref(run(&tot, &rc, &out));
        ck_assert_int_eq(rc, -1);
        ck_assert_msg(strstr(out, bad_tests[i][1]) != NULL, "%s", out);
        free(out);
    }
    write_file("b.json", "{\"format\":\"mtprobe-vectors/1\",\"source\":\"x\",\"testGroups\":[{\"op\":\"sha1\","
                         "\"features\":\"sender\",\"tests\":[]}]}");
    struct kat_totals tot;
    int rc;
    char *out = NULL;
    json_decref(run(&tot, &rc, &out));
    ck_assert_msg(strstr(out, "testGroups[0].features: not an array of shim feature names") != NULL, "%s", out);
    free(out);
}
END_TEST

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static Suite *kat_runner_suite(void)
{
    Suite *s = suite_create("kat_runner");
    TCase *tc = tcase_create("runner");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, counts_and_report_contents);
    tcase_add_test(tc, malformed_files_are_named);
    tcase_add_test(tc, levels_features_and_wrong_errors);
    tcase_add_test(tc, malformed_levels_lax_and_features);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(kat_runner_suite)
