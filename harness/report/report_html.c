/* The HTML writer: the static page (harness/report/html/, embedded at build
 * time) with the report's data inlined.  The matrix needs only a few fields
 * of each result; everything else (expected/observed, client, server log,
 * wire log) goes into one blob per result, gzip + base64, that the page
 * inflates with DecompressionStream when the cell is opened.  A report of
 * thousands of results with wire logs then parses in milliseconds, and the
 * file stays a fraction of report.json's size. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "report/report.h"
#include "report/report_assets.h"
#include "report/report_text.h"

static const char *const light_result_keys[] = {"case", "run", "transport", "repeat", "verdict", "raw_verdict",
                                                "requirement", "level", "duration_ms"};
static const char *const light_case_keys[] = {"id", "title", "area", "group", "requirement", "requirements", "level",
                                              "spec", "tags", "expect", "hostile", "op", "result", "note"};

static json_t *pick(const json_t *o, const char *const *keys, size_t n)
{
    json_t *out = json_object();
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(o, keys[i]);
        if (v)
            json_object_set(out, keys[i], v);
    }
    return out;
}

/* JSON text safe inside <script>: '<' only ever occurs inside strings, where
 * \u003c means the same, so no "</script>" or "<!--" can end the element. */
static void put_json(struct mtp_text *t, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    if (s == NULL) {
        t->failed = 1;
        return;
    }
    const char *p = s;
    for (const char *lt; (lt = strchr(p, '<')) != NULL; p = lt + 1) {
        mtp_text_put(t, p, (size_t)(lt - p));
        mtp_text_put(t, "\\u003c", 6);
    }
    mtp_text_put(t, p, strlen(p));
    free(s);
}

static int gzip_bytes(const char *in, size_t n, unsigned char **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    unsigned char *buf = malloc(cap);
    if (buf == NULL) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

/* One blob, a JSON string: the JSON text of v itself (it starts with '{'),
 * or its gzip in base64 (which never holds a '{') when that is shorter, so
 * small blobs, like most of kat's, do not grow. */
static void put_blob(struct mtp_text *t, const json_t *v, bool plain)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s == NULL) {
        t->failed = 1;
        return;
    }
    size_t n = strlen(s);
    unsigned char *gz = NULL;
    size_t gn = 0;
    if (!plain && gzip_bytes(s, n, &gz, &gn) != 0) {
        free(s);
        t->failed = 1;
        return;
    }
    /* base64 is 4/3 of the gzip; the quoted JSON is about n (quotes escaped). */
    if (plain || 4 * ((gn + 2) / 3) >= n) {
        json_t *str = json_string(s);
        if (str == NULL)
            t->failed = 1;
        else
            put_json(t, str);
        json_decref(str);
        free(s);
        free(gz);
        return;
    }
    free(s);
    char *b64 = malloc(4 * ((gn + 2) / 3) + 1);
    if (b64 == NULL) {
        free(gz);
        t->failed = 1;
        return;
    }
    int bn = EVP_EncodeBlock((unsigned char *)b64, gz, (int)gn);
    mtp_text_put(t, "\"", 1);
    mtp_text_put(t, b64, (size_t)bn);
    mtp_text_put(t, "\"", 1);
    free(b64);
    free(gz);
}

/* What the light data lacks: the page puts the two together. */
static json_t *rest_of(const json_t *o, const char *const *keys, size_t n)
{
    json_t *out = json_copy((json_t *)o);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        json_object_del(out, keys[i]);
    return out;
}

/* The page keeps report.json's wire log, less the hex of very large messages
 * when a cap is set (report.json always has it). */
static json_t *result_blob(const json_t *r, size_t cap)
{
    json_t *b = cap ? json_deep_copy(r) : json_copy((json_t *)r);
    if (b == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof light_result_keys / sizeof light_result_keys[0]; i++)
        json_object_del(b, light_result_keys[i]);
    if (cap == 0)
        return b;
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(b, "wire"), i, ev)
    {
        const char *body = json_string_value(json_object_get(ev, "body"));
        if (body && strlen(body) > cap) {
            json_object_set_new(ev, "body_omitted", json_integer((json_int_t)(strlen(body) / 2)));
            json_object_del(ev, "body");
        }
    }
    return b;
}

static void put_template_part(struct mtp_text *t, const char **cursor, const char *marker)
{
    const char *at = strstr(*cursor, marker);
    if (at == NULL) {
        /* The template is ours, checked by its tests: a missing marker is a build defect. */
        t->failed = 1;
        return;
    }
    mtp_text_put(t, *cursor, (size_t)(at - *cursor));
    *cursor = at + strlen(marker);
}

int mtp_report_write_html(const json_t *report, const char *path, const struct mtp_report_html_options *o, char *why,
                          size_t why_len)
{
    struct mtp_report_html_options dflt = {0};
    if (o == NULL)
        o = &dflt;
    json_t *light = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)report, key, v)
    {
        if (strcmp(key, "results") != 0 && strcmp(key, "cases") != 0)
            json_object_set(light, key, v);
    }
    json_t *lres = json_array(), *lcases = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(report, "results"), i, r)
        json_array_append_new(lres, pick(r, light_result_keys, sizeof light_result_keys / sizeof light_result_keys[0]));
    json_array_foreach(json_object_get(report, "cases"), i, r)
        json_array_append_new(lcases, pick(r, light_case_keys, sizeof light_case_keys / sizeof light_case_keys[0]));
    json_object_set_new(light, "cases", lcases);
    json_object_set_new(light, "results", lres);

    struct mtp_text t = {0};
    const char *cur = mtp_report_asset_html;
    char title[512];
    snprintf(title, sizeof title, "mtprobe %s: %s",
             json_string_value(json_object_get(report, "kind")) ? json_string_value(json_object_get(report, "kind"))
                                                                 : "report",
             json_string_value(json_object_get(report, "implementation"))
                 ? json_string_value(json_object_get(report, "implementation"))
                 : "");
    put_template_part(&t, &cur, "<!--MTP:TITLE-->");
    mtp_text_add_escaped(&t, title);
    put_template_part(&t, &cur, "/*MTP:CSS*/");
    mtp_text_put(&t, mtp_report_asset_css, strlen(mtp_report_asset_css));
    put_template_part(&t, &cur, "/*MTP:DATA*/");
    put_json(&t, light);
    put_template_part(&t, &cur, "/*MTP:BLOBS*/");
    mtp_text_add(&t, "{\"encoding\":\"%s\",\"results\":[", o->plain_blobs ? "json" : "gzip-base64-or-json");
    json_array_foreach(json_object_get(report, "results"), i, r)
    {
        if (i)
            mtp_text_put(&t, ",\n", 2);
        json_t *b = result_blob(r, o->body_hex_cap);
        if (b == NULL) {
            t.failed = 1;
            break;
        }
        put_blob(&t, b, o->plain_blobs);
        json_decref(b);
    }
    mtp_text_add(&t, "],\"cases\":[");
    json_array_foreach(json_object_get(report, "cases"), i, r)
    {
        if (i)
            mtp_text_put(&t, ",\n", 2);
        json_t *b = rest_of(r, light_case_keys, sizeof light_case_keys / sizeof light_case_keys[0]);
        if (b == NULL) {
            t.failed = 1;
            break;
        }
        put_blob(&t, b, o->plain_blobs);
        json_decref(b);
    }
    mtp_text_add(&t, "]}");
    put_template_part(&t, &cur, "/*MTP:JS*/");
    mtp_text_put(&t, mtp_report_asset_js, strlen(mtp_report_asset_js));
    mtp_text_put(&t, cur, strlen(cur));
    json_decref(light);
    if (t.failed) {
        free(t.p);
        snprintf(why, why_len, "out of memory building the HTML report");
        return -1;
    }
    int rc = mtp_report_write_file(path, t.p, t.len, why, why_len);
    free(t.p);
    return rc;
}
