/* The API layer of the mock DC: decodes each RPC query with the TL schema of
 * the client's layer, looks through the wrappers clients send first
 * (invokeWithLayer, initConnection, invokeWithoutUpdates, invokeAfterMsg(s)),
 * and answers the method inside from a template, or with rpc_error.
 *
 * Templates are JSON files in the TL JSON mapping (harness/tlengine/tl_json.h),
 * one per method: <templates dir>/<method>.json, e.g. help.getConfig.json.
 * Before encoding, a template is
 *   - filled: a string value that is exactly "${name}" becomes the value of
 *     name: ${dc} ${ip} ${port} ${now} ${now+N} ${dc_options} ${layer}
 *     (see mock-server/README.md);
 *   - fitted to the schema of the client's layer: the constructor is looked
 *     up by name in the method's result type; fields that constructor lacks
 *     are dropped and the ones the template lacks get zero values (0, "",
 *     false, [], the simplest constructor), so one template serves every
 *     layer.
 * Errors, named in docs: 400 INPUT_FETCH_ERROR (the query does not decode),
 * 400 INPUT_METHOD_INVALID (not a function of the schema), and for methods
 * without a template the scenario's unknown_method_error, by default
 * 400 METHOD_NOT_SUPPORTED. */
#ifndef MTPS_API_H
#define MTPS_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"
#include "mtp/err.h"
#include "mtp/tl_schema.h"
#include "mtp/tl_value.h"
#include "mtps_scenario.h"

#define MTPS_API_MAX_SCHEMAS 8
#define MTPS_METHOD_MAX 96

struct mtps_api {
    struct mtp_tl_schema *schemas[MTPS_API_MAX_SCHEMAS]; /* each an API schema linked with mtproto.tl */
    int32_t layers[MTPS_API_MAX_SCHEMAS];                /* from its "LAYER N" comment, 0 if none */
    size_t nschemas;
    json_t *templates;                                   /* method name -> template */
    struct mtps_api_behaviour beh;
};

/* schema_paths NULL/0: the bundled api.tl (layer 198) and every
 * .tl file of mock-server/schemas (older layers: api_143.tl).  templates_dir NULL: the source
 * tree's mock-server/templates.  Every template is checked against every
 * schema at load (MTP_ERR_SRV_TEMPLATE names the file and the field). */
MTP_MUST_USE int mtps_api_init(struct mtps_api *api, const char *const *schema_paths, size_t n,
                               const char *templates_dir, const struct mtps_api_behaviour *beh,
                               struct mtp_error *err);
void mtps_api_free(struct mtps_api *api);
/* The schema for a client layer: the highest layer not above it, else the lowest. */
const struct mtp_tl_schema *mtps_api_schema(const struct mtps_api *api, int32_t layer);
/* The schema to render logs with (the newest). */
const struct mtp_tl_schema *mtps_api_log_schema(const struct mtps_api *api);

/* Values the placeholders stand for. */
struct mtps_dc_addr {
    int32_t id;
    char ip[64];
    uint16_t port;
};
struct mtps_api_env {
    int32_t this_dc;
    const struct mtps_dc_addr *dcs; /* every DC of this server, for ${dc_options} */
    size_t ndcs;
    int64_t now_s;
};

/* One decoded query. */
struct mtps_rpc {
    struct mtp_tl_arena arena;
    const struct mtp_tl_schema *schema;
    int32_t layer;                 /* from invokeWithLayer, else the session's */
    bool decoded;
    const struct mtp_tl_value *call; /* the innermost function call */
    char method[MTPS_METHOD_MAX];  /* its name, or "#xxxxxxxx" when unknown */
    struct mtp_error err;          /* why it did not decode */
};

/* Decodes body (a query); never fails as a whole: undecodable queries are
 * answered with an error by mtps_api_answer.  session_layer is the layer the
 * session saw last (0: none).  Free with mtps_rpc_free. */
void mtps_api_parse(const struct mtps_api *api, int32_t session_layer, const uint8_t *body, size_t len,
                    struct mtps_rpc *rpc);
void mtps_rpc_free(struct mtps_rpc *rpc);

struct mtps_answer {
    bool error;
    int32_t code;                          /* rpc_error */
    char message[MTPS_RPC_MESSAGE_MAX];
};
/* The answer to rpc: either the encoded result appended to result, or an
 * rpc_error in ans.  err explains template failures (answered 500 TEMPLATE_FAILED). */
MTP_MUST_USE int mtps_api_answer(const struct mtps_api *api, const struct mtps_rpc *rpc,
                                 const struct mtps_api_env *env, struct mtp_wr *result, struct mtps_answer *ans,
                                 struct mtp_error *err);

/* The same with fields of the filled template replaced by those of overrides
 * (a JSON object in the TL JSON mapping; NULL: none), e.g. the canary values
 * of a hostile answer.  Fields the client's layer lacks are dropped. */
MTP_MUST_USE int mtps_api_answer_with(const struct mtps_api *api, const struct mtps_rpc *rpc,
                                      const struct mtps_api_env *env, const json_t *overrides,
                                      struct mtp_wr *result, struct mtps_answer *ans, struct mtp_error *err);

/* Exposed for tests: fills the placeholders of a template (new reference). */
json_t *mtps_api_fill(const json_t *tmpl, const struct mtps_api_env *env, int32_t layer);
/* Exposed for tests: fits a filled template to a type of a schema (new reference), see above. */
json_t *mtps_api_fit(const struct mtp_tl_schema *s, const struct mtp_tl_tref *type, const json_t *j,
                     struct mtp_error *err);

#endif
