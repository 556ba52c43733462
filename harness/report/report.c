#include "report/report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void say(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

json_t *mtp_report_new(const char *command, const char *implementation)
{
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{}, s:[]}", "tool", "mtprobe", "version", MTPROBE_VERSION, "command",
                     command, "implementation", implementation, "started", when, "summary", "suites");
}

static int write_atomic(const char *path, const char *data, size_t n, char *why, size_t why_len)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 8);
    if (tmp == NULL) {
        say(why, why_len, "out of memory");
        return -1;
    }
    snprintf(tmp, pl + 8, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        say(why, why_len, "cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    int ok = fwrite(data, 1, n, f) == n;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        say(why, why_len, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int mtp_report_write_json(const json_t *report, const char *path, char *why, size_t why_len)
{
    char *s = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s == NULL) {
        say(why, why_len, "cannot serialise the report");
        return -1;
    }
    size_t n = strlen(s);
    s[n] = '\n'; /* json_dumps leaves room for the NUL only; overwrite it and write n+1 */
    int rc = write_atomic(path, s, n + 1, why, why_len);
    free(s);
    return rc;
}

char *mtp_report_xml_escape(const char *s)
{
    if (s == NULL)
        s = "";
    size_t n = 0;
    for (const char *c = s; *c; c++)
        n += (*c == '&') ? 5 : (*c == '<' || *c == '>') ? 4 : (*c == '"' || *c == '\'') ? 6 : 1;
    char *out = malloc(n + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '&': memcpy(o, "&amp;", 5); o += 5; break;
        case '<': memcpy(o, "&lt;", 4); o += 4; break;
        case '>': memcpy(o, "&gt;", 4); o += 4; break;
        case '"': memcpy(o, "&quot;", 6); o += 6; break;
        case '\'': memcpy(o, "&apos;", 6); o += 6; break;
        default:
            /* XML 1.0 forbids most control characters even escaped. */
            *o++ = (*c < 0x20 && *c != '\n' && *c != '\t' && *c != '\r') ? '?' : (char)*c;
        }
    }
    *o = '\0';
    return out;
}

/* A growable text buffer for building the XML. */
struct text {
    char *p;
    size_t len, cap;
    int failed;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->p && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t ncap = t->cap ? t->cap * 2 : 8192;
        while (ncap < t->len + (size_t)n + 1)
            ncap *= 2;
        char *np = realloc(t->p, ncap);
        if (np == NULL) {
            t->failed = 1;
            return;
        }
        t->p = np;
        t->cap = ncap;
    }
}

static void text_add_escaped(struct text *t, const char *s)
{
    char *e = mtp_report_xml_escape(s);
    if (e == NULL) {
        t->failed = 1;
        return;
    }
    text_add(t, "%s", e);
    free(e);
}

static const char *str_or(const json_t *obj, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : dflt;
}

static void junit_details(struct text *t, const json_t *c)
{
    static const char *const keys[] = {"request", "expected", "observed"};
    const char *msg = str_or(c, "message", "");
    text_add_escaped(t, msg);
    text_add(t, "\n");
    const char *spec = json_string_value(json_object_get(c, "spec"));
    if (spec) {
        text_add(t, "spec: ");
        text_add_escaped(t, spec);
        text_add(t, "\n");
    }
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(c, keys[i]);
        if (v == NULL)
            continue;
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        if (s == NULL)
            continue;
        text_add(t, "%s: ", keys[i]);
        text_add_escaped(t, s);
        text_add(t, "\n");
        free(s);
    }
}

int mtp_report_write_junit(const json_t *report, const char *path, char *why, size_t why_len)
{
    struct text t = {0};
    json_t *suites = json_object_get(report, "suites");
    size_t total = 0, failures = 0, skipped = 0;
    size_t i, j;
    json_t *s, *c;
    json_array_foreach(suites, i, s)
    {
        json_array_foreach(json_object_get(s, "cases"), j, c)
        {
            const char *st = str_or(c, "status", "error");
            total++;
            failures += strcmp(st, "fail") == 0 || strcmp(st, "error") == 0;
            skipped += strcmp(st, "unsupported") == 0;
        }
    }
    const char *command = str_or(report, "command", "mtprobe");
    text_add(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"mtprobe ");
    text_add_escaped(&t, command);
    text_add(&t, "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\">\n", total, failures, skipped);
    json_array_foreach(suites, i, s)
    {
        json_t *cases = json_object_get(s, "cases");
        size_t sf = 0, ss = 0;
        json_array_foreach(cases, j, c)
        {
            const char *st = str_or(c, "status", "error");
            sf += strcmp(st, "fail") == 0 || strcmp(st, "error") == 0;
            ss += strcmp(st, "unsupported") == 0;
        }
        const char *sname = str_or(s, "name", "suite");
        text_add(&t, "  <testsuite name=\"");
        text_add_escaped(&t, sname);
        text_add(&t, "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\">\n", json_array_size(cases), sf, ss);
        json_array_foreach(cases, j, c)
        {
            const char *st = str_or(c, "status", "error");
            text_add(&t, "    <testcase classname=\"%s.", command);
            text_add_escaped(&t, sname);
            text_add(&t, "\" name=\"");
            text_add_escaped(&t, str_or(c, "id", "?"));
            const char *name = str_or(c, "name", "");
            if (*name) {
                text_add(&t, " ");
                text_add_escaped(&t, name);
            }
            text_add(&t, "\"");
            if (strcmp(st, "pass") == 0 || strcmp(st, "acceptable") == 0) {
                text_add(&t, "/>\n");
                continue;
            }
            text_add(&t, ">\n");
            if (strcmp(st, "unsupported") == 0) {
                text_add(&t, "      <skipped message=\"unsupported by the implementation\"/>\n");
            } else {
                text_add(&t, "      <failure message=\"");
                text_add_escaped(&t, str_or(c, "message", st));
                text_add(&t, "\" type=\"%s\">", st);
                junit_details(&t, c);
                text_add(&t, "</failure>\n");
            }
            text_add(&t, "    </testcase>\n");
        }
        text_add(&t, "  </testsuite>\n");
    }
    text_add(&t, "</testsuites>\n");
    if (t.failed) {
        free(t.p);
        say(why, why_len, "out of memory building the JUnit report");
        return -1;
    }
    int rc = write_atomic(path, t.p, t.len, why, why_len);
    free(t.p);
    return rc;
}

int mtp_report_mkdirs(const char *dir)
{
    char tmp[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char saved = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
            return -1;
        tmp[i] = saved;
    }
    return 0;
}

int mtp_report_write_all(const json_t *report, const char *dir, const char *stem, char *why, size_t why_len)
{
    if (mtp_report_mkdirs(dir) != 0) {
        say(why, why_len, "cannot create report directory %s: %s", dir, strerror(errno));
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.json", dir, stem);
    if (mtp_report_write_json(report, path, why, why_len) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s.junit.xml", dir, stem);
    return mtp_report_write_junit(report, path, why, why_len);
}
