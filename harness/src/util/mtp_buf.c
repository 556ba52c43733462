#include "mtp/buf.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mtp_rd_init(struct mtp_rd *r, const void *p, size_t len, struct mtp_error *err)
{
    r->p = (const uint8_t *)p;
    r->len = p ? len : 0;
    r->pos = 0;
    r->base = 0;
    r->err = err;
}

int mtp_rd_fail(const struct mtp_rd *r, int code, const char *fmt, ...)
{
    if (r->err == NULL || r->err->code != MTP_OK)
        return code;
    char msg[MTP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mtp_error_set(r->err, code, mtp_rd_offset(r), "%s", msg);
}

/* The single place where a read is bounds-checked. */
static int need(const struct mtp_rd *r, size_t n, const char *field)
{
    if (n <= mtp_rd_left(r))
        return MTP_OK;
    return mtp_rd_fail(r, MTP_ERR_SHORT, "%s: need %zu bytes at offset %zu, only %zu left", field ? field : "value", n,
                       mtp_rd_offset(r), mtp_rd_left(r));
}

int mtp_rd_u8(struct mtp_rd *r, uint8_t *v, const char *field)
{
    MTP_GUARD(need(r, 1, field));
    *v = r->p[r->pos++];
    return MTP_OK;
}

int mtp_rd_u16(struct mtp_rd *r, uint16_t *v, const char *field)
{
    MTP_GUARD(need(r, 2, field));
    const uint8_t *b = r->p + r->pos;
    *v = (uint16_t)(b[0] | b[1] << 8);
    r->pos += 2;
    return MTP_OK;
}

int mtp_rd_u24(struct mtp_rd *r, uint32_t *v, const char *field)
{
    MTP_GUARD(need(r, 3, field));
    const uint8_t *b = r->p + r->pos;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16;
    r->pos += 3;
    return MTP_OK;
}

int mtp_rd_u32(struct mtp_rd *r, uint32_t *v, const char *field)
{
    MTP_GUARD(need(r, 4, field));
    *v = mtp_load_u32(r->p + r->pos);
    r->pos += 4;
    return MTP_OK;
}

int mtp_rd_i32(struct mtp_rd *r, int32_t *v, const char *field)
{
    uint32_t u;
    MTP_GUARD(mtp_rd_u32(r, &u, field));
    *v = (int32_t)u;
    return MTP_OK;
}

int mtp_rd_u64(struct mtp_rd *r, uint64_t *v, const char *field)
{
    MTP_GUARD(need(r, 8, field));
    *v = mtp_load_u64(r->p + r->pos);
    r->pos += 8;
    return MTP_OK;
}

int mtp_rd_i64(struct mtp_rd *r, int64_t *v, const char *field)
{
    uint64_t u;
    MTP_GUARD(mtp_rd_u64(r, &u, field));
    *v = (int64_t)u;
    return MTP_OK;
}

int mtp_rd_u32_be(struct mtp_rd *r, uint32_t *v, const char *field)
{
    MTP_GUARD(need(r, 4, field));
    const uint8_t *b = r->p + r->pos;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
    r->pos += 4;
    return MTP_OK;
}

int mtp_rd_u16_be(struct mtp_rd *r, uint16_t *v, const char *field)
{
    MTP_GUARD(need(r, 2, field));
    const uint8_t *b = r->p + r->pos;
    *v = (uint16_t)(b[0] << 8 | b[1]);
    r->pos += 2;
    return MTP_OK;
}

int mtp_rd_peek_u32(const struct mtp_rd *r, uint32_t *v, const char *field)
{
    MTP_GUARD(need(r, 4, field));
    *v = mtp_load_u32(r->p + r->pos);
    return MTP_OK;
}

int mtp_rd_raw(struct mtp_rd *r, size_t n, const uint8_t **out, const char *field)
{
    MTP_GUARD(need(r, n, field));
    *out = r->p ? r->p + r->pos : NULL;
    r->pos += n;
    return MTP_OK;
}

int mtp_rd_copy(struct mtp_rd *r, void *dst, size_t n, const char *field)
{
    MTP_GUARD(need(r, n, field));
    if (n)
        memcpy(dst, r->p + r->pos, n);
    r->pos += n;
    return MTP_OK;
}

int mtp_rd_skip(struct mtp_rd *r, size_t n, const char *field)
{
    MTP_GUARD(need(r, n, field));
    r->pos += n;
    return MTP_OK;
}

int mtp_rd_sub(struct mtp_rd *r, size_t n, struct mtp_rd *sub, const char *field)
{
    MTP_GUARD(need(r, n, field));
    sub->p = r->p ? r->p + r->pos : NULL;
    sub->len = n;
    sub->pos = 0;
    sub->base = mtp_rd_offset(r);
    sub->err = r->err;
    r->pos += n;
    return MTP_OK;
}

int mtp_rd_end(const struct mtp_rd *r, const char *field)
{
    if (mtp_rd_left(r) == 0)
        return MTP_OK;
    return mtp_rd_fail(r, MTP_ERR_TRAILING, "%s: %zu unexpected bytes after the end at offset %zu",
                       field ? field : "value", mtp_rd_left(r), mtp_rd_offset(r));
}

void mtp_wr_init_fixed(struct mtp_wr *w, void *buf, size_t cap, struct mtp_error *err)
{
    w->p = (uint8_t *)buf;
    w->len = 0;
    w->cap = buf ? cap : 0;
    w->max = w->cap;
    w->dynamic = false;
    w->failed = false;
    w->err = err;
}

void mtp_wr_init_dyn(struct mtp_wr *w, size_t max, struct mtp_error *err)
{
    w->p = NULL;
    w->len = 0;
    w->cap = 0;
    w->max = max;
    w->dynamic = true;
    w->failed = false;
    w->err = err;
}

void mtp_wr_free(struct mtp_wr *w)
{
    if (w->dynamic && w->p) {
        OPENSSL_cleanse(w->p, w->cap);
        free(w->p);
        w->p = NULL;
        w->cap = 0;
    }
    w->len = 0;
    w->failed = false;
}

uint8_t *mtp_wr_take(struct mtp_wr *w, size_t *len)
{
    uint8_t *p = w->p;
    if (len)
        *len = w->len;
    if (w->dynamic) {
        w->p = NULL;
        w->cap = 0;
    }
    w->len = 0;
    return p;
}

int mtp_wr_status(const struct mtp_wr *w)
{
    if (!w->failed)
        return MTP_OK;
    return (w->err && w->err->code != MTP_OK) ? w->err->code : MTP_ERR_OVERFLOW;
}

static int wr_fail(struct mtp_wr *w, int code, size_t n)
{
    w->failed = true;
    return mtp_error_set(w->err, code, w->len, "output: cannot append %zu bytes at %zu (limit %zu)", n, w->len,
                         w->max);
}

/* The single place where a write is bounds-checked (and where growth happens). */
static int room(struct mtp_wr *w, size_t n)
{
    if (w->failed)
        return mtp_wr_status(w);
    if (n <= w->cap - w->len)
        return MTP_OK;
    if (!w->dynamic || n > w->max - w->len)
        return wr_fail(w, MTP_ERR_OVERFLOW, n);
    size_t want = w->len + n;
    size_t cap = w->cap ? w->cap : 64;
    while (cap < want)
        cap = cap > w->max / 2 ? w->max : cap * 2;
    if (cap > w->max)
        cap = w->max;
    /* Grown by copy, not realloc, so that secrets in the old block can be wiped. */
    uint8_t *np = malloc(cap);
    if (np == NULL)
        return wr_fail(w, MTP_ERR_NOMEM, n);
    if (w->len)
        memcpy(np, w->p, w->len);
    if (w->p) {
        OPENSSL_cleanse(w->p, w->cap);
        free(w->p);
    }
    w->p = np;
    w->cap = cap;
    return MTP_OK;
}

int mtp_wr_raw_slow(struct mtp_wr *w, const void *src, size_t n)
{
    MTP_GUARD(room(w, n));
    if (n)
        memcpy(w->p + w->len, src, n);
    w->len += n;
    return MTP_OK;
}

int mtp_wr_zero(struct mtp_wr *w, size_t n)
{
    MTP_GUARD(room(w, n));
    if (n)
        memset(w->p + w->len, 0, n);
    w->len += n;
    return MTP_OK;
}

int mtp_wr_reserve_slow(struct mtp_wr *w, size_t n, uint8_t **out)
{
    MTP_GUARD(room(w, n));
    /* An empty dynamic writer has no buffer yet; NULL + 0 is undefined in C. */
    *out = w->p ? w->p + w->len : NULL;
    w->len += n;
    return MTP_OK;
}


int mtp_wr_u16(struct mtp_wr *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    return mtp_wr_raw(w, b, 2);
}

int mtp_wr_u24(struct mtp_wr *w, uint32_t v)
{
    uint8_t b[3] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16)};
    return mtp_wr_raw(w, b, 3);
}

int mtp_wr_u32(struct mtp_wr *w, uint32_t v)
{
    uint8_t b[4];
    mtp_store_u32(b, v);
    return mtp_wr_raw(w, b, 4);
}

int mtp_wr_i32(struct mtp_wr *w, int32_t v) { return mtp_wr_u32(w, (uint32_t)v); }

int mtp_wr_u64(struct mtp_wr *w, uint64_t v)
{
    uint8_t b[8];
    mtp_store_u64(b, v);
    return mtp_wr_raw(w, b, 8);
}

int mtp_wr_i64(struct mtp_wr *w, int64_t v) { return mtp_wr_u64(w, (uint64_t)v); }

int mtp_wr_u32_be(struct mtp_wr *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return mtp_wr_raw(w, b, 4);
}

int mtp_wr_u16_be(struct mtp_wr *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return mtp_wr_raw(w, b, 2);
}

int mtp_wr_patch_u32(struct mtp_wr *w, size_t at, uint32_t v)
{
    if (at > w->len || w->len - at < 4)
        return mtp_error_set(w->err, MTP_ERR_INTERNAL, at, "output: patch at %zu outside written %zu bytes", at,
                             w->len);
    mtp_store_u32(w->p + at, v);
    return MTP_OK;
}

void mtp_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

int mtp_ct_memcmp(const void *a, const void *b, size_t n) { return CRYPTO_memcmp(a, b, n); }
