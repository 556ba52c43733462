/* `mtprobe decode`: a capture (pcap or pcapng) to readable, decrypted MTProto,
 * with passive conformance checks (docs/decode.md).
 *
 *   capture -> pcap_in (link, IP, TCP) -> tcp_reasm (per connection and
 *   direction) -> dec_conn (transport detection, obfuscation, framing,
 *   resynchronisation after gaps, mtp_tr_sort_packet) -> dec_msg (the key
 *   exchange, decrypted with the key log's NEW_NONCE lines; encrypted
 *   packets with its AUTH_KEY lines; the body through the TL engine, with
 *   rpc_result typed by its request) -> dec_check (--check) -> dec_out
 *   (text, JSON lines, the per-connection summary).
 *
 * Memory is bounded on captures of any size: state per open connection, per
 * session (bounded in number) and per held out-of-order segment only. */
#ifndef MTP_DECODE_H
#define MTP_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mtp/err.h"
#include "mtp/obfs.h"

enum mtp_decode_format {
    MTP_DECODE_TEXT = 0, /* one summary line per message, nested fields below (like tshark -V) */
    MTP_DECODE_JSONL,    /* one JSON object per event (docs/decode.md) */
    MTP_DECODE_NONE,     /* nothing per message (--summary alone, benchmarks) */
};

#define MTP_DECODE_MAX_SCHEMAS 8
#define MTP_DECODE_MAX_KEYLOGS 8

struct mtp_decode_opts {
    const char *schemas[MTP_DECODE_MAX_SCHEMAS]; /* API schemas; none: the mock DC's (every layer it answers) */
    size_t nschemas;
    /* Or schemas already loaded (each an API schema linked with mtproto.tl), borrowed for the run:
     * a caller that decodes many captures (the fuzz target) parses them once. */
    struct mtp_tl_schema *const *loaded;
    const int32_t *loaded_layers;
    size_t nloaded;
    const char *keylogs[MTP_DECODE_MAX_KEYLOGS];
    size_t nkeylogs;
    const char *keylog_text;        /* a key log in memory too (fuzzing, tests); NULL: none */
    size_t keylog_text_len;
    struct mtp_obfs_secret secret;  /* MTProxy secret for obfuscated2 without OBFS2 lines */
    uint64_t connection;            /* only this connection (1, 2, ...); 0: all */
    const char *filter;             /* only messages with this constructor (top, nested or result); NULL: all */
    enum mtp_decode_format format;
    bool hex;                       /* bodies as hex too */
    bool tl_text;                   /* jsonl: the TL text ("tl") too, as the mock DC's events carry it */
    bool summary;                   /* per connection: transport, keys, counts, problems */
    bool check;                     /* passive conformance checks */
    size_t short_bytes;             /* text: shorten byte strings longer than this (0: 64; SIZE_MAX: never) */
    FILE *out;
    /* Benchmarks: stop after reading and reassembly (1), or after framing and
     * decryption (2); 0 does everything. */
    int stop_after;
};

struct mtp_decode_stats {
    uint64_t packets, segments, connections;
    uint64_t frames, messages, plain, encrypted, undecrypted, tl_errors;
    uint64_t quick_acks, transport_errors;
    uint64_t bytes_lost, gaps, resyncs;
    uint64_t findings;              /* --check: deviations found */
    bool truncated;                 /* the capture file ended early or is damaged */
};

/* Decodes the capture at path ("-": stdin).  MTP_OK when it was read to the
 * end (damaged parts are reported in the output and the stats, not as an
 * error); MTP_ERR_PCAP when it is no capture at all, MTP_ERR_KEYLOG / MTP_ERR_IO
 * for an unreadable key log, schema errors for --schema. */
MTP_MUST_USE int mtp_decode_file(const char *path, const struct mtp_decode_opts *o, struct mtp_decode_stats *st,
                                 struct mtp_error *err);
/* The same from a stream (owned by the decoder from then on; fuzzing, tests). */
MTP_MUST_USE int mtp_decode_stream(FILE *f, const struct mtp_decode_opts *o, struct mtp_decode_stats *st,
                                   struct mtp_error *err);

#endif
