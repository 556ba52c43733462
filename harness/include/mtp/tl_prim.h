/* TL primitive types on top of the reader/writer (core.telegram.org/mtproto/serialize).
 *
 * int/long/double are little-endian 4/8/8 bytes; int128/int256 are 16/32 raw
 * bytes; bytes/string carry a 1-byte length (0..253) or 0xfe plus a 3-byte
 * little-endian length (254..2^24-1), then the data, then zero padding to a
 * multiple of 4.  Bool is boolTrue#997275b5 / boolFalse#bc799737.  A boxed
 * vector is vector#1cb5c415 followed by the bare form (int count, elements). */
#ifndef MTP_TL_PRIM_H
#define MTP_TL_PRIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"

#define MTP_TL_ID_VECTOR 0x1cb5c415u
#define MTP_TL_ID_BOOL_TRUE 0x997275b5u
#define MTP_TL_ID_BOOL_FALSE 0xbc799737u
#define MTP_TL_BYTES_MAX 0xffffffu /* 3-byte length form */

MTP_MUST_USE int mtp_tl_rd_int(struct mtp_rd *r, int32_t *v, const char *field);
MTP_MUST_USE int mtp_tl_rd_uint(struct mtp_rd *r, uint32_t *v, const char *field); /* constructor ids */
MTP_MUST_USE int mtp_tl_rd_long(struct mtp_rd *r, int64_t *v, const char *field);
MTP_MUST_USE int mtp_tl_rd_double(struct mtp_rd *r, double *v, const char *field);
MTP_MUST_USE int mtp_tl_rd_int128(struct mtp_rd *r, uint8_t v[16], const char *field);
MTP_MUST_USE int mtp_tl_rd_int256(struct mtp_rd *r, uint8_t v[32], const char *field);
/* Borrows the payload of a bytes/string value; checks the padding is inside
 * the input.  Non-zero padding is tolerated (the spec does not require zero)
 * unless strict is set, in which case it is MTP_ERR_TL_BAD_PADDING. */
MTP_MUST_USE int mtp_tl_rd_bytes(struct mtp_rd *r, const uint8_t **data, size_t *len, bool strict,
                                 const char *field);
MTP_MUST_USE int mtp_tl_rd_bool(struct mtp_rd *r, bool *v, const char *field);
/* Reads an expected constructor id; MTP_ERR_TL_BAD_CTOR names what was found. */
MTP_MUST_USE int mtp_tl_rd_expect(struct mtp_rd *r, uint32_t id, const char *field);
/* Vector headers: the element count, checked to be >= 0 and to fit the bytes
 * left if every element took at least min_elem_size bytes (so a hostile
 * count cannot make a caller allocate more than the input justifies). */
MTP_MUST_USE int mtp_tl_rd_vector_boxed(struct mtp_rd *r, size_t min_elem_size, uint32_t *count, const char *field);
MTP_MUST_USE int mtp_tl_rd_vector_bare(struct mtp_rd *r, size_t min_elem_size, uint32_t *count, const char *field);

MTP_MUST_USE int mtp_tl_wr_int(struct mtp_wr *w, int32_t v);
MTP_MUST_USE int mtp_tl_wr_uint(struct mtp_wr *w, uint32_t v);
MTP_MUST_USE int mtp_tl_wr_long(struct mtp_wr *w, int64_t v);
MTP_MUST_USE int mtp_tl_wr_double(struct mtp_wr *w, double v);
MTP_MUST_USE int mtp_tl_wr_int128(struct mtp_wr *w, const uint8_t v[16]);
MTP_MUST_USE int mtp_tl_wr_int256(struct mtp_wr *w, const uint8_t v[32]);
MTP_MUST_USE int mtp_tl_wr_bytes(struct mtp_wr *w, const void *data, size_t len);
MTP_MUST_USE int mtp_tl_wr_bool(struct mtp_wr *w, bool v);
MTP_MUST_USE int mtp_tl_wr_vector_boxed(struct mtp_wr *w, uint32_t count);
MTP_MUST_USE int mtp_tl_wr_vector_bare(struct mtp_wr *w, uint32_t count);
/* Encoded size of a bytes/string value of len bytes (prefix + data + padding). */
size_t mtp_tl_bytes_size(size_t len);

#endif
