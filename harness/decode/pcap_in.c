/* Capture reading (pcap_in.h). */
#include "decode/pcap_in.h"

#include <pcap/pcap.h>
#include <string.h>

#include "mtp/buf.h"

const char *mtp_pcap_skip_name(enum mtp_pcap_skip why)
{
    static const char *names[MTP_PCAP_SKIP_COUNT] = {"not IP", "not TCP", "IP fragment", "headers cut short",
                                                     "malformed header", "unknown link type"};
    return (unsigned)why < MTP_PCAP_SKIP_COUNT ? names[why] : "unknown";
}

static int opened(struct mtp_pcap_in *in, pcap_t *p, const char *name, const char *ebuf, struct mtp_error *err)
{
    memset(in, 0, sizeof *in);
    if (p == NULL)
        return mtp_error_set(err, MTP_ERR_PCAP, MTP_NO_OFFSET, "%s: %s", name, ebuf);
    in->p = p;
    in->linktype = pcap_datalink(p);
    return MTP_OK;
}

int mtp_pcap_open(struct mtp_pcap_in *in, const char *path, struct mtp_error *err)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    return opened(in, p, path, ebuf, err);
}

int mtp_pcap_open_stream(struct mtp_pcap_in *in, FILE *f, struct mtp_error *err)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (p == NULL)
        fclose(f);
    return opened(in, p, "capture", ebuf, err);
}

void mtp_pcap_close(struct mtp_pcap_in *in)
{
    if (in->p)
        pcap_close(in->p);
    in->p = NULL;
}

const char *mtp_pcap_linktype_name(const struct mtp_pcap_in *in)
{
    const char *n = pcap_datalink_val_to_name(in->linktype);
    return n ? n : "unknown";
}

/* ---- parsing ----
 *
 * Every header goes through a reader over what was captured; wire lengths
 * (what the packet had before the capture cut it) only ever shorten it. */

#define ETH_IPV4 0x0800u
#define ETH_IPV6 0x86ddu
#define ETH_VLAN 0x8100u
#define ETH_QINQ 0x88a8u
#define ETH_VLAN_OLD 0x9100u

static int skip(enum mtp_pcap_skip *why, enum mtp_pcap_skip w)
{
    *why = w;
    return 0;
}

/* r: the TCP header on; wire_len: its length on the wire. */
static int tcp(struct mtp_rd *r, size_t wire_len, struct mtp_tcp_seg *seg, enum mtp_pcap_skip *why)
{
    uint8_t off, flags;
    if (mtp_rd_u16_be(r, &seg->src.port, "tcp.sport") < 0 || mtp_rd_u16_be(r, &seg->dst.port, "tcp.dport") < 0 ||
        mtp_rd_u32_be(r, &seg->seq, "tcp.seq") < 0 || mtp_rd_u32_be(r, &seg->ack, "tcp.ack") < 0 ||
        mtp_rd_u8(r, &off, "tcp.offset") < 0 || mtp_rd_u8(r, &flags, "tcp.flags") < 0)
        return skip(why, MTP_PCAP_SKIP_CUT_HEADER);
    size_t hl = (size_t)(off >> 4) * 4;
    if (hl < 20 || hl > wire_len)
        return skip(why, MTP_PCAP_SKIP_BAD_HEADER);
    if (mtp_rd_skip(r, hl - 14, "tcp.options") < 0)
        return skip(why, MTP_PCAP_SKIP_CUT_HEADER);
    seg->flags = (uint8_t)((flags & 0x01 ? MTP_TCP_FIN : 0) | (flags & 0x02 ? MTP_TCP_SYN : 0) |
                           (flags & 0x04 ? MTP_TCP_RST : 0) | (flags & 0x10 ? MTP_TCP_ACK : 0));
    seg->len = mtp_rd_left(r);
    seg->data = mtp_rd_cur(r);
    seg->missing = wire_len - hl - seg->len;
    return 1;
}

/* A reader over at most n of r's bytes (the packet as its IP length says, of what was captured). */
static void bounded(struct mtp_rd *r, size_t n)
{
    if (mtp_rd_left(r) > n)
        r->len = r->pos + n;
}

/* r: the IPv4 header on; wire_len: the bytes from there on the wire. */
static int ipv4(struct mtp_rd *r, size_t wire_len, struct mtp_tcp_seg *seg, enum mtp_pcap_skip *why)
{
    uint8_t vihl, tos, ttl, proto;
    uint16_t total, id, frag, sum;
    if (mtp_rd_u8(r, &vihl, "ip.version") < 0 || mtp_rd_u8(r, &tos, "ip.tos") < 0 ||
        mtp_rd_u16_be(r, &total, "ip.length") < 0 || mtp_rd_u16_be(r, &id, "ip.id") < 0 ||
        mtp_rd_u16_be(r, &frag, "ip.fragment") < 0 || mtp_rd_u8(r, &ttl, "ip.ttl") < 0 ||
        mtp_rd_u8(r, &proto, "ip.protocol") < 0 || mtp_rd_u16_be(r, &sum, "ip.checksum") < 0 ||
        mtp_rd_copy(r, seg->src.ip, 4, "ip.src") < 0 || mtp_rd_copy(r, seg->dst.ip, 4, "ip.dst") < 0)
        return skip(why, MTP_PCAP_SKIP_CUT_HEADER);
    size_t ihl = (size_t)(vihl & 0x0f) * 4, len = total;
    if (vihl >> 4 != 4 || ihl < 20)
        return skip(why, MTP_PCAP_SKIP_BAD_HEADER);
    /* TSO on the capturing host writes 0 for large segments: the frame says then. */
    if (len == 0)
        len = wire_len;
    if (len < ihl || len > wire_len)
        return skip(why, MTP_PCAP_SKIP_BAD_HEADER);
    if (frag & 0x3fff) /* MF set, or a fragment offset */
        return skip(why, MTP_PCAP_SKIP_FRAGMENT);
    if (proto != 6)
        return skip(why, MTP_PCAP_SKIP_NOT_TCP);
    if (mtp_rd_skip(r, ihl - 20, "ip.options") < 0)
        return skip(why, MTP_PCAP_SKIP_CUT_HEADER);
    seg->src.family = seg->dst.family = 4;
    /* Ethernet pads short frames: the IP length says where the packet ends. */
    bounded(r, len - ihl);
    return tcp(r, len - ihl, seg, why);
}

static int ipv6(struct mtp_rd *r, size_t wire_len, struct mtp_tcp_seg *seg, enum mtp_pcap_skip *why)
{
    uint32_t vtf;
    uint16_t plen;
    uint8_t next, hops;
    if (mtp_rd_u32_be(r, &vtf, "ip6.version") < 0 || mtp_rd_u16_be(r, &plen, "ip6.length") < 0 ||
        mtp_rd_u8(r, &next, "ip6.next") < 0 || mtp_rd_u8(r, &hops, "ip6.hops") < 0 ||
        mtp_rd_copy(r, seg->src.ip, 16, "ip6.src") < 0 || mtp_rd_copy(r, seg->dst.ip, 16, "ip6.dst") < 0)
        return skip(why, MTP_PCAP_SKIP_CUT_HEADER);
    if (vtf >> 28 != 6)
        return skip(why, MTP_PCAP_SKIP_BAD_HEADER);
    size_t left = plen ? plen : wire_len - 40; /* 0: a jumbogram, the frame says */
    if (40 + left > wire_len)
        return skip(why, MTP_PCAP_SKIP_BAD_HEADER);
    seg->src.family = seg->dst.family = 6;
    bounded(r, left);
    for (int n = 0; n < 16; n++) {
        switch (next) {
        case 6:
            return tcp(r, left, seg, why);
        case 0:    /* hop-by-hop */
        case 43:   /* routing */
        case 60:   /* destination options */
        case 51: { /* AH: its length in 4-byte units, minus 2 */
            uint8_t nx, hl;
            if (mtp_rd_u8(r, &nx, "ip6.ext.next") < 0 || mtp_rd_u8(r, &hl, "ip6.ext.length") < 0)
                return skip(why, MTP_PCAP_SKIP_CUT_HEADER);
            size_t len = next == 51 ? ((size_t)hl + 2) * 4 : ((size_t)hl + 1) * 8;
            if (len > left)
                return skip(why, MTP_PCAP_SKIP_BAD_HEADER);
            if (mtp_rd_skip(r, len - 2, "ip6.ext") < 0)
                return skip(why, MTP_PCAP_SKIP_CUT_HEADER);
            left -= len;
            next = nx;
            break;
        }
        case 44:
            return skip(why, MTP_PCAP_SKIP_FRAGMENT);
        default:
            return skip(why, MTP_PCAP_SKIP_NOT_TCP);
        }
    }
    return skip(why, MTP_PCAP_SKIP_BAD_HEADER);
}

static int by_ethertype(uint16_t type, struct mtp_rd *r, size_t wire_len, struct mtp_tcp_seg *seg,
                        enum mtp_pcap_skip *why)
{
    if (type == ETH_IPV4)
        return ipv4(r, wire_len, seg, why);
    if (type == ETH_IPV6)
        return ipv6(r, wire_len, seg, why);
    return skip(why, MTP_PCAP_SKIP_NOT_IP);
}

static int by_version(struct mtp_rd *r, size_t wire_len, struct mtp_tcp_seg *seg, enum mtp_pcap_skip *why)
{
    uint8_t v;
    struct mtp_rd peek = *r;
    if (mtp_rd_u8(&peek, &v, "ip.version") < 0)
        return skip(why, MTP_PCAP_SKIP_CUT_HEADER);
    if (v >> 4 == 4)
        return ipv4(r, wire_len, seg, why);
    if (v >> 4 == 6)
        return ipv6(r, wire_len, seg, why);
    return skip(why, MTP_PCAP_SKIP_BAD_HEADER);
}

int mtp_pcap_parse(int linktype, const uint8_t *p, size_t len, size_t wire_len, struct mtp_tcp_seg *seg,
                   enum mtp_pcap_skip *why)
{
    if (wire_len < len)
        wire_len = len;
    struct mtp_rd r;
    mtp_rd_init(&r, p, len, NULL);
    uint16_t type;
    switch (linktype) {
    case DLT_EN10MB:
        if (mtp_rd_skip(&r, 12, "eth.addresses") < 0 || mtp_rd_u16_be(&r, &type, "eth.type") < 0)
            return skip(why, MTP_PCAP_SKIP_CUT_HEADER);
        for (int tags = 0; tags < 4 && (type == ETH_VLAN || type == ETH_QINQ || type == ETH_VLAN_OLD); tags++)
            if (mtp_rd_skip(&r, 2, "vlan.tci") < 0 || mtp_rd_u16_be(&r, &type, "vlan.type") < 0)
                return skip(why, MTP_PCAP_SKIP_CUT_HEADER);
        return by_ethertype(type, &r, wire_len - r.pos, seg, why);
    case DLT_LINUX_SLL:
        if (mtp_rd_skip(&r, 14, "sll.header") < 0 || mtp_rd_u16_be(&r, &type, "sll.protocol") < 0)
            return skip(why, MTP_PCAP_SKIP_CUT_HEADER);
        return by_ethertype(type, &r, wire_len - r.pos, seg, why);
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        if (mtp_rd_u16_be(&r, &type, "sll2.protocol") < 0 || mtp_rd_skip(&r, 18, "sll2.header") < 0)
            return skip(why, MTP_PCAP_SKIP_CUT_HEADER);
        return by_ethertype(type, &r, wire_len - r.pos, seg, why);
#endif
    case DLT_NULL:
    case DLT_LOOP: {
        uint32_t fam;
        if (mtp_rd_u32(&r, &fam, "null.family") < 0)
            return skip(why, MTP_PCAP_SKIP_CUT_HEADER);
        /* NULL is in the capturing host's byte order, LOOP in network order: small either way. */
        if (fam > 0xffff)
            fam = (fam >> 24) | ((fam >> 8) & 0xff00);
        if (fam == 2)
            return ipv4(&r, wire_len - 4, seg, why);
        if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
            return ipv6(&r, wire_len - 4, seg, why);
        return skip(why, MTP_PCAP_SKIP_NOT_IP);
    }
    case DLT_RAW:
#ifdef DLT_IPV4
    case DLT_IPV4:
    case DLT_IPV6:
#endif
        return by_version(&r, wire_len, seg, why);
    default:
        return skip(why, MTP_PCAP_SKIP_LINKTYPE);
    }
}

int mtp_pcap_next(struct mtp_pcap_in *in, struct mtp_tcp_seg *seg)
{
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(in->p, &h, &data);
        if (rc == PCAP_ERROR_BREAK)
            return 0;
        if (rc < 0) {
            snprintf(in->trailer, sizeof in->trailer, "%s", pcap_geterr(in->p));
            return 0;
        }
        in->packets++;
        in->bytes += h->caplen;
        /* nanosecond precision was asked for at open */
        in->last_ns = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec;
        memset(seg, 0, sizeof *seg);
        seg->ts_ns = in->last_ns;
        enum mtp_pcap_skip why = MTP_PCAP_SKIP_NOT_IP;
        if (mtp_pcap_parse(in->linktype, data, h->caplen, h->len, seg, &why) == 1) {
            if (seg->missing)
                in->cut++;
            return 1;
        }
        in->skipped[why]++;
    }
}
