/* Finding and loading the bundled TL schemas by name, for the CLI and the shim. */
#ifndef MTP_TLENGINE_TL_FILES_H
#define MTP_TLENGINE_TL_FILES_H

#include <stddef.h>

#include "mtp/err.h"
#include "mtp/tl_schema.h"

/* Directory of the bundled schemas: $MTPROBE_SCHEMA_DIR if set, else
 * <source dir>/vectors/schema (the source dir is $MTPROBE_SOURCE_DIR if set,
 * else the one the tool was built from). */
const char *mtp_tl_schema_dir(char *buf, size_t cap);

/* Adds a schema by name:
 *   "mtproto"  the MTProto service schema (vectors/schema/mtproto.tl)
 *   "api"      the API schema, then the MTProto schema (API names win in
 *              global lookups; API traffic travels in MTProto containers)
 *   anything else is a file path.
 * The schema is not linked. */
MTP_MUST_USE int mtp_tl_schema_add_named(struct mtp_tl_schema *s, const char *name, struct mtp_error *err);

/* New, linked schema from a list of names (none: "mtproto"). */
MTP_MUST_USE int mtp_tl_schema_load(const char *const *names, size_t n, struct mtp_tl_schema **out,
                                    struct mtp_error *err);

#endif
