/* The one bounds-checked reader/writer for all byte access.
 *
 * Byte order is in the name: plain names are little-endian (MTProto's small
 * integers), `_be` is big-endian (RSA/DH numbers, some transport fields).
 * Every read names the field it reads; on failure the reader's error gets the
 * code, the absolute offset and that name.  A failed reader stays where it
 * was: nothing is consumed on error.
 *
 * The writer writes into caller storage (fixed) or into a heap buffer that
 * grows up to an explicit limit (dynamic).  Once a write fails the writer is
 * marked failed and every later write fails too, so a sequence of writes can
 * be checked once at the end. */
#ifndef MTP_BUF_H
#define MTP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mtp/err.h"

struct mtp_rd {
    const uint8_t *p;
    size_t len;
    size_t pos;
    size_t base;            /* absolute offset of p[0] within the outermost input */
    struct mtp_error *err;  /* where failures are recorded; may be NULL */
};

void mtp_rd_init(struct mtp_rd *r, const void *p, size_t len, struct mtp_error *err);
static inline size_t mtp_rd_left(const struct mtp_rd *r) { return r->len - r->pos; }
static inline size_t mtp_rd_offset(const struct mtp_rd *r) { return r->base + r->pos; }
/* Current position as a borrowed pointer (valid for mtp_rd_left() bytes). */
static inline const uint8_t *mtp_rd_cur(const struct mtp_rd *r) { return r->p ? r->p + r->pos : NULL; }

MTP_MUST_USE int mtp_rd_u8(struct mtp_rd *r, uint8_t *v, const char *field);
MTP_MUST_USE int mtp_rd_u16(struct mtp_rd *r, uint16_t *v, const char *field);
MTP_MUST_USE int mtp_rd_u24(struct mtp_rd *r, uint32_t *v, const char *field);
MTP_MUST_USE int mtp_rd_u32(struct mtp_rd *r, uint32_t *v, const char *field);
MTP_MUST_USE int mtp_rd_i32(struct mtp_rd *r, int32_t *v, const char *field);
MTP_MUST_USE int mtp_rd_u64(struct mtp_rd *r, uint64_t *v, const char *field);
MTP_MUST_USE int mtp_rd_i64(struct mtp_rd *r, int64_t *v, const char *field);
MTP_MUST_USE int mtp_rd_u16_be(struct mtp_rd *r, uint16_t *v, const char *field);
MTP_MUST_USE int mtp_rd_u32_be(struct mtp_rd *r, uint32_t *v, const char *field);
MTP_MUST_USE int mtp_rd_peek_u32(const struct mtp_rd *r, uint32_t *v, const char *field);
/* Borrows n bytes (no copy). */
MTP_MUST_USE int mtp_rd_raw(struct mtp_rd *r, size_t n, const uint8_t **out, const char *field);
MTP_MUST_USE int mtp_rd_copy(struct mtp_rd *r, void *dst, size_t n, const char *field);
MTP_MUST_USE int mtp_rd_skip(struct mtp_rd *r, size_t n, const char *field);
/* A child reader over the next n bytes; its offsets stay absolute. */
MTP_MUST_USE int mtp_rd_sub(struct mtp_rd *r, size_t n, struct mtp_rd *sub, const char *field);
/* MTP_ERR_TRAILING unless everything was consumed. */
MTP_MUST_USE int mtp_rd_end(const struct mtp_rd *r, const char *field);
/* Records an error at the reader's current offset and returns code. */
int mtp_rd_fail(const struct mtp_rd *r, int code, const char *fmt, ...) MTP_PRINTF(3, 4);

struct mtp_wr {
    uint8_t *p;
    size_t len;
    size_t cap;
    size_t max;             /* dynamic writers never grow past this */
    bool dynamic;           /* p is owned and grown with realloc */
    bool failed;
    struct mtp_error *err;  /* may be NULL */
};

/* Writes into buf[0..cap). */
void mtp_wr_init_fixed(struct mtp_wr *w, void *buf, size_t cap, struct mtp_error *err);
/* Heap buffer, grown on demand up to max bytes.  Free with mtp_wr_free. */
void mtp_wr_init_dyn(struct mtp_wr *w, size_t max, struct mtp_error *err);
/* Wipes and frees a dynamic writer's buffer (no-op for fixed ones, which are only reset). */
void mtp_wr_free(struct mtp_wr *w);
/* Hands a dynamic writer's buffer to the caller (who frees it); the writer is reset. */
uint8_t *mtp_wr_take(struct mtp_wr *w, size_t *len);
static inline void mtp_wr_reset(struct mtp_wr *w) { w->len = 0; w->failed = false; }
/* MTP_OK, or the code of the first failed write. */
MTP_MUST_USE int mtp_wr_status(const struct mtp_wr *w);

/* The out-of-line halves of the inline writers below: they grow the buffer
 * (or fail) when the bytes do not fit. */
MTP_MUST_USE int mtp_wr_raw_slow(struct mtp_wr *w, const void *src, size_t n);
MTP_MUST_USE int mtp_wr_reserve_slow(struct mtp_wr *w, size_t n, uint8_t **out);

MTP_MUST_USE static inline int mtp_wr_raw(struct mtp_wr *w, const void *src, size_t n)
{
    /* the common case inline: it fits (output writers call this per token) */
    if (!w->failed && w->p != NULL && n <= w->cap - w->len) {
        if (n)
            memcpy(w->p + w->len, src, n);
        w->len += n;
        return MTP_OK;
    }
    return mtp_wr_raw_slow(w, src, n);
}
MTP_MUST_USE static inline int mtp_wr_u8(struct mtp_wr *w, uint8_t v) { return mtp_wr_raw(w, &v, 1); }
MTP_MUST_USE int mtp_wr_u16(struct mtp_wr *w, uint16_t v);
MTP_MUST_USE int mtp_wr_u24(struct mtp_wr *w, uint32_t v);
MTP_MUST_USE int mtp_wr_u32(struct mtp_wr *w, uint32_t v);
MTP_MUST_USE int mtp_wr_i32(struct mtp_wr *w, int32_t v);
MTP_MUST_USE int mtp_wr_u64(struct mtp_wr *w, uint64_t v);
MTP_MUST_USE int mtp_wr_i64(struct mtp_wr *w, int64_t v);
MTP_MUST_USE int mtp_wr_u16_be(struct mtp_wr *w, uint16_t v);
MTP_MUST_USE int mtp_wr_u32_be(struct mtp_wr *w, uint32_t v);
MTP_MUST_USE int mtp_wr_zero(struct mtp_wr *w, size_t n);
/* Reserves n bytes and returns a pointer to them, to be filled by the caller
 * (valid until the next write).  Used for lengths written after their body
 * and for in-place crypto. */
MTP_MUST_USE static inline int mtp_wr_reserve(struct mtp_wr *w, size_t n, uint8_t **out)
{
    if (!w->failed && w->p != NULL && n <= w->cap - w->len) {
        *out = w->p + w->len;
        w->len += n;
        return MTP_OK;
    }
    return mtp_wr_reserve_slow(w, n, out);
}
/* Overwrites 4 bytes at offset at (LE), which must already have been written. */
MTP_MUST_USE int mtp_wr_patch_u32(struct mtp_wr *w, size_t at, uint32_t v);

/* Little helpers over plain arrays of known size, for code that already
 * holds a fixed-size array (keys, hashes). */
static inline uint32_t mtp_load_u32(const uint8_t b[4])
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static inline uint64_t mtp_load_u64(const uint8_t b[8])
{
    return (uint64_t)mtp_load_u32(b) | (uint64_t)mtp_load_u32(b + 4) << 32;
}
static inline void mtp_store_u32(uint8_t b[4], uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}
static inline void mtp_store_u64(uint8_t b[8], uint64_t v)
{
    mtp_store_u32(b, (uint32_t)v);
    mtp_store_u32(b + 4, (uint32_t)(v >> 32));
}

/* Secrets: wipe with OPENSSL_cleanse, compare in constant time (0 = equal). */
void mtp_wipe(void *p, size_t n);
int mtp_ct_memcmp(const void *a, const void *b, size_t n);

#endif
