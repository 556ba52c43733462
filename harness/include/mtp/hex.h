/* Hex text <-> bytes.  Decoding accepts either case and no separators. */
#ifndef MTP_HEX_H
#define MTP_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"

/* Appends the bytes of an even-length hex string to w.  field names the value in errors. */
MTP_MUST_USE int mtp_hex_decode(const char *hex, size_t hex_len, struct mtp_wr *w, const char *field);
/* Decodes exactly n bytes into dst; MTP_ERR_HEX if the string has another length. */
MTP_MUST_USE int mtp_hex_decode_exact(const char *hex, void *dst, size_t n, struct mtp_error *err, const char *field);
/* Writes 2n lower-case hex digits and a NUL into out (size >= 2n+1). */
void mtp_hex_encode(const void *src, size_t n, char *out);
/* malloc'ed lower-case hex string; NULL on allocation failure. */
char *mtp_hex_alloc(const void *src, size_t n);

#endif
