#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kat/kat.h"
#include "shim/shim.h"

#define VECTOR_FORMAT_PREFIX "mtprobe-vectors/"

json_t *kat_target_call(struct kat_target *t, const json_t *req, char *why, size_t why_len)
{
    if (t->proc)
        return shim_proc_call(t->proc, req, why, why_len);
    json_t *ans = mtp_shim_handle(req);
    if (ans == NULL)
        snprintf(why, why_len, "the reference implementation ran out of memory");
    return ans;
}

/* --- collecting files ------------------------------------------------------ */

struct file_list {
    char **paths;
    char **names; /* relative name for reports, without ".json" */
    size_t n, cap;
};

static int list_add(struct file_list *l, const char *path, const char *name)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 32;
        char **np = realloc(l->paths, ncap * sizeof *np), **nn;
        if (np == NULL)
            return -1;
        l->paths = np;
        nn = realloc(l->names, ncap * sizeof *nn);
        if (nn == NULL)
            return -1;
        l->names = nn;
        l->cap = ncap;
    }
    size_t nl = strlen(name);
    l->paths[l->n] = strdup(path);
    l->names[l->n] = strndup(name, nl > 5 && strcmp(name + nl - 5, ".json") == 0 ? nl - 5 : nl);
    if (l->paths[l->n] == NULL || l->names[l->n] == NULL)
        return -1;
    l->n++;
    return 0;
}

static void list_free(struct file_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->paths[i]);
        free(l->names[i]);
    }
    free(l->paths);
    free(l->names);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Recursively adds every *.json under dir, in sorted order so runs are reproducible. */
static int walk(struct file_list *l, const char *dir, const char *rel, FILE *out)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(out, "mtprobe kat: cannot read directory %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **entries = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **ne = realloc(entries, cap * sizeof *ne);
            if (ne == NULL) {
                rc = -1;
                break;
            }
            entries = ne;
        }
        if ((entries[n] = strdup(e->d_name)) == NULL) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (n)
        qsort(entries, n, sizeof *entries, cmp_str);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[4096], sub[4096];
        snprintf(path, sizeof path, "%s/%s", dir, entries[i]);
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", entries[i]);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        /* vectors/cases holds conformance cases (docs/cases.md), not vectors. */
        if (S_ISDIR(st.st_mode) && !(*rel == '\0' && strcmp(entries[i], "cases") == 0))
            rc = walk(l, path, sub, out);
        else if (strlen(entries[i]) > 5 && strcmp(entries[i] + strlen(entries[i]) - 5, ".json") == 0)
            rc = list_add(l, path, sub);
    }
    for (size_t i = 0; i < n; i++)
        free(entries[i]);
    free(entries);
    return rc;
}

/* --- running one file ------------------------------------------------------ */

static void say(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

/* A note of the file's "notes": a string, or an object with a "description"
 * and optionally the "level" of the rule the flagged vectors check. */
static int validate_notes(const json_t *doc, char *why, size_t why_len)
{
    json_t *notes = json_object_get(doc, "notes");
    if (notes == NULL)
        return 0;
    if (!json_is_object(notes)) {
        say(why, why_len, "\"notes\": not an object of flag names");
        return -1;
    }
    const char *flag;
    json_t *n;
    json_object_foreach(notes, flag, n)
    {
        if (json_is_string(n))
            continue;
        enum kat_level lv;
        json_t *level = json_object_get(n, "level");
        if (!json_is_object(n) || !json_is_string(json_object_get(n, "description"))) {
            say(why, why_len, "notes.%s: a string, or an object with a string \"description\"", flag);
            return -1;
        }
        if (level && kat_level_parse(json_string_value(level), &lv) != 0) {
            say(why, why_len, "notes.%s.level: MUST, SHOULD, RECOMMENDED, MAY or INFO", flag);
            return -1;
        }
        json_t *req = json_object_get(n, "requirement");
        if (req && !json_is_string(req)) {
            say(why, why_len, "notes.%s.requirement: a catalogue id string", flag);
            return -1;
        }
    }
    return 0;
}

/* The level of the rule a test checks: the strongest level its flags' notes
 * name, MUST when none names one.  *flag (may be NULL) gets the flag that set it. */
static enum kat_level level_of(const json_t *doc, const json_t *t, const char **flag)
{
    enum kat_level best = KAT_LEVEL_INFO;
    bool any = false;
    size_t i;
    json_t *f;
    if (flag)
        *flag = NULL;
    json_array_foreach(json_object_get(t, "flags"), i, f)
    {
        json_t *note = json_object_get(json_object_get(doc, "notes"), json_string_value(f) ? json_string_value(f) : "");
        enum kat_level lv;
        if (kat_level_parse(json_string_value(json_object_get(note, "level")), &lv) != 0)
            continue;
        if (!any || lv < best) {
            best = lv;
            if (flag)
                *flag = json_string_value(f);
        }
        any = true;
    }
    return any ? best : KAT_LEVEL_MUST;
}

static int validate_features(const json_t *features, const char *where, char *why, size_t why_len)
{
    if (features == NULL)
        return 0;
    size_t i;
    json_t *f;
    bool ok = json_is_array(features);
    json_array_foreach(features, i, f)
    {
        if (!json_is_string(f) || mtp_shim_feature_find(json_string_value(f)) == NULL) {
            say(why, why_len, "%s.features[%zu]: not a shim feature (docs/shim.md, \"Versions and features\")", where, i);
            return -1;
        }
    }
    if (!ok) {
        say(why, why_len, "%s.features: not an array of shim feature names", where);
        return -1;
    }
    return 0;
}

/* Checks the shape of a vector file so that a typo in a vector is reported
 * as such, not as an implementation failure. */
static int validate(const json_t *doc, char *why, size_t why_len)
{
    if (!json_is_string(json_object_get(doc, "source"))) {
        say(why, why_len, "missing string \"source\" (every vector file names where its values come from)");
        return -1;
    }
    json_t *groups = json_object_get(doc, "testGroups");
    if (!json_is_array(groups)) {
        say(why, why_len, "missing array \"testGroups\"");
        return -1;
    }
    if (validate_notes(doc, why, why_len) != 0)
        return -1;
    size_t gi, ti;
    json_t *g, *t;
    json_array_foreach(groups, gi, g)
    {
        char where[96];
        if (!json_is_string(json_object_get(g, "op"))) {
            say(why, why_len, "testGroups[%zu]: missing string \"op\"", gi);
            return -1;
        }
        json_t *ga = json_object_get(g, "args");
        if (ga && !json_is_object(ga)) {
            say(why, why_len, "testGroups[%zu].args: not an object", gi);
            return -1;
        }
        snprintf(where, sizeof where, "testGroups[%zu]", gi);
        if (validate_features(json_object_get(g, "features"), where, why, why_len) != 0)
            return -1;
        json_t *tests = json_object_get(g, "tests");
        if (!json_is_array(tests)) {
            say(why, why_len, "testGroups[%zu]: missing array \"tests\"", gi);
            return -1;
        }
        json_array_foreach(tests, ti, t)
        {
            const char *res = json_string_value(json_object_get(t, "result"));
            json_t *args = json_object_get(t, "args"), *expect = json_object_get(t, "expect");
            json_t *lax = json_object_get(t, "lax"), *flags = json_object_get(t, "flags");
            if (!json_is_integer(json_object_get(t, "tcId"))) {
                say(why, why_len, "testGroups[%zu].tests[%zu]: missing integer \"tcId\"", gi, ti);
                return -1;
            }
            long long tc = (long long)json_integer_value(json_object_get(t, "tcId"));
            if (res == NULL ||
                (strcmp(res, "valid") != 0 && strcmp(res, "invalid") != 0 && strcmp(res, "acceptable") != 0)) {
                say(why, why_len, "testGroups[%zu].tests[%zu] (tcId %lld): \"result\" must be valid, invalid or acceptable",
                    gi, ti, tc);
                return -1;
            }
            if ((args && !json_is_object(args)) || (expect && !json_is_object(expect)) || (lax && !json_is_object(lax))) {
                say(why, why_len, "testGroups[%zu].tests[%zu]: \"args\", \"expect\" and \"lax\" must be objects", gi, ti);
                return -1;
            }
            size_t fi;
            json_t *f;
            bool flags_ok = flags == NULL || json_is_null(flags) || json_is_array(flags);
            json_array_foreach(flags, fi, f) flags_ok &= json_is_string(f);
            if (!flags_ok) {
                say(why, why_len, "tcId %lld: \"flags\" must be an array of flag names", tc);
                return -1;
            }
            snprintf(where, sizeof where, "tcId %lld", tc);
            if (validate_features(json_object_get(t, "features"), where, why, why_len) != 0)
                return -1;
            enum kat_level lv = level_of(doc, t, NULL);
            bool wants_error = json_object_get(expect, "error") != NULL;
            if (strcmp(res, "valid") == 0 && wants_error) {
                say(why, why_len, "tcId %lld: a valid vector cannot expect an error", tc);
                return -1;
            }
            if (lax && strcmp(res, "acceptable") != 0 && lv == KAT_LEVEL_MUST) {
                say(why, why_len, "tcId %lld: \"lax\" is for acceptable vectors and vectors whose flags name a level "
                                  "below MUST", tc);
                return -1;
            }
            /* A verdict reported as data has no other side to default to. */
            if (!lax && strcmp(res, "invalid") == 0 && !wants_error && lv != KAT_LEVEL_MUST) {
                say(why, why_len, "tcId %lld: below MUST, an invalid vector without an expected error needs \"lax\" "
                                  "(the answer of an implementation that skips the check)", tc);
                return -1;
            }
        }
    }
    return 0;
}

/* The first feature a test needs (its group's and its own "features") that
 * the implementation lacks, or NULL. */
static const char *missing_feature(const struct kat_options *o, const json_t *g, const json_t *t)
{
    const json_t *lists[2] = {json_object_get(g, "features"), json_object_get(t, "features")};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *f;
        json_array_foreach(lists[l], i, f)
        {
            if (!kat_caps_has(o->caps, json_string_value(f)))
                return json_string_value(f);
        }
    }
    return NULL;
}

static json_t *build_request(json_int_t id, const char *op, const json_t *gargs, const json_t *targs)
{
    json_t *req = json_pack("{s:I, s:s}", "id", id, "op", op);
    if (req == NULL)
        return NULL;
    if (gargs)
        json_object_update(req, (json_t *)gargs);
    if (targs)
        json_object_update(req, (json_t *)targs);
    /* The test's id and op win over any args that happen to carry those names. */
    json_object_set_new(req, "id", json_integer(id));
    json_object_set_new(req, "op", json_string(op));
    return req;
}

static void print_clipped(FILE *out, const char *label, const json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) : NULL;
    const char *text = s ? s : "(nothing)";
    size_t n = strlen(text);
    if (n > 400)
        fprintf(out, "      %-9s %.400s... (%zu chars)\n", label, text, n);
    else
        fprintf(out, "      %-9s %s\n", label, text);
    free(s);
}

struct file_counts {
    size_t vectors, passed, acceptable, wrong_error, unsupported, failed, not_checked;
};

/* The vector family a file belongs to (its directory), the row group of reports. */
static const char *area_title(const char *area)
{
    static const char *const titles[][2] = {
        {"aes_ige", "AES-IGE"},            {"auth", "Auth-key exchange samples"}, {"dh", "DH parameter checks"},
        {"hash", "Hashes"},                {"msgcrypt", "Message encryption"},    {"pq", "pq factorisation"},
        {"rsa", "RSA"},                    {"tl", "TL encoding"},                 {"transport", "Transports"},
    };
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
        if (strcmp(area, titles[i][0]) == 0)
            return titles[i][1];
    return area;
}

static void area_of(const char *name, char *area, size_t n)
{
    snprintf(area, n, "%s", name);
    char *slash = strchr(area, '/');
    if (slash)
        *slash = '\0';
}

/* Each vector becomes a case of the report model (what was tested) and a
 * result (what the implementation did); see harness/report/report.h. */
static void run_file(const struct kat_options *o, struct kat_target *target, const json_t *doc, const char *name,
                     json_t *report, json_t *suite, struct file_counts *fc, json_int_t *next_id)
{
    json_t *cases = json_object_get(report, "cases"), *results = json_object_get(report, "results");
    char area[256];
    area_of(name, area, sizeof area);
    size_t gi, ti;
    json_t *g, *t;
    json_array_foreach(json_object_get(doc, "testGroups"), gi, g)
    {
        const char *op = json_string_value(json_object_get(g, "op"));
        json_t *gargs = json_object_get(g, "args");
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            json_int_t tc = json_integer_value(json_object_get(t, "tcId"));
            const char *result = json_string_value(json_object_get(t, "result"));
            json_t *expect = json_object_get(t, "expect");
            json_t *empty = NULL;
            if (expect == NULL)
                expect = empty = json_object();
            const char *comment = json_string_value(json_object_get(t, "comment"));
            char id[512];
            snprintf(id, sizeof id, "%s#%lld", name, (long long)tc);
            struct kat_test kt = {.op = op, .result = result, .expect = expect, .lax = json_object_get(t, "lax")};
            kt.level = level_of(doc, t, &kt.level_flag);
            struct kat_judging kj = {.strict = o->strict, .errmap = o->errmap, .caps = o->caps};
            struct kat_judgement jm = {.status = KAT_FAIL};
            const char *lacking = missing_feature(o, g, t);
            json_t *req = NULL, *ans = NULL;
            if (lacking) {
                /* Sent anyway, an old shim would ignore the argument and answer something else. */
                jm.status = KAT_UNSUPPORTED;
                snprintf(jm.why, sizeof jm.why, "needs the shim feature \"%s\", which the implementation did not "
                                                "announce (hello: protocol %d)",
                         lacking, o->caps ? o->caps->protocol : 1);
            } else {
                req = build_request((*next_id)++, op, gargs, json_object_get(t, "args"));
                ans = req ? kat_target_call(target, req, jm.why, sizeof jm.why) : NULL;
                if (req == NULL)
                    snprintf(jm.why, sizeof jm.why, "out of memory building the request");
                else if (ans != NULL)
                    kat_judge(&kt, &kj, ans, &jm);
                /* else: crash, hang or protocol violation, and jm.why says which */
            }
            enum kat_status st = jm.status;
            const char *why = jm.why;
            fc->vectors++;
            fc->passed += st == KAT_PASS;
            fc->acceptable += st == KAT_ACCEPTABLE;
            fc->wrong_error += st == KAT_WRONG_ERROR;
            fc->unsupported += st == KAT_UNSUPPORTED;
            fc->failed += st == KAT_FAIL;
            fc->not_checked += jm.not_checked != NULL;

            json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "id", id, "title",
                                  comment && *comment ? comment : id, "area", area, "group", name, "op", op, "result",
                                  result, "flags", json_object_get(t, "flags") ? json_object_get(t, "flags") : json_null());
            /* The level of the rule: an "acceptable" vector's is at most MAY (the spec leaves it open). */
            enum kat_level case_level = kt.level;
            if (strcmp(result, "acceptable") == 0 && case_level < KAT_LEVEL_MAY)
                case_level = KAT_LEVEL_MAY;
            if (c)
                json_object_set_new(c, "level", json_string(kat_level_name(case_level)));
            json_t *note = kt.level_flag ? json_object_get(json_object_get(doc, "notes"), kt.level_flag) : NULL;
            if (c && json_is_string(json_object_get(note, "requirement")))
                json_object_set(c, "requirement", json_object_get(note, "requirement"));
            if (c && kt.lax)
                json_object_set(c, "lax", json_object_get(t, "lax"));
            if (c && json_object_get(suite, "requirements"))
                json_object_set(c, "requirements", json_object_get(suite, "requirements"));
            if (c && json_object_get(suite, "spec"))
                json_object_set(c, "spec", json_object_get(suite, "spec"));
            if (c)
                json_array_append_new(cases, c);
            json_t *r = json_pack("{s:s, s:n, s:i, s:s}", "case", id, "transport", "repeat", 0, "verdict",
                                  kat_status_name(st));
            if (r && why[0])
                json_object_set_new(r, "message", json_string(why));
            if (r && jm.not_checked)
                json_object_set(r, "not_checked", jm.not_checked);
            if (r && (st == KAT_FAIL || st == KAT_WRONG_ERROR || o->keep_passing)) {
                if (req)
                    json_object_set(r, "request", req);
                json_object_set(r, "expected", expect);
                json_object_set(r, "observed", ans ? ans : json_null());
            }
            if (r)
                json_array_append_new(results, r);

            if (st == KAT_FAIL || st == KAT_WRONG_ERROR || (o->verbose && st != KAT_PASS)) {
                fprintf(o->out, "    %s %s (%s%s%s): %s\n", st == KAT_FAIL ? "FAIL" : kat_status_name(st), id, op,
                        comment ? ": " : "", comment ? comment : "", why);
                if (st == KAT_FAIL) {
                    print_clipped(o->out, "sent:", req);
                    fprintf(o->out, "      %-9s result \"%s\", ", "expected:", result);
                    print_clipped(o->out, "", expect);
                    print_clipped(o->out, "got:", ans);
                }
            } else if (o->verbose) {
                fprintf(o->out, "    pass %s (%s)\n", id, op);
            }
            kat_judgement_clear(&jm);
            json_decref(req);
            json_decref(ans);
            json_decref(empty);
        }
    }
}

static json_t *suite_for(const json_t *doc, const char *name)
{
    json_t *s = json_pack("{s:s, s:s, s:s}", "name", name, "title",
                          json_string_value(json_object_get(doc, "title")) ? json_string_value(json_object_get(doc, "title"))
                                                                            : name,
                          "source", json_string_value(json_object_get(doc, "source")));
    if (s == NULL)
        return NULL;
    static const char *const copy[] = {"generator", "spec", "requirements"};
    for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) {
        json_t *v = json_object_get(doc, copy[i]);
        if (v)
            json_object_set(s, copy[i], v);
    }
    return s;
}

int kat_run(const struct kat_options *o, struct kat_target *target, json_t *report, struct kat_totals *tot)
{
    memset(tot, 0, sizeof *tot);
    struct file_list files = {0};
    int rc = 0;
    for (size_t i = 0; i < o->n_paths && rc == 0; i++) {
        struct stat st;
        if (stat(o->paths[i], &st) != 0) {
            fprintf(o->out, "mtprobe kat: %s: %s\n", o->paths[i], strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk(&files, o->paths[i], "", o->out);
        } else {
            const char *base = strrchr(o->paths[i], '/');
            rc = list_add(&files, o->paths[i], base ? base + 1 : o->paths[i]);
        }
    }
    /* The vector files, each with its source and spec (the report's per-file metadata). */
    json_t *suites = json_object_get(report, "suites");
    if (suites == NULL) {
        suites = json_array();
        json_object_set_new(report, "suites", suites);
    }
    json_int_t next_id = 1;
    for (size_t i = 0; i < files.n && rc == 0; i++) {
        if (o->filter && strstr(files.names[i], o->filter) == NULL)
            continue;
        json_error_t jerr;
        json_t *doc = json_load_file(files.paths[i], JSON_REJECT_DUPLICATES, &jerr);
        if (doc == NULL) {
            fprintf(o->out, "mtprobe kat: %s:%d:%d: not valid JSON: %s\n", files.paths[i], jerr.line, jerr.column,
                    jerr.text);
            rc = -1;
            break;
        }
        const char *format = json_string_value(json_object_get(doc, "format"));
        if (format == NULL || strncmp(format, VECTOR_FORMAT_PREFIX, strlen(VECTOR_FORMAT_PREFIX)) != 0) {
            /* Data files beside the vectors (raw transcripts, generator inputs) are not vector files. */
            if (o->verbose)
                fprintf(o->out, "  %-44s skipped: not a vector file (no \"format\": \"%s1\")\n", files.names[i],
                        VECTOR_FORMAT_PREFIX);
            json_decref(doc);
            continue;
        }
        char why[512];
        if (strcmp(format, VECTOR_FORMAT_PREFIX "1") != 0) {
            fprintf(o->out, "mtprobe kat: %s: unsupported format \"%s\" (this mtprobe reads %s1)\n", files.paths[i],
                    format, VECTOR_FORMAT_PREFIX);
            json_decref(doc);
            rc = -1;
            break;
        }
        if (validate(doc, why, sizeof why) != 0) {
            fprintf(o->out, "mtprobe kat: %s: malformed vector file: %s\n", files.paths[i], why);
            json_decref(doc);
            rc = -1;
            break;
        }
        json_t *suite = suite_for(doc, files.names[i]);
        struct file_counts fc = {0};
        if (suite == NULL) {
            json_decref(doc);
            rc = -1;
            break;
        }
        fprintf(o->out, "  %-44s", files.names[i]);
        fflush(o->out);
        /* Failure details are printed under the file's line, so end the line first when there are any. */
        struct kat_options quiet = *o;
        char *details = NULL;
        size_t details_len = 0;
        FILE *mem = open_memstream(&details, &details_len);
        quiet.out = mem ? mem : o->out;
        run_file(&quiet, target, doc, files.names[i], report, suite, &fc, &next_id);
        char area[256];
        area_of(files.names[i], area, sizeof area);
        json_t *areas = json_object_get(report, "areas");
        bool known = false;
        size_t ai;
        json_t *a;
        json_array_foreach(areas, ai, a) known |= strcmp(json_string_value(json_object_get(a, "id")), area) == 0;
        if (!known)
            json_array_append_new(areas, json_pack("{s:s, s:s}", "id", area, "title", area_title(area)));
        if (mem)
            fclose(mem);
        fprintf(o->out, " %4zu vectors %4zu passed", fc.vectors, fc.passed);
        if (fc.acceptable)
            fprintf(o->out, " %4zu acceptable", fc.acceptable);
        if (fc.wrong_error)
            fprintf(o->out, " %4zu wrong-error", fc.wrong_error);
        if (fc.unsupported)
            fprintf(o->out, " %4zu unsupported", fc.unsupported);
        if (fc.failed)
            fprintf(o->out, " %4zu FAILED", fc.failed);
        fprintf(o->out, "\n");
        if (details_len)
            fputs(details, o->out);
        free(details);
        json_t *counts = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "total", (json_int_t)fc.vectors, "passed",
                                   (json_int_t)fc.passed, "acceptable", (json_int_t)fc.acceptable, "wrong_error",
                                   (json_int_t)fc.wrong_error, "unsupported", (json_int_t)fc.unsupported, "failed",
                                   (json_int_t)fc.failed, "not_checked", (json_int_t)fc.not_checked);
        json_object_set_new(suite, "summary", counts);
        json_array_append_new(suites, suite);
        tot->files++;
        tot->vectors += fc.vectors;
        tot->passed += fc.passed;
        tot->acceptable += fc.acceptable;
        tot->wrong_error += fc.wrong_error;
        tot->not_checked += fc.not_checked;
        tot->unsupported += fc.unsupported;
        tot->failed += fc.failed;
        json_decref(doc);
    }
    list_free(&files);
    json_t *summary = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "files", (json_int_t)tot->files, "total",
                                (json_int_t)tot->vectors, "passed", (json_int_t)tot->passed, "acceptable",
                                (json_int_t)tot->acceptable, "wrong_error", (json_int_t)tot->wrong_error,
                                "unsupported", (json_int_t)tot->unsupported, "failed", (json_int_t)tot->failed,
                                "not_checked", (json_int_t)tot->not_checked);
    json_object_set_new(report, "summary", summary);
    return rc;
}
