/* The judge: valid / invalid / acceptable, wrong-error and the error map,
 * levels below MUST with their lax answer, --strict, and fields of features
 * an implementation did not announce. */
#include <string.h>

#include "kat/kat.h"
#include "mtp_test.h"

struct judged {
    enum kat_status st;
    char why[1024];
    char not_checked[256]; /* the array as JSON, "" when NULL */
};

static json_t *load(const char *text)
{
    if (text == NULL)
        return NULL;
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    ck_assert_msg(v != NULL, "%s: %s", text, e.text);
    return v;
}

/* Judges answer against a test with the given level (NULL: MUST). */
static struct judged judge_at(const char *op, const char *result, const char *expect, const char *lax, const char *level,
                              const struct kat_judging *j, const char *answer)
{
    json_t *e = load(expect), *l = load(lax), *a = load(answer);
    struct kat_test t = {.op = op, .result = result, .expect = e, .lax = l, .level = KAT_LEVEL_MUST,
                         .level_flag = level ? "Margin" : NULL};
    if (level)
        ck_assert_int_eq(kat_level_parse(level, &t.level), 0);
    struct kat_judging plain = {0};
    struct kat_judgement out;
    kat_judge(&t, j ? j : &plain, a, &out);
    struct judged r = {.st = out.status};
    snprintf(r.why, sizeof r.why, "%s", out.why);
    if (out.not_checked) {
        char *s = json_dumps(out.not_checked, JSON_COMPACT);
        snprintf(r.not_checked, sizeof r.not_checked, "%s", s);
        free(s);
    }
    kat_judgement_clear(&out);
    ck_assert_ptr_null(out.not_checked);
    json_decref(e);
    json_decref(l);
    json_decref(a);
    return r;
}

static struct judged judge(const char *result, const char *expect, const char *answer)
{
    return judge_at("op", result, expect, NULL, NULL, NULL, answer);
}

START_TEST(valid_vectors)
{
    struct judged r = judge("valid", "{\"out\":\"ABCD\"}", "{\"id\":1,\"ok\":true,\"out\":\"abcd\",\"x\":1}");
    ck_assert_int_eq(r.st, KAT_PASS);
    ck_assert_str_eq(r.why, "");
    r = judge("valid", "{\"out\":\"abcd\"}", "{\"id\":1,\"ok\":true,\"out\":\"abce\"}");
    ck_assert_int_eq(r.st, KAT_FAIL);
    ck_assert_str_eq(r.why, "field \"out\": expected \"abcd\", got \"abce\"");
    r = judge("valid", "{\"out\":\"abcd\"}", "{\"id\":1,\"ok\":true}");
    ck_assert_int_eq(r.st, KAT_FAIL);
    ck_assert_str_eq(r.why, "field \"out\": expected \"abcd\", got (absent)");
    r = judge("valid", "{}", "{\"ok\":false,\"error\":\"msg_key_mismatch\",\"message\":\"m\"}");
    ck_assert_int_eq(r.st, KAT_FAIL);
    ck_assert_str_eq(r.why, "expected success, got error \"msg_key_mismatch\": m");
    /* Non-hex strings compare exactly. */
    ck_assert_int_eq(judge("valid", "{\"tr\":\"Xyz\"}", "{\"ok\":true,\"tr\":\"xyz\"}").st, KAT_FAIL);
}
END_TEST

START_TEST(invalid_vectors_and_wrong_errors)
{
    ck_assert_int_eq(
        judge("invalid", "{\"error\":\"msg_key_mismatch\"}", "{\"ok\":false,\"error\":\"msg_key_mismatch\"}").st,
        KAT_PASS);
    /* Rejected, as it should be, but for another reason: reported with both names, not failed. */
    struct judged r = judge("invalid", "{\"error\":\"msg_key_mismatch\"}",
                            "{\"ok\":false,\"error\":\"bad_padding_length\",\"message\":\"pad 4\"}");
    ck_assert_int_eq(r.st, KAT_WRONG_ERROR);
    ck_assert_str_eq(r.why, "expected error \"msg_key_mismatch\", got \"bad_padding_length\": pad 4");
    r = judge("invalid", "{\"error\":\"msg_key_mismatch\"}", "{\"ok\":false}");
    ck_assert_int_eq(r.st, KAT_WRONG_ERROR);
    ck_assert_str_eq(r.why, "expected error \"msg_key_mismatch\", got \"(none)\"");
    r = judge("invalid", "{\"error\":\"retry\"}", "{\"ok\":true}");
    ck_assert_int_eq(r.st, KAT_FAIL);
    ck_assert_str_eq(r.why, "expected error \"retry\", but the implementation accepted it");
    /* A verdict reported as data; its reason is an error name too. */
    ck_assert_int_eq(judge("invalid", "{\"valid\":false,\"reason\":\"dh_g_bad_residue\"}",
                           "{\"ok\":true,\"valid\":false,\"reason\":\"dh_g_bad_residue\"}")
                         .st,
                     KAT_PASS);
    r = judge("invalid", "{\"valid\":false,\"reason\":\"dh_ga_unsafe\"}",
              "{\"ok\":true,\"valid\":false,\"reason\":\"g_a is too close to 0\"}");
    ck_assert_int_eq(r.st, KAT_WRONG_ERROR);
    ck_assert_str_eq(r.why, "expected reason \"dh_ga_unsafe\", got \"g_a is too close to 0\"");
    r = judge("invalid", "{\"valid\":false,\"reason\":\"dh_ga_unsafe\"}", "{\"ok\":true,\"valid\":false}");
    ck_assert_int_eq(r.st, KAT_WRONG_ERROR);
    ck_assert_str_eq(r.why, "expected reason \"dh_ga_unsafe\", got no reason");
    /* A wrong reason does not hide a wrong verdict. */
    r = judge("invalid", "{\"valid\":false,\"reason\":\"dh_ga_unsafe\"}", "{\"ok\":true,\"valid\":true,\"reason\":\"x\"}");
    ck_assert_int_eq(r.st, KAT_FAIL);
    ck_assert_str_eq(r.why, "field \"valid\": expected false, got true");
    ck_assert_int_eq(judge("invalid", "{\"valid\":false}", "{\"ok\":true,\"valid\":true}").st, KAT_FAIL);
    /* --strict fails a wrong error. */
    struct kat_judging strict = {.strict = true};
    r = judge_at("op", "invalid", "{\"error\":\"a\"}", NULL, NULL, &strict, "{\"ok\":false,\"error\":\"b\"}");
    ck_assert_int_eq(r.st, KAT_FAIL);
    ck_assert_str_eq(r.why, "wrong error (a failure under --strict): expected error \"a\", got \"b\"");
}
END_TEST

START_TEST(error_maps)
{
    char why[256];
    json_t *doc = load("{\"implementation\":\"x\",\"errors\":{\"bad-length\":\"bad_argument\",\"nope\":\"unsupported\","
                       "\"decrypt\":[\"msg_key_mismatch\",\"bad_padding_length\"]},"
                       "\"ops\":{\"transport_decode\":{\"bad-length\":\"transport_bad_length\"}}}");
    struct kat_errmap *m = kat_errmap_new(doc, why, sizeof why);
    json_decref(doc);
    ck_assert_ptr_nonnull(m);
    struct kat_judging j = {.errmap = m};
    struct judged r = judge_at("aes_ige_encrypt", "invalid", "{\"error\":\"bad_argument\"}", NULL, NULL, &j,
                               "{\"ok\":false,\"error\":\"bad-length\"}");
    ck_assert_int_eq(r.st, KAT_PASS);
    ck_assert_str_eq(r.why, "error \"bad-length\" (read as \"bad_argument\" through the error map)");
    /* The op's own entry wins over the general one. */
    ck_assert_int_eq(judge_at("transport_decode", "invalid", "{\"error\":\"transport_bad_length\"}", NULL, NULL, &j,
                              "{\"ok\":false,\"error\":\"bad-length\"}")
                         .st,
                     KAT_PASS);
    r = judge_at("transport_decode", "invalid", "{\"error\":\"bad_argument\"}", NULL, NULL, &j,
                 "{\"ok\":false,\"error\":\"bad-length\"}");
    ck_assert_int_eq(r.st, KAT_WRONG_ERROR);
    ck_assert_str_eq(r.why, "expected error \"bad_argument\", got \"bad-length\" (read as \"transport_bad_length\" "
                            "through the error map)");
    /* A coarse name stands for several of ours. */
    ck_assert_int_eq(judge_at("msg_decrypt", "invalid", "{\"error\":\"bad_padding_length\"}", NULL, NULL, &j,
                              "{\"ok\":false,\"error\":\"decrypt\"}")
                         .st,
                     KAT_PASS);
    r = judge_at("msg_decrypt", "invalid", "{\"error\":\"bad_message_length\"}", NULL, NULL, &j,
                 "{\"ok\":false,\"error\":\"decrypt\"}");
    ck_assert_int_eq(r.st, KAT_WRONG_ERROR);
    ck_assert_str_eq(r.why, "expected error \"bad_message_length\", got \"decrypt\" (read as one of "
                            "[\"msg_key_mismatch\",\"bad_padding_length\"] through the error map)");
    /* Reasons go through the map, and so does the implementation's word for unsupported. */
    ck_assert_int_eq(judge_at("dh_check", "invalid", "{\"valid\":false,\"reason\":\"bad_argument\"}", NULL, NULL, &j,
                              "{\"ok\":true,\"valid\":false,\"reason\":\"bad-length\"}")
                         .st,
                     KAT_PASS);
    ck_assert_int_eq(judge_at("x", "valid", "{}", NULL, NULL, &j, "{\"ok\":false,\"error\":\"nope\"}").st,
                     KAT_UNSUPPORTED);
    kat_errmap_free(m);

    static const char *const bad[][2] = {
        {"[1]", "an error map is a JSON object"},
        {"{\"eros\":{}}", "unknown key \"eros\" (an error map has errors, ops, implementation and comment)"},
        {"{\"errors\":{\"a\":1}}", "errors.\"a\": want one of our error names, or a non-empty list of them"},
        {"{\"errors\":{\"a\":[]}}", "errors.\"a\": want one of our error names, or a non-empty list of them"},
        {"{\"ops\":{\"x\":{\"a\":\"\"}}}", "ops.x.\"a\": want one of our error names, or a non-empty list of them"},
        {"{\"ops\":[]}", "ops: not an object of op names"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        doc = load(bad[i][0]);
        ck_assert_ptr_null(kat_errmap_new(doc, why, sizeof why));
        ck_assert_str_eq(why, bad[i][1]);
        json_decref(doc);
    }
    ck_assert_ptr_null(kat_errmap_load("/nonexistent/map.json", why, sizeof why));
    ck_assert_msg(strstr(why, "/nonexistent/map.json") != NULL, "%s", why);
}
END_TEST

START_TEST(unsupported_and_acceptable)
{
    ck_assert_int_eq(judge("valid", "{\"out\":\"00\"}", "{\"ok\":false,\"error\":\"unsupported\"}").st, KAT_UNSUPPORTED);
    ck_assert_int_eq(judge("invalid", "{\"error\":\"x\"}", "{\"ok\":false,\"error\":\"unsupported\"}").st,
                     KAT_UNSUPPORTED);
    struct judged r = judge("acceptable", "{\"out\":\"00\"}", "{\"ok\":false,\"error\":\"whatever\",\"message\":\"m\"}");
    ck_assert_int_eq(r.st, KAT_ACCEPTABLE);
    ck_assert_str_eq(r.why, "rejected (whatever: m), which this vector allows");
    r = judge("acceptable", "{\"out\":\"00\"}", "{\"ok\":true,\"out\":\"00\"}");
    ck_assert_int_eq(r.st, KAT_ACCEPTABLE);
    ck_assert_str_eq(r.why, "accepted, which this vector allows");
    ck_assert_int_eq(judge("acceptable", "{\"out\":\"00\"}", "{\"ok\":true,\"out\":\"01\"}").st, KAT_FAIL);
    /* An open vector whose first answer is a rejection: accepting with the lax fields is the other way. */
    const char *f = "{\"p\":\"03\",\"q\":\"05\"}";
    ck_assert_int_eq(
        judge_at("pq", "acceptable", "{\"error\":\"too_large\"}", f, NULL, NULL, "{\"ok\":true,\"p\":\"03\",\"q\":\"05\"}")
            .st,
        KAT_ACCEPTABLE);
    ck_assert_int_eq(
        judge_at("pq", "acceptable", "{\"error\":\"too_large\"}", f, NULL, NULL, "{\"ok\":true,\"p\":\"01\",\"q\":\"0f\"}")
            .st,
        KAT_FAIL);
    r = judge_at("pq", "acceptable", "{\"error\":\"too_large\"}", f, NULL, NULL, "{\"ok\":false,\"error\":\"prime\"}");
    ck_assert_int_eq(r.st, KAT_WRONG_ERROR);
    /* --strict does not touch open vectors. */
    struct kat_judging strict = {.strict = true};
    ck_assert_int_eq(
        judge_at("op", "acceptable", "{\"out\":\"00\"}", NULL, NULL, &strict, "{\"ok\":false,\"error\":\"e\"}").st,
        KAT_ACCEPTABLE);
}
END_TEST

/* A check the spec only recommends: the lax answer is acceptable by default and fails under --strict;
 * at MAY or INFO it is acceptable either way. */
START_TEST(levels_below_must)
{
    const char *want = "{\"valid\":false,\"reason\":\"dh_ga_unsafe\"}", *lax = "{\"valid\":true}";
    const char *lax_answer = "{\"ok\":true,\"valid\":true}";
    struct kat_judging strict = {.strict = true};
    ck_assert_int_eq(judge_at("dh_check", "invalid", want, lax, "RECOMMENDED", NULL,
                              "{\"ok\":true,\"valid\":false,\"reason\":\"dh_ga_unsafe\"}")
                         .st,
                     KAT_PASS);
    struct judged r = judge_at("dh_check", "invalid", want, lax, "RECOMMENDED", NULL, lax_answer);
    ck_assert_int_eq(r.st, KAT_ACCEPTABLE);
    ck_assert_str_eq(r.why, "accepted: the rule is RECOMMENDED (Margin), so this is acceptable (a failure under --strict)");
    r = judge_at("dh_check", "invalid", want, lax, "RECOMMENDED", &strict, lax_answer);
    ck_assert_int_eq(r.st, KAT_FAIL);
    ck_assert_str_eq(r.why, "accepted, but the rule is RECOMMENDED (Margin) and --strict is on: field \"valid\": "
                            "expected false, got true");
    r = judge_at("dh_check", "invalid", want, lax, "INFO", &strict, lax_answer);
    ck_assert_int_eq(r.st, KAT_ACCEPTABLE);
    ck_assert_str_eq(r.why, "accepted: the rule is INFO (Margin), so either answer is allowed");
    /* Neither answer: still a failure, whatever the level. */
    ck_assert_int_eq(judge_at("dh_check", "invalid", want, lax, "MAY", NULL, "{\"ok\":true,\"valid\":\"yes\"}").st,
                     KAT_FAIL);
    /* Without lax: the other side of accept / reject. */
    ck_assert_int_eq(
        judge_at("obfs", "invalid", "{\"error\":\"obfs_bad_tag\"}", NULL, "SHOULD", NULL, "{\"ok\":true,\"x\":1}").st,
        KAT_ACCEPTABLE);
    ck_assert_int_eq(
        judge_at("obfs", "invalid", "{\"error\":\"obfs_bad_tag\"}", NULL, "SHOULD", &strict, "{\"ok\":true}").st,
        KAT_FAIL);
    ck_assert_int_eq(judge_at("obfs", "valid", "{\"out\":\"00\"}", NULL, "SHOULD", NULL,
                              "{\"ok\":false,\"error\":\"obfs_bad_tag\"}")
                         .st,
                     KAT_ACCEPTABLE);
    /* A bare ok:false with no code is not a clean rejection. */
    ck_assert_int_eq(judge_at("obfs", "valid", "{\"out\":\"00\"}", NULL, "SHOULD", NULL, "{\"ok\":false}").st, KAT_FAIL);
    /* The rejection the vector wants, under another name, is still a wrong error below MUST. */
    ck_assert_int_eq(
        judge_at("obfs", "invalid", "{\"error\":\"obfs_bad_tag\"}", NULL, "SHOULD", NULL, "{\"ok\":false,\"error\":\"t\"}")
            .st,
        KAT_WRONG_ERROR);
    /* The same lax answer on a MUST vector fails. */
    ck_assert_int_eq(judge_at("dh_check", "invalid", want, NULL, NULL, NULL, lax_answer).st, KAT_FAIL);
}
END_TEST

/* transport_decode's quick_ack and acks came after version 1: left out by an
 * implementation that did not announce "quick_ack", they are not checked. */
START_TEST(fields_of_features_not_announced)
{
    json_t *hello1 = load("{\"ok\":true,\"protocol\":1}"), *hello2 = load("{\"ok\":true,\"protocol\":2}");
    json_t *hello_f = load("{\"ok\":true,\"protocol\":1,\"features\":[\"quick_ack\"]}");
    struct kat_caps v1, v2, vf, none;
    kat_caps_from_hello(&v1, hello1);
    kat_caps_from_hello(&v2, hello2);
    kat_caps_from_hello(&vf, hello_f);
    kat_caps_from_hello(&none, NULL);
    ck_assert_int_eq(none.protocol, 1);
    ck_assert(!kat_caps_has(&v1, "quick_ack") && kat_caps_has(&v2, "quick_ack") && kat_caps_has(&vf, "quick_ack"));
    ck_assert(!kat_caps_has(&vf, "sender") && !kat_caps_has(&none, "sender") && kat_caps_has(NULL, "sender"));
    const char *want = "{\"payloads\":[\"00\"],\"quick_ack\":[false]}";
    struct kat_judging j1 = {.caps = &v1}, j2 = {.caps = &v2}, jf = {.caps = &vf};
    struct judged r = judge_at("transport_decode", "valid", want, NULL, NULL, &j1, "{\"ok\":true,\"payloads\":[\"00\"]}");
    ck_assert_int_eq(r.st, KAT_PASS);
    ck_assert_str_eq(r.not_checked, "[\"quick_ack\"]");
    ck_assert_str_eq(r.why, "not checked: quick_ack (features the implementation did not announce)");
    /* Present, it is checked; announced, its absence fails. */
    ck_assert_int_eq(judge_at("transport_decode", "valid", want, NULL, NULL, &j1,
                              "{\"ok\":true,\"payloads\":[\"00\"],\"quick_ack\":[true]}")
                         .st,
                     KAT_FAIL);
    ck_assert_int_eq(judge_at("transport_decode", "valid", want, NULL, NULL, &j2, "{\"ok\":true,\"payloads\":[\"00\"]}").st,
                     KAT_FAIL);
    ck_assert_int_eq(judge_at("transport_decode", "valid", want, NULL, NULL, &jf, "{\"ok\":true,\"payloads\":[\"00\"]}").st,
                     KAT_FAIL);
    /* Only that op's field: another op's "quick_ack" is a plain field. */
    ck_assert_int_eq(judge_at("other", "valid", want, NULL, NULL, &j1, "{\"ok\":true,\"payloads\":[\"00\"]}").st, KAT_FAIL);
    /* Nothing left to check is no pass. */
    r = judge_at("obfuscated_init", "valid", "{\"next_wire\":\"00\"}", NULL, NULL, &j1, "{\"ok\":true}");
    ck_assert_int_eq(r.st, KAT_UNSUPPORTED);
    ck_assert_str_eq(r.not_checked, "[\"next_wire\"]");
    kat_caps_clear(&v1);
    kat_caps_clear(&v2);
    kat_caps_clear(&vf);
    kat_caps_clear(&none);
    json_decref(hello1);
    json_decref(hello2);
    json_decref(hello_f);
}
END_TEST

START_TEST(levels)
{
    enum kat_level lv;
    static const char *const names[] = {"MUST", "SHOULD", "RECOMMENDED", "MAY", "INFO"};
    for (size_t i = 0; i < 5; i++) {
        ck_assert_int_eq(kat_level_parse(names[i], &lv), 0);
        ck_assert_str_eq(kat_level_name(lv), names[i]);
    }
    ck_assert_int_eq(kat_level_parse("must", &lv), -1);
    ck_assert_int_eq(kat_level_parse(NULL, &lv), -1);
    ck_assert(KAT_LEVEL_MUST < KAT_LEVEL_SHOULD && KAT_LEVEL_RECOMMENDED < KAT_LEVEL_MAY && KAT_LEVEL_MAY < KAT_LEVEL_INFO);
}
END_TEST

START_TEST(value_equality)
{
    json_t *a = json_loads("{\"_\":\"resPQ\",\"v\":[1,2,\"AB\"],\"d\":1.5}", 0, NULL);
    json_t *b = json_loads("{\"d\":1.5,\"v\":[1,2,\"ab\"],\"_\":\"resPQ\"}", 0, NULL);
    json_t *c = json_loads("{\"d\":1.5,\"v\":[1,2,\"ab\"],\"_\":\"resPQ\",\"extra\":0}", 0, NULL);
    json_t *d = json_loads("{\"d\":1.5,\"v\":[1,2],\"_\":\"resPQ\"}", 0, NULL);
    ck_assert(kat_value_equal(a, b));
    ck_assert(!kat_value_equal(a, c)); /* nested objects must match exactly */
    ck_assert(!kat_value_equal(a, d));
    json_t *i = json_integer(3), *r = json_real(3.0), *s = json_string("3");
    ck_assert(kat_value_equal(i, r));
    ck_assert(!kat_value_equal(i, s));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
    json_decref(i);
    json_decref(r);
    json_decref(s);
}
END_TEST

static Suite *kat_judge_suite(void)
{
    Suite *s = suite_create("kat_judge");
    TCase *tc = tcase_create("judge");
    tcase_add_test(tc, valid_vectors);
    tcase_add_test(tc, invalid_vectors_and_wrong_errors);
    tcase_add_test(tc, error_maps);
    tcase_add_test(tc, unsupported_and_acceptable);
    tcase_add_test(tc, levels_below_must);
    tcase_add_test(tc, fields_of_features_not_announced);
    tcase_add_test(tc, levels);
    tcase_add_test(tc, value_equality);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(kat_judge_suite)
