#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp_test.h"
#include "shim/shim.h"

static json_t *handle(const char *line)
{
    char *ans = mtp_shim_handle_line(line);
    ck_assert_ptr_nonnull(ans);
    json_t *j = json_loads(ans, 0, NULL);
    ck_assert_msg(j != NULL, "answer is not JSON: %s", ans);
    ck_assert_msg(strchr(ans, '\n') == NULL, "answer spans lines: %s", ans);
    free(ans);
    return j;
}

START_TEST(answers_every_line)
{
    json_t *a = handle("{\"id\": 7, \"op\": \"hello\"}");
    ck_assert_int_eq(json_integer_value(json_object_get(a, "id")), 7);
    ck_assert(json_is_true(json_object_get(a, "ok")));
    json_t *ops = json_object_get(a, "ops");
    ck_assert(json_is_array(ops));
    bool listed = false;
    for (size_t i = 0; i < json_array_size(ops); i++)
        listed |= strcmp(json_string_value(json_array_get(ops, i)), "hello") == 0;
    ck_assert_msg(listed, "hello is not in the op list");
    /* Protocol 2, and every feature added since version 1 by name. */
    ck_assert_int_eq(json_integer_value(json_object_get(a, "protocol")), 2);
    ck_assert_int_eq(MTP_SHIM_PROTOCOL_VERSION, 2);
    json_t *features = json_object_get(a, "features");
    static const char *const names[] = {"sender", "quick_ack", "padding", "next_plain", "fake_tls_secret"};
    ck_assert_uint_eq(json_array_size(features), sizeof names / sizeof names[0]);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ck_assert_str_eq(json_string_value(json_array_get(features, i)), names[i]);
        ck_assert_ptr_nonnull(mtp_shim_feature_find(names[i]));
        ck_assert_int_eq(mtp_shim_feature_find(names[i])->since, 2);
    }
    json_decref(a);
    ck_assert_ptr_null(mtp_shim_feature_find("telepathy"));
    ck_assert_ptr_null(mtp_shim_feature_find(NULL));
    /* The answer fields features add, per op. */
    ck_assert_str_eq(mtp_shim_feature_of_field("transport_decode", "acks")->name, "quick_ack");
    ck_assert_str_eq(mtp_shim_feature_of_field("transport_decode", "quick_ack")->name, "quick_ack");
    ck_assert_str_eq(mtp_shim_feature_of_field("obfuscated_init", "next_wire")->name, "next_plain");
    ck_assert_ptr_null(mtp_shim_feature_of_field("transport_decode", "payloads"));
    ck_assert_ptr_null(mtp_shim_feature_of_field("transport_encode", "quick_ack"));

    a = handle("{\"id\": \"x\", \"op\": \"frobnicate\"}");
    ck_assert_str_eq(json_string_value(json_object_get(a, "id")), "x");
    ck_assert(json_is_false(json_object_get(a, "ok")));
    ck_assert_str_eq(json_string_value(json_object_get(a, "error")), "unsupported");
    json_decref(a);

    a = handle("{\"id\": 3}");
    ck_assert_str_eq(json_string_value(json_object_get(a, "error")), "bad_argument");
    ck_assert_str_eq(json_string_value(json_object_get(a, "message")), "request has no string field 'op'");
    json_decref(a);

    a = handle("[1,2]");
    ck_assert_str_eq(json_string_value(json_object_get(a, "error")), "bad_json");
    json_decref(a);

    a = handle("{\"id\":1,\"id\":2,\"op\":\"hello\"}");
    ck_assert_str_eq(json_string_value(json_object_get(a, "error")), "bad_json");
    json_decref(a);
}
END_TEST

START_TEST(argument_helpers)
{
    json_t *req = json_pack("{s:s, s:s, s:s, s:i, s:b, s:s, s:n}", "key", "00112233", "odd", "abc", "word", "zz",
                            "n", 5, "flag", 1, "sender", "server", "nothing");
    struct mtp_error err;
    mtp_error_clear(&err);
    uint8_t four[4];
    ck_assert_ok(mtp_shim_arg_hex_exact(req, "key", four, 4, &err));
    ck_assert_hex_eq(four, 4, "00112233");
    uint8_t two[2];
    ck_assert_rc(mtp_shim_arg_hex_exact(req, "key", two, 2, &err), MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "argument 'key' must be 2..2 bytes, got 8 hex digits");
    mtp_error_clear(&err);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 100, &err);
    ck_assert_rc(mtp_shim_arg_hex(req, "odd", &w, &err), MTP_ERR_HEX);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_shim_arg_hex(req, "word", &w, &err), MTP_ERR_HEX);
    ck_assert_str_eq(err.msg, "word: not a hex digit at character 0");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_shim_arg_hex(req, "missing", &w, &err), MTP_ERR_ARG);
    ck_assert_str_eq(err.msg, "argument 'missing' is missing or is not a hex string");
    bool present = true;
    ck_assert_ok(mtp_shim_arg_hex_opt(req, "nothing", &w, &present, &err));
    ck_assert(!present);
    mtp_wr_free(&w);
    int64_t n;
    ck_assert_ok(mtp_shim_arg_int(req, "n", &n, &err));
    ck_assert_int_eq(n, 5);
    bool flag;
    ck_assert_ok(mtp_shim_arg_bool(req, "flag", &flag, &err));
    ck_assert(flag);
    int is_server;
    ck_assert_ok(mtp_shim_arg_sender(req, "sender", &is_server, &err));
    ck_assert_int_eq(is_server, 1);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_shim_arg_sender(req, "word", &is_server, &err), MTP_ERR_ARG);
    json_t *ans = json_object();
    ck_assert_ok(mtp_shim_set_hex(ans, "out", "\xab\xcd", 2));
    ck_assert_str_eq(json_string_value(json_object_get(ans, "out")), "abcd");
    json_decref(ans);
    json_decref(req);
}
END_TEST

struct op_check {
    const char *ops_in_vectors;
    char missing[1024];
};

static void check_op(const char *op, void *ctx)
{
    struct op_check *c = ctx;
    char needle[80];
    snprintf(needle, sizeof needle, "\"%s\"\n", op);
    if (strcmp(op, "hello") != 0 && strstr(c->ops_in_vectors, needle) == NULL)
        snprintf(c->missing + strlen(c->missing), sizeof c->missing - strlen(c->missing), " %s", op);
}

/* A tripwire: an op without a single known-answer vector is untested from the outside. */
START_TEST(every_op_has_vectors)
{
    char *out, *err;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "grep -rhoE '\"op\": *\"[a-z0-9_]+\"' %s/vectors --include=*.json | sed 's/.*: *//' | sort -u",
             MTPROBE_SOURCE_DIR);
    ck_assert_int_eq(mtp_test_sh(cmd, NULL, &out, &err), 0);
    struct op_check c = {out, ""};
    mtp_shim_foreach(check_op, &c);
    ck_assert_msg(c.missing[0] == '\0', "ops without vectors:%s", c.missing);
}
END_TEST

static Suite *shim_suite(void)
{
    Suite *s = suite_create("shim");
    TCase *tc = tcase_create("dispatch");
    tcase_add_test(tc, answers_every_line);
    tcase_add_test(tc, argument_helpers);
    tcase_add_test(tc, every_op_has_vectors);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(shim_suite)
