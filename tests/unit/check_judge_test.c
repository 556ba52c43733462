/* The judge on hand-made observation logs: every expectation's pass, fail,
 * crash, hang and not-exercised paths, and the named checks. */
#include <string.h>

#include "check/check_judge.h"
#include "mtp_test.h"

#define NONCE "00112233445566778899aabbccddeeff"
#define NONCE2 "ffeeddccbbaa99887766554433221100"

static json_t *ev(const char *text)
{
    json_error_t je;
    json_t *e = json_loads(text, 0, &je);
    ck_assert_msg(e != NULL, "bad test event %s: %s", text, je.text);
    return e;
}

/* A log from JSON lines separated by '\n'. */
static json_t *log_of(const char *lines)
{
    json_t *a = json_array();
    json_array_append_new(a, ev("{\"t\":0,\"ev\":\"start\",\"now_ms\":1700000000000}"));
    char *copy = strdup(lines), *save = NULL;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        json_array_append_new(a, ev(l));
    free(copy);
    return a;
}

static struct check_case mkcase(enum check_expect e, const char *hostile, const char *checks)
{
    struct check_case c;
    memset(&c, 0, sizeof c);
    c.id = "test.case";
    c.requirement = "C-XX-1";
    c.expect = e;
    c.hostile = (char *)hostile;
    c.requests = "nearest_dc";
    c.checks = json_array();
    if (checks)
        json_array_append_new(c.checks, json_string(checks));
    return c;
}

static struct check_client_run exited(int code, const char *line)
{
    struct check_client_run r = {.started = true};
    r.exit.code = code;
    r.exit.elapsed_ms = 100;
    r.line = line ? ev(line) : NULL;
    return r;
}

static enum check_verdict judge(const struct check_case *c, const char *lines, struct check_client_run *run,
                                char *observed, size_t cap)
{
    json_t *log = log_of(lines);
    struct check_judgement j;
    check_judge(c, log, run, &j);
    if (observed)
        snprintf(observed, cap, "%s", j.observed);
    json_decref(j.marks);
    json_decref(log);
    json_decref(run->line);
    run->line = NULL;
    return j.verdict;
}

#define REQ_PQ "{\"t\":1,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":false,\"msg_id\":\"6500000000000004\",\"ctor\":\"req_pq_multi\",\"body\":\"f18e7ebe" NONCE "\"}"
#define RES_PQ "{\"t\":2,\"ev\":\"msg\",\"conn\":1,\"dir\":\"s2c\",\"enc\":false,\"msg_id\":\"6500000000000001\",\"ctor\":\"resPQ\",\"body\":\"63241605" NONCE "\"}"
#define REQ_DH "{\"t\":3,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":false,\"msg_id\":\"6500000000000008\",\"ctor\":\"req_DH_params\",\"body\":\"bee412d7" NONCE "\"}"
#define DH_OK "{\"t\":4,\"ev\":\"msg\",\"conn\":1,\"dir\":\"s2c\",\"enc\":false,\"msg_id\":\"6500000000000005\",\"ctor\":\"server_DH_params_ok\",\"body\":\"5c07e8d0" NONCE "\"}"
#define SET_DH "{\"t\":5,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":false,\"msg_id\":\"650000000000000c\",\"ctor\":\"set_client_DH_params\",\"body\":\"1f5f04f5" NONCE "\"}"
#define REQ_PQ2 "{\"t\":6,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":false,\"msg_id\":\"6500000000000010\",\"ctor\":\"req_pq_multi\",\"body\":\"f18e7ebe" NONCE2 "\"}"
#define SET_DH2 "{\"t\":7,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":false,\"msg_id\":\"6500000000000014\",\"ctor\":\"set_client_DH_params\",\"body\":\"1f5f04f5" NONCE2 "\"}"

START_TEST(reject_exchange_fails_when_the_client_goes_on)
{
    struct check_case c = mkcase(CHECK_EXPECT_REJECT_EXCHANGE, "server_DH_params_ok", NULL);
    struct check_client_run r = exited(0, "{\"ok\":true}");
    char obs[2048];
    ck_assert_int_eq(judge(&c, REQ_PQ "\n" RES_PQ "\n" REQ_DH "\n" DH_OK "\n" SET_DH, &r, obs, sizeof obs), CHECK_FAIL);
    ck_assert_msg(strstr(obs, "sent set_client_DH_params for the same nonce") != NULL, "%s", obs);
    json_decref(c.checks);
}
END_TEST

START_TEST(reject_exchange_allows_a_restart_with_a_new_nonce)
{
    struct check_case c = mkcase(CHECK_EXPECT_REJECT_EXCHANGE, "server_DH_params_ok", NULL);
    /* A new exchange on the same connection: its set_client_DH_params carries the new nonce. */
    struct check_client_run r = exited(1, "{\"ok\":false,\"error\":\"security error\"}");
    char obs[2048];
    ck_assert_int_eq(judge(&c, REQ_PQ "\n" RES_PQ "\n" REQ_DH "\n" DH_OK "\n" REQ_PQ2 "\n" SET_DH2, &r, obs, sizeof obs),
                     CHECK_PASS);
    ck_assert_msg(strstr(obs, "security error") != NULL, "%s", obs);
    json_decref(c.checks);
}
END_TEST

START_TEST(reject_exchange_crash_hang_and_not_exercised)
{
    struct check_case c = mkcase(CHECK_EXPECT_REJECT_EXCHANGE, "server_DH_params_ok", NULL);
    struct check_client_run r = exited(-1, NULL);
    r.exit.signal = 6;
    ck_assert_int_eq(judge(&c, REQ_PQ "\n" RES_PQ "\n" REQ_DH "\n" DH_OK, &r, NULL, 0), CHECK_CRASH);
    r = exited(1, "{\"ok\":false,\"crash\":true}");
    ck_assert_int_eq(judge(&c, REQ_PQ "\n" RES_PQ "\n" REQ_DH "\n" DH_OK, &r, NULL, 0), CHECK_CRASH);
    r = exited(-1, NULL);
    r.exit.timed_out = true;
    ck_assert_int_eq(judge(&c, REQ_PQ "\n" RES_PQ "\n" REQ_DH "\n" DH_OK, &r, NULL, 0), CHECK_HANG);
    r = exited(1, "{\"ok\":false}");
    char obs[2048];
    ck_assert_int_eq(judge(&c, REQ_PQ "\n" RES_PQ, &r, obs, sizeof obs), CHECK_ERROR);
    ck_assert_msg(strstr(obs, "not exercised") != NULL, "%s", obs);
    r = exited(4, "{\"ok\":false}");
    ck_assert_int_eq(judge(&c, "", &r, NULL, 0), CHECK_UNSUPPORTED);
    json_decref(c.checks);
}
END_TEST

START_TEST(reject_exchange_dh_gen_ok_key_use)
{
    struct check_case c = mkcase(CHECK_EXPECT_REJECT_EXCHANGE, "dh_gen_ok", NULL);
    const char *log = REQ_PQ "\n" RES_PQ "\n" REQ_DH "\n" DH_OK "\n" SET_DH "\n"
        "{\"t\":8,\"ev\":\"msg\",\"conn\":1,\"dir\":\"s2c\",\"enc\":false,\"msg_id\":\"6500000000000009\",\"ctor\":\"dh_gen_ok\",\"body\":\"34f7cb3b" NONCE "\"}\n"
        "{\"t\":8,\"ev\":\"key\",\"conn\":1,\"auth_key_id\":\"0102030405060708\",\"first_byte\":7}\n"
        "{\"t\":9,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"auth_key_id\":\"0102030405060708\",\"msg_id\":\"6500000100000004\",\"seqno\":1,\"ctor\":\"ping\"}";
    struct check_client_run r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, log, &r, NULL, 0), CHECK_FAIL);
    /* Another key (made by a later, honest exchange) is fine. */
    const char *log2 = REQ_PQ "\n" RES_PQ "\n" REQ_DH "\n" DH_OK "\n" SET_DH "\n"
        "{\"t\":8,\"ev\":\"msg\",\"conn\":1,\"dir\":\"s2c\",\"enc\":false,\"msg_id\":\"6500000000000009\",\"ctor\":\"dh_gen_ok\",\"body\":\"34f7cb3b" NONCE "\"}\n"
        "{\"t\":8,\"ev\":\"key\",\"conn\":1,\"auth_key_id\":\"0102030405060708\",\"first_byte\":7}\n"
        "{\"t\":9,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"auth_key_id\":\"1112131415161718\",\"msg_id\":\"6500000100000004\",\"seqno\":1,\"ctor\":\"ping\"}";
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, log2, &r, NULL, 0), CHECK_PASS);
    json_decref(c.checks);
}
END_TEST

#define HOSTILE "{\"t\":20,\"ev\":\"msg\",\"conn\":1,\"dir\":\"s2c\",\"enc\":true,\"hostile\":\"msg_key\",\"canary\":true,\"msg_id\":\"6500000200000001\",\"seqno\":3,\"ctor\":\"rpc_result\"}"
#define HONEST "{\"t\":21,\"ev\":\"msg\",\"conn\":1,\"dir\":\"s2c\",\"enc\":true,\"msg_id\":\"6500000200000005\",\"seqno\":5,\"ctor\":\"rpc_result\"}"
#define RPC "{\"t\":19,\"ev\":\"rpc\",\"conn\":1,\"method\":\"help.getNearestDc\",\"answer\":\"result\"}"

START_TEST(reject_message_paths)
{
    struct check_case c = mkcase(CHECK_EXPECT_REJECT_MESSAGE, NULL, NULL);
    char obs[2048];
    /* Acknowledged the hostile msg_id. */
    struct check_client_run r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, RPC "\n" HOSTILE "\n" HONEST "\n"
                           "{\"t\":22,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"msg_id\":\"6500000200000010\",\"seqno\":2,\"ctor\":\"msgs_ack\",\"acks\":[\"6500000200000001\"]}",
                           &r, obs, sizeof obs),
                     CHECK_FAIL);
    ck_assert_msg(strstr(obs, "acknowledged the hostile message") != NULL, "%s", obs);
    /* Returned the canary. */
    r = exited(0, "{\"ok\":true,\"results\":[{\"_\":\"nearestDc\",\"country\":\"CANARY\",\"this_dc\":2,\"nearest_dc\":77}]}");
    ck_assert_int_eq(judge(&c, RPC "\n" HOSTILE "\n" HONEST, &r, obs, sizeof obs), CHECK_FAIL);
    ck_assert_msg(strstr(obs, "canary") != NULL, "%s", obs);
    /* Took the canary salt. */
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, RPC "\n" HOSTILE "\n"
                           "{\"t\":22,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"salt\":\"43414e4152592121\",\"msg_id\":\"6500000200000010\",\"seqno\":2,\"ctor\":\"msgs_ack\"}",
                           &r, NULL, 0),
                     CHECK_FAIL);
    /* Ignored it and finished with the honest answer. */
    r = exited(0, "{\"ok\":true,\"results\":[{\"_\":\"nearestDc\",\"country\":\"ZZ\",\"this_dc\":2,\"nearest_dc\":2}]}");
    ck_assert_int_eq(judge(&c, RPC "\n" HOSTILE "\n" HONEST, &r, NULL, 0), CHECK_PASS);
    /* A hostile message reusing an honest msg_id: an ack of that id proves nothing. */
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, HONEST "\n"
                           "{\"t\":22,\"ev\":\"msg\",\"conn\":1,\"dir\":\"s2c\",\"enc\":true,\"hostile\":\"msg_id_duplicate\",\"msg_id\":\"6500000200000005\",\"seqno\":7,\"ctor\":\"rpc_result\"}\n"
                           "{\"t\":23,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"msg_id\":\"6500000200000010\",\"seqno\":2,\"ctor\":\"msgs_ack\",\"acks\":[\"6500000200000005\"]}",
                           &r, NULL, 0),
                     CHECK_PASS);
    /* Never sent: the harness could not exercise it. */
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, RPC "\n" HONEST, &r, NULL, 0), CHECK_ERROR);
    json_decref(c.checks);
}
END_TEST

START_TEST(accept_paths)
{
    struct check_case c = mkcase(CHECK_EXPECT_ACCEPT, NULL, NULL);
    struct check_client_run r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, RPC "\n" HONEST, &r, NULL, 0), CHECK_PASS);
    r = exited(0, "{\"ok\":true}");
    char obs[2048];
    ck_assert_int_eq(judge(&c, HONEST, &r, obs, sizeof obs), CHECK_FAIL);
    ck_assert_msg(strstr(obs, "never answered nearest_dc") != NULL, "%s", obs);
    r = exited(1, "{\"ok\":false,\"error\":\"boom\"}");
    ck_assert_int_eq(judge(&c, RPC "\n" HONEST, &r, obs, sizeof obs), CHECK_FAIL);
    ck_assert_msg(strstr(obs, "boom") != NULL, "%s", obs);
    /* The edge never happened: not the client's fault, not a pass either. */
    json_decref(c.checks);
    c = mkcase(CHECK_EXPECT_ACCEPT, NULL, "padding_1024");
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, RPC "\n" HONEST, &r, NULL, 0), CHECK_UNSUPPORTED);
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, RPC "\n{\"t\":21,\"ev\":\"msg\",\"conn\":1,\"dir\":\"s2c\",\"enc\":true,\"padding\":1024,\"msg_id\":\"6500000200000005\",\"seqno\":5,\"ctor\":\"rpc_result\"}", &r, NULL, 0),
                     CHECK_PASS);
    json_decref(c.checks);
}
END_TEST

START_TEST(restart_paths)
{
    struct check_case c = mkcase(CHECK_EXPECT_RESTART, NULL, NULL);
    const char *err = "{\"t\":2,\"ev\":\"transport_error\",\"conn\":1,\"dir\":\"s2c\",\"code\":-404}";
    struct check_client_run r = exited(0, "{\"ok\":true}");
    char log[2048];
    snprintf(log, sizeof log, "%s\n%s\n{\"t\":3,\"ev\":\"msg\",\"conn\":2,\"dir\":\"c2s\",\"enc\":false,\"msg_id\":\"6500000000000010\",\"ctor\":\"req_pq_multi\",\"body\":\"f18e7ebe" NONCE2 "\"}", REQ_PQ, err);
    ck_assert_int_eq(judge(&c, log, &r, NULL, 0), CHECK_PASS);
    snprintf(log, sizeof log, "%s\n%s", REQ_PQ, err);
    r = exited(1, "{\"ok\":false}");
    ck_assert_int_eq(judge(&c, log, &r, NULL, 0), CHECK_FAIL);
    json_decref(c.checks);
}
END_TEST

START_TEST(named_client_msg_ids)
{
    struct check_case c = mkcase(CHECK_EXPECT_PASSIVE, NULL, "client_msg_ids");
    struct check_client_run r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, REQ_PQ "\n{\"t\":9,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"session_id\":\"aa\",\"msg_id\":\"6500000100000004\",\"seqno\":1,\"ctor\":\"ping\"}\n"
                           "{\"t\":9,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"session_id\":\"aa\",\"msg_id\":\"6500000100000008\",\"seqno\":2,\"ctor\":\"msgs_ack\"}", &r, NULL, 0),
                     CHECK_PASS);
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, "{\"t\":9,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"session_id\":\"aa\",\"msg_id\":\"6500000100000006\",\"seqno\":1,\"ctor\":\"ping\"}", &r, NULL, 0),
                     CHECK_FAIL);
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, "{\"t\":9,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"session_id\":\"aa\",\"msg_id\":\"6500000100000008\",\"seqno\":1,\"ctor\":\"ping\"}\n"
                           "{\"t\":9,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"session_id\":\"aa\",\"msg_id\":\"6500000100000004\",\"seqno\":3,\"ctor\":\"ping\"}", &r, NULL, 0),
                     CHECK_FAIL);
    /* Another session starts its own order. */
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, "{\"t\":9,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"session_id\":\"aa\",\"msg_id\":\"6500000100000008\",\"seqno\":1,\"ctor\":\"ping\"}\n"
                           "{\"t\":9,\"ev\":\"msg\",\"conn\":2,\"dir\":\"c2s\",\"enc\":true,\"session_id\":\"bb\",\"msg_id\":\"6500000100000004\",\"seqno\":1,\"ctor\":\"ping\"}", &r, NULL, 0),
                     CHECK_PASS);
    /* A container whose msg_id is not above its messages'. */
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, "{\"t\":9,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"session_id\":\"aa\",\"msg_id\":\"6500000100000008\",\"seqno\":2,\"ctor\":\"msg_container\",\"nested\":[{\"msg_id\":\"650000010000000c\",\"seqno\":1,\"ctor\":\"ping\"}]}", &r, NULL, 0),
                     CHECK_FAIL);
    json_decref(c.checks);
}
END_TEST

START_TEST(named_seqno_obfs_acks)
{
    struct check_case c = mkcase(CHECK_EXPECT_PASSIVE, NULL, "client_seqno");
    struct check_client_run r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, "{\"t\":9,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"msg_id\":\"6500000100000008\",\"seqno\":3,\"ctor\":\"msgs_ack\"}", &r, NULL, 0),
                     CHECK_FAIL);
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, "{\"t\":9,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"msg_id\":\"6500000100000008\",\"seqno\":4,\"ctor\":\"msg_container\",\"nested\":[{\"msg_id\":\"6500000100000004\",\"seqno\":3,\"ctor\":\"ping\"},{\"msg_id\":\"6500000100000006\",\"seqno\":4,\"ctor\":\"msgs_ack\"}]}", &r, NULL, 0),
                     CHECK_PASS);
    json_decref(c.checks);

    c = mkcase(CHECK_EXPECT_PASSIVE, NULL, "obfs_init");
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, "{\"t\":1,\"ev\":\"transport\",\"conn\":1,\"obfuscated\":true,\"init\":\"1122334400000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", &r, NULL, 0),
                     CHECK_FAIL);
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, "{\"t\":1,\"ev\":\"transport\",\"conn\":1,\"obfuscated\":true,\"init\":\"1122334455000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", &r, NULL, 0),
                     CHECK_PASS);
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, "{\"t\":1,\"ev\":\"transport\",\"conn\":1,\"obfuscated\":false}", &r, NULL, 0),
                     CHECK_UNSUPPORTED);
    json_decref(c.checks);

    c = mkcase(CHECK_EXPECT_PASSIVE, NULL, "acks_content");
    const char *s2c = "{\"t\":1,\"ev\":\"msg\",\"conn\":1,\"dir\":\"s2c\",\"enc\":true,\"msg_id\":\"6500000200000001\",\"seqno\":1,\"ctor\":\"pong\"}\n";
    const char *c2s = "{\"t\":2,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"msg_id\":\"6500000100000008\",\"seqno\":1,\"ctor\":\"ping\"}\n";
    char log[4096];
    snprintf(log, sizeof log, "%s%s%s", s2c, c2s, c2s);
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, log, &r, NULL, 0), CHECK_FAIL);
    snprintf(log, sizeof log, "%s%s{\"t\":3,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"msg_id\":\"650000010000000c\",\"seqno\":2,\"ctor\":\"msgs_ack\",\"acks\":[\"6500000200000001\"]}", s2c, c2s);
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, log, &r, NULL, 0), CHECK_PASS);
    json_decref(c.checks);
}
END_TEST


START_TEST(continue_exchange_and_give_up)
{
    struct check_case c = mkcase(CHECK_EXPECT_CONTINUE_EXCHANGE, "server_DH_params_ok", NULL);
    struct check_client_run r = exited(1, "{\"ok\":false}");
    ck_assert_int_eq(judge(&c, REQ_PQ "\n" RES_PQ "\n" REQ_DH "\n" DH_OK "\n" SET_DH, &r, NULL, 0), CHECK_PASS);
    r = exited(1, "{\"ok\":false}");
    char obs[2048];
    ck_assert_int_eq(judge(&c, REQ_PQ "\n" RES_PQ "\n" REQ_DH "\n" DH_OK "\n" REQ_PQ2, &r, obs, sizeof obs), CHECK_FAIL);
    ck_assert_msg(strstr(obs, "rejected a legal value") != NULL, "%s", obs);
    json_decref(c.checks);

    c = mkcase(CHECK_EXPECT_GIVE_UP, NULL, NULL);
    r = exited(1, "{\"ok\":false,\"error\":\"-444\"}");
    ck_assert_int_eq(judge(&c, "{\"t\":1,\"ev\":\"open\",\"conn\":1}", &r, NULL, 0), CHECK_PASS);
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, "{\"t\":1,\"ev\":\"open\",\"conn\":1}", &r, NULL, 0), CHECK_FAIL);
    r = exited(-1, NULL);
    r.exit.timed_out = true;
    ck_assert_int_eq(judge(&c, "{\"t\":1,\"ev\":\"open\",\"conn\":1}", &r, NULL, 0), CHECK_HANG);
    json_decref(c.checks);
}
END_TEST

START_TEST(rule_spoiled_message_is_hostile)
{
    struct check_case c = mkcase(CHECK_EXPECT_REJECT_MESSAGE, NULL, NULL);
    const char *log = RPC "\n" HONEST "\n{\"t\":21,\"ev\":\"rule\",\"conn\":1,\"at\":\"s2c_packet\",\"do\":\"bad_crc\",\"hostile\":\"crc\"}\n"
                      "{\"t\":22,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"msg_id\":\"6500000200000010\",\"seqno\":2,\"ctor\":\"msgs_ack\",\"acks\":[\"6500000200000005\"]}";
    struct check_client_run r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, log, &r, NULL, 0), CHECK_FAIL);
    /* skipped on this transport: nothing hostile was sent */
    const char *skipped = RPC "\n" HONEST "\n{\"t\":21,\"ev\":\"rule\",\"conn\":1,\"at\":\"s2c_packet\",\"do\":\"bad_crc\",\"hostile\":\"crc\",\"skipped\":true}";
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, skipped, &r, NULL, 0), CHECK_ERROR);
    json_decref(c.checks);
}
END_TEST

START_TEST(named_dead_key_b_fresh_same_reaction)
{
    struct check_case c = mkcase(CHECK_EXPECT_PASSIVE, NULL, "no_dead_key");
    const char *key = "{\"t\":1,\"ev\":\"key\",\"conn\":1,\"auth_key_id\":\"aa00000000000000\"}\n"
                      "{\"t\":2,\"ev\":\"transport_error\",\"conn\":1,\"dir\":\"s2c\",\"code\":-404}\n";
    char log[2048];
    snprintf(log, sizeof log, "%s{\"t\":3,\"ev\":\"msg\",\"conn\":2,\"dir\":\"c2s\",\"enc\":true,\"auth_key_id\":\"aa00000000000000\",\"msg_id\":\"6500000100000004\",\"seqno\":1,\"ctor\":\"ping\"}", key);
    struct check_client_run r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, log, &r, NULL, 0), CHECK_FAIL);
    snprintf(log, sizeof log, "%s{\"t\":3,\"ev\":\"msg\",\"conn\":2,\"dir\":\"c2s\",\"enc\":true,\"auth_key_id\":\"bb00000000000000\",\"msg_id\":\"6500000100000004\",\"seqno\":1,\"ctor\":\"ping\"}", key);
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, log, &r, NULL, 0), CHECK_PASS);
    json_decref(c.checks);

    c = mkcase(CHECK_EXPECT_PASSIVE, NULL, "g_b_fresh");
    r = exited(1, "{\"ok\":false}");
    ck_assert_int_eq(judge(&c, "{\"t\":1,\"ev\":\"dh_attempt\",\"conn\":1,\"g_b_sha256\":\"11\"}\n{\"t\":2,\"ev\":\"dh_attempt\",\"conn\":1,\"g_b_sha256\":\"11\"}", &r, NULL, 0),
                     CHECK_FAIL);
    r = exited(1, "{\"ok\":false}");
    ck_assert_int_eq(judge(&c, "{\"t\":1,\"ev\":\"dh_attempt\",\"conn\":1,\"g_b_sha256\":\"11\"}\n{\"t\":2,\"ev\":\"dh_attempt\",\"conn\":1,\"g_b_sha256\":\"22\"}", &r, NULL, 0),
                     CHECK_PASS);
    json_decref(c.checks);

    c = mkcase(CHECK_EXPECT_PASSIVE, NULL, "same_reaction");
    const char *h1 = "{\"t\":1,\"ev\":\"msg\",\"conn\":1,\"dir\":\"s2c\",\"enc\":true,\"hostile\":\"msg_key\",\"msg_id\":\"6500000200000001\",\"ctor\":\"rpc_result\"}\n";
    const char *go_on = "{\"t\":2,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"msg_id\":\"6500000100000004\",\"seqno\":1,\"ctor\":\"ping\"}\n";
    const char *h2 = "{\"t\":3,\"ev\":\"msg\",\"conn\":1,\"dir\":\"s2c\",\"enc\":true,\"hostile\":\"length_beyond\",\"msg_id\":\"6500000200000009\",\"ctor\":\"rpc_result\"}\n";
    const char *close = "{\"t\":4,\"ev\":\"close\",\"conn\":1,\"by\":\"client\"}";
    snprintf(log, sizeof log, "%s%s%s%s", h1, go_on, h2, close);
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, log, &r, NULL, 0), CHECK_FAIL);
    snprintf(log, sizeof log, "%s%s%s%s", h1, go_on, h2, go_on);
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, log, &r, NULL, 0), CHECK_PASS);
    /* took the second one for an answer: no error seen, nothing to compare */
    snprintf(log, sizeof log, "%s%s%s%s", h1, go_on, h2, close);
    r = exited(0, "{\"ok\":true,\"results\":[null,{\"_\":\"config\",\"date\":1234567890}]}");
    ck_assert_int_eq(judge(&c, log, &r, NULL, 0), CHECK_UNSUPPORTED);
    json_decref(c.checks);
}
END_TEST

START_TEST(resend_check_reads_notifications_in_containers)
{
    struct check_case c = mkcase(CHECK_EXPECT_PASSIVE, NULL, "resend_new_msg_id");
    /* bad_msg_notification bad_msg_id 0x6500000100000004 (little-endian in the body) inside a container */
    const char *note = "{\"t\":1,\"ev\":\"msg\",\"conn\":1,\"dir\":\"s2c\",\"enc\":true,\"msg_id\":\"6500000200000005\",\"ctor\":\"msg_container\","
                       "\"nested\":[{\"msg_id\":\"6500000200000001\",\"seqno\":0,\"ctor\":\"bad_msg_notification\",\"body\":\"11f8efa704000000010000650100000011000000\"}]}\n";
    char log[2048];
    snprintf(log, sizeof log, "%s{\"t\":2,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"msg_id\":\"6500000100000004\",\"seqno\":1,\"ctor\":\"ping\"}", note);
    struct check_client_run r = exited(0, "{\"ok\":true}");
    char obs[2048];
    ck_assert_int_eq(judge(&c, log, &r, obs, sizeof obs), CHECK_FAIL);
    ck_assert_msg(strstr(obs, "sent msg_id 6500000100000004 again") != NULL, "%s", obs);
    snprintf(log, sizeof log, "%s{\"t\":2,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"msg_id\":\"6500000100000008\",\"seqno\":1,\"ctor\":\"ping\"}", note);
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, log, &r, NULL, 0), CHECK_PASS);
    json_decref(c.checks);
}
END_TEST

START_TEST(hostile_from_skips_the_honest_ones)
{
    struct check_case c = mkcase(CHECK_EXPECT_REJECT_EXCHANGE, "server_DH_params_ok", NULL);
    c.hostile_from = 2;
    const char *first = REQ_PQ "\n" RES_PQ "\n" REQ_DH "\n" DH_OK "\n" SET_DH "\n";
    const char *second_dh_ok = "{\"t\":8,\"ev\":\"msg\",\"conn\":1,\"dir\":\"s2c\",\"enc\":false,\"msg_id\":\"6500000000000021\",\"ctor\":\"server_DH_params_ok\",\"body\":\"5c07e8d0" NONCE2 "\"}\n";
    char log[4096];
    snprintf(log, sizeof log, "%s%s%s", first, REQ_PQ2 "\n", second_dh_ok);
    struct check_client_run r = exited(1, "{\"ok\":false}");
    ck_assert_int_eq(judge(&c, log, &r, NULL, 0), CHECK_PASS);
    snprintf(log, sizeof log, "%s%s%s%s", first, REQ_PQ2 "\n", second_dh_ok, SET_DH2);
    r = exited(0, "{\"ok\":true}");
    ck_assert_int_eq(judge(&c, log, &r, NULL, 0), CHECK_FAIL);
    /* stopped after the honest one */
    r = exited(1, "{\"ok\":false}");
    ck_assert_int_eq(judge(&c, first, &r, NULL, 0), CHECK_UNSUPPORTED);
    json_decref(c.checks);
}
END_TEST

START_TEST(named_checks_are_listed)
{
    ck_assert(check_named_known("client_msg_ids"));
    ck_assert(check_named_known("obfs_init"));
    ck_assert(!check_named_known("no_such_check"));
    ck_assert(!check_named_known(NULL));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("check_judge");
    TCase *t = tcase_create("judge");
    tcase_add_test(t, reject_exchange_fails_when_the_client_goes_on);
    tcase_add_test(t, reject_exchange_allows_a_restart_with_a_new_nonce);
    tcase_add_test(t, reject_exchange_crash_hang_and_not_exercised);
    tcase_add_test(t, reject_exchange_dh_gen_ok_key_use);
    tcase_add_test(t, reject_message_paths);
    tcase_add_test(t, accept_paths);
    tcase_add_test(t, restart_paths);
    tcase_add_test(t, named_client_msg_ids);
    tcase_add_test(t, named_seqno_obfs_acks);
    tcase_add_test(t, named_checks_are_listed);
    tcase_add_test(t, continue_exchange_and_give_up);
    tcase_add_test(t, hostile_from_skips_the_honest_ones);
    tcase_add_test(t, rule_spoiled_message_is_hostile);
    tcase_add_test(t, named_dead_key_b_fresh_same_reaction);
    tcase_add_test(t, resend_check_reads_notifications_in_containers);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(suite)
