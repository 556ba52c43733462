/* Shim ops over the TL engine (docs/tl-json.md):
 *   tl_decode {schema, data, type?, result_type?, strict?, max_gzip?} -> {json}
 *   tl_encode {schema, json, type?}                        -> {data}
 * `schema` is "mtproto" (default), "api" (API + MTProto), a file path, or a
 * list of these.  Schemas are loaded per request: no state between requests
 * (mtproto.tl loads in well under a millisecond, api.tl in a few). */
#include <stdlib.h>

#include "mtp/tl_value.h"
#include "shim/shim.h"
#include "tlengine/tl_files.h"
#include "tlengine/tl_json.h"

#define TL_DATA_MAX (64u << 20)
#define TL_SCHEMAS_MAX 8

static int load(const json_t *req, struct mtp_tl_schema **s, struct mtp_error *err)
{
    const json_t *j = json_object_get(req, "schema");
    const char *names[TL_SCHEMAS_MAX];
    size_t n = 0;
    if (j == NULL || json_is_null(j)) {
        names[n++] = "mtproto";
    } else if (json_is_string(j)) {
        names[n++] = json_string_value(j);
    } else if (json_is_array(j) && json_array_size(j) > 0 && json_array_size(j) <= TL_SCHEMAS_MAX) {
        for (size_t i = 0; i < json_array_size(j); i++) {
            const json_t *e = json_array_get(j, i);
            if (!json_is_string(e))
                return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "schema[%zu]: expected a name or path", i);
            names[n++] = json_string_value(e);
        }
    } else {
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET,
                             "schema: expected \"mtproto\", \"api\", a path, or a list of up to %d of them",
                             TL_SCHEMAS_MAX);
    }
    return mtp_tl_schema_load(names, n, s, err);
}

static int type_arg(const json_t *req, const char *key, const struct mtp_tl_schema *s, struct mtp_tl_arena *a,
                    const struct mtp_tl_tref **out, struct mtp_error *err)
{
    *out = NULL;
    const json_t *j = json_object_get(req, key);
    if (j == NULL || json_is_null(j))
        return MTP_OK;
    if (!json_is_string(j))
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "%s: expected a type such as \"ResPQ\"", key);
    return mtp_tl_type_parse(s, json_string_value(j), a, out, err);
}

static int op_tl_decode(const json_t *req, json_t *ans, struct mtp_error *err)
{
    struct mtp_tl_schema *s = NULL;
    struct mtp_tl_arena a;
    struct mtp_wr data;
    mtp_tl_arena_init(&a, 0);
    mtp_wr_init_dyn(&data, TL_DATA_MAX, err);
    int rc = MTP_OK;
    bool strict = false, present;
    struct mtp_tl_decode_opts o = {0};
    MTP_TRY(mtp_shim_arg_hex(req, "data", &data, err));
    MTP_TRY(mtp_shim_arg_bool_opt(req, "strict", &strict, &present, err));
    int64_t max_gzip = 0;
    MTP_TRY(mtp_shim_arg_int_opt(req, "max_gzip", &max_gzip, &present, err));
    if (present && (max_gzip < 1 || max_gzip > (int64_t)MTP_TL_DEFAULT_GZIP * 16)) {
        rc = mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "max_gzip: expected 1..%u bytes",
                           MTP_TL_DEFAULT_GZIP * 16);
        goto out;
    }
    o.max_gzip = (size_t)max_gzip;
    MTP_TRY(load(req, &s, err));
    MTP_TRY(type_arg(req, "result_type", s, &a, &o.rpc_result_type, err));
    const struct mtp_tl_tref *type;
    MTP_TRY(type_arg(req, "type", s, &a, &type, err));
    o.strict = strict;
    a.limit = mtp_tl_decode_budget(data.len);
    struct mtp_tl_value v;
    MTP_TRY(mtp_tl_decode(s, type, data.p, data.len, &o, &a, &v, NULL, err));
    json_t *j = mtp_tl_json_from_value(&v);
    if (j == NULL || json_object_set_new(ans, "json", j) != 0) {
        rc = mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "out of memory building the answer");
        goto out;
    }
out:
    mtp_tl_arena_free(&a);
    mtp_tl_schema_free(s);
    mtp_wr_free(&data);
    return rc;
}

static int op_tl_encode(const json_t *req, json_t *ans, struct mtp_error *err)
{
    struct mtp_tl_schema *s = NULL;
    struct mtp_tl_arena a;
    struct mtp_wr out;
    mtp_tl_arena_init(&a, 0);
    mtp_wr_init_dyn(&out, TL_DATA_MAX, err);
    int rc = MTP_OK;
    const json_t *j = json_object_get(req, "json");
    if (j == NULL) {
        rc = mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "missing argument 'json'");
        goto out;
    }
    MTP_TRY(load(req, &s, err));
    const struct mtp_tl_tref *type;
    MTP_TRY(type_arg(req, "type", s, &a, &type, err));
    MTP_TRY(mtp_tl_json_encode(s, type, j, &out, err));
    if (mtp_shim_set_hex(ans, "data", out.p, out.len) < 0)
        rc = mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "out of memory building the answer");
out:
    mtp_tl_arena_free(&a);
    mtp_tl_schema_free(s);
    mtp_wr_free(&out);
    return rc;
}

const struct mtp_shim_op mtp_shim_ops_tl[] = {
    {"tl_decode", op_tl_decode},
    {"tl_encode", op_tl_encode},
    {NULL, NULL},
};
