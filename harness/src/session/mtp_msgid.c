#include "mtp/msgid.h"

uint64_t mtp_msgid_from_ms(int64_t unix_ms)
{
    if (unix_ms < 0)
        unix_ms = 0;
    uint64_t sec = (uint64_t)(unix_ms / 1000);
    uint64_t ms = (uint64_t)(unix_ms % 1000);
    /* The fraction of the second spread over the low 32 bits, so that the
     * low half is non-empty for every ms but the first of a second. */
    uint64_t frac = (ms << 32) / 1000;
    return ((sec << 32) | frac) & ~(uint64_t)3;
}

int64_t mtp_msgid_to_ms(uint64_t msg_id)
{
    uint64_t sec = msg_id >> 32;
    uint64_t frac = msg_id & 0xffffffffu;
    return (int64_t)(sec * 1000 + ((frac * 1000) >> 32));
}

void mtp_msgid_gen_init(struct mtp_msgid_gen *g)
{
    g->last = 0;
    g->avoid = 0;
    g->offset_ms = 0;
    g->synced = false;
}

uint64_t mtp_msgid_next(struct mtp_msgid_gen *g, int64_t now_ms, enum mtp_msgid_kind kind)
{
    uint64_t id = mtp_msgid_from_ms(mtp_msgid_now(g, now_ms)) | (uint64_t)kind;
    /* A stalled or backward clock must not produce a repeated or lower id:
     * continue from the last id, keeping the residue mod 4 of this kind. */
    if (id <= g->last)
        id = (g->last & ~(uint64_t)3) + 4 + (uint64_t)kind;
    if (id == g->avoid)
        id += 4;
    /* The spec wants the low 32 bits of a client id non-empty (replay protection). */
    if ((id & 0xffffffffu) == (uint64_t)kind && kind == MTP_MSGID_CLIENT)
        id += 4;
    g->last = id;
    return id;
}

void mtp_msgid_sync(struct mtp_msgid_gen *g, int64_t now_ms, uint64_t peer_msg_id)
{
    g->offset_ms = mtp_msgid_to_ms(peer_msg_id) - now_ms;
    g->synced = true;
}

void mtp_msgid_sync_seconds(struct mtp_msgid_gen *g, int64_t now_ms, int64_t server_time_s)
{
    g->offset_ms = server_time_s * 1000 - now_ms;
    g->synced = true;
}

bool mtp_msgid_parity_ok(uint64_t msg_id, bool from_server)
{
    return from_server ? (msg_id & 1) == 1 : (msg_id & 3) == 0;
}

int mtp_msgid_time_cmp(uint64_t msg_id, int64_t now_ms, int64_t past_ms, int64_t future_ms)
{
    int64_t t = mtp_msgid_to_ms(msg_id);
    if (t < now_ms - past_ms)
        return -1;
    if (t > now_ms + future_ms)
        return 1;
    return 0;
}

int32_t mtp_seqno_next(struct mtp_seqno *s, bool content_related)
{
    uint32_t n = s->content_count;
    if (!content_related)
        return (int32_t)(n * 2);
    s->content_count = n + 1;
    return (int32_t)(n * 2 + 1);
}
