/* Target functions: mtp_tr_detect, mtp_tr_conn_feed, mtp_tr_conn_next (server side: detection,
 *                   obfuscation and framing together)
 * Input: byte 0 picks the options (require obfuscation, a secret) and seeds
 * the chunk sizes; the rest is what a client sent.
 * Oracles: detection one byte at a time agrees with detection at once and
 * never takes more than 64 bytes; a server connection fed in chunks returns
 * the same frames and the same verdict as one fed everything at once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/tr_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret16[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                     0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

static void check_detection(const uint8_t *p, size_t len)
{
    struct mtp_tr_detector a, b;
    struct mtp_tr_detection da, db;
    mtp_tr_detector_init(&a);
    mtp_tr_detector_init(&b);
    size_t n = len;
    int ra = mtp_tr_detect(&a, p, &n, &da, NULL);
    if (n > 64 || n > len || (ra == MTP_ERR_NEED_MORE && n != len) || (ra != MTP_OK && ra != MTP_ERR_NEED_MORE))
        __builtin_trap();
    int rb = MTP_ERR_NEED_MORE;
    size_t i = 0;
    while (i < len && rb == MTP_ERR_NEED_MORE) {
        size_t one = 1;
        rb = mtp_tr_detect(&b, p + i, &one, &db, NULL);
        if (one != 1)
            __builtin_trap();
        i++;
    }
    if (ra != rb)
        __builtin_trap();
    if (ra == MTP_OK && (i != n || da.envelope != db.envelope || da.kind != db.kind ||
                         da.header_len != db.header_len || da.replay_len != db.replay_len ||
                         (da.replay_len && memcmp(da.replay, db.replay, da.replay_len) != 0) ||
                         da.header_len + da.replay_len != n))
        __builtin_trap();
}

struct verdict {
    int rc;
    size_t frames;
    uint32_t hash;
};

static void serve(const uint8_t *p, size_t len, uint8_t opts_byte, bool chunked, struct verdict *v)
{
    memset(v, 0, sizeof *v);
    struct mtp_tr_conn_opts o = {.side = MTP_TR_SERVER, .require_obfs = (opts_byte & 1) != 0,
                                 .tr = {.max_frame = 4096}};
    if ((opts_byte & 2) && mtp_obfs_secret_parse(&o.secret, secret16, sizeof secret16, NULL) != MTP_OK)
        __builtin_trap();
    struct mtp_tr_conn c;
    if (mtp_tr_conn_init(&c, &o, NULL) != MTP_OK)
        __builtin_trap();
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) {
        mtp_tr_conn_free(&c);
        return;
    }
    if (len)
        memcpy(buf, p, len);
    uint32_t lcg = opts_byte, h = 2166136261u;
    v->rc = MTP_ERR_NEED_MORE;
    for (size_t at = 0; at < len && v->rc == MTP_ERR_NEED_MORE;) {
        size_t chunk = len - at;
        if (chunked) {
            lcg = lcg * 1103515245u + 12345u;
            size_t k = 1 + (lcg >> 16) % 23;
            if (k < chunk)
                chunk = k;
        }
        mtp_tr_conn_feed(&c, buf + at, chunk);
        at += chunk;
        struct mtp_tr_frame f;
        while ((v->rc = mtp_tr_conn_next(&c, &f, NULL)) == MTP_OK) {
            v->frames++;
            for (size_t i = 0; i < f.len; i++)
                h = (h ^ f.data[i]) * 16777619u;
            h = (h ^ (f.quick_ack ? 1u : 0u)) * 16777619u;
        }
    }
    v->hash = h;
    mtp_tr_conn_free(&c);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    check_detection(data + 1, size - 1);
    struct verdict whole, split;
    serve(data + 1, size - 1, data[0], false, &whole);
    serve(data + 1, size - 1, data[0], true, &split);
    if (whole.rc != split.rc || whole.frames != split.frames || whole.hash != split.hash)
        __builtin_trap();
    return 0;
}
