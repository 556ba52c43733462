/* --call: JSON -> TL request (wrapped for the API), TL answer -> JSON. */
#include "client/mtpc_call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/buf.h"
#include "tlengine/tl_json.h"

#ifndef MTPROBE_VERSION
#define MTPROBE_VERSION "0"
#endif

#define CALL_MAX_BYTES ((size_t)1 << 20)
#define ANSWER_MAX_GZIP ((size_t)16 << 20)

void mtpc_call_opts_init(struct mtpc_call_opts *o)
{
    memset(o, 0, sizeof *o);
    o->api_id = 1;
    o->device_model = "mtprobe";
    o->system_version = "mtprobe";
    o->app_version = MTPROBE_VERSION;
    o->lang_code = "en";
}

/* An API method: a function declared in the schema text that also declares
 * invokeWithLayer (the MTProto service schema declares neither). */
static bool is_api_method(const struct mtp_tl_schema *s, const struct mtp_tl_combinator *c)
{
    const struct mtp_tl_combinator *iwl = mtp_tl_find_name(s, "invokeWithLayer");
    return iwl != NULL && c != NULL && c->is_function && c->schema == iwl->schema;
}

static json_t *wrap(json_t *query, const struct mtpc_call_opts *o)
{
    json_t *init = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "_", "initConnection", "api_id",
                             (json_int_t)o->api_id, "device_model", o->device_model, "system_version",
                             o->system_version, "app_version", o->app_version, "system_lang_code", o->lang_code,
                             "lang_pack", "", "lang_code", o->lang_code, "query", query);
    if (init == NULL)
        return NULL;
    return json_pack("{s:s, s:i, s:o}", "_", "invokeWithLayer", "layer", (json_int_t)o->layer, "query", init);
}

int mtpc_call_build(struct mtpc_call *call, const struct mtp_tl_schema *s, const char *text,
                    const struct mtpc_call_opts *o, struct mtp_error *err)
{
    memset(call, 0, sizeof *call);
    mtp_tl_arena_init(&call->arena, 0);
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL)
        return mtp_error_set(err, MTP_ERR_JSON, (size_t)jerr.position, "--call: %s at line %d column %d", jerr.text,
                             jerr.line, jerr.column);
    const char *name = json_string_value(json_object_get(j, "_"));
    if (!json_is_object(j) || name == NULL) {
        json_decref(j);
        return mtp_error_set(err, MTP_ERR_JSON, MTP_NO_OFFSET,
                             "--call: expected an object with a \"_\" naming the method");
    }
    snprintf(call->method, sizeof call->method, "%s", name);
    const struct mtp_tl_combinator *c = mtp_tl_find_name(s, name);
    if (!o->raw && strcmp(name, "invokeWithLayer") != 0 && is_api_method(s, c)) {
        if (o->layer <= 0) {
            int rc = mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET,
                                   "--call: %s is an API method, and wrapping it in invokeWithLayer needs a layer "
                                   "(the schema declares none: give --layer)",
                                   name);
            json_decref(j); /* name points into it */
            return rc;
        }
        json_t *w = wrap(j, o);
        json_decref(j);
        if (w == NULL)
            return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "--call: no memory");
        j = w;
        call->wrapped = true;
    }
    call->json = j;
    int rc = mtp_tl_json_to_value(s, NULL, j, &call->arena, &call->value, err);
    /* Service messages that are answered but are not functions in the schema
     * (msgs_state_req, msg_resend_req): their answer is decoded by its
     * constructor. */
    const struct mtp_tl_object *obj = rc == MTP_OK ? mtp_tl_value_object(&call->value) : NULL;
    if (rc == MTP_OK && obj != NULL && !obj->ctor->is_function)
        call->result_type = NULL;
    else if (rc == MTP_OK)
        rc = mtp_tl_result_type(s, &call->value, &call->result_type, err);
    if (rc < 0) {
        mtp_error_prefix(err, "--call");
        mtpc_call_free(call);
        return rc;
    }
    struct mtp_wr w;
    mtp_wr_init_dyn(&w, CALL_MAX_BYTES, err);
    rc = mtp_tl_encode(s, NULL, &call->value, &w, err);
    if (rc < 0) {
        mtp_error_prefix(err, "--call");
        mtp_wr_free(&w);
        mtpc_call_free(call);
        return rc;
    }
    call->bytes = mtp_wr_take(&w, &call->len);
    return MTP_OK;
}

void mtpc_call_free(struct mtpc_call *call)
{
    json_decref(call->json);
    mtp_tl_arena_free(&call->arena);
    free(call->bytes);
    memset(call, 0, sizeof *call);
}

int mtpc_call_answer_json(const struct mtpc_call *call, const struct mtp_tl_schema *s, const uint8_t *p, size_t len,
                          json_t **out, struct mtp_error *err)
{
    *out = NULL;
    struct mtp_tl_arena a;
    mtp_tl_arena_init(&a, mtp_tl_decode_budget(len));
    struct mtp_tl_decode_opts opts = {.max_gzip = ANSWER_MAX_GZIP};
    struct mtp_tl_value v;
    int rc = mtp_tl_decode(s, call->result_type, p, len, &opts, &a, &v, NULL, err);
    if (rc == MTP_OK) {
        *out = mtp_tl_json_from_value(&v);
        if (*out == NULL)
            rc = mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "answer: no memory for its JSON");
        mtp_tl_arena_free(&a);
        return rc;
    }
    /* Not the promised type: show what it is, if anything. */
    char why[MTP_ERROR_MSG_MAX];
    snprintf(why, sizeof why, "%s", err && err->msg[0] ? err->msg : mtp_err_text(rc));
    mtp_tl_arena_reset(&a);
    struct mtp_error other;
    mtp_error_clear(&other);
    if (mtp_tl_decode(s, NULL, p, len, &opts, &a, &v, NULL, &other) == MTP_OK)
        *out = mtp_tl_json_from_value(&v);
    mtp_tl_arena_free(&a);
    if (err)
        mtp_error_clear(err);
    return mtp_error_set(err, MTP_ERR_CLIENT_BAD_ANSWER, MTP_NO_OFFSET,
                         "the answer to %s (%zu bytes) is not what it returns: %s", call->method, len, why);
}

json_t *mtpc_rpc_error_json(int32_t code, const uint8_t *message, size_t len)
{
    if (len > UINT32_MAX)
        return NULL;
    struct mtp_tl_value v = {.kind = MTP_TL_V_STRING, .len = (uint32_t)len};
    v.u.p = len > 0 ? message : (const uint8_t *)"";
    json_t *msg = mtp_tl_json_from_value(&v);
    if (msg == NULL)
        return NULL;
    return json_pack("{s:s, s:i, s:o}", "_", "rpc_error", "error_code", (json_int_t)code, "error_message", msg);
}

int32_t mtpc_schema_layer(const char *text, size_t len)
{
    static const char word[] = "LAYER";
    struct mtp_rd r;
    mtp_rd_init(&r, text, len, NULL);
    while (mtp_rd_left(&r) > sizeof word - 1) {
        if (memcmp(mtp_rd_cur(&r), word, sizeof word - 1) != 0) {
            if (mtp_rd_skip(&r, 1, "schema") < 0)
                break;
            continue;
        }
        if (mtp_rd_skip(&r, sizeof word - 1, "LAYER") < 0)
            break;
        uint8_t ch = 0;
        while (mtp_rd_u8(&r, &ch, "LAYER") == MTP_OK && (ch == ' ' || ch == '\t'))
            ;
        int64_t v = 0;
        int digits = 0;
        while (ch >= '0' && ch <= '9' && digits < 9) {
            v = v * 10 + (ch - '0');
            digits++;
            if (mtp_rd_u8(&r, &ch, "LAYER") < 0)
                break;
        }
        if (digits > 0 && digits < 9 && v > 0)
            return (int32_t)v;
    }
    return 0;
}
