/* TCP reassembly (tcp_reasm.h). */
#include "decode/tcp_reasm.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_HELD ((size_t)4 << 20)
#define DEFAULT_MAX_CONNS 65536

/* An out-of-order segment, with its bytes after the struct. */
struct mtp_tcp_held {
    struct mtp_tcp_held *next;
    uint64_t off;
    size_t len, missing;
    int64_t ts_ns;
    uint8_t data[];
};

const char *mtp_tcp_addr_text(const struct mtp_tcp_addr *a, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->ip, ip, sizeof ip) == NULL)
        snprintf(ip, sizeof ip, "?");
    snprintf(buf, cap, a->family == 4 ? "%s:%u" : "[%s]:%u", ip, (unsigned)a->port);
    return buf;
}

const char *mtp_tcp_end_name(enum mtp_tcp_end how)
{
    switch (how) {
    case MTP_TCP_END_FIN:
        return "fin";
    case MTP_TCP_END_RST:
        return "rst";
    case MTP_TCP_END_OPEN:
        return "open";
    case MTP_TCP_END_EVICTED:
        return "evicted";
    case MTP_TCP_END_REUSED:
        return "reused";
    }
    return "unknown";
}

void mtp_tcp_reasm_init(struct mtp_tcp_reasm *r, const struct mtp_tcp_reasm_cb *cb,
                        const struct mtp_tcp_reasm_opts *opts)
{
    memset(r, 0, sizeof *r);
    r->cb = *cb;
    if (opts)
        r->o = *opts;
    if (r->o.max_held == 0)
        r->o.max_held = DEFAULT_MAX_HELD;
    if (r->o.max_conns == 0)
        r->o.max_conns = DEFAULT_MAX_CONNS;
    r->next_id = 1;
}

/* ---- the connection table ---- */

static bool addr_eq(const struct mtp_tcp_addr *a, const struct mtp_tcp_addr *b)
{
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16) == 0;
}

static uint32_t addr_hash(const struct mtp_tcp_addr *a)
{
    uint32_t h = 2166136261u;
    size_t n = a->family == 4 ? 4 : 16;
    for (size_t i = 0; i < n; i++)
        h = (h ^ a->ip[i]) * 16777619u;
    h = (h ^ (a->port & 0xff)) * 16777619u;
    h = (h ^ (a->port >> 8)) * 16777619u;
    return h;
}

/* The same for both directions of a connection. */
static uint32_t pair_hash(const struct mtp_tcp_addr *a, const struct mtp_tcp_addr *b)
{
    uint32_t x = addr_hash(a), y = addr_hash(b);
    return (x ^ y) * 2654435761u + (x + y);
}

static struct mtp_tcp_conn *find(struct mtp_tcp_reasm *r, const struct mtp_tcp_addr *src,
                                 const struct mtp_tcp_addr *dst, uint32_t h)
{
    if (r->nbuckets == 0)
        return NULL;
    for (struct mtp_tcp_conn *c = r->buckets[h & (r->nbuckets - 1)]; c; c = c->hnext)
        if (c->hash == h && ((addr_eq(&c->ep[0], src) && addr_eq(&c->ep[1], dst)) ||
                             (addr_eq(&c->ep[0], dst) && addr_eq(&c->ep[1], src))))
            return c;
    return NULL;
}

static bool grow(struct mtp_tcp_reasm *r)
{
    size_t n = r->nbuckets ? r->nbuckets * 2 : 1024;
    struct mtp_tcp_conn **b = calloc(n, sizeof *b);
    if (b == NULL)
        return false;
    for (size_t i = 0; i < r->nbuckets; i++)
        for (struct mtp_tcp_conn *c = r->buckets[i], *nx; c; c = nx) {
            nx = c->hnext;
            c->hnext = b[c->hash & (n - 1)];
            b[c->hash & (n - 1)] = c;
        }
    free(r->buckets);
    r->buckets = b;
    r->nbuckets = n;
    return true;
}

static void lru_unlink(struct mtp_tcp_reasm *r, struct mtp_tcp_conn *c)
{
    if (c->lru_prev)
        c->lru_prev->lru_next = c->lru_next;
    else
        r->lru_head = c->lru_next;
    if (c->lru_next)
        c->lru_next->lru_prev = c->lru_prev;
    else
        r->lru_tail = c->lru_prev;
    c->lru_prev = c->lru_next = NULL;
}

static void lru_front(struct mtp_tcp_reasm *r, struct mtp_tcp_conn *c)
{
    if (r->lru_head == c)
        return;
    if (c->lru_prev || c->lru_next || r->lru_tail == c)
        lru_unlink(r, c);
    c->lru_next = r->lru_head;
    if (r->lru_head)
        r->lru_head->lru_prev = c;
    r->lru_head = c;
    if (r->lru_tail == NULL)
        r->lru_tail = c;
}

static void drop_held(struct mtp_tcp_stream *st)
{
    for (struct mtp_tcp_held *h = st->held, *nx; h; h = nx) {
        nx = h->next;
        free(h);
    }
    st->held = NULL;
    st->held_bytes = 0;
}

static void unlink_conn(struct mtp_tcp_reasm *r, struct mtp_tcp_conn *c)
{
    struct mtp_tcp_conn **pp = &r->buckets[c->hash & (r->nbuckets - 1)];
    while (*pp != c)
        pp = &(*pp)->hnext;
    *pp = c->hnext;
    lru_unlink(r, c);
    r->nconns--;
}

/* ---- delivery ---- */

static void gap(struct mtp_tcp_reasm *r, struct mtp_tcp_conn *c, enum mtp_tcp_dir d, uint64_t n, int64_t ts)
{
    struct mtp_tcp_stream *st = &c->s[d];
    if (n == 0)
        return;
    if (r->cb.gap)
        r->cb.gap(r->cb.ctx, c, d, st->next, n, ts);
    st->next += n;
    st->lost += n;
}

static void deliver(struct mtp_tcp_reasm *r, struct mtp_tcp_conn *c, enum mtp_tcp_dir d, const uint8_t *p, size_t n,
                    size_t missing, int64_t ts)
{
    struct mtp_tcp_stream *st = &c->s[d];
    if (n > 0) {
        if (r->cb.data)
            r->cb.data(r->cb.ctx, c, d, st->next, p, n, ts);
        st->next += n;
        st->delivered += n;
    }
    gap(r, c, d, missing, ts);
}

/* Delivers held segments that are now in order, trimming what was delivered already. */
static void drain(struct mtp_tcp_reasm *r, struct mtp_tcp_conn *c, enum mtp_tcp_dir d)
{
    struct mtp_tcp_stream *st = &c->s[d];
    while (st->held && st->held->off <= st->next) {
        struct mtp_tcp_held *h = st->held;
        st->held = h->next;
        st->held_bytes -= h->len;
        uint64_t end = h->off + h->len + h->missing;
        if (end > st->next) {
            uint64_t skip = st->next - h->off;
            if (skip < h->len)
                deliver(r, c, d, h->data + skip, h->len - (size_t)skip, h->missing, h->ts_ns);
            else
                gap(r, c, d, end - st->next, h->ts_ns);
        }
        free(h);
    }
    if (st->fin && st->next >= st->fin_at)
        st->fin_done = true;
}

/* Declares the hole before the first held segment lost (up to limit) and delivers what follows it. */
static void skip_hole(struct mtp_tcp_reasm *r, struct mtp_tcp_conn *c, enum mtp_tcp_dir d, uint64_t limit,
                      int64_t ts)
{
    struct mtp_tcp_stream *st = &c->s[d];
    if (st->held == NULL || st->held->off <= st->next)
        return;
    uint64_t to = st->held->off < limit ? st->held->off : limit;
    if (to > st->next)
        gap(r, c, d, to - st->next, ts);
    drain(r, c, d);
}

/* Everything held, holes declared lost; and the bytes before a FIN. */
static void flush(struct mtp_tcp_reasm *r, struct mtp_tcp_conn *c, enum mtp_tcp_dir d, int64_t ts)
{
    struct mtp_tcp_stream *st = &c->s[d];
    while (st->held)
        skip_hole(r, c, d, UINT64_MAX, ts);
    if (st->fin && st->next < st->fin_at)
        gap(r, c, d, st->fin_at - st->next, ts);
}

static void close_conn(struct mtp_tcp_reasm *r, struct mtp_tcp_conn *c, enum mtp_tcp_end how, int64_t ts)
{
    flush(r, c, MTP_TCP_C2S, ts);
    flush(r, c, MTP_TCP_S2C, ts);
    unlink_conn(r, c);
    if (r->cb.close)
        r->cb.close(r->cb.ctx, c, how, ts);
    drop_held(&c->s[0]);
    drop_held(&c->s[1]);
    free(c);
}

/* Inserts a copy of an out-of-order segment, by offset (the first copy of equal offsets stays first). */
static void hold(struct mtp_tcp_reasm *r, struct mtp_tcp_stream *st, uint64_t off, const uint8_t *p, size_t n,
                 size_t missing, int64_t ts)
{
    struct mtp_tcp_held *h = malloc(sizeof *h + n);
    if (h == NULL) {
        r->oom = true;
        return;
    }
    h->off = off;
    h->len = n;
    h->missing = missing;
    h->ts_ns = ts;
    if (n)
        memcpy(h->data, p, n);
    struct mtp_tcp_held **pp = &st->held;
    while (*pp && (*pp)->off <= off)
        pp = &(*pp)->next;
    h->next = *pp;
    *pp = h;
    st->held_bytes += n;
}

/* A sequence number as a stream offset near the stream's current position
 * (wraparound of the 32-bit sequence space is taken care of). */
static int64_t offset_of(const struct mtp_tcp_stream *st, uint32_t seq)
{
    uint32_t at = st->base + (uint32_t)st->next;
    return (int64_t)st->next + (int32_t)(seq - at);
}

/* ---- segments ---- */

static struct mtp_tcp_conn *create(struct mtp_tcp_reasm *r, const struct mtp_tcp_seg *s, uint32_t h)
{
    if (r->nconns >= r->o.max_conns && r->lru_tail)
        close_conn(r, r->lru_tail, MTP_TCP_END_EVICTED, s->ts_ns);
    if (r->nconns >= r->nbuckets && !grow(r)) {
        r->oom = true;
        return NULL;
    }
    struct mtp_tcp_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        r->oom = true;
        return NULL;
    }
    bool syn = s->flags & MTP_TCP_SYN, ack = s->flags & MTP_TCP_ACK;
    bool src_client;
    if (syn) {
        src_client = !ack;
        c->roles_from_syn = true;
    } else {
        /* Mid-connection: ephemeral ports are the high ones. */
        src_client = s->src.port > s->dst.port || (s->src.port == s->dst.port && memcmp(&s->src, &s->dst, sizeof s->src) > 0);
    }
    c->ep[0] = src_client ? s->src : s->dst;
    c->ep[1] = src_client ? s->dst : s->src;
    c->id = r->next_id++;
    c->hash = h;
    c->first_ns = c->last_ns = s->ts_ns;
    c->hnext = r->buckets[h & (r->nbuckets - 1)];
    r->buckets[h & (r->nbuckets - 1)] = c;
    r->nconns++;
    lru_front(r, c);
    if (r->cb.open)
        r->cb.open(r->cb.ctx, c);
    return c;
}

/* What the peer's ACK says about the other direction: bytes it received that
 * the capture did not see, once later bytes are held, are lost for good. */
static void on_ack(struct mtp_tcp_reasm *r, struct mtp_tcp_conn *c, enum mtp_tcp_dir d, uint32_t ack, int64_t ts)
{
    struct mtp_tcp_stream *st = &c->s[d];
    if (!st->started)
        return;
    int64_t a = offset_of(st, ack);
    if (st->fin && a > (int64_t)st->fin_at)
        a = (int64_t)st->fin_at; /* the FIN's own sequence number */
    if (a > (int64_t)st->acked)
        st->acked = (uint64_t)a;
    if (st->held && st->acked > st->next)
        skip_hole(r, c, d, st->acked, ts);
}

void mtp_tcp_reasm_add(struct mtp_tcp_reasm *r, const struct mtp_tcp_seg *s)
{
    uint32_t h = pair_hash(&s->src, &s->dst);
    struct mtp_tcp_conn *c = find(r, &s->src, &s->dst, h);
    bool syn = s->flags & MTP_TCP_SYN, ack = s->flags & MTP_TCP_ACK;
    size_t total = s->len + s->missing;
    if (c != NULL && syn && !ack && addr_eq(&c->ep[0], &s->src) && c->s[0].started &&
        (!c->s[0].from_syn || c->s[0].base != s->seq + 1)) {
        /* A new connection on the same addresses. */
        close_conn(r, c, MTP_TCP_END_REUSED, s->ts_ns);
        c = NULL;
    }
    if (c == NULL) {
        if ((s->flags & MTP_TCP_RST) || (!syn && total == 0)) {
            r->ignored++;
            return;
        }
        if ((c = create(r, s, h)) == NULL)
            return;
    }
    lru_front(r, c);
    c->last_ns = s->ts_ns;
    enum mtp_tcp_dir d = addr_eq(&c->ep[0], &s->src) ? MTP_TCP_C2S : MTP_TCP_S2C;
    struct mtp_tcp_stream *st = &c->s[d];
    st->segments++;
    if (!st->started) {
        st->started = true;
        st->from_syn = syn;
        st->base = syn ? s->seq + 1 : s->seq;
    }
    if (ack)
        on_ack(r, c, (enum mtp_tcp_dir)!d, s->ack, s->ts_ns);
    if (total > 0 || (s->flags & MTP_TCP_FIN)) {
        int64_t off = offset_of(st, syn ? s->seq + 1 : s->seq);
        const uint8_t *p = s->data;
        size_t n = s->len, missing = s->missing;
        if (s->flags & MTP_TCP_FIN) {
            int64_t end = off + (int64_t)total;
            if (end >= (int64_t)st->next && (!st->fin || (uint64_t)end < st->fin_at)) {
                st->fin = true;
                st->fin_at = (uint64_t)end;
            }
        }
        if (total > 0) {
            if (off + (int64_t)total <= (int64_t)st->next) {
                st->retransmitted++;
            } else {
                if (off < (int64_t)st->next) {
                    /* the front was delivered already */
                    uint64_t k = st->next - (uint64_t)off;
                    st->retransmitted++;
                    if (k < n) {
                        p += k;
                        n -= (size_t)k;
                    } else {
                        missing -= (size_t)(k - n);
                        n = 0;
                    }
                    off = (int64_t)st->next;
                }
                if ((uint64_t)off == st->next) {
                    deliver(r, c, d, p, n, missing, s->ts_ns);
                    drain(r, c, d);
                } else {
                    hold(r, st, (uint64_t)off, p, n, missing, s->ts_ns);
                    if (st->acked > st->next)
                        skip_hole(r, c, d, st->acked, s->ts_ns);
                    while (st->held_bytes > r->o.max_held)
                        skip_hole(r, c, d, UINT64_MAX, s->ts_ns);
                }
            }
        }
        if (st->fin && st->next >= st->fin_at)
            st->fin_done = true;
    }
    if (s->flags & MTP_TCP_RST) {
        close_conn(r, c, MTP_TCP_END_RST, s->ts_ns);
        return;
    }
    if (c->s[0].fin_done && c->s[1].fin_done)
        close_conn(r, c, MTP_TCP_END_FIN, s->ts_ns);
}

void mtp_tcp_reasm_finish(struct mtp_tcp_reasm *r, int64_t ts_ns)
{
    /* Oldest first, so connections close in the order they were last active. */
    while (r->lru_tail)
        close_conn(r, r->lru_tail, MTP_TCP_END_OPEN, ts_ns);
}

void mtp_tcp_reasm_free(struct mtp_tcp_reasm *r)
{
    while (r->lru_head) {
        struct mtp_tcp_conn *c = r->lru_head;
        unlink_conn(r, c);
        drop_held(&c->s[0]);
        drop_held(&c->s[1]);
        free(c);
    }
    free(r->buckets);
    r->buckets = NULL;
    r->nbuckets = 0;
}
