/* One run of a server case (check_server.h): the probe in a child process
 * (so that a server that stalls it past the case's timeout is a hang, and a
 * harness crash is an error, never a verdict on the server), then the judge. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check/check_probe.h"
#include "check/check_probes.h"
#include "check/check_proc.h"
#include "check/check_server.h"
#include "client/mtpc_call.h"
#include "mtp/hex.h"
#include "report/report.h"
#include "tlengine/tl_files.h"

#define WAIT_MS 3000            /* one reaction is waited for this long (times --timeout-scale) */
#define HANG_GRACE_MS 5000

static char *slurp(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *b = malloc(max + 1);
    size_t n = b ? fread(b, 1, max, f) : 0;
    fclose(f);
    if (b == NULL)
        return NULL;
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

static int32_t api_layer(void)
{
    char dir[4096], path[4200];
    snprintf(path, sizeof path, "%s/api.tl", mtp_tl_schema_dir(dir, sizeof dir));
    size_t n;
    char *text = slurp(path, 8u << 20, &n);
    int32_t layer = text ? mtpc_schema_layer(text, n) : 0;
    free(text);
    return layer;
}

/* The child: sets up the probe's world and runs it; the log and error.txt tell the parent. */
static int child(const struct check_options *o, const struct check_case *c, int transport, const char *dir)
{
    char events[PATH_MAX + 32], errpath[PATH_MAX + 32];
    snprintf(events, sizeof events, "%s/events.jsonl", dir);
    snprintf(errpath, sizeof errpath, "%s/error.txt", dir);
    char why[768] = "";
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_rsa_key *rsa = NULL;
    struct mtp_tl_schema *schema = NULL;
    size_t n;
    char *pem = slurp(o->rsa_pub, 1u << 16, &n);
    const char *names[] = {"api"};
    struct probe_cfg cfg = {.dc = o->dc, .wait_ms = (int64_t)(WAIT_MS * o->timeout_scale)};
    char host[256] = "", port[32] = "";
    const char *colon = strrchr(o->server, ':');
    if (colon == NULL || colon == o->server || (size_t)(colon - o->server) >= sizeof host) {
        snprintf(why, sizeof why, "--server %s: expected HOST:PORT", o->server);
    } else {
        memcpy(host, o->server, (size_t)(colon - o->server));
        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
            memmove(host, host + 1, strlen(host));
            host[strlen(host) - 1] = '\0';
        }
        snprintf(port, sizeof port, "%s", colon + 1);
    }
    cfg.host = host;
    cfg.port = port;
    if (why[0] == '\0' && pem == NULL)
        snprintf(why, sizeof why, "cannot read --rsa-pub %s", o->rsa_pub);
    else if (why[0] == '\0' && mtp_rsa_key_from_pem(pem, n, &rsa, &err) < 0)
        snprintf(why, sizeof why, "--rsa-pub %s: %s", o->rsa_pub, err.msg);
    else if (why[0] == '\0' && mtp_tl_schema_load(names, 1, &schema, &err) < 0)
        snprintf(why, sizeof why, "the TL schema: %s", err.msg);
    free(pem);
    const char *tname = check_transport_names[transport];
    bool obfs = strncmp(tname, "obfuscated-", 11) == 0;
    if (why[0] == '\0' && mtp_tr_kind_from_name(obfs ? tname + 11 : tname, &cfg.kind) < 0)
        snprintf(why, sizeof why, "transport %s", tname);
    cfg.obfuscated = obfs;
    if (why[0] == '\0' && o->secret && *o->secret) {
        struct mtp_wr w;
        uint8_t raw[64];
        mtp_wr_init_fixed(&w, raw, sizeof raw, NULL);
        if (mtp_hex_decode(o->secret, strlen(o->secret), &w, "secret") < 0 ||
            mtp_obfs_secret_parse(&cfg.secret, w.p, w.len, &err) < 0)
            snprintf(why, sizeof why, "--secret: not an MTProxy secret (16 bytes, or dd + 16 bytes, in hex)");
    }
    cfg.rsa = rsa;
    cfg.schema = schema;
    cfg.layer = api_layer();
    int rc = 0;
    if (why[0] == '\0') {
        struct probe P;
        if (probe_init(&P, &cfg, events, &err) < 0) {
            snprintf(why, sizeof why, "%s", err.msg);
        } else {
            json_t *spec = json_deep_copy(c->probe);
            if (o->timing_samples && strcmp(json_string_value(json_object_get(spec, "do")), "timing") == 0)
                json_object_set_new(spec, "samples", json_integer(o->timing_samples));
            if (probe_run(&P, spec) < 0 || P.error[0])
                snprintf(why, sizeof why, "%s", P.error[0] ? P.error : "the probe failed");
            json_decref(spec);
            probe_free(&P);
        }
    }
    if (why[0]) {
        FILE *f = fopen(errpath, "w");
        if (f) {
            fputs(why, f);
            fclose(f);
        }
        rc = 1;
    }
    mtp_rsa_key_free(rsa);
    mtp_tl_schema_free(schema);
    return rc;
}

json_t *check_server_execute(const struct check_options *o, const struct check_case *c, int transport,
                             unsigned repeat, const char *dir)
{
    json_t *r = json_pack("{s:s, s:s, s:i}", "case", c->id, "transport", check_transport_names[transport], "repeat",
                          (int)repeat);
    if (mtp_report_mkdirs(dir) != 0) {
        json_object_set_new(r, "verdict", json_string("error"));
        json_object_set_new(r, "expected", json_string("the harness runs the case"));
        json_object_set_new(r, "observed", json_sprintf("cannot create %s: %s", dir, strerror(errno)));
        return r;
    }
    char events[PATH_MAX + 32], errpath[PATH_MAX + 32];
    snprintf(events, sizeof events, "%s/events.jsonl", dir);
    snprintf(errpath, sizeof errpath, "%s/error.txt", dir);
    unlink(errpath);
    int64_t t0 = check_now_ms();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child(o, c, transport, dir));
    struct check_exit ex = {.code = -1};
    if (pid > 0) {
        struct check_proc p = {.pid = pid, .out_fd = -1};
        check_proc_wait(&p, (int)(c->timeout_s * o->timeout_scale * 1000) + HANG_GRACE_MS, &ex);
    }
    json_t *wire = check_load_events(events);
    char *setup_error = slurp(errpath, 4096, NULL);
    struct check_judgement j;
    if (pid < 0 || ex.signal || ex.timed_out) {
        /* The probe did not end: a server that stalls it is hanging; a probe killed by a signal is the harness's fault. */
        memset(&j, 0, sizeof j);
        j.marks = json_array();
        j.verdict = ex.timed_out ? CHECK_HANG : CHECK_ERROR;
        snprintf(j.expected, sizeof j.expected, "the run ends within %g s", c->timeout_s * o->timeout_scale);
        snprintf(j.observed, sizeof j.observed, "%s",
                 pid < 0         ? "cannot fork the probe"
                 : ex.timed_out ? "the server kept the probe waiting past the case's timeout"
                                : "the probe died (a harness error)");
    } else {
        check_server_judge(c, wire, setup_error, &j);
    }
    json_object_set_new(r, "verdict", json_string(check_verdict_name(j.verdict)));
    json_object_set_new(r, "expected", json_string(j.expected));
    json_object_set_new(r, "observed", json_string(j.observed));
    json_object_set_new(r, "marks", j.marks);
    char command[PATH_MAX];
    snprintf(command, sizeof command, "probe %s over %s to %s", json_string_value(json_object_get(c->probe, "do")),
             check_transport_names[transport], o->server);
    json_t *server = json_pack("{s:s, s:b, s:i, s:i, s:I}", "command", command, "timed_out", ex.timed_out, "exit",
                               ex.code, "signal", ex.signal, "elapsed_ms", (json_int_t)(check_now_ms() - t0));
    /* The reaction, as the process's "line" (what the client's JSON line is for client runs). */
    size_t i;
    const json_t *e;
    json_array_foreach(wire, i, e)
    {
        const char *ev = json_string_value(json_object_get(e, "ev"));
        if (ev && (strcmp(ev, "reaction") == 0 || strcmp(ev, "timing") == 0)) {
            json_t *line = json_object_get(server, "line");
            if (line == NULL) {
                line = json_object();
                json_object_set_new(server, "line", line);
            }
            json_object_update(line, (json_t *)e);
            json_object_del(line, "t");
            json_object_del(line, "ev");
        }
    }
    if (setup_error)
        json_object_set_new(server, "line_error", json_string(setup_error));
    json_object_set_new(r, "server", server);
    json_object_set_new(r, "duration_ms", json_integer((json_int_t)(check_now_ms() - t0)));
    json_object_set_new(r, "wire", wire);
    free(setup_error);
    if (j.verdict == CHECK_PASS && !o->keep_work) {
        unlink(events);
        unlink(errpath);
    }
    return r;
}
