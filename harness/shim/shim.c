#include "shim/shim.h"

#include <stdlib.h>
#include <string.h>

#include "mtp/hex.h"

#define MTP_REGISTRY_ENTRY(sym, name) extern const struct mtp_shim_op sym[];
#include "shim_ops.inc"
#undef MTP_REGISTRY_ENTRY

static const struct mtp_shim_op *const op_groups[] = {
#define MTP_REGISTRY_ENTRY(sym, name) sym,
#include "shim_ops.inc"
#undef MTP_REGISTRY_ENTRY
    NULL,
};

const struct mtp_shim_op *mtp_shim_find(const char *op)
{
    for (size_t g = 0; op_groups[g]; g++)
        for (const struct mtp_shim_op *o = op_groups[g]; o->name; o++)
            if (strcmp(o->name, op) == 0)
                return o;
    return NULL;
}

void mtp_shim_foreach(void (*fn)(const char *op, void *ctx), void *ctx)
{
    for (size_t g = 0; op_groups[g]; g++)
        for (const struct mtp_shim_op *o = op_groups[g]; o->name; o++)
            fn(o->name, ctx);
}

static json_t *answer_error(json_t *id, int code, const char *msg)
{
    return json_pack("{s:O, s:b, s:s, s:s}", "id", id, "ok", 0, "error", mtp_err_name(code), "message", msg);
}

json_t *mtp_shim_handle(const json_t *req)
{
    json_t *id = json_object_get(req, "id");
    if (id == NULL)
        id = json_null();
    if (!json_is_object(req))
        return answer_error(id, MTP_ERR_JSON, "request is not a JSON object");
    const char *opname = json_string_value(json_object_get(req, "op"));
    if (opname == NULL)
        return answer_error(id, MTP_ERR_ARG, "request has no string field 'op'");
    const struct mtp_shim_op *op = mtp_shim_find(opname);
    if (op == NULL) {
        char msg[160];
        snprintf(msg, sizeof msg, "op '%.100s' is not implemented by this shim", opname);
        return answer_error(id, MTP_ERR_UNSUPPORTED, msg);
    }
    json_t *ans = json_object();
    if (ans == NULL)
        return NULL;
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = op->run(req, ans, &err);
    if (rc < 0) {
        json_decref(ans);
        return answer_error(id, rc, err.msg[0] ? err.msg : mtp_err_text(rc));
    }
    json_t *out = json_pack("{s:O, s:b}", "id", id, "ok", 1);
    if (out == NULL || json_object_update(out, ans) != 0) {
        json_decref(out);
        out = answer_error(id, MTP_ERR_NOMEM, "cannot build the answer");
    }
    json_decref(ans);
    return out;
}

char *mtp_shim_handle_line(const char *line)
{
    json_error_t jerr;
    json_t *req = json_loads(line, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    json_t *ans;
    if (req == NULL) {
        char msg[300];
        snprintf(msg, sizeof msg, "request is not valid JSON: %s at column %d", jerr.text, jerr.column);
        ans = answer_error(json_null(), MTP_ERR_JSON, msg);
    } else {
        ans = mtp_shim_handle(req);
        json_decref(req);
    }
    if (ans == NULL)
        return NULL;
    char *s = json_dumps(ans, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ans);
    return s;
}

static json_t *get_arg(const json_t *req, const char *key) { return json_object_get(req, key); }

static int missing(struct mtp_error *err, const char *key, const char *what)
{
    return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "argument '%s' is missing or is not %s", key, what);
}

int mtp_shim_arg_hex(const json_t *req, const char *key, struct mtp_wr *out, struct mtp_error *err)
{
    json_t *v = get_arg(req, key);
    if (!json_is_string(v))
        return missing(err, key, "a hex string");
    return mtp_hex_decode(json_string_value(v), json_string_length(v), out, key);
}

int mtp_shim_arg_hex_opt(const json_t *req, const char *key, struct mtp_wr *out, bool *present,
                         struct mtp_error *err)
{
    json_t *v = get_arg(req, key);
    *present = !(v == NULL || json_is_null(v));
    return *present ? mtp_shim_arg_hex(req, key, out, err) : MTP_OK;
}

int mtp_shim_arg_hex_range(const json_t *req, const char *key, void *dst, size_t min, size_t max, size_t *len,
                           struct mtp_error *err)
{
    json_t *v = get_arg(req, key);
    if (!json_is_string(v))
        return missing(err, key, "a hex string");
    size_t n = json_string_length(v);
    if (n % 2 || n / 2 < min || n / 2 > max)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "argument '%s' must be %zu..%zu bytes, got %zu hex digits",
                             key, min, max, n);
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, dst, max, err);
    MTP_GUARD(mtp_hex_decode(json_string_value(v), n, &w, key));
    *len = w.len;
    return MTP_OK;
}

int mtp_shim_arg_hex_exact(const json_t *req, const char *key, void *dst, size_t n, struct mtp_error *err)
{
    size_t len;
    return mtp_shim_arg_hex_range(req, key, dst, n, n, &len, err);
}

int mtp_shim_arg_int(const json_t *req, const char *key, int64_t *v, struct mtp_error *err)
{
    json_t *j = get_arg(req, key);
    if (!json_is_integer(j))
        return missing(err, key, "an integer");
    *v = json_integer_value(j);
    return MTP_OK;
}

int mtp_shim_arg_int_opt(const json_t *req, const char *key, int64_t *v, bool *present, struct mtp_error *err)
{
    json_t *j = get_arg(req, key);
    *present = !(j == NULL || json_is_null(j));
    return *present ? mtp_shim_arg_int(req, key, v, err) : MTP_OK;
}

int mtp_shim_arg_bool(const json_t *req, const char *key, bool *v, struct mtp_error *err)
{
    json_t *j = get_arg(req, key);
    if (!json_is_boolean(j))
        return missing(err, key, "a boolean");
    *v = json_is_true(j);
    return MTP_OK;
}

int mtp_shim_arg_bool_opt(const json_t *req, const char *key, bool *v, bool *present, struct mtp_error *err)
{
    json_t *j = get_arg(req, key);
    *present = !(j == NULL || json_is_null(j));
    return *present ? mtp_shim_arg_bool(req, key, v, err) : MTP_OK;
}

int mtp_shim_arg_str(const json_t *req, const char *key, const char **v, struct mtp_error *err)
{
    json_t *j = get_arg(req, key);
    if (!json_is_string(j))
        return missing(err, key, "a string");
    *v = json_string_value(j);
    return MTP_OK;
}

int mtp_shim_arg_sender(const json_t *req, const char *key, int *is_server, struct mtp_error *err)
{
    const char *s = NULL;
    MTP_GUARD(mtp_shim_arg_str(req, key, &s, err));
    if (strcmp(s, "client") == 0)
        *is_server = 0;
    else if (strcmp(s, "server") == 0)
        *is_server = 1;
    else
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "argument '%s' must be \"client\" or \"server\", got \"%.40s\"",
                             key, s);
    return MTP_OK;
}

int mtp_shim_set_hex(json_t *ans, const char *key, const void *p, size_t n)
{
    char *hex = mtp_hex_alloc(p, n);
    if (hex == NULL)
        return MTP_ERR_NOMEM;
    int rc = json_object_set_new(ans, key, json_string(hex)) == 0 ? MTP_OK : MTP_ERR_NOMEM;
    free(hex);
    return rc;
}
