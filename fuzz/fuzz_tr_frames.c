/* Target functions: mtp_tr_decode, mtp_tr_decoder_finish, mtp_tr_encode, mtp_tr_encode_ack
 * Input: byte 0 picks the transport (bits 0-1), the side that wrote the stream
 * (bit 2), strict mode (bit 3) and a small frame limit (bit 4); byte 1 seeds
 * the chunk sizes; the rest is the stream.
 * Oracles: decoding in chunks gives exactly what decoding at once gives (the
 * same frames, ending at the same offsets, or the same error); NEED_MORE
 * consumes everything; only transport error codes come out; and re-encoding
 * each decoded frame reproduces the bytes it was decoded from, except for the
 * non-canonical abridged 0x7f form that lenient decoding accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAMES 64

struct frame_rec {
    uint64_t offset, end;
    size_t len;
    uint32_t hash; /* FNV-1a of the payload */
    bool quick_ack, is_ack;
    uint32_t token, seq;
};

struct run {
    struct frame_rec f[MAX_FRAMES];
    size_t n;
    int rc;
};

static uint32_t fnv(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static bool is_transport_error(int rc)
{
    return rc == MTP_ERR_TR_BAD_LENGTH || rc == MTP_ERR_TR_BAD_CRC || rc == MTP_ERR_TR_BAD_SEQ ||
           rc == MTP_ERR_TR_BAD_TAG;
}

/* Re-encodes one decoded frame and compares it with the stream bytes it came from. */
static void reencode_check(enum mtp_tr_kind kind, enum mtp_tr_side side, const struct mtp_tr_frame *f,
                           const uint8_t *stream, size_t stream_len, uint64_t end, bool with_tag)
{
    uint8_t buf[2048];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, buf, sizeof buf, NULL);
    struct mtp_tr_encoder e;
    mtp_tr_encoder_init(&e, kind, side, with_tag, NULL);
    e.seq = f->seq;
    struct mtp_rd r;
    mtp_rd_init(&r, stream, stream_len, NULL);
    uint64_t start = with_tag ? 0 : f->offset;
    const uint8_t *orig;
    if (end > stream_len || mtp_rd_skip(&r, (size_t)start, "start") != MTP_OK ||
        mtp_rd_raw(&r, (size_t)(end - start), &orig, "frame") != MTP_OK)
        __builtin_trap();
    int rc;
    if (f->is_ack) {
        const uint8_t *pad = NULL;
        size_t pad_len = 0;
        if (kind == MTP_TR_PADDED) {
            /* length, marker, token, then padding */
            pad_len = (size_t)(end - start) - 12;
            pad = orig + 12;
        }
        rc = mtp_tr_encode_ack(&e, f->ack_token, pad, pad_len, &w, NULL);
    } else {
        /* padded: the body (payload and padding) goes back as payload without extra padding */
        struct mtp_tr_send m = {.data = f->data, .len = f->len, .quick_ack = f->quick_ack,
                                .padding_given = kind == MTP_TR_PADDED, .padding = NULL, .padding_len = 0};
        rc = mtp_tr_encode(&e, &m, &w, NULL);
    }
    if (rc == MTP_ERR_OVERFLOW)
        return; /* frame larger than the scratch buffer: not checked */
    if (rc != MTP_OK)
        __builtin_trap();
    if (w.len == end - start && memcmp(w.p, orig, w.len) == 0)
        return;
    /* Lenient abridged: 0x7f + 3 bytes for fewer than 0x7f words. */
    size_t hdr = (size_t)(f->offset - start);
    if (kind == MTP_TR_ABRIDGED && !f->is_ack && (orig[hdr] & 0x7f) == 0x7f && f->len / 4 < 0x7f)
        return;
    __builtin_trap();
}

static void run_decoder(enum mtp_tr_kind kind, enum mtp_tr_side side, const struct mtp_tr_opts *opts,
                        const uint8_t *p, size_t len, uint8_t seed, bool chunked, struct run *out, bool oracle)
{
    struct mtp_tr_decoder d;
    mtp_tr_decoder_init(&d, kind, side, opts);
    memset(out, 0, sizeof *out);
    size_t at = 0;
    uint32_t lcg = seed;
    bool first = true;
    while (at < len && out->rc == MTP_OK) {
        size_t chunk = len - at;
        if (chunked) {
            lcg = lcg * 1103515245u + 12345u;
            size_t c = 1 + (lcg >> 16) % 37;
            if (c < chunk)
                chunk = c;
        }
        const uint8_t *q = p + at;
        size_t left = chunk;
        while (left > 0) {
            struct mtp_error err;
            mtp_error_clear(&err);
            struct mtp_tr_frame f;
            size_t n = left;
            int rc = mtp_tr_decode(&d, q, &n, &f, &err);
            if (n > left)
                __builtin_trap();
            q += n;
            left -= n;
            at += n;
            if (rc == MTP_ERR_NEED_MORE) {
                if (left != 0)
                    __builtin_trap();
                break;
            }
            if (rc < 0) {
                if (!is_transport_error(rc) || err.code != rc)
                    __builtin_trap();
                out->rc = rc;
                break;
            }
            if (f.len > (opts->max_frame ? opts->max_frame : MTP_TR_MAX_FRAME_DEFAULT) || (f.is_ack && f.len != 0))
                __builtin_trap();
            if (out->n < MAX_FRAMES) {
                struct frame_rec *r = &out->f[out->n++];
                r->offset = f.offset;
                r->end = d.offset;
                r->len = f.len;
                r->hash = fnv(f.data, f.len);
                r->quick_ack = f.quick_ack;
                r->is_ack = f.is_ack;
                r->token = f.ack_token;
                r->seq = f.seq;
            }
            if (oracle)
                reencode_check(kind, side, &f, p, len, d.offset, first && side == MTP_TR_CLIENT);
            first = false;
        }
    }
    if (out->rc == MTP_OK) {
        out->rc = mtp_tr_decoder_finish(&d, NULL);
        if (out->rc != MTP_OK && !is_transport_error(out->rc))
            __builtin_trap();
    }
    mtp_tr_decoder_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const enum mtp_tr_kind kinds[] = {MTP_TR_ABRIDGED, MTP_TR_INTERMEDIATE, MTP_TR_PADDED, MTP_TR_FULL};
    enum mtp_tr_kind kind = kinds[data[0] & 3];
    enum mtp_tr_side side = (data[0] & 4) ? MTP_TR_SERVER : MTP_TR_CLIENT;
    struct mtp_tr_opts opts = {.strict = (data[0] & 8) != 0, .max_frame = (data[0] & 16) ? 256 : 0};
    struct run whole, split;
    run_decoder(kind, side, &opts, data + 2, size - 2, data[1], false, &whole, true);
    run_decoder(kind, side, &opts, data + 2, size - 2, data[1], true, &split, false);
    if (whole.rc != split.rc || whole.n != split.n)
        __builtin_trap();
    for (size_t i = 0; i < whole.n; i++) {
        const struct frame_rec *a = &whole.f[i], *b = &split.f[i];
        if (a->offset != b->offset || a->end != b->end || a->len != b->len || a->hash != b->hash ||
            a->quick_ack != b->quick_ack || a->is_ack != b->is_ack || a->token != b->token || a->seq != b->seq)
            __builtin_trap();
    }
    return 0;
}
