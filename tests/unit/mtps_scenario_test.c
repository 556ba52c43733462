#include <dirent.h>
#include <string.h>

#include "mtp_test.h"
#include "mtps_scenario.h"

static int parse(struct mtps_scenario *s, const char *json, struct mtp_error *err)
{
    mtp_error_clear(err);
    return mtps_scenario_parse(s, json, strlen(json), "t.json", err);
}

START_TEST(defaults_are_telegram_like)
{
    struct mtps_scenario s;
    mtps_scenario_default(&s);
    ck_assert_str_eq(s.name, "default");
    ck_assert_uint_eq(s.nrules, 0);
    ck_assert(s.quick_ack);
    ck_assert(!s.require_obfs);
    ck_assert(s.bad_packet_closes);
    ck_assert_int_eq(s.api.unknown_method_code, 400);
    ck_assert_str_eq(s.api.unknown_method_message, "METHOD_NOT_SUPPORTED");
    ck_assert_int_eq(s.session.max_past_ms, 300000);
    ck_assert_int_eq(s.session.max_future_ms, 30000);
    ck_assert_int_eq(s.session.salt_period_ms, 3600000);
    ck_assert_uint_eq(s.session.window, 256);
    struct mtps_limits l;
    mtps_limits_default(&l);
    ck_assert_uint_eq(l.max_conns, 4096);
    ck_assert_uint_eq(l.max_frame, 256u << 10);
    ck_assert_uint_eq(l.max_memory, 128ull << 20);
    ck_assert_uint_eq(l.max_sessions, 2048);
    ck_assert_int_eq(l.idle_timeout_ms, 120000);
    mtps_scenario_free(&s);
}
END_TEST

START_TEST(every_shipped_scenario_loads)
{
    DIR *d = opendir(mtp_test_path("mock-server/scenarios"));
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(len - 5), e->d_name);
        struct mtps_scenario s;
        struct mtp_error err;
        mtp_error_clear(&err);
        ck_assert_msg(mtps_scenario_load(&s, name, NULL, &err) == MTP_OK, "%s: %s", name, err.msg);
        ck_assert_str_eq(s.name, name);
        ck_assert_ptr_nonnull(s.description);
        mtps_scenario_free(&s);
        n++;
    }
    closedir(d);
    ck_assert_int_ge(n, 4);
}
END_TEST

START_TEST(the_required_scenarios_say_what_they_do)
{
    struct mtps_scenario s;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_scenario_load(&s, "res_pq_wrong_nonce", NULL, &err));
    ck_assert_ptr_nonnull(s.auth);
    ck_assert_ptr_nonnull(json_object_get(s.auth, "corrupt"));
    mtps_scenario_free(&s);
    ck_assert_ok(mtps_scenario_load(&s, "dh_prime_not_safe", NULL, &err));
    ck_assert_uint_eq(json_string_length(json_object_get(s.auth, "send_dh_prime")), 512);
    mtps_scenario_free(&s);
    ck_assert_ok(mtps_scenario_load(&s, "bad_salt_first", NULL, &err));
    ck_assert_uint_eq(s.nrules, 1);
    ck_assert_int_eq(s.rules[0].at, MTPS_AT_C2S_MESSAGE);
    ck_assert_int_eq(s.rules[0].action, MTPS_DO_BAD_SALT);
    ck_assert_uint_eq(s.rules[0].nth, 1);
    ck_assert_uint_eq(s.rules[0].times, 1);
    mtps_scenario_free(&s);
    /* by path too */
    ck_assert_ok(mtps_scenario_load(&s, mtp_test_path("mock-server/scenarios/default.json"), NULL, &err));
    ck_assert_str_eq(s.name, "default");
    mtps_scenario_free(&s);
}
END_TEST

START_TEST(sections_set_what_they_name)
{
    struct mtps_scenario s;
    struct mtp_error err;
    ck_assert_ok(parse(&s,
                       "{\"name\":\"x\",\"session\":{\"window\":64,\"salt_period_ms\":1000,\"container_max_msgs\":10},"
                       "\"limits\":{\"flood_packets\":7,\"idle_timeout_ms\":500},"
                       "\"behaviour\":{\"quick_ack\":false,\"require_obfs\":true,\"padding_min\":13,\"padding_max\":15},"
                       "\"api\":{\"unknown_method_error\":[501,\"NOPE\"]}}",
                       &err));
    ck_assert_str_eq(s.name, "x");
    ck_assert_uint_eq(s.session.window, 64);
    ck_assert_int_eq(s.session.salt_period_ms, 1000);
    ck_assert_uint_eq(s.session.container.max_msgs, 10);
    ck_assert(!s.quick_ack);
    ck_assert(s.require_obfs);
    ck_assert_uint_eq(s.padding_min, 13);
    ck_assert_uint_eq(s.padding_max, 15);
    ck_assert_int_eq(s.api.unknown_method_code, 501);
    ck_assert_str_eq(s.api.unknown_method_message, "NOPE");
    struct mtps_limits l;
    mtps_limits_default(&l);
    mtps_scenario_apply_limits(&s, &l);
    ck_assert_uint_eq(l.flood_packets, 7);
    ck_assert_int_eq(l.idle_timeout_ms, 500);
    ck_assert_uint_eq(l.max_conns, 4096); /* not set: unchanged */
    mtps_scenario_free(&s);
}
END_TEST

START_TEST(mistakes_are_named)
{
    static const struct {
        const char *json;
        const char *msg;
    } cases[] = {
        {"{\"sesion\":{}}", "t.json: unknown key \"sesion\""},
        {"{\"session\":{\"windw\":1}}", "t.json: session: unknown setting \"windw\""},
        {"{\"limits\":{\"max_conns\":-1}}", "t.json: limits.max_conns: expected a non-negative integer"},
        {"{\"behaviour\":{\"quick_ack\":1}}", "t.json: behaviour.quick_ack: expected true or false"},
        {"{\"behaviour\":{\"padding_max\":16}}", "t.json: behaviour.padding_max: at most 15"},
        {"{\"behaviour\":{\"padding_min\":4}}", "t.json: behaviour.padding_min: 4 is above padding_max 3"},
        {"{\"rules\":[{\"at\":\"c2s\",\"do\":\"drop\"}]}", "t.json: rules[0].at: unknown value \"c2s\""},
        {"{\"rules\":[{\"do\":\"drop\"}]}", "t.json: rules[0]: \"at\" and \"do\" are required"},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"delay\"}]}", "t.json: rules[0]: \"delay\" cannot be done at this point"},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"rpc_error\",\"code\":400}]}",
         "t.json: rules[0]: rpc_error needs a positive code and a message"},
        {"{\"rules\":[{\"at\":\"c2s_packet\",\"do\":\"transport_error\",\"code\":404}]}",
         "t.json: rules[0]: transport_error needs a negative code (e.g. -404)"},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"drop\",\"nth\":0}]}", "t.json: rules[0]: nth counts from 1"},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"drop\",\"when\":1}]}", "t.json: rules[0]: unknown key \"when\""},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"drop\",\"per\":\"process\"}]}",
         "t.json: rules[0].per: expected \"connection\" or \"server\""},
        {"{\"rules\":[{\"at\":\"s2c_packet\",\"do\":\"bool_false\"}]}",
         "t.json: rules[0]: \"bool_false\" cannot be done at this point"},
        {"{\"api\":{\"unknown_method_error\":[400]}}",
         "t.json: api.unknown_method_error: expected [code, \"MESSAGE\"]"},
        {"[]", "t.json: expected a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mtps_scenario s;
        struct mtp_error err;
        ck_assert_rc(parse(&s, cases[i].json, &err), MTP_ERR_SRV_SCENARIO);
        ck_assert_str_eq(err.msg, cases[i].msg);
    }
    struct mtps_scenario s;
    struct mtp_error err;
    ck_assert_rc(parse(&s, "{\"name\":", &err), MTP_ERR_SRV_SCENARIO);
    mtp_error_clear(&err);
    ck_assert_rc(mtps_scenario_load(&s, "no_such_scenario", NULL, &err), MTP_ERR_IO);
}
END_TEST

START_TEST(knobs_for_the_client_checks)
{
    struct mtps_scenario s;
    struct mtp_error err;
    mtps_scenario_default(&s);
    /* The real service's tolerance is the default; the split pieces are 1 ms apart. */
    ck_assert(!s.session.strict_seqno_parity);
    ck_assert(!s.session.strict_msg_id_low32);
    ck_assert(!s.session.container_always);
    ck_assert_uint_eq(s.split_writes, 0);
    ck_assert_uint_eq(s.split_delay_ms, 1);
    ck_assert_uint_eq(s.padding_policy, MTPS_PAD_RANDOM);
    mtps_scenario_free(&s);
    ck_assert_ok(parse(&s,
                       "{\"session\":{\"padding\":1024,\"strict_seqno_parity\":true,\"strict_msg_id_low32\":true},"
                       "\"behaviour\":{\"container_always\":true,\"abridged_long_form\":true,\"split_writes\":1,"
                       "\"split_delay_ms\":5,\"clock_offset_ms\":-3600000},"
                       "\"rules\":[{\"at\":\"rpc\",\"match\":\"help.getNearestDc\",\"do\":\"inject\",\"mutation\":\"msg_key\"},"
                       "{\"at\":\"rpc\",\"do\":\"inject\",\"mutation\":\"none\",\"carry\":\"bad_server_salt\",\"ms\":0},"
                       "{\"at\":\"rpc\",\"do\":\"push\",\"message\":\"bad_msg_notification\",\"code\":17},"
                       "{\"at\":\"rpc\",\"do\":\"push\",\"message\":\"future_salts\",\"ms\":50},"
                       "{\"at\":\"s2c_packet\",\"do\":\"bad_crc\"},{\"at\":\"s2c_packet\",\"do\":\"bad_seq\"}]}",
                       &err));
    ck_assert_uint_eq(s.padding_policy, MTPS_PAD_EXACT);
    ck_assert_uint_eq(s.padding_exact, 1024);
    ck_assert(s.session.strict_seqno_parity && s.session.strict_msg_id_low32 && s.session.container_always);
    ck_assert(s.abridged_long_form);
    ck_assert_uint_eq(s.split_writes, 1);
    ck_assert_uint_eq(s.split_delay_ms, 5);
    ck_assert_int_eq(s.clock_offset_ms, -3600000);
    ck_assert_uint_eq(s.nrules, 6);
    ck_assert_int_eq(s.rules[0].action, MTPS_DO_INJECT);
    ck_assert_int_eq(s.rules[0].mutation, MTPS_MUT_MSG_KEY);
    ck_assert_int_eq(s.rules[0].carry, MTPS_CARRY_RPC_RESULT);
    ck_assert_int_eq(s.rules[0].ms, 300);
    ck_assert_int_eq(s.rules[1].mutation, MTPS_MUT_NONE);
    ck_assert_int_eq(s.rules[1].carry, MTPS_CARRY_BAD_SERVER_SALT);
    ck_assert_int_eq(s.rules[1].ms, 0);
    ck_assert_int_eq(s.rules[2].push, MTPS_PUSH_BAD_MSG_NOTIFICATION);
    ck_assert_int_eq(s.rules[2].code, 17);
    ck_assert_int_eq(s.rules[3].push, MTPS_PUSH_FUTURE_SALTS);
    ck_assert_int_eq(s.rules[3].ms, 50);
    ck_assert_int_eq(s.rules[4].action, MTPS_DO_BAD_CRC);
    ck_assert_int_eq(s.rules[5].action, MTPS_DO_BAD_SEQ);
    ck_assert_str_eq(mtps_mutation_name(MTPS_MUT_PLAIN_AFTER_KEY), "plain_after_key");
    ck_assert_str_eq(mtps_carry_name(MTPS_CARRY_BAD_SERVER_SALT), "bad_server_salt");
    ck_assert_str_eq(mtps_push_name(MTPS_PUSH_NEW_SESSION_CREATED), "new_session_created");
    mtps_scenario_free(&s);
    ck_assert_ok(parse(&s, "{\"session\":{\"padding\":\"min\"}}", &err));
    ck_assert_uint_eq(s.padding_policy, MTPS_PAD_MIN);
    mtps_scenario_free(&s);
    ck_assert_ok(parse(&s, "{\"session\":{\"padding\":\"max\"}}", &err));
    ck_assert_uint_eq(s.padding_policy, MTPS_PAD_MAX);
    mtps_scenario_free(&s);
    static const struct {
        const char *json;
        const char *msg;
    } bad[] = {
        {"{\"session\":{\"padding\":11}}", "t.json: session.padding: expected \"min\", \"max\" or a number of bytes 12..1024"},
        {"{\"session\":{\"padding\":\"most\"}}", "t.json: session.padding: expected \"min\", \"max\" or a number of bytes 12..1024"},
        {"{\"session\":{\"strict_seqno_parity\":1}}", "t.json: session.strict_seqno_parity: expected true or false"},
        {"{\"behaviour\":{\"clock_offset_ms\":\"1h\"}}", "t.json: behaviour.clock_offset_ms: expected an integer"},
        {"{\"behaviour\":{\"clock_offset_ms\":31708800001}}",
         "t.json: behaviour.clock_offset_ms: at most a year (31622400000 ms) either way"},
        {"{\"behaviour\":{\"split_delay_ms\":60001}}", "t.json: behaviour.split_delay_ms: at most 60000"},
        {"{\"behaviour\":{\"container_alway\":true}}", "t.json: behaviour: unknown setting \"container_alway\""},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"inject\"}]}", "t.json: rules[0]: inject needs a \"mutation\""},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"inject\",\"mutation\":\"msgkey\"}]}",
         "t.json: rules[0].mutation: unknown value \"msgkey\""},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"inject\",\"mutation\":3}]}", "t.json: rules[0].mutation: unknown value"},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"inject\",\"mutation\":\"none\",\"carry\":\"pong\"}]}",
         "t.json: rules[0].carry: unknown value \"pong\""},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"drop\",\"mutation\":\"none\"}]}",
         "t.json: rules[0].mutation: only for \"inject\""},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"drop\",\"carry\":\"rpc_result\"}]}",
         "t.json: rules[0].carry: only for \"inject\""},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"inject\",\"mutation\":\"none\",\"code\":1}]}",
         "t.json: rules[0].code: not for \"inject\""},
        {"{\"rules\":[{\"at\":\"s2c_packet\",\"do\":\"inject\",\"mutation\":\"none\"}]}",
         "t.json: rules[0]: \"inject\" cannot be done at this point"},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"push\"}]}",
         "t.json: rules[0].message: push needs one of \"future_salts\", \"msgs_ack\", \"new_session_created\", "
         "\"bad_msg_notification\""},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"push\",\"message\":\"bad_msg_notification\",\"code\":48}]}",
         "t.json: rules[0].code: bad_msg_notification needs a code of 16, 17, 18, 19, 20, 32, 33, 34, 35, 64"},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"push\",\"message\":\"msgs_ack\",\"code\":16}]}",
         "t.json: rules[0].code: only for bad_msg_notification"},
        {"{\"rules\":[{\"at\":\"rpc\",\"do\":\"bad_crc\"}]}", "t.json: rules[0]: \"bad_crc\" cannot be done at this point"},
        {"{\"rules\":[{\"at\":\"c2s_packet\",\"do\":\"bad_seq\"}]}",
         "t.json: rules[0]: \"bad_seq\" cannot be done at this point"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_rc(parse(&s, bad[i].json, &err), MTP_ERR_SRV_SCENARIO);
        ck_assert_str_eq(err.msg, bad[i].msg);
    }
}
END_TEST

START_TEST(rules_fire_from_nth_for_times)
{
    struct mtps_scenario s;
    struct mtp_error err;
    ck_assert_ok(parse(&s,
                       "{\"rules\":[{\"at\":\"s2c_packet\",\"match\":\"pong\",\"nth\":2,\"times\":2,\"do\":\"drop\"},"
                       "{\"at\":\"s2c_packet\",\"do\":\"delay\",\"ms\":5,\"times\":0}]}",
                       &err));
    struct mtps_rule_state st;
    memset(&st, 0, sizeof st);
    const char *pong[2] = {"encrypted", "pong"};
    const char *other[1] = {"encrypted"};
    /* pong #1: the drop rule has not reached its nth; the catch-all delay fires */
    const struct mtps_rule *r = mtps_rules_eval(&s, &st, MTPS_AT_S2C_PACKET, pong, 2);
    ck_assert_int_eq(r->action, MTPS_DO_DELAY);
    ck_assert_int_eq(mtps_rules_eval(&s, &st, MTPS_AT_S2C_PACKET, pong, 2)->action, MTPS_DO_DROP);
    ck_assert_int_eq(mtps_rules_eval(&s, &st, MTPS_AT_S2C_PACKET, other, 1)->action, MTPS_DO_DELAY);
    ck_assert_int_eq(mtps_rules_eval(&s, &st, MTPS_AT_S2C_PACKET, pong, 2)->action, MTPS_DO_DROP);
    ck_assert_int_eq(mtps_rules_eval(&s, &st, MTPS_AT_S2C_PACKET, pong, 2)->action, MTPS_DO_DELAY);
    ck_assert_uint_eq(st.matched[0], 4);
    ck_assert_uint_eq(st.fired[0], 2);
    ck_assert_ptr_null(mtps_rules_eval(&s, &st, MTPS_AT_RPC, pong, 2));
    ck_assert_str_eq(mtps_at_name(MTPS_AT_C2S_MESSAGE), "c2s_message");
    ck_assert_str_eq(mtps_action_name(MTPS_DO_CLOSE_AFTER), "close_after");
    mtps_scenario_free(&s);
}
END_TEST

START_TEST(rules_counted_per_server_share_their_counters)
{
    struct mtps_scenario s;
    struct mtp_error err;
    ck_assert_ok(parse(&s,
                       "{\"rules\":[{\"at\":\"c2s_packet\",\"match\":\"plain\",\"per\":\"server\","
                       "\"do\":\"transport_error\",\"code\":-404},"
                       "{\"at\":\"rpc\",\"match\":\"auth.bindTempAuthKey\",\"per\":\"connection\","
                       "\"do\":\"bool_false\"}]}",
                       &err));
    ck_assert(s.rules[0].per_server);
    ck_assert(!s.rules[1].per_server);
    ck_assert_str_eq(mtps_action_name(MTPS_DO_BOOL_FALSE), "bool_false");
    struct mtps_rule_state server, a, b;
    memset(&server, 0, sizeof server);
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.shared = b.shared = &server;
    const char *plain[1] = {"plain"};
    const char *bind[1] = {"auth.bindTempAuthKey"};
    /* the first plain packet of the server fires, on whichever connection; no other does */
    ck_assert_int_eq(mtps_rules_eval(&s, &a, MTPS_AT_C2S_PACKET, plain, 1)->action, MTPS_DO_TRANSPORT_ERROR);
    ck_assert_ptr_null(mtps_rules_eval(&s, &b, MTPS_AT_C2S_PACKET, plain, 1));
    ck_assert_ptr_null(mtps_rules_eval(&s, &a, MTPS_AT_C2S_PACKET, plain, 1));
    ck_assert_uint_eq(server.matched[0], 3);
    ck_assert_uint_eq(server.fired[0], 1);
    ck_assert_uint_eq(a.matched[0] + b.matched[0], 0);
    /* per connection: each connection's first bind */
    ck_assert_int_eq(mtps_rules_eval(&s, &a, MTPS_AT_RPC, bind, 1)->action, MTPS_DO_BOOL_FALSE);
    ck_assert_int_eq(mtps_rules_eval(&s, &b, MTPS_AT_RPC, bind, 1)->action, MTPS_DO_BOOL_FALSE);
    ck_assert_ptr_null(mtps_rules_eval(&s, &a, MTPS_AT_RPC, bind, 1));
    ck_assert_uint_eq(server.matched[1], 0);
    /* without a shared state, a server rule counts in the connection's */
    struct mtps_rule_state alone;
    memset(&alone, 0, sizeof alone);
    ck_assert_ptr_nonnull(mtps_rules_eval(&s, &alone, MTPS_AT_C2S_PACKET, plain, 1));
    ck_assert_uint_eq(alone.fired[0], 1);
    mtps_scenario_free(&s);
}
END_TEST

Suite *mtps_scenario_suite(void);
Suite *mtps_scenario_suite(void)
{
    Suite *s = suite_create("mtps_scenario");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, defaults_are_telegram_like);
    tcase_add_test(tc, every_shipped_scenario_loads);
    tcase_add_test(tc, the_required_scenarios_say_what_they_do);
    tcase_add_test(tc, sections_set_what_they_name);
    tcase_add_test(tc, mistakes_are_named);
    tcase_add_test(tc, knobs_for_the_client_checks);
    suite_add_tcase(s, tc);
    tc = tcase_create("rules");
    tcase_add_test(tc, rules_fire_from_nth_for_times);
    tcase_add_test(tc, rules_counted_per_server_share_their_counters);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_scenario_suite)
