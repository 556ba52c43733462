/* gzip_packed (service_messages#packed-object):
 *
 *   gzip_packed#3072cfa1 packed_data:bytes = Object;
 *
 * "Used to replace any other object (or rather, a serialization thereof) with
 * its archived (gzipped) representation."  packed_data is a gzip stream
 * (RFC 1952).  Inflation has a hard output limit, so that a small bomb cannot
 * make the receiver allocate more than it allowed for. */
#ifndef MTP_GZIP_H
#define MTP_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"

/* Appends the inflated gzip stream in[0..len) to out.  MTP_ERR_TL_GZIP for a
 * corrupt, truncated or trailing-garbage stream, MTP_ERR_TL_GZIP_LIMIT as soon
 * as the output would exceed max_out bytes. */
MTP_MUST_USE int mtp_gzip_inflate(const uint8_t *in, size_t len, struct mtp_wr *out, size_t max_out,
                                  struct mtp_error *err);
/* Appends a gzip stream of in[0..len) to out (deterministic: no name, mtime 0). */
MTP_MUST_USE int mtp_gzip_deflate(const uint8_t *in, size_t len, struct mtp_wr *out, struct mtp_error *err);

/* Writes gzip_packed wrapping the serialized object obj[0..len). */
MTP_MUST_USE int mtp_gzip_packed_write(struct mtp_wr *w, const uint8_t *obj, size_t len);
/* Reads a gzip_packed object that fills r exactly and appends the inflated
 * object to out (at most max_out bytes; it must be a whole number of 4-byte
 * words, as every TL object is). */
MTP_MUST_USE int mtp_gzip_packed_read(struct mtp_rd *r, struct mtp_wr *out, size_t max_out);

#endif
