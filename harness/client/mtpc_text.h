/* Trace records of the client core (mtpc_client.h) as one line of text each,
 * for `mtprobe client -v`:
 *
 *   -> plain msg_id=0x65a1... req_pq_multi nonce:0x3e05...
 *   <- msg_id=0x65a1...01 seqno=1 salt=0x... session=0x... bad_server_salt bad_msg_id:... new_server_salt:...
 *   <- transport error -404 (auth_key_not_found)
 *   .. event bad_server_salt ref_msg_id=0x... value=0x...
 *
 * Bodies are decoded with the schema as any boxed object (containers and
 * rpc_result included); what does not decode is shown as the error and the
 * first bytes in hex.  Byte strings longer than max_bytes are shortened. */
#ifndef MTPC_TEXT_H
#define MTPC_TEXT_H

#include <stddef.h>

#include "client/mtpc_client.h"
#include "mtp/buf.h"
#include "mtp/tl_schema.h"

/* Bytes from a peer as printable text for messages: printable ASCII as it
 * is, a backslash as \\, anything else (NULs, invalid UTF-8) as \xNN; cut
 * with "..." to fit cap (>= 4).  Returns out. */
const char *mtpc_text_escape(const uint8_t *p, size_t len, char *out, size_t cap);

/* The name of a session event type ("pong", "bad_server_salt", ...). */
const char *mtpc_event_name(enum mtp_session_event_type type);

/* Appends the line (no newline) to w; s may be NULL (then bodies are shown
 * in hex only).  Returns the writer's status. */
MTP_MUST_USE int mtpc_text_trace(const struct mtp_tl_schema *s, const struct mtpc_trace *t, size_t max_bytes,
                                 struct mtp_wr *w);

#endif
