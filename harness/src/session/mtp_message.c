#include "mtp/message.h"

int mtp_msg_parse(struct mtp_rd *r, struct mtp_msg_header *h, struct mtp_rd *body)
{
    if (mtp_rd_left(r) < MTP_MSG_HEADER_LEN)
        return mtp_rd_fail(r, MTP_ERR_SES_SHORT, "message: %zu bytes, shorter than the %d-byte header at offset %zu",
                           mtp_rd_left(r), MTP_MSG_HEADER_LEN, mtp_rd_offset(r));
    struct mtp_rd t = *r;
    int32_t len;
    MTP_GUARD(mtp_rd_u64(&t, &h->salt, "message.salt"));
    MTP_GUARD(mtp_rd_u64(&t, &h->session_id, "message.session_id"));
    MTP_GUARD(mtp_rd_u64(&t, &h->msg_id, "message.msg_id"));
    MTP_GUARD(mtp_rd_i32(&t, &h->seqno, "message.seq_no"));
    size_t len_at = mtp_rd_offset(&t);
    MTP_GUARD(mtp_rd_i32(&t, &len, "message.message_data_length"));
    if (len < 0 || (len & 3) != 0 || (size_t)len > mtp_rd_left(&t))
        return mtp_error_set(r->err, MTP_ERR_SES_BAD_LENGTH, len_at,
                             "message.message_data_length: %d at offset %zu is %s (%zu bytes follow)", len, len_at,
                             len < 0 ? "negative" : (len & 3) ? "not a multiple of 4" : "beyond the plaintext",
                             mtp_rd_left(&t));
    h->length = (uint32_t)len;
    MTP_GUARD(mtp_rd_sub(&t, (size_t)len, body, "message.message_data"));
    *r = t;
    return MTP_OK;
}

size_t mtp_msg_padding_len(size_t body_len, unsigned extra_blocks)
{
    size_t base = MTP_MSG_HEADER_LEN + body_len + MTP_MSG_MIN_PADDING;
    size_t pad = MTP_MSG_MIN_PADDING + (16 - base % 16) % 16;
    size_t extra = (size_t)extra_blocks * 16;
    /* Never beyond the 1024-byte maximum. */
    while (extra > 0 && pad + extra > MTP_MSG_MAX_PADDING)
        extra -= 16;
    return pad + extra;
}

int mtp_msg_build(struct mtp_wr *w, const struct mtp_msg_header *h, const uint8_t *body, size_t body_len,
                  size_t padding_len, const struct mtp_env *env)
{
    if (body_len > INT32_MAX || (body_len & 3) != 0)
        return mtp_error_set(w->err, MTP_ERR_ARG, MTP_NO_OFFSET, "message body: length %zu is not a multiple of 4",
                             body_len);
    MTP_GUARD(mtp_wr_u64(w, h->salt));
    MTP_GUARD(mtp_wr_u64(w, h->session_id));
    MTP_GUARD(mtp_wr_u64(w, h->msg_id));
    MTP_GUARD(mtp_wr_i32(w, h->seqno));
    MTP_GUARD(mtp_wr_i32(w, (int32_t)body_len));
    MTP_GUARD(mtp_wr_raw(w, body, body_len));
    if (padding_len == 0)
        return MTP_OK;
    uint8_t *pad;
    MTP_GUARD(mtp_wr_reserve(w, padding_len, &pad));
    int rc = mtp_env_rand(env, pad, padding_len);
    if (rc < 0)
        return mtp_error_set(w->err, rc, MTP_NO_OFFSET, "message padding: randomness failed");
    return MTP_OK;
}
