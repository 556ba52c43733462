#include "mtps_api.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtps_util.h"
#include "tlengine/tl_files.h"
#include "tlengine/tl_json.h"

#define FIT_MAX_DEPTH 24
#define TEMPLATE_MAX_BYTES (1u << 20)

/* Wrappers a client puts around its first queries; the method is in "query". */
static const char *const wrappers[] = {
    "invokeWithLayer", "initConnection",  "invokeWithoutUpdates", "invokeAfterMsg",
    "invokeAfterMsgs", "invokeWithTakeout", "invokeWithMessagesRange",
};

static bool is_wrapper(const char *name)
{
    for (size_t i = 0; i < sizeof wrappers / sizeof wrappers[0]; i++)
        if (strcmp(wrappers[i], name) == 0)
            return true;
    return false;
}

/* The "LAYER N" a schema file declares in a comment (0 when none). */
static int32_t schema_layer(const char *path)
{
    struct mtp_error e;
    mtp_error_clear(&e);
    size_t len;
    char *text = mtps_read_file(path, 16u << 20, &len, &e);
    if (text == NULL)
        return 0;
    int32_t layer = 0;
    for (const char *p = strstr(text, "LAYER"); p && layer == 0; p = strstr(p + 5, "LAYER")) {
        const char *line = p;
        while (line > text && line[-1] != '\n')
            line--;
        if (strncmp(line, "//", 2) != 0)
            continue;
        const char *q = p + 5;
        while (*q == ' ' || *q == '=' || *q == ':')
            q++;
        long v = strtol(q, NULL, 10);
        if (v > 0 && v < 100000)
            layer = (int32_t)v;
    }
    free(text);
    return layer;
}

const struct mtp_tl_schema *mtps_api_schema(const struct mtps_api *api, int32_t layer)
{
    size_t best = SIZE_MAX, lowest = 0;
    for (size_t i = 0; i < api->nschemas; i++) {
        if (api->layers[i] <= layer && (best == SIZE_MAX || api->layers[i] > api->layers[best]))
            best = i;
        if (api->layers[i] < api->layers[lowest])
            lowest = i;
    }
    return api->schemas[best == SIZE_MAX ? lowest : best];
}

const struct mtp_tl_schema *mtps_api_log_schema(const struct mtps_api *api)
{
    return mtps_api_schema(api, INT32_MAX);
}

/* --- placeholders --- */

static json_t *placeholder(const char *s, const struct mtps_api_env *env, int32_t layer)
{
    size_t n = strlen(s);
    if (n < 4 || s[0] != '$' || s[1] != '{' || s[n - 1] != '}')
        return NULL;
    char name[48];
    if (n - 3 >= sizeof name)
        return NULL;
    memcpy(name, s + 2, n - 3);
    name[n - 3] = '\0';
    const struct mtps_dc_addr *me = NULL;
    for (size_t i = 0; i < env->ndcs; i++)
        if (env->dcs[i].id == env->this_dc)
            me = &env->dcs[i];
    if (strcmp(name, "dc") == 0)
        return json_integer(env->this_dc);
    if (strcmp(name, "ip") == 0)
        return json_string(me ? me->ip : "127.0.0.1");
    if (strcmp(name, "port") == 0)
        return json_integer(me ? me->port : 0);
    if (strcmp(name, "layer") == 0)
        return json_integer(layer);
    if (strncmp(name, "now", 3) == 0) {
        long long off = 0;
        if (name[3] == '+' || name[3] == '-') {
            char *end;
            off = strtoll(name + 3, &end, 10);
            if (*end)
                return NULL;
        } else if (name[3]) {
            return NULL;
        }
        return json_integer((json_int_t)(env->now_s + off));
    }
    if (strcmp(name, "dc_options") == 0) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < env->ndcs; i++) {
            json_t *o = json_pack("{s:s, s:i, s:s, s:i}", "_", "dcOption", "id", (int)env->dcs[i].id, "ip_address",
                                  env->dcs[i].ip, "port", (int)env->dcs[i].port);
            if (o == NULL || json_array_append_new(a, o) < 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    return NULL;
}

json_t *mtps_api_fill(const json_t *t, const struct mtps_api_env *env, int32_t layer)
{
    if (json_is_string(t)) {
        json_t *v = placeholder(json_string_value(t), env, layer);
        return v ? v : json_deep_copy(t);
    }
    if (json_is_array(t)) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < json_array_size(t); i++) {
            json_t *v = mtps_api_fill(json_array_get(t, i), env, layer);
            if (v == NULL || json_array_append_new(a, v) < 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    if (json_is_object(t)) {
        json_t *o = json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)t, k, v)
        {
            json_t *f = mtps_api_fill(v, env, layer);
            if (o == NULL || f == NULL || json_object_set_new(o, k, f) < 0) {
                json_decref(f);
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    return json_deep_copy(t);
}

/* --- fitting a template to a schema --- */

static json_t *fit(const struct mtp_tl_schema *s, const struct mtp_tl_tref *t, const json_t *j, unsigned depth,
                   struct mtp_error *err);

static json_t *zero_hex(size_t n)
{
    char buf[65];
    memset(buf, '0', 2 * n);
    buf[2 * n] = '\0';
    return json_string(buf);
}

/* The constructor with the fewest unconditional fields: the cheapest zero value. */
static const struct mtp_tl_combinator *simplest(const struct mtp_tl_type *type)
{
    const struct mtp_tl_combinator *best = NULL;
    unsigned best_n = UINT32_MAX;
    for (uint32_t i = 0; i < type->nctors; i++) {
        const struct mtp_tl_combinator *c = type->ctors[i];
        unsigned n = 0;
        for (unsigned a = 0; a < c->nargs; a++)
            if (c->args[a].cond_arg < 0)
                n++;
        if (n < best_n) {
            best = c;
            best_n = n;
        }
    }
    return best;
}

static json_t *fit_object(const struct mtp_tl_schema *s, const struct mtp_tl_combinator *c, const json_t *j,
                          bool boxed, unsigned depth, struct mtp_error *err)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    if (boxed && c->name && json_object_set_new(o, "_", json_string(c->name)) < 0)
        goto fail;
    for (unsigned i = 0; i < c->nargs; i++) {
        const struct mtp_tl_arg *a = &c->args[i];
        if (a->name == NULL || a->is_flags)
            continue; /* flags are computed from the fields present */
        const json_t *v = json_is_object(j) ? json_object_get(j, a->name) : NULL;
        if (v && json_is_null(v))
            v = NULL;
        json_t *f;
        if (a->cond_arg >= 0) {
            if (v == NULL || (a->type->kind == MTP_TL_TRUE && !json_is_true(v)))
                continue;
            f = a->type->kind == MTP_TL_TRUE ? json_true() : fit(s, a->type, v, depth + 1, err);
        } else {
            f = fit(s, a->type, v, depth + 1, err);
        }
        if (f == NULL || json_object_set_new(o, a->name, f) < 0)
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

static json_t *fit(const struct mtp_tl_schema *s, const struct mtp_tl_tref *t, const json_t *j, unsigned depth,
                   struct mtp_error *err)
{
    if (depth > FIT_MAX_DEPTH) {
        mtp_error_set(err, MTP_ERR_SRV_TEMPLATE, MTP_NO_OFFSET, "template: nested deeper than %d", FIT_MAX_DEPTH);
        return NULL;
    }
    /* Present values are kept as written (the encoder reports a value of the
     * wrong kind, naming the field); only missing ones get zero values. */
    if (j != NULL && t->kind != MTP_TL_VECTOR && t->kind != MTP_TL_BARE_VECTOR && t->kind != MTP_TL_BOXED &&
        t->kind != MTP_TL_BARE)
        return json_deep_copy(j);
    switch (t->kind) {
    case MTP_TL_INT:
    case MTP_TL_NAT:
        return json_integer(0);
    case MTP_TL_LONG:
        return json_string("0");
    case MTP_TL_DOUBLE:
        return json_real(0.0);
    case MTP_TL_INT128:
        return zero_hex(16);
    case MTP_TL_INT256:
        return zero_hex(32);
    case MTP_TL_BYTES:
    case MTP_TL_STRING:
        return json_string("");
    case MTP_TL_BOOL:
        return json_false();
    case MTP_TL_TRUE:
        return json_true();
    case MTP_TL_VECTOR:
    case MTP_TL_BARE_VECTOR: {
        if (j != NULL && !json_is_array(j))
            return json_deep_copy(j);
        json_t *a = json_array();
        for (size_t i = 0; a && j && i < json_array_size(j); i++) {
            json_t *v = fit(s, t->args[0], json_array_get(j, i), depth + 1, err);
            if (v == NULL || json_array_append_new(a, v) < 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case MTP_TL_BOXED: {
        if (j != NULL && !json_is_object(j))
            return json_deep_copy(j);
        const json_t *n = json_is_object(j) ? json_object_get(j, "_") : NULL;
        const struct mtp_tl_combinator *c = json_is_string(n) ? mtp_tl_type_ctor(t->type, json_string_value(n)) : NULL;
        /* A constructor this schema's type lacks (another layer): its zero value instead. */
        const json_t *src = c ? j : NULL;
        if (c == NULL)
            c = simplest(t->type);
        if (c == NULL) {
            mtp_error_set(err, MTP_ERR_SRV_TEMPLATE, MTP_NO_OFFSET, "template: type %s has no constructor",
                          t->type->name);
            return NULL;
        }
        return fit_object(s, c, src, true, depth, err);
    }
    case MTP_TL_BARE:
        if (j != NULL && !json_is_object(j))
            return json_deep_copy(j);
        return fit_object(s, t->ctor, j, false, depth, err);
    default:
        /* Object, type variables, repetitions: as written. */
        return j ? json_deep_copy(j) : json_null();
    }
}

json_t *mtps_api_fit(const struct mtp_tl_schema *s, const struct mtp_tl_tref *type, const json_t *j,
                     struct mtp_error *err)
{
    json_t *r = fit(s, type, j, 0, err);
    if (r == NULL && err && err->code == MTP_OK)
        mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "template: out of memory");
    return r;
}

/* --- loading --- */

static int load_templates(struct mtps_api *api, const char *dir, struct mtp_error *err)
{
    api->templates = json_object();
    if (api->templates == NULL)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "templates: out of memory");
    DIR *d = opendir(dir);
    if (d == NULL)
        return mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "%s: %s", dir, strerror(errno));
    int rc = MTP_OK;
    struct dirent *e;
    while (rc == MTP_OK && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= 5 || strcmp(e->d_name + n - 5, ".json") != 0 || e->d_name[0] == '.')
            continue;
        char path[8192], method[MTPS_METHOD_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path) {
            rc = mtp_error_set(err, MTP_ERR_SRV_TEMPLATE, MTP_NO_OFFSET, "%s: path too long", dir);
            break;
        }
        if (n - 5 >= sizeof method) {
            rc = mtp_error_set(err, MTP_ERR_SRV_TEMPLATE, MTP_NO_OFFSET, "%s: method name too long", path);
            break;
        }
        memcpy(method, e->d_name, n - 5);
        method[n - 5] = '\0';
        json_error_t je;
        json_t *t = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
        if (t == NULL) {
            rc = mtp_error_set(err, MTP_ERR_SRV_TEMPLATE, MTP_NO_OFFSET, "%s:%d:%d: %s", path, je.line, je.column,
                               je.text);
            break;
        }
        if (json_object_set_new(api->templates, method, t) < 0)
            rc = mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "templates: out of memory");
    }
    closedir(d);
    return rc;
}

/* Encodes every template against every schema once, so that a broken
 * template stops the server at start, not at a client's first request. */
static int check_templates(const struct mtps_api *api, const char *dir, struct mtp_error *err)
{
    struct mtps_dc_addr dc = {.id = 2, .ip = "127.0.0.1", .port = 443};
    struct mtps_api_env env = {.this_dc = 2, .dcs = &dc, .ndcs = 1, .now_s = 1700000000};
    const char *method;
    json_t *t;
    json_object_foreach(api->templates, method, t)
    {
        bool known = false;
        for (size_t i = 0; i < api->nschemas; i++) {
            const struct mtp_tl_combinator *c = mtp_tl_find_name(api->schemas[i], method);
            if (c == NULL || !c->is_function)
                continue;
            known = true;
            struct mtp_wr w;
            mtp_wr_init_dyn(&w, 1u << 20, err);
            json_t *filled = mtps_api_fill(t, &env, api->layers[i]);
            json_t *fitted = filled ? mtps_api_fit(api->schemas[i], c->result, filled, err) : NULL;
            int rc = fitted ? mtp_tl_json_encode(api->schemas[i], c->result, fitted, &w, err) : MTP_ERR_NOMEM;
            json_decref(filled);
            json_decref(fitted);
            mtp_wr_free(&w);
            if (rc < 0) {
                mtp_error_prefix(err, "%s/%s.json (layer %d)", dir, method, (int)api->layers[i]);
                return err && err->code ? err->code : rc;
            }
        }
        if (!known)
            return mtp_error_set(err, MTP_ERR_SRV_TEMPLATE, MTP_NO_OFFSET,
                                 "%s/%s.json: no loaded schema has a method of that name", dir, method);
    }
    return MTP_OK;
}

/* The default schemas: the bundled api.tl, then the .tl files of mock-server/schemas (older layers). */
static int default_schemas(char paths[][4096], size_t cap, size_t *n)
{
    char dirbuf[4096], dir[4200];
    *n = 0;
    snprintf(paths[(*n)++], 4096, "%s/api.tl", mtp_tl_schema_dir(dirbuf, sizeof dirbuf));
    snprintf(dir, sizeof dir, "%s/mock-server/schemas", mtps_source_dir());
    struct dirent **list = NULL;
    int k = scandir(dir, &list, NULL, alphasort);
    for (int i = 0; i < k; i++) {
        size_t len = strlen(list[i]->d_name);
        if (len > 3 && strcmp(list[i]->d_name + len - 3, ".tl") == 0 && *n < cap &&
            (size_t)snprintf(paths[*n], 4096, "%s/%s", dir, list[i]->d_name) < 4096)
            (*n)++;
        free(list[i]);
    }
    free(list);
    return MTP_OK;
}

int mtps_api_init(struct mtps_api *api, const char *const *schema_paths, size_t n, const char *templates_dir,
                  const struct mtps_api_behaviour *beh, struct mtp_error *err)
{
    memset(api, 0, sizeof *api);
    api->beh = *beh;
    if (n > MTPS_API_MAX_SCHEMAS)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "at most %d API schemas", MTPS_API_MAX_SCHEMAS);
    int rc = MTP_OK;
    char(*defaults)[4096] = NULL;
    if (n == 0) {
        defaults = malloc(MTPS_API_MAX_SCHEMAS * sizeof *defaults);
        if (defaults == NULL)
            return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "out of memory");
        MTP_TRY(default_schemas(defaults, MTPS_API_MAX_SCHEMAS, &n));
    }
    for (size_t i = 0; i < n; i++) {
        const char *path = defaults ? defaults[i] : schema_paths[i];
        const char *names[2] = {path, "mtproto"};
        MTP_TRY(mtp_tl_schema_load(names, 2, &api->schemas[i], err));
        api->nschemas = i + 1;
        api->layers[i] = schema_layer(path);
    }
    char tdir[4096];
    if (templates_dir)
        snprintf(tdir, sizeof tdir, "%s", templates_dir);
    else
        snprintf(tdir, sizeof tdir, "%s/mock-server/templates", mtps_source_dir());
    MTP_TRY(load_templates(api, tdir, err));
    MTP_TRY(check_templates(api, tdir, err));
    free(defaults);
    return MTP_OK;
out:
    free(defaults);
    mtps_api_free(api);
    return rc;
}

void mtps_api_free(struct mtps_api *api)
{
    for (size_t i = 0; i < api->nschemas; i++)
        mtp_tl_schema_free(api->schemas[i]);
    api->nschemas = 0;
    if (api->templates)
        json_decref(api->templates);
    api->templates = NULL;
}

/* --- queries --- */

#define ID_INVOKE_WITH_LAYER 0xda9b0d0du

void mtps_api_parse(const struct mtps_api *api, int32_t session_layer, const uint8_t *body, size_t len,
                    struct mtps_rpc *rpc)
{
    memset(rpc, 0, sizeof *rpc);
    mtp_error_clear(&rpc->err);
    rpc->layer = session_layer;
    if (len >= 8 && mtp_load_u32(body) == ID_INVOKE_WITH_LAYER)
        rpc->layer = (int32_t)mtp_load_u32(body + 4);
    rpc->schema = mtps_api_schema(api, rpc->layer);
    mtp_tl_arena_init(&rpc->arena, mtp_tl_decode_budget(len));
    uint32_t id = len >= 4 ? mtp_load_u32(body) : 0;
    snprintf(rpc->method, sizeof rpc->method, "#%08" PRIx32, id);
    struct mtp_tl_value *v = mtp_tl_arena_alloc(&rpc->arena, sizeof *v);
    struct mtp_tl_decode_opts o = {.max_gzip = 1u << 20};
    if (v == NULL) {
        mtp_error_set(&rpc->err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "out of memory");
        return;
    }
    if (mtp_tl_decode(rpc->schema, NULL, body, len, &o, &rpc->arena, v, NULL, &rpc->err) < 0)
        return;
    const struct mtp_tl_object *obj = mtp_tl_value_object(v);
    while (obj && obj->ctor->name && is_wrapper(obj->ctor->name)) {
        const struct mtp_tl_value *q = mtp_tl_obj_get(obj, "query");
        if (q == NULL)
            break;
        v = (struct mtp_tl_value *)q;
        obj = mtp_tl_value_object(v);
    }
    if (obj == NULL) {
        mtp_error_set(&rpc->err, MTP_ERR_TL_TYPE, MTP_NO_OFFSET, "the query is not an object");
        return;
    }
    rpc->call = v;
    rpc->decoded = true;
    snprintf(rpc->method, sizeof rpc->method, "%s", obj->ctor->name ? obj->ctor->name : "?");
}

void mtps_rpc_free(struct mtps_rpc *rpc) { mtp_tl_arena_free(&rpc->arena); }

static void set_error(struct mtps_answer *ans, int32_t code, const char *msg)
{
    ans->error = true;
    ans->code = code;
    snprintf(ans->message, sizeof ans->message, "%s", msg);
}

int mtps_api_answer(const struct mtps_api *api, const struct mtps_rpc *rpc, const struct mtps_api_env *env,
                    struct mtp_wr *result, struct mtps_answer *ans, struct mtp_error *err)
{
    return mtps_api_answer_with(api, rpc, env, NULL, result, ans, err);
}

int mtps_api_answer_with(const struct mtps_api *api, const struct mtps_rpc *rpc, const struct mtps_api_env *env,
                         const json_t *overrides, struct mtp_wr *result, struct mtps_answer *ans,
                         struct mtp_error *err)
{
    memset(ans, 0, sizeof *ans);
    if (!rpc->decoded) {
        bool unknown = rpc->err.code == MTP_ERR_TL_BAD_CTOR || rpc->err.code == MTP_ERR_TL_UNKNOWN_TYPE;
        set_error(ans, 400, unknown ? "INPUT_METHOD_INVALID" : "INPUT_FETCH_ERROR");
        return MTP_OK;
    }
    const struct mtp_tl_object *obj = mtp_tl_value_object(rpc->call);
    if (!obj->ctor->is_function) {
        set_error(ans, 400, "INPUT_METHOD_INVALID");
        return MTP_OK;
    }
    const json_t *t = json_object_get(api->templates, rpc->method);
    if (t == NULL) {
        set_error(ans, api->beh.unknown_method_code, api->beh.unknown_method_message);
        return MTP_OK;
    }
    json_t *filled = mtps_api_fill(t, env, rpc->layer);
    if (filled && overrides && json_object_update(filled, (json_t *)overrides) < 0) {
        json_decref(filled);
        filled = NULL;
    }
    json_t *fitted = filled ? mtps_api_fit(rpc->schema, obj->ctor->result, filled, err) : NULL;
    size_t mark = result->len;
    int rc = fitted ? mtp_tl_json_encode(rpc->schema, obj->ctor->result, fitted, result, err) : MTP_ERR_NOMEM;
    json_decref(filled);
    json_decref(fitted);
    if (rc < 0) {
        result->len = mark;
        result->failed = false;
        set_error(ans, 500, "MOCK_TEMPLATE_FAILED");
        return err && err->code ? err->code : rc;
    }
    return MTP_OK;
}
