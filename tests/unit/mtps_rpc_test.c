/* A connection's API calls (mtps_rpc.c), fed in memory: hostile messages with
 * a canary before the honest answer ("inject"), service messages pushed
 * before it ("push"), and what the observation log says of them. */
#include "mtps_conn_fixture.h"

START_TEST(inject_each_mutation_then_the_honest_answer)
{
    enum mtps_mutation mut = (enum mtps_mutation)_i;
    const char *name = mtps_mutation_name(mut);
    char json[256];
    snprintf(json, sizeof json,
             "{\"rules\":[{\"at\":\"rpc\",\"match\":\"help.getNearestDc\",\"do\":\"inject\",\"mutation\":\"%s\"}]}",
             name);
    events_on();
    server_up(json, NULL);
    cl_discard = true;
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    query_nearest_dc();
    bool crypto = mut == MTPS_MUT_MSG_KEY || mut == MTPS_MUT_AUTH_KEY_ID || mut == MTPS_MUT_CLIENT_DIRECTION ||
                  mut == MTPS_MUT_MTPROTO1 || mut == MTPS_MUT_LENGTH_BEYOND || mut == MTPS_MUT_LENGTH_UNALIGNED ||
                  mut == MTPS_MUT_LENGTH_NEGATIVE || mut == MTPS_MUT_PADDING_SHORT || mut == MTPS_MUT_PADDING_LONG ||
                  mut == MTPS_MUT_PLAIN_AFTER_KEY;
    if (mut == MTPS_MUT_NONE) {
        /* The control: an honest-looking first answer is taken, canary and all. */
        ck_assert_uint_eq(cl.results, 1);
        ck_assert_hex_eq(cl.last_result, cl.last_result_len, NEAREST_DC_CANARY);
    } else {
        /* A conformant client discards it and waits. */
        ck_assert_msg(cl.results == 0, "%s: the hostile message was taken", name);
        ck_assert_uint_eq(cl.bad_packets, crypto ? 1 : 0);
    }
    ck_assert_int_eq(mtps_conn_deadline(&conn), T0 + 300);
    later(299);
    ck_assert_uint_eq(cl.results, mut == MTPS_MUT_NONE ? 1 : 0);
    later(1);
    ck_assert_uint_eq(cl.results, 1);
    ck_assert_hex_eq(cl.last_result, cl.last_result_len, mut == MTPS_MUT_NONE ? NEAREST_DC_CANARY : NEAREST_DC_HONEST);
    ck_assert_int_eq(mtps_conn_state(&conn), MTPS_CONN_OPEN);

    json_t *all = events();
    json_t *rule = find_ev(all, "rule", "do", "inject", 0);
    ck_assert_ptr_nonnull(rule);
    ck_assert_str_eq(str_of(rule, "mutation"), name);
    ck_assert_str_eq(str_of(rule, "carry"), "rpc_result");
    ck_assert_ptr_null(json_object_get(rule, "skipped"));
    ck_assert_uint_eq(count_ev(all, "msg", "hostile", name), 1);
    json_t *h = find_ev(all, "msg", "hostile", name, 0);
    ck_assert(json_is_true(json_object_get(h, "canary")));
    ck_assert_str_eq(str_of(h, "dir"), "s2c");
    ck_assert_str_eq(str_of(h, "ctor"), mut == MTPS_MUT_CONTAINER_ORDER ? "msg_container" : "rpc_result");
    char key_id[17];
    mtp_hex_encode(cl.key.auth_key_id, 8, key_id);
    if (mut == MTPS_MUT_PLAIN_AFTER_KEY)
        ck_assert_str_eq(str_of(h, "auth_key_id"), "0000000000000000");
    else if (mut == MTPS_MUT_AUTH_KEY_ID)
        ck_assert_str_ne(str_of(h, "auth_key_id"), key_id);
    else
        ck_assert_str_eq(str_of(h, "auth_key_id"), key_id);
    json_t *rpc = find_ev(all, "rpc", "method", "help.getNearestDc", 0);
    ck_assert_int_eq(json_integer_value(json_object_get(rpc, "answer_in_ms")), 300);
    if (mut == MTPS_MUT_MSG_ID_DUPLICATE) {
        /* the msg_id of the server's message just before it */
        size_t i;
        json_t *o, *prev = NULL;
        json_array_foreach(all, i, o)
        {
            if (o == h)
                break;
            if (strcmp(str_of(o, "ev"), "msg") == 0 && strcmp(str_of(o, "dir"), "s2c") == 0 &&
                json_is_true(json_object_get(o, "enc")))
                prev = o;
        }
        ck_assert_ptr_nonnull(prev);
        ck_assert_str_eq(str_of(h, "msg_id"), str_of(prev, "msg_id"));
    }
    json_decref(all);
    both_down();
    server_down();
}
END_TEST

START_TEST(inject_a_canary_salt)
{
    /* C-MIS-31: a client must take no salt from a message it discards. */
    for (int control = 0; control < 2; control++) {
        events_on();
        server_up(control ? "{\"rules\":[{\"at\":\"rpc\",\"do\":\"inject\",\"mutation\":\"none\","
                            "\"carry\":\"bad_server_salt\"}]}"
                          : "{\"rules\":[{\"at\":\"rpc\",\"do\":\"inject\",\"mutation\":\"msg_key\","
                            "\"carry\":\"bad_server_salt\"}]}",
                  NULL);
        cl_discard = true;
        client_up(MTP_TR_ABRIDGED, false, false);
        handshake();
        uint64_t salt = cl.ses.salt;
        query_nearest_dc();
        later(300);
        /* The salt a client holds shows in its next message. */
        ck_assert_ok(mtps_client_ping(&cl, 9, NULL));
        pump();
        ck_assert_uint_eq(cl.pongs, 1);
        json_t *all = events();
        json_t *h = find_ev(all, "msg", "hostile", control ? "none" : "msg_key", 0);
        ck_assert_ptr_nonnull(h);
        ck_assert_str_eq(str_of(h, "ctor"), "bad_server_salt");
        ck_assert_str_eq(str_of(h, "carry"), "bad_server_salt");
        ck_assert_int_eq(json_integer_value(json_object_get(h, "seqno")) % 2, 0);
        ck_assert_uint_eq(cl.results, 1);
        ck_assert_hex_eq(cl.last_result, cl.last_result_len, NEAREST_DC_HONEST);
        if (!control) {
            ck_assert_uint_eq(cl.bad_packets, 1);
            ck_assert_uint_eq(cl.bad_salts, 0);
            ck_assert_uint_eq(cl.ses.salt, salt);
            ck_assert_ptr_null(find_ev(all, "msg", "salt", "43414e4152592121", 0));
        } else {
            /* Taken: the client's next message goes out with "CANARY!!" as its salt, and gets the real salt back. */
            ck_assert_uint_eq(cl.bad_salts, 2);
            json_t *used = find_ev(all, "msg", "salt", "43414e4152592121", 0);
            ck_assert_ptr_nonnull(used);
            ck_assert_str_eq(str_of(used, "dir"), "c2s");
            ck_assert_uint_eq(cl.ses.salt, salt);
        }
        json_decref(all);
        both_down();
        server_down();
    }
}
END_TEST

START_TEST(inject_without_a_canary_answers_at_once)
{
    events_on();
    server_up("{\"rules\":[{\"at\":\"rpc\",\"do\":\"inject\",\"mutation\":\"msg_key\"}]}", NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    uint8_t q[512];
    size_t n = encode_query("{\"_\":\"help.getAppConfig\",\"hash\":0}", 198, q, sizeof q);
    ck_assert_ok(mtps_client_query(&cl, q, n, NULL, NULL));
    pump();
    ck_assert_uint_eq(cl.rpc_errors, 1);
    json_t *all = events();
    json_t *rule = find_ev(all, "rule", "do", "inject", 0);
    ck_assert_str_eq(str_of(rule, "skipped"), "inject: no canary answer for help.getAppConfig");
    ck_assert_uint_eq(count_ev(all, "msg", "hostile", "msg_key"), 0);
    json_decref(all);
    both_down();
    server_down();
}
END_TEST

START_TEST(push_before_the_answer)
{
    static const struct {
        const char *rule, *ctor;
    } cases[] = {
        {"\"message\":\"msgs_ack\"", "msgs_ack"},
        {"\"message\":\"future_salts\"", "future_salts"},
        {"\"message\":\"new_session_created\"", "new_session_created"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"rules\":[{\"at\":\"rpc\",\"do\":\"push\",%s}]}", cases[i].rule);
        events_on();
        server_up(json, NULL);
        client_up(MTP_TR_INTERMEDIATE, false, false);
        handshake();
        query_nearest_dc();
        ck_assert_uint_eq(cl.results, 1);
        ck_assert_hex_eq(cl.last_result, cl.last_result_len, NEAREST_DC_HONEST);
        ck_assert_uint_eq(cl.new_sessions, i == 2 ? 2 : 1);
        /* In the answer's container, before the answer. */
        json_t *all = events();
        json_t *rule = find_ev(all, "rule", "do", "push", 0);
        ck_assert_str_eq(str_of(rule, "message"), cases[i].ctor);
        json_t *o;
        size_t k = 0;
        bool found = false;
        while ((o = find_ev(all, "msg", "dir", "s2c", k++)) != NULL) {
            json_t *names = json_object_get(o, "names");
            size_t j, push_at = SIZE_MAX, answer_at = SIZE_MAX;
            json_t *nm;
            json_array_foreach(names, j, nm)
            {
                if (strcmp(json_string_value(nm), cases[i].ctor) == 0 && push_at == SIZE_MAX)
                    push_at = j;
                if (strcmp(json_string_value(nm), "nearestDc") == 0)
                    answer_at = j;
            }
            if (answer_at != SIZE_MAX) {
                ck_assert_uint_lt(push_at, answer_at);
                found = true;
            }
        }
        ck_assert(found);
        json_decref(all);
        both_down();
        server_down();
    }
}
END_TEST

START_TEST(push_bad_msg_notification_makes_the_client_resend)
{
    events_on();
    server_up("{\"rules\":[{\"at\":\"rpc\",\"do\":\"push\",\"message\":\"bad_msg_notification\",\"code\":17}]}",
              NULL);
    client_up(MTP_TR_FULL, false, false);
    handshake();
    query_nearest_dc();
    ck_assert_uint_eq(cl.bad_msgs, 1);
    ck_assert_uint_eq(cl.results, 1);
    json_t *all = events();
    json_t *first = find_ev(all, "rpc", "method", "help.getNearestDc", 0);
    json_t *second = find_ev(all, "rpc", "method", "help.getNearestDc", 1);
    ck_assert_str_eq(str_of(first, "answer"), "none");
    ck_assert_str_eq(str_of(second, "answer"), "result");
    json_t *rule = find_ev(all, "rule", "do", "push", 0);
    ck_assert_int_eq(json_integer_value(json_object_get(rule, "code")), 17);
    json_decref(all);
    both_down();
    server_down();
}
END_TEST

START_TEST(push_with_a_delay_sends_the_answer_later)
{
    server_up("{\"rules\":[{\"at\":\"rpc\",\"do\":\"push\",\"message\":\"msgs_ack\",\"ms\":1000}]}", NULL);
    client_up(MTP_TR_INTERMEDIATE, false, false);
    handshake();
    query_nearest_dc();
    ck_assert_uint_eq(cl.results, 0);
    later(1000);
    ck_assert_uint_eq(cl.results, 1);
    both_down();
    server_down();
}
END_TEST

Suite *mtps_rpc_suite(void);
Suite *mtps_rpc_suite(void)
{
    Suite *s = suite_create("mtps_rpc");
    TCase *tc = tcase_create("inject");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, inject_each_mutation_then_the_honest_answer, MTPS_MUT_NONE, MTPS_MUT_COUNT + 1);
    tcase_add_test(tc, inject_a_canary_salt);
    tcase_add_test(tc, inject_without_a_canary_answers_at_once);
    suite_add_tcase(s, tc);
    tc = tcase_create("push");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, push_before_the_answer);
    tcase_add_test(tc, push_bad_msg_notification_makes_the_client_resend);
    tcase_add_test(tc, push_with_a_delay_sends_the_answer_later);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_rpc_suite)
