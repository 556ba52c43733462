#include "mtp/container.h"

#include "mtp/service.h"
#include "mtp/tl_prim.h"

/* Reads one nested header and body; checks the rules that concern a single message. */
static int read_item(struct mtp_container *c, struct mtp_nested *m)
{
    struct mtp_rd *r = &c->r;
    m->offset = mtp_rd_offset(r);
    int32_t len;
    MTP_GUARD(mtp_rd_u64(r, &m->msg_id, "msg_container.message.msg_id"));
    MTP_GUARD(mtp_rd_i32(r, &m->seqno, "msg_container.message.seqno"));
    MTP_GUARD(mtp_rd_i32(r, &len, "msg_container.message.bytes"));
    if (len < 4 || (len & 3) != 0 || (size_t)len > mtp_rd_left(r))
        return mtp_error_set(r->err, MTP_ERR_SES_BAD_CONTAINER, m->offset + 12,
                             "msg_container.message.bytes: %d is %s (%zu bytes left) at offset %zu", len,
                             len < 4 ? "too small" : (len & 3) ? "not a multiple of 4" : "beyond the container",
                             mtp_rd_left(r), m->offset + 12);
    MTP_GUARD(mtp_rd_sub(r, (size_t)len, &m->body, "msg_container.message.body"));
    MTP_GUARD(mtp_rd_peek_u32(&m->body, &m->ctor, "msg_container.message.body"));
    return MTP_OK;
}

static int open_container(struct mtp_container *c, const struct mtp_rd *body, uint64_t msg_id, int32_t seqno,
                          const struct mtp_container_limits *lim, bool rules)
{
    struct mtp_rd r = *body;
    size_t total = mtp_rd_left(&r);
    if (total > lim->max_bytes)
        return mtp_error_set(r.err, MTP_ERR_SES_FLOOD, mtp_rd_offset(&r),
                             "msg_container: %zu bytes, more than the %zu allowed at offset %zu", total,
                             lim->max_bytes, mtp_rd_offset(&r));
    MTP_GUARD(mtp_tl_rd_expect(&r, MTP_SVC_msg_container, "msg_container"));
    size_t count_at = mtp_rd_offset(&r);
    int32_t n;
    MTP_GUARD(mtp_rd_i32(&r, &n, "msg_container.count"));
    if (n < 0 || (size_t)n > mtp_rd_left(&r) / (MTP_CONTAINER_ITEM_HEADER + 4))
        return mtp_error_set(r.err, MTP_ERR_SES_BAD_CONTAINER, count_at,
                             "msg_container.count: %d messages cannot fit the %zu bytes left at offset %zu", n,
                             mtp_rd_left(&r), count_at);
    if ((uint32_t)n > lim->max_msgs)
        return mtp_error_set(r.err, MTP_ERR_SES_FLOOD, count_at,
                             "msg_container.count: %d messages, more than the %u allowed at offset %zu", n,
                             lim->max_msgs, count_at);
    c->r = r;
    c->count = c->left = (uint32_t)n;
    c->msg_id = msg_id;
    c->seqno = seqno;
    /* Validation pass over a copy; iteration then repeats the reads without failing. */
    struct mtp_container v = *c;
    for (uint32_t i = 0; i < v.count; i++) {
        struct mtp_nested m;
        MTP_GUARD(read_item(&v, &m));
        if (!rules)
            continue;
        if (m.msg_id >= msg_id)
            return mtp_error_set(v.r.err, MTP_ERR_SES_BAD_CONTAINER, m.offset,
                                 "msg_container.message.msg_id: %#llx is not below the container's %#llx at offset %zu",
                                 (unsigned long long)m.msg_id, (unsigned long long)msg_id, m.offset);
        if (m.seqno > seqno)
            return mtp_error_set(v.r.err, MTP_ERR_SES_BAD_CONTAINER, m.offset + 8,
                                 "msg_container.message.seqno: %d is above the container's %d at offset %zu", m.seqno,
                                 seqno, m.offset + 8);
        if (m.seqno < 0)
            return mtp_error_set(v.r.err, MTP_ERR_SES_BAD_CONTAINER, m.offset + 8,
                                 "msg_container.message.seqno: negative %d at offset %zu", m.seqno, m.offset + 8);
        if (m.ctor == MTP_SVC_msg_container)
            return mtp_error_set(v.r.err, MTP_ERR_SES_BAD_CONTAINER, m.offset + MTP_CONTAINER_ITEM_HEADER,
                                 "msg_container.message.body: a container inside a container at offset %zu",
                                 m.offset + MTP_CONTAINER_ITEM_HEADER);
    }
    if (mtp_rd_left(&v.r) != 0)
        return mtp_error_set(v.r.err, MTP_ERR_SES_BAD_CONTAINER, mtp_rd_offset(&v.r),
                             "msg_container: %zu bytes after the last of %u messages at offset %zu",
                             mtp_rd_left(&v.r), v.count, mtp_rd_offset(&v.r));
    return MTP_OK;
}

int mtp_container_open(struct mtp_container *c, const struct mtp_rd *body, uint64_t msg_id, int32_t seqno,
                       const struct mtp_container_limits *lim)
{
    return open_container(c, body, msg_id, seqno, lim, true);
}

int mtp_container_open_unchecked(struct mtp_container *c, const struct mtp_rd *body, uint64_t msg_id, int32_t seqno,
                                 const struct mtp_container_limits *lim)
{
    return open_container(c, body, msg_id, seqno, lim, false);
}

int mtp_container_next(struct mtp_container *c, struct mtp_nested *m)
{
    if (c->left == 0)
        return 0;
    MTP_GUARD(read_item(c, m));
    c->left--;
    return 1;
}

int mtp_container_begin(struct mtp_container_wr *c, struct mtp_wr *w)
{
    c->w = w;
    c->count = 0;
    MTP_GUARD(mtp_tl_wr_uint(w, MTP_SVC_msg_container));
    c->count_at = w->len;
    return mtp_wr_u32(w, 0);
}

int mtp_container_add(struct mtp_container_wr *c, uint64_t msg_id, int32_t seqno, const uint8_t *body, size_t len)
{
    if (len > INT32_MAX || (len & 3) != 0)
        return mtp_error_set(c->w->err, MTP_ERR_ARG, MTP_NO_OFFSET, "container item: body length %zu", len);
    MTP_GUARD(mtp_wr_u64(c->w, msg_id));
    MTP_GUARD(mtp_wr_i32(c->w, seqno));
    MTP_GUARD(mtp_wr_i32(c->w, (int32_t)len));
    MTP_GUARD(mtp_wr_raw(c->w, body, len));
    c->count++;
    return MTP_OK;
}

int mtp_container_end(struct mtp_container_wr *c) { return mtp_wr_patch_u32(c->w, c->count_at, c->count); }
