/* `mtprobe client`: the command line of PFS and restarts, and whole runs
 * against `mtprobe serve` on loopback (scenarios first_req_pq_404 and
 * invalid_dc). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp_test.h"

START_TEST(usage_errors_of_the_new_options)
{
    static const struct {
        const char *args, *msg;
    } cases[] = {
        {"--temp-expires 60", "--temp-expires and --perm-key need --pfs"},
        {"--perm-key 00", "--temp-expires and --perm-key need --pfs"},
        {"--pfs --temp-expires 0", "--temp-expires needs seconds (1..2147483647), not '0'"},
        {"--pfs --temp-expires x", "--temp-expires needs seconds (1..2147483647), not 'x'"},
        {"--max-auth-attempts 0", "--max-auth-attempts needs 1..100, not '0'"},
        {"--pfs --perm-key 0011", "--perm-key needs 256 bytes as 512 hex digits"},
        {"--request ping --call '{}'", "--request replaces --call and --ping-count: give one or the other"},
        {"--request ping --ping-count 2", "--request replaces --call and --ping-count: give one or the other"},
        {"--request ping,pong", "--request: unknown request 'pong' at offset 5 (ping, nearest_dc, config)"},
        {"--request ping,,config", "--request: unknown request '' at offset 5 (ping, nearest_dc, config)"},
        {"--request ping --request config", "--request given twice (one comma-separated list)"},
        {"--fault skip-everything", "--fault: unknown fault 'skip-everything' (see --list-faults)"},
        {"--bogus", "unknown option '--bogus' (see --help)"},
        {"--timeout", "--timeout needs a value (see --help)"},
        {"--secret zz", "--secret: not a hex digit at character 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cmd[1024], *out, *err;
        snprintf(cmd, sizeof cmd,
                 "\"$MTPROBE\" client --server 127.0.0.1:1 --rsa-pub '%s' --transport intermediate %s",
                 mtp_test_path("vectors/rsa/test_key_public_pkcs1.pem"), cases[i].args);
        ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 2);
        json_t *j = json_loads(out, 0, NULL);
        ck_assert_msg(j != NULL, "%s: not JSON: %s", cases[i].args, out);
        ck_assert_str_eq(json_string_value(json_object_get(j, "error")), cases[i].msg);
        ck_assert_str_eq(json_string_value(json_object_get(j, "error_code")), "usage");
        json_decref(j);
    }
}
END_TEST

/* Starts `mtprobe serve` with a scenario, runs the client with args against
 * it, stops the server; the client's JSON line and exit code, and its key log. */
static json_t *run_against_serve(const char *scenario, const char *args, int *code, char **keylog)
{
    const char *dir = mtp_test_tmpdir();
    char cmd[4096], *out, *err;
    snprintf(cmd, sizeof cmd,
             "d='%s'; cp '%s' \"$d/dc.pem\" && chmod 600 \"$d/dc.pem\" || exit 90\n"
             "\"$MTPROBE\" serve --listen 127.0.0.1:0 --rsa-key \"$d/dc.pem\" --scenario %s >\"$d/serve.out\" "
             "2>\"$d/serve.err\" & pid=$!\n"
             "for i in $(seq 100); do [ -s \"$d/serve.out\" ] && break; sleep 0.05; done\n"
             "addr=$(cut -d' ' -f2 \"$d/serve.out\")\n"
             "\"$MTPROBE\" client --server \"$addr\" --rsa-pub \"$d/dc.pub.pem\" --timeout 20 "
             "--keylog \"$d/client.keylog\" %s 2>\"$d/client.err\"\n"
             "rc=$?; kill $pid; wait $pid; exit $rc\n",
             dir, mtp_test_path("vectors/rsa/test_key_private.pem"), scenario, args);
    *code = mtp_test_sh(cmd, NULL, &out, &err);
    char path[512];
    snprintf(path, sizeof path, "%s/client.keylog", dir);
    FILE *f = fopen(path, "r");
    static char buf[8192];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    *keylog = buf;
    mtp_test_rmdir(dir);
    json_t *j = json_loads(out, 0, NULL);
    ck_assert_msg(j != NULL, "client output is not one JSON line: %s / %s", out, err);
    return j;
}

static const char *str(const json_t *j, const char *key) { return json_string_value(json_object_get(j, key)); }

START_TEST(pfs_run_restarts_after_the_first_404)
{
    int code;
    char *keylog;
    json_t *j = run_against_serve("first_req_pq_404",
                                  "--transport obfuscated-intermediate --pfs --temp-expires 120 "
                                  "--call '{\"_\":\"help.getNearestDc\"}'",
                                  &code, &keylog);
    ck_assert_msg(code == 0, "exit %d: %s", code, str(j, "error"));
    ck_assert(json_is_true(json_object_get(j, "ok")));
    ck_assert(json_is_true(json_object_get(j, "bound")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "auth_attempts")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "temp_expires_in")), 120);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "temp_expires_at")),
                     json_integer_value(json_object_get(j, "server_time")) + 120);
    const char *perm = str(j, "auth_key_id"), *temp = str(j, "temp_auth_key_id");
    ck_assert_uint_eq(strlen(perm), 16);
    ck_assert_uint_eq(strlen(temp), 16);
    ck_assert_str_ne(perm, temp);
    ck_assert_uint_eq(strlen(str(j, "temp_auth_key")), 512);
    ck_assert_str_eq(str(json_object_get(j, "result"), "_"), "nearestDc");
    /* the key log: both keys and the binding, and one OBFS2 line per connection */
    char want[128];
    snprintf(want, sizeof want, "\nAUTH_KEY %s ", perm);
    ck_assert_msg(strstr(keylog, want) != NULL, "%s", keylog);
    snprintf(want, sizeof want, "\nTEMP_AUTH_KEY %s ", temp);
    ck_assert_msg(strstr(keylog, want) != NULL, "%s", keylog);
    snprintf(want, sizeof want, "\nBIND %s %s %lld\n", temp, perm,
             (long long)json_integer_value(json_object_get(j, "temp_expires_at")));
    ck_assert_msg(strstr(keylog, want) != NULL, "%s", keylog);
    unsigned obfs = 0;
    for (const char *p = keylog; (p = strstr(p, "OBFS2 ")) != NULL; p++)
        obfs++;
    ck_assert_uint_eq(obfs, 2);
    json_decref(j);
}
END_TEST

START_TEST(invalid_dc_is_reported)
{
    int code;
    char *keylog;
    json_t *j = run_against_serve("invalid_dc", "--transport abridged --dc 10002", &code, &keylog);
    ck_assert_int_eq(code, 1);
    ck_assert_str_eq(str(j, "error_code"), "client_invalid_dc");
    ck_assert_str_eq(str(j, "step"), "auth_key");
    ck_assert_msg(strstr(str(j, "error"), "-444 (invalid DC id): the server does not serve DC 10002") != NULL, "%s",
                  str(j, "error"));
    json_decref(j);
}
END_TEST

START_TEST(list_faults)
{
    char *out, *err;
    ck_assert_int_eq(mtp_test_sh("\"$MTPROBE\" client --list-faults", NULL, &out, &err), 0);
    unsigned lines = 0;
    for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        json_t *j = json_loads(line, 0, NULL);
        ck_assert_msg(j != NULL, "not JSON: %s", line);
        ck_assert_uint_eq(json_object_size(j), 3);
        ck_assert_ptr_nonnull(str(j, "fault"));
        ck_assert_msg(strncmp(str(j, "requirement"), "C-", 2) == 0, "%s", line);
        ck_assert_ptr_nonnull(str(j, "what"));
        if (lines == 0)
            ck_assert_str_eq(line, "{\"fault\":\"skip-dh-prime-check\",\"requirement\":\"C-DH-1\",\"what\":\"dh_prime is "
                                   "used without checking that it is a safe 2048-bit prime\"}");
        json_decref(j);
        lines++;
    }
    ck_assert_uint_eq(lines, 29);
}
END_TEST

START_TEST(the_client_under_test_contract)
{
    /* The command line `mtprobe check client` runs, placeholders filled in. */
    int code;
    char *keylog;
    json_t *j = run_against_serve("flood_wait",
                                  "--transport obfuscated-padded --secret '' --dc 2 --request ping,nearest_dc,config,config "
                                  "--timeout 7.5",
                                  &code, &keylog);
    ck_assert_msg(code == 0, "exit %d: %s", code, str(j, "error"));
    ck_assert(json_is_true(json_object_get(j, "ok")));
    ck_assert_str_eq(str(j, "implementation"), "mtprobe client");
    ck_assert_str_eq(str(j, "version"), MTPROBE_VERSION);
    ck_assert_uint_eq(strlen(str(j, "auth_key")), 512);
    json_t *results = json_object_get(j, "results");
    ck_assert_uint_eq(json_array_size(results), 4);
    ck_assert_str_eq(str(json_array_get(results, 0), "_"), "pong");
    ck_assert_str_eq(str(json_array_get(results, 1), "_"), "nearestDc");
    /* flood_wait: the first help.getConfig gets 420 FLOOD_WAIT_2, an answer like any other */
    json_t *e = json_array_get(results, 2);
    ck_assert_str_eq(str(e, "_"), "rpc_error");
    ck_assert_int_eq(json_integer_value(json_object_get(e, "error_code")), 420);
    ck_assert_str_eq(str(e, "error_message"), "FLOOD_WAIT_2");
    ck_assert_str_eq(str(json_array_get(results, 3), "_"), "config");
    ck_assert_str_eq(str(json_object_get(j, "result"), "_"), "config");
    ck_assert_str_eq(str(j, "method"), "help.getConfig");
    ck_assert_ptr_null(json_object_get(j, "faults"));
    json_decref(j);
}
END_TEST

START_TEST(several_calls_and_a_fault)
{
    int code;
    char *keylog;
    json_t *j = run_against_serve("default",
                                  "--transport abridged --ping-count 0 --call '{\"_\":\"help.getNearestDc\"}' "
                                  "--call '{\"_\":\"ping\",\"ping_id\":\"77\"}' --fault no-acks",
                                  &code, &keylog);
    ck_assert_msg(code == 0, "exit %d: %s", code, str(j, "error"));
    json_t *results = json_object_get(j, "results");
    ck_assert_uint_eq(json_array_size(results), 2);
    ck_assert_str_eq(str(json_array_get(results, 0), "_"), "nearestDc");
    ck_assert_str_eq(str(json_array_get(results, 1), "_"), "pong");
    ck_assert_str_eq(str(json_array_get(results, 1), "ping_id"), "77");
    ck_assert_str_eq(str(j, "method"), "ping");
    json_t *faults = json_object_get(j, "faults");
    ck_assert_uint_eq(json_array_size(faults), 1);
    ck_assert_str_eq(json_string_value(json_array_get(faults, 0)), "no-acks");
    json_decref(j);
}
END_TEST

static Suite *cmd_client_suite(void)
{
    Suite *s = suite_create("cmd_client");
    TCase *tc = tcase_create("client");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, usage_errors_of_the_new_options);
    tcase_add_test(tc, pfs_run_restarts_after_the_first_404);
    tcase_add_test(tc, invalid_dc_is_reported);
    tcase_add_test(tc, list_faults);
    tcase_add_test(tc, the_client_under_test_contract);
    tcase_add_test(tc, several_calls_and_a_fault);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(cmd_client_suite)
