#include "mtp/gzip.h"

#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "mtp/service.h"
#include "mtp/tl_prim.h"

/* 15-bit window, +16: gzip wrapper only (no zlib or raw deflate streams). */
#define GZIP_WINDOW_BITS (15 + 16)
#define CHUNK 4096

/* zlib counts input in uInt; feed large inputs in slices. */
static void feed(z_stream *zs, const uint8_t **in, size_t *left)
{
    if (zs->avail_in == 0 && *left > 0) {
        size_t n = *left > UINT_MAX ? UINT_MAX : *left;
        zs->next_in = (Bytef *)(uintptr_t)*in; /* zlib does not write through next_in */
        zs->avail_in = (uInt)n;
        *in += n;
        *left -= n;
    }
}

int mtp_gzip_inflate(const uint8_t *in, size_t len, struct mtp_wr *out, size_t max_out, struct mtp_error *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, GZIP_WINDOW_BITS) != Z_OK)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "gzip: inflateInit2 failed");
    int rc = MTP_OK;
    size_t produced = 0;
    uint8_t buf[CHUNK];
    for (;;) {
        feed(&zs, &in, &len);
        zs.next_out = buf;
        zs.avail_out = sizeof buf;
        int zr = inflate(&zs, Z_NO_FLUSH);
        size_t have = sizeof buf - zs.avail_out;
        if (zr != Z_OK && zr != Z_STREAM_END && !(zr == Z_BUF_ERROR && have > 0)) {
            if (zr == Z_BUF_ERROR)
                rc = mtp_error_set(err, MTP_ERR_TL_GZIP, zs.total_in, "gzip: stream truncated after %lu input bytes",
                                   zs.total_in);
            else if (zr == Z_MEM_ERROR)
                rc = mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "gzip: out of memory");
            else
                rc = mtp_error_set(err, MTP_ERR_TL_GZIP, zs.total_in, "gzip: %s at input byte %lu",
                                   zs.msg ? zs.msg : "corrupt stream", zs.total_in);
            goto out;
        }
        if (have > max_out - produced) {
            rc = mtp_error_set(err, MTP_ERR_TL_GZIP_LIMIT, zs.total_in,
                               "gzip: inflates beyond the %zu-byte limit (input byte %lu)", max_out, zs.total_in);
            goto out;
        }
        if (have > 0) {
            MTP_TRY(mtp_wr_raw(out, buf, have));
            produced += have;
        }
        if (zr == Z_STREAM_END) {
            if (zs.avail_in != 0 || len != 0)
                rc = mtp_error_set(err, MTP_ERR_TL_GZIP, zs.total_in,
                                   "gzip: %zu bytes after the end of the stream at input byte %lu",
                                   (size_t)zs.avail_in + len, zs.total_in);
            goto out;
        }
    }
out:
    inflateEnd(&zs);
    return rc;
}

int mtp_gzip_deflate(const uint8_t *in, size_t len, struct mtp_wr *out, struct mtp_error *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, GZIP_WINDOW_BITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "gzip: deflateInit2 failed");
    int rc = MTP_OK;
    uint8_t buf[CHUNK];
    for (;;) {
        feed(&zs, &in, &len);
        zs.next_out = buf;
        zs.avail_out = sizeof buf;
        int zr = deflate(&zs, len == 0 ? Z_FINISH : Z_NO_FLUSH);
        if (zr == Z_STREAM_ERROR) {
            rc = mtp_error_set(err, MTP_ERR_INTERNAL, MTP_NO_OFFSET, "gzip: deflate failed");
            goto out;
        }
        MTP_TRY(mtp_wr_raw(out, buf, sizeof buf - zs.avail_out));
        if (zr == Z_STREAM_END)
            break;
    }
out:
    deflateEnd(&zs);
    return rc;
}

int mtp_gzip_packed_write(struct mtp_wr *w, const uint8_t *obj, size_t len)
{
    struct mtp_wr z;
    mtp_wr_init_dyn(&z, MTP_TL_BYTES_MAX, w->err);
    int rc = MTP_OK;
    MTP_TRY(mtp_gzip_deflate(obj, len, &z, w->err));
    MTP_TRY(mtp_tl_wr_uint(w, MTP_SVC_gzip_packed));
    MTP_TRY(mtp_tl_wr_bytes(w, z.p, z.len));
out:
    mtp_wr_free(&z);
    return rc;
}

int mtp_gzip_packed_read(struct mtp_rd *r, struct mtp_wr *out, size_t max_out)
{
    struct mtp_rd t = *r;
    const uint8_t *data;
    size_t len;
    MTP_GUARD(mtp_tl_rd_expect(&t, MTP_SVC_gzip_packed, "gzip_packed"));
    size_t data_at = mtp_rd_offset(&t);
    MTP_GUARD(mtp_tl_rd_bytes(&t, &data, &len, false, "gzip_packed.packed_data"));
    MTP_GUARD(mtp_rd_end(&t, "gzip_packed"));
    size_t before = out->len;
    int rc = mtp_gzip_inflate(data, len, out, max_out, r->err);
    if (rc < 0) {
        /* inflate counted offsets within packed_data; report where packed_data starts. */
        if (r->err != NULL && r->err->code == rc)
            r->err->offset = data_at;
        mtp_error_prefix(r->err, "gzip_packed.packed_data at offset %zu", data_at);
        return rc;
    }
    if ((out->len - before) % 4 != 0)
        return mtp_error_set(r->err, MTP_ERR_TL_GZIP, data_at,
                             "gzip_packed.packed_data at offset %zu: inflated %zu bytes, not a whole TL object",
                             data_at, out->len - before);
    *r = t;
    return MTP_OK;
}
