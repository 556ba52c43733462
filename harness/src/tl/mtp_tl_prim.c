#include "mtp/tl_prim.h"

#include <string.h>

int mtp_tl_rd_int(struct mtp_rd *r, int32_t *v, const char *field) { return mtp_rd_i32(r, v, field); }
int mtp_tl_rd_uint(struct mtp_rd *r, uint32_t *v, const char *field) { return mtp_rd_u32(r, v, field); }
int mtp_tl_rd_long(struct mtp_rd *r, int64_t *v, const char *field) { return mtp_rd_i64(r, v, field); }

int mtp_tl_rd_double(struct mtp_rd *r, double *v, const char *field)
{
    uint64_t u;
    MTP_GUARD(mtp_rd_u64(r, &u, field));
    memcpy(v, &u, sizeof *v);
    return MTP_OK;
}

int mtp_tl_rd_int128(struct mtp_rd *r, uint8_t v[16], const char *field) { return mtp_rd_copy(r, v, 16, field); }
int mtp_tl_rd_int256(struct mtp_rd *r, uint8_t v[32], const char *field) { return mtp_rd_copy(r, v, 32, field); }

int mtp_tl_rd_bytes(struct mtp_rd *r, const uint8_t **data, size_t *len, bool strict, const char *field)
{
    /* Work on a copy so that a failure consumes nothing. */
    struct mtp_rd t = *r;
    uint8_t first;
    size_t n, head;
    MTP_GUARD(mtp_rd_u8(&t, &first, field));
    if (first == 0xff)
        return mtp_rd_fail(r, MTP_ERR_TL_BAD_LENGTH, "%s: length byte 0xff is not a valid bytes prefix at offset %zu",
                           field, mtp_rd_offset(r));
    if (first == 0xfe) {
        uint32_t n24;
        MTP_GUARD(mtp_rd_u24(&t, &n24, field));
        n = n24;
        head = 4;
    } else {
        n = first;
        head = 1;
    }
    size_t pad = (4 - (head + n) % 4) % 4;
    if (n > mtp_rd_left(&t) || pad > mtp_rd_left(&t) - n)
        return mtp_rd_fail(r, MTP_ERR_TL_SHORT, "%s: bytes length %zu (+%zu padding) exceeds the %zu bytes left at offset %zu",
                           field, n, pad, mtp_rd_left(&t), mtp_rd_offset(r));
    const uint8_t *p, *padp;
    MTP_GUARD(mtp_rd_raw(&t, n, &p, field));
    MTP_GUARD(mtp_rd_raw(&t, pad, &padp, field));
    if (strict) {
        for (size_t i = 0; i < pad; i++)
            if (padp[i] != 0)
                return mtp_error_set(r->err, MTP_ERR_TL_BAD_PADDING, mtp_rd_offset(&t) - pad + i,
                                     "%s: padding byte %zu is 0x%02x, not zero (offset %zu)", field, i, padp[i],
                                     mtp_rd_offset(&t) - pad + i);
    }
    *data = p;
    *len = n;
    *r = t;
    return MTP_OK;
}

int mtp_tl_rd_bool(struct mtp_rd *r, bool *v, const char *field)
{
    uint32_t id;
    MTP_GUARD(mtp_rd_peek_u32(r, &id, field));
    if (id == MTP_TL_ID_BOOL_TRUE)
        *v = true;
    else if (id == MTP_TL_ID_BOOL_FALSE)
        *v = false;
    else
        return mtp_rd_fail(r, MTP_ERR_TL_BAD_BOOL, "%s: expected boolTrue or boolFalse, found #%08x at offset %zu", field,
                           id, mtp_rd_offset(r));
    return mtp_rd_skip(r, 4, field);
}

int mtp_tl_rd_expect(struct mtp_rd *r, uint32_t id, const char *field)
{
    uint32_t got;
    MTP_GUARD(mtp_rd_peek_u32(r, &got, field));
    if (got != id)
        return mtp_rd_fail(r, MTP_ERR_TL_BAD_CTOR, "%s: expected constructor #%08x, found #%08x at offset %zu", field,
                           id, got, mtp_rd_offset(r));
    return mtp_rd_skip(r, 4, field);
}

int mtp_tl_rd_vector_bare(struct mtp_rd *r, size_t min_elem_size, uint32_t *count, const char *field)
{
    struct mtp_rd t = *r;
    int32_t n;
    MTP_GUARD(mtp_rd_i32(&t, &n, field));
    if (n < 0)
        return mtp_rd_fail(r, MTP_ERR_TL_BAD_COUNT, "%s: negative vector count %d at offset %zu", field, n,
                           mtp_rd_offset(r));
    if (min_elem_size > 0 && (size_t)n > mtp_rd_left(&t) / min_elem_size)
        return mtp_rd_fail(r, MTP_ERR_TL_BAD_COUNT,
                           "%s: vector count %d needs at least %zu bytes, only %zu left at offset %zu", field, n,
                           (size_t)n * min_elem_size, mtp_rd_left(&t), mtp_rd_offset(r));
    *count = (uint32_t)n;
    *r = t;
    return MTP_OK;
}

int mtp_tl_rd_vector_boxed(struct mtp_rd *r, size_t min_elem_size, uint32_t *count, const char *field)
{
    struct mtp_rd t = *r;
    MTP_GUARD(mtp_tl_rd_expect(&t, MTP_TL_ID_VECTOR, field));
    MTP_GUARD(mtp_tl_rd_vector_bare(&t, min_elem_size, count, field));
    *r = t;
    return MTP_OK;
}

int mtp_tl_wr_int(struct mtp_wr *w, int32_t v) { return mtp_wr_i32(w, v); }
int mtp_tl_wr_uint(struct mtp_wr *w, uint32_t v) { return mtp_wr_u32(w, v); }
int mtp_tl_wr_long(struct mtp_wr *w, int64_t v) { return mtp_wr_i64(w, v); }

int mtp_tl_wr_double(struct mtp_wr *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return mtp_wr_u64(w, u);
}

int mtp_tl_wr_int128(struct mtp_wr *w, const uint8_t v[16]) { return mtp_wr_raw(w, v, 16); }
int mtp_tl_wr_int256(struct mtp_wr *w, const uint8_t v[32]) { return mtp_wr_raw(w, v, 32); }

size_t mtp_tl_bytes_size(size_t len)
{
    size_t head = len < 254 ? 1 : 4;
    return (head + len + 3) / 4 * 4;
}

int mtp_tl_wr_bytes(struct mtp_wr *w, const void *data, size_t len)
{
    if (len > MTP_TL_BYTES_MAX) {
        w->failed = true;
        return mtp_error_set(w->err, MTP_ERR_TL_TOO_LONG, MTP_NO_OFFSET,
                             "bytes: length %zu exceeds the TL maximum of %u", len, MTP_TL_BYTES_MAX);
    }
    size_t head;
    if (len < 254) {
        MTP_GUARD(mtp_wr_u8(w, (uint8_t)len));
        head = 1;
    } else {
        MTP_GUARD(mtp_wr_u8(w, 0xfe));
        MTP_GUARD(mtp_wr_u24(w, (uint32_t)len));
        head = 4;
    }
    MTP_GUARD(mtp_wr_raw(w, data, len));
    return mtp_wr_zero(w, (4 - (head + len) % 4) % 4);
}

int mtp_tl_wr_bool(struct mtp_wr *w, bool v) { return mtp_wr_u32(w, v ? MTP_TL_ID_BOOL_TRUE : MTP_TL_ID_BOOL_FALSE); }
int mtp_tl_wr_vector_boxed(struct mtp_wr *w, uint32_t count)
{
    MTP_GUARD(mtp_wr_u32(w, MTP_TL_ID_VECTOR));
    return mtp_wr_u32(w, count);
}
int mtp_tl_wr_vector_bare(struct mtp_wr *w, uint32_t count) { return mtp_wr_u32(w, count); }
