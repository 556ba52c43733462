/* Running the suite: one worker process per (case, transport, repeat), up to
 * --jobs at once, each with its own mock DC on its own port; then the report. */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check/check.h"
#include "check/check_judge.h"
#include "check/check_proc.h"
#include "mtp/env.h"
#include "mtp/rsa.h"
#include "mtp/buf.h"
#include "report/report.h"

#define SERVER_START_MS 15000
#define CLIENT_GRACE_MS 5000   /* past the case's timeout before the client counts as hung */
#define SERVER_SETTLE_MS 150   /* after the client ended, for the server to see the close */
#define LINE_MAX_BYTES (1u << 20)
#define TAIL_BYTES 4000

struct run_item {
    const struct check_case *c;
    int transport;
    unsigned repeat;
    char dir[PATH_MAX + 256];
    pid_t worker;
    json_t *result;
    int64_t started_ms;
};

struct runner {
    const struct check_options *o;
    char key_path[PATH_MAX + 16], pub_path[PATH_MAX + 16];
    char runs_dir[PATH_MAX];
};

/* --- small file helpers --- */

static int write_text(const char *path, const char *s, size_t n, mode_t mode)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    int ok = fwrite(s, 1, n, f) == n;
    ok &= fclose(f) == 0;
    if (ok)
        chmod(path, mode);
    return ok ? 0 : -1;
}

static char *read_text(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max, f) : 0;
    fclose(f);
    if (buf == NULL)
        return NULL;
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* The last bytes of a file, for reports. */
static json_t *tail_of(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return json_string("");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long from = size > TAIL_BYTES ? size - TAIL_BYTES : 0;
    fseek(f, from, SEEK_SET);
    char buf[TAIL_BYTES + 1];
    size_t n = fread(buf, 1, TAIL_BYTES, f);
    fclose(f);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20 && buf[i] != '\n' && buf[i] != '\t')
            buf[i] = '?';
    json_t *s = json_stringn(buf, n);
    if (s == NULL) {
        /* Not UTF-8 (or cut inside a character): keep the ASCII. */
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)buf[i] >= 0x80)
                buf[i] = '?';
        s = json_stringn(buf, n);
    }
    return s ? s : json_string("");
}

static void rm_rf_files(const char *dir, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX + 400];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
}

/* --- the RSA key of the mock DC, made once per run --- */

static int make_key(struct runner *R, char *why, size_t why_len)
{
    snprintf(R->key_path, sizeof R->key_path, "%s/dc.pem", R->runs_dir);
    snprintf(R->pub_path, sizeof R->pub_path, "%s/dc.pub.pem", R->runs_dir);
    struct mtp_env env = mtp_env_system();
    struct mtp_rsa_key *k = NULL;
    struct mtp_error err;
    mtp_error_clear(&err);
    char *priv = NULL, *pub = NULL;
    size_t plen = 0, ulen = 0;
    int rc = mtp_rsa_key_generate(&env, &k, &err);
    if (rc == MTP_OK)
        rc = mtp_rsa_key_to_pem(k, true, &priv, &plen, &err);
    if (rc == MTP_OK)
        rc = mtp_rsa_key_to_pem(k, false, &pub, &ulen, &err);
    if (rc == MTP_OK && (write_text(R->key_path, priv, plen, 0600) < 0 || write_text(R->pub_path, pub, ulen, 0644) < 0)) {
        snprintf(why, why_len, "cannot write the mock DC's key into %.200s: %s", R->runs_dir, strerror(errno));
        rc = -1;
    } else if (rc < 0) {
        snprintf(why, why_len, "cannot make the mock DC's RSA key: %s", err.msg);
    }
    if (priv) {
        mtp_wipe(priv, plen);
        free(priv);
    }
    free(pub);
    mtp_rsa_key_free(k);
    return rc < 0 ? -1 : 0;
}

/* --- the command template --- */

struct subst {
    const char *name, *value;
};

static char *fill_template(const char *tpl, const struct subst *v, size_t n)
{
    size_t cap = strlen(tpl) + 1;
    for (size_t i = 0; i < n; i++)
        cap += strlen(v[i].value) * 8;
    char *out = malloc(cap + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (const char *p = tpl; *p;) {
        bool done = false;
        if (*p == '{') {
            for (size_t i = 0; i < n && !done; i++) {
                size_t l = strlen(v[i].name);
                if (strncmp(p + 1, v[i].name, l) == 0 && p[1 + l] == '}') {
                    size_t vl = strlen(v[i].value);
                    if ((size_t)(o - out) + vl >= cap)
                        break;
                    memcpy(o, v[i].value, vl);
                    o += vl;
                    p += l + 2;
                    done = true;
                }
            }
        }
        if (!done && (size_t)(o - out) < cap)
            *o++ = *p++;
        else if (!done)
            p++;
    }
    *o = '\0';
    return out;
}

/* --- one run, in a worker process --- */

/* AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer spoke in this log. */
static bool file_has_sanitizer_report(const char *path)
{
    size_t len;
    char *text = read_text(path, LINE_MAX_BYTES, &len);
    if (text == NULL)
        return false;
    bool found = strstr(text, "ERROR: AddressSanitizer") || strstr(text, "ERROR: LeakSanitizer") ||
                 strstr(text, "runtime error: ");
    free(text);
    return found;
}

json_t *check_load_events(const char *path)
{
    json_t *arr = json_array();
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return arr;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_error_t je;
        json_t *e = json_loadb(line, (size_t)n, 0, &je);
        if (e)
            json_array_append_new(arr, e);
    }
    free(line);
    fclose(f);
    return arr;
}

/* The client's JSON line: the last non-empty line of its stdout. */
static json_t *client_line(const char *path, char **why)
{
    size_t len;
    char *out = read_text(path, LINE_MAX_BYTES, &len);
    if (out == NULL) {
        *why = strdup("no output");
        return NULL;
    }
    while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r' || out[len - 1] == ' '))
        out[--len] = '\0';
    char *last = strrchr(out, '\n');
    last = last ? last + 1 : out;
    if (*last == '\0') {
        *why = strdup("the client printed nothing on stdout");
        free(out);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loads(last, JSON_ALLOW_NUL, &je);
    if (j == NULL || !json_is_object(j)) {
        char buf[512];
        snprintf(buf, sizeof buf, "its last stdout line is not a JSON object (%s): %.80s", j ? "not an object" : je.text,
                 last);
        *why = strdup(buf);
        json_decref(j);
        j = NULL;
    }
    free(out);
    return j;
}

static json_t *result_base(const struct run_item *it)
{
    return json_pack("{s:s, s:s, s:i}", "case", it->c->id, "transport", check_transport_names[it->transport], "repeat",
                     (int)it->repeat);
}

static json_t *error_result(const struct run_item *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *error_result(const struct run_item *it, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *r = result_base(it);
    json_object_set_new(r, "verdict", json_string("error"));
    json_object_set_new(r, "expected", json_string("the harness runs the case"));
    json_object_set_new(r, "observed", json_string(msg));
    return r;
}

/* FNV-1a over the seed, the case, the transport and the repeat. */
static uint64_t run_seed(uint64_t seed, const char *case_id, int transport, unsigned repeat)
{
    uint64_t h = 14695981039346656037u;
    char buf[256];
    snprintf(buf, sizeof buf, "%" PRIu64 "/%s/%d/%u", seed, case_id, transport, repeat);
    for (const char *p = buf; *p; p++) {
        h ^= (uint8_t)*p;
        h *= 1099511628211u;
    }
    return h;
}

static json_t *execute(const struct runner *R, const struct run_item *it)
{
    const struct check_options *o = R->o;
    if (o->exec)
        return o->exec(o, it->c, it->transport, it->repeat, it->dir);
    const struct check_case *c = it->c;
    char p_scen[PATH_MAX + 320], p_events[PATH_MAX + 320], p_slog[PATH_MAX + 320], p_out[PATH_MAX + 320],
        p_err[PATH_MAX + 320];
    snprintf(p_scen, sizeof p_scen, "%s/scenario.json", it->dir);
    snprintf(p_events, sizeof p_events, "%s/events.jsonl", it->dir);
    snprintf(p_slog, sizeof p_slog, "%s/server.log", it->dir);
    snprintf(p_out, sizeof p_out, "%s/client.stdout", it->dir);
    snprintf(p_err, sizeof p_err, "%s/client.stderr", it->dir);
    if (mtp_report_mkdirs(it->dir) != 0)
        return error_result(it, "cannot create %s: %s", it->dir, strerror(errno));
    char *scen = json_dumps(c->scenario, JSON_INDENT(2));
    if (scen == NULL || write_text(p_scen, scen, strlen(scen), 0644) < 0) {
        free(scen);
        return error_result(it, "cannot write %s", p_scen);
    }
    free(scen);

    /* The mock DC. */
    char *sargv[16];
    size_t na = 0;
    sargv[na++] = (char *)o->mtprobe;
    sargv[na++] = "serve";
    sargv[na++] = "--listen";
    sargv[na++] = "127.0.0.1:0";
    sargv[na++] = (char *)"--rsa-key";
    sargv[na++] = (char *)R->key_path;
    sargv[na++] = "--scenario";
    sargv[na++] = p_scen;
    sargv[na++] = "--events";
    sargv[na++] = p_events;
    if (c->secret) {
        sargv[na++] = "--secret";
        sargv[na++] = c->secret;
    }
    /* The mock DC's randomness from --seed and the run's identity: its side of a run replays. */
    char seedbuf[24];
    snprintf(seedbuf, sizeof seedbuf, "%" PRIu64, run_seed(o->seed, c->id, it->transport, it->repeat));
    sargv[na++] = "--seed";
    sargv[na++] = seedbuf;
    sargv[na] = NULL;
    char why[512];
    struct check_proc srv;
    if (check_proc_spawn(&srv, sargv, NULL, p_slog, why, sizeof why) < 0)
        return error_result(it, "cannot start the mock DC: %s", why);
    char line[512];
    if (check_proc_read_line(&srv, SERVER_START_MS, line, sizeof line, why, sizeof why) < 0) {
        check_proc_stop(&srv, 1000);
        json_t *r = error_result(it, "the mock DC did not start (%s); its log: %s", why, "see server.log");
        json_object_set_new(r, "server_log", tail_of(p_slog));
        return r;
    }
    char host[256] = "", portbuf[16] = "";
    int dc = 2;
    {
        char addr[256];
        if (sscanf(line, "listening %255s dc %d", addr, &dc) != 2) {
            check_proc_stop(&srv, 1000);
            return error_result(it, "unexpected first line from the mock DC: %s", line);
        }
        char *colon = strrchr(addr, ':');
        if (colon == NULL) {
            check_proc_stop(&srv, 1000);
            return error_result(it, "no port in %s", addr);
        }
        *colon = '\0';
        snprintf(host, sizeof host, "%s", addr);
        snprintf(portbuf, sizeof portbuf, "%s", colon + 1);
    }

    /* The client. */
    double timeout = c->timeout_s * o->timeout_scale;
    char tbuf[32], dcbuf[16];
    snprintf(tbuf, sizeof tbuf, "%g", timeout);
    snprintf(dcbuf, sizeof dcbuf, "%d", dc);
    const struct subst vars[] = {
        {"host", host},       {"port", portbuf},   {"rsa_pub", R->pub_path},
        {"transport", check_transport_names[it->transport]},      {"secret", c->secret ? c->secret : ""},
        {"dc", dcbuf},        {"request", c->requests}, {"timeout", tbuf},
    };
    char *cmd = fill_template(o->cmd, vars, sizeof vars / sizeof vars[0]);
    struct check_client_run run = {.started = false, .transport = check_transport_names[it->transport]};
    if (cmd) {
        char *cargv[] = {"/bin/sh", "-c", cmd, NULL};
        struct check_proc cli;
        if (check_proc_spawn(&cli, cargv, p_out, p_err, why, sizeof why) == 0) {
            run.started = true;
            check_proc_wait(&cli, (int)(timeout * 1000) + CLIENT_GRACE_MS, &run.exit);
            /* /bin/sh could not find or run the command at all. */
            if (!run.exit.timed_out && (run.exit.code == 126 || run.exit.code == 127))
                run.started = false;
        }
    }
    struct timespec settle = {0, SERVER_SETTLE_MS * 1000000L};
    nanosleep(&settle, NULL);
    check_proc_stop(&srv, 3000);

    json_t *events = check_load_events(p_events);
    if (run.started && !run.exit.timed_out)
        run.line = client_line(p_out, &run.line_error);
    struct check_judgement j;
    check_judge(c, events, &run, &j);

    /* A sanitizer's report (the mock DC or a sanitized client built with it): whatever the
     * wire showed, the run is not a pass.  In the mock DC's log it is the harness's fault. */
    if (file_has_sanitizer_report(p_slog)) {
        j.verdict = CHECK_ERROR;
        snprintf(j.observed + strlen(j.observed), sizeof j.observed - strlen(j.observed),
                 "; the mock DC reported a sanitizer error (see server_log)");
    } else if (file_has_sanitizer_report(p_err) && j.verdict != CHECK_FAIL) {
        j.verdict = CHECK_CRASH;
        snprintf(j.observed + strlen(j.observed), sizeof j.observed - strlen(j.observed),
                 "; the client reported a sanitizer error (see its stderr)");
    }
    json_t *r = result_base(it);
    json_object_set_new(r, "verdict", json_string(check_verdict_name(j.verdict)));
    json_object_set_new(r, "server_seed", json_string(seedbuf));
    json_object_set_new(r, "expected", json_string(j.expected));
    json_object_set_new(r, "observed", json_string(j.observed));
    json_object_set_new(r, "marks", j.marks);
    json_t *client = json_pack("{s:s, s:b, s:i, s:i, s:I}", "command", cmd ? cmd : "", "timed_out",
                               run.exit.timed_out, "exit", run.exit.code, "signal", run.exit.signal, "elapsed_ms",
                               (json_int_t)run.exit.elapsed_ms);
    if (run.line)
        json_object_set(client, "line", run.line);
    else if (run.line_error)
        json_object_set_new(client, "line_error", json_string(run.line_error));
    /* The logs' tails explain what went wrong; a pass keeps its wire log only. */
    bool passed = j.verdict == CHECK_PASS;
    if (!passed || o->keep_work)
        json_object_set_new(client, "stderr_tail", tail_of(p_err));
    json_object_set_new(r, "client", client);
    if (!passed || o->keep_work)
        json_object_set_new(r, "server_log", tail_of(p_slog));
    json_object_set_new(r, "wire", events);
    if (!run.started)
        json_object_set_new(r, "observed",
                            json_sprintf("the client command could not be run (exit %d): %s", run.exit.code,
                                         json_string_value(json_object_get(client, "stderr_tail"))));
    free(cmd);
    free(run.line_error);
    json_decref(run.line);
    if (j.verdict == CHECK_PASS && !o->keep_work) {
        static const char *const scratch[] = {"events.jsonl", "server.log", "client.stdout", "client.stderr",
                                              "scenario.json"};
        rm_rf_files(it->dir, scratch, sizeof scratch / sizeof scratch[0]);
    }
    return r;
}

/* --- scheduling --- */

static bool has_tag(const struct check_case *c, const char *tag)
{
    size_t i;
    const json_t *t;
    json_array_foreach(c->tags, i, t)
    {
        if (json_is_string(t) && strcmp(json_string_value(t), tag) == 0)
            return true;
    }
    return false;
}

/* Whether s matches one of the comma-separated globs in list. */
static bool match_any(const char *list, const char *s)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save))
        if (fnmatch(g, s, 0) == 0)
            return true;
    return false;
}

static bool selected(const struct check_options *o, const struct check_case *c)
{
    /* The timing cases take minutes: only on request. */
    if (has_tag(c, "timing") && !o->timing)
        return false;
    if (o->case_glob && !match_any(o->case_glob, c->id))
        return false;
    if (o->requirement && !match_any(o->requirement, c->requirement))
        return false;
    if (o->tag) {
        bool found = false;
        size_t i;
        const json_t *t;
        json_array_foreach(c->tags, i, t)
        {
            found |= json_is_string(t) && strcmp(json_string_value(t), o->tag) == 0;
        }
        if (!found && strcmp(o->tag, c->group) != 0 && strcmp(o->tag, c->area) != 0)
            return false;
    }
    return true;
}

static void sanitize(char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_'))
            *s = '_';
}

static int start_worker(const struct runner *R, struct run_item *it)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        json_t *r = execute(R, it);
        char path[PATH_MAX + 320];
        snprintf(path, sizeof path, "%s/result.json", it->dir);
        char tmp[PATH_MAX + 330];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        int rc = json_dump_file(r, tmp, JSON_COMPACT) == 0 && rename(tmp, path) == 0 ? 0 : 1;
        json_decref(r);
        _exit(rc);
    }
    it->worker = pid;
    it->started_ms = check_now_ms();
    return 0;
}

static json_t *collect(struct run_item *it)
{
    char path[PATH_MAX + 320];
    snprintf(path, sizeof path, "%s/result.json", it->dir);
    json_error_t je;
    json_t *r = json_load_file(path, JSON_ALLOW_NUL, &je);
    if (r == NULL)
        r = error_result(it, "the worker for this run wrote no result (%s)", je.text);
    return r;
}

/* --- the report --- */

static bool failing(enum check_verdict v) { return v == CHECK_FAIL || v == CHECK_CRASH || v == CHECK_HANG; }

static enum check_verdict verdict_of(const json_t *r)
{
    const char *s = json_string_value(json_object_get(r, "verdict"));
    for (int v = 0; v < CHECK_NVERDICTS; v++)
        if (s && strcmp(s, check_verdict_name((enum check_verdict)v)) == 0)
            return (enum check_verdict)v;
    return CHECK_ERROR;
}

static json_t *case_json(const struct check_case *c)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:O, s:s, s:s}", "id", c->id, "requirement",
                          c->requirement, "level", check_level_name(c->level), "title", c->title, "area", c->area,
                          "group", c->group, "spec", c->spec, "tags", c->tags, "expect", check_expect_name(c->expect),
                          "file", c->file);
    if (c->hostile)
        json_object_set_new(j, "hostile", json_string(c->hostile));
    if (c->note)
        json_object_set_new(j, "note", json_string(c->note));
    json_object_set_new(j, "timeout_s", json_real(c->timeout_s));
    json_object_set(j, "checks", c->checks);
    if (c->server) {
        json_object_set(j, "probe", c->probe);
        json_object_set(j, "allowed", c->allowed);
        return j;
    }
    json_object_set_new(j, "requests", json_string(c->requests));
    json_object_set(j, "scenario", c->scenario);
    return j;
}

static void print_summary(const struct check_options *o, const struct check_suite *s, json_t *results,
                          const struct check_totals *t)
{
    FILE *out = o->out;
    fprintf(out, "\n%-10s %-11s %5s %5s %5s %5s %5s %5s  failing cases\n", "requirement", "level", "pass", "fail",
            "crash", "hang", "unsup", "xfail");
    json_t *reqs = json_object(); /* requirement -> {level, counts, failing} */
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r)
    {
        const char *req = json_string_value(json_object_get(r, "requirement"));
        json_t *row = json_object_get(reqs, req);
        if (row == NULL) {
            row = json_pack("{s:s, s:[i,i,i,i,i,i,i,i], s:[]}", "level",
                            json_string_value(json_object_get(r, "level")), "n", 0, 0, 0, 0, 0, 0, 0, 0, "failing");
            json_object_set_new(reqs, req, row);
        }
        enum check_verdict v = verdict_of(r);
        json_t *cnt = json_array_get(json_object_get(row, "n"), (size_t)v);
        json_integer_set(cnt, json_integer_value(cnt) + 1);
        if (failing(v) || v == CHECK_XPASS || v == CHECK_ERROR) {
            json_t *f = json_object_get(row, "failing");
            const char *id = json_string_value(json_object_get(r, "case"));
            bool dup = false;
            size_t k;
            json_t *e;
            json_array_foreach(f, k, e)
            {
                dup |= strcmp(json_string_value(e), id) == 0;
            }
            if (!dup)
                json_array_append_new(f, json_string(id));
        }
    }
    /* In catalogue order. */
    const json_t *cat = json_object_get(s->catalogue, "requirements");
    json_t *c;
    json_array_foreach(cat, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));
        json_t *row = id ? json_object_get(reqs, id) : NULL;
        if (row == NULL)
            continue;
        json_t *n = json_object_get(row, "n");
#define N(v) (int)json_integer_value(json_array_get(n, v))
        fprintf(out, "%-10s %-11s %5d %5d %5d %5d %5d %5d ", id, json_string_value(json_object_get(row, "level")),
                N(CHECK_PASS), N(CHECK_FAIL) + N(CHECK_XPASS), N(CHECK_CRASH), N(CHECK_HANG), N(CHECK_UNSUPPORTED),
                N(CHECK_XFAIL));
#undef N
        size_t k;
        json_t *f;
        json_array_foreach(json_object_get(row, "failing"), k, f)
        {
            fprintf(out, " %s", json_string_value(f));
            if (k == 4 && json_array_size(json_object_get(row, "failing")) > 5) {
                fprintf(out, " (+%zu)", json_array_size(json_object_get(row, "failing")) - 5);
                break;
            }
        }
        fputc('\n', out);
    }
    json_decref(reqs);
    fprintf(out, "\n%zu runs:", t->runs);
    for (int v = 0; v < CHECK_NVERDICTS; v++)
        if (t->by_verdict[v])
            fprintf(out, " %zu %s", t->by_verdict[v], check_verdict_name((enum check_verdict)v));
    fprintf(out, "; MUST failed: %zu, SHOULD/RECOMMENDED failed: %zu\n", t->must_failed, t->should_failed);
}

int check_run(const struct check_options *o, const struct check_suite *suite, struct check_totals *totals)
{
    memset(totals, 0, sizeof *totals);
    struct runner R = {.o = o};
    snprintf(R.runs_dir, sizeof R.runs_dir, "%s/runs", o->report_dir);
    if (mtp_report_mkdirs(R.runs_dir) != 0) {
        fprintf(o->out, "mtprobe check: cannot create %s: %s\n", R.runs_dir, strerror(errno));
        return -1;
    }
    char why[512];
    if (o->exec == NULL && make_key(&R, why, sizeof why) < 0) {
        fprintf(o->out, "mtprobe check: %s\n", why);
        return -1;
    }
    /* The runs, in case order, then transport order, then repeat. */
    size_t n = 0;
    for (size_t i = 0; i < suite->n; i++)
        if (selected(o, &suite->cases[i]))
            n += (size_t)__builtin_popcount(suite->cases[i].transports & o->transports) * o->repeat;
    if (n == 0) {
        fprintf(o->out, "mtprobe check: no case matches the selection\n");
        return -1;
    }
    struct run_item *items = calloc(n, sizeof *items);
    if (items == NULL)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < suite->n; i++) {
        const struct check_case *c = &suite->cases[i];
        if (!selected(o, c))
            continue;
        for (int t = 0; t < CHECK_MAX_TRANSPORTS; t++) {
            if (!(c->transports & o->transports & (1u << t)))
                continue;
            for (unsigned rep = 0; rep < o->repeat; rep++) {
                struct run_item *it = &items[k++];
                it->c = c;
                it->transport = t;
                it->repeat = rep;
                char name[128];
                snprintf(name, sizeof name, "%s", c->id);
                sanitize(name);
                if (o->repeat > 1)
                    snprintf(it->dir, sizeof it->dir, "%s/%s/%s.%u", R.runs_dir, name, check_transport_names[t], rep);
                else
                    snprintf(it->dir, sizeof it->dir, "%s/%s/%s", R.runs_dir, name, check_transport_names[t]);
                it->worker = -1;
            }
        }
    }
    int64_t t0 = check_now_ms();
    size_t next = 0, running = 0, done = 0;
    unsigned jobs = o->jobs ? o->jobs : 1;
    while (done < n) {
        while (running < jobs && next < n) {
            /* An exclusive run (timing) waits for the machine to be idle, and keeps it so. */
            if (items[next].c->exclusive && running > 0)
                break;
            if (running > 0 && next > 0 && items[next - 1].c->exclusive && items[next - 1].worker >= 0)
                break;
            if (start_worker(&R, &items[next]) < 0) {
                items[next].result = error_result(&items[next], "cannot fork a worker: %s", strerror(errno));
                done++;
            } else {
                running++;
            }
            next++;
        }
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (size_t i = 0; i < next; i++) {
            struct run_item *it = &items[i];
            if (it->worker != pid)
                continue;
            it->worker = -1;
            it->result = collect(it);
            running--;
            done++;
            enum check_verdict v = verdict_of(it->result);
            const struct check_expected_failure *xf = check_expected(o->expect, it->c->id, it->transport);
            if (xf && failing(v))
                v = CHECK_XFAIL;
            else if (xf && v == CHECK_PASS && !xf->sometimes)
                v = CHECK_XPASS;
            fprintf(o->out, "[%zu/%zu] %-11s %-10s %s %s (%.1f s)\n", done, n, check_verdict_name(v),
                    it->c->requirement, it->c->id, check_transport_names[it->transport],
                    (double)(check_now_ms() - it->started_ms) / 1000.0);
            if (o->verbose && v != CHECK_PASS)
                fprintf(o->out, "    observed: %s\n", json_string_value(json_object_get(it->result, "observed")));
            fflush(o->out);
        }
    }
    /* The report. */
    const char *impl = o->implementation;
    const char *version = NULL;
    for (size_t i = 0; i < n && (impl == NULL || version == NULL); i++) {
        const json_t *line = json_object_get(json_object_get(items[i].result, "client"), "line");
        if (impl == NULL)
            impl = json_string_value(json_object_get(line, "implementation"));
        if (version == NULL)
            version = json_string_value(json_object_get(line, "version"));
    }
    /* Adapters and the reference client name themselves as "client": "<name> <version>". */
    char client_name[128] = "", client_version[64] = "";
    for (size_t i = 0; i < n && (impl == NULL || version == NULL) && client_name[0] == '\0'; i++) {
        const char *who = json_string_value(
            json_object_get(json_object_get(json_object_get(items[i].result, "client"), "line"), "client"));
        const char *sp = who ? strrchr(who, ' ') : NULL;
        if (who == NULL || *who == '\0')
            continue;
        if (sp && sp[1] >= '0' && sp[1] <= '9') {
            snprintf(client_name, sizeof client_name, "%.*s", (int)(sp - who), who);
            snprintf(client_version, sizeof client_version, "%s", sp + 1);
        } else {
            snprintf(client_name, sizeof client_name, "%s", who);
        }
    }
    if (impl == NULL && client_name[0])
        impl = client_name;
    if (version == NULL && client_version[0])
        version = client_version;
    if (impl == NULL)
        impl = o->cmd ? o->cmd : o->server;
    char command[512];
    snprintf(command, sizeof command, "check %s", o->side);
    json_t *report = mtp_report_new(command, impl);
    json_object_set_new(report, "kind", json_sprintf("check-%s", o->side));
    json_object_set_new(report, "implementation_version", version ? json_string(version) : json_null());
    json_t *transports = json_array();
    for (int t = 0; t < CHECK_MAX_TRANSPORTS; t++)
        if (o->transports & (1u << t))
            json_array_append_new(transports, json_string(check_transport_names[t]));
    json_object_set_new(report, "options",
                        json_pack("{s:s?, s:o, s:b, s:i, s:i, s:I, s:f, s:s?, s:s?}", "cmd", o->cmd, "transports",
                                  transports, "strict", o->strict, "jobs", (int)jobs, "repeat", (int)o->repeat, "seed",
                                  (json_int_t)o->seed, "timeout_scale", o->timeout_scale, "cases", o->case_glob,
                                  "tag", o->tag));
    if (o->requirement)
        json_object_set_new(json_object_get(report, "options"), "requirement", json_string(o->requirement));
    if (o->server) {
        json_t *opts = json_object_get(report, "options");
        json_object_set_new(opts, "server", json_string(o->server));
        json_object_set_new(opts, "dc", json_integer(o->dc));
        json_object_set_new(opts, "secret", json_boolean(o->secret != NULL));
        json_object_set_new(opts, "timing", json_boolean(o->timing));
    }
    json_t *cases = json_array();
    for (size_t i = 0; i < suite->n; i++)
        if (selected(o, &suite->cases[i]))
            json_array_append_new(cases, case_json(&suite->cases[i]));
    json_object_set_new(report, "cases", cases);
    json_object_set(report, "areas", json_object_get(suite->catalogue, "areas"));
    json_t *results = json_array();
    for (size_t i = 0; i < n; i++) {
        struct run_item *it = &items[i];
        json_t *r = it->result;
        enum check_verdict v = verdict_of(r);
        const struct check_expected_failure *xf = check_expected(o->expect, it->c->id, it->transport);
        if (xf && (failing(v) || (v == CHECK_PASS && !xf->sometimes))) {
            json_object_set_new(r, "raw_verdict", json_string(check_verdict_name(v)));
            v = failing(v) ? CHECK_XFAIL : CHECK_XPASS;
            json_object_set_new(r, "verdict", json_string(check_verdict_name(v)));
            json_object_set_new(r, "expectation", json_pack("{s:s, s:s}", "reason", xf->reason, "ref", xf->ref));
        }
        json_object_set_new(r, "requirement", json_string(it->c->requirement));
        json_object_set_new(r, "level", json_string(check_level_name(it->c->level)));
        if (json_object_get(r, "duration_ms") == NULL)
            json_object_set_new(r, "duration_ms", json_integer(json_integer_value(
                                                      json_object_get(json_object_get(r, "client"), "elapsed_ms"))));
        totals->runs++;
        totals->by_verdict[v]++;
        bool bad = failing(v) || v == CHECK_XPASS;
        if (bad && it->c->level == CHECK_MUST)
            totals->must_failed++;
        else if (bad && (it->c->level == CHECK_SHOULD || it->c->level == CHECK_RECOMMENDED))
            totals->should_failed++;
        json_array_append(results, r);
    }
    json_object_set_new(report, "results", results);
    json_t *sum = json_object();
    json_object_set_new(sum, "total", json_integer((json_int_t)totals->runs));
    for (int v = 0; v < CHECK_NVERDICTS; v++)
        json_object_set_new(sum, check_verdict_name((enum check_verdict)v), json_integer((json_int_t)totals->by_verdict[v]));
    json_object_set_new(sum, "must_failed", json_integer((json_int_t)totals->must_failed));
    json_object_set_new(sum, "should_failed", json_integer((json_int_t)totals->should_failed));
    json_object_set_new(report, "summary", sum);
    json_object_set_new(report, "duration_s", json_real((double)(check_now_ms() - t0) / 1000.0));
    print_summary(o, suite, results, totals);
    /* One model for every report (harness/report/report.h): runs, counts, then the three writers. */
    int rc = 0;
    if (mtp_report_finish(report, why, sizeof why) != 0 ||
        mtp_report_write_all(report, o->report_dir, NULL, why, sizeof why) != 0) {
        fprintf(o->out, "mtprobe check: %s\n", why);
        rc = -1;
    }
    if (rc == 0)
        fprintf(o->out, "reports: %s/report.json, %s/junit.xml, %s/index.html\n", o->report_dir, o->report_dir,
                o->report_dir);
    json_decref(report);
    for (size_t i = 0; i < n; i++)
        json_decref(items[i].result);
    free(items);
    return rc;
}
