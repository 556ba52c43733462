/* The JSON mapping of TL values (docs/tl-json.md), used by the shim, the CLI
 * and reports:
 *   object        {"_": "constructor.name", field: value, ...}  (fields in schema order)
 *   int, #        JSON number            long      string of decimal digits
 *   double        JSON number ("NaN", "Infinity", "-Infinity" as strings)
 *   int128/256    hex string             bytes     hex string
 *   string        JSON string if UTF-8, else {"bytes": "<hex>"}
 *   Bool          true / false           vector    array
 *   absent conditional field: left out; set `true` flag: true
 *   gzip_packed   {"_": "gzip_packed", "packed_data": "<hex>", "unpacked": <inner value>}
 * JSON -> TL accepts the same mapping; flags are computed from the fields present. */
#ifndef MTP_TLENGINE_TL_JSON_H
#define MTP_TLENGINE_TL_JSON_H

#include <jansson.h>

#include "mtp/err.h"
#include "mtp/tl_value.h"

/* New JSON value for a decoded (or built) tree; NULL when out of memory. */
json_t *mtp_tl_json_from_value(const struct mtp_tl_value *v);

/* The JSON of mtp_tl_json_from_value written as compact text straight into
 * w, byte for byte what json_dumps(..., JSON_COMPACT | JSON_ENSURE_ASCII)
 * makes of that tree, without building it: for tools that print many values
 * (the capture decoder writes one per message). */
MTP_MUST_USE int mtp_tl_json_write(const struct mtp_tl_value *v, struct mtp_wr *w);
/* A JSON string with the same escaping (n bytes of valid UTF-8, NULs allowed). */
MTP_MUST_USE int mtp_json_write_string(struct mtp_wr *w, const uint8_t *p, size_t n);

/* Builds a value of type `type` (NULL: any boxed object) from JSON, in arena a.
 * Errors name the JSON path: MTP_ERR_TL_FIELD (unknown or missing field),
 * MTP_ERR_TL_TYPE (wrong JSON kind), MTP_ERR_TL_UNKNOWN_TYPE (unknown "_"),
 * MTP_ERR_TL_BAD_FLAGS (fields sharing a flag bit disagree), MTP_ERR_HEX. */
MTP_MUST_USE int mtp_tl_json_to_value(const struct mtp_tl_schema *s, const struct mtp_tl_tref *type, const json_t *j,
                                      struct mtp_tl_arena *a, struct mtp_tl_value *out, struct mtp_error *err);

/* JSON -> bytes in one step (builds in a scratch arena, encodes into w). */
MTP_MUST_USE int mtp_tl_json_encode(const struct mtp_tl_schema *s, const struct mtp_tl_tref *type, const json_t *j,
                                    struct mtp_wr *w, struct mtp_error *err);

#endif
