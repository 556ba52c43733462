/* The store of outgoing messages.  Every message a session sends is kept here
 * from the moment it is queued until nothing can refer to it any more:
 * content-related messages until the peer acknowledges (or answers) them,
 * awaited requests until their answer, containers and other messages for as
 * long as a bad_server_salt / bad_msg_notification about them could still
 * arrive.  Entries are appended with fresh, increasing msg_ids, so the array
 * stays sorted by msg_id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session/mtp_session_internal.h"

int mtp_outbox_init(struct mtp_session *s)
{
    s->out_n = 0;
    s->out_bytes = 0;
    s->out = calloc(s->cfg.max_stored, sizeof *s->out);
    return s->out ? MTP_OK : MTP_ERR_NOMEM;
}

static void free_body(struct mtp_session *s, struct mtp_session_out *e)
{
    if (e->body) {
        mtp_wipe(e->body, e->len);
        free(e->body);
        s->out_bytes -= e->len;
        e->body = NULL;
    }
}

void mtp_outbox_free(struct mtp_session *s)
{
    if (s->out == NULL)
        return;
    for (size_t i = 0; i < s->out_n; i++)
        free_body(s, &s->out[i]);
    free(s->out);
    s->out = NULL;
    s->out_n = 0;
}

long mtp_outbox_find(const struct mtp_session *s, uint64_t msg_id)
{
    size_t lo = 0, hi = s->out_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->out[mid].msg_id < msg_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->out_n && s->out[lo].msg_id == msg_id)
        return (long)lo;
    return -1;
}

void mtp_outbox_remove(struct mtp_session *s, size_t i)
{
    if (i < s->out_hint)
        s->out_hint--;
    free_body(s, &s->out[i]);
    memmove(&s->out[i], &s->out[i + 1], (s->out_n - i - 1) * sizeof *s->out);
    s->out_n--;
}

void mtp_outbox_drop_body(struct mtp_session *s, size_t i) { free_body(s, &s->out[i]); }

/* An entry whose loss cannot break the protocol: sent, and neither waiting for
 * an acknowledgement nor for an answer. */
static bool expirable(const struct mtp_session_out *e)
{
    if (e->flags & (MTP_OUT_QUEUED | MTP_OUT_AWAIT))
        return false;
    if ((e->flags & MTP_OUT_CONTENT) && !(e->flags & MTP_OUT_ACKED))
        return false;
    return true;
}

/* Drops, in one pass, the expirable entries for which drop() says so, at most
 * max of them (oldest first). */
static size_t compact(struct mtp_session *s, bool (*drop)(const struct mtp_session *, const struct mtp_session_out *,
                                                          int64_t),
                      int64_t arg, size_t max)
{
    size_t w = 0, dropped = 0;
    for (size_t r = 0; r < s->out_n; r++) {
        struct mtp_session_out *e = &s->out[r];
        if (dropped < max && expirable(e) && drop(s, e, arg)) {
            free_body(s, e);
            dropped++;
            continue;
        }
        if (w != r)
            s->out[w] = *e;
        w++;
    }
    s->out_n = w;
    if (dropped > 0)
        s->out_hint = 0;
    return dropped;
}

static bool too_old(const struct mtp_session *s, const struct mtp_session_out *e, int64_t now_ms)
{
    return e->sent_ms + s->cfg.max_past_ms < now_ms;
}

static bool any(const struct mtp_session *s, const struct mtp_session_out *e, int64_t unused)
{
    (void)s;
    (void)e;
    (void)unused;
    return true;
}

void mtp_outbox_expire(struct mtp_session *s, int64_t now_ms)
{
    /* Nothing can have expired before the earliest deadline seen last time. */
    if (now_ms <= s->out_expiry_ms)
        return;
    compact(s, too_old, now_ms, SIZE_MAX);
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < s->out_n; i++)
        if (expirable(&s->out[i]) && s->out[i].sent_ms + s->cfg.max_past_ms < next)
            next = s->out[i].sent_ms + s->cfg.max_past_ms;
    /* Entries that become expirable later (acked, sent) are covered by the
     * next deadline check, which rescans when it passes; cap the wait so that
     * those are not kept much longer than max_past_ms. */
    if (next > now_ms + s->cfg.max_past_ms / 8)
        next = now_ms + s->cfg.max_past_ms / 8;
    s->out_expiry_ms = next;
}

static bool has_room(const struct mtp_session *s, size_t len)
{
    return s->out_n < s->cfg.max_stored && len <= s->cfg.max_stored_bytes - s->out_bytes;
}

int mtp_outbox_make_room(struct mtp_session *s, size_t len)
{
    if (len > s->cfg.max_stored_bytes)
        return MTP_ERR_SES_QUEUE_FULL;
    if (has_room(s, len))
        return MTP_OK;
    /* Drop the oldest expirable entries in one pass, a batch at a time, so
     * that a full store does not pay one array move per message. */
    size_t batch = s->cfg.max_stored / 8 + 1;
    while (!has_room(s, len) && compact(s, any, 0, batch) > 0)
        ;
    return has_room(s, len) ? MTP_OK : MTP_ERR_SES_QUEUE_FULL;
}

static void assign_id(struct mtp_session *s, struct mtp_session_out *e)
{
    enum mtp_msgid_kind kind = MTP_MSGID_CLIENT;
    if (s->role == MTP_SESSION_SERVER)
        kind = (e->flags & MTP_OUT_RESPONSE) ? MTP_MSGID_SERVER_RESPONSE : MTP_MSGID_SERVER_OTHER;
    if (mtp_session_server_faulty(s, MTP_SESSION_SF_EVEN_MSG_IDS))
        kind = MTP_MSGID_CLIENT;
    e->msg_id = mtp_msgid_next(&s->ids, mtp_session_now(s), kind);
    if (mtp_session_faulty(s, MTP_SESSION_CF_OWN_MSG_ID_NOT_MOD4)) {
        /* 2 mod 4: still increasing, no longer a client's residue. */
        e->msg_id |= 2;
        s->ids.last = e->msg_id;
    }
    e->seqno = mtp_seqno_next(&s->seq, (e->flags & MTP_OUT_CONTENT) != 0);
}

int mtp_outbox_add(struct mtp_session *s, const uint8_t *body, size_t len, uint16_t flags, uint64_t req_msg_id,
                   uint64_t tag, struct mtp_session_out **out)
{
    if (len > s->cfg.max_body || len > UINT32_MAX)
        return MTP_ERR_LIMIT;
    if ((len & 3) != 0)
        return MTP_ERR_ARG;
    MTP_GUARD(mtp_outbox_make_room(s, len));
    uint8_t *copy = NULL;
    if (len > 0) {
        copy = malloc(len);
        if (copy == NULL)
            return MTP_ERR_NOMEM;
        memcpy(copy, body, len);
    }
    struct mtp_session_out *e = &s->out[s->out_n++];
    memset(e, 0, sizeof *e);
    e->body = copy;
    e->len = (uint32_t)len;
    e->flags = (uint16_t)(flags | MTP_OUT_QUEUED);
    e->req_msg_id = req_msg_id;
    e->tag = tag;
    e->ctor = len >= 4 ? mtp_load_u32(copy) : 0;
    assign_id(s, e);
    e->orig_msg_id = e->msg_id;
    s->out_bytes += len;
    if (out)
        *out = e;
    return MTP_OK;
}

uint64_t mtp_outbox_requeue(struct mtp_session *s, size_t i)
{
    struct mtp_session_out e = s->out[i];
    uint64_t old_id = e.msg_id;
    e.flags = (uint16_t)((e.flags | MTP_OUT_QUEUED) & ~MTP_OUT_ACKED);
    e.container_id = 0;
    e.sent_ms = 0;
    e.quick_ack = 0;
    if (e.flags & (MTP_OUT_KEEP_ID | MTP_OUT_SAME_ID)) {
        /* Same id and seqno (msg_resend_req): the entry keeps its place. */
        s->out[i] = e;
        if (i < s->out_hint)
            s->out_hint = i;
        if (e.flags & MTP_OUT_SAME_ID)
            mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_RESENT,
                                                            .msg_id = e.msg_id,
                                                            .seqno = e.seqno,
                                                            .ref_msg_id = old_id,
                                                            .orig_msg_id = e.orig_msg_id,
                                                            .ctor = e.ctor});
        return e.msg_id;
    }
    if (i < s->out_hint)
        s->out_hint--;
    memmove(&s->out[i], &s->out[i + 1], (s->out_n - i - 1) * sizeof *s->out);
    assign_id(s, &e);
    s->out[s->out_n - 1] = e;
    mtp_session_emit(s, &(struct mtp_session_event){.type = MTP_SESSION_EV_RESENT,
                                                    .msg_id = e.msg_id,
                                                    .seqno = e.seqno,
                                                    .ref_msg_id = old_id,
                                                    .orig_msg_id = e.orig_msg_id,
                                                    .ctor = e.ctor});
    return e.msg_id;
}
