/* Shared internals of the session cores: the store of outgoing messages, the
 * ack queue, and the handlers both roles use.  Not a public header. */
#ifndef MTP_SESSION_INTERNAL_H
#define MTP_SESSION_INTERNAL_H

#include "mtp/message.h"
#include "mtp/service.h"
#include "mtp/session.h"

/* mtp_session_out.flags */
enum {
    MTP_OUT_QUEUED = 1u << 0,    /* not transmitted since it was (re)queued */
    MTP_OUT_CONTENT = 1u << 1,   /* content-related */
    MTP_OUT_AWAIT = 1u << 2,     /* waits for an answer (rpc_result, pong, future_salts, ...) */
    MTP_OUT_RESPONSE = 1u << 3,  /* server: msg_id 1 mod 4 */
    MTP_OUT_ACKED = 1u << 4,     /* the peer acknowledged it */
    MTP_OUT_CONTAINER = 1u << 5, /* a container we sent; its messages name it in container_id */
    MTP_OUT_KEEP_ID = 1u << 6,   /* resend under the same msg_id (msg_resend_req) */
    MTP_OUT_SAME_ID = 1u << 7,   /* resend under the same msg_id, alone (client fault RESEND_SAME_MSG_ID) */
};

/* Whether the client's configuration asks for seeded fault f (never on a server). */
static inline bool mtp_session_faulty(const struct mtp_session *s, enum mtp_session_client_fault f)
{
    return s->role == MTP_SESSION_CLIENT && (s->cfg.client_faults & MTP_SESSION_CF(f)) != 0;
}

/* Whether the server's configuration asks for seeded fault f (never on a client). */
static inline bool mtp_session_server_faulty(const struct mtp_session *s, enum mtp_session_server_fault f)
{
    return s->role == MTP_SESSION_SERVER && (s->cfg.server_faults & MTP_SESSION_SF(f)) != 0;
}

/* The most ids one msgs_ack carries, so that it always fits in a container. */
#define MTP_SESSION_ACKS_PER_MSG 1024

/* --- mtp_outbox.c: the store of outgoing messages --- */
MTP_MUST_USE int mtp_outbox_init(struct mtp_session *s);
void mtp_outbox_free(struct mtp_session *s);
/* Appends a queued message with a fresh msg_id and seqno; copies body. */
MTP_MUST_USE int mtp_outbox_add(struct mtp_session *s, const uint8_t *body, size_t len, uint16_t flags,
                                uint64_t req_msg_id, uint64_t tag, struct mtp_session_out **out);
/* Index of msg_id, or -1. */
long mtp_outbox_find(const struct mtp_session *s, uint64_t msg_id);
void mtp_outbox_remove(struct mtp_session *s, size_t i);
/* Drops the body of an acknowledged message (it will not be resent). */
void mtp_outbox_drop_body(struct mtp_session *s, size_t i);
/* Requeues message i under a new msg_id (and new seqno) and moves it to the
 * end of the store, then emits MTP_SESSION_EV_RESENT (so indices are stale
 * afterwards).  With MTP_OUT_KEEP_ID it keeps its id and place, silently.
 * Returns the id it will go out with. */
uint64_t mtp_outbox_requeue(struct mtp_session *s, size_t i);
/* Forgets sent messages that nobody will refer to any more: containers and
 * non-content messages older than max_past_ms. */
void mtp_outbox_expire(struct mtp_session *s, int64_t now_ms);
/* Frees room: drops the oldest expirable entries until one slot (and len
 * bytes) is free; MTP_ERR_SES_QUEUE_FULL if that is impossible. */
MTP_MUST_USE int mtp_outbox_make_room(struct mtp_session *s, size_t len);

/* --- mtp_session.c --- */
void mtp_session_emit(struct mtp_session *s, const struct mtp_session_event *ev);
void mtp_session_dropped(struct mtp_session *s, uint64_t msg_id, int32_t seqno, int code, const struct mtp_error *err);
/* Both roles: the message must belong to this session and carry at least a
 * constructor id (returned in *ctor); otherwise it is dropped with the reason. */
int mtp_session_accept_header(struct mtp_session *s, const struct mtp_msg_header *h, const struct mtp_rd *body,
                              uint32_t *ctor, struct mtp_error *err);
/* Remembers a received content-related msg_id for msgs_ack. */
void mtp_session_ack_later(struct mtp_session *s, uint64_t msg_id);
/* Removes msg_id from the pending acks (it was answered, which acknowledges it). */
void mtp_session_ack_forget(struct mtp_session *s, uint64_t msg_id);
/* Queues a service message built by a writer callback. */
MTP_MUST_USE int mtp_session_queue_service(struct mtp_session *s, const uint8_t *body, size_t len, uint16_t flags,
                                           uint64_t req_msg_id, uint64_t tag, uint64_t *msg_id);
/* Requeues every stored message sent as msg_id or inside container msg_id;
 * returns how many were requeued. */
size_t mtp_session_resend_sent(struct mtp_session *s, uint64_t msg_id);
/* Fails (forgets, with MTP_SESSION_EV_FAILED for awaited ones) every stored
 * message sent as msg_id or inside container msg_id. */
size_t mtp_session_fail_sent(struct mtp_session *s, uint64_t msg_id, int32_t code);
/* Client fault RESEND_SAME_MSG_ID: marks the messages sent as msg_id (or in
 * container msg_id) to be resent under their old ids, alone. */
void mtp_session_mark_same_id(struct mtp_session *s, uint64_t msg_id);
/* True when msg_id names a message (or container) we sent recently. */
bool mtp_session_sent_recently(const struct mtp_session *s, uint64_t msg_id);
/* Local "now" in ms, and the peer-synchronised now. */
int64_t mtp_session_now(const struct mtp_session *s);

/* --- mtp_session_recv.c: handlers shared by both roles --- */
struct mtp_session_msg {
    uint64_t msg_id;
    int32_t seqno;
    uint32_t ctor;
    struct mtp_rd body;
    bool nested;
};
/* Dispatches one accepted message body (top level or nested); depth counts
 * gzip_packed layers. */
void mtp_session_dispatch(struct mtp_session *s, const struct mtp_session_msg *m, int depth);
/* Index of the sent request req_msg_id still awaiting an answer (of
 * constructor ctor unless 0), or -1. */
long mtp_session_awaited(const struct mtp_session *s, uint64_t req_msg_id, uint32_t ctor);
/* Reports an answer to a request we do not have. */
void mtp_session_unknown_request(struct mtp_session *s, const struct mtp_session_msg *m, const char *what,
                                 uint64_t id);

/* --- mtp_session_client.c / mtp_session_server.c --- */
MTP_MUST_USE int mtp_session_client_recv(struct mtp_session *s, const struct mtp_msg_header *h, struct mtp_rd *body,
                                         struct mtp_error *err);
MTP_MUST_USE int mtp_session_server_recv(struct mtp_session *s, const struct mtp_msg_header *h, struct mtp_rd *body,
                                         struct mtp_error *err);
/* Role-specific service messages; return true when handled. */
bool mtp_session_client_dispatch(struct mtp_session *s, const struct mtp_session_msg *m, const struct mtp_svc *svc,
                                 int depth);
bool mtp_session_server_dispatch(struct mtp_session *s, const struct mtp_session_msg *m, const struct mtp_svc *svc);

#endif
