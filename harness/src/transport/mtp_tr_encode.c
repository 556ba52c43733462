/* Frame encoder for the four MTProto TCP transports. */
#include <string.h>
#include <zlib.h>

#include "mtp/transport.h"

void mtp_tr_encoder_init(struct mtp_tr_encoder *e, enum mtp_tr_kind kind, enum mtp_tr_side side, bool send_tag,
                         const struct mtp_env *env)
{
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->side = side;
    e->tag_pending = send_tag && side == MTP_TR_CLIENT && kind != MTP_TR_FULL;
    e->env = env;
}

static int bad_length(struct mtp_error *err, const struct mtp_tr_encoder *e, const char *what, size_t len)
{
    return mtp_error_set(err, MTP_ERR_TR_BAD_LENGTH, MTP_NO_OFFSET, "%s.encode: %s (payload of %zu bytes)",
                         mtp_tr_kind_name(e->kind), what, len);
}

static int write_tag(struct mtp_tr_encoder *e, struct mtp_wr *out)
{
    if (!e->tag_pending)
        return MTP_OK;
    switch (e->kind) {
    case MTP_TR_ABRIDGED:
        MTP_GUARD(mtp_wr_u8(out, 0xef));
        break;
    case MTP_TR_INTERMEDIATE:
        MTP_GUARD(mtp_wr_u32(out, 0xeeeeeeeeu));
        break;
    case MTP_TR_PADDED:
        MTP_GUARD(mtp_wr_u32(out, 0xddddddddu));
        break;
    case MTP_TR_FULL:
        break;
    }
    e->tag_pending = false;
    return MTP_OK;
}

int mtp_tr_encode_tag(struct mtp_tr_encoder *e, struct mtp_wr *out, struct mtp_error *err)
{
    int rc = write_tag(e, out);
    if (rc < 0)
        return mtp_error_set(err, rc, MTP_NO_OFFSET, "%s.encode: the output cannot take the tag",
                             mtp_tr_kind_name(e->kind));
    return MTP_OK;
}

/* Padding for padded intermediate: given by the caller, or 0..max random bytes from env. */
static int padding_for(const struct mtp_tr_encoder *e, bool given, const uint8_t *padding, size_t padding_len,
                       size_t max, uint8_t buf[MTP_TR_PADDING_MAX], size_t *len, struct mtp_error *err)
{
    if (given) {
        if (padding_len > max || (padding_len > 0 && padding == NULL))
            return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "padded.encode: %zu padding bytes, at most %zu",
                                 padding_len, max);
        if (padding_len)
            memcpy(buf, padding, padding_len);
        *len = padding_len;
        return MTP_OK;
    }
    if (e->env == NULL)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "padded.encode: no padding given and no env to draw it");
    uint8_t n;
    int rc = mtp_env_rand(e->env, &n, 1);
    if (rc < 0)
        return mtp_error_set(err, rc, MTP_NO_OFFSET, "padded.encode: randomness for the padding length failed");
    /* Exact for 16 values; the small bias for 9 (quick-ack padding) is
     * harmless, the padding only blurs lengths. */
    *len = n % (max + 1);
    if (*len > 0 && (rc = mtp_env_rand(e->env, buf, *len)) < 0)
        return mtp_error_set(err, rc, MTP_NO_OFFSET, "padded.encode: randomness for the padding failed");
    return MTP_OK;
}

int mtp_tr_encode(struct mtp_tr_encoder *e, const struct mtp_tr_send *m, struct mtp_wr *out, struct mtp_error *err)
{
    if (m->quick_ack && e->side == MTP_TR_SERVER)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "%s.encode: only clients request quick acks",
                             mtp_tr_kind_name(e->kind));
    if (m->quick_ack && e->kind == MTP_TR_FULL)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "full.encode: the full transport has no quick acks");
    if (m->len == 0)
        return bad_length(err, e, "empty payload", 0);
    if (m->padding_given && e->kind != MTP_TR_PADDED)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "%s.encode: padding is for padded intermediate only",
                             mtp_tr_kind_name(e->kind));
    size_t mark = out->len;
    bool tag_pending = e->tag_pending;
    int rc = MTP_OK;
    switch (e->kind) {
    case MTP_TR_ABRIDGED: {
        if (m->len % 4 != 0)
            return bad_length(err, e, "not a multiple of 4", m->len);
        size_t words = m->len / 4;
        if (words >= (size_t)1 << 24)
            return bad_length(err, e, "over 3 length bytes", m->len);
        uint8_t ack = m->quick_ack ? 0x80 : 0;
        MTP_TRY(write_tag(e, out));
        if (words < 0x7f && !m->abridged_long) {
            MTP_TRY(mtp_wr_u8(out, (uint8_t)(words | ack)));
        } else {
            MTP_TRY(mtp_wr_u8(out, (uint8_t)(0x7f | ack)));
            MTP_TRY(mtp_wr_u24(out, (uint32_t)words));
        }
        MTP_TRY(mtp_wr_raw(out, m->data, m->len));
        break;
    }
    case MTP_TR_INTERMEDIATE:
        if (m->len > 0x7fffffffu)
            return bad_length(err, e, "over 31 bits", m->len);
        MTP_TRY(write_tag(e, out));
        MTP_TRY(mtp_wr_u32(out, (uint32_t)m->len | (m->quick_ack ? MTP_TR_QUICK_ACK_BIT : 0)));
        MTP_TRY(mtp_wr_raw(out, m->data, m->len));
        break;
    case MTP_TR_PADDED: {
        uint8_t pad[MTP_TR_PADDING_MAX];
        size_t pad_len;
        MTP_GUARD(padding_for(e, m->padding_given, m->padding, m->padding_len, MTP_TR_PADDING_MAX, pad, &pad_len,
                              err));
        if (m->len > 0x7fffffffu - pad_len)
            return bad_length(err, e, "over 31 bits", m->len);
        MTP_TRY(write_tag(e, out));
        MTP_TRY(mtp_wr_u32(out, (uint32_t)(m->len + pad_len) | (m->quick_ack ? MTP_TR_QUICK_ACK_BIT : 0)));
        MTP_TRY(mtp_wr_raw(out, m->data, m->len));
        MTP_TRY(mtp_wr_raw(out, pad, pad_len));
        break;
    }
    case MTP_TR_FULL: {
        if (m->len > 0xffffffffu - 12)
            return bad_length(err, e, "over 32 bits", m->len);
        size_t start = out->len;
        MTP_TRY(mtp_wr_u32(out, (uint32_t)(m->len + 12)));
        MTP_TRY(mtp_wr_u32(out, m->full_bad_seq ? e->seq + 1 : e->seq));
        MTP_TRY(mtp_wr_raw(out, m->data, m->len));
        uLong crc = crc32(0L, Z_NULL, 0);
        for (size_t done = start; done < out->len;) {
            size_t n = out->len - done > 0x40000000u ? 0x40000000u : out->len - done;
            crc = crc32(crc, out->p + done, (uInt)n);
            done += n;
        }
        MTP_TRY(mtp_wr_u32(out, (uint32_t)crc ^ (m->full_bad_crc ? 1u : 0u)));
        e->seq++;
        break;
    }
    default:
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "transport encoder: unknown kind %d", (int)e->kind);
    }
    return MTP_OK;
out:
    /* Nothing half-written stays in out. */
    out->len = mark;
    e->tag_pending = tag_pending;
    return mtp_error_set(err, rc, MTP_NO_OFFSET, "%s.encode: the output cannot take the frame",
                         mtp_tr_kind_name(e->kind));
}

int mtp_tr_encode_ack(struct mtp_tr_encoder *e, uint32_t token, const uint8_t *padding, size_t padding_len,
                      struct mtp_wr *out, struct mtp_error *err)
{
    if (e->side != MTP_TR_SERVER)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "%s.encode_ack: only servers send quick-ack tokens",
                             mtp_tr_kind_name(e->kind));
    if (!(token & MTP_TR_QUICK_ACK_BIT))
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "%s.encode_ack: token 0x%08x lacks the MSB",
                             mtp_tr_kind_name(e->kind), token);
    if (padding != NULL && e->kind != MTP_TR_PADDED)
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "%s.encode_ack: padding is for padded intermediate only",
                             mtp_tr_kind_name(e->kind));
    size_t mark = out->len;
    int rc = MTP_OK;
    switch (e->kind) {
    case MTP_TR_ABRIDGED:
        /* "bswapped": the token's LE bytes reversed, i.e. big-endian. */
        MTP_TRY(mtp_wr_u32_be(out, token));
        break;
    case MTP_TR_INTERMEDIATE:
        MTP_TRY(mtp_wr_u32(out, token));
        break;
    case MTP_TR_PADDED: {
        uint8_t pad[MTP_TR_PADDING_MAX];
        size_t pad_len;
        MTP_GUARD(padding_for(e, padding != NULL, padding, padding_len, MTP_TR_ACK_PADDING_MAX, pad, &pad_len, err));
        MTP_TRY(mtp_wr_u32(out, (uint32_t)(8 + pad_len)));
        MTP_TRY(mtp_wr_u32(out, 0xffffffffu));
        MTP_TRY(mtp_wr_u32(out, token));
        MTP_TRY(mtp_wr_raw(out, pad, pad_len));
        break;
    }
    default:
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "%s.encode_ack: the transport has no quick acks",
                             mtp_tr_kind_name(e->kind));
    }
    return MTP_OK;
out:
    out->len = mark;
    return mtp_error_set(err, rc, MTP_NO_OFFSET, "%s.encode_ack: the output cannot take the frame",
                         mtp_tr_kind_name(e->kind));
}
