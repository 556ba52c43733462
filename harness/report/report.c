/* The report model: creating, finishing (deriving runs and counts), loading,
 * and the file helpers every writer shares. */
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

static const char *const verdict_names[MTP_V_COUNT] = {
    [MTP_V_PASS] = "pass",   [MTP_V_ACCEPTABLE] = "acceptable", [MTP_V_XFAIL] = "xfail",
    [MTP_V_UNSUPPORTED] = "unsupported", [MTP_V_ERROR] = "error", [MTP_V_XPASS] = "xpass",
    [MTP_V_FAIL] = "fail",   [MTP_V_HANG] = "hang",             [MTP_V_CRASH] = "crash",
};

const char *mtp_verdict_name(enum mtp_verdict v) { return v < MTP_V_COUNT ? verdict_names[v] : "error"; }

enum mtp_verdict mtp_verdict_parse(const char *name)
{
    for (int v = 0; name && v < MTP_V_COUNT; v++)
        if (strcmp(name, verdict_names[v]) == 0)
            return (enum mtp_verdict)v;
    return MTP_V_ERROR;
}

bool mtp_verdict_bad(enum mtp_verdict v)
{
    return v == MTP_V_FAIL || v == MTP_V_HANG || v == MTP_V_CRASH || v == MTP_V_XPASS;
}

static void now_utc(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *kind_of_command(const char *command)
{
    char kind[64];
    snprintf(kind, sizeof kind, "%s", command ? command : "unknown");
    for (char *p = kind; *p; p++)
        if (*p == ' ')
            *p = '-';
    return json_string(kind);
}

json_t *mtp_report_new(const char *command, const char *implementation)
{
    char when[32];
    now_utc(when, sizeof when);
    json_t *r = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:n, s:s, s:f, s:{}, s:[], s:[], s:[]}", "report_format",
                          MTP_REPORT_FORMAT, "tool", "mtprobe", "version", MTPROBE_VERSION, "kind",
                          kind_of_command(command), "command", command, "implementation", implementation,
                          "implementation_version", "started", when, "duration_s", 0.0, "summary", "areas", "cases",
                          "results");
    return r;
}

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* --- labels --------------------------------------------------------------- */

static bool is_interpreter(const char *base, size_t n)
{
    static const char *const names[] = {"python", "python3", "node", "nodejs", "sh", "bash", "env", "exec", "timeout"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncmp(base, names[i], n) == 0)
            return true;
    /* python3.11 and the like */
    return n > 6 && strncmp(base, "python", 6) == 0;
}

char *mtp_report_run_label(const char *impl)
{
    if (impl == NULL || *impl == '\0')
        return strdup("implementation");
    if (strlen(impl) <= 40 && strchr(impl, '/') == NULL && strchr(impl, '{') == NULL)
        return strdup(impl);
    /* A command line: the first word that is neither an interpreter, an option nor VAR=value. */
    const char *p = impl;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t wn = (size_t)(p - w);
        if (wn == 0)
            break;
        const char *base = w;
        for (const char *q = w; q < p; q++)
            if (*q == '/')
                base = q + 1;
        size_t bn = (size_t)(p - base);
        if (*w == '-' || memchr(w, '=', wn) || is_interpreter(base, bn) || bn == 0)
            continue;
        char out[128];
        snprintf(out, sizeof out, "%.*s", (int)(bn < 100 ? bn : 100), base);
        static const char *const strip[] = {".py", ".js", ".mjs", ".sh", "_adapter", "-adapter", "_client", "-client"};
        for (size_t i = 0; i < sizeof strip / sizeof strip[0]; i++) {
            size_t on = strlen(out), sn = strlen(strip[i]);
            if (on > sn && strcmp(out + on - sn, strip[i]) == 0)
                out[on - sn] = '\0';
        }
        return strdup(out);
    }
    return strdup("implementation");
}

/* --- finishing ------------------------------------------------------------ */

/* kat reports written before the model kept each vector inside its file's
 * suite ({"id", "name", "status", "message", "expected", "observed", ...}). */
static void upgrade_legacy_kat(json_t *report)
{
    json_t *suites = json_object_get(report, "suites");
    json_t *cases = json_array(), *results = json_array(), *areas = json_array(), *seen = json_object();
    size_t i, j;
    json_t *s, *c;
    json_array_foreach(suites, i, s)
    {
        const char *name = str_of(s, "name") ? str_of(s, "name") : "vectors";
        char area[128];
        snprintf(area, sizeof area, "%s", name);
        char *slash = strchr(area, '/');
        if (slash)
            *slash = '\0';
        if (json_object_get(seen, area) == NULL) {
            json_object_set_new(seen, area, json_true());
            json_array_append_new(areas, json_pack("{s:s, s:s}", "id", area, "title", area));
        }
        json_array_foreach(json_object_get(s, "cases"), j, c)
        {
            const char *title = str_of(c, "name");
            json_t *nc = json_pack("{s:s, s:s, s:s, s:s}", "id", str_of(c, "id") ? str_of(c, "id") : "?", "title",
                                   title && *title ? title : (str_of(c, "id") ? str_of(c, "id") : "?"), "area", area,
                                   "group", name);
            static const char *const from_case[] = {"op", "result", "flags"};
            for (size_t k = 0; k < sizeof from_case / sizeof from_case[0]; k++)
                if (json_object_get(c, from_case[k]))
                    json_object_set(nc, from_case[k], json_object_get(c, from_case[k]));
            static const char *const from_suite[] = {"requirements", "spec"};
            for (size_t k = 0; k < sizeof from_suite / sizeof from_suite[0]; k++)
                if (json_object_get(s, from_suite[k]))
                    json_object_set(nc, from_suite[k], json_object_get(s, from_suite[k]));
            json_array_append_new(cases, nc);
            json_t *r = json_pack("{s:s, s:n, s:i, s:s}", "case", str_of(c, "id") ? str_of(c, "id") : "?", "transport",
                                  "repeat", 0, "verdict",
                                  strcmp(str_of(c, "status") ? str_of(c, "status") : "", "failed") == 0
                                      ? "fail"
                                      : mtp_verdict_name(mtp_verdict_parse(str_of(c, "status"))));
            static const char *const copy[] = {"message", "request", "expected", "observed"};
            for (size_t k = 0; k < sizeof copy / sizeof copy[0]; k++)
                if (json_object_get(c, copy[k]))
                    json_object_set(r, copy[k], json_object_get(c, copy[k]));
            json_array_append_new(results, r);
        }
        json_object_del(s, "cases");
    }
    json_object_set_new(report, "cases", cases);
    json_object_set_new(report, "results", results);
    if (json_array_size(json_object_get(report, "areas")) == 0)
        json_object_set_new(report, "areas", areas);
    else
        json_decref(areas);
    json_decref(seen);
}

struct counts {
    size_t total, v[MTP_V_COUNT], must_failed, should_failed;
};

static void counts_put(json_t *summary, const struct counts *c)
{
    json_object_set_new(summary, "total", json_integer((json_int_t)c->total));
    for (int v = 0; v < MTP_V_COUNT; v++)
        json_object_set_new(summary, verdict_names[v], json_integer((json_int_t)c->v[v]));
    json_object_set_new(summary, "must_failed", json_integer((json_int_t)c->must_failed));
    json_object_set_new(summary, "should_failed", json_integer((json_int_t)c->should_failed));
}

static void count(struct counts *c, const json_t *r, const json_t *case_levels)
{
    enum mtp_verdict v = mtp_verdict_parse(str_of(r, "verdict"));
    const char *level = str_of(r, "level");
    if (level == NULL)
        level = json_string_value(json_object_get(case_levels, str_of(r, "case") ? str_of(r, "case") : ""));
    c->total++;
    c->v[v]++;
    if (mtp_verdict_bad(v) && level && strcmp(level, "MUST") == 0)
        c->must_failed++;
    else if (mtp_verdict_bad(v) && level && (strcmp(level, "SHOULD") == 0 || strcmp(level, "RECOMMENDED") == 0))
        c->should_failed++;
}

static json_t *transports_of(const json_t *report)
{
    json_t *t = json_object_get(json_object_get(report, "options"), "transports");
    if (json_is_array(t))
        return json_copy(t);
    json_t *out = json_array();
    size_t i, k;
    json_t *r, *e;
    json_array_foreach(json_object_get(report, "results"), i, r)
    {
        const char *tr = str_of(r, "transport");
        bool dup = tr == NULL;
        json_array_foreach(out, k, e) dup |= strcmp(json_string_value(e), tr) == 0;
        if (!dup)
            json_array_append_new(out, json_string(tr));
    }
    return out;
}

int mtp_report_finish(json_t *report, char *why, size_t why_len)
{
    if (!json_is_object(report)) {
        say(why, why_len, "a report is a JSON object");
        return -1;
    }
    if (str_of(report, "tool") == NULL || strcmp(str_of(report, "tool"), "mtprobe") != 0) {
        say(why, why_len, "not an mtprobe report (no \"tool\": \"mtprobe\")");
        return -1;
    }
    const char *format = str_of(report, "report_format");
    if (format && strcmp(format, MTP_REPORT_FORMAT) != 0) {
        say(why, why_len, "report_format \"%s\" is not the one this mtprobe reads (%s)", format, MTP_REPORT_FORMAT);
        return -1;
    }
    json_object_set_new(report, "report_format", json_string(MTP_REPORT_FORMAT));
    if (str_of(report, "kind") == NULL)
        json_object_set_new(report, "kind", kind_of_command(str_of(report, "command")));
    if (str_of(report, "kind") == NULL) {
        say(why, why_len, "out of memory");
        return -1;
    }
    if (json_object_get(report, "results") == NULL && json_is_array(json_object_get(report, "suites")))
        upgrade_legacy_kat(report);
    else if (strncmp(str_of(report, "kind"), "check-", 6) == 0)
        json_object_del(report, "suites"); /* check reports before the model: their JUnit view, now derived */
    static const char *const arrays[] = {"areas", "cases", "results"};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        json_t *a = json_object_get(report, arrays[i]);
        if (a == NULL)
            json_object_set_new(report, arrays[i], json_array());
        else if (!json_is_array(a)) {
            say(why, why_len, "\"%s\" is not an array", arrays[i]);
            return -1;
        }
    }
    if (!json_is_object(json_object_get(report, "summary")))
        json_object_set_new(report, "summary", json_object());
    if (json_object_get(report, "implementation_version") == NULL)
        json_object_set_new(report, "implementation_version", json_null());
    if (json_object_get(report, "duration_s") == NULL)
        json_object_set_new(report, "duration_s", json_real(0));

    json_t *runs = json_object_get(report, "runs");
    if (!json_is_array(runs) || json_array_size(runs) == 0) {
        const char *impl = str_of(report, "implementation") ? str_of(report, "implementation") : "implementation";
        char *label = mtp_report_run_label(impl);
        json_t *run = json_pack("{s:s, s:s, s:O, s:s, s:s, s:s, s:O, s:o}", "id", label ? label : "implementation",
                                "implementation", impl, "implementation_version",
                                json_object_get(report, "implementation_version"), "kind", str_of(report, "kind"),
                                "command", str_of(report, "command") ? str_of(report, "command") : "", "started",
                                str_of(report, "started") ? str_of(report, "started") : "", "duration_s",
                                json_object_get(report, "duration_s"), "transports", transports_of(report));
        free(label);
        if (run == NULL) {
            say(why, why_len, "out of memory");
            return -1;
        }
        if (json_object_get(report, "options"))
            json_object_set(run, "options", json_object_get(report, "options"));
        runs = json_array();
        json_array_append_new(runs, run);
        json_object_set_new(report, "runs", runs);
    }
    const char *only_run = json_array_size(runs) == 1 ? str_of(json_array_get(runs, 0), "id") : NULL;

    json_t *levels = json_object(); /* case id -> level */
    size_t i;
    json_t *c, *r;
    json_array_foreach(json_object_get(report, "cases"), i, c)
    {
        if (str_of(c, "id") && json_object_get(c, "level"))
            json_object_set(levels, str_of(c, "id"), json_object_get(c, "level"));
    }
    size_t nruns = json_array_size(runs);
    struct counts all = {0}, *per_run = calloc(nruns ? nruns : 1, sizeof *per_run);
    if (per_run == NULL) {
        json_decref(levels);
        say(why, why_len, "out of memory");
        return -1;
    }
    int rc = 0;
    json_array_foreach(json_object_get(report, "results"), i, r)
    {
        if (!json_is_object(r) || str_of(r, "case") == NULL) {
            say(why, why_len, "results[%zu] has no \"case\"", i);
            rc = -1;
            break;
        }
        if (json_object_get(r, "run") == NULL) {
            if (only_run == NULL) {
                say(why, why_len, "results[%zu] names no run, and the report has %zu", i, nruns);
                rc = -1;
                break;
            }
            json_object_set_new(r, "run", json_string(only_run));
        }
        if (json_object_get(r, "transport") == NULL)
            json_object_set_new(r, "transport", json_null());
        if (json_object_get(r, "repeat") == NULL)
            json_object_set_new(r, "repeat", json_integer(0));
        if (json_object_get(r, "verdict") == NULL || str_of(r, "verdict") == NULL)
            json_object_set_new(r, "verdict", json_string("error"));
        count(&all, r, levels);
        size_t k;
        json_t *run;
        json_array_foreach(runs, k, run)
        {
            if (strcmp(str_of(run, "id") ? str_of(run, "id") : "", str_of(r, "run") ? str_of(r, "run") : "") == 0)
                count(&per_run[k], r, levels);
        }
    }
    if (rc == 0) {
        counts_put(json_object_get(report, "summary"), &all);
        size_t k;
        json_t *run;
        json_array_foreach(runs, k, run)
        {
            json_t *s = json_object_get(run, "summary");
            if (!json_is_object(s)) {
                s = json_object();
                json_object_set_new(run, "summary", s);
            }
            counts_put(s, &per_run[k]);
        }
    }
    free(per_run);
    json_decref(levels);
    return rc;
}

/* --- loading -------------------------------------------------------------- */

json_t *mtp_report_load(const char *path, char *why, size_t why_len)
{
    struct stat st;
    char file[4096];
    if (stat(path, &st) != 0) {
        say(why, why_len, "%s: %s", path, strerror(errno));
        return NULL;
    }
    snprintf(file, sizeof file, "%s", path);
    if (S_ISDIR(st.st_mode)) {
        static const char *const names[] = {"report.json", "kat.json", "fuzz.json"};
        bool found = false;
        for (size_t i = 0; i < sizeof names / sizeof names[0] && !found; i++) {
            snprintf(file, sizeof file, "%s/%s", path, names[i]);
            found = stat(file, &st) == 0;
        }
        if (!found) {
            say(why, why_len, "%s holds no report.json, kat.json or fuzz.json", path);
            return NULL;
        }
    }
    json_error_t je;
    json_t *r = json_load_file(file, JSON_ALLOW_NUL, &je);
    if (r == NULL) {
        say(why, why_len, "%s:%d:%d: %s", file, je.line, je.column, je.text);
        return NULL;
    }
    char inner[512];
    if (mtp_report_finish(r, inner, sizeof inner) != 0) {
        say(why, why_len, "%s: %s", file, inner);
        json_decref(r);
        return NULL;
    }
    return r;
}

/* --- files ---------------------------------------------------------------- */

int mtp_report_write_file(const char *path, const char *data, size_t n, char *why, size_t why_len)
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
    int rc = mtp_report_write_file(path, s, n + 1, why, why_len);
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
    if (stem)
        snprintf(path, sizeof path, "%s/%s.json", dir, stem);
    else
        snprintf(path, sizeof path, "%s/report.json", dir);
    if (mtp_report_write_json(report, path, why, why_len) != 0)
        return -1;
    if (stem)
        snprintf(path, sizeof path, "%s/%s.junit.xml", dir, stem);
    else
        snprintf(path, sizeof path, "%s/junit.xml", dir);
    if (mtp_report_write_junit(report, path, why, why_len) != 0)
        return -1;
    if (stem)
        snprintf(path, sizeof path, "%s/%s.html", dir, stem);
    else
        snprintf(path, sizeof path, "%s/index.html", dir);
    struct mtp_report_html_options ho = {0};
    return mtp_report_write_html(report, path, &ho, why, why_len);
}
