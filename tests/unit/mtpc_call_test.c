/* --call: JSON to the bytes sent (wrapped or raw), answers to JSON, and the
 * LAYER comment of a schema file. */
#include <jansson.h>
#include <string.h>

#include "client/mtpc_call.h"
#include "mtp_test.h"
#include "tlengine/tl_files.h"

static struct mtp_tl_schema *schema;

static void setup(void)
{
    const char *names[] = {"api"};
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_tl_schema_load(names, 1, &schema, &err) == MTP_OK, "schema: %s", err.msg);
}

static void teardown(void)
{
    mtp_tl_schema_free(schema);
    schema = NULL;
    mtp_test_free_all();
}

static void opts_fixed(struct mtpc_call_opts *o)
{
    mtpc_call_opts_init(o);
    o->layer = 198;
    o->device_model = "m";
    o->system_version = "s";
    o->app_version = "a";
}

START_TEST(api_method_is_wrapped)
{
    struct mtpc_call_opts o;
    opts_fixed(&o);
    struct mtpc_call call;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_msg(mtpc_call_build(&call, schema, "{\"_\":\"help.getNearestDc\"}", &o, &err) == MTP_OK, "%s",
                  err.msg);
    ck_assert(call.wrapped);
    ck_assert_str_eq(call.method, "help.getNearestDc");
    /* invokeWithLayer#da9b0d0d 198 initConnection#c1cd5ea9 flags=0 api_id=1 "m" "s" "a" "en" "" "en"
     * help.getNearestDc#1fb33026 (the same bytes `mtprobe tl encode --schema api` gives). */
    ck_assert_hex_eq(call.bytes, call.len,
                     "0d0d9bdac6000000a95ecdc10000000001000000016d0000017300000161000002656e000000000002656e00"
                     "2630b31f");
    mtpc_call_free(&call);
}
END_TEST

START_TEST(raw_and_service_calls_are_not_wrapped)
{
    struct mtpc_call_opts o;
    opts_fixed(&o);
    o.raw = true;
    struct mtpc_call call;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtpc_call_build(&call, schema, "{\"_\":\"help.getNearestDc\"}", &o, &err));
    ck_assert(!call.wrapped);
    ck_assert_hex_eq(call.bytes, call.len, "2630b31f");
    mtpc_call_free(&call);
    o.raw = false;
    ck_assert_ok(mtpc_call_build(&call, schema, "{\"_\":\"ping\",\"ping_id\":\"258\"}", &o, &err));
    ck_assert(!call.wrapped);
    ck_assert_hex_eq(call.bytes, call.len, "ec77be7a0201000000000000");
    mtpc_call_free(&call);
    /* Already wrapped: left alone. */
    ck_assert_ok(mtpc_call_build(
        &call, schema, "{\"_\":\"invokeWithLayer\",\"layer\":5,\"query\":{\"_\":\"help.getNearestDc\"}}", &o, &err));
    ck_assert(!call.wrapped);
    ck_assert_hex_eq(call.bytes, call.len, "0d0d9bda050000002630b31f");
    mtpc_call_free(&call);
}
END_TEST

START_TEST(malformed_calls)
{
    struct mtpc_call_opts o;
    opts_fixed(&o);
    struct mtpc_call call;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtpc_call_build(&call, schema, "{\"_\":", &o, &err), MTP_ERR_JSON);
    ck_assert_msg(strncmp(err.msg, "--call: ", 8) == 0, "%s", err.msg);
    mtp_error_clear(&err);
    ck_assert_rc(mtpc_call_build(&call, schema, "[1]", &o, &err), MTP_ERR_JSON);
    mtp_error_clear(&err);
    ck_assert_rc(mtpc_call_build(&call, schema, "{\"_\":\"no.suchMethod\"}", &o, &err), MTP_ERR_TL_UNKNOWN_TYPE);
    mtp_error_clear(&err);
    ck_assert_rc(mtpc_call_build(&call, schema, "{\"_\":\"help.getNearestDc\",\"x\":1}", &o, &err),
                 MTP_ERR_TL_FIELD);
    ck_assert_msg(strstr(err.msg, "has no field 'x'") != NULL, "%s", err.msg);
    o.layer = 0;
    mtp_error_clear(&err);
    ck_assert_rc(mtpc_call_build(&call, schema, "{\"_\":\"help.getNearestDc\"}", &o, &err), MTP_ERR_ARG);
    ck_assert_msg(strstr(err.msg, "needs a layer") != NULL, "%s", err.msg);
}
END_TEST

static json_t *answer(const struct mtpc_call *call, const char *hex, int want_rc)
{
    size_t len;
    uint8_t *p = mtp_test_hex(hex, &len);
    json_t *j = NULL;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtpc_call_answer_json(call, schema, p, len, &j, &err), want_rc);
    return j;
}

START_TEST(answers_decode_as_the_result_type)
{
    struct mtpc_call_opts o;
    opts_fixed(&o);
    struct mtpc_call call;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtpc_call_build(&call, schema, "{\"_\":\"help.getNearestDc\"}", &o, &err));
    json_t *j = answer(&call, "75171a8e025a5a000200000002000000", MTP_OK);
    char *text = json_dumps(j, JSON_COMPACT);
    ck_assert_str_eq(text, "{\"_\":\"nearestDc\",\"country\":\"ZZ\",\"this_dc\":2,\"nearest_dc\":2}");
    free(text);
    json_decref(j);
    /* boolTrue is a boxed value, but not a NearestDc: shown, and refused. */
    j = answer(&call, "b5757299", MTP_ERR_CLIENT_BAD_ANSWER);
    ck_assert(json_is_true(j));
    json_decref(j);
    /* Not even an object. */
    j = answer(&call, "01020304", MTP_ERR_CLIENT_BAD_ANSWER);
    ck_assert_ptr_null(j);
    /* Truncated. */
    j = answer(&call, "75171a8e025a5a00020000", MTP_ERR_CLIENT_BAD_ANSWER);
    ck_assert_ptr_null(j);
    mtpc_call_free(&call);
}
END_TEST

START_TEST(non_function_objects_decode_by_constructor)
{
    struct mtpc_call_opts o;
    opts_fixed(&o);
    struct mtpc_call call;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtpc_call_build(&call, schema, "{\"_\":\"msgs_state_req\",\"msg_ids\":[\"1\"]}", &o, &err));
    ck_assert_ptr_null(call.result_type);
    ck_assert_hex_eq(call.bytes, call.len, "52fb69da15c4b51c010000000100000000000000");
    /* msgs_state_info req_msg_id:long info:bytes */
    json_t *j = answer(&call, "7db5de04010000000000000001020000", MTP_OK);
    ck_assert_str_eq(json_string_value(json_object_get(j, "info")), "02");
    json_decref(j);
    mtpc_call_free(&call);
}
END_TEST

START_TEST(rpc_error_in_the_tl_json_mapping)
{
    /* docs/tl-json.md: a string is a JSON string when it is valid UTF-8 (a NUL
     * included), else {"bytes": hex}.  Nothing is cut or lost. */
    static const struct {
        const char *msg;
        size_t len;
        const char *want;
    } cases[] = {
        {"FLOOD_WAIT_31", 13, "{\"_\":\"rpc_error\",\"error_code\":420,\"error_message\":\"FLOOD_WAIT_31\"}"},
        {"A\0B", 3, "{\"_\":\"rpc_error\",\"error_code\":420,\"error_message\":\"A\\u0000B\"}"},
        {"BAD\xff\0TAIL", 9,
         "{\"_\":\"rpc_error\",\"error_code\":420,\"error_message\":{\"bytes\":\"424144ff005441494c\"}}"},
        {"", 0, "{\"_\":\"rpc_error\",\"error_code\":420,\"error_message\":\"\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *j = mtpc_rpc_error_json(420, (const uint8_t *)cases[i].msg, cases[i].len);
        ck_assert_ptr_nonnull(j);
        char *text = json_dumps(j, JSON_COMPACT);
        ck_assert_str_eq(text, cases[i].want);
        free(text);
        json_decref(j);
    }
}
END_TEST

START_TEST(schema_layer_comment)
{
    ck_assert_int_eq(mtpc_schema_layer("// LAYER 198\n", 13), 198);
    ck_assert_int_eq(mtpc_schema_layer("x\n// LAYER\t144", 14), 144);
    ck_assert_int_eq(mtpc_schema_layer("LAYER 7", 7), 7);
    ck_assert_int_eq(mtpc_schema_layer("// no layer here", 16), 0);
    ck_assert_int_eq(mtpc_schema_layer("LAYER", 5), 0);
    ck_assert_int_eq(mtpc_schema_layer("LAYER x LAYER 3", 15), 3);
    ck_assert_int_eq(mtpc_schema_layer("LAYER 0", 7), 0);
    ck_assert_int_eq(mtpc_schema_layer("LAYER 123456789012", 18), 0); /* too long to be one */
    ck_assert_int_eq(mtpc_schema_layer("", 0), 0);
    size_t len;
    uint8_t *text = mtp_test_read_file("vectors/schema/api.tl", &len);
    ck_assert_int_eq(mtpc_schema_layer((const char *)text, len), 198);
}
END_TEST

static Suite *mtpc_call_suite(void)
{
    Suite *s = suite_create("mtpc_call");
    TCase *tc = tcase_create("encode");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, api_method_is_wrapped);
    tcase_add_test(tc, raw_and_service_calls_are_not_wrapped);
    tcase_add_test(tc, malformed_calls);
    suite_add_tcase(s, tc);
    tc = tcase_create("decode");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, answers_decode_as_the_result_type);
    tcase_add_test(tc, non_function_objects_decode_by_constructor);
    tcase_add_test(tc, schema_layer_comment);
    tcase_add_test(tc, rpc_error_in_the_tl_json_mapping);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtpc_call_suite)
