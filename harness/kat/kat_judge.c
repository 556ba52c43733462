#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kat/kat.h"

const char *kat_status_name(enum kat_status s)
{
    switch (s) {
    case KAT_PASS: return "pass";
    case KAT_ACCEPTABLE: return "acceptable";
    case KAT_UNSUPPORTED: return "unsupported";
    case KAT_FAIL: return "fail";
    }
    return "fail";
}

static bool all_hex(const char *s)
{
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s))
            return false;
    return true;
}

bool kat_value_equal(const json_t *want, const json_t *got)
{
    if (want == NULL || got == NULL)
        return want == got;
    if (json_is_string(want)) {
        if (!json_is_string(got))
            return false;
        const char *a = json_string_value(want), *b = json_string_value(got);
        if (json_string_length(want) != json_string_length(got))
            return false;
        return all_hex(a) ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
    }
    if (json_is_number(want)) {
        if (!json_is_number(got))
            return false;
        if (json_is_integer(want) && json_is_integer(got))
            return json_integer_value(want) == json_integer_value(got);
        return json_number_value(want) == json_number_value(got);
    }
    if (json_is_array(want)) {
        if (!json_is_array(got) || json_array_size(want) != json_array_size(got))
            return false;
        for (size_t i = 0; i < json_array_size(want); i++)
            if (!kat_value_equal(json_array_get(want, i), json_array_get(got, i)))
                return false;
        return true;
    }
    if (json_is_object(want)) {
        if (!json_is_object(got) || json_object_size(want) != json_object_size(got))
            return false;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)want, k, v)
        {
            if (!kat_value_equal(v, json_object_get(got, k)))
                return false;
        }
        return true;
    }
    return json_equal(want, got);
}

static void say(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

static void brief(const json_t *v, char *out, size_t n)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(out, n, "%s", s ? s : "(absent)");
    if (s && strlen(s) >= n && n > 4)
        memcpy(out + n - 4, "...", 4);
    free(s);
}

/* Every field of expect except "error" must match the answer. */
static bool fields_match(const json_t *expect, const json_t *answer, char *why, size_t why_len)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)expect, k, v)
    {
        if (strcmp(k, "error") == 0)
            continue;
        json_t *got = json_object_get(answer, k);
        if (!kat_value_equal(v, got)) {
            char w[160], g[160];
            brief(v, w, sizeof w);
            brief(got, g, sizeof g);
            say(why, why_len, "field \"%s\": expected %s, got %s", k, w, g);
            return false;
        }
    }
    return true;
}

enum kat_status kat_judge(const char *result, const json_t *expect, const json_t *answer, char *why, size_t why_len)
{
    bool ok = json_is_true(json_object_get(answer, "ok"));
    const char *got_error = json_string_value(json_object_get(answer, "error"));
    const char *got_msg = json_string_value(json_object_get(answer, "message"));
    const char *want_error = json_string_value(json_object_get(expect, "error"));
    why[0] = '\0';
    if (!ok && got_error && strcmp(got_error, "unsupported") == 0) {
        say(why, why_len, "unsupported by the implementation");
        return KAT_UNSUPPORTED;
    }
    if (strcmp(result, "acceptable") == 0) {
        if (!ok) {
            say(why, why_len, "rejected (%s), which this vector allows", got_error ? got_error : "no code");
            return KAT_ACCEPTABLE;
        }
        if (!fields_match(expect, answer, why, why_len))
            return KAT_FAIL;
        say(why, why_len, "accepted, which this vector allows");
        return KAT_ACCEPTABLE;
    }
    if (strcmp(result, "invalid") == 0 && want_error) {
        if (ok) {
            say(why, why_len, "expected error \"%s\", but the implementation accepted it", want_error);
            return KAT_FAIL;
        }
        if (got_error == NULL || strcmp(got_error, want_error) != 0) {
            say(why, why_len, "expected error \"%s\", got \"%s\" (%s)", want_error, got_error ? got_error : "(none)",
                got_msg ? got_msg : "");
            return KAT_FAIL;
        }
        return KAT_PASS;
    }
    /* valid, or invalid reported as data (e.g. dh_check's "valid": false). */
    if (!ok) {
        say(why, why_len, "expected success, got error \"%s\": %s", got_error ? got_error : "(none)",
            got_msg ? got_msg : "");
        return KAT_FAIL;
    }
    return fields_match(expect, answer, why, why_len) ? KAT_PASS : KAT_FAIL;
}
