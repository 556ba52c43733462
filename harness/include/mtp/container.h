/* msg_container (service_messages#simple-container):
 *
 *   msg_container#73f1f8dc messages:vector<%Message> = MessageContainer;
 *   message msg_id:long seqno:int bytes:int body:Object = Message;
 *
 * i.e. the constructor, a bare count, then count bare messages.  "All messages
 * in a container must have msg_id lower than that of the container itself. A
 * container ... may not carry other simple containers."  The container's seqno
 * is "greater than or equal to the sequence numbers of the messages contained
 * in it".  "MTProto container payloads have a limit of 2^15 bytes or 1020
 * messages"; exceeding it is a flood (transport error -429), not an invalid
 * container.  A container "may only be accepted or rejected by the other party
 * as a whole", so mtp_container_open validates every nested header before the
 * first message is handed out. */
#ifndef MTP_CONTAINER_H
#define MTP_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"

#define MTP_CONTAINER_MAX_MSGS 1020
#define MTP_CONTAINER_MAX_BYTES 32768
/* msg_id, seqno and bytes of a nested message. */
#define MTP_CONTAINER_ITEM_HEADER 16

struct mtp_container_limits {
    uint32_t max_msgs;
    size_t max_bytes; /* of the whole container body */
};

struct mtp_container {
    struct mtp_rd r;  /* positioned at the next nested message */
    uint32_t count;
    uint32_t left;
    uint64_t msg_id;  /* the container's own */
    int32_t seqno;
};

struct mtp_nested {
    uint64_t msg_id;
    int32_t seqno;
    uint32_t ctor;     /* first 4 bytes of the body */
    size_t offset;     /* absolute offset of the nested header */
    struct mtp_rd body;
};

/* Validates the container in body (which must cover it exactly, starting with
 * the constructor) and prepares iteration.  MTP_ERR_SES_BAD_CONTAINER for any
 * rule broken, MTP_ERR_SES_FLOOD for a limit exceeded; the error names the
 * nested message and its offset. */
MTP_MUST_USE int mtp_container_open(struct mtp_container *c, const struct mtp_rd *body, uint64_t msg_id,
                                    int32_t seqno, const struct mtp_container_limits *lim);
/* The same without the rules about msg_ids, seqnos and nested containers (the
 * structure is still read): only for the seeded fault of the mock DC that
 * opens invalid containers, which proves a conformance suite notices. */
MTP_MUST_USE int mtp_container_open_unchecked(struct mtp_container *c, const struct mtp_rd *body, uint64_t msg_id,
                                              int32_t seqno, const struct mtp_container_limits *lim);
/* 1 and the next message, or 0 after the last. */
MTP_MUST_USE int mtp_container_next(struct mtp_container *c, struct mtp_nested *m);

/* Writer: begin, add each message, end (which fills in the count). */
struct mtp_container_wr {
    struct mtp_wr *w;
    size_t count_at;
    uint32_t count;
};
MTP_MUST_USE int mtp_container_begin(struct mtp_container_wr *c, struct mtp_wr *w);
MTP_MUST_USE int mtp_container_add(struct mtp_container_wr *c, uint64_t msg_id, int32_t seqno, const uint8_t *body,
                                   size_t len);
MTP_MUST_USE int mtp_container_end(struct mtp_container_wr *c);
/* Bytes a message of body_len bytes adds to a container. */
static inline size_t mtp_container_item_size(size_t body_len) { return MTP_CONTAINER_ITEM_HEADER + body_len; }

#endif
