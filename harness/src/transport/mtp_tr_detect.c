/* Server-side transport detection from the first bytes of a connection.
 *
 * The spec says the server "recognizes these different protocols (and
 * distinguishes them from HTTP, too) by the header", and its obfuscation
 * section lists what a random 64-byte init must avoid so that it cannot be
 * taken for anything else.  Read together they give the rule:
 *
 *   byte 0 == 0xef                                 abridged      (1 tag byte)
 *   bytes 0..3 == ee ee ee ee                      intermediate  (4 tag bytes)
 *   bytes 0..3 == dd dd dd dd                      padded        (4 tag bytes)
 *   bytes 0..3 == "HEAD" "POST" "GET " "OPTI"      HTTP
 *   bytes 0..3 == 16 03 01 02                      a TLS ClientHello (MTProxy fake-TLS)
 *   bytes 4..7 == 00 00 00 00                      full: the first frame's seq is 0
 *   otherwise, after 64 bytes                      obfuscated2 init
 *
 * Ambiguities.  The rule is a heuristic, not a grammar: a full-transport
 * stream whose first length has 0xef as its low byte (an odd length, so never
 * a 4-aligned MTProto payload) reads as abridged; one whose first length reads
 * as a tag or an HTTP method (all of them far above any frame limit) reads as
 * those.  An obfuscated init is only recognised as such because clients avoid
 * every prefix above; an init that does not (see obfs_bad_init) is taken for
 * the transport it imitates.  Which of abridged/intermediate/padded hides
 * inside an init is known only after decrypting it (mtp_obfs_server_init). */
#include <string.h>

#include "mtp/transport.h"

void mtp_tr_detector_init(struct mtp_tr_detector *d) { memset(d, 0, sizeof *d); }

static const uint32_t http_methods[] = {
    0x44414548u, /* "HEAD" */
    0x54534f50u, /* "POST" */
    0x20544547u, /* "GET " */
    0x4954504fu, /* "OPTI" (OPTIONS) */
};
#define TLS_CLIENT_HELLO 0x02010316u /* 16 03 01 02: handshake record, TLS 1.0 version, length >= 512 */

/* How many bytes the detector must hold before it can decide anything more. */
static size_t next_decision(const struct mtp_tr_detector *d)
{
    if (d->have == 0)
        return 1;
    if (d->have < 4)
        return 4;
    if (d->have < 8)
        return 8;
    return 64;
}

static void plain(struct mtp_tr_detection *out, enum mtp_tr_kind kind, size_t header_len)
{
    out->envelope = MTP_TR_ENV_PLAIN;
    out->kind = kind;
    out->header_len = header_len;
}

/* MTP_OK when the bytes held so far decide the transport. */
static int decide(struct mtp_tr_detector *d, struct mtp_tr_detection *out)
{
    memset(out, 0, sizeof *out);
    struct mtp_rd r;
    mtp_rd_init(&r, d->buf, d->have, NULL);
    uint8_t b0;
    if (mtp_rd_u8(&r, &b0, "first_byte") != MTP_OK)
        return MTP_ERR_NEED_MORE;
    if (b0 == 0xef) {
        plain(out, MTP_TR_ABRIDGED, 1);
        return MTP_OK;
    }
    mtp_rd_init(&r, d->buf, d->have, NULL);
    uint32_t first, second;
    if (mtp_rd_u32(&r, &first, "first_int") != MTP_OK)
        return MTP_ERR_NEED_MORE;
    if (first == 0xeeeeeeeeu) {
        plain(out, MTP_TR_INTERMEDIATE, 4);
        return MTP_OK;
    }
    if (first == 0xddddddddu) {
        plain(out, MTP_TR_PADDED, 4);
        return MTP_OK;
    }
    for (size_t i = 0; i < sizeof http_methods / sizeof http_methods[0]; i++)
        if (first == http_methods[i])
            out->envelope = MTP_TR_ENV_HTTP;
    if (first == TLS_CLIENT_HELLO)
        out->envelope = MTP_TR_ENV_TLS;
    if (out->envelope != 0) {
        out->replay = d->buf;
        out->replay_len = d->have;
        return MTP_OK;
    }
    if (mtp_rd_u32(&r, &second, "second_int") != MTP_OK)
        return MTP_ERR_NEED_MORE;
    if (second == 0) {
        plain(out, MTP_TR_FULL, 0);
        out->replay = d->buf;
        out->replay_len = d->have;
        return MTP_OK;
    }
    if (d->have < 64)
        return MTP_ERR_NEED_MORE;
    out->envelope = MTP_TR_ENV_OBFS2;
    out->header_len = 64;
    out->init = d->buf;
    return MTP_OK;
}

int mtp_tr_detect(struct mtp_tr_detector *d, const uint8_t *in, size_t *in_len, struct mtp_tr_detection *out,
                  struct mtp_error *err)
{
    struct mtp_rd r;
    mtp_rd_init(&r, in, *in_len, err);
    *in_len = 0;
    if (d->done)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "transport detection: already decided");
    for (;;) {
        size_t want = next_decision(d) - d->have;
        if (want > mtp_rd_left(&r))
            want = mtp_rd_left(&r);
        /* Cannot fail: want is bounded by what is left and by the buffer. */
        MTP_GUARD(mtp_rd_copy(&r, d->buf + d->have, want, "transport_header"));
        d->have += want;
        *in_len = r.pos;
        if (decide(d, out) == MTP_OK) {
            d->done = true;
            return MTP_OK;
        }
        if (mtp_rd_left(&r) == 0)
            return MTP_ERR_NEED_MORE;
    }
}
