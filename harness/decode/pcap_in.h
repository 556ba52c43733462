/* Reading captures for the decoder: pcap and pcapng through libpcap, the link
 * layers loopback and LAN captures use (Ethernet with VLAN tags, Linux cooked
 * v1 and v2, BSD loopback/null, raw IP), IPv4 and IPv6 (extension headers
 * skipped), down to TCP segments for the reassembler.
 *
 * Damaged input never stops the reading early: a packet that does not parse
 * is skipped and counted by reason, a packet the capture cut short yields the
 * payload bytes captured and says how many are missing, and a file that ends
 * inside a record (or a corrupt block) ends the reading with the reason kept
 * in `trailer`.  IP fragments are counted, not reassembled (MTProto over TCP
 * does not fragment on the paths captures are taken of). */
#ifndef MTP_DECODE_PCAP_IN_H
#define MTP_DECODE_PCAP_IN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "decode/tcp_reasm.h"
#include "mtp/err.h"

enum mtp_pcap_skip {
    MTP_PCAP_SKIP_NOT_IP = 0,   /* ARP, LLDP, ... */
    MTP_PCAP_SKIP_NOT_TCP,      /* UDP, ICMP, ... */
    MTP_PCAP_SKIP_FRAGMENT,     /* an IPv4 or IPv6 fragment */
    MTP_PCAP_SKIP_CUT_HEADER,   /* captured too short for its own headers */
    MTP_PCAP_SKIP_BAD_HEADER,   /* a header that contradicts itself (version, lengths) */
    MTP_PCAP_SKIP_LINKTYPE,     /* every packet of a link type this reader does not know */
    MTP_PCAP_SKIP_COUNT
};
const char *mtp_pcap_skip_name(enum mtp_pcap_skip why);

struct mtp_pcap_in {
    struct pcap *p;
    int linktype;             /* DLT_* */
    uint64_t packets;         /* records read */
    uint64_t bytes;           /* captured bytes of them */
    uint64_t skipped[MTP_PCAP_SKIP_COUNT];
    uint64_t cut;             /* TCP segments whose payload the capture cut short */
    char trailer[256];        /* why reading stopped early ("" at a clean end) */
    int64_t last_ns;
};

/* path "-" is stdin.  MTP_ERR_PCAP when it is no capture libpcap reads. */
MTP_MUST_USE int mtp_pcap_open(struct mtp_pcap_in *in, const char *path, struct mtp_error *err);
/* The same from an open stream, which the reader then owns (closed by mtp_pcap_close). */
MTP_MUST_USE int mtp_pcap_open_stream(struct mtp_pcap_in *in, FILE *f, struct mtp_error *err);
void mtp_pcap_close(struct mtp_pcap_in *in);
/* "EN10MB", "LINUX_SLL2", ... */
const char *mtp_pcap_linktype_name(const struct mtp_pcap_in *in);

/* The next TCP segment: 1 with *seg filled (its data borrowed until the next
 * call), 0 at the end of the capture (clean, or trailer says why not). */
int mtp_pcap_next(struct mtp_pcap_in *in, struct mtp_tcp_seg *seg);

/* Parses one link-layer frame (exposed for tests and fuzzing): 1 and *seg, or
 * 0 with *why.  wire_len is the packet's length on the wire (>= len). */
int mtp_pcap_parse(int linktype, const uint8_t *p, size_t len, size_t wire_len, struct mtp_tcp_seg *seg,
                   enum mtp_pcap_skip *why);

#endif
