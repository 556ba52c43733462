/* Target functions: mtp_tcp_reasm_add, mtp_tcp_reasm_finish (the TCP
 *                   reassembler of the capture decoder)
 * Input: segments, 8 bytes each: flags (SYN, FIN, RST, ACK; bit 4 picks the
 * direction, bits 5..6 one of four connections), a 16-bit offset into a
 * known stream (or the ISN for a SYN), a payload length, bytes cut by the
 * snaplen, a 16-bit ACK offset; connections 2 and 3 are IPv6.  Payloads are cut from a stream known in
 * advance, byte i of direction d being (i * 31 + d * 7) & 0xff.
 * Oracles: every delivered byte is the stream's byte at its offset; data and
 * gaps follow each other without holes or overlaps; the bytes held never
 * exceed the limit; every connection opened is closed exactly once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/tcp_reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CONNS 4
#define MAX_HELD 2048

struct track {
    uint64_t next[2];
    bool open, closed;
};

struct state {
    struct track t[64];
    int opens, closes;
    struct mtp_tcp_reasm *r;
};

static uint8_t stream_byte(uint64_t i, int dir) { return (uint8_t)(i * 31 + (uint64_t)dir * 7); }

static struct track *track_of(struct state *s, const struct mtp_tcp_conn *c)
{
    if (c->id == 0 || c->id > 64)
        __builtin_trap();
    return &s->t[c->id - 1];
}

static void on_open(void *ctx, struct mtp_tcp_conn *c)
{
    struct state *s = ctx;
    struct track *t = track_of(s, c);
    if (t->open)
        __builtin_trap();
    t->open = true;
    s->opens++;
}

static void on_data(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_dir dir, uint64_t off, const uint8_t *p, size_t n,
                    int64_t ts)
{
    (void)ts;
    struct state *s = ctx;
    struct track *t = track_of(s, c);
    if (!t->open || t->closed || off != t->next[dir] || n == 0)
        __builtin_trap();
    /* mid-connection starts shift offsets: the content is checked against the stream
     * only where the stream began with a SYN; whose stream it is, the sender's port
     * says (a SYN+ACK from the input's client makes it the reassembler's server) */
    int sender = c->ep[dir].port == 443 ? 1 : 0;
    if (c->s[dir].from_syn)
        for (size_t i = 0; i < n; i++)
            if (p[i] != stream_byte(off + i, sender))
                __builtin_trap();
    t->next[dir] = off + n;
}

static void on_gap(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_dir dir, uint64_t off, uint64_t n, int64_t ts)
{
    (void)ts;
    struct state *s = ctx;
    struct track *t = track_of(s, c);
    if (!t->open || t->closed || off != t->next[dir] || n == 0)
        __builtin_trap();
    t->next[dir] = off + n;
}

static void on_close(void *ctx, struct mtp_tcp_conn *c, enum mtp_tcp_end how, int64_t ts)
{
    (void)ts, (void)how;
    struct state *s = ctx;
    struct track *t = track_of(s, c);
    if (!t->open || t->closed || c->s[0].next != t->next[0] || c->s[1].next != t->next[1] || c->s[0].held ||
        c->s[1].held)
        __builtin_trap();
    t->closed = true;
    s->closes++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t payload[2][1 << 17];
    static bool ready;
    if (!ready) {
        for (int d = 0; d < 2; d++)
            for (size_t i = 0; i < sizeof payload[0]; i++)
                payload[d][i] = stream_byte(i, d);
        ready = true;
    }
    struct state s;
    memset(&s, 0, sizeof s);
    struct mtp_tcp_reasm_cb cb = {on_open, on_data, on_gap, on_close, &s};
    struct mtp_tcp_reasm_opts o = {.max_held = MAX_HELD, .max_conns = 3};
    struct mtp_tcp_reasm r;
    mtp_tcp_reasm_init(&r, &cb, &o);
    s.r = &r;
    uint32_t isn[CONNS][2] = {{0}};
    bool isn_set[CONNS][2] = {{false}};
    for (size_t at = 0; at + 8 <= size && s.opens < 60; at += 8) {
        const uint8_t *b = data + at;
        int dir = (b[0] >> 4) & 1, conn = (b[0] >> 5) & 3;
        uint16_t off = (uint16_t)(b[1] | b[2] << 8), ack = (uint16_t)(b[6] | b[7] << 8);
        size_t len = b[3] * 8u, cut = b[4] % 64 < 60 ? 0 : b[4] % 16;
        struct mtp_tcp_seg seg = {.ts_ns = (int64_t)at};
        struct mtp_tcp_addr cli = {.family = 4, .ip = {10, 0, 0, 1}, .port = (uint16_t)(40000 + conn)};
        /* connections 2 and 3 over IPv6 (the address family is part of a connection's identity) */
        struct mtp_tcp_addr srv = {.family = (uint8_t)(conn >= 2 ? 6 : 4), .ip = {10, 0, 0, 2}, .port = 443};
        cli.family = srv.family;
        seg.src = dir ? srv : cli;
        seg.dst = dir ? cli : srv;
        seg.flags = (uint8_t)(b[0] & (MTP_TCP_SYN | MTP_TCP_FIN | MTP_TCP_RST)) | (b[0] & 8 ? MTP_TCP_ACK : 0);
        if (seg.flags & MTP_TCP_SYN) {
            /* one ISN per direction (a second SYN is a retransmission; the vectors test reuse) */
            if (!isn_set[conn][dir])
                isn[conn][dir] = (uint32_t)off << 16 | b[5]; /* wraps the sequence space now and then */
            isn_set[conn][dir] = true;
            seg.seq = isn[conn][dir];
            off = 0; /* data on a SYN starts the stream */
        } else {
            seg.seq = isn[conn][dir] + 1 + off;
        }
        seg.ack = isn[conn][!dir] + 1 + ack;
        if (len > cut && off + len <= sizeof payload[0]) {
            seg.data = payload[dir] + off;
            seg.len = len - cut;
            seg.missing = cut;
        }
        mtp_tcp_reasm_add(&r, &seg);
        /* the bound holds once a segment is taken in (while it is enforced, a held segment may be over) */
        for (const struct mtp_tcp_conn *c = r.lru_head; c; c = c->lru_next)
            if (c->s[0].held_bytes > MAX_HELD || c->s[1].held_bytes > MAX_HELD)
                __builtin_trap();
    }
    mtp_tcp_reasm_finish(&r, (int64_t)size);
    if (s.opens != s.closes || r.nconns != 0)
        __builtin_trap();
    mtp_tcp_reasm_free(&r);
    return 0;
}
