#include <string.h>

#include "mtp/tl_value.h"
#include "mtp_test.h"
#include "tlengine/tl_files.h"
#include "tlengine/tl_json.h"

static struct mtp_error err;

START_TEST(arena_budget_and_reuse)
{
    struct mtp_tl_arena a;
    mtp_tl_arena_init(&a, 100);
    uint8_t *p = mtp_tl_arena_alloc(&a, 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % 8, 0);
    ck_assert_uint_eq(a.used, 8);
    uint8_t *q = mtp_tl_arena_alloc(&a, 9);
    ck_assert_ptr_eq(q, p + 8);
    ck_assert_uint_eq(a.used, 24);
    memset(q, 0xab, 9);
    /* over budget: NULL, flagged, nothing taken */
    ck_assert_ptr_null(mtp_tl_arena_alloc(&a, 80));
    ck_assert(a.over);
    ck_assert_uint_eq(a.used, 24);
    ck_assert_ptr_null(mtp_tl_arena_alloc(&a, 73)); /* rounds to 80 */
    ck_assert_ptr_nonnull(mtp_tl_arena_alloc(&a, 72));
    ck_assert_uint_eq(a.used, 96);
    /* reset keeps the block: the next allocation reuses it */
    mtp_tl_arena_reset(&a);
    ck_assert_uint_eq(a.used, 0);
    ck_assert_ptr_eq(mtp_tl_arena_alloc(&a, 8), p);
    mtp_tl_arena_free(&a);

    /* unlimited, with big blocks and adopted memory */
    mtp_tl_arena_init(&a, 0);
    for (int i = 0; i < 100; i++) {
        uint8_t *b = mtp_tl_arena_alloc(&a, 1000);
        ck_assert_ptr_nonnull(b);
        memset(b, i, 1000);
    }
    uint8_t *big = mtp_tl_arena_alloc(&a, 3u << 20);
    ck_assert_ptr_nonnull(big);
    big[(3u << 20) - 1] = 1;
    uint8_t *small = mtp_tl_arena_alloc(&a, 16);
    ck_assert_ptr_nonnull(small);
    ck_assert(mtp_tl_arena_adopt(&a, malloc(64), 64));
    ck_assert_uint_eq(a.used, 100 * 1000 + (3u << 20) + 16 + 64);
    const char s[] = "copy me";
    char *c = mtp_tl_arena_memdup(&a, s, sizeof s);
    ck_assert_str_eq(c, s);
    mtp_tl_arena_free(&a);
    ck_assert_uint_eq(a.used, 0);
    ck_assert_ptr_null(a.chunks);

    /* adopt over budget frees the block and fails */
    mtp_tl_arena_init(&a, 32);
    ck_assert(!mtp_tl_arena_adopt(&a, malloc(64), 64));
    ck_assert(a.over);
    mtp_tl_arena_free(&a);

    ck_assert_uint_eq(mtp_tl_decode_budget(0), 1u << 20);
    ck_assert_uint_eq(mtp_tl_decode_budget(1000), (1u << 20) + 16000);
    ck_assert_uint_eq(mtp_tl_decode_budget(SIZE_MAX / 8), SIZE_MAX);
}
END_TEST

static struct mtp_tl_schema *load(const char *name)
{
    struct mtp_tl_schema *s;
    mtp_error_clear(&err);
    ck_assert_msg(mtp_tl_schema_load(&name, 1, &s, &err) == MTP_OK, "%s", err.msg);
    return s;
}

/* A value from JSON, for the queries below. */
static void build(struct mtp_tl_schema *s, const char *json, struct mtp_tl_arena *a, struct mtp_tl_value *v)
{
    json_error_t jerr;
    json_t *j = json_loads(json, 0, &jerr);
    ck_assert_msg(j != NULL, "%s", jerr.text);
    mtp_error_clear(&err);
    ck_assert_msg(mtp_tl_json_to_value(s, NULL, j, a, v, &err) == MTP_OK, "%s", err.msg);
    json_decref(j);
}

/* A block bigger than the next chunk but not "big" enough for a chunk of its
 * own must still get a chunk that holds it (found by fuzz_client_text: a
 * 5 KiB vector on a fresh arena overflowed a 4 KiB chunk). */
START_TEST(arena_block_larger_than_chunk)
{
    static const size_t sizes[] = {4097, 5000, 8192 + 8, 65536 + 8, 200000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        struct mtp_tl_arena a;
        mtp_tl_arena_init(&a, 0);
        uint8_t *big = mtp_tl_arena_alloc(&a, sizes[k]);
        ck_assert_ptr_nonnull(big);
        memset(big, 0x5a, sizes[k]);
        ck_assert_msg((size_t)(a.end - a.cur) < (size_t)1 << 30, "free space went negative after %zu", sizes[k]);
        /* Later small blocks lie outside the big one. */
        for (int i = 0; i < 64; i++) {
            uint8_t *s = mtp_tl_arena_alloc(&a, 40);
            ck_assert_ptr_nonnull(s);
            ck_assert(s + 40 <= big || s >= big + sizes[k]);
            memset(s, i, 40);
        }
        for (size_t i = 0; i < sizes[k]; i++)
            ck_assert_uint_eq(big[i], 0x5a);
        mtp_tl_arena_free(&a);
    }
}
END_TEST

START_TEST(object_queries)
{
    struct mtp_tl_schema *s = load("api");
    struct mtp_tl_arena a;
    mtp_tl_arena_init(&a, 0);
    struct mtp_tl_value v;
    build(s, "{\"_\":\"user\",\"contact\":true,\"id\":\"5\",\"first_name\":\"A\",\"stories_max_id\":3}", &a, &v);
    const struct mtp_tl_object *o = mtp_tl_value_object(&v);
    ck_assert_ptr_nonnull(o);
    /* flags, flags2, id, first_name, stories_max_id take slots; contact is a bit */
    ck_assert_uint_eq(o->nfields, 5);
    ck_assert_uint_eq(mtp_tl_obj_get(o, "flags")->u.nat, 1u << 11 | 1u << 1);
    ck_assert_uint_eq(mtp_tl_obj_get(o, "flags2")->u.nat, 1u << 5);
    ck_assert_int_eq(mtp_tl_obj_get(o, "id")->u.l, 5);
    ck_assert_ptr_null(mtp_tl_obj_get(o, "contact"));
    ck_assert_ptr_null(mtp_tl_obj_get(o, "last_name"));
    ck_assert_ptr_null(mtp_tl_obj_get(o, "no_such_field"));
    const struct mtp_tl_combinator *c = o->ctor;
    unsigned contact = 0, mutual = 0, first = 0, last = 0;
    for (unsigned i = 0; i < c->nargs; i++) {
        if (strcmp(c->args[i].name, "contact") == 0)
            contact = i;
        else if (strcmp(c->args[i].name, "mutual_contact") == 0)
            mutual = i;
        else if (strcmp(c->args[i].name, "first_name") == 0)
            first = i;
        else if (strcmp(c->args[i].name, "last_name") == 0)
            last = i;
    }
    ck_assert(mtp_tl_obj_has(o, contact));
    ck_assert(!mtp_tl_obj_has(o, mutual));
    ck_assert(mtp_tl_obj_has(o, first));
    ck_assert(!mtp_tl_obj_has(o, last));
    ck_assert(!mtp_tl_obj_has(o, 1000));
    ck_assert_ptr_eq(mtp_tl_obj_field(o, first), mtp_tl_obj_get(o, "first_name"));
    /* through gzip_packed */
    build(s, "{\"_\":\"gzip_packed\",\"unpacked\":{\"_\":\"userEmpty\",\"id\":\"1\"}}", &a, &v);
    ck_assert_str_eq(mtp_tl_value_object(&v)->ctor->name, "userEmpty");
    build(s, "[\"1\"]", &a, &v);
    ck_assert_ptr_null(mtp_tl_value_object(&v));
    mtp_tl_arena_free(&a);
    mtp_tl_schema_free(s);
}
END_TEST

START_TEST(request_result_types)
{
    struct mtp_tl_schema *s = load("api");
    struct mtp_tl_arena a;
    mtp_tl_arena_init(&a, 0);
    struct mtp_tl_value v;
    const struct mtp_tl_tref *t;
    build(s,
          "{\"_\":\"invokeWithLayer\",\"layer\":198,\"query\":{\"_\":\"initConnection\",\"api_id\":1,"
          "\"device_model\":\"d\",\"system_version\":\"s\",\"app_version\":\"a\",\"system_lang_code\":\"en\","
          "\"lang_pack\":\"\",\"lang_code\":\"en\",\"query\":{\"_\":\"messages.getHistory\",\"peer\":{\"_\":"
          "\"inputPeerSelf\"},\"offset_id\":0,\"offset_date\":0,\"add_offset\":0,\"limit\":1,\"max_id\":0,"
          "\"min_id\":0,\"hash\":\"0\"}}}",
          &a, &v);
    ck_assert_ok(mtp_tl_result_type(s, &v, &t, &err));
    ck_assert_int_eq(t->kind, MTP_TL_BOXED);
    ck_assert_str_eq(t->type->name, "messages.Messages");
    build(s, "{\"_\":\"contacts.getContactIDs\",\"hash\":\"0\"}", &a, &v);
    ck_assert_ok(mtp_tl_result_type(s, &v, &t, &err));
    ck_assert_int_eq(t->kind, MTP_TL_VECTOR);
    ck_assert_int_eq(t->args[0]->kind, MTP_TL_INT);
    build(s, "{\"_\":\"help.getConfig\"}", &a, &v);
    ck_assert_ok(mtp_tl_result_type(s, &v, &t, &err));
    ck_assert_str_eq(t->type->name, "Config");
    /* not a request */
    build(s, "{\"_\":\"userEmpty\",\"id\":\"1\"}", &a, &v);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_tl_result_type(s, &v, &t, &err), MTP_ERR_TL_TYPE);
    ck_assert_str_eq(err.msg, "result type: userEmpty is not a function call");
    mtp_tl_arena_free(&a);
    mtp_tl_schema_free(s);
}
END_TEST

static const struct {
    const char *hex;
    bool valid;
} utf8_cases[] = {
    {"", true},
    {"616263", true},
    {"00", true},
    {"c3a9", true},           /* é */
    {"e282ac", true},         /* € */
    {"f09f918b", true},       /* 👋 */
    {"f48fbfbf", true},       /* U+10FFFF */
    {"80", false},            /* lone continuation */
    {"c3", false},            /* cut */
    {"c0af", false},          /* overlong / */
    {"e080af", false},        /* overlong */
    {"eda080", false},        /* surrogate U+D800 */
    {"f4908080", false},      /* above U+10FFFF */
    {"f8888080", false},      /* 5-byte form */
    {"ff", false},
    {"e282", false},          /* cut 3-byte */
    {"c341", false},          /* bad continuation */
};

START_TEST(utf8)
{
    size_t n;
    const uint8_t *p = mtp_test_hex(utf8_cases[_i].hex, &n);
    ck_assert_int_eq(mtp_tl_utf8_valid(p, n), utf8_cases[_i].valid);
}
END_TEST

static Suite *tl_value_suite(void)
{
    Suite *s = suite_create("tl_value");
    TCase *tc = tcase_create("value");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, arena_budget_and_reuse);
    tcase_add_test(tc, arena_block_larger_than_chunk);
    tcase_add_test(tc, object_queries);
    tcase_add_test(tc, request_result_types);
    tcase_add_loop_test(tc, utf8, 0, sizeof utf8_cases / sizeof utf8_cases[0]);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(tl_value_suite)
