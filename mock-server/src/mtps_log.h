/* What the mock DC tells a person (stderr).
 *
 * Always: one line per connection opened, closed or failed, and one per auth
 * key created (never the key).  With -v also every message in both
 * directions as TL text, rendered through the TL engine:
 *   12:00:01.250 conn 3 c2s plain msg_id=0x65f0... req_pq_multi nonce:0x3e05...
 *   12:00:01.260 conn 3 s2c enc msg_id=0x65f0...01 seqno=1 rpc_result req_msg_id:... result:(nearestDc ...)
 * Lines are written whole (one fprintf), so the log stays line-aligned. */
#ifndef MTPS_LOG_H
#define MTPS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mtp/env.h"
#include "mtp/err.h"
#include "mtp/tl_schema.h"

struct mtps_log {
    FILE *f;                              /* NULL: silent */
    int verbose;                          /* 0 or 1 (-v) */
    const struct mtp_tl_schema *schema;   /* for TL text; NULL: hex only */
    const struct mtp_env *env;            /* clock for the timestamps */
};

/* One line, prefixed with the time and "conn N" (N = 0: the server itself). */
void mtps_log(const struct mtps_log *l, uint64_t conn, const char *fmt, ...) MTP_PRINTF(3, 4);
/* The same, only with -v. */
void mtps_logv(const struct mtps_log *l, uint64_t conn, const char *fmt, ...) MTP_PRINTF(3, 4);
static inline bool mtps_log_verbose(const struct mtps_log *l) { return l->f != NULL && l->verbose > 0; }

/* -v: "conn N <dir> <what> <TL text of body>".  body is one boxed TL object
 * (a message body; containers and gzip_packed are rendered inside).  Falls
 * back to the constructor id and hex when the schema cannot decode it. */
void mtps_log_tl(const struct mtps_log *l, uint64_t conn, const char *dir, const char *what, const uint8_t *body,
                 size_t len);

/* body (one boxed TL object) as one line of TL text in out[0..cap), bytes
 * fields longer than max_bytes shortened (0: never); the constructor id and
 * hex when the schema cannot decode it.  Returns the length written. */
size_t mtps_tl_render(const struct mtp_tl_schema *schema, const uint8_t *body, size_t len, size_t max_bytes,
                      char *out, size_t cap);

#endif
