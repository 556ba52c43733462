/* The window of received msg_ids (security_guidelines#checking-msg-id):
 * "the identifiers of the last N messages received from the other side must
 * be stored, and if a message comes in with an msg_id lower than all or equal
 * to any of the stored values, that message is to be ignored ... if the number
 * of stored msg_id values is greater than N, the oldest (i.e. the lowest) is
 * discarded."
 *
 * While fewer than N ids are stored the window holds every id received in the
 * session, so an id below all of them is provably new; "lower than all" is
 * therefore only a rejection once the window is full (what the server reports
 * as bad_msg_notification 20, "too old to verify").  The seqno of each id is
 * kept as well: the server checks seqnos against the neighbouring msg_ids. */
#ifndef MTP_MSGWIN_H
#define MTP_MSGWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/err.h"

struct mtp_msgwin_entry {
    uint64_t msg_id;
    int32_t seqno;
};

struct mtp_msgwin {
    struct mtp_msgwin_entry *e; /* ascending by msg_id */
    size_t n;
    size_t cap; /* N */
};

enum mtp_msgwin_verdict {
    MTP_MSGWIN_NEW = 0,
    MTP_MSGWIN_DUPLICATE = 1, /* equal to a stored id */
    MTP_MSGWIN_BELOW = 2,     /* lower than every stored id and the window is full */
};

/* Allocates room for cap ids (the only allocation); cap >= 1. */
MTP_MUST_USE int mtp_msgwin_init(struct mtp_msgwin *w, size_t cap);
void mtp_msgwin_free(struct mtp_msgwin *w);
void mtp_msgwin_clear(struct mtp_msgwin *w);

enum mtp_msgwin_verdict mtp_msgwin_check(const struct mtp_msgwin *w, uint64_t msg_id);
bool mtp_msgwin_contains(const struct mtp_msgwin *w, uint64_t msg_id);
/* The stored seqno of msg_id; false when it is not stored. */
bool mtp_msgwin_lookup(const struct mtp_msgwin *w, uint64_t msg_id, int32_t *seqno);
/* Inserts a new id (the caller checked it); drops the lowest when over capacity. */
void mtp_msgwin_insert(struct mtp_msgwin *w, uint64_t msg_id, int32_t seqno);
/* The stored entries just below and just above msg_id (NULL when none). */
void mtp_msgwin_neighbours(const struct mtp_msgwin *w, uint64_t msg_id, const struct mtp_msgwin_entry **below,
                           const struct mtp_msgwin_entry **above);
static inline bool mtp_msgwin_full(const struct mtp_msgwin *w) { return w->n >= w->cap; }
/* Lowest and highest stored ids; 0 when empty. */
uint64_t mtp_msgwin_min(const struct mtp_msgwin *w);
uint64_t mtp_msgwin_max(const struct mtp_msgwin *w);

#endif
