/* Message identifiers and sequence numbers (core.telegram.org/mtproto/description).
 *
 * A msg_id is "approximately unixtime * 2^32": the upper 32 bits are the
 * seconds, the lower 32 bits the fraction of the second.  Client ids are
 * divisible by 4; server ids are odd, 1 mod 4 for a response to a client
 * message and 3 mod 4 otherwise.  Ids of one sender increase strictly within
 * a session, so the generator never goes back even when the clock does.
 *
 * seqno is twice the number of content-related messages the sender created
 * before this one, plus one if this one is content-related. */
#ifndef MTP_MSGID_H
#define MTP_MSGID_H

#include <stdbool.h>
#include <stdint.h>

/* Received msg_ids more than this far from the receiver's clock are rejected
 * (description#message-identifier-msg-id). */
#define MTP_MSGID_MAX_PAST_MS 300000
#define MTP_MSGID_MAX_FUTURE_MS 30000

enum mtp_msgid_kind {
    MTP_MSGID_CLIENT = 0,          /* 0 mod 4 */
    MTP_MSGID_SERVER_RESPONSE = 1, /* 1 mod 4 */
    MTP_MSGID_SERVER_OTHER = 3,    /* 3 mod 4 */
};

/* unixtime in ms -> msg_id (low two bits zero) and back. */
uint64_t mtp_msgid_from_ms(int64_t unix_ms);
int64_t mtp_msgid_to_ms(uint64_t msg_id);

struct mtp_msgid_gen {
    uint64_t avoid;     /* never generated (a refused id, after the clock was set back); 0: none */
    uint64_t last;     /* the last id handed out, 0 before the first */
    int64_t offset_ms; /* peer clock - local clock, added to local time */
    bool synced;       /* offset_ms comes from the peer (handshake, a server msg_id) */
};

void mtp_msgid_gen_init(struct mtp_msgid_gen *g);
/* The next id for local time now_ms: time based, of the requested kind, and
 * strictly above every id handed out before. */
uint64_t mtp_msgid_next(struct mtp_msgid_gen *g, int64_t now_ms, enum mtp_msgid_kind kind);
/* The local clock corrected by the offset: the peer's idea of now. */
static inline int64_t mtp_msgid_now(const struct mtp_msgid_gen *g, int64_t now_ms) { return now_ms + g->offset_ms; }
/* Sets the offset so that mtp_msgid_now(now_ms) equals the time in a peer's msg_id. */
void mtp_msgid_sync(struct mtp_msgid_gen *g, int64_t now_ms, uint64_t peer_msg_id);
/* Sets the offset from a server_time in seconds (server_DH_inner_data). */
void mtp_msgid_sync_seconds(struct mtp_msgid_gen *g, int64_t now_ms, int64_t server_time_s);

/* True when the low bits of msg_id fit its sender: divisible by 4 from a
 * client, odd from a server. */
bool mtp_msgid_parity_ok(uint64_t msg_id, bool from_server);

/* -1 if msg_id is more than past_ms before now_ms, +1 if more than future_ms
 * after it, 0 inside the window. */
int mtp_msgid_time_cmp(uint64_t msg_id, int64_t now_ms, int64_t past_ms, int64_t future_ms);

/* Sequence numbers of one sender within one session. */
struct mtp_seqno {
    uint32_t content_count; /* content-related messages created so far */
};
static inline void mtp_seqno_init(struct mtp_seqno *s) { s->content_count = 0; }
int32_t mtp_seqno_next(struct mtp_seqno *s, bool content_related);
static inline bool mtp_seqno_is_content(int32_t seqno) { return (seqno & 1) != 0; }

#endif
