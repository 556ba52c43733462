/* TCP stream reassembly for the capture decoder: segments in, in-order bytes
 * per connection and direction out, with what was lost said as such.
 *
 * Captured segments arrive in capture order, which is not stream order:
 *   - retransmissions and overlaps: bytes already delivered are dropped; of
 *     two buffered copies of the same bytes the first one captured wins;
 *   - out of order: held until the bytes before them arrive;
 *   - gaps (the capture missed bytes): declared as soon as the capture shows
 *     the peer received them (its ACK covers held bytes beyond the hole), when
 *     the held bytes of a direction exceed the limit, at FIN / RST, and when
 *     the capture ends; decoding goes on after the gap;
 *   - a capture that starts mid-connection: without a SYN the first segment
 *     seen starts the stream (at offset 0, flagged), and the roles follow the
 *     ports (the lower one is the server's);
 *   - segments the capture cut short (snaplen): the part captured, then a gap;
 *   - connections still open when the capture ends: flushed and closed as
 *     such by mtp_tcp_reasm_finish.
 * Memory: a small fixed record per open connection, plus the held segments,
 * bounded per direction (max_held) and in number of connections (max_conns,
 * the least recently active one is closed to make room).  Nothing is kept of
 * closed connections. */
#ifndef MTP_DECODE_TCP_REASM_H
#define MTP_DECODE_TCP_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mtp_tcp_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t ip[16]; /* IPv4 in the first 4 bytes */
    uint16_t port;
};

/* "10.0.0.1:443", "[::1]:443". */
#define MTP_TCP_ADDR_TEXT_MAX 64
const char *mtp_tcp_addr_text(const struct mtp_tcp_addr *a, char *buf, size_t cap);

#define MTP_TCP_FIN 0x01u
#define MTP_TCP_SYN 0x02u
#define MTP_TCP_RST 0x04u
#define MTP_TCP_ACK 0x10u

struct mtp_tcp_seg {
    int64_t ts_ns;              /* capture time */
    struct mtp_tcp_addr src, dst;
    uint32_t seq, ack;
    uint8_t flags;              /* MTP_TCP_* */
    const uint8_t *data;        /* the payload as captured, borrowed for the call */
    size_t len;
    size_t missing;             /* payload bytes on the wire past what was captured */
};

enum mtp_tcp_dir { MTP_TCP_C2S = 0, MTP_TCP_S2C = 1 };

enum mtp_tcp_end {
    MTP_TCP_END_FIN = 1,  /* both sides sent FIN */
    MTP_TCP_END_RST,      /* a RST */
    MTP_TCP_END_OPEN,     /* the capture ended with the connection open */
    MTP_TCP_END_EVICTED,  /* closed to make room (max_conns) */
    MTP_TCP_END_REUSED,   /* a new SYN on the same addresses started another connection */
};
const char *mtp_tcp_end_name(enum mtp_tcp_end how);

struct mtp_tcp_held;

/* One direction's stream. */
struct mtp_tcp_stream {
    bool started;        /* the base is known */
    bool from_syn;       /* the base came from a SYN (else: mid-connection start) */
    bool fin;            /* FIN seen */
    bool fin_done;       /* every byte up to the FIN delivered */
    uint32_t base;       /* sequence number of stream offset 0 */
    uint64_t next;       /* next stream offset to deliver */
    uint64_t fin_at;     /* stream offset of the FIN */
    uint64_t acked;      /* highest offset the peer acknowledged */
    struct mtp_tcp_held *held; /* out-of-order segments, by offset */
    size_t held_bytes;
    uint64_t delivered, lost; /* bytes delivered and declared lost */
    uint64_t segments, retransmitted;
};

struct mtp_tcp_conn {
    uint64_t id;                   /* 1, 2, ... in the order connections were first seen */
    struct mtp_tcp_addr ep[2];     /* ep[0] the client, ep[1] the server */
    bool roles_from_syn;           /* else guessed from the ports */
    struct mtp_tcp_stream s[2];    /* by enum mtp_tcp_dir */
    int64_t first_ns, last_ns;
    void *user;                    /* the consumer's */
    /* private */
    struct mtp_tcp_conn *hnext, *lru_prev, *lru_next;
    uint32_t hash;
};

struct mtp_tcp_reasm_cb {
    void (*open)(void *ctx, struct mtp_tcp_conn *c);
    /* In-order bytes of one direction at stream offset off; p is borrowed. */
    void (*data)(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_dir dir, uint64_t off, const uint8_t *p, size_t n,
                 int64_t ts_ns);
    /* n bytes at off were never captured; the next data starts at off + n. */
    void (*gap)(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_dir dir, uint64_t off, uint64_t n, int64_t ts_ns);
    /* The last call for c; c is freed after it. */
    void (*close)(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_end how, int64_t ts_ns);
    void *ctx;
};

struct mtp_tcp_reasm_opts {
    size_t max_held;   /* bytes held out of order per direction; 0: 4 MiB */
    size_t max_conns;  /* open connections; 0: 65536 */
};

struct mtp_tcp_reasm {
    struct mtp_tcp_reasm_cb cb;
    struct mtp_tcp_reasm_opts o;
    struct mtp_tcp_conn **buckets;
    size_t nbuckets, nconns;
    struct mtp_tcp_conn *lru_head, *lru_tail; /* most recently active first */
    uint64_t next_id;
    uint64_t ignored;  /* segments of no connection (bare ACK/FIN/RST of an unknown one) */
    bool oom;          /* a connection or held segment could not be allocated (counted as lost) */
};

void mtp_tcp_reasm_init(struct mtp_tcp_reasm *r, const struct mtp_tcp_reasm_cb *cb,
                        const struct mtp_tcp_reasm_opts *opts);
/* One captured segment. */
void mtp_tcp_reasm_add(struct mtp_tcp_reasm *r, const struct mtp_tcp_seg *s);
/* The end of the capture: flushes and closes every open connection (MTP_TCP_END_OPEN). */
void mtp_tcp_reasm_finish(struct mtp_tcp_reasm *r, int64_t ts_ns);
/* Frees everything without calling back. */
void mtp_tcp_reasm_free(struct mtp_tcp_reasm *r);

#endif
