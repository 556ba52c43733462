/* A capture of real sessions made in memory: the mock DC's connection code
 * (mtps_conn) and the small client (mtps_client) talk over every transport,
 * their bytes laid out as TCP segments in a pcap (pcap_out.h), the server's
 * key log beside it.  Deterministic for a seed: the same capture byte for
 * byte.  The benchmark of the decoder measures on one (hundreds of
 * connections, tens of MB); the tests and fuzz seeds use small ones. */
#ifndef MTP_DECODE_DEC_SYNTH_H
#define MTP_DECODE_DEC_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mtp/err.h"

struct mtp_synth_opts {
    size_t connections;     /* in all */
    size_t concurrent;      /* open at once, their packets interleaved; 0: 1 */
    unsigned pings;         /* per connection, before the calls */
    unsigned calls;         /* help.getConfig / help.getNearestDc, alternating */
    unsigned fresh_every;   /* every n-th connection runs the key exchange, the others reuse a key; 0: all do */
    unsigned transports;    /* bit i set: transport i of abridged, intermediate, padded, full, obfuscated-abridged,
                               obfuscated-intermediate, obfuscated-padded; 0: all seven, in turn */
    bool ipv6;
    bool quick_acks;        /* intermediate connections ask for a quick ack of each ping */
    int linktype;           /* DLT_*; 0: DLT_EN10MB */
    size_t mss;             /* 0: 1448 */
    uint32_t seed;
    const char *keylog;     /* the server's key log (created or appended to) */
    const char *events;     /* the server's observation log (docs/events.md); NULL: none */
    FILE *pcap;
};

struct mtp_synth_stats {
    uint64_t connections, exchanges, answers, bytes_c2s, bytes_s2c, packets;
};

MTP_MUST_USE int mtp_synth_capture(const struct mtp_synth_opts *o, struct mtp_synth_stats *st, struct mtp_error *err);

#endif
