/* The judge: one answer against what a vector wants.  A vector names one
 * answer (result + expect); where the spec leaves the choice open ("acceptable")
 * or states the rule below MUST (a flag's level), a second answer is allowed
 * too: lax, or by default the other side of accept / reject.  Error names go
 * through the implementation's error map; a rejection for another reason is
 * wrong-error, not fail.  docs/vectors.md says all this for vector authors. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kat/kat.h"
#include "shim/shim.h"

const char *kat_status_name(enum kat_status s)
{
    switch (s) {
    case KAT_PASS: return "pass";
    case KAT_ACCEPTABLE: return "acceptable";
    case KAT_WRONG_ERROR: return "wrong-error";
    case KAT_UNSUPPORTED: return "unsupported";
    case KAT_FAIL: return "fail";
    }
    return "fail";
}

static const char *const level_names[] = {
    [KAT_LEVEL_MUST] = "MUST", [KAT_LEVEL_SHOULD] = "SHOULD", [KAT_LEVEL_RECOMMENDED] = "RECOMMENDED",
    [KAT_LEVEL_MAY] = "MAY",   [KAT_LEVEL_INFO] = "INFO",
};

int kat_level_parse(const char *name, enum kat_level *level)
{
    for (size_t i = 0; name && i < sizeof level_names / sizeof level_names[0]; i++)
        if (strcmp(name, level_names[i]) == 0) {
            *level = (enum kat_level)i;
            return 0;
        }
    return -1;
}

const char *kat_level_name(enum kat_level level)
{
    return (size_t)level < sizeof level_names / sizeof level_names[0] ? level_names[level] : "MUST";
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

/* An ok answer that reports a verdict as data names its reason in this field:
 * like "error", it is an error name, read through the error map. */
#define REASON_FIELD "reason"

enum match { M_MATCH, M_WRONG_NAME, M_MISMATCH };

/* Whether the implementation's name `got` is our `want`, through the error
 * map when it names `got`.  note[] says how got was read when the map did. */
static bool same_name(const struct kat_judging *j, const char *op, const char *want, const char *got, char *note,
                      size_t note_len)
{
    note[0] = '\0';
    if (got == NULL)
        return false;
    const json_t *m = kat_errmap_lookup(j->errmap, op, got);
    if (m == NULL)
        return strcmp(want, got) == 0;
    if (json_is_string(m)) {
        say(note, note_len, " (read as \"%s\" through the error map)", json_string_value(m));
        return strcmp(want, json_string_value(m)) == 0;
    }
    char list[200];
    brief(m, list, sizeof list);
    say(note, note_len, " (read as one of %s through the error map)", list);
    size_t i;
    json_t *v;
    json_array_foreach(m, i, v) if (strcmp(want, json_string_value(v)) == 0) return true;
    return false;
}

static bool is_unsupported(const struct kat_judging *j, const char *op, const char *got_error)
{
    char note[256];
    return got_error && same_name(j, op, "unsupported", got_error, note, sizeof note);
}

/* Compares an answer with one described answer: a rejection naming want's
 * "error", or an ok answer with every field of want.  Fields the answer lacks
 * that belong to a feature the implementation did not announce go to
 * not_checked instead of failing. */
static enum match match_answer(const struct kat_test *t, const struct kat_judging *j, const json_t *want,
                               const json_t *answer, json_t *not_checked, char *why, size_t why_len)
{
    bool ok = json_is_true(json_object_get(answer, "ok"));
    const char *got_error = json_string_value(json_object_get(answer, "error"));
    const char *got_msg = json_string_value(json_object_get(answer, "message"));
    const char *want_error = json_string_value(json_object_get(want, "error"));
    char note[300];
    why[0] = '\0';
    if (want_error) {
        if (ok) {
            say(why, why_len, "expected error \"%s\", but the implementation accepted it", want_error);
            return M_MISMATCH;
        }
        if (same_name(j, t->op, want_error, got_error, note, sizeof note)) {
            if (note[0])
                say(why, why_len, "error \"%s\"%s", got_error, note);
            return M_MATCH;
        }
        say(why, why_len, "expected error \"%s\", got \"%s\"%s%s%s", want_error, got_error ? got_error : "(none)", note,
            got_msg && *got_msg ? ": " : "", got_msg ? got_msg : "");
        return M_WRONG_NAME;
    }
    if (!ok) {
        say(why, why_len, "expected success, got error \"%s\": %s", got_error ? got_error : "(none)",
            got_msg ? got_msg : "");
        return M_MISMATCH;
    }
    enum match m = M_MATCH;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)want, k, v)
    {
        json_t *got = json_object_get(answer, k);
        if (got == NULL) {
            const struct mtp_shim_feature *f = mtp_shim_feature_of_field(t->op, k);
            if (f && !kat_caps_has(j->caps, f->name)) {
                json_array_append_new(not_checked, json_string(k));
                continue;
            }
        }
        if (strcmp(k, REASON_FIELD) == 0 && json_is_string(v)) {
            const char *g = json_string_value(got);
            if (same_name(j, t->op, json_string_value(v), g, note, sizeof note)) {
                if (note[0] && m == M_MATCH)
                    say(why, why_len, "reason \"%s\"%s", g, note);
                continue;
            }
            if (m == M_MATCH)
                say(why, why_len, "expected reason \"%s\", got %s%s%s", json_string_value(v), g ? "\"" : "",
                    g ? g : "no reason", g ? "\"" : "");
            if (m == M_MATCH && note[0])
                snprintf(why + strlen(why), why_len - strlen(why), "%s", note);
            m = M_WRONG_NAME;
            continue;
        }
        if (!kat_value_equal(v, got)) {
            char w[160], g[160];
            brief(v, w, sizeof w);
            brief(got, g, sizeof g);
            say(why, why_len, "field \"%s\": expected %s, got %s", k, w, g);
            return M_MISMATCH;
        }
    }
    return m;
}

/* The answer's side, for messages: "accepted" or "rejected (code: message)". */
static void side_of(const json_t *answer, char *out, size_t n)
{
    const char *e = json_string_value(json_object_get(answer, "error"));
    const char *msg = json_string_value(json_object_get(answer, "message"));
    if (json_is_true(json_object_get(answer, "ok")))
        say(out, n, "accepted");
    else
        say(out, n, "rejected (%s%s%.200s)", e ? e : "no error code", msg && *msg ? ": " : "", msg ? msg : "");
}

/* The allowed other answer: lax when the vector gives one, else the other
 * side of accept / reject.  A verdict reported as data has no other side. */
static enum match match_other(const struct kat_test *t, const struct kat_judging *j, const json_t *expect,
                              const json_t *answer, json_t *not_checked, char *why, size_t why_len)
{
    why[0] = '\0';
    if (t->lax)
        return match_answer(t, j, t->lax, answer, not_checked, why, why_len);
    bool ok = json_is_true(json_object_get(answer, "ok"));
    if (json_object_get(expect, "error"))
        return ok ? M_MATCH : M_MISMATCH;
    if (strcmp(t->result, "invalid") == 0)
        return M_MISMATCH;
    return !ok && json_is_string(json_object_get(answer, "error")) ? M_MATCH : M_MISMATCH;
}

static void finish(struct kat_judgement *out, enum kat_status st, json_t *not_checked, const json_t *want)
{
    out->status = st;
    if (json_array_size(not_checked) == 0) {
        json_decref(not_checked);
        return;
    }
    if (json_array_size(not_checked) == json_object_size(want)) {
        out->status = KAT_UNSUPPORTED;
        say(out->why, sizeof out->why, "every expected field belongs to a shim feature the implementation did not "
                                       "announce");
    }
    out->not_checked = not_checked;
    size_t len = strlen(out->why);
    snprintf(out->why + len, sizeof out->why - len, "%snot checked: ", len ? "; " : "");
    size_t i;
    json_t *v;
    json_array_foreach(not_checked, i, v)
    {
        len = strlen(out->why);
        snprintf(out->why + len, sizeof out->why - len, "%s%s", i ? ", " : "", json_string_value(v));
    }
    len = strlen(out->why);
    snprintf(out->why + len, sizeof out->why - len, " (features the implementation did not announce)");
}

void kat_judgement_clear(struct kat_judgement *out)
{
    json_decref(out->not_checked);
    out->not_checked = NULL;
}

void kat_judge(const struct kat_test *t, const struct kat_judging *j, const json_t *answer, struct kat_judgement *out)
{
    memset(out, 0, sizeof *out);
    json_t *empty = json_object();
    const json_t *expect = t->expect ? t->expect : empty;
    bool ok = json_is_true(json_object_get(answer, "ok"));
    const char *got_error = json_string_value(json_object_get(answer, "error"));
    if (!ok && is_unsupported(j, t->op, got_error)) {
        out->status = KAT_UNSUPPORTED;
        say(out->why, sizeof out->why, "unsupported by the implementation");
        json_decref(empty);
        return;
    }
    bool open = strcmp(t->result, "acceptable") == 0;
    char why1[sizeof out->why], why2[sizeof out->why], side[300];
    side_of(answer, side, sizeof side);
    json_t *nc1 = json_array(), *nc2 = json_array();
    enum match m1 = match_answer(t, j, expect, answer, nc1, why1, sizeof why1);
    if (m1 == M_MATCH) {
        if (open)
            say(out->why, sizeof out->why, "%s, which this vector allows%s%s", side, why1[0] ? "; " : "", why1);
        else
            say(out->why, sizeof out->why, "%s", why1);
        finish(out, open ? KAT_ACCEPTABLE : KAT_PASS, nc1, expect);
        json_decref(nc2);
        json_decref(empty);
        return;
    }
    if (open || t->level != KAT_LEVEL_MUST) {
        enum match m2 = match_other(t, j, expect, answer, nc2, why2, sizeof why2);
        if (m2 == M_MATCH) {
            const char *lv = kat_level_name(t->level);
            const char *flag = t->level_flag ? t->level_flag : "its flags";
            enum kat_status st = KAT_ACCEPTABLE;
            if (open)
                say(out->why, sizeof out->why, "%s, which this vector allows", side);
            else if (t->level == KAT_LEVEL_MAY || t->level == KAT_LEVEL_INFO)
                say(out->why, sizeof out->why, "%s: the rule is %s (%s), so either answer is allowed", side, lv, flag);
            else if (!j->strict)
                say(out->why, sizeof out->why, "%s: the rule is %s (%s), so this is acceptable (a failure under "
                                               "--strict)", side, lv, flag);
            else {
                st = KAT_FAIL;
                say(out->why, sizeof out->why, "%s, but the rule is %s (%s) and --strict is on: %s", side, lv, flag,
                    why1);
            }
            if (why2[0] && st != KAT_FAIL) {
                size_t len = strlen(out->why);
                snprintf(out->why + len, sizeof out->why - len, "; %s", why2);
            }
            finish(out, st, nc2, t->lax ? t->lax : empty);
            json_decref(nc1);
            json_decref(empty);
            return;
        }
        if (m2 == M_WRONG_NAME && m1 != M_WRONG_NAME) {
            m1 = M_WRONG_NAME;
            memcpy(why1, why2, sizeof why1);
        }
    }
    json_decref(nc1);
    json_decref(nc2);
    json_decref(empty);
    if (m1 == M_WRONG_NAME) {
        out->status = j->strict ? KAT_FAIL : KAT_WRONG_ERROR;
        say(out->why, sizeof out->why, "%s%s", j->strict ? "wrong error (a failure under --strict): " : "", why1);
        return;
    }
    out->status = KAT_FAIL;
    say(out->why, sizeof out->why, "%s", why1);
}
