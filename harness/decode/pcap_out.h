/* Writing captures: the classic pcap format (nanosecond timestamps) with any
 * of the link layers pcap_in.h reads, and TCP conversations laid out as a
 * capture shows them (handshake, data in MSS-sized segments, ACKs, FIN).
 * Tests craft damaged and unusual captures with it, the benchmark builds its
 * capture of many sessions, and the fuzz seeds come from it. */
#ifndef MTP_DECODE_PCAP_OUT_H
#define MTP_DECODE_PCAP_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "decode/tcp_reasm.h"
#include "mtp/err.h"

struct mtp_pcap_out {
    FILE *f;
    int linktype;  /* DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP, DLT_RAW */
    uint64_t packets;
};

/* Writes the file header (snaplen 262144). */
MTP_MUST_USE int mtp_pcap_out_open(struct mtp_pcap_out *o, FILE *f, int linktype, struct mtp_error *err);
/* One segment: link, IP (v4 or v6 by its addresses) and TCP headers, then
 * s->len payload bytes; s->missing more bytes count in the packet's wire
 * length but are not in the record (what a small snaplen does). */
MTP_MUST_USE int mtp_pcap_out_seg(struct mtp_pcap_out *o, const struct mtp_tcp_seg *s);

/* A TCP conversation; segments go to emit (e.g. mtp_pcap_flow_to_file, or a
 * test that reorders, drops or duplicates them on the way). */
typedef int (*mtp_pcap_emit_fn)(void *ctx, const struct mtp_tcp_seg *s);
int mtp_pcap_flow_to_file(void *ctx, const struct mtp_tcp_seg *s); /* ctx: struct mtp_pcap_out * */

struct mtp_pcap_flow {
    struct mtp_tcp_addr ep[2]; /* client, server */
    uint32_t next_seq[2];      /* by enum mtp_tcp_dir */
    size_t mss;
    mtp_pcap_emit_fn emit;
    void *ctx;
};

void mtp_pcap_flow_init(struct mtp_pcap_flow *f, const struct mtp_tcp_addr *client, const struct mtp_tcp_addr *server,
                        uint32_t isn_client, uint32_t isn_server, size_t mss, mtp_pcap_emit_fn emit, void *ctx);
/* SYN, SYN-ACK, ACK. */
MTP_MUST_USE int mtp_pcap_flow_open(struct mtp_pcap_flow *f, int64_t ts_ns);
/* n bytes from one side, in segments of at most mss, each ACKed by the other side. */
MTP_MUST_USE int mtp_pcap_flow_send(struct mtp_pcap_flow *f, enum mtp_tcp_dir dir, const uint8_t *p, size_t n,
                                    int64_t ts_ns);
/* FIN from the client, FIN from the server, the last ACK. */
MTP_MUST_USE int mtp_pcap_flow_close(struct mtp_pcap_flow *f, int64_t ts_ns);

#endif
