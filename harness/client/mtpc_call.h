/* The request `mtprobe client --call JSON` sends, and its answer as JSON.
 *
 * The call is written in the TL JSON mapping (harness/tlengine/tl_json.h,
 * e.g. {"_": "help.getNearestDc"}) and encoded through the schema engine.
 * An API method (a function of the schema that declares invokeWithLayer) is
 * sent the way deployed clients send their first request:
 *   invokeWithLayer(layer, initConnection(api_id, device_model, ..., query))
 * unless it already is an invokeWithLayer, or raw is asked for.  Service
 * functions of the MTProto schema (ping, get_future_salts, ...) go as they
 * are.  The answer is decoded as the type the request returns, looking
 * through the wrappers. */
#ifndef MTPC_CALL_H
#define MTPC_CALL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/err.h"
#include "mtp/tl_schema.h"
#include "mtp/tl_value.h"

struct mtpc_call_opts {
    bool raw;                   /* send the JSON as it is, never wrapped */
    int32_t layer;              /* invokeWithLayer's layer (required for wrapping) */
    int32_t api_id;             /* initConnection fields */
    const char *device_model;
    const char *system_version;
    const char *app_version;
    const char *lang_code;      /* also system_lang_code */
};

/* Defaults: api_id 1, "mtprobe", the system "mtprobe", the tool's version, "en". */
void mtpc_call_opts_init(struct mtpc_call_opts *o);

struct mtpc_call {
    json_t *json;               /* what is sent, wrappers included */
    struct mtp_tl_arena arena;
    struct mtp_tl_value value;  /* json as a TL value (borrows from json) */
    const struct mtp_tl_tref *result_type; /* NULL: not a function, answers decode by constructor */
    char method[128];           /* the constructor name of the call inside the wrappers */
    bool wrapped;
    uint8_t *bytes;             /* the encoded request */
    size_t len;
};

/* Parses text as JSON, wraps it when it is an API method (see above) and
 * encodes it.  Errors: MTP_ERR_JSON (not JSON), MTP_ERR_ARG (wrapping needs a
 * layer > 0), and the TL JSON mapping's codes (unknown constructor or field,
 * wrong kinds), each naming the JSON path. */
MTP_MUST_USE int mtpc_call_build(struct mtpc_call *call, const struct mtp_tl_schema *s, const char *text,
                                 const struct mtpc_call_opts *o, struct mtp_error *err);
void mtpc_call_free(struct mtpc_call *call);

/* Decodes an answer (rpc_result.result, inflated) as the call's result type
 * and sets *out to its JSON.  When the bytes are not of that type the error
 * is MTP_ERR_CLIENT_BAD_ANSWER and *out, if the bytes decode as some other
 * object, holds that object (NULL otherwise), so a report can still show it. */
MTP_MUST_USE int mtpc_call_answer_json(const struct mtpc_call *call, const struct mtp_tl_schema *s, const uint8_t *p,
                                       size_t len, json_t **out, struct mtp_error *err);

/* rpc_error as the TL JSON mapping writes it (docs/tl-json.md):
 *   {"_": "rpc_error", "error_code": N, "error_message": "..."}
 * error_message is a JSON string when it is valid UTF-8 (NULs included, as
 * \u0000), else {"bytes": "<hex>"}, so no byte of it is lost.  NULL only
 * when out of memory. */
json_t *mtpc_rpc_error_json(int32_t code, const uint8_t *message, size_t len);

/* The layer a schema text declares in a "LAYER N" comment (as the API schema
 * files of Telegram clients do), or 0 when it declares none. */
int32_t mtpc_schema_layer(const char *text, size_t len);

#endif
