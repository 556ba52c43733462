/* Judging one server run from the probe's observation log: its "reaction"
 * event against the case's allowed reactions, or the named checks. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_server.h"

/* Reactions that mean the case could not be exercised against this server. */
static const char *const not_exercised[] = {"window-not-full", "no-salt-change", "no-secret-given"};

static void addf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void addf(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

static void mark(json_t *marks, json_int_t ev, const char *why)
{
    json_array_append_new(marks, json_pack("{s:I, s:s}", "event", ev, "why", why));
}

static bool allowed(const struct check_case *c, const char *reaction)
{
    size_t i;
    const json_t *v;
    json_array_foreach(c->allowed, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), reaction) == 0)
            return true;
    }
    return false;
}

static uint64_t hex64(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? strtoull(s, NULL, 16) : 0;
}

static bool is_msg_s2c(const json_t *e)
{
    const char *ev = json_string_value(json_object_get(e, "ev"));
    const char *dir = json_string_value(json_object_get(e, "dir"));
    return ev && dir && strcmp(ev, "msg") == 0 && strcmp(dir, "s2c") == 0 && json_is_true(json_object_get(e, "enc"));
}

/* server_msg_ids: odd everywhere, increasing per session (top level). */
static bool check_msg_ids(const json_t *events, json_t *marks, char *obs, size_t cap)
{
    json_t *last = json_object(); /* session_id -> last msg_id */
    size_t i;
    const json_t *e;
    bool ok = true;
    size_t n = 0;
    json_array_foreach(events, i, e)
    {
        if (!is_msg_s2c(e))
            continue;
        uint64_t id = hex64(json_object_get(e, "msg_id"));
        const char *sess = json_string_value(json_object_get(e, "session_id"));
        n++;
        if ((id & 1) == 0) {
            addf(obs, cap, "event %zu: msg_id %016" PRIx64 " is even; ", i, id);
            mark(marks, (json_int_t)i, "even msg_id");
            ok = false;
        }
        const json_t *prev = sess ? json_object_get(last, sess) : NULL;
        if (prev && (uint64_t)json_integer_value(prev) >= id) {
            addf(obs, cap, "event %zu: msg_id %016" PRIx64 " is not above the session's previous one; ", i, id);
            mark(marks, (json_int_t)i, "msg_id not increasing");
            ok = false;
        }
        if (sess)
            json_object_set_new(last, sess, json_integer((json_int_t)id));
        size_t k;
        const json_t *m;
        json_array_foreach(json_object_get(e, "nested"), k, m)
        {
            uint64_t nid = hex64(json_object_get(m, "msg_id"));
            if ((nid & 1) == 0) {
                addf(obs, cap, "event %zu: nested msg_id %016" PRIx64 " is even; ", i, nid);
                mark(marks, (json_int_t)i, "even msg_id");
                ok = false;
            }
        }
    }
    json_decref(last);
    if (ok)
        addf(obs, cap, "all %zu server messages have odd, increasing msg_ids", n);
    return ok && n > 0;
}

static int class_of(const char *ctor)
{
    static const char *const answers[] = {"rpc_result", "pong", "future_salts", "msgs_state_info"};
    static const char *const others[] = {"new_session_created", "msgs_ack"};
    for (size_t i = 0; ctor && i < sizeof answers / sizeof answers[0]; i++)
        if (strcmp(ctor, answers[i]) == 0)
            return 1;
    for (size_t i = 0; ctor && i < sizeof others / sizeof others[0]; i++)
        if (strcmp(ctor, others[i]) == 0)
            return 3;
    return 0;
}

static bool check_msg_id_classes(const json_t *events, json_t *marks, char *obs, size_t cap)
{
    size_t i, n = 0;
    const json_t *e;
    bool ok = true;
    json_array_foreach(events, i, e)
    {
        if (!is_msg_s2c(e))
            continue;
        const json_t *nested = json_object_get(e, "nested");
        size_t cnt = json_array_size(nested);
        for (size_t k = 0; k < (cnt ? cnt : 1); k++) {
            const json_t *m = cnt ? json_array_get(nested, k) : e;
            int want = class_of(json_string_value(json_object_get(m, "ctor")));
            uint64_t id = hex64(json_object_get(m, "msg_id"));
            if (want == 0)
                continue;
            n++;
            if ((int)(id & 3) != want) {
                addf(obs, cap, "event %zu: %s with msg_id %016" PRIx64 " (%d mod 4, expected %d); ", i,
                     json_string_value(json_object_get(m, "ctor")), id, (int)(id & 3), want);
                mark(marks, (json_int_t)i, "msg_id class");
                ok = false;
            }
        }
    }
    if (ok)
        addf(obs, cap, "all %zu answers are 1 mod 4 and other messages 3 mod 4", n);
    return ok && n > 0;
}

void check_server_judge(const struct check_case *c, const json_t *events, const char *setup_error,
                        struct check_judgement *j)
{
    memset(j->expected, 0, sizeof j->expected);
    memset(j->observed, 0, sizeof j->observed);
    j->marks = json_array();
    /* expected */
    if (c->expect == CHECK_EXPECT_RECORD) {
        snprintf(j->expected, sizeof j->expected, "any reaction (%s: recorded, not judged)",
                 c->level == CHECK_INFO ? "INFO" : "MAY");
    } else if (c->expect == CHECK_EXPECT_PASSIVE) {
        snprintf(j->expected, sizeof j->expected, "every named check holds:");
        size_t i;
        const json_t *v;
        json_array_foreach(c->checks, i, v) { addf(j->expected, sizeof j->expected, " %s", json_string_value(v)); }
    } else {
        snprintf(j->expected, sizeof j->expected, "one of:");
        size_t i;
        const json_t *v;
        json_array_foreach(c->allowed, i, v)
        {
            addf(j->expected, sizeof j->expected, "%s %s", i ? "," : "", json_string_value(v));
        }
    }
    if (setup_error && *setup_error) {
        snprintf(j->observed, sizeof j->observed, "the probe could not do its part: %s", setup_error);
        j->verdict = CHECK_ERROR;
        return;
    }
    /* the reaction: the last one in the log */
    const json_t *re = NULL;
    size_t i, rei = 0;
    const json_t *e;
    json_array_foreach(events, i, e)
    {
        const char *ev = json_string_value(json_object_get(e, "ev"));
        if (ev && strcmp(ev, "reaction") == 0) {
            re = e;
            rei = i;
        }
    }
    if (re == NULL) {
        snprintf(j->observed, sizeof j->observed, "the probe recorded no reaction");
        j->verdict = CHECK_ERROR;
        return;
    }
    const char *reaction = json_string_value(json_object_get(re, "reaction"));
    const char *detail = json_string_value(json_object_get(re, "detail"));
    snprintf(j->observed, sizeof j->observed, "%s: %s", reaction ? reaction : "?", detail ? detail : "");
    const json_t *v;
    json_array_foreach(json_object_get(re, "hostile"), i, v) { mark(j->marks, json_integer_value(v), "hostile"); }
    json_array_foreach(json_object_get(re, "evidence"), i, v) { mark(j->marks, json_integer_value(v), "reaction"); }
    mark(j->marks, (json_int_t)rei, "verdict");
    for (size_t k = 0; reaction && k < sizeof not_exercised / sizeof not_exercised[0]; k++)
        if (strcmp(reaction, not_exercised[k]) == 0) {
            j->verdict = CHECK_UNSUPPORTED;
            return;
        }
    if (reaction && strcmp(reaction, "crash") == 0) {
        j->verdict = CHECK_CRASH;
        return;
    }
    switch (c->expect) {
    case CHECK_EXPECT_RECORD:
        j->verdict = CHECK_PASS;
        return;
    case CHECK_EXPECT_PASSIVE: {
        bool ok = true;
        addf(j->observed, sizeof j->observed, "; ");
        json_array_foreach(c->checks, i, v)
        {
            const char *name = json_string_value(v);
            if (strcmp(name, "server_msg_ids") == 0)
                ok &= check_msg_ids(events, j->marks, j->observed, sizeof j->observed);
            else if (strcmp(name, "server_msg_id_classes") == 0)
                ok &= check_msg_id_classes(events, j->marks, j->observed, sizeof j->observed);
        }
        j->verdict = ok ? CHECK_PASS : CHECK_FAIL;
        return;
    }
    default:
        j->verdict = reaction && allowed(c, reaction) ? CHECK_PASS : CHECK_FAIL;
        return;
    }
}
