#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mtp/hex.h"
#include "mtp/tl_value.h"
#include "mtp_test.h"
#include "shim/shim.h"
#include "tlengine/tl_files.h"
#include "tlengine/tl_json.h"

static struct mtp_error err;

/* ---- every vector in vectors/tl through the shim ops, in process ---- */

static bool hex_equal(const char *a, const char *b)
{
    if (strlen(a) != strlen(b))
        return false;
    for (; *a; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
    return true;
}

static bool field_matches(const json_t *got, const json_t *want)
{
    if (got == NULL)
        return false;
    if (json_is_string(want) && json_is_string(got))
        return hex_equal(json_string_value(got), json_string_value(want));
    return json_equal(got, want);
}

struct tally {
    unsigned valid, invalid, acceptable;
};

static void run_test(const char *file, const json_t *group, const json_t *t, struct tally *n)
{
    json_t *req = json_object();
    json_object_update(req, json_object_get(group, "args"));
    json_object_update(req, json_object_get(t, "args"));
    json_object_set_new(req, "op", json_copy(json_object_get(group, "op")));
    json_object_set_new(req, "id", json_copy(json_object_get(t, "tcId")));
    json_t *ans = mtp_shim_handle(req);
    ck_assert_ptr_nonnull(ans);
    const char *result = json_string_value(json_object_get(t, "result"));
    const json_t *expect = json_object_get(t, "expect");
    bool ok = json_is_true(json_object_get(ans, "ok"));
    char *dump = json_dumps(ans, JSON_COMPACT);
    long long tc = json_integer_value(json_object_get(t, "tcId"));
    const char *comment = json_string_value(json_object_get(t, "comment"));
    const json_t *want_err = json_object_get(expect, "error");
    if (strcmp(result, "invalid") == 0 && want_err) {
        ck_assert_msg(!ok && strcmp(json_string_value(json_object_get(ans, "error")), json_string_value(want_err)) == 0,
                      "%s#%lld (%s): want error %s, got %.300s", file, tc, comment, json_string_value(want_err), dump);
        n->invalid++;
    } else {
        bool match = ok;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)expect, k, v) match = match && field_matches(json_object_get(ans, k), v);
        if (strcmp(result, "acceptable") == 0) {
            ck_assert_msg(match || !ok, "%s#%lld (%s): neither a match nor a clean error: %.300s", file, tc, comment,
                          dump);
            n->acceptable++;
        } else {
            ck_assert_msg(match, "%s#%lld (%s): got %.600s", file, tc, comment, dump);
            n->valid++;
        }
    }
    free(dump);
    json_decref(ans);
    json_decref(req);
}

START_TEST(vector_files)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", mtp_test_path("vectors/tl"));
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    struct tally n = {0};
    unsigned files = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        json_error_t jerr;
        json_t *doc = json_load_file(path, 0, &jerr);
        ck_assert_msg(doc != NULL, "%s: %s", path, jerr.text);
        ck_assert_str_eq(json_string_value(json_object_get(doc, "format")), "mtprobe-vectors/1");
        ck_assert_ptr_nonnull(json_string_value(json_object_get(doc, "source")));
        size_t gi;
        json_t *g;
        json_array_foreach(json_object_get(doc, "testGroups"), gi, g)
        {
            size_t ti;
            json_t *t;
            json_array_foreach(json_object_get(g, "tests"), ti, t) run_test(e->d_name, g, t, &n);
        }
        json_decref(doc);
        files++;
    }
    closedir(d);
    ck_assert_uint_eq(files, 6);
    ck_assert_uint_ge(n.valid, 180);
    ck_assert_uint_ge(n.invalid, 40);
    ck_assert_uint_ge(n.acceptable, 3);
}
END_TEST

/* ---- the mapping itself ---- */

static struct mtp_tl_schema *mt, *api;

static void load_schemas(void)
{
    static const char *const m[] = {"mtproto"}, *const a[] = {"api"};
    ck_assert(mtp_tl_schema_load(m, 1, &mt, &err) == MTP_OK);
    ck_assert(mtp_tl_schema_load(a, 1, &api, &err) == MTP_OK);
}

static void free_schemas(void)
{
    mtp_tl_schema_free(mt);
    mtp_tl_schema_free(api);
}

/* JSON text -> bytes (hex, test-owned), or NULL with err set. */
static const char *encode(const struct mtp_tl_schema *s, const char *type, const char *json)
{
    json_error_t jerr;
    json_t *j = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    ck_assert_msg(j != NULL, "%s", jerr.text);
    struct mtp_tl_arena a;
    mtp_tl_arena_init(&a, 0);
    const struct mtp_tl_tref *t = NULL;
    if (type)
        ck_assert_ok(mtp_tl_type_parse(s, type, &a, &t, &err));
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1u << 24, &err);
    mtp_error_clear(&err);
    int rc = mtp_tl_json_encode(s, t, j, &w, &err);
    const char *hex = NULL;
    if (rc == MTP_OK) {
        char *h = mtp_hex_alloc(w.p, w.len);
        static char keep[4][8192]; /* per test process */
        static int k;
        ck_assert_uint_lt(strlen(h), sizeof keep[0]);
        strcpy(keep[k % 4], h);
        hex = keep[k++ % 4];
        free(h);
    }
    mtp_wr_free(&w);
    mtp_tl_arena_free(&a);
    json_decref(j);
    return hex;
}

/* hex -> JSON (caller decrefs) */
static json_t *decode(const struct mtp_tl_schema *s, const char *hex)
{
    size_t n;
    const uint8_t *p = mtp_test_hex(hex, &n);
    struct mtp_tl_arena a;
    mtp_tl_arena_init(&a, 0);
    struct mtp_tl_value v;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_tl_decode(s, NULL, p, n, NULL, &a, &v, NULL, &err) == MTP_OK, "%s", err.msg);
    json_t *j = mtp_tl_json_from_value(&v);
    mtp_tl_arena_free(&a);
    ck_assert_ptr_nonnull(j);
    return j;
}

static void assert_json(const json_t *got, const char *want)
{
    json_t *w = json_loads(want, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    ck_assert_ptr_nonnull(w);
    char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
    ck_assert_msg(json_equal(got, w), "got %s\nwant %s", g, want);
    free(g);
    json_decref(w);
}

START_TEST(doubles)
{
    /* inputGeoPoint flags:# lat:double long:double */
    static const struct {
        const char *json_in, *json_out;
    } cases[] = {
        {"{\"_\":\"inputGeoPoint\",\"lat\":\"NaN\",\"long\":\"Infinity\"}",
         "{\"_\":\"inputGeoPoint\",\"lat\":\"NaN\",\"long\":\"Infinity\"}"},
        {"{\"_\":\"inputGeoPoint\",\"lat\":\"-Infinity\",\"long\":-0.0}",
         "{\"_\":\"inputGeoPoint\",\"lat\":\"-Infinity\",\"long\":-0.0}"},
        {"{\"_\":\"inputGeoPoint\",\"lat\":180,\"long\":1e-320}",
         "{\"_\":\"inputGeoPoint\",\"lat\":180.0,\"long\":1e-320}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *hex = encode(api, NULL, cases[i].json_in);
        ck_assert_msg(hex != NULL, "%s", err.msg);
        json_t *j = decode(api, hex);
        assert_json(j, cases[i].json_out);
        json_decref(j);
    }
    /* -0.0 keeps its sign bit on the wire */
    ck_assert_str_eq(encode(api, NULL, "{\"_\":\"inputGeoPoint\",\"lat\":-0.0,\"long\":0}"),
                     "af2f2248" "00000000" "0000000000000080" "0000000000000000");
}
END_TEST

START_TEST(strings_and_bytes)
{
    /* NUL inside a string, both ways */
    const char *hex = encode(mt, NULL, "{\"_\":\"rpc_error\",\"error_code\":1,\"error_message\":\"a\\u0000b\"}");
    ck_assert_str_eq(hex, "19ca4421" "01000000" "03610062");
    json_t *j = decode(mt, hex);
    assert_json(j, "{\"_\":\"rpc_error\",\"error_code\":1,\"error_message\":\"a\\u0000b\"}");
    json_decref(j);
    /* {"bytes": hex} works for a string field (and decodes to text when it is UTF-8) */
    ck_assert_str_eq(encode(mt, NULL, "{\"_\":\"rpc_error\",\"error_code\":1,\"error_message\":{\"bytes\":\"4142\"}}"),
                     "19ca4421" "01000000" "02414200");
    /* and for a bytes field */
    ck_assert_str_eq(encode(mt, NULL, "{\"_\":\"msgs_state_info\",\"req_msg_id\":\"1\",\"info\":{\"bytes\":\"0A0b\"}}"),
                     "7db5de04" "0100000000000000" "020a0b00");
    /* a long may be a JSON integer on input */
    ck_assert_str_eq(encode(mt, NULL, "{\"_\":\"ping\",\"ping_id\":-2}"), "ec77be7a" "feffffffffffffff");
    /* errors name the JSON path */
    ck_assert_ptr_null(encode(mt, NULL, "{\"_\":\"ping\",\"ping_id\":\"99999999999999999999\"}"));
    ck_assert_rc(err.code, MTP_ERR_TL_TYPE);
    ck_assert_str_eq(err.msg, "json.ping_id: expected a long (string of decimal digits), found a string");
    ck_assert_ptr_null(encode(mt, NULL, "{\"_\":\"rpc_error\",\"error_code\":\"1\",\"error_message\":\"x\"}"));
    ck_assert_str_eq(err.msg, "json.error_code: expected an int (integer -2147483648..2147483647), found a string");
    ck_assert_ptr_null(encode(mt, NULL, "{\"_\":\"msgs_state_info\",\"req_msg_id\":\"1\",\"info\":\"abc\"}"));
    ck_assert_rc(err.code, MTP_ERR_HEX);
    ck_assert_str_eq(err.msg, "json.info: hex string of odd length 3");
    ck_assert_ptr_null(encode(mt, NULL, "{\"_\":\"req_pq_multi\",\"nonce\":\"00\"}"));
    ck_assert_str_eq(err.msg, "json.nonce: expected a hex string of 16 bytes");
}
END_TEST

START_TEST(flags_from_fields)
{
    /* peerNotifySettings#99622c0c flags:# show_previews:flags.0?Bool silent:flags.1?Bool mute_until:flags.2?int */
    ck_assert_str_eq(encode(api, NULL, "{\"_\":\"peerNotifySettings\",\"silent\":true}"), "0c2c6299" "02000000" "b5757299");
    /* given flags: unknown bits kept, bits of fields recomputed */
    ck_assert_str_eq(encode(api, NULL, "{\"_\":\"peerNotifySettings\",\"flags\":2147483653,\"silent\":false}"),
                     "0c2c6299" "02000080" "379779bc");
    /* true flags: true sets, false clears */
    ck_assert_str_eq(encode(api, NULL, "{\"_\":\"userStatusRecently\",\"by_me\":true}"), "c87d197b" "01000000");
    ck_assert_str_eq(encode(api, NULL, "{\"_\":\"userStatusRecently\",\"flags\":1,\"by_me\":false}"),
                     "c87d197b" "00000000");
    /* two fields on one bit: both or neither */
    ck_assert_ptr_null(encode(api, NULL,
                              "{\"_\":\"messageReplies\",\"replies\":1,\"replies_pts\":2,\"comments\":true}"));
    ck_assert_rc(err.code, MTP_ERR_TL_BAD_FLAGS);
    ck_assert_str_eq(err.msg, "json.flags: fields on flags.0 must be all present or all absent");
    ck_assert_ptr_nonnull(encode(api, NULL, "{\"_\":\"messageReplies\",\"replies\":1,\"replies_pts\":2,\"comments\":true,"
                                            "\"channel_id\":\"5\"}"));
    /* unknown and missing fields */
    ck_assert_ptr_null(encode(api, NULL, "{\"_\":\"userStatusRecently\",\"by_you\":true}"));
    ck_assert_rc(err.code, MTP_ERR_TL_FIELD);
    ck_assert_str_eq(err.msg, "json.by_you: 'userStatusRecently' has no field 'by_you'");
    ck_assert_ptr_null(encode(api, NULL, "{\"_\":\"inputPeerUser\",\"user_id\":\"1\"}"));
    ck_assert_str_eq(err.msg, "json.access_hash: missing field 'access_hash' of inputPeerUser");
    ck_assert_ptr_null(encode(api, NULL, "{\"_\":\"peerNotifySettings\",\"flags\":-1}"));
    ck_assert_str_eq(err.msg, "json.flags: expected an integer 0..4294967295");
}
END_TEST

/* Output: a flags word the present fields account for is left out; one with other bits is shown. */
START_TEST(flags_in_output)
{
    json_t *j = decode(api, "0c2c6299" "02000000" "b5757299");
    assert_json(j, "{\"_\":\"peerNotifySettings\",\"silent\":true}");
    json_decref(j);
    j = decode(api, "0c2c6299" "02000080" "379779bc");
    assert_json(j, "{\"_\":\"peerNotifySettings\",\"flags\":2147483650,\"silent\":false}");
    json_decref(j);
    j = decode(api, "c87d197b" "00000000");
    assert_json(j, "{\"_\":\"userStatusRecently\"}");
    json_decref(j);
}
END_TEST

START_TEST(containers_and_gzip)
{
    /* bytes of a message may be left out: computed from the body */
    const char *hex =
        encode(mt, NULL, "{\"_\":\"msg_container\",\"messages\":[{\"msg_id\":\"1\",\"seqno\":1,\"body\":{\"_\":\"ping\","
                         "\"ping_id\":\"7\"}}]}");
    ck_assert_str_eq(hex, "dcf8f173" "01000000" "0100000000000000" "01000000" "0c000000" "ec77be7a" "0700000000000000");
    /* or given, even wrongly (to build malformed input on purpose) */
    ck_assert_str_eq(encode(mt, NULL, "{\"_\":\"msg_container\",\"messages\":[{\"msg_id\":\"1\",\"seqno\":1,\"bytes\":16,"
                                      "\"body\":{\"_\":\"ping\",\"ping_id\":\"7\"}}]}"),
                     "dcf8f173" "01000000" "0100000000000000" "01000000" "10000000" "ec77be7a" "0700000000000000");
    /* a bare message's "_" is optional but must be right */
    ck_assert_ptr_null(encode(mt, NULL, "{\"_\":\"msg_container\",\"messages\":[{\"_\":\"msg_copy\",\"msg_id\":\"1\","
                                        "\"seqno\":1,\"body\":{\"_\":\"ping\",\"ping_id\":\"7\"}}]}"));
    ck_assert_str_eq(err.msg, "json.messages[0]: expected bare message, found \"msg_copy\"");
    /* gzip_packed from unpacked only: compressed here, and decodes back to the same value */
    hex = encode(mt, NULL, "{\"_\":\"gzip_packed\",\"unpacked\":{\"_\":\"pong\",\"msg_id\":\"1\",\"ping_id\":\"2\"}}");
    ck_assert_ptr_nonnull(hex);
    json_t *j = decode(mt, hex);
    ck_assert_str_eq(json_string_value(json_object_get(j, "_")), "gzip_packed");
    assert_json(json_object_get(j, "unpacked"), "{\"_\":\"pong\",\"msg_id\":\"1\",\"ping_id\":\"2\"}");
    /* from packed_data only: kept as is */
    char json[512];
    snprintf(json, sizeof json, "{\"_\":\"gzip_packed\",\"packed_data\":\"%s\"}",
             json_string_value(json_object_get(j, "packed_data")));
    ck_assert_str_eq(encode(mt, NULL, json), hex);
    /* both, disagreeing */
    snprintf(json, sizeof json,
             "{\"_\":\"gzip_packed\",\"packed_data\":\"%s\",\"unpacked\":{\"_\":\"pong\",\"msg_id\":\"1\",\"ping_id\":\"3\"}}",
             json_string_value(json_object_get(j, "packed_data")));
    ck_assert_ptr_null(encode(mt, NULL, json));
    ck_assert_rc(err.code, MTP_ERR_TL_GZIP);
    ck_assert_str_eq(err.msg, "json: packed_data does not inflate to the encoding of unpacked");
    json_decref(j);
    /* gzip_packed where a Vector is expected */
    hex = encode(mt, "Vector<long>", "{\"_\":\"gzip_packed\",\"unpacked\":[\"1\"]}");
    ck_assert_ptr_nonnull(hex);
    ck_assert_str_eq(hex, encode(mt, "Vector<long>", "{\"_\":\"gzip_packed\",\"unpacked\":[\"1\"]}"));
    /* vectors at an Object position: element types from the JSON */
    ck_assert_str_eq(encode(mt, NULL, "{\"_\":\"rpc_result\",\"req_msg_id\":\"1\",\"result\":[1,\"2\",true]}"),
                     "016d5cf3" "0100000000000000" "15c4b51c" "03000000" "01000000" "0200000000000000" "b5757299");
    ck_assert_ptr_null(encode(mt, NULL, "{\"_\":\"rpc_result\",\"req_msg_id\":\"1\",\"result\":[4294967296]}"));
    ck_assert_str_eq(err.msg, "json.result[0]: integer 4294967296 out of int range (write a long as a string)");
    ck_assert_ptr_null(encode(mt, NULL, "{\"_\":\"rpc_result\",\"req_msg_id\":\"1\",\"result\":5}"));
    ck_assert_str_eq(err.msg, "json.result: expected an object, found an integer");
    /* functions are objects too */
    ck_assert_str_eq(encode(mt, NULL, "{\"_\":\"ping\",\"ping_id\":\"1\"}"), "ec77be7a" "0100000000000000");
    ck_assert_ptr_null(encode(mt, "ResPQ", "{\"_\":\"ping\",\"ping_id\":\"1\"}"));
    ck_assert_str_eq(err.msg, "json: 'ping' is not a constructor of type ResPQ");
}
END_TEST

START_TEST(generic_and_anonymous)
{
    static const char text[] = "maybe {t:Type} value:t = Maybe t;\n"
                               "nothing {t:Type} = Maybe t;\n"
                               "rec # [ key:int value:string ] = Rec;\n"
                               "thing#0000abcd x:Maybe<int> r:rec = Thing;\n";
    struct mtp_tl_schema *s = mtp_tl_schema_new();
    ck_assert_ok(mtp_tl_schema_add_text(s, text, strlen(text), "g.tl", 0, &err));
    ck_assert_ok(mtp_tl_schema_link(s, &err));
    /* anonymous arguments are "_1", "_2" (argument index + 1); the count is computed */
    const char *hex = encode(s, NULL,
                             "{\"_\":\"thing\",\"x\":{\"_\":\"maybe\",\"value\":5},\"r\":{\"_2\":[{\"key\":1,"
                             "\"value\":\"a\"}]}}");
    ck_assert_msg(hex != NULL, "%s", err.msg);
    json_t *j = decode(s, hex);
    assert_json(j, "{\"_\":\"thing\",\"x\":{\"_\":\"maybe\",\"value\":5},\"r\":{\"_\":\"rec\",\"_1\":1,\"_2\":[{\"key\":1,"
                   "\"value\":\"a\"}]}}");
    json_decref(j);
    ck_assert_ptr_null(encode(s, NULL, "{\"_\":\"thing\",\"x\":{\"_\":\"maybe\",\"value\":\"5\"},\"r\":{\"_2\":[]}}"));
    ck_assert_str_eq(err.msg, "json.x.value: expected an int (integer -2147483648..2147483647), found a string");
    ck_assert_ptr_null(encode(s, NULL, "{\"_\":\"thing\",\"x\":{\"_\":\"nothing\"},\"r\":{\"_1\":3,\"_2\":[]}}"));
    ck_assert_rc(err.code, MTP_ERR_TL_BAD_COUNT);
    mtp_tl_schema_free(s);
}
END_TEST

START_TEST(shim_ops)
{
    /* schema lists, paths, type arguments and argument errors */
    char line[1024];
    snprintf(line, sizeof line,
             "{\"id\":1,\"op\":\"tl_decode\",\"schema\":[\"%s\"],\"data\":\"c5737734010000000000000002000000000000"
             "00\",\"type\":\"Pong\"}",
             mtp_test_path("vectors/schema/mtproto.tl"));
    char *ans = mtp_shim_handle_line(line);
    ck_assert_str_eq(ans, "{\"id\":1,\"ok\":true,\"json\":{\"_\":\"pong\",\"msg_id\":\"1\",\"ping_id\":\"2\"}}");
    free(ans);
    ans = mtp_shim_handle_line("{\"id\":2,\"op\":\"tl_decode\",\"schema\":5,\"data\":\"00\"}");
    ck_assert_ptr_nonnull(strstr(ans, "\"error\":\"bad_argument\""));
    free(ans);
    ans = mtp_shim_handle_line("{\"id\":3,\"op\":\"tl_decode\",\"schema\":\"/no/such.tl\",\"data\":\"00\"}");
    ck_assert_ptr_nonnull(strstr(ans, "\"error\":\"io_error\""));
    free(ans);
    ans = mtp_shim_handle_line("{\"id\":4,\"op\":\"tl_decode\",\"data\":\"0g\"}");
    ck_assert_ptr_nonnull(strstr(ans, "\"error\":\"bad_hex\""));
    free(ans);
    ans = mtp_shim_handle_line("{\"id\":5,\"op\":\"tl_encode\",\"schema\":\"api\",\"json\":{\"_\":\"boolTrue\"},"
                               "\"type\":\"Bool\"}");
    ck_assert_ptr_nonnull(strstr(ans, "\"error\":\"tl_type_mismatch\""));
    free(ans);
    ans = mtp_shim_handle_line("{\"id\":6,\"op\":\"tl_encode\",\"schema\":\"api\",\"json\":true,\"type\":\"Bool\"}");
    ck_assert_str_eq(ans, "{\"id\":6,\"ok\":true,\"data\":\"b5757299\"}");
    free(ans);
    ans = mtp_shim_handle_line("{\"id\":7,\"op\":\"tl_encode\"}");
    ck_assert_ptr_nonnull(strstr(ans, "missing argument 'json'"));
    free(ans);
    ans = mtp_shim_handle_line("{\"id\":8,\"op\":\"tl_decode\",\"data\":\"c573773401\",\"max_gzip\":0}");
    ck_assert_ptr_nonnull(strstr(ans, "max_gzip: expected 1.."));
    free(ans);
}
END_TEST

static Suite *tl_json_suite(void)
{
    Suite *s = suite_create("tl_json");
    TCase *tv = tcase_create("vectors");
    tcase_set_timeout(tv, 120);
    tcase_add_test(tv, vector_files);
    suite_add_tcase(s, tv);
    TCase *tc = tcase_create("mapping");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, load_schemas, free_schemas);
    tcase_add_test(tc, doubles);
    tcase_add_test(tc, strings_and_bytes);
    tcase_add_test(tc, flags_from_fields);
    tcase_add_test(tc, flags_in_output);
    tcase_add_test(tc, containers_and_gzip);
    tcase_add_test(tc, generic_and_anonymous);
    tcase_add_test(tc, shim_ops);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(tl_json_suite)
