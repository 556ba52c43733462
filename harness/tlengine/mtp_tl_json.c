/* TL values <-> JSON (docs/tl-json.md).  Kept out of the core library so that
 * libmtp links only OpenSSL and zlib; jansson lives in the tool library. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mtp/hex.h"
#include "mtp/tl_prim.h"
#include "tlengine/tl_json.h"

#define JSON_PATH_SEGS 48
#define JSON_MAX_DEPTH 128
#define GZIP_CHECK_MAX (64u << 20)

/* ------------------------------------------------------------------ */
/* value -> JSON                                                        */

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char *h = mtp_hex_alloc(p, n);
    if (h == NULL)
        return NULL;
    json_t *j = json_stringn(h, 2 * n);
    free(h);
    return j;
}

static int set(json_t *o, const char *key, json_t *v)
{
    if (v == NULL)
        return MTP_ERR_NOMEM;
    return json_object_set_new(o, key, v) == 0 ? MTP_OK : MTP_ERR_NOMEM;
}

static void anon_key(char *buf, size_t cap, unsigned arg) { snprintf(buf, cap, "_%u", arg + 1); }

/* The bits of flags argument i that the object's present conditional fields account for. */
static uint32_t implied_flags(const struct mtp_tl_object *o, unsigned i)
{
    const struct mtp_tl_combinator *c = o->ctor;
    uint32_t bits = 0;
    for (unsigned k = i + 1; k < c->nargs; k++)
        if (c->args[k].cond_arg == (int)i && mtp_tl_obj_has(o, k))
            bits |= 1u << c->args[k].cond_bit;
    return bits;
}

json_t *mtp_tl_json_from_value(const struct mtp_tl_value *v)
{
    switch (v->kind) {
    case MTP_TL_V_INT:
        return json_integer(v->u.i);
    case MTP_TL_V_NAT:
        return json_integer((json_int_t)v->u.nat);
    case MTP_TL_V_LONG: {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)v->u.l);
        return json_string(buf);
    }
    case MTP_TL_V_DOUBLE:
        if (isnan(v->u.d))
            return json_string("NaN");
        if (isinf(v->u.d))
            return json_string(v->u.d > 0 ? "Infinity" : "-Infinity");
        return json_real(v->u.d);
    case MTP_TL_V_INT128:
        return hex_json(v->u.p, 16);
    case MTP_TL_V_INT256:
        return hex_json(v->u.p, 32);
    case MTP_TL_V_BYTES:
        return hex_json(v->u.p, v->len);
    case MTP_TL_V_STRING: {
        if (mtp_tl_utf8_valid(v->u.p, v->len))
            return json_stringn((const char *)v->u.p, v->len);
        json_t *o = json_object();
        if (o && set(o, "bytes", hex_json(v->u.p, v->len)) == MTP_OK)
            return o;
        json_decref(o);
        return NULL;
    }
    case MTP_TL_V_BOOL:
        return json_boolean(v->u.b);
    case MTP_TL_V_TRUE:
        return json_true();
    case MTP_TL_V_VECTOR: {
        json_t *a = json_array();
        for (uint32_t i = 0; a && i < v->len; i++) {
            json_t *e = mtp_tl_json_from_value(&v->u.items[i]);
            if (e == NULL || json_array_append_new(a, e) != 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case MTP_TL_V_OBJECT: {
        const struct mtp_tl_object *o = v->u.obj;
        const struct mtp_tl_combinator *c = o->ctor;
        json_t *j = json_object();
        if (j == NULL)
            return NULL;
        if (c->name) {
            /* A name another schema's combinator takes in global lookups gets its id. */
            char qualified[256];
            const char *name = c->name;
            if (c->shadowed) {
                snprintf(qualified, sizeof qualified, "%s#%08x", c->name, c->id);
                name = qualified;
            }
            if (set(j, "_", json_string(name)) < 0)
                goto fail;
        }
        for (unsigned i = 0; i < c->nargs; i++) {
            if (!mtp_tl_obj_has(o, i))
                continue;
            const struct mtp_tl_value *f = mtp_tl_obj_field(o, i);
            /* A flags word that says no more than the fields present is left
             * out, as client libraries do: it is recomputed on input.  One with
             * other bits (a newer layer's) is kept so nothing is lost. */
            if (c->args[i].is_flags && f && f->kind == MTP_TL_V_NAT && f->u.nat == implied_flags(o, i))
                continue;
            char key[16];
            const char *name = c->args[i].name;
            if (name == NULL) {
                anon_key(key, sizeof key, i);
                name = key;
            }
            if (set(j, name, f ? mtp_tl_json_from_value(f) : json_true()) < 0)
                goto fail;
        }
        return j;
    fail:
        json_decref(j);
        return NULL;
    }
    case MTP_TL_V_GZIP: {
        const struct mtp_tl_gzip *gz = v->u.gz;
        json_t *j = json_object();
        if (j == NULL || set(j, "_", json_string("gzip_packed")) < 0 ||
            (gz->packed && set(j, "packed_data", hex_json(gz->packed, gz->packed_len)) < 0) ||
            set(j, "unpacked", mtp_tl_json_from_value(&gz->inner)) < 0) {
            json_decref(j);
            return NULL;
        }
        return j;
    }
    default:
        return json_null();
    }
}

/* ------------------------------------------------------------------ */
/* JSON -> value                                                        */

struct jseg {
    const char *key;
    uint32_t index;
    bool is_index;
};

struct jb {
    const struct mtp_tl_schema *s;
    struct mtp_tl_arena *a;
    int code;
    char msg[MTP_ERROR_MSG_MAX];
    struct jseg path[JSON_PATH_SEGS];
    unsigned npath;
};

struct jenv {
    const struct mtp_tl_tref *types[MTP_TL_MAX_PARAMS];
    const struct jenv *envs[MTP_TL_MAX_PARAMS];
    uint32_t nats[MTP_TL_MAX_PARAMS];
};

static int jfail(struct jb *b, int code, const char *fmt, ...) MTP_PRINTF(3, 4);
static int jfail(struct jb *b, int code, const char *fmt, ...)
{
    if (b->code != MTP_OK)
        return code;
    b->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->msg, sizeof b->msg, fmt, ap);
    va_end(ap);
    return code;
}

/* Path segments are added while an error unwinds; a success adds nothing. */
static int jseg_key(struct jb *b, const char *key, int rc)
{
    if (rc < 0 && b->npath < JSON_PATH_SEGS)
        b->path[b->npath++] = (struct jseg){.key = key};
    return rc;
}

static int jseg_index(struct jb *b, uint32_t i, int rc)
{
    if (rc < 0 && b->npath < JSON_PATH_SEGS)
        b->path[b->npath++] = (struct jseg){.index = i, .is_index = true};
    return rc;
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static int build(struct jb *b, const struct mtp_tl_tref *t, const struct jenv *env, const json_t *j,
                 struct mtp_tl_value *out, unsigned depth);

static int hex_bytes(struct jb *b, const char *hex, size_t n, struct mtp_tl_value *out)
{
    if (n % 2)
        return jfail(b, MTP_ERR_HEX, "hex string of odd length %zu", n);
    uint8_t *p = mtp_tl_arena_alloc(b->a, n / 2 + 1);
    if (p == NULL)
        return jfail(b, MTP_ERR_NOMEM, "out of memory");
    struct mtp_error e;
    mtp_error_clear(&e);
    if (n && mtp_hex_decode_exact(hex, p, n / 2, &e, "value") < 0)
        return jfail(b, MTP_ERR_HEX, "not a hex string");
    out->u.p = p;
    out->len = (uint32_t)(n / 2);
    return MTP_OK;
}

/* A hex string, or {"bytes": "<hex>"}. */
static int build_bytes(struct jb *b, const json_t *j, bool text, struct mtp_tl_value *out)
{
    out->kind = text ? MTP_TL_V_STRING : MTP_TL_V_BYTES;
    const json_t *h = j;
    if (json_is_object(j)) {
        h = json_object_get(j, "bytes");
        if (h == NULL || json_object_size(j) != 1 || !json_is_string(h))
            return jfail(b, MTP_ERR_TL_TYPE, "expected {\"bytes\": \"<hex>\"}");
    } else if (text && json_is_string(j)) {
        size_t n = json_string_length(j);
        if (n > MTP_TL_BYTES_MAX)
            return jfail(b, MTP_ERR_TL_TOO_LONG, "string of %zu bytes is over the TL maximum", n);
        out->u.p = mtp_tl_arena_memdup(b->a, json_string_value(j), n ? n : 1);
        if (out->u.p == NULL)
            return jfail(b, MTP_ERR_NOMEM, "out of memory");
        out->len = (uint32_t)n;
        return MTP_OK;
    }
    if (!json_is_string(h))
        return jfail(b, MTP_ERR_TL_TYPE, "expected a hex string, found %s", json_kind(h));
    size_t n = json_string_length(h);
    if (n / 2 > MTP_TL_BYTES_MAX)
        return jfail(b, MTP_ERR_TL_TOO_LONG, "bytes of %zu are over the TL maximum", n / 2);
    return hex_bytes(b, json_string_value(h), n, out);
}

static int build_fixed(struct jb *b, const json_t *j, size_t n, struct mtp_tl_value *out)
{
    if (!json_is_string(j) || json_string_length(j) != 2 * n)
        return jfail(b, MTP_ERR_TL_TYPE, "expected a hex string of %zu bytes", n);
    return hex_bytes(b, json_string_value(j), 2 * n, out);
}

static bool parse_long(const char *s, int64_t *v)
{
    if (*s == '\0' || (s[0] == '-' && s[1] == '\0'))
        return false;
    for (const char *p = (*s == '-') ? s + 1 : s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    errno = 0;
    char *end;
    long long x = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *v = (int64_t)x;
    return true;
}

static int build_gzip(struct jb *b, const struct mtp_tl_tref *t, const struct jenv *env, const json_t *j,
                      struct mtp_tl_value *out, unsigned depth);

/* "name" or "name#xxxxxxxx": the name, and the id when given. */
static int split_name(struct jb *b, const char *full, char *name, size_t cap, uint32_t *id, bool *has_id)
{
    const char *hash = strchr(full, '#');
    *has_id = hash != NULL;
    size_t n = hash ? (size_t)(hash - full) : strlen(full);
    if (n >= cap)
        return jfail(b, MTP_ERR_TL_UNKNOWN_TYPE, "constructor name too long");
    memcpy(name, full, n);
    name[n] = '\0';
    if (hash) {
        size_t hn = strlen(hash + 1);
        uint32_t v = 0;
        for (size_t i = 0; i < hn; i++) {
            char ch = hash[1 + i];
            int dgt = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                                        : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
            if (dgt < 0 || hn > 8)
                return jfail(b, MTP_ERR_TL_UNKNOWN_TYPE, "\"%s\": expected name#xxxxxxxx", full);
            v = v << 4 | (uint32_t)dgt;
        }
        if (hn == 0)
            return jfail(b, MTP_ERR_TL_UNKNOWN_TYPE, "\"%s\": expected name#xxxxxxxx", full);
        *id = v;
    }
    return MTP_OK;
}

static int find_ctor(struct jb *b, const struct mtp_tl_tref *t, const char *full,
                     const struct mtp_tl_combinator **out)
{
    char name[256];
    uint32_t id = 0;
    bool has_id;
    MTP_GUARD(split_name(b, full, name, sizeof name, &id, &has_id));
    if (has_id) {
        const struct mtp_tl_combinator *c = mtp_tl_find_id(b->s, id);
        if (c == NULL || c->name == NULL || strcmp(c->name, name) != 0)
            return jfail(b, MTP_ERR_TL_UNKNOWN_TYPE, "no constructor '%s' with id %08x", name, id);
        if (t->kind == MTP_TL_BOXED && (c->is_function || strcmp(c->type->name, t->type->name) != 0))
            return jfail(b, MTP_ERR_TL_TYPE, "'%s' is not a constructor of type %s", full, t->type->name);
        *out = c;
        return MTP_OK;
    }
    const struct mtp_tl_combinator *c = NULL;
    if (t->kind == MTP_TL_BOXED) {
        c = mtp_tl_type_ctor(t->type, name);
        if (c == NULL) {
            const struct mtp_tl_combinator *o = mtp_tl_find_name(b->s, name);
            if (o)
                return jfail(b, MTP_ERR_TL_TYPE, "'%s' is not a constructor of type %s", name, t->type->name);
            return jfail(b, MTP_ERR_TL_UNKNOWN_TYPE, "unknown constructor '%s' (expected type %s)", name,
                         t->type->name);
        }
    } else {
        c = mtp_tl_find_name(b->s, name);
        if (c == NULL)
            return jfail(b, MTP_ERR_TL_UNKNOWN_TYPE, "unknown constructor '%s'", name);
    }
    *out = c;
    return MTP_OK;
}

static const json_t *field_json(const json_t *obj, const struct mtp_tl_arg *a, unsigned i, char *key, size_t cap)
{
    if (a->name)
        return json_object_get(obj, a->name);
    anon_key(key, cap, i);
    return json_object_get(obj, key);
}

/* Encoded size of a built value, for message.bytes when the JSON leaves it out. */
static int encoded_size(struct jb *b, const struct mtp_tl_value *v, size_t *n)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, MTP_TL_BYTES_MAX * 4u, &e);
    int rc = mtp_tl_encode(b->s, NULL, v, &w, &e);
    *n = w.len;
    mtp_wr_free(&w);
    if (rc < 0)
        return jfail(b, rc, "%s", e.msg);
    return MTP_OK;
}

static int build_fields(struct jb *b, const struct mtp_tl_combinator *c, const struct jenv *env, const json_t *j,
                        const uint32_t *nat, struct mtp_tl_value *tmp, unsigned depth);

static int build_object(struct jb *b, const struct mtp_tl_combinator *c, const struct jenv *env, const json_t *j,
                        bool boxed, struct mtp_tl_value *out, unsigned depth)
{
    char key[16];
    /* Every key must be a field of the constructor. */
    const char *k;
    json_t *jv;
    json_object_foreach((json_t *)j, k, jv)
    {
        if (strcmp(k, "_") == 0)
            continue;
        bool known = false;
        for (unsigned i = 0; i < c->nargs && !known; i++) {
            const char *name = c->args[i].name;
            if (name == NULL) {
                anon_key(key, sizeof key, i);
                name = key;
            }
            known = strcmp(name, k) == 0;
        }
        if (!known)
            return jseg_key(b, k, jfail(b, MTP_ERR_TL_FIELD, "'%s' has no field '%s'", c->name ? c->name : "record", k));
    }
    /* Flags and counts first: from the fields present and array lengths. */
    uint32_t nat[MTP_TL_MAX_NATS] = {0};
    for (unsigned i = 0; i < c->nargs; i++) {
        const struct mtp_tl_arg *a = &c->args[i];
        if (a->nat_slot < 0)
            continue;
        const json_t *fj = field_json(j, a, i, key, sizeof key);
        uint32_t v = 0;
        if (fj && !json_is_null(fj)) {
            json_int_t x = json_is_integer(fj) ? json_integer_value(fj) : -1;
            if (x < 0 || x > (json_int_t)UINT32_MAX)
                return jseg_key(b, a->name, jfail(b, MTP_ERR_TL_TYPE, "expected an integer 0..4294967295"));
            v = (uint32_t)x;
        } else {
            /* A count nobody gave: the length of the repetition that uses it. */
            for (unsigned k2 = i + 1; k2 < c->nargs; k2++) {
                const struct mtp_tl_tref *tk = c->args[k2].type;
                if (tk->kind == MTP_TL_ARRAY && tk->array->mult_kind == MTP_TL_MULT_ARG &&
                    tk->array->mult == (uint32_t)a->nat_slot) {
                    const json_t *aj = field_json(j, &c->args[k2], k2, key, sizeof key);
                    if (json_is_array(aj))
                        v = (uint32_t)json_array_size(aj);
                    break;
                }
            }
        }
        if (a->is_flags) {
            uint32_t on = 0, off = 0;
            for (unsigned k2 = i + 1; k2 < c->nargs; k2++) {
                const struct mtp_tl_arg *ak = &c->args[k2];
                if (ak->cond_arg != (int)i)
                    continue;
                const json_t *fk = field_json(j, ak, k2, key, sizeof key);
                bool present = fk != NULL && !json_is_null(fk);
                if (present && ak->type->kind == MTP_TL_TRUE) {
                    if (!json_is_boolean(fk))
                        return jseg_key(b, ak->name, jfail(b, MTP_ERR_TL_TYPE, "a true flag is true or false"));
                    present = json_is_true(fk);
                }
                uint32_t bit = 1u << ak->cond_bit;
                if (present)
                    on |= bit;
                else
                    off |= bit;
            }
            if (on & off) {
                unsigned bit = 0;
                while (!((on & off) >> bit & 1))
                    bit++;
                return jseg_key(b, a->name,
                                jfail(b, MTP_ERR_TL_BAD_FLAGS,
                                      "fields on %s.%u must be all present or all absent", a->name, bit));
            }
            v = (v & ~off) | on;
        }
        nat[a->nat_slot] = v;
    }
    /* Then the fields, in argument order. */
    struct mtp_tl_value *tmp = malloc((c->nargs ? c->nargs : 1) * sizeof *tmp);
    if (tmp == NULL)
        return jfail(b, MTP_ERR_NOMEM, "out of memory");
    int rc = build_fields(b, c, env, j, nat, tmp, depth);
    if (rc >= 0) {
        unsigned n = (unsigned)rc;
        struct mtp_tl_object *o = mtp_tl_arena_alloc(b->a, sizeof *o + n * sizeof o->fields[0]);
        if (o == NULL) {
            rc = jfail(b, MTP_ERR_NOMEM, "out of memory");
        } else {
            o->ctor = c;
            o->nfields = n;
            if (n)
                memcpy(o->fields, tmp, n * sizeof tmp[0]);
            out->kind = MTP_TL_V_OBJECT;
            out->flags = boxed ? MTP_TL_VF_BOXED : 0;
            out->u.obj = o;
            rc = MTP_OK;
        }
    }
    free(tmp);
    return rc;
}

/* Builds the present fields into tmp; returns their number or a negative code. */
static int build_fields(struct jb *b, const struct mtp_tl_combinator *c, const struct jenv *env, const json_t *j,
                        const uint32_t *nat, struct mtp_tl_value *tmp, unsigned depth)
{
    char key[16];
    unsigned n = 0;
    int bytes_slot = -1;
    for (unsigned i = 0; i < c->nargs; i++) {
        const struct mtp_tl_arg *a = &c->args[i];
        if (a->cond_slot >= 0 && !(nat[a->cond_slot] >> a->cond_bit & 1u))
            continue;
        if (a->type->kind == MTP_TL_TRUE)
            continue;
        struct mtp_tl_value *f = &tmp[n];
        memset(f, 0, sizeof *f);
        f->arg = (uint16_t)i;
        const json_t *fj = field_json(j, a, i, key, sizeof key);
        if (a->nat_slot >= 0) {
            f->kind = MTP_TL_V_NAT;
            f->u.nat = nat[a->nat_slot];
            n++;
            continue;
        }
        if (fj == NULL || json_is_null(fj)) {
            if (c->special == MTP_TL_SPECIAL_MESSAGE && i == 2) {
                f->kind = MTP_TL_V_INT;
                bytes_slot = (int)n++;
                continue;
            }
            return jseg_key(b, a->name, jfail(b, MTP_ERR_TL_FIELD, "missing field '%s' of %s",
                                              a->name ? a->name : key, c->name ? c->name : "record"));
        }
        /* A NAT-valued field of a repetition count is set above; bind nothing else. */
        const struct jenv *fenv = env;
        int rc = build(b, a->type, fenv, fj, f, depth + 1);
        if (rc < 0)
            return a->name ? jseg_key(b, a->name, rc) : rc;
        if (a->type->kind == MTP_TL_ARRAY) {
            const struct mtp_tl_array *arr = a->type->array;
            uint32_t want = arr->mult_kind == MTP_TL_MULT_CONST ? arr->mult
                            : arr->mult_kind == MTP_TL_MULT_ARG  ? nat[arr->mult]
                            : env                                ? env->nats[arr->mult]
                                                                 : f->len;
            if (f->len != want)
                return jseg_key(b, a->name, jfail(b, MTP_ERR_TL_BAD_COUNT, "repetition of %u elements, count is %u",
                                                  f->len, want));
        }
        f->arg = (uint16_t)i;
        n++;
    }
    if (bytes_slot >= 0) {
        size_t body;
        MTP_GUARD(jseg_key(b, "body", encoded_size(b, &tmp[n - 1], &body)));
        tmp[bytes_slot].u.i = (int32_t)body;
    }
    return (int)n;
}

static int bind_env(const struct mtp_tl_combinator *c, const struct mtp_tl_tref *t, const struct jenv *outer,
                    struct jenv *e)
{
    memset(e, 0, sizeof *e);
    if (c->result_map == NULL)
        return MTP_OK;
    for (unsigned i = 0; i < t->nargs; i++) {
        int pi = c->result_map[i];
        if (pi < 0)
            continue;
        if (t->args[i]->kind == MTP_TL_NATCONST) {
            e->nats[pi] = t->args[i]->nat;
        } else {
            e->types[pi] = t->args[i];
            e->envs[pi] = outer;
        }
    }
    return MTP_OK;
}

/* A JSON value where any object may stand. */
static int build_any(struct jb *b, const json_t *j, struct mtp_tl_value *out, unsigned depth, bool elem)
{
    static const struct mtp_tl_tref object = {.kind = MTP_TL_OBJECT};
    switch (json_typeof(j)) {
    case JSON_TRUE:
    case JSON_FALSE:
        out->kind = MTP_TL_V_BOOL;
        out->flags = MTP_TL_VF_BOXED;
        out->u.b = json_is_true(j);
        return MTP_OK;
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        struct mtp_tl_value *items = mtp_tl_arena_alloc(b->a, (n ? n : 1) * sizeof *items);
        if (items == NULL)
            return jfail(b, MTP_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            memset(&items[i], 0, sizeof items[i]);
            int rc = build_any(b, json_array_get(j, i), &items[i], depth + 1, true);
            if (rc < 0)
                return jseg_index(b, (uint32_t)i, rc);
        }
        out->kind = MTP_TL_V_VECTOR;
        out->flags = MTP_TL_VF_BOXED;
        out->len = (uint32_t)n;
        out->u.items = items;
        return MTP_OK;
    }
    case JSON_OBJECT:
        return build(b, &object, NULL, j, out, depth);
    default:
        break;
    }
    if (!elem)
        return jfail(b, MTP_ERR_TL_TYPE, "expected an object, found %s", json_kind(j));
    /* Vector elements whose type the schema does not say: by their JSON form. */
    if (json_is_integer(j)) {
        json_int_t x = json_integer_value(j);
        if (x < INT32_MIN || x > INT32_MAX)
            return jfail(b, MTP_ERR_TL_TYPE, "integer %lld out of int range (write a long as a string)", (long long)x);
        out->kind = MTP_TL_V_INT;
        out->u.i = (int32_t)x;
        return MTP_OK;
    }
    if (json_is_real(j)) {
        out->kind = MTP_TL_V_DOUBLE;
        out->u.d = json_real_value(j);
        return MTP_OK;
    }
    if (json_is_string(j)) {
        int64_t l;
        if (parse_long(json_string_value(j), &l)) {
            out->kind = MTP_TL_V_LONG;
            out->u.l = l;
            return MTP_OK;
        }
        return build_bytes(b, j, true, out);
    }
    return jfail(b, MTP_ERR_TL_TYPE, "cannot tell the TL type of %s", json_kind(j));
}

static int build(struct jb *b, const struct mtp_tl_tref *t, const struct jenv *env, const json_t *j,
                 struct mtp_tl_value *out, unsigned depth)
{
    if (depth > JSON_MAX_DEPTH)
        return jfail(b, MTP_ERR_TL_TOO_DEEP, "JSON nested deeper than %d", JSON_MAX_DEPTH);
    memset(out, 0, sizeof *out);
    switch (t->kind) {
    case MTP_TL_INT: {
        json_int_t x = json_is_integer(j) ? json_integer_value(j) : 0;
        if (!json_is_integer(j) || x < INT32_MIN || x > INT32_MAX)
            return jfail(b, MTP_ERR_TL_TYPE, "expected an int (integer -2147483648..2147483647), found %s",
                         json_kind(j));
        out->kind = MTP_TL_V_INT;
        out->u.i = (int32_t)x;
        return MTP_OK;
    }
    case MTP_TL_NAT: {
        json_int_t x = json_is_integer(j) ? json_integer_value(j) : -1;
        if (x < 0 || x > (json_int_t)UINT32_MAX)
            return jfail(b, MTP_ERR_TL_TYPE, "expected a # (integer 0..4294967295), found %s", json_kind(j));
        out->kind = MTP_TL_V_NAT;
        out->u.nat = (uint32_t)x;
        return MTP_OK;
    }
    case MTP_TL_LONG:
        out->kind = MTP_TL_V_LONG;
        if (json_is_integer(j)) {
            out->u.l = json_integer_value(j);
            return MTP_OK;
        }
        if (json_is_string(j) && parse_long(json_string_value(j), &out->u.l))
            return MTP_OK;
        return jfail(b, MTP_ERR_TL_TYPE, "expected a long (string of decimal digits), found %s", json_kind(j));
    case MTP_TL_DOUBLE:
        out->kind = MTP_TL_V_DOUBLE;
        if (json_is_number(j)) {
            out->u.d = json_number_value(j);
            return MTP_OK;
        }
        if (json_is_string(j)) {
            const char *sv = json_string_value(j);
            if (strcmp(sv, "NaN") == 0) {
                out->u.d = NAN;
                return MTP_OK;
            }
            if (strcmp(sv, "Infinity") == 0 || strcmp(sv, "-Infinity") == 0) {
                out->u.d = sv[0] == '-' ? -INFINITY : INFINITY;
                return MTP_OK;
            }
        }
        return jfail(b, MTP_ERR_TL_TYPE, "expected a double, found %s", json_kind(j));
    case MTP_TL_INT128:
        out->kind = MTP_TL_V_INT128;
        return build_fixed(b, j, 16, out);
    case MTP_TL_INT256:
        out->kind = MTP_TL_V_INT256;
        return build_fixed(b, j, 32, out);
    case MTP_TL_BYTES:
        return build_bytes(b, j, false, out);
    case MTP_TL_STRING:
        return build_bytes(b, j, true, out);
    case MTP_TL_BOOL:
        if (!json_is_boolean(j))
            return jfail(b, MTP_ERR_TL_TYPE, "expected true or false, found %s", json_kind(j));
        out->kind = MTP_TL_V_BOOL;
        out->flags = MTP_TL_VF_BOXED;
        out->u.b = json_is_true(j);
        return MTP_OK;
    case MTP_TL_TRUE:
        if (!json_is_true(j))
            return jfail(b, MTP_ERR_TL_TYPE, "expected true, found %s", json_kind(j));
        out->kind = MTP_TL_V_TRUE;
        out->u.b = true;
        return MTP_OK;
    case MTP_TL_VECTOR:
    case MTP_TL_BARE_VECTOR:
    case MTP_TL_ARRAY: {
        if (t->kind == MTP_TL_VECTOR && json_is_object(j))
            return build_gzip(b, t, env, j, out, depth);
        if (!json_is_array(j))
            return jfail(b, MTP_ERR_TL_TYPE, "expected an array, found %s", json_kind(j));
        const struct mtp_tl_tref *elem;
        struct mtp_tl_tref rec = {.kind = MTP_TL_BARE};
        if (t->kind != MTP_TL_ARRAY) {
            elem = t->args[0];
        } else {
            const struct mtp_tl_combinator *rc = t->array->record;
            if (rc->nargs == 1 && rc->args[0].name == NULL && rc->args[0].cond_arg < 0) {
                elem = rc->args[0].type;
            } else {
                rec.ctor = rc;
                elem = &rec;
            }
        }
        size_t n = json_array_size(j);
        if (n > UINT32_MAX / 2)
            return jfail(b, MTP_ERR_TL_LIMIT, "array too long");
        struct mtp_tl_value *items = mtp_tl_arena_alloc(b->a, (n ? n : 1) * sizeof *items);
        if (items == NULL)
            return jfail(b, MTP_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            int rc = build(b, elem, env, json_array_get(j, i), &items[i], depth + 1);
            if (rc < 0)
                return jseg_index(b, (uint32_t)i, rc);
        }
        out->kind = MTP_TL_V_VECTOR;
        out->flags = t->kind == MTP_TL_VECTOR ? MTP_TL_VF_BOXED : 0;
        out->len = (uint32_t)n;
        out->u.items = items;
        return MTP_OK;
    }
    case MTP_TL_VAR:
        if (env && env->types[t->var])
            return build(b, env->types[t->var], env->envs[t->var], j, out, depth + 1);
        return build_any(b, j, out, depth + 1, false);
    case MTP_TL_OBJECT:
        if (!json_is_object(j))
            return build_any(b, j, out, depth + 1, false);
        break;
    case MTP_TL_BOXED:
    case MTP_TL_BARE:
        break;
    default:
        return jfail(b, MTP_ERR_TL_TYPE, "cannot build a value of this type");
    }
    /* Objects. */
    if (!json_is_object(j))
        return jfail(b, MTP_ERR_TL_TYPE, "expected an object {\"_\": ...}, found %s", json_kind(j));
    const json_t *nj = json_object_get(j, "_");
    if (nj && !json_is_string(nj))
        return jfail(b, MTP_ERR_TL_TYPE, "\"_\" must be a constructor name");
    const char *name = nj ? json_string_value(nj) : NULL;
    if (t->kind == MTP_TL_BARE) {
        const struct mtp_tl_combinator *c = t->ctor;
        if (name) {
            char base[256];
            uint32_t id = 0;
            bool has_id;
            MTP_GUARD(split_name(b, name, base, sizeof base, &id, &has_id));
            if (c->name == NULL || strcmp(base, c->name) != 0 || (has_id && id != c->id))
                return jfail(b, MTP_ERR_TL_TYPE, "expected bare %s, found \"%s\"", c->name ? c->name : "record",
                             name);
        }
        struct jenv e;
        bind_env(c, t, env, &e);
        return build_object(b, c, &e, j, false, out, depth);
    }
    if (name == NULL)
        return jfail(b, MTP_ERR_TL_FIELD, "object without \"_\" (the constructor name)");
    if (strcmp(name, "gzip_packed") == 0)
        return build_gzip(b, t, env, j, out, depth);
    const struct mtp_tl_combinator *c = NULL;
    MTP_GUARD(find_ctor(b, t, name, &c));
    struct jenv e;
    if (t->kind == MTP_TL_BOXED)
        bind_env(c, t, env, &e);
    else
        memset(&e, 0, sizeof e);
    return build_object(b, c, &e, j, true, out, depth);
}

static int inflate_all(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return MTP_ERR_NOMEM;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    int z = Z_OK;
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    while (buf) {
        zs.next_out = buf + len;
        zs.avail_out = (uInt)(cap - len);
        z = inflate(&zs, Z_NO_FLUSH);
        len = cap - zs.avail_out;
        if (z != Z_OK)
            break;
        if (len == cap) {
            if (cap >= GZIP_CHECK_MAX)
                break;
            uint8_t *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    inflateEnd(&zs);
    if (buf == NULL)
        return MTP_ERR_NOMEM;
    if (z != Z_STREAM_END || zs.avail_in) {
        free(buf);
        return MTP_ERR_TL_GZIP;
    }
    *out = buf;
    *out_len = len;
    return MTP_OK;
}

/* {"_": "gzip_packed", "packed_data": hex?, "unpacked": value?} at a position of type t. */
static int build_gzip(struct jb *b, const struct mtp_tl_tref *t, const struct jenv *env, const json_t *j,
                      struct mtp_tl_value *out, unsigned depth)
{
    const char *k;
    json_t *jv;
    json_object_foreach((json_t *)j, k, jv)
    {
        if (strcmp(k, "_") && strcmp(k, "packed_data") && strcmp(k, "unpacked"))
            return jseg_key(b, k, jfail(b, MTP_ERR_TL_FIELD, "'gzip_packed' has no field '%s'", k));
    }
    const json_t *nj = json_object_get(j, "_");
    if (!json_is_string(nj) || strcmp(json_string_value(nj), "gzip_packed") != 0)
        return jfail(b, MTP_ERR_TL_TYPE, "expected an array or gzip_packed");
    const json_t *pj = json_object_get(j, "packed_data");
    const json_t *uj = json_object_get(j, "unpacked");
    if (pj == NULL && uj == NULL)
        return jfail(b, MTP_ERR_TL_FIELD, "gzip_packed needs packed_data or unpacked");
    struct mtp_tl_gzip *gz = mtp_tl_arena_alloc(b->a, sizeof *gz);
    if (gz == NULL)
        return jfail(b, MTP_ERR_NOMEM, "out of memory");
    memset(gz, 0, sizeof *gz);
    struct mtp_tl_value packed = {0};
    if (pj) {
        MTP_GUARD(jseg_key(b, "packed_data", build_bytes(b, pj, false, &packed)));
        gz->packed = packed.u.p;
        gz->packed_len = packed.len;
    }
    if (uj) {
        MTP_GUARD(jseg_key(b, "unpacked", build(b, t, env, uj, &gz->inner, depth + 1)));
    }
    if (pj && uj) {
        /* Both given: they must agree, or the bytes would not say what the JSON does. */
        uint8_t *plain;
        size_t plain_len;
        int rc = inflate_all(gz->packed, gz->packed_len, &plain, &plain_len);
        if (rc < 0)
            return jseg_key(b, "packed_data", jfail(b, rc, "packed_data does not inflate"));
        struct mtp_error e;
        mtp_error_clear(&e);
        struct mtp_wr w;
        mtp_wr_init_dyn(&w, GZIP_CHECK_MAX, &e);
        rc = mtp_tl_encode(b->s, t->kind == MTP_TL_OBJECT ? NULL : t, &gz->inner, &w, &e);
        bool same = rc == MTP_OK && w.len == plain_len && memcmp(w.p, plain, plain_len) == 0;
        mtp_wr_free(&w);
        free(plain);
        if (rc < 0)
            return jseg_key(b, "unpacked", jfail(b, rc, "%s", e.msg));
        if (!same)
            return jfail(b, MTP_ERR_TL_GZIP, "packed_data does not inflate to the encoding of unpacked");
    }
    if (!uj) {
        /* Only the packed bytes: decode nothing, keep them as they are. */
        uint8_t *plain;
        size_t plain_len;
        int rc = inflate_all(gz->packed, gz->packed_len, &plain, &plain_len);
        if (rc < 0)
            return jseg_key(b, "packed_data", jfail(b, rc, "packed_data does not inflate"));
        struct mtp_error e;
        mtp_error_clear(&e);
        uint8_t *kept = mtp_tl_arena_memdup(b->a, plain, plain_len ? plain_len : 1);
        free(plain);
        if (kept == NULL)
            return jfail(b, MTP_ERR_NOMEM, "out of memory");
        rc = mtp_tl_decode(b->s, t->kind == MTP_TL_OBJECT ? NULL : t, kept, plain_len, NULL, b->a, &gz->inner, NULL,
                           &e);
        if (rc < 0)
            return jseg_key(b, "packed_data", jfail(b, rc, "%s", e.msg));
        gz->data = kept;
        gz->data_len = (uint32_t)plain_len;
    }
    out->kind = MTP_TL_V_GZIP;
    out->flags = packed.flags;
    out->u.gz = gz;
    return MTP_OK;
}

int mtp_tl_json_to_value(const struct mtp_tl_schema *s, const struct mtp_tl_tref *type, const json_t *j,
                         struct mtp_tl_arena *a, struct mtp_tl_value *out, struct mtp_error *err)
{
    struct jb b = {.s = s, .a = a};
    if (type == NULL)
        type = mtp_tl_builtin(MTP_TL_OBJECT);
    int rc = build(&b, type, NULL, j, out, 0);
    if (rc < 0) {
        char path[160];
        size_t n = (size_t)snprintf(path, sizeof path, "json");
        for (unsigned i = b.npath; i-- > 0 && n < sizeof path;) {
            if (b.path[i].is_index)
                n += (size_t)snprintf(path + n, sizeof path - n, "[%u]", b.path[i].index);
            else if (b.path[i].key)
                n += (size_t)snprintf(path + n, sizeof path - n, ".%s", b.path[i].key);
        }
        mtp_error_set(err, b.code != MTP_OK ? b.code : rc, MTP_NO_OFFSET, "%s: %s", path, b.msg);
    }
    return rc;
}

int mtp_tl_json_encode(const struct mtp_tl_schema *s, const struct mtp_tl_tref *type, const json_t *j,
                       struct mtp_wr *w, struct mtp_error *err)
{
    struct mtp_tl_arena a;
    mtp_tl_arena_init(&a, 0);
    struct mtp_tl_value v;
    int rc = mtp_tl_json_to_value(s, type, j, &a, &v, err);
    if (rc == MTP_OK)
        rc = mtp_tl_encode(s, type, &v, w, err);
    mtp_tl_arena_free(&a);
    return rc;
}
