#include "mtp/msgwin.h"

#include <stdlib.h>
#include <string.h>

int mtp_msgwin_init(struct mtp_msgwin *w, size_t cap)
{
    w->n = 0;
    w->cap = 0;
    w->e = NULL;
    if (cap == 0 || cap > SIZE_MAX / sizeof *w->e)
        return MTP_ERR_ARG;
    w->e = calloc(cap, sizeof *w->e);
    if (w->e == NULL)
        return MTP_ERR_NOMEM;
    w->cap = cap;
    return MTP_OK;
}

void mtp_msgwin_free(struct mtp_msgwin *w)
{
    free(w->e);
    w->e = NULL;
    w->n = w->cap = 0;
}

void mtp_msgwin_clear(struct mtp_msgwin *w) { w->n = 0; }

/* Index of the first entry with msg_id >= id (n if none). */
static size_t lower_bound(const struct mtp_msgwin *w, uint64_t id)
{
    size_t lo = 0, hi = w->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->e[mid].msg_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool mtp_msgwin_contains(const struct mtp_msgwin *w, uint64_t msg_id)
{
    size_t i = lower_bound(w, msg_id);
    return i < w->n && w->e[i].msg_id == msg_id;
}

bool mtp_msgwin_lookup(const struct mtp_msgwin *w, uint64_t msg_id, int32_t *seqno)
{
    size_t i = lower_bound(w, msg_id);
    if (i < w->n && w->e[i].msg_id == msg_id) {
        *seqno = w->e[i].seqno;
        return true;
    }
    return false;
}

enum mtp_msgwin_verdict mtp_msgwin_check(const struct mtp_msgwin *w, uint64_t msg_id)
{
    if (mtp_msgwin_contains(w, msg_id))
        return MTP_MSGWIN_DUPLICATE;
    if (mtp_msgwin_full(w) && msg_id < w->e[0].msg_id)
        return MTP_MSGWIN_BELOW;
    return MTP_MSGWIN_NEW;
}

void mtp_msgwin_insert(struct mtp_msgwin *w, uint64_t msg_id, int32_t seqno)
{
    if (w->cap == 0)
        return;
    size_t i = lower_bound(w, msg_id);
    if (i < w->n && w->e[i].msg_id == msg_id) {
        w->e[i].seqno = seqno;
        return;
    }
    if (w->n == w->cap) {
        /* Full: the lowest id goes.  An id lower than all of them is not kept. */
        if (i == 0)
            return;
        memmove(&w->e[0], &w->e[1], (i - 1) * sizeof *w->e);
        i--;
        w->n--;
    } else {
        memmove(&w->e[i + 1], &w->e[i], (w->n - i) * sizeof *w->e);
    }
    w->e[i].msg_id = msg_id;
    w->e[i].seqno = seqno;
    w->n++;
}

void mtp_msgwin_neighbours(const struct mtp_msgwin *w, uint64_t msg_id, const struct mtp_msgwin_entry **below,
                           const struct mtp_msgwin_entry **above)
{
    size_t i = lower_bound(w, msg_id);
    *below = i > 0 ? &w->e[i - 1] : NULL;
    if (i < w->n && w->e[i].msg_id == msg_id)
        i++;
    *above = i < w->n ? &w->e[i] : NULL;
}

uint64_t mtp_msgwin_min(const struct mtp_msgwin *w) { return w->n ? w->e[0].msg_id : 0; }
uint64_t mtp_msgwin_max(const struct mtp_msgwin *w) { return w->n ? w->e[w->n - 1].msg_id : 0; }
