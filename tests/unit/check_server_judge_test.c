/* The server judge on hand-made probe logs: allowed and refused reactions,
 * the reactions that mean "not exercised", crashes, record cases, setup
 * errors, and the named checks over the server's msg_ids. */
#include <string.h>

#include "check/check_server.h"
#include "mtp_test.h"

static json_t *log_of(const char *lines)
{
    json_t *a = json_array();
    json_error_t je;
    json_array_append_new(a, json_loads("{\"t\":0,\"ev\":\"start\",\"now_ms\":1700000000000}", 0, &je));
    char *copy = strdup(lines), *save = NULL;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        json_t *e = json_loads(l, 0, &je);
        ck_assert_msg(e != NULL, "bad test event %s: %s", l, je.text);
        json_array_append_new(a, e);
    }
    free(copy);
    return a;
}

static struct check_case mkcase(enum check_expect e, const char *allowed, const char *checks)
{
    struct check_case c;
    memset(&c, 0, sizeof c);
    c.id = "server.test";
    c.requirement = "S-SES-21";
    c.level = CHECK_MUST;
    c.expect = e;
    json_error_t je;
    c.allowed = json_loads(allowed ? allowed : "[]", 0, &je);
    c.checks = json_loads(checks ? checks : "[]", 0, &je);
    c.server = true;
    return c;
}

static void drop(struct check_case *c, json_t *log, struct check_judgement *j)
{
    json_decref(c->allowed);
    json_decref(c->checks);
    json_decref(log);
    json_decref(j->marks);
}

#define HOSTILE "{\"t\":1,\"ev\":\"msg\",\"conn\":1,\"dir\":\"c2s\",\"enc\":true,\"msg_id\":\"6b15f5ba01893748\"}"

START_TEST(reaction_allowed_or_not)
{
    struct check_case c = mkcase(CHECK_EXPECT_REACTION, "[\"bad_msg_notification\", \"silence\"]", NULL);
    json_t *log = log_of(HOSTILE "\n"
                         "{\"t\":2,\"ev\":\"msg\",\"conn\":1,\"dir\":\"s2c\",\"enc\":true,\"msg_id\":\"6b15f5ba3fbe76d5\"}\n"
                         "{\"t\":3,\"ev\":\"reaction\",\"reaction\":\"bad_msg_notification\",\"detail\":\"code 16\","
                         "\"hostile\":[1],\"evidence\":[2]}");
    struct check_judgement j;
    check_server_judge(&c, log, NULL, &j);
    ck_assert_int_eq(j.verdict, CHECK_PASS);
    ck_assert_str_eq(j.expected, "one of: bad_msg_notification, silence");
    ck_assert_str_eq(j.observed, "bad_msg_notification: code 16");
    /* marks: the hostile message, the evidence, the reaction event */
    ck_assert_int_eq(json_array_size(j.marks), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j.marks, 0), "event")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j.marks, 0), "why")), "hostile");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(j.marks, 1), "event")), 2);
    drop(&c, log, &j);

    c = mkcase(CHECK_EXPECT_REACTION, "[\"bad_msg_notification\", \"silence\"]", NULL);
    log = log_of(HOSTILE "\n{\"t\":3,\"ev\":\"reaction\",\"reaction\":\"answer\",\"detail\":\"a pong\","
                         "\"hostile\":[1],\"evidence\":[]}");
    check_server_judge(&c, log, NULL, &j);
    ck_assert_int_eq(j.verdict, CHECK_FAIL);
    ck_assert_str_eq(j.observed, "answer: a pong");
    drop(&c, log, &j);

    /* A notification with another code is not the allowed one. */
    c = mkcase(CHECK_EXPECT_REACTION, "[\"bad_msg_notification\"]", NULL);
    log = log_of("{\"t\":3,\"ev\":\"reaction\",\"reaction\":\"bad_msg_notification 33\",\"detail\":\"x\"}");
    check_server_judge(&c, log, NULL, &j);
    ck_assert_int_eq(j.verdict, CHECK_FAIL);
    drop(&c, log, &j);
}
END_TEST

START_TEST(last_reaction_counts)
{
    struct check_case c = mkcase(CHECK_EXPECT_REACTION, "[\"same-reaction\"]", NULL);
    json_t *log = log_of("{\"t\":1,\"ev\":\"reaction\",\"reaction\":\"transport-404\",\"detail\":\"a\"}\n"
                         "{\"t\":2,\"ev\":\"reaction\",\"reaction\":\"transport-404\",\"detail\":\"b\"}\n"
                         "{\"t\":3,\"ev\":\"reaction\",\"reaction\":\"same-reaction\",\"detail\":\"c\"}");
    struct check_judgement j;
    check_server_judge(&c, log, NULL, &j);
    ck_assert_int_eq(j.verdict, CHECK_PASS);
    ck_assert_str_eq(j.observed, "same-reaction: c");
    drop(&c, log, &j);
}
END_TEST

START_TEST(unsupported_crash_record_error)
{
    static const char *const not_exercised[] = {"window-not-full", "no-salt-change", "no-secret-given"};
    struct check_judgement j;
    for (size_t i = 0; i < 3; i++) {
        struct check_case c = mkcase(CHECK_EXPECT_REACTION, "[\"answer\"]", NULL);
        char line[200];
        snprintf(line, sizeof line, "{\"t\":3,\"ev\":\"reaction\",\"reaction\":\"%s\",\"detail\":\"d\"}", not_exercised[i]);
        json_t *log = log_of(line);
        check_server_judge(&c, log, NULL, &j);
        ck_assert_int_eq(j.verdict, CHECK_UNSUPPORTED);
        drop(&c, log, &j);
    }
    struct check_case c = mkcase(CHECK_EXPECT_REACTION, "[\"silence\"]", NULL);
    json_t *log = log_of("{\"t\":3,\"ev\":\"reaction\",\"reaction\":\"crash\",\"detail\":\"gone\"}");
    check_server_judge(&c, log, NULL, &j);
    ck_assert_int_eq(j.verdict, CHECK_CRASH);
    drop(&c, log, &j);

    c = mkcase(CHECK_EXPECT_RECORD, NULL, NULL);
    c.level = CHECK_INFO;
    log = log_of("{\"t\":3,\"ev\":\"reaction\",\"reaction\":\"transport-429\",\"detail\":\"9 of 50\"}");
    check_server_judge(&c, log, NULL, &j);
    ck_assert_int_eq(j.verdict, CHECK_PASS);
    ck_assert_str_eq(j.observed, "transport-429: 9 of 50");
    ck_assert(strstr(j.expected, "recorded") != NULL);
    drop(&c, log, &j);

    /* The probe could not do its part, or wrote no reaction: the harness's error, never the server's fault. */
    c = mkcase(CHECK_EXPECT_REACTION, "[\"silence\"]", NULL);
    log = log_of("{\"t\":1,\"ev\":\"open\",\"conn\":1}");
    check_server_judge(&c, log, "the honest key exchange did not complete", &j);
    ck_assert_int_eq(j.verdict, CHECK_ERROR);
    ck_assert(strstr(j.observed, "the honest key exchange") != NULL);
    drop(&c, log, &j);
    c = mkcase(CHECK_EXPECT_REACTION, "[\"silence\"]", NULL);
    log = log_of("{\"t\":1,\"ev\":\"open\",\"conn\":1}");
    check_server_judge(&c, log, NULL, &j);
    ck_assert_int_eq(j.verdict, CHECK_ERROR);
    drop(&c, log, &j);
}
END_TEST

#define S2C(id, sess) "{\"t\":2,\"ev\":\"msg\",\"dir\":\"s2c\",\"enc\":true,\"msg_id\":\"" id "\",\"session_id\":\"" sess "\""
#define DONE "{\"t\":9,\"ev\":\"reaction\",\"reaction\":\"answer\",\"detail\":\"traffic\"}"

START_TEST(named_server_msg_ids)
{
    struct check_case c = mkcase(CHECK_EXPECT_PASSIVE, NULL, "[\"server_msg_ids\"]");
    json_t *log = log_of(S2C("6b15f5ba00000001", "aa") ",\"ctor\":\"pong\"}\n" S2C("6b15f5ba00000007", "aa")
                         ",\"ctor\":\"msg_container\",\"nested\":[{\"msg_id\":\"6b15f5ba00000003\",\"ctor\":\"pong\"}]}\n"
                         S2C("6b15f5ba00000001", "bb") ",\"ctor\":\"pong\"}\n" DONE);
    struct check_judgement j;
    check_server_judge(&c, log, NULL, &j);
    ck_assert_msg(j.verdict == CHECK_PASS, "%s", j.observed);
    drop(&c, log, &j);

    /* an even id, and an id not above the session's previous one */
    c = mkcase(CHECK_EXPECT_PASSIVE, NULL, "[\"server_msg_ids\"]");
    log = log_of(S2C("6b15f5ba00000005", "aa") ",\"ctor\":\"pong\"}\n" S2C("6b15f5ba00000001", "aa")
                 ",\"ctor\":\"pong\"}\n" S2C("6b15f5ba00000008", "aa") ",\"ctor\":\"pong\"}\n" DONE);
    check_server_judge(&c, log, NULL, &j);
    ck_assert_int_eq(j.verdict, CHECK_FAIL);
    ck_assert(strstr(j.observed, "not above the session's previous one") != NULL);
    ck_assert(strstr(j.observed, "is even") != NULL);
    drop(&c, log, &j);
}
END_TEST

START_TEST(named_server_msg_id_classes)
{
    struct check_case c = mkcase(CHECK_EXPECT_PASSIVE, NULL, "[\"server_msg_id_classes\"]");
    json_t *log = log_of(S2C("6b15f5ba00000007", "aa") ",\"ctor\":\"msg_container\",\"nested\":["
                         "{\"msg_id\":\"6b15f5ba00000003\",\"ctor\":\"new_session_created\"},"
                         "{\"msg_id\":\"6b15f5ba00000005\",\"ctor\":\"pong\"}]}\n" DONE);
    struct check_judgement j;
    check_server_judge(&c, log, NULL, &j);
    ck_assert_msg(j.verdict == CHECK_PASS, "%s", j.observed);
    drop(&c, log, &j);

    c = mkcase(CHECK_EXPECT_PASSIVE, NULL, "[\"server_msg_id_classes\"]");
    log = log_of(S2C("6b15f5ba00000003", "aa") ",\"ctor\":\"pong\"}\n" DONE);
    check_server_judge(&c, log, NULL, &j);
    ck_assert_int_eq(j.verdict, CHECK_FAIL);
    ck_assert(strstr(j.observed, "3 mod 4, expected 1") != NULL);
    drop(&c, log, &j);
}
END_TEST

START_TEST(known_names)
{
    ck_assert(check_server_named_known("server_msg_ids"));
    ck_assert(!check_server_named_known("client_msg_ids"));
    ck_assert(check_server_reaction_known("transport-404"));
    ck_assert(check_server_reaction_known("same-timing"));
    ck_assert(!check_server_reaction_known("transport-405"));
    ck_assert(!check_server_reaction_known(NULL));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("check_server_judge");
    TCase *t = tcase_create("judge");
    tcase_add_test(t, reaction_allowed_or_not);
    tcase_add_test(t, last_reaction_counts);
    tcase_add_test(t, unsupported_crash_record_error);
    tcase_add_test(t, named_server_msg_ids);
    tcase_add_test(t, named_server_msg_id_classes);
    tcase_add_test(t, known_names);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(suite)
