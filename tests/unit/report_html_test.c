/* The HTML writer: the page with its light data and one blob per result
 * (gzip + base64, or JSON text), nothing in the data able to end a <script>. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mtp_test.h"
#include "report/report.h"

#define NASTY "</script><script>alert(1)</script><!-- ]]>"

static json_t *sample(void)
{
    json_t *r = mtp_report_new("check client", "impl");
    json_array_append_new(json_object_get(r, "cases"),
                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s}}", "id", "c.one", "title",
                                    "t " NASTY, "area", "dh", "requirement", "C-DH-1", "level", "MUST", "spec", "url",
                                    "https://core.telegram.org/mtproto/auth_key", "section", "s", "quote", "q",
                                    "scenario", "auth", "send_dh_prime"));
    json_array_append_new(
        json_object_get(r, "results"),
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:[{s:i, s:s}, {s:i, s:s, s:s, s:s, s:s, s:s}, "
                  "{s:i, s:s, s:s, s:s, s:s, s:s}], s:[{s:i, s:s}]}",
                  "case", "c.one", "transport", "intermediate", "verdict", "fail", "expected", "e", "observed", NASTY,
                  "duration_ms", 12, "wire", "t", 0, "ev", "start", "t", 1, "ev", "msg", "dir", "c2s", "ctor",
                  "req_pq_multi", "tl", "req_pq_multi nonce:0x00", "body", "f18e7ebe00000000000000000000000000000000",
                  "t", 2, "ev", "msg", "dir", "s2c", "ctor", "resPQ", "tl", "resPQ", "body", "6324", "marks", "event",
                  1, "why", "hostile"));
    char why[256];
    ck_assert_int_eq(mtp_report_finish(r, why, sizeof why), 0);
    return r;
}

static char *render(const json_t *r, const struct mtp_report_html_options *o)
{
    const char *dir = mtp_test_tmpdir();
    char path[512], why[256];
    snprintf(path, sizeof path, "%s/index.html", dir);
    ck_assert_int_eq(mtp_report_write_html(r, path, o, why, sizeof why), 0);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char *html = NULL;
    size_t cap = 0;
    ck_assert(getdelim(&html, &cap, '\0', f) > 0);
    fclose(f);
    mtp_test_rmdir(dir);
    return html;
}

/* The JSON document in <script type="application/json" id="ID">. */
static json_t *script_json(const char *html, const char *id)
{
    char open[128];
    snprintf(open, sizeof open, "<script type=\"application/json\" id=\"%s\">", id);
    const char *start = strstr(html, open);
    ck_assert_msg(start != NULL, "no %s", open);
    start += strlen(open);
    const char *end = strstr(start, "</script>");
    ck_assert_ptr_nonnull(end);
    json_error_t je;
    json_t *j = json_loadb(start, (size_t)(end - start), 0, &je);
    ck_assert_msg(j != NULL, "%s: %s", id, je.text);
    return j;
}

/* A blob: JSON text, or gzip in base64. */
static json_t *unblob(const char *b64)
{
    if (b64[0] == '{') {
        json_error_t je;
        json_t *j = json_loads(b64, 0, &je);
        ck_assert_msg(j != NULL, "%s", je.text);
        return j;
    }
    size_t n = strlen(b64);
    unsigned char *raw = malloc(n);
    int rn = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
    ck_assert_int_gt(rn, 0);
    size_t cap = 1 << 20;
    char *out = malloc(cap);
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = raw;
    z.avail_in = (uInt)rn;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
    size_t on = cap - z.avail_out;
    inflateEnd(&z);
    json_error_t je;
    json_t *j = json_loadb(out, on, 0, &je);
    ck_assert_msg(j != NULL, "%s", je.text);
    free(raw);
    free(out);
    return j;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

START_TEST(light_data_and_gzip_blobs)
{
    json_t *r = sample();
    struct mtp_report_html_options o = {0};
    char *html = render(r, &o);
    /* Only the template's own script elements end; no marker is left. */
    ck_assert_uint_eq(count(html, "</script>"), 3);
    ck_assert_ptr_null(strstr(html, "<!--MTP:"));
    ck_assert_ptr_null(strstr(html, "/*MTP:"));
    ck_assert_ptr_nonnull(strstr(html, "<title>mtprobe check-client: impl</title>"));
    ck_assert_ptr_nonnull(strstr(html, "DecompressionStream"));
    ck_assert_ptr_nonnull(strstr(html, "--fail-bg"));

    json_t *light = script_json(html, "mtp-report");
    json_t *lr = json_array_get(json_object_get(light, "results"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(lr, "verdict")), "fail");
    ck_assert_str_eq(json_string_value(json_object_get(lr, "run")), "impl");
    ck_assert_int_eq(json_integer_value(json_object_get(lr, "duration_ms")), 12);
    ck_assert_ptr_null(json_object_get(lr, "wire"));
    ck_assert_ptr_null(json_object_get(lr, "observed"));
    json_t *lc = json_array_get(json_object_get(light, "cases"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(lc, "title")), "t " NASTY);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(lc, "spec"), "quote")), "q");
    ck_assert_ptr_null(json_object_get(lc, "scenario"));
    ck_assert(json_equal(json_object_get(light, "runs"), json_object_get(r, "runs")));
    ck_assert(json_equal(json_object_get(light, "summary"), json_object_get(r, "summary")));

    json_t *blobs = script_json(html, "mtp-blobs");
    ck_assert_str_eq(json_string_value(json_object_get(blobs, "encoding")), "gzip-base64-or-json");
    /* The wire log compresses: gzip; the case's scenario is small: JSON text. */
    const char *rb = json_string_value(json_array_get(json_object_get(blobs, "results"), 0));
    const char *cb = json_string_value(json_array_get(json_object_get(blobs, "cases"), 0));
    ck_assert_msg(strncmp(rb, "H4sI", 4) == 0, "%.40s", rb);
    ck_assert_msg(strcmp(cb, "{\"scenario\":{\"auth\":\"send_dh_prime\"}}") == 0, "%s", cb);
    /* The page's light part and the blob together are the whole result and case. */
    json_t *full = unblob(rb);
    ck_assert_ptr_null(json_object_get(full, "verdict"));
    json_object_update(full, lr);
    ck_assert(json_equal(full, json_array_get(json_object_get(r, "results"), 0)));
    json_t *fullc = unblob(cb);
    json_object_update(fullc, lc);
    ck_assert(json_equal(fullc, json_array_get(json_object_get(r, "cases"), 0)));
    json_decref(full);
    json_decref(fullc);
    json_decref(blobs);
    json_decref(light);
    free(html);
    json_decref(r);
}
END_TEST

START_TEST(plain_blobs_and_body_cap)
{
    json_t *r = sample();
    struct mtp_report_html_options o = {.plain_blobs = true, .body_hex_cap = 8};
    char *html = render(r, &o);
    ck_assert_uint_eq(count(html, "</script>"), 3);
    json_t *blobs = script_json(html, "mtp-blobs");
    ck_assert_str_eq(json_string_value(json_object_get(blobs, "encoding")), "json");
    json_error_t je;
    json_t *full = json_loads(json_string_value(json_array_get(json_object_get(blobs, "results"), 0)), 0, &je);
    ck_assert_msg(full != NULL, "%s", je.text);
    ck_assert_str_eq(json_string_value(json_object_get(full, "observed")), NASTY);
    /* The 20-byte body is over the 4-byte cap: the page keeps its size, report.json its bytes. */
    json_t *ev1 = json_array_get(json_object_get(full, "wire"), 1), *ev2 = json_array_get(json_object_get(full, "wire"), 2);
    ck_assert_ptr_null(json_object_get(ev1, "body"));
    ck_assert_int_eq(json_integer_value(json_object_get(ev1, "body_omitted")), 20);
    ck_assert_str_eq(json_string_value(json_object_get(ev1, "tl")), "req_pq_multi nonce:0x00");
    ck_assert_str_eq(json_string_value(json_object_get(ev2, "body")), "6324");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(json_array_get(json_object_get(r, "results"), 0), "wire"), 1),
                         "body")),
                     "f18e7ebe00000000000000000000000000000000");
    json_decref(full);
    json_decref(blobs);
    free(html);
    json_decref(r);
}
END_TEST

START_TEST(empty_report_and_unwritable_path)
{
    json_t *r = mtp_report_new("kat", "x");
    char why[256];
    ck_assert_int_eq(mtp_report_finish(r, why, sizeof why), 0);
    char *html = render(r, NULL);
    json_t *blobs = script_json(html, "mtp-blobs");
    ck_assert_uint_eq(json_array_size(json_object_get(blobs, "results")), 0);
    json_decref(blobs);
    free(html);
    ck_assert_int_eq(mtp_report_write_html(r, "/proc/no/such/index.html", NULL, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "cannot write /proc/no/such/index.html.tmp") != NULL, "%s", why);
    json_decref(r);
}
END_TEST

static Suite *report_html_suite(void)
{
    Suite *s = suite_create("report_html");
    TCase *tc = tcase_create("html");
    tcase_add_test(tc, light_data_and_gzip_blobs);
    tcase_add_test(tc, plain_blobs_and_body_cap);
    tcase_add_test(tc, empty_report_and_unwritable_path);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(report_html_suite)
