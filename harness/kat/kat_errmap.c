/* Error maps: an implementation names its errors its own way ("bad-length",
 * a sentence), the vectors name the shim protocol's; the map says which is
 * which, per op or for every op (docs/shim.md, "Error maps"). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kat/kat.h"

struct kat_errmap {
    json_t *doc;
};

static void say(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

/* {"their name": "ours" or ["ours", ...]} */
static int check_names(const json_t *names, const char *where, char *why, size_t why_len)
{
    if (!json_is_object(names)) {
        say(why, why_len, "%s: not an object of error names", where);
        return -1;
    }
    const char *theirs;
    json_t *ours;
    json_object_foreach((json_t *)names, theirs, ours)
    {
        if (json_is_string(ours) && json_string_length(ours) > 0)
            continue;
        bool ok = json_is_array(ours) && json_array_size(ours) > 0;
        size_t i;
        json_t *v;
        json_array_foreach(ours, i, v) ok &= json_is_string(v) && json_string_length(v) > 0;
        if (!ok) {
            say(why, why_len, "%s.\"%.60s\": want one of our error names, or a non-empty list of them", where, theirs);
            return -1;
        }
    }
    return 0;
}

struct kat_errmap *kat_errmap_new(json_t *doc, char *why, size_t why_len)
{
    if (!json_is_object(doc)) {
        say(why, why_len, "an error map is a JSON object");
        return NULL;
    }
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v)
    {
        if (strcmp(k, "errors") == 0) {
            if (check_names(v, "errors", why, why_len) != 0)
                return NULL;
        } else if (strcmp(k, "ops") == 0) {
            if (!json_is_object(v)) {
                say(why, why_len, "ops: not an object of op names");
                return NULL;
            }
            const char *op;
            json_t *names;
            json_object_foreach(v, op, names)
            {
                char where[128];
                snprintf(where, sizeof where, "ops.%.60s", op);
                if (check_names(names, where, why, why_len) != 0)
                    return NULL;
            }
        } else if (strcmp(k, "implementation") != 0 && strcmp(k, "comment") != 0) {
            /* A misspelt "errors" would otherwise map nothing without a word. */
            say(why, why_len, "unknown key \"%.60s\" (an error map has errors, ops, implementation and comment)", k);
            return NULL;
        }
    }
    struct kat_errmap *m = malloc(sizeof *m);
    if (m == NULL) {
        say(why, why_len, "out of memory");
        return NULL;
    }
    m->doc = json_incref(doc);
    return m;
}

struct kat_errmap *kat_errmap_load(const char *path, char *why, size_t why_len)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        say(why, why_len, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    char inner[512];
    struct kat_errmap *m = kat_errmap_new(doc, inner, sizeof inner);
    json_decref(doc);
    if (m == NULL)
        say(why, why_len, "%s: %s", path, inner);
    return m;
}

void kat_errmap_free(struct kat_errmap *m)
{
    if (m == NULL)
        return;
    json_decref(m->doc);
    free(m);
}

const json_t *kat_errmap_lookup(const struct kat_errmap *m, const char *op, const char *theirs)
{
    if (m == NULL || theirs == NULL)
        return NULL;
    const json_t *per_op = op ? json_object_get(json_object_get(m->doc, "ops"), op) : NULL;
    const json_t *v = json_object_get(per_op, theirs);
    return v ? v : json_object_get(json_object_get(m->doc, "errors"), theirs);
}
