/* The mock DC's padding policy (see mtps_pad.h). */
#include "mtps_pad.h"

#include "mtp/container.h"
#include "mtp/message.h"
#include "mtp/service.h"

/* The legal paddings of a body are first, first + 16, ... up to 1024. */
static size_t first_legal(size_t body_len) { return mtp_msg_padding_len(body_len, 0); }

static size_t last_legal(size_t body_len)
{
    size_t p = first_legal(body_len);
    return p + (MTP_MSG_MAX_PADDING - p) / 16 * 16;
}

size_t mtps_pad_len(enum mtps_padding policy, uint32_t exact, size_t body_len)
{
    size_t lo = first_legal(body_len), hi = last_legal(body_len);
    if (policy == MTPS_PAD_MAX)
        return hi;
    if (policy != MTPS_PAD_EXACT || exact <= lo)
        return lo;
    if (exact >= hi)
        return hi;
    size_t below = lo + (exact - lo) / 16 * 16;
    return exact - below <= below + 16 - exact ? below : below + 16;
}

int mtps_pad_apply(struct mtp_wr *plain, size_t len, const struct mtp_env *env)
{
    if (plain->len < MTP_MSG_HEADER_LEN)
        return MTP_ERR_ARG;
    size_t body = mtp_load_u32(plain->p + 28);
    if (body > plain->len - MTP_MSG_HEADER_LEN)
        return MTP_ERR_ARG;
    plain->len = MTP_MSG_HEADER_LEN + body;
    uint8_t *p;
    MTP_GUARD(mtp_wr_reserve(plain, len, &p));
    return len ? mtp_env_rand(env, p, len) : MTP_OK;
}

int mtps_pad_filler(uint32_t padding, uint64_t ack, uint64_t id1, uint64_t id2, int32_t seqno, struct mtp_wr *out)
{
    const uint64_t acks[2] = {ack, ack};
    switch ((16 - padding % 16) % 16) {
    case 4:
        return mtp_svc_write_ids(out, MTP_SVC_msgs_ack, acks, 1);
    case 12:
        return mtp_svc_write_ids(out, MTP_SVC_msgs_ack, acks, 2);
    default: {
        /* 0: two acks of one id each (8 + 2 * 36 bytes); 8: one and two ids (8 + 36 + 44). */
        size_t second = padding % 16 == 0 ? 1 : 2;
        uint8_t a[12 + 16], b[12 + 16];
        struct mtp_wr wa, wb;
        mtp_wr_init_fixed(&wa, a, sizeof a, NULL);
        mtp_wr_init_fixed(&wb, b, sizeof b, NULL);
        MTP_GUARD(mtp_svc_write_ids(&wa, MTP_SVC_msgs_ack, acks, 1));
        MTP_GUARD(mtp_svc_write_ids(&wb, MTP_SVC_msgs_ack, acks, second));
        struct mtp_container_wr cw;
        MTP_GUARD(mtp_container_begin(&cw, out));
        MTP_GUARD(mtp_container_add(&cw, id1, seqno, wa.p, wa.len));
        MTP_GUARD(mtp_container_add(&cw, id2, seqno, wb.p, wb.len));
        return mtp_container_end(&cw);
    }
    }
}

int mtps_pad_message(struct mtp_wr *plain, uint64_t salt, uint64_t session_id, uint64_t msg_id, int32_t seqno,
                     const uint8_t *body, size_t len, size_t padding, const struct mtp_env *env)
{
    struct mtp_msg_header h = {.salt = salt, .session_id = session_id, .msg_id = msg_id, .seqno = seqno};
    return mtp_msg_build(plain, &h, body, len, padding, env);
}
