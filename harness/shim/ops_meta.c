/* Ops about the shim itself. */
#include "shim/shim.h"

struct list_ctx {
    json_t *arr;
};

static void add_op(const char *op, void *ctx) { json_array_append_new(((struct list_ctx *)ctx)->arr, json_string(op)); }

static int op_hello(const json_t *req, json_t *ans, struct mtp_error *err)
{
    (void)req;
    (void)err;
    struct list_ctx ctx = {json_array()};
    json_t *features = json_array();
    if (ctx.arr == NULL || features == NULL) {
        json_decref(ctx.arr);
        json_decref(features);
        return MTP_ERR_NOMEM;
    }
    mtp_shim_foreach(add_op, &ctx);
    for (const struct mtp_shim_feature *f = mtp_shim_features; f->name; f++)
        json_array_append_new(features, json_string(f->name));
    json_object_set_new(ans, "implementation", json_string("mtprobe reference " MTPROBE_VERSION));
    json_object_set_new(ans, "protocol", json_integer(MTP_SHIM_PROTOCOL_VERSION));
    json_object_set_new(ans, "ops", ctx.arr);
    json_object_set_new(ans, "features", features);
    return MTP_OK;
}

const struct mtp_shim_op mtp_shim_ops_meta[] = {
    {"hello", op_hello},
    {NULL, NULL},
};
