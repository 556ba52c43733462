/* Capture writing (pcap_out.h). */
#include "decode/pcap_out.h"

#include <pcap/pcap.h>
#include <string.h>

#include "mtp/buf.h"

#define SNAPLEN 262144u
#define MAGIC_NS 0xa1b23c4du

int mtp_pcap_out_open(struct mtp_pcap_out *o, FILE *f, int linktype, struct mtp_error *err)
{
    memset(o, 0, sizeof *o);
    o->f = f;
    o->linktype = linktype;
    uint8_t h[24];
    /* In this host's byte order, which the magic tells readers. */
    int linktype_file = linktype == DLT_RAW ? 101 : linktype; /* LINKTYPE_RAW */
    uint32_t hdr[6] = {MAGIC_NS, 2 | 4u << 16, 0, 0, SNAPLEN, (uint32_t)linktype_file};
    memcpy(h, hdr, sizeof h);
    if (fwrite(h, 1, sizeof h, f) != sizeof h)
        return mtp_error_set(err, MTP_ERR_IO, MTP_NO_OFFSET, "capture: write failed");
    return MTP_OK;
}

static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static int link_header(struct mtp_wr *w, int linktype, bool v6)
{
    uint16_t ethertype = v6 ? 0x86dd : 0x0800;
    switch (linktype) {
    case DLT_EN10MB: {
        static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
        MTP_GUARD(mtp_wr_raw(w, macs, sizeof macs));
        return mtp_wr_u16_be(w, ethertype);
    }
    case DLT_LINUX_SLL:
        /* packet type, ARPHRD_LOOPBACK, address length, address (8), protocol */
        MTP_GUARD(mtp_wr_u16_be(w, 0));
        MTP_GUARD(mtp_wr_u16_be(w, 772));
        MTP_GUARD(mtp_wr_u16_be(w, 6));
        MTP_GUARD(mtp_wr_zero(w, 8));
        return mtp_wr_u16_be(w, ethertype);
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        /* protocol, reserved, interface index, ARPHRD, packet type, address length, address (8) */
        MTP_GUARD(mtp_wr_u16_be(w, ethertype));
        MTP_GUARD(mtp_wr_u16_be(w, 0));
        MTP_GUARD(mtp_wr_u32_be(w, 1));
        MTP_GUARD(mtp_wr_u16_be(w, 772));
        MTP_GUARD(mtp_wr_u8(w, 0));
        MTP_GUARD(mtp_wr_u8(w, 6));
        return mtp_wr_zero(w, 8);
#endif
    case DLT_NULL:
        /* the capturing host's order; little-endian here, as on x86 */
        return mtp_wr_u32(w, v6 ? 30u : 2u);
    case DLT_LOOP:
        return mtp_wr_u32_be(w, v6 ? 30u : 2u);
    case DLT_RAW:
        return MTP_OK;
    default:
        return MTP_ERR_ARG;
    }
}

int mtp_pcap_out_seg(struct mtp_pcap_out *o, const struct mtp_tcp_seg *s)
{
    uint8_t hdr[128];
    struct mtp_wr w;
    mtp_wr_init_fixed(&w, hdr, sizeof hdr, NULL);
    bool v6 = s->src.family == 6;
    MTP_GUARD(link_header(&w, o->linktype, v6));
    size_t tcp_len = 20 + s->len + s->missing;
    size_t ip_at = w.len;
    if (v6) {
        MTP_GUARD(mtp_wr_u32_be(&w, 0x60000000u));
        MTP_GUARD(mtp_wr_u16_be(&w, (uint16_t)tcp_len));
        MTP_GUARD(mtp_wr_u8(&w, 6));
        MTP_GUARD(mtp_wr_u8(&w, 64));
        MTP_GUARD(mtp_wr_raw(&w, s->src.ip, 16));
        MTP_GUARD(mtp_wr_raw(&w, s->dst.ip, 16));
    } else {
        MTP_GUARD(mtp_wr_u8(&w, 0x45));
        MTP_GUARD(mtp_wr_u8(&w, 0));
        MTP_GUARD(mtp_wr_u16_be(&w, (uint16_t)(20 + tcp_len)));
        MTP_GUARD(mtp_wr_u16_be(&w, (uint16_t)o->packets));
        MTP_GUARD(mtp_wr_u16_be(&w, 0x4000)); /* DF */
        MTP_GUARD(mtp_wr_u8(&w, 64));
        MTP_GUARD(mtp_wr_u8(&w, 6));
        MTP_GUARD(mtp_wr_u16_be(&w, 0));
        MTP_GUARD(mtp_wr_raw(&w, s->src.ip, 4));
        MTP_GUARD(mtp_wr_raw(&w, s->dst.ip, 4));
        uint16_t sum = ip_checksum(hdr + ip_at, 20);
        hdr[ip_at + 10] = (uint8_t)(sum >> 8);
        hdr[ip_at + 11] = (uint8_t)sum;
    }
    uint8_t flags = (uint8_t)((s->flags & MTP_TCP_FIN ? 0x01 : 0) | (s->flags & MTP_TCP_SYN ? 0x02 : 0) |
                              (s->flags & MTP_TCP_RST ? 0x04 : 0) | (s->flags & MTP_TCP_ACK ? 0x10 : 0) |
                              (s->len ? 0x08 : 0));
    MTP_GUARD(mtp_wr_u16_be(&w, s->src.port));
    MTP_GUARD(mtp_wr_u16_be(&w, s->dst.port));
    MTP_GUARD(mtp_wr_u32_be(&w, s->seq));
    MTP_GUARD(mtp_wr_u32_be(&w, s->ack));
    MTP_GUARD(mtp_wr_u8(&w, 5 << 4));
    MTP_GUARD(mtp_wr_u8(&w, flags));
    MTP_GUARD(mtp_wr_u16_be(&w, 65535));
    MTP_GUARD(mtp_wr_u32(&w, 0)); /* checksum (offloaded, as loopback captures show it), urgent */
    uint32_t caplen = (uint32_t)(w.len + s->len), wire = (uint32_t)(w.len + s->len + s->missing);
    uint32_t rec[4] = {(uint32_t)(s->ts_ns / 1000000000), (uint32_t)(s->ts_ns % 1000000000), caplen, wire};
    if (fwrite(rec, 1, sizeof rec, o->f) != sizeof rec || fwrite(hdr, 1, w.len, o->f) != w.len ||
        (s->len && fwrite(s->data, 1, s->len, o->f) != s->len))
        return MTP_ERR_IO;
    o->packets++;
    return MTP_OK;
}

int mtp_pcap_flow_to_file(void *ctx, const struct mtp_tcp_seg *s) { return mtp_pcap_out_seg(ctx, s); }

void mtp_pcap_flow_init(struct mtp_pcap_flow *f, const struct mtp_tcp_addr *client, const struct mtp_tcp_addr *server,
                        uint32_t isn_client, uint32_t isn_server, size_t mss, mtp_pcap_emit_fn emit, void *ctx)
{
    memset(f, 0, sizeof *f);
    f->ep[0] = *client;
    f->ep[1] = *server;
    f->next_seq[0] = isn_client;
    f->next_seq[1] = isn_server;
    f->mss = mss ? mss : 1448;
    f->emit = emit;
    f->ctx = ctx;
}

static int seg(struct mtp_pcap_flow *f, enum mtp_tcp_dir dir, uint8_t flags, const uint8_t *p, size_t n, int64_t ts)
{
    struct mtp_tcp_seg s = {.ts_ns = ts, .src = f->ep[dir], .dst = f->ep[!dir], .seq = f->next_seq[dir],
                            .ack = f->next_seq[!dir], .flags = flags, .data = p, .len = n};
    if (flags & MTP_TCP_SYN && !(flags & MTP_TCP_ACK))
        s.ack = 0;
    f->next_seq[dir] += (uint32_t)n + (flags & (MTP_TCP_SYN | MTP_TCP_FIN) ? 1u : 0u);
    return f->emit(f->ctx, &s);
}

int mtp_pcap_flow_open(struct mtp_pcap_flow *f, int64_t ts_ns)
{
    MTP_GUARD(seg(f, MTP_TCP_C2S, MTP_TCP_SYN, NULL, 0, ts_ns));
    MTP_GUARD(seg(f, MTP_TCP_S2C, MTP_TCP_SYN | MTP_TCP_ACK, NULL, 0, ts_ns + 10000));
    return seg(f, MTP_TCP_C2S, MTP_TCP_ACK, NULL, 0, ts_ns + 20000);
}

int mtp_pcap_flow_send(struct mtp_pcap_flow *f, enum mtp_tcp_dir dir, const uint8_t *p, size_t n, int64_t ts_ns)
{
    for (size_t at = 0; at < n; at += f->mss) {
        size_t k = n - at < f->mss ? n - at : f->mss;
        MTP_GUARD(seg(f, dir, MTP_TCP_ACK, p + at, k, ts_ns));
    }
    return n ? seg(f, (enum mtp_tcp_dir)!dir, MTP_TCP_ACK, NULL, 0, ts_ns + 5000) : MTP_OK;
}

int mtp_pcap_flow_close(struct mtp_pcap_flow *f, int64_t ts_ns)
{
    MTP_GUARD(seg(f, MTP_TCP_C2S, MTP_TCP_FIN | MTP_TCP_ACK, NULL, 0, ts_ns));
    MTP_GUARD(seg(f, MTP_TCP_S2C, MTP_TCP_FIN | MTP_TCP_ACK, NULL, 0, ts_ns + 10000));
    return seg(f, MTP_TCP_C2S, MTP_TCP_ACK, NULL, 0, ts_ns + 20000);
}
