/* mtp_tl_json_write against jansson: the same text as json_dumps of
 * mtp_tl_json_from_value, for every value of the TL vectors (both schemas)
 * and for the corners of number and string formatting. */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "mtp/hex.h"
#include "mtp_test.h"
#include "tlengine/tl_files.h"
#include "tlengine/tl_json.h"

static void same_as_jansson(const struct mtp_tl_value *v, const char *what)
{
    json_t *j = mtp_tl_json_from_value(v);
    ck_assert_ptr_nonnull(j);
    char *want = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
    json_decref(j);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, 1u << 24, NULL);
    ck_assert_ok(mtp_tl_json_write(v, &w));
    ck_assert_ok(mtp_wr_u8(&w, 0));
    ck_assert_msg(strcmp((const char *)w.p, want) == 0, "%s:\n got %s\nwant %s", what, (const char *)w.p, want);
    free(want);
    mtp_wr_free(&w);
}

START_TEST(every_vector_value)
{
    static const char *files[] = {"vectors/tl/api_objects.json", "vectors/tl/auth_exchange.json",
                                  "vectors/tl/containers.json", "vectors/tl/mtproto_service.json",
                                  "vectors/tl/strings.json"};
    size_t compared = 0;
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        json_t *root = json_load_file(mtp_test_path(files[fi]), 0, NULL);
        ck_assert_ptr_nonnull(root);
        size_t gi, ti;
        json_t *g, *t;
        json_array_foreach(json_object_get(root, "testGroups"), gi, g)
        {
            const char *schema = json_string_value(json_object_get(json_object_get(g, "args"), "schema"));
            const char *names[1] = {schema};
            struct mtp_tl_schema *s;
            ck_assert_ok(mtp_tl_schema_load(names, 1, &s, NULL));
            bool enc = strcmp(json_string_value(json_object_get(g, "op")), "tl_encode") == 0;
            json_array_foreach(json_object_get(g, "tests"), ti, t)
            {
                struct mtp_tl_arena a;
                mtp_tl_arena_init(&a, 0);
                struct mtp_tl_value v;
                int rc;
                uint8_t *data = NULL;
                if (enc) {
                    rc = mtp_tl_json_to_value(s, NULL, json_object_get(json_object_get(t, "args"), "json"), &a, &v,
                                              NULL);
                } else {
                    const char *hex = json_string_value(json_object_get(json_object_get(t, "args"), "data"));
                    size_t n;
                    data = mtp_test_hex(hex ? hex : "", &n);
                    rc = mtp_tl_decode(s, NULL, data, n, NULL, &a, &v, NULL, NULL);
                }
                if (rc == MTP_OK) {
                    char what[128];
                    snprintf(what, sizeof what, "%s #%lld", files[fi],
                             (long long)json_integer_value(json_object_get(t, "tcId")));
                    same_as_jansson(&v, what);
                    compared++;
                }
                mtp_tl_arena_free(&a);
            }
            mtp_tl_schema_free(s);
        }
        json_decref(root);
    }
    ck_assert_uint_ge(compared, 150);
}
END_TEST

START_TEST(number_and_string_corners)
{
    static const double ds[] = {0.0, -0.0, 1.0, 3.0, 0.1, 1e20, 1e21, 1e-5, 1e-7, 123456789012345678.0, -2.5e-300,
                                1.7976931348623157e308, 4.9e-324, 51.5};
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        struct mtp_tl_value v = {.kind = MTP_TL_V_DOUBLE, .u.d = ds[i]};
        same_as_jansson(&v, "double");
    }
    struct mtp_tl_value inf = {.kind = MTP_TL_V_DOUBLE, .u.d = -INFINITY};
    same_as_jansson(&inf, "-inf");
    static const char *strs[] = {"", "plain", "quote\" backslash\\ slash/", "\b\f\n\r\t\x01\x1f\x7f",
                                 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "a\0b"};
    static const size_t lens[] = {0, 5, 24, 9, 13, 3};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        struct mtp_tl_value v = {.kind = MTP_TL_V_STRING, .len = (uint32_t)lens[i], .u.p = (const uint8_t *)strs[i]};
        same_as_jansson(&v, strs[i]);
    }
    /* not UTF-8: {"bytes": hex} */
    struct mtp_tl_value bad = {.kind = MTP_TL_V_STRING, .len = 2, .u.p = (const uint8_t *)"\xff\x00"};
    same_as_jansson(&bad, "bytes");
    struct mtp_tl_value l = {.kind = MTP_TL_V_LONG, .u.l = INT64_MIN};
    same_as_jansson(&l, "long");
    struct mtp_tl_value n = {.kind = MTP_TL_V_NAT, .u.nat = UINT32_MAX};
    same_as_jansson(&n, "nat");
}
END_TEST

static Suite *tl_json_write_suite(void)
{
    Suite *s = suite_create("tl_json_write");
    TCase *tc = tcase_create("write");
    tcase_add_test(tc, every_vector_value);
    tcase_add_test(tc, number_and_string_corners);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(tl_json_write_suite)
