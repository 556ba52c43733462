/* `mtprobe check server` and `mtprobe serve --fault` on the command line:
 * usage errors, the listings, and a short run against `mtprobe serve` whose
 * report says what the probe saw. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtp_test.h"

START_TEST(server_usage_errors)
{
    const char *pub = mtp_test_path("vectors/rsa/test_key_public_pkcs1.pem");
    static const struct {
        const char *args, *msg;
        int code;
    } cases[] = {
        {"server --rsa-pub PUB", "--server HOST:PORT is required", 2},
        {"server --server 127.0.0.1", "--server HOST:PORT is required", 2},
        {"server --server 127.0.0.1:1", "--rsa-pub FILE is required", 2},
        {"server --server 127.0.0.1:1 --rsa-pub PUB --cmd x", "--cmd is for check client", 2},
        {"server --server 127.0.0.1:1 --rsa-pub PUB --secret 00", "--secret 00: expected 16 bytes of hex", 2},
        {"server --server 127.0.0.1:1 --rsa-pub PUB --dc 0", "--dc 0: expected a non-zero DC id", 2},
        {"server --server 127.0.0.1:1 --rsa-pub PUB --timing-samples 5", "--timing-samples 5: expected 10..100000", 2},
        {"server --server 127.0.0.1:1 --rsa-pub /nonexistent.pem", "cannot read --rsa-pub /nonexistent.pem", 3},
        {"client --cmd x --server 127.0.0.1:1", "--server, --rsa-pub, --secret and --timing are for check server", 2},
        {"proxy --server 127.0.0.1:1", "unknown suite 'proxy' (client or server)", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[512], cmd[1024], *out, *err;
        snprintf(args, sizeof args, "%s", cases[i].args);
        char *p = strstr(args, "PUB");
        if (p) {
            char rest[512];
            snprintf(rest, sizeof rest, "%s", p + 3);
            snprintf(p, sizeof args - (size_t)(p - args), "%s%s", pub, rest);
        }
        snprintf(cmd, sizeof cmd, "\"$MTPROBE\" check %s", args);
        ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), cases[i].code);
        ck_assert_msg(strstr(err, cases[i].msg) != NULL, "%s: stderr %s", cases[i].args, err);
    }
}
END_TEST

START_TEST(listings)
{
    char *out, *err;
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" check --list server", NULL, &out, &err), 0);
    ck_assert(strstr(out, "server.ses.msg-id-past") != NULL);
    ck_assert(strstr(out, "S-SES-21") != NULL);
    ck_assert(strstr(out, "client.") == NULL);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" check --list-probes", NULL, &out, &err), 0);
    ck_assert(strstr(out, "timing ") != NULL && strstr(out, "exchange ") != NULL);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" check --list-checks", NULL, &out, &err), 0);
    ck_assert(strstr(out, "server_msg_ids") != NULL && strstr(out, "client_msg_ids") != NULL);
    /* every fault a JSON line naming a server requirement */
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" serve --list-faults", NULL, &out, &err), 0);
    size_t n = 0;
    for (char *save = NULL, *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++) {
        json_t *j = json_loads(l, 0, NULL);
        ck_assert_msg(j != NULL, "not JSON: %s", l);
        ck_assert(strncmp(json_string_value(json_object_get(j, "requirement")), "S-", 2) == 0);
        ck_assert(json_string_value(json_object_get(j, "fault")) != NULL);
        json_decref(j);
    }
    ck_assert_uint_ge(n, 40);
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" serve --listen 127.0.0.1:0 --rsa-key /tmp/x.pem --fault bogus", NULL,
                                 &out, &err),
                     2);
    ck_assert(strstr(err, "--fault bogus: unknown") != NULL);
}
END_TEST

/* A whole run: two cases against the honest `mtprobe serve` and against one with a seeded fault. */
static json_t *run(const char *fault, const char *cases, int *code)
{
    const char *dir = mtp_test_tmpdir();
    char cmd[4096], *out, *err;
    snprintf(cmd, sizeof cmd,
             "cd '%s' && (\"$MTPROBE\" serve --listen 127.0.0.1:0 --rsa-key dc.pem %s%s > serve.out 2> serve.err & "
             "echo $! > serve.pid); for i in $(seq 50); do grep -q listening serve.out && break; sleep 0.1; done; "
             "PORT=$(sed 's/.*127.0.0.1:\\([0-9]*\\).*/\\1/' serve.out); "
             "\"$MTPROBE\" check server --server 127.0.0.1:$PORT --rsa-pub dc.pub.pem --transports intermediate "
             "--cases '%s' --report-dir rep; rc=$?; kill $(cat serve.pid); exit $rc",
             dir, fault ? "--fault " : "", fault ? fault : "", cases);
    *code = mtp_test_sh(cmd, NULL, &out, &err);
    char path[512];
    snprintf(path, sizeof path, "%s/rep/report.json", dir);
    json_error_t je;
    json_t *rep = json_load_file(path, 0, &je);
    ck_assert_msg(rep != NULL, "no report: %s; stdout %s stderr %s", je.text, out, err);
    mtp_test_rmdir(dir);
    return rep;
}

static const json_t *result_of(const json_t *rep, const char *id)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(rep, "results"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "case")), id) == 0)
            return r;
    }
    ck_abort_msg("no result for %s", id);
    return NULL;
}

START_TEST(run_against_serve)
{
    int code;
    json_t *rep = run(NULL, "server.ses.msg-id-past,server.ses.ping", &code);
    ck_assert_int_eq(code, 0);
    ck_assert_str_eq(json_string_value(json_object_get(rep, "kind")), "check-server");
    const json_t *r = result_of(rep, "server.ses.msg-id-past");
    ck_assert_str_eq(json_string_value(json_object_get(r, "verdict")), "pass");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(r, "server"), "line"), "reaction")),
                     "bad_msg_notification");
    /* the wire log from the probe's side: the hostile message marked, the notification s2c */
    const json_t *wire = json_object_get(r, "wire");
    bool hostile = false, notified = false;
    size_t i;
    const json_t *e;
    json_array_foreach(wire, i, e)
    {
        const char *dir = json_string_value(json_object_get(e, "dir"));
        const char *ctor = json_string_value(json_object_get(e, "ctor"));
        hostile |= dir && strcmp(dir, "c2s") == 0 && json_object_get(e, "hostile") != NULL;
        notified |= dir && strcmp(dir, "s2c") == 0 && ctor && strcmp(ctor, "bad_msg_notification") == 0;
    }
    ck_assert(hostile && notified);
    json_decref(rep);

    /* With the msg_id window off, the same case catches the server (MUST: exit 1). */
    rep = run("skip-msg-id-past", "server.ses.msg-id-past", &code);
    ck_assert_int_eq(code, 1);
    r = result_of(rep, "server.ses.msg-id-past");
    ck_assert_str_eq(json_string_value(json_object_get(r, "verdict")), "fail");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(rep, "summary"), "must_failed")), 1);
    json_decref(rep);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cmd_check");
    TCase *t = tcase_create("server");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, server_usage_errors);
    tcase_add_test(t, listings);
    tcase_add_test(t, run_against_serve);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(suite)
