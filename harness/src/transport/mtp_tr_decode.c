/* Incremental frame decoder for the four MTProto TCP transports.
 *
 * A small state machine: tag -> header -> body -> frame.  The header (at most
 * 8 bytes) is collected in the struct; a body is handed out in place when it
 * arrives whole in one input, and collected in a buffer sized to the frame
 * only when it arrives split.  Length claims are checked against the limit as
 * soon as the header is complete, so no byte of an oversized body is kept. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "mtp/transport.h"

static const uint8_t tag_abridged[1] = {0xef};
static const uint8_t tag_intermediate[4] = {0xee, 0xee, 0xee, 0xee};
static const uint8_t tag_padded[4] = {0xdd, 0xdd, 0xdd, 0xdd};

static const uint8_t *kind_tag(enum mtp_tr_kind kind, size_t *len)
{
    switch (kind) {
    case MTP_TR_ABRIDGED:
        *len = sizeof tag_abridged;
        return tag_abridged;
    case MTP_TR_INTERMEDIATE:
        *len = sizeof tag_intermediate;
        return tag_intermediate;
    case MTP_TR_PADDED:
        *len = sizeof tag_padded;
        return tag_padded;
    case MTP_TR_FULL:
        break;
    }
    *len = 0;
    return NULL;
}

/* Header bytes known to be needed before anything can be parsed. */
static uint8_t first_header_len(enum mtp_tr_kind kind)
{
    switch (kind) {
    case MTP_TR_ABRIDGED:
        return 1;
    case MTP_TR_FULL:
        return 8;
    default:
        return 4;
    }
}

static void start_frame(struct mtp_tr_decoder *d, uint64_t offset)
{
    d->hdr_have = 0;
    d->hdr_need = first_header_len(d->kind);
    d->in_body = false;
    d->quick_ack = false;
    d->buffered = false;
    d->body_len = 0;
    d->body_have = 0;
    d->frame_offset = offset;
}

void mtp_tr_decoder_init(struct mtp_tr_decoder *d, enum mtp_tr_kind kind, enum mtp_tr_side from,
                         const struct mtp_tr_opts *opts)
{
    memset(d, 0, sizeof *d);
    d->kind = kind;
    d->from = from;
    if (opts)
        d->opts = *opts;
    if (d->opts.max_frame == 0)
        d->opts.max_frame = MTP_TR_MAX_FRAME_DEFAULT;
    /* No transport can announce more than 4 GiB; this also keeps + 4 below from wrapping. */
    if (d->opts.max_frame > 0xffffffffu)
        d->opts.max_frame = 0xffffffffu;
    size_t tag_len = 0;
    (void)kind_tag(kind, &tag_len);
    d->tag_left = (from == MTP_TR_CLIENT && !d->opts.no_tag) ? (uint8_t)tag_len : 0;
    /* + 4: full's CRC trailer is buffered with the payload. */
    mtp_wr_init_dyn(&d->buf, d->opts.max_frame + 4, NULL);
    start_frame(d, 0);
}

void mtp_tr_decoder_free(struct mtp_tr_decoder *d) { mtp_wr_free(&d->buf); }

static int fail(struct mtp_error *err, int code, uint64_t offset, const char *fmt, ...) MTP_PRINTF(4, 5);
static int fail(struct mtp_error *err, int code, uint64_t offset, const char *fmt, ...)
{
    char msg[MTP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mtp_error_set(err, code, (size_t)offset, "%s", msg);
}

static int bad_length(const struct mtp_tr_decoder *d, struct mtp_error *err, const char *what, uint64_t value)
{
    return fail(err, MTP_ERR_TR_BAD_LENGTH, d->frame_offset, "%s.length: %s (%llu) in the frame at offset %llu",
                mtp_tr_kind_name(d->kind), what, (unsigned long long)value, (unsigned long long)d->frame_offset);
}

/* Records the body length a header announces, checked against the limit. */
static int set_body(struct mtp_tr_decoder *d, struct mtp_error *err, uint64_t payload_len, size_t trailer)
{
    if (payload_len == 0)
        return bad_length(d, err, "empty frame", 0);
    if (payload_len > d->opts.max_frame)
        return bad_length(d, err, "exceeds the frame size limit", payload_len);
    d->body_len = (size_t)payload_len + trailer;
    d->in_body = true;
    return MTP_OK;
}

/* Called whenever the header buffer holds hdr_need bytes.  Either asks for
 * more header bytes (abridged's long form and server quick acks), announces a
 * body (in_body set), or completes a body-less quick-ack frame (*ack set). */
static int parse_header(struct mtp_tr_decoder *d, struct mtp_error *err, bool *ack, uint32_t *token)
{
    struct mtp_rd r;
    mtp_rd_init(&r, d->hdr, d->hdr_have, err);
    r.base = (size_t)d->frame_offset;
    *ack = false;
    switch (d->kind) {
    case MTP_TR_ABRIDGED: {
        uint8_t b;
        MTP_GUARD(mtp_rd_u8(&r, &b, "abridged.length"));
        bool long_form = (b & 0x7f) == 0x7f;
        /* From a server, an MSB-set first byte starts a quick-ack token sent
         * "bswapped": the token's 4 bytes in reverse order, i.e. the token as
         * a big-endian int, whose set MSB comes first.  Server lengths are
         * <= 0x7f, so the two cannot be confused. */
        bool server_ack = d->from == MTP_TR_SERVER && (b & 0x80);
        if ((long_form || server_ack) && d->hdr_have < 4) {
            d->hdr_need = 4;
            return MTP_OK;
        }
        if (server_ack) {
            mtp_rd_init(&r, d->hdr, 4, err);
            r.base = (size_t)d->frame_offset;
            MTP_GUARD(mtp_rd_u32_be(&r, token, "abridged.quick_ack_token"));
            *ack = true;
            return MTP_OK;
        }
        d->quick_ack = (b & 0x80) != 0;
        uint32_t words = b & 0x7f;
        /* The 0x7f form is required from 0x7f words on and not forbidden below
         * (mtproto-transports, "Abridged"): even a strict decoder takes it. */
        if (long_form)
            MTP_GUARD(mtp_rd_u24(&r, &words, "abridged.length"));
        return set_body(d, err, (uint64_t)words * 4, 0);
    }
    case MTP_TR_INTERMEDIATE:
    case MTP_TR_PADDED: {
        uint32_t v;
        MTP_GUARD(mtp_rd_u32(&r, &v, "length"));
        if (d->from == MTP_TR_SERVER && (v & MTP_TR_QUICK_ACK_BIT)) {
            /* Intermediate servers send the bare token (LE, as computed);
             * padded servers frame theirs, so an MSB there is an absurd length. */
            if (d->kind == MTP_TR_PADDED)
                return bad_length(d, err, "MSB set in a server's length", v);
            *token = v;
            *ack = true;
            return MTP_OK;
        }
        if (d->from == MTP_TR_CLIENT) {
            d->quick_ack = (v & MTP_TR_QUICK_ACK_BIT) != 0;
            v &= ~MTP_TR_QUICK_ACK_BIT;
        }
        if (d->kind == MTP_TR_INTERMEDIATE && d->opts.strict && v % 4 != 0)
            return bad_length(d, err, "not a multiple of 4 (strict)", v);
        return set_body(d, err, v, 0);
    }
    case MTP_TR_FULL: {
        uint32_t len;
        MTP_GUARD(mtp_rd_u32(&r, &len, "full.length"));
        /* seq is checked after the CRC, which covers it: a corrupted frame
         * should be reported as corrupted, not as out of order. */
        if (len < 12)
            return bad_length(d, err, "below the 12-byte envelope", len);
        if (d->opts.strict && len % 4 != 0)
            return bad_length(d, err, "not a multiple of 4 (strict)", len);
        return set_body(d, err, (uint64_t)len - 12, 4);
    }
    }
    return fail(err, MTP_ERR_ARG, d->frame_offset, "transport decoder: unknown kind %d", (int)d->kind);
}

static uint32_t crc32_of(uint32_t crc, const uint8_t *p, size_t n)
{
    /* zlib takes uInt lengths. */
    while (n > 0) {
        uInt chunk = n > 0x40000000u ? 0x40000000u : (uInt)n;
        crc = (uint32_t)crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return crc;
}

/* Server frames of 4 bytes holding a negative int are transport errors; in
 * padded intermediate up to 15 bytes of padding follow, and no MTProto packet
 * is that short (see mtp_tr_padded_payload_len). */
static void classify_error(const struct mtp_tr_decoder *d, struct mtp_tr_frame *f)
{
    if (d->from != MTP_TR_SERVER)
        return;
    size_t max = d->kind == MTP_TR_PADDED ? 4 + MTP_TR_PADDING_MAX : 4;
    if (f->len < 4 || f->len > max)
        return;
    struct mtp_rd r;
    mtp_rd_init(&r, f->data, f->len, NULL);
    int32_t code;
    /* -1 (FFFFFFFF) is what padded quick acks start with, "not a valid transport error". */
    if (mtp_rd_i32(&r, &code, "transport_error") == MTP_OK && code < 0 && code != -1)
        f->transport_error = code;
}

/* Checks a complete body (full: CRC, then seq; padded server frames may be
 * quick acks) and fills the frame. */
static int finish_frame(struct mtp_tr_decoder *d, const uint8_t *body, struct mtp_tr_frame *f, struct mtp_error *err)
{
    memset(f, 0, sizeof *f);
    f->offset = d->frame_offset;
    f->quick_ack = d->quick_ack;
    struct mtp_rd r;
    mtp_rd_init(&r, body, d->body_len, err);
    r.base = (size_t)d->frame_offset + d->hdr_have;
    if (d->kind == MTP_TR_FULL) {
        size_t payload_len = d->body_len - 4;
        uint32_t crc_wire;
        MTP_GUARD(mtp_rd_raw(&r, payload_len, &f->data, "full.payload"));
        MTP_GUARD(mtp_rd_u32(&r, &crc_wire, "full.crc"));
        uint32_t crc = crc32_of(crc32_of((uint32_t)crc32(0L, Z_NULL, 0), d->hdr, 8), f->data, payload_len);
        if (crc != crc_wire && !d->opts.skip_crc)
            return fail(err, MTP_ERR_TR_BAD_CRC, d->frame_offset + 8 + payload_len,
                        "full.crc: the frame at offset %llu carries 0x%08x, CRC32 of length, seq and payload is 0x%08x",
                        (unsigned long long)d->frame_offset, crc_wire, crc);
        uint32_t seq = mtp_load_u32(d->hdr + 4);
        if (seq != d->seq && !d->opts.skip_crc)
            return fail(err, MTP_ERR_TR_BAD_SEQ, d->frame_offset + 4,
                        "full.seq: the frame at offset %llu has seq %u, expected %u",
                        (unsigned long long)d->frame_offset, seq, d->seq);
        d->seq++;
        f->seq = seq;
        f->len = payload_len;
        classify_error(d, f);
        return MTP_OK;
    }
    /* Padded servers frame quick acks as FFFFFFFF || token || 0..8 bytes:
     * at most 16 bytes, shorter than any MTProto packet, and the marker is
     * no valid transport error code. */
    if (d->kind == MTP_TR_PADDED && d->from == MTP_TR_SERVER && d->body_len >= 8 &&
        d->body_len <= 8 + MTP_TR_ACK_PADDING_MAX) {
        struct mtp_rd peek = r;
        uint32_t marker, token;
        MTP_GUARD(mtp_rd_u32(&peek, &marker, "padded.quick_ack_marker"));
        MTP_GUARD(mtp_rd_u32(&peek, &token, "padded.quick_ack_token"));
        /* A token without its MSB is no token: such a frame goes up as
         * data, where it is too short for any MTProto packet. */
        if (marker == 0xffffffffu && (token & MTP_TR_QUICK_ACK_BIT)) {
            f->ack_token = token;
            f->is_ack = true;
            return MTP_OK;
        }
    }
    MTP_GUARD(mtp_rd_raw(&r, d->body_len, &f->data, "payload"));
    f->len = d->body_len;
    classify_error(d, f);
    return MTP_OK;
}

static int check_tag(struct mtp_tr_decoder *d, struct mtp_rd *r, struct mtp_error *err)
{
    size_t tag_len;
    const uint8_t *tag = kind_tag(d->kind, &tag_len);
    while (d->tag_left > 0 && mtp_rd_left(r) > 0) {
        size_t at = tag_len - d->tag_left;
        uint8_t b;
        MTP_GUARD(mtp_rd_u8(r, &b, "tag"));
        if (b != tag[at])
            return fail(err, MTP_ERR_TR_BAD_TAG, mtp_rd_offset(r) - 1, "%s.tag: byte %zu is 0x%02x, expected 0x%02x",
                        mtp_tr_kind_name(d->kind), at, b, tag[at]);
        d->tag_left--;
    }
    if (d->tag_left > 0)
        return MTP_ERR_NEED_MORE;
    start_frame(d, mtp_rd_offset(r));
    return MTP_OK;
}

/* Advances through as much of r as belongs to the current frame. */
static int step(struct mtp_tr_decoder *d, struct mtp_rd *r, struct mtp_tr_frame *frame, struct mtp_error *err)
{
    if (d->tag_left > 0)
        MTP_GUARD(check_tag(d, r, err));

    while (!d->in_body) {
        if (mtp_rd_left(r) == 0)
            return MTP_ERR_NEED_MORE;
        size_t want = d->hdr_need - d->hdr_have;
        if (want > mtp_rd_left(r))
            want = mtp_rd_left(r);
        MTP_GUARD(mtp_rd_copy(r, d->hdr + d->hdr_have, want, "header"));
        d->hdr_have = (uint8_t)(d->hdr_have + want);
        if (d->hdr_have < d->hdr_need)
            return MTP_ERR_NEED_MORE;
        bool ack;
        uint32_t token = 0;
        MTP_GUARD(parse_header(d, err, &ack, &token));
        if (ack) {
            memset(frame, 0, sizeof *frame);
            frame->is_ack = true;
            frame->ack_token = token;
            frame->offset = d->frame_offset;
            start_frame(d, mtp_rd_offset(r));
            return MTP_OK;
        }
    }

    if (!d->buffered && mtp_rd_left(r) >= d->body_len) {
        const uint8_t *body;
        MTP_GUARD(mtp_rd_raw(r, d->body_len, &body, "body"));
        MTP_GUARD(finish_frame(d, body, frame, err));
        start_frame(d, mtp_rd_offset(r));
        return MTP_OK;
    }
    if (mtp_rd_left(r) == 0)
        return MTP_ERR_NEED_MORE;
    /* The buffer grows with what arrives, not with what the header claims:
     * a peer that announces 16 MiB and sends one byte costs one byte. */
    d->buffered = true;
    size_t want = d->body_len - d->body_have;
    if (want > mtp_rd_left(r))
        want = mtp_rd_left(r);
    const uint8_t *piece;
    MTP_GUARD(mtp_rd_raw(r, want, &piece, "body"));
    int rc = mtp_wr_raw(&d->buf, piece, want);
    if (rc < 0)
        return fail(err, rc, mtp_rd_offset(r), "%s: cannot buffer a %zu-byte frame", mtp_tr_kind_name(d->kind),
                    d->body_len);
    d->body_have += want;
    if (d->body_have < d->body_len)
        return MTP_ERR_NEED_MORE;
    MTP_GUARD(finish_frame(d, d->buf.p, frame, err));
    start_frame(d, mtp_rd_offset(r));
    return MTP_OK;
}

int mtp_tr_decode(struct mtp_tr_decoder *d, const uint8_t *in, size_t *in_len, struct mtp_tr_frame *frame,
                  struct mtp_error *err)
{
    if (d->failed) {
        *in_len = 0;
        return mtp_error_set(err, d->failed, (size_t)d->offset, "%s decoder: the stream was already rejected (%s)",
                             mtp_tr_kind_name(d->kind), mtp_err_name(d->failed));
    }
    /* A frame handed out of the buffer stays valid until this call. */
    if (d->hdr_have == 0 && !d->in_body)
        mtp_wr_reset(&d->buf);
    struct mtp_rd r;
    mtp_rd_init(&r, in, *in_len, err);
    r.base = (size_t)d->offset;
    int rc = step(d, &r, frame, err);
    d->offset += r.pos;
    *in_len = r.pos;
    if (rc < 0 && rc != MTP_ERR_NEED_MORE)
        d->failed = rc;
    return rc;
}

int mtp_tr_decoder_finish(const struct mtp_tr_decoder *d, struct mtp_error *err)
{
    if (d->failed)
        return mtp_error_set(err, d->failed, (size_t)d->offset, "%s decoder: the stream was already rejected (%s)",
                             mtp_tr_kind_name(d->kind), mtp_err_name(d->failed));
    size_t tag_len;
    (void)kind_tag(d->kind, &tag_len);
    /* An empty stream is a connection that said nothing, not a broken one. */
    if (d->tag_left > 0 && d->offset > 0)
        return mtp_error_set(err, MTP_ERR_TR_BAD_TAG, (size_t)d->offset,
                             "%s.tag: the stream ends after %zu of the %zu tag bytes", mtp_tr_kind_name(d->kind),
                             tag_len - d->tag_left, tag_len);
    if (d->tag_left > 0 || (d->hdr_have == 0 && !d->in_body))
        return MTP_OK;
    if (!d->in_body)
        return mtp_error_set(err, MTP_ERR_TR_BAD_LENGTH, (size_t)d->frame_offset,
                             "%s.length: the stream ends %u bytes into the header of the frame at offset %llu",
                             mtp_tr_kind_name(d->kind), (unsigned)d->hdr_have, (unsigned long long)d->frame_offset);
    return mtp_error_set(err, MTP_ERR_TR_BAD_LENGTH, (size_t)d->frame_offset,
                         "%s.length: the frame at offset %llu announces a %zu-byte body, the stream ends after %zu",
                         mtp_tr_kind_name(d->kind), (unsigned long long)d->frame_offset, d->body_len, d->body_have);
}
