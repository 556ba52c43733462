/* Case files: loading and validation (docs/cases.md). */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check/check.h"
#include "check/check_judge.h"
#include "check/check_server.h"
#include "mtps_hs.h"
#include "mtps_scenario.h"

#define CASE_FILE_FORMAT "mtprobe-cases-1"
#define CASE_TIMEOUT_MAX 600.0

const char *const check_transport_names[CHECK_MAX_TRANSPORTS] = {
    "abridged", "intermediate", "padded", "full", "obfuscated-abridged", "obfuscated-intermediate", "obfuscated-padded",
};

int check_transport_index(const char *name)
{
    for (int i = 0; i < CHECK_MAX_TRANSPORTS; i++)
        if (strcmp(check_transport_names[i], name) == 0)
            return i;
    return -1;
}

static const char *const level_names[CHECK_NLEVELS] = {"MUST", "SHOULD", "RECOMMENDED", "MAY", "INFO"};
const char *check_level_name(enum check_level l) { return (unsigned)l < CHECK_NLEVELS ? level_names[l] : "?"; }
int check_level_parse(const char *s, enum check_level *out)
{
    for (int i = 0; i < CHECK_NLEVELS; i++)
        if (s && strcmp(s, level_names[i]) == 0) {
            *out = (enum check_level)i;
            return 0;
        }
    return -1;
}

static const char *const verdict_names[CHECK_NVERDICTS] = {"pass",        "fail",  "crash", "hang",
                                                           "unsupported", "error", "xfail", "xpass"};
const char *check_verdict_name(enum check_verdict v) { return (unsigned)v < CHECK_NVERDICTS ? verdict_names[v] : "?"; }

static const struct {
    enum check_expect e;
    const char *name;
} expects[] = {
    {CHECK_EXPECT_ACCEPT, "accept"},
    {CHECK_EXPECT_REJECT_EXCHANGE, "reject_exchange"},
    {CHECK_EXPECT_REJECT_MESSAGE, "reject_message"},
    {CHECK_EXPECT_RESTART, "restart"},
    {CHECK_EXPECT_PASSIVE, "passive"},
    {CHECK_EXPECT_CONTINUE_EXCHANGE, "continue_exchange"},
    {CHECK_EXPECT_GIVE_UP, "give_up"},
    {CHECK_EXPECT_REACTION, "reaction"},
    {CHECK_EXPECT_SERVE, "serve"},
    {CHECK_EXPECT_RECORD, "record"},
};

static bool server_expect(enum check_expect e) { return e >= CHECK_EXPECT_REACTION; }
const char *check_expect_name(enum check_expect e)
{
    for (size_t i = 0; i < sizeof expects / sizeof expects[0]; i++)
        if (expects[i].e == e)
            return expects[i].name;
    return "?";
}

/* Server messages a key-exchange case may name as hostile. */
static const char *const hostile_ctors[] = {"resPQ", "server_DH_params_ok", "dh_gen_ok", "dh_gen_retry",
                                            "dh_gen_fail"};

/* --- problems --- */

struct loader {
    FILE *err;
    int problems;
    const char *file;
    const json_t *catalogue_index; /* id -> requirement object */
    bool server;                   /* the file's "side" is "server" */
};

static void problem(struct loader *L, const char *id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(struct loader *L, const char *id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (L->err) {
        fprintf(L->err, "%s%s%s: ", L->file, id ? ": case " : "", id ? id : "");
        vfprintf(L->err, fmt, ap);
        fputc('\n', L->err);
    }
    va_end(ap);
    L->problems++;
}

static char *dup_str(const json_t *v) { return json_is_string(v) ? strdup(json_string_value(v)) : NULL; }

static bool id_ok(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 96)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
            return false;
    return true;
}

static int parse_transports(const json_t *v, uint32_t *out)
{
    *out = 0;
    if (v == NULL || (json_is_string(v) && strcmp(json_string_value(v), "all") == 0)) {
        *out = (1u << CHECK_MAX_TRANSPORTS) - 1;
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "plain") == 0) {
            *out = 0x0f;
            return 0;
        }
        if (strcmp(s, "obfuscated") == 0) {
            *out = 0x70;
            return 0;
        }
        int i = check_transport_index(s);
        if (i < 0)
            return -1;
        *out = 1u << i;
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return -1;
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        int t = json_is_string(e) ? check_transport_index(json_string_value(e)) : -1;
        if (t < 0)
            return -1;
        *out |= 1u << t;
    }
    return 0;
}

static bool requests_ok(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return false;
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (strcmp(t, "ping") != 0 && strcmp(t, "nearest_dc") != 0 && strcmp(t, "config") != 0)
            return false;
    return true;
}

static const char *const case_keys[] = {"id",       "requirement", "level",   "title",   "spec",   "tags",
                                        "transports", "requests",  "timeout", "scenario", "expect", "hostile", "hostile_from",
                                        "checks",   "secret",      "note",    "comment"};
/* Server cases: no scenario, requests, hostile or secret (the server under test is not ours to configure). */
static const char *const server_case_keys[] = {"id",     "requirement", "level",  "title",   "spec",      "tags",
                                               "transports", "timeout", "expect", "checks", "note",    "comment",
                                               "probe",  "allowed",     "exclusive"};

static void server_problem(void *ctx, const char *id, const char *msg);

static bool known_key(const char *k, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(k, keys[i]) == 0)
            return true;
    return false;
}

/* The value of key in the case, else in the file's defaults. */
static const json_t *get(const json_t *c, const json_t *defaults, const char *key)
{
    const json_t *v = json_object_get(c, key);
    return v ? v : json_object_get(defaults, key);
}

static int load_case(struct loader *L, const json_t *c, const json_t *defaults, const char *group,
                     struct check_case *out)
{
    memset(out, 0, sizeof *out);
    int before = L->problems;
    if (!json_is_object(c)) {
        problem(L, NULL, "a case is not a JSON object");
        return -1;
    }
    const char *id = json_string_value(json_object_get(c, "id"));
    if (!id_ok(id)) {
        problem(L, id, "\"id\" must be 1..96 characters of a-z 0-9 . - _");
        return -1;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)c, k, v)
    {
        if (L->server ? !known_key(k, server_case_keys, sizeof server_case_keys / sizeof server_case_keys[0])
                      : !known_key(k, case_keys, sizeof case_keys / sizeof case_keys[0]))
            problem(L, id, "unknown key \"%s\"", k);
    }
    out->id = strdup(id);
    out->file = strdup(L->file);
    out->group = strdup(group);
    out->requirement = dup_str(json_object_get(c, "requirement"));
    const json_t *req = out->requirement ? json_object_get(L->catalogue_index, out->requirement) : NULL;
    if (out->requirement == NULL)
        problem(L, id, "\"requirement\" (a catalogue id such as C-DH-1) is required");
    else if (L->catalogue_index && req == NULL)
        problem(L, id, "requirement \"%s\" is not in the catalogue", out->requirement);
    const char *level = json_string_value(get(c, defaults, "level"));
    if (level == NULL && req)
        level = json_string_value(json_object_get(req, "level"));
    if (check_level_parse(level, &out->level) < 0)
        problem(L, id, "\"level\" must be MUST, SHOULD, RECOMMENDED, MAY or INFO");
    out->title = dup_str(json_object_get(c, "title"));
    if (out->title == NULL)
        problem(L, id, "\"title\" is required");
    out->area = dup_str(req ? json_object_get(req, "area") : NULL);
    if (out->area == NULL)
        out->area = strdup(group);
    const json_t *spec = json_object_get(c, "spec");
    if (spec && (!json_is_object(spec) || !json_is_string(json_object_get(spec, "url"))))
        problem(L, id, "\"spec\" must be an object with at least \"url\"");
    if (spec == NULL && req)
        spec = json_object_get(req, "spec");
    out->spec = spec ? json_deep_copy(spec) : json_object();
    const json_t *tags = get(c, defaults, "tags");
    if (tags && !json_is_array(tags))
        problem(L, id, "\"tags\" must be an array of strings");
    out->tags = tags ? json_deep_copy(tags) : json_array();
    if (parse_transports(get(c, defaults, "transports"), &out->transports) < 0)
        problem(L, id, "\"transports\" must be \"all\", \"plain\", \"obfuscated\", a transport name or a list of them");
    const json_t *rq = L->server ? NULL : get(c, defaults, "requests");
    out->requests = strdup(rq ? (json_string_value(rq) ? json_string_value(rq) : "") : "nearest_dc");
    if (!L->server && !requests_ok(out->requests))
        problem(L, id, "\"requests\" must be a comma-separated list of ping, nearest_dc, config");
    const json_t *to = get(c, defaults, "timeout");
    out->timeout_s = to ? json_number_value(to) : 20.0;
    if ((to && !json_is_number(to)) || out->timeout_s <= 0 || out->timeout_s > CASE_TIMEOUT_MAX)
        problem(L, id, "\"timeout\" must be a number of seconds in (0, %.0f]", CASE_TIMEOUT_MAX);
    const json_t *scen = json_object_get(c, "scenario");
    if (L->server) {
        out->scenario = json_object();
    } else if (scen && !json_is_object(scen)) {
        problem(L, id, "\"scenario\" must be an object (the format of docs/scenarios.md)");
    } else {
        out->scenario = scen ? json_deep_copy(scen) : json_object();
        if (json_object_get(out->scenario, "name") == NULL)
            json_object_set_new(out->scenario, "name", json_string(id));
        /* The server would refuse it at start: say so now, naming the case. */
        char *text = json_dumps(out->scenario, JSON_COMPACT);
        struct mtps_scenario ms;
        struct mtp_error err;
        mtp_error_clear(&err);
        if (text == NULL || mtps_scenario_parse(&ms, text, strlen(text), id, &err) < 0) {
            problem(L, id, "scenario: %s", text ? err.msg : "out of memory");
        } else {
            /* The auth section is read by the handshake adapter at server start. */
            struct mtps_auth_cfg ac;
            if (mtps_auth_cfg_parse(&ac, ms.auth, id, &err) < 0)
                problem(L, id, "scenario: %s", err.msg);
            else
                mtps_auth_cfg_free(&ac);
            mtps_scenario_free(&ms);
        }
        free(text);
    }
    const char *ex = json_string_value(json_object_get(c, "expect"));
    for (size_t i = 0; ex && i < sizeof expects / sizeof expects[0]; i++)
        if (strcmp(ex, expects[i].name) == 0)
            out->expect = expects[i].e;
    if (L->server && out->expect == CHECK_EXPECT_PASSIVE)
        ; /* passive: named checks over the probe's log, as on the client side */
    else if (L->server && out->expect != 0 && !server_expect(out->expect))
        out->expect = 0;
    else if (!L->server && server_expect(out->expect))
        out->expect = 0;
    if (out->expect == 0 && L->server)
        problem(L, id, "\"expect\" of a server case must be reaction, serve, record or passive");
    else if (out->expect == 0)
        problem(L, id, "\"expect\" must be accept, reject_exchange, continue_exchange, reject_message, restart, "
                       "give_up or passive");
    out->hostile = dup_str(json_object_get(c, "hostile"));
    const json_t *hf = json_object_get(c, "hostile_from");
    out->hostile_from = 1;
    if (hf && (!json_is_integer(hf) || json_integer_value(hf) < 1 || json_integer_value(hf) > 1000 || !out->hostile))
        problem(L, id, "\"hostile_from\" must be 1..1000, with \"hostile\"");
    else if (hf)
        out->hostile_from = (unsigned)json_integer_value(hf);
    if (out->expect == CHECK_EXPECT_REJECT_EXCHANGE || out->expect == CHECK_EXPECT_CONTINUE_EXCHANGE) {
        bool ok = false;
        for (size_t i = 0; out->hostile && i < sizeof hostile_ctors / sizeof hostile_ctors[0]; i++)
            ok |= strcmp(out->hostile, hostile_ctors[i]) == 0;
        if (!ok)
            problem(L, id, "%s needs \"hostile\": resPQ, server_DH_params_ok, dh_gen_ok, dh_gen_retry or dh_gen_fail",
                    ex);
    } else if (out->hostile) {
        problem(L, id, "\"hostile\" belongs to reject_exchange and continue_exchange cases only");
    }
    const json_t *checks = json_object_get(c, "checks");
    out->checks = checks ? json_deep_copy(checks) : json_array();
    if (checks && !json_is_array(checks)) {
        problem(L, id, "\"checks\" must be an array of check names");
    } else {
        size_t i;
        const json_t *e;
        json_array_foreach(out->checks, i, e)
        {
            if (L->server && json_is_string(e) && check_server_named_known(json_string_value(e)))
                continue;
            if (L->server || !json_is_string(e) || !check_named_known(json_string_value(e)))
                problem(L, id, "unknown check \"%s\" (see docs/cases.md)", json_is_string(e) ? json_string_value(e) : "?");
        }
    }
    if (out->expect == CHECK_EXPECT_PASSIVE && json_array_size(out->checks) == 0)
        problem(L, id, "a passive case needs at least one named check");
    out->secret = dup_str(json_object_get(c, "secret"));
    if (out->secret) {
        size_t n = strlen(out->secret);
        bool hex = n == 32 || n == 34;
        for (size_t i = 0; i < n; i++)
            hex &= strchr("0123456789abcdef", out->secret[i]) != NULL;
        if (!hex)
            problem(L, id, "\"secret\" must be 16 bytes of lowercase hex, or dd + 16 bytes");
    }
    out->note = dup_str(json_object_get(c, "note"));
    if (L->server) {
        out->server = true;
        check_server_case_load(c, req, out, server_problem, L);
    }
    return L->problems == before ? 0 : -1;
}

static void server_problem(void *ctx, const char *id, const char *msg) { problem(ctx, id, "%s", msg); }

static void case_free(struct check_case *c)
{
    free(c->id);
    free(c->file);
    free(c->group);
    free(c->requirement);
    free(c->title);
    free(c->area);
    json_decref(c->spec);
    json_decref(c->tags);
    free(c->requests);
    json_decref(c->scenario);
    free(c->hostile);
    json_decref(c->checks);
    free(c->secret);
    free(c->note);
    json_decref(c->probe);
    json_decref(c->allowed);
}

void check_suite_free(struct check_suite *s)
{
    for (size_t i = 0; i < s->n; i++)
        case_free(&s->cases[i]);
    free(s->cases);
    json_decref(s->catalogue);
    memset(s, 0, sizeof *s);
}

static const char *const file_keys[] = {"format", "side", "group", "title", "defaults", "cases", "comment"};

static int load_file(struct check_suite *s, struct loader *L, const char *path)
{
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL) {
        problem(L, NULL, "line %d column %d: %s", je.line, je.column, je.text);
        return -1;
    }
    int rc = 0;
    const char *k;
    const json_t *v;
    json_object_foreach(doc, k, v)
    {
        if (!known_key(k, file_keys, sizeof file_keys / sizeof file_keys[0]))
            problem(L, NULL, "unknown top-level key \"%s\"", k);
    }
    const char *fmt = json_string_value(json_object_get(doc, "format"));
    const char *group = json_string_value(json_object_get(doc, "group"));
    const json_t *cases = json_object_get(doc, "cases");
    const json_t *defaults = json_object_get(doc, "defaults");
    if (fmt == NULL || strcmp(fmt, CASE_FILE_FORMAT) != 0)
        problem(L, NULL, "\"format\" must be \"" CASE_FILE_FORMAT "\"");
    if (!id_ok(group))
        problem(L, NULL, "\"group\" must be a short lowercase name");
    if (!json_is_array(cases) || json_array_size(cases) == 0)
        problem(L, NULL, "\"cases\" must be a non-empty array");
    if (defaults && !json_is_object(defaults))
        problem(L, NULL, "\"defaults\" must be an object");
    const char *side = json_string_value(json_object_get(doc, "side"));
    if (side && strcmp(side, "client") != 0 && strcmp(side, "server") != 0)
        problem(L, NULL, "\"side\" must be \"client\" or \"server\"");
    L->server = side && strcmp(side, "server") == 0;
    if (L->problems || !json_is_array(cases)) {
        json_decref(doc);
        return -1;
    }
    size_t i;
    const json_t *c;
    json_array_foreach(cases, i, c)
    {
        struct check_case cc;
        if (load_case(L, c, defaults, group, &cc) < 0) {
            case_free(&cc);
            rc = -1;
            continue;
        }
        for (size_t j = 0; j < s->n; j++)
            if (strcmp(s->cases[j].id, cc.id) == 0) {
                problem(L, cc.id, "the id is used twice (also in %s)", s->cases[j].file);
                rc = -1;
            }
        struct check_case *nc = realloc(s->cases, (s->n + 1) * sizeof *nc);
        if (nc == NULL) {
            case_free(&cc);
            json_decref(doc);
            return -1;
        }
        s->cases = nc;
        s->cases[s->n++] = cc;
    }
    json_decref(doc);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int list_json(const char *dir, char ***out, size_t *n, FILE *err)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (err)
            fprintf(err, "%s: cannot read the case directory: %s\n", dir, strerror(errno));
        return -1;
    }
    char **v = NULL;
    size_t cnt = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
            continue;
        char **nv = realloc(v, (cnt + 1) * sizeof *nv);
        if (nv == NULL)
            break;
        v = nv;
        v[cnt++] = strdup(e->d_name);
    }
    closedir(d);
    if (cnt)
        qsort(v, cnt, sizeof *v, cmp_str);
    *out = v;
    *n = cnt;
    return 0;
}

/* The catalogue's requirements indexed by id. */
static json_t *index_catalogue(const json_t *cat, FILE *err, int *problems)
{
    json_t *idx = json_object();
    const json_t *reqs = json_object_get(cat, "requirements");
    size_t i;
    const json_t *r;
    json_array_foreach(reqs, i, r)
    {
        const char *id = json_string_value(json_object_get(r, "id"));
        if (id == NULL) {
            if (err)
                fprintf(err, "catalogue: requirement %zu has no id\n", i);
            (*problems)++;
            continue;
        }
        json_object_set(idx, id, (json_t *)r);
    }
    return idx;
}

int check_suite_load(struct check_suite *s, const char *dir, const char *catalogue_path, FILE *err)
{
    memset(s, 0, sizeof *s);
    char cat_default[4096];
    if (catalogue_path == NULL) {
        snprintf(cat_default, sizeof cat_default, "%s/../requirements.json", dir);
        catalogue_path = cat_default;
    }
    int problems = 0;
    json_error_t je;
    s->catalogue = json_load_file(catalogue_path, JSON_REJECT_DUPLICATES, &je);
    if (s->catalogue == NULL) {
        if (err)
            fprintf(err, "%s: cannot read the requirements catalogue: %s\n", catalogue_path, je.text);
        return -1;
    }
    json_t *idx = index_catalogue(s->catalogue, err, &problems);
    char **files = NULL;
    size_t nfiles = 0;
    if (list_json(dir, &files, &nfiles, err) < 0) {
        json_decref(idx);
        return -1;
    }
    if (nfiles == 0 && err)
        fprintf(err, "%s: no case files (*.json)\n", dir);
    for (size_t i = 0; i < nfiles; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        struct loader L = {.err = err, .file = files[i], .catalogue_index = idx};
        (void)load_file(s, &L, path);
        problems += L.problems;
        free(files[i]);
    }
    free(files);
    json_decref(idx);
    return nfiles == 0 ? -1 : problems;
}

/* --- expectations --- */

int check_expectations_load(struct check_expectations *x, const char *path, char *why, size_t why_len)
{
    memset(x, 0, sizeof *x);
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL) {
        snprintf(why, why_len, "%s: line %d: %s", path, je.line, je.text);
        return -1;
    }
    const json_t *list = json_object_get(doc, "expected_failures");
    if (!json_is_array(list)) {
        snprintf(why, why_len, "%s: \"expected_failures\" must be an array", path);
        json_decref(doc);
        return -1;
    }
    x->implementation = dup_str(json_object_get(doc, "implementation"));
    x->v = calloc(json_array_size(list) + 1, sizeof *x->v);
    size_t i;
    const json_t *e;
    int rc = 0;
    json_array_foreach(list, i, e)
    {
        struct check_expected_failure *f = &x->v[x->n];
        const char *cases = json_string_value(json_object_get(e, "cases"));
        const char *reason = json_string_value(json_object_get(e, "reason"));
        const char *ref = json_string_value(json_object_get(e, "ref"));
        if (cases == NULL || reason == NULL || ref == NULL ||
            parse_transports(json_object_get(e, "transports"), &f->transports) < 0) {
            snprintf(why, why_len, "%s: entry %zu needs \"cases\" (comma-separated globs of case ids), \"reason\", "
                     "\"ref\" (the library's file:line) and optionally \"transports\" and \"sometimes\"", path, i);
            rc = -1;
            break;
        }
        f->cases = strdup(cases);
        f->sometimes = json_is_true(json_object_get(e, "sometimes"));
        f->reason = strdup(reason);
        f->ref = strdup(ref);
        x->n++;
    }
    json_decref(doc);
    if (rc < 0)
        check_expectations_free(x);
    return rc;
}

void check_expectations_free(struct check_expectations *x)
{
    for (size_t i = 0; i < x->n; i++) {
        free(x->v[i].cases);
        free(x->v[i].reason);
        free(x->v[i].ref);
    }
    free(x->v);
    free(x->implementation);
    memset(x, 0, sizeof *x);
}

static bool glob_list_match(const char *list, const char *s)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save))
        if (fnmatch(g, s, 0) == 0)
            return true;
    return false;
}

const struct check_expected_failure *check_expected(const struct check_expectations *x, const char *case_id, int t)
{
    for (size_t i = 0; x && i < x->n; i++)
        if ((x->v[i].transports & (1u << t)) && glob_list_match(x->v[i].cases, case_id))
            return &x->v[i];
    return NULL;
}
