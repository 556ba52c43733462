/* The API layer: placeholders, fitting a template to another layer's
 * schema, choosing the schema by the client's layer, unwrapping and answering. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mtp_test.h"
#include "mtps_api.h"
#include "tlengine/tl_json.h"

/* A made-up old layer whose Config has four fields. */
static const char old_schema[] = "// LAYER 100\n"
                                 "dcOption#18b7a10d flags:# ipv6:flags.0?true media_only:flags.1?true "
                                 "tcpo_only:flags.2?true cdn:flags.3?true static:flags.4?true "
                                 "this_port_only:flags.5?true id:int ip_address:string port:int "
                                 "secret:flags.10?bytes = DcOption;\n"
                                 "config#11111111 date:int this_dc:int dc_options:Vector<DcOption> "
                                 "me_url_prefix:string = Config;\n"
                                 "nearestDc#8e1a1775 country:string this_dc:int nearest_dc:int = NearestDc;\n"
                                 "---functions---\n"
                                 "invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;\n"
                                 "help.getConfig#c4f9186b = Config;\n"
                                 "help.getNearestDc#1fb33026 = NearestDc;\n";

static char dir[64], old_path[128];
static struct mtps_api api;
static const struct mtps_dc_addr dcs[2] = {{2, "127.0.0.1", 4430}, {4, "127.0.0.1", 4431}};
static const struct mtps_api_env env = {.this_dc = 4, .dcs = dcs, .ndcs = 2, .now_s = 1700000000};

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void setup_two_layers(void)
{
    snprintf(dir, sizeof dir, "/tmp/mtps_api_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(old_path, sizeof old_path, "%s/old.tl", dir);
    write_text(old_path, old_schema);
    const char *paths[2] = {mtp_test_path("vectors/schema/api.tl"), old_path};
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtps_api_behaviour beh = {400, "METHOD_NOT_SUPPORTED"};
    ck_assert_msg(mtps_api_init(&api, paths, 2, NULL, &beh, &err) == MTP_OK, "%s", err.msg);
}

static void teardown(void)
{
    mtps_api_free(&api);
    unlink(old_path);
    rmdir(dir);
}

static size_t encode(const struct mtp_tl_schema *s, const char *json, uint8_t *out, size_t cap)
{
    json_t *j = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    struct mtp_error err;
    mtp_error_clear(&err);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, out, cap, &err);
    ck_assert_msg(mtp_tl_json_encode(s, NULL, j, &w, &err) == MTP_OK, "%s", err.msg);
    json_decref(j);
    return w.len;
}

START_TEST(placeholders_become_values)
{
    json_t *t = json_loads("{\"a\":\"${dc}\",\"b\":[\"${now+60}\",\"${now-1}\",\"${now}\"],\"c\":{\"d\":\"${ip}\","
                           "\"e\":\"${port}\"},\"f\":\"${nope}\",\"g\":\"x${dc}\",\"h\":\"${layer}\","
                           "\"o\":\"${dc_options}\"}",
                           0, NULL);
    json_t *f = mtps_api_fill(t, &env, 144);
    char *s = json_dumps(f, JSON_SORT_KEYS | JSON_COMPACT);
    ck_assert_str_eq(s, "{\"a\":4,\"b\":[1700000060,1699999999,1700000000],\"c\":{\"d\":\"127.0.0.1\",\"e\":4431},"
                        "\"f\":\"${nope}\",\"g\":\"x${dc}\",\"h\":144,\"o\":[{\"_\":\"dcOption\",\"id\":2,"
                        "\"ip_address\":\"127.0.0.1\",\"port\":4430},{\"_\":\"dcOption\",\"id\":4,"
                        "\"ip_address\":\"127.0.0.1\",\"port\":4431}]}");
    free(s);
    json_decref(f);
    json_decref(t);
}
END_TEST

START_TEST(the_client_layer_picks_the_schema)
{
    setup_two_layers();
    ck_assert_uint_eq(api.nschemas, 2);
    ck_assert_int_eq(api.layers[0], 198);
    ck_assert_int_eq(api.layers[1], 100);
    ck_assert_ptr_eq(mtps_api_schema(&api, 198), api.schemas[0]);
    ck_assert_ptr_eq(mtps_api_schema(&api, 500), api.schemas[0]);
    ck_assert_ptr_eq(mtps_api_schema(&api, 144), api.schemas[1]);
    ck_assert_ptr_eq(mtps_api_schema(&api, 1), api.schemas[1]);
    ck_assert_ptr_eq(mtps_api_log_schema(&api), api.schemas[0]);
    teardown();
}
END_TEST

START_TEST(one_template_fits_an_old_layer)
{
    setup_two_layers();
    uint8_t q[64];
    size_t n = encode(api.schemas[1], "{\"_\":\"invokeWithLayer\",\"layer\":144,\"query\":{\"_\":\"help.getConfig\"}}",
                      q, sizeof q);
    struct mtps_rpc rpc;
    mtps_api_parse(&api, 0, q, n, &rpc);
    ck_assert(rpc.decoded);
    ck_assert_str_eq(rpc.method, "help.getConfig");
    ck_assert_int_eq(rpc.layer, 144);
    ck_assert_ptr_eq(rpc.schema, api.schemas[1]);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1 << 16, NULL);
    struct mtps_answer ans;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtps_api_answer(&api, &rpc, &env, &w, &ans, &err));
    ck_assert(!ans.error);
    /* config#11111111 date this_dc dc_options:[2 dcOptions] me_url_prefix:"https://t.me/" */
    ck_assert_hex_eq(w.p, w.len,
                     "11111111" "00f15365" "04000000" "15c4b51c02000000"
                     "0da1b718" "00000000" "02000000" "093132372e302e302e310000" "4e110000"
                     "0da1b718" "00000000" "04000000" "093132372e302e302e310000" "4f110000"
                     "0d68747470733a2f2f742e6d652f0000");
    mtp_wr_free(&w);
    mtps_rpc_free(&rpc);
    teardown();
}
END_TEST

START_TEST(missing_fields_get_zero_values)
{
    setup_two_layers();
    const struct mtp_tl_combinator *m = mtp_tl_find_name(api.schemas[1], "help.getConfig");
    json_t *t = json_loads("{\"_\":\"config\",\"this_dc\":3}", 0, NULL);
    struct mtp_error err;
    mtp_error_clear(&err);
    json_t *f = mtps_api_fit(api.schemas[1], m->result, t, &err);
    char *s = json_dumps(f, JSON_SORT_KEYS | JSON_COMPACT);
    ck_assert_str_eq(s, "{\"_\":\"config\",\"date\":0,\"dc_options\":[],\"me_url_prefix\":\"\",\"this_dc\":3}");
    free(s);
    json_decref(f);
    /* A constructor the layer lacks: the type's simplest one, zero-valued. */
    json_t *t2 = json_loads("{\"_\":\"configNew\",\"this_dc\":3}", 0, NULL);
    f = mtps_api_fit(api.schemas[1], m->result, t2, &err);
    s = json_dumps(f, JSON_SORT_KEYS | JSON_COMPACT);
    ck_assert_str_eq(s, "{\"_\":\"config\",\"date\":0,\"dc_options\":[],\"me_url_prefix\":\"\",\"this_dc\":0}");
    free(s);
    json_decref(f);
    json_decref(t);
    json_decref(t2);
    teardown();
}
END_TEST

START_TEST(wrappers_are_looked_through)
{
    setup_two_layers();
    uint8_t q[512];
    size_t n = encode(api.schemas[0],
                      "{\"_\":\"invokeWithLayer\",\"layer\":198,\"query\":{\"_\":\"initConnection\",\"api_id\":1,"
                      "\"device_model\":\"d\",\"system_version\":\"s\",\"app_version\":\"a\",\"system_lang_code\":\"en\","
                      "\"lang_pack\":\"\",\"lang_code\":\"en\",\"query\":{\"_\":\"invokeWithoutUpdates\",\"query\":"
                      "{\"_\":\"invokeAfterMsg\",\"msg_id\":\"5\",\"query\":{\"_\":\"help.getNearestDc\"}}}}}",
                      q, sizeof q);
    struct mtps_rpc rpc;
    mtps_api_parse(&api, 0, q, n, &rpc);
    ck_assert(rpc.decoded);
    ck_assert_str_eq(rpc.method, "help.getNearestDc");
    ck_assert_int_eq(rpc.layer, 198);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 4096, NULL);
    struct mtps_answer ans;
    ck_assert_ok(mtps_api_answer(&api, &rpc, &env, &w, &ans, NULL));
    ck_assert_hex_eq(w.p, w.len, "75171a8e025a5a000400000004000000");
    mtp_wr_free(&w);
    mtps_rpc_free(&rpc);
    /* Without invokeWithLayer the session's layer decides. */
    n = encode(api.schemas[1], "{\"_\":\"help.getNearestDc\"}", q, sizeof q);
    mtps_api_parse(&api, 120, q, n, &rpc);
    ck_assert_int_eq(rpc.layer, 120);
    ck_assert_ptr_eq(rpc.schema, api.schemas[1]);
    mtps_rpc_free(&rpc);
    teardown();
}
END_TEST

START_TEST(errors_name_the_problem)
{
    setup_two_layers();
    struct {
        const char *hex;
        const char *message;
    } cases[] = {
        {"78563412", "INPUT_METHOD_INVALID"},        /* no such constructor */
        {"54f8e361", "INPUT_FETCH_ERROR"},           /* help.getAppConfig without its hash */
        {"54f8e36100000000", "METHOD_NOT_SUPPORTED"}, /* help.getAppConfig: no template */
        {"75171a8e025a5a000200000002000000", "INPUT_METHOD_INVALID"}, /* a constructor, not a method */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        uint8_t *q = mtp_test_hex(cases[i].hex, &n);
        struct mtps_rpc rpc;
        mtps_api_parse(&api, 198, q, n, &rpc);
        struct mtp_wr w;
        mtp_wr_init_dyn(&w, 4096, NULL);
        struct mtps_answer ans;
        ck_assert_ok(mtps_api_answer(&api, &rpc, &env, &w, &ans, NULL));
        ck_assert(ans.error);
        ck_assert_int_eq(ans.code, 400);
        ck_assert_str_eq(ans.message, cases[i].message);
        ck_assert_uint_eq(w.len, 0);
        mtp_wr_free(&w);
        mtps_rpc_free(&rpc);
    }
    teardown();
}
END_TEST

START_TEST(broken_templates_stop_the_start)
{
    char tdir[64], path[128];
    snprintf(tdir, sizeof tdir, "/tmp/mtps_tmpl_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tdir));
    struct mtps_api_behaviour beh = {400, "METHOD_NOT_SUPPORTED"};
    struct mtp_error err;
    /* not JSON */
    snprintf(path, sizeof path, "%s/help.getNearestDc.json", tdir);
    write_text(path, "{\"_\": ");
    mtp_error_clear(&err);
    ck_assert_rc(mtps_api_init(&api, NULL, 0, tdir, &beh, &err), MTP_ERR_SRV_TEMPLATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "help.getNearestDc.json:1:"));
    /* a value of the wrong kind */
    write_text(path, "{\"_\":\"nearestDc\",\"country\":5,\"this_dc\":\"x\",\"nearest_dc\":1}");
    mtp_error_clear(&err);
    ck_assert_rc(mtps_api_init(&api, NULL, 0, tdir, &beh, &err), MTP_ERR_TL_TYPE);
    ck_assert_ptr_nonnull(strstr(err.msg, "help.getNearestDc.json (layer 198)"));
    /* a method nobody has */
    unlink(path);
    snprintf(path, sizeof path, "%s/help.getWeather.json", tdir);
    write_text(path, "{}");
    mtp_error_clear(&err);
    ck_assert_rc(mtps_api_init(&api, NULL, 0, tdir, &beh, &err), MTP_ERR_SRV_TEMPLATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "help.getWeather.json: no loaded schema has a method of that name"));
    unlink(path);
    rmdir(tdir);
}
END_TEST

Suite *mtps_api_suite(void);
Suite *mtps_api_suite(void)
{
    Suite *s = suite_create("mtps_api");
    TCase *tc = tcase_create("templates");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, placeholders_become_values);
    tcase_add_test(tc, one_template_fits_an_old_layer);
    tcase_add_test(tc, missing_fields_get_zero_values);
    tcase_add_test(tc, broken_templates_stop_the_start);
    suite_add_tcase(s, tc);
    tc = tcase_create("queries");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, the_client_layer_picks_the_schema);
    tcase_add_test(tc, wrappers_are_looked_through);
    tcase_add_test(tc, errors_name_the_problem);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(mtps_api_suite)
