/* MTProto TCP transports (core.telegram.org/mtproto/mtproto-transports) as
 * sans-IO stream codecs: bytes in, frames out; frames in, bytes out.
 *
 * Every codec is a caller-owned struct with per-connection state.  Decoders
 * take whatever recv() returned, in any chunking down to one byte at a time,
 * and hand out one complete frame per call; they never consume a byte past
 * the end of the frame they return, so the caller loops over the rest.
 * Buffering is bounded: a frame whose length claim exceeds the configured
 * limit is rejected as soon as its header is complete, before any of its body
 * is buffered.
 *
 *     struct mtp_tr_decoder d;   mtp_tr_decoder_init(&d, MTP_TR_INTERMEDIATE, MTP_TR_CLIENT, NULL);
 *     while (len > 0) {
 *         size_t n = len;
 *         int rc = mtp_tr_decode(&d, p, &n, &frame, &err);
 *         p += n; len -= n;
 *         if (rc == MTP_ERR_NEED_MORE) break;      // everything buffered, recv() again
 *         if (rc < 0) close_connection();          // sticky: the stream is unusable
 *         handle(frame);
 *     }
 *
 * Direction matters: "quick ack" bits mean a request in what a client sends
 * and a token in what a server sends, and only clients send the tag.  So each
 * codec is told which side wrote (encoder) or writes (decoder) the stream. */
#ifndef MTP_TRANSPORT_H
#define MTP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"
#include "mtp/env.h"
#include "mtp/err.h"

enum mtp_tr_kind {
    MTP_TR_ABRIDGED = 1,  /* tag 0xef; length/4 in 1 byte, or 0x7f + 3 bytes LE */
    MTP_TR_INTERMEDIATE,  /* tag 0xeeeeeeee; 4-byte LE length */
    MTP_TR_PADDED,        /* tag 0xdddddddd; 4-byte LE length of payload + 0..15 random bytes */
    MTP_TR_FULL,          /* no tag; length (incl. itself, seq, crc), seq from 0, payload, CRC32 */
};

/* The party that writes the stream being encoded or decoded. */
enum mtp_tr_side {
    MTP_TR_CLIENT = 0,
    MTP_TR_SERVER = 1,
};

#define MTP_TR_MAX_FRAME_DEFAULT ((size_t)16 << 20)
/* Padded intermediate: at most 15 padding bytes after a payload, 8 after a quick-ack token. */
#define MTP_TR_PADDING_MAX 15
#define MTP_TR_ACK_PADDING_MAX 8
/* The MSB that marks quick-ack requests (in lengths) and quick-ack tokens. */
#define MTP_TR_QUICK_ACK_BIT 0x80000000u

/* "abridged", "intermediate", "padded", "full". */
const char *mtp_tr_kind_name(enum mtp_tr_kind kind);
/* MTP_OK and *kind, or MTP_ERR_ARG for an unknown name. */
MTP_MUST_USE int mtp_tr_kind_from_name(const char *name, enum mtp_tr_kind *kind);
/* The tag as the 4 bytes at offset 56 of an obfuscated init, read as a LE
 * integer (0xefefefef, 0xeeeeeeee, 0xdddddddd); 0 for full, which has none. */
uint32_t mtp_tr_obfs_tag(enum mtp_tr_kind kind);
/* The inverse; MTP_ERR_OBFS_BAD_TAG for anything else. */
MTP_MUST_USE int mtp_tr_kind_from_obfs_tag(uint32_t tag, enum mtp_tr_kind *kind);

struct mtp_tr_opts {
    size_t max_frame; /* largest frame body accepted; 0 means MTP_TR_MAX_FRAME_DEFAULT */
    /* Also reject what the spec rules out but deployed servers tolerate:
     * payload lengths that are not a multiple of 4 (intermediate, full).  (The
     * abridged 0x7f form for lengths below 0x7f*4 is legal: the page requires
     * it from 0x7f words on and forbids it nowhere.) */
    bool strict;
    /* A client stream without the standalone tag: under obfuscation the tag
     * travels inside the 64-byte init instead. */
    bool no_tag;
    /* Full: accept frames whose CRC32 or sequence number is wrong.  Only for
     * the seeded faults of the reference client (a conformance suite must
     * notice); never for a real peer. */
    bool skip_crc;
};

/* One decoded frame.  data is borrowed: it points into the caller's input or
 * into the decoder's buffer, and is valid until the next call on the decoder
 * (and, in the first case, while the input is). */
struct mtp_tr_frame {
    const uint8_t *data;
    size_t len;          /* padded: the payload followed by its padding, see mtp_tr_padded_payload_len */
    bool quick_ack;      /* client stream: the sender asks for a quick ack of this payload */
    bool is_ack;         /* server stream: a quick-ack token, no payload (len 0) */
    uint32_t ack_token;  /* the token as a LE integer, MSB set (is_ack only) */
    int32_t transport_error; /* server stream: the negative code when the frame is a transport error, else 0 */
    uint32_t seq;        /* full: this frame's sequence number */
    uint64_t offset;     /* stream offset of the frame's first byte */
};

struct mtp_tr_decoder {
    enum mtp_tr_kind kind;
    enum mtp_tr_side from;
    struct mtp_tr_opts opts;
    uint8_t tag_left;     /* tag bytes still to check */
    uint8_t hdr[8];
    uint8_t hdr_have, hdr_need;
    bool in_body;
    bool quick_ack;
    bool buffered;        /* the body is being collected in buf */
    size_t body_len, body_have;
    struct mtp_wr buf;    /* bodies that arrive split, grown as their bytes arrive */
    uint32_t seq;         /* full: next expected sequence number */
    uint64_t offset;      /* bytes consumed since the start of the stream */
    uint64_t frame_offset;
    int failed;           /* sticky error code, or MTP_OK */
};

/* opts may be NULL (defaults).  Never allocates; the buffer grows on demand. */
void mtp_tr_decoder_init(struct mtp_tr_decoder *d, enum mtp_tr_kind kind, enum mtp_tr_side from,
                         const struct mtp_tr_opts *opts);
/* Wipes and frees the buffer. */
void mtp_tr_decoder_free(struct mtp_tr_decoder *d);
/* Consumes bytes from in[0..*in_len) and sets *in_len to the number consumed.
 * Returns MTP_OK with *frame filled when a frame is complete (the consumed
 * count ends exactly at its last byte), MTP_ERR_NEED_MORE when every byte was
 * consumed without completing a frame, or a transport error, after which the
 * decoder refuses further input with the same code. */
MTP_MUST_USE int mtp_tr_decode(struct mtp_tr_decoder *d, const uint8_t *in, size_t *in_len, struct mtp_tr_frame *frame,
                               struct mtp_error *err);
/* At the end of the stream: MTP_OK at a frame boundary, MTP_ERR_TR_BAD_LENGTH
 * (or MTP_ERR_TR_BAD_TAG inside the tag) when the stream stops inside a frame. */
MTP_MUST_USE int mtp_tr_decoder_finish(const struct mtp_tr_decoder *d, struct mtp_error *err);

struct mtp_tr_encoder {
    enum mtp_tr_kind kind;
    enum mtp_tr_side side;
    bool tag_pending;     /* the client's tag goes out before the first frame */
    uint32_t seq;         /* full: sequence number of the next frame */
    const struct mtp_env *env;
};

/* env supplies padded-intermediate padding and may be NULL when every frame
 * brings its own padding.  send_tag: a plain (non-obfuscated) client stream. */
void mtp_tr_encoder_init(struct mtp_tr_encoder *e, enum mtp_tr_kind kind, enum mtp_tr_side side, bool send_tag,
                         const struct mtp_env *env);

struct mtp_tr_send {
    const uint8_t *data;
    size_t len;
    bool quick_ack;          /* client only: request a quick ack */
    /* Padded only: explicit padding (0..15 bytes) instead of random padding
     * drawn from the encoder's env; used to replay vectors. */
    bool padding_given;
    const uint8_t *padding;
    size_t padding_len;
    /* Abridged: the 0x7f + 3-byte length form even for a payload of fewer than
     * 0x7f words (legal, if unusual; every decoder of ours takes it). */
    bool abridged_long;
    /* Full, for tests of a receiver: a frame with a wrong CRC32 (its lowest bit
     * flipped), or one whose sequence number is one above the expected one (the
     * CRC then covers what is sent, and the encoder's count goes on as usual). */
    bool full_bad_crc;
    bool full_bad_seq;
};

/* Writes the tag now, if it is still pending (a client that wants it out
 * before its first frame); otherwise writes nothing. */
MTP_MUST_USE int mtp_tr_encode_tag(struct mtp_tr_encoder *e, struct mtp_wr *out, struct mtp_error *err);
/* Appends the tag (first time, if pending) and one frame to out.  A payload
 * the transport cannot carry (empty, too long, abridged not a multiple of 4)
 * is MTP_ERR_TR_BAD_LENGTH; a quick-ack request from a server is MTP_ERR_ARG. */
MTP_MUST_USE int mtp_tr_encode(struct mtp_tr_encoder *e, const struct mtp_tr_send *m, struct mtp_wr *out,
                               struct mtp_error *err);
/* Server only: the quick-ack answer for token (MSB set).  Abridged sends the
 * 4 token bytes reversed (the spec's "bswapped"), intermediate sends them
 * as they are (LE), padded sends a frame FFFFFFFF || token || 0..8 bytes of
 * padding (given, or random from env when padding is NULL). */
MTP_MUST_USE int mtp_tr_encode_ack(struct mtp_tr_encoder *e, uint32_t token, const uint8_t *padding,
                                   size_t padding_len, struct mtp_wr *out, struct mtp_error *err);

/* ---- payload helpers (mtp_tr_payload.c) ---- */

/* Transport errors: a frame whose payload is a negative LE int32. */
#define MTP_TR_ERROR_FORBIDDEN (-403)
#define MTP_TR_ERROR_AUTH_KEY (-404) /* auth key not found, or a malformed packet */
#define MTP_TR_ERROR_FLOOD (-429)    /* too many connections, or container/service message limits */
#define MTP_TR_ERROR_BAD_DC (-444)   /* invalid DC id (auth key creation, MTProxy) */

/* True when payload[0..len) is a transport error frame; *code gets the (negative) code.
 * -1 (FFFFFFFF) is excluded: the spec calls it "not a valid transport error". */
bool mtp_tr_error_frame(const uint8_t *payload, size_t len, int32_t *code);
void mtp_tr_error_payload(int32_t code, uint8_t out[4]);
/* "forbidden", "auth_key_not_found", "flood", "invalid_dc", or "unknown". */
const char *mtp_tr_error_name(int32_t code);

/* The quick-ack token of an outgoing encrypted message: the first 4 bytes of
 * msg_key_large = SHA256(auth_key[88+x .. 120+x] || plaintext) as a LE int
 * with the MSB set (x = 0 for messages from the client, 8 from the server). */
uint32_t mtp_tr_quick_ack_token(const uint8_t msg_key_large[32]);
MTP_MUST_USE int mtp_tr_quick_ack_compute(const uint8_t auth_key[256], enum mtp_tr_side sender,
                                          const uint8_t *plaintext, size_t len, uint32_t *token);

/* Padded intermediate cannot tell padding from payload by itself.  This
 * recovers the payload length from what an MTProto packet looks like: a
 * transport error (4 bytes, frames shorter than 24), an unencrypted message
 * (auth_key_id 0: 20 + message_data_length) or an encrypted one (auth_key_id,
 * msg_key, then a multiple of 16 bytes; padding < 16 is what is left over).
 * MTP_ERR_TR_BAD_LENGTH when the frame fits none of these. */
MTP_MUST_USE int mtp_tr_padded_payload_len(const uint8_t *frame, size_t len, size_t *payload_len,
                                           struct mtp_error *err);

/* ---- sorting frames into packets (mtp_tr_packet.c) ---- */

/* What a frame carries.  Every receiver of MTProto over TCP (a server, a
 * client, a capture decoder) sorts frames this way before anything else. */
enum mtp_tr_packet_kind {
    MTP_TR_PKT_QUICK_ACK = 1,   /* server stream: a quick-ack token, no payload */
    MTP_TR_PKT_TRANSPORT_ERROR, /* server stream: a 4-byte negative code */
    MTP_TR_PKT_PLAIN,           /* auth_key_id 0: an unencrypted message (the key exchange) */
    MTP_TR_PKT_ENCRYPTED,       /* auth_key_id, msg_key, ciphertext */
};

struct mtp_tr_packet {
    enum mtp_tr_packet_kind kind;
    const uint8_t *data;   /* borrowed from the frame: the packet without transport padding */
    size_t len;
    size_t padding;        /* padded intermediate: bytes after the packet */
    bool quick_ack;        /* client stream: the sender asks for a quick ack */
    uint32_t ack_token;    /* QUICK_ACK: as a LE int, MSB set */
    int32_t error_code;    /* TRANSPORT_ERROR: the negative code */
    uint64_t auth_key_id;  /* PLAIN (0) and ENCRYPTED: the first 8 bytes as a LE int */
};

/* "quick_ack", "transport_error", "plain", "encrypted". */
const char *mtp_tr_packet_kind_name(enum mtp_tr_packet_kind kind);

/* Sorts a frame of a stream of transport kind written by from.  Transport
 * errors and quick acks only come from a server.  Errors:
 * MTP_ERR_TR_BAD_LENGTH (padded: no packet shape fits the frame, see
 * mtp_tr_padded_payload_len) and MTP_ERR_TR_SHORT_PACKET (fewer than 8
 * bytes and nothing else either; data and len still hold the packet); what
 * the receiver does then is its own business (a server answers -404, a
 * client drops the frame). */
MTP_MUST_USE int mtp_tr_sort_packet(enum mtp_tr_kind kind, enum mtp_tr_side from, const struct mtp_tr_frame *f,
                                    struct mtp_tr_packet *out, struct mtp_error *err);

/* ---- server-side detection (mtp_tr_detect.c) ---- */

enum mtp_tr_envelope {
    MTP_TR_ENV_PLAIN = 1, /* a tag, or full's first frame */
    MTP_TR_ENV_OBFS2,     /* a 64-byte obfuscated init: see mtp_obfs_server_init */
    MTP_TR_ENV_HTTP,      /* an HTTP method: not a TCP transport */
    MTP_TR_ENV_TLS,       /* a TLS ClientHello (MTProxy fake-TLS, 0xee secrets) */
};

struct mtp_tr_detection {
    enum mtp_tr_envelope envelope;
    enum mtp_tr_kind kind;      /* ENV_PLAIN only */
    size_t header_len;          /* bytes of tag or init, part of no frame */
    /* Bytes the detector consumed that belong to what follows the header:
     * full's first 8 bytes, or the start of an HTTP/TLS stream.  Borrowed
     * from the detector; feed them to the next layer first. */
    const uint8_t *replay;
    size_t replay_len;
    const uint8_t *init;        /* ENV_OBFS2: the 64 bytes as received */
};

struct mtp_tr_detector {
    uint8_t buf[64];
    size_t have;
    bool done;
};

void mtp_tr_detector_init(struct mtp_tr_detector *d);
/* Consumes at most the bytes needed to decide (never more than 64) and sets
 * *in_len to the number consumed.  MTP_ERR_NEED_MORE until decidable; then
 * MTP_OK and *out.  See mtp_tr_detect.c for the rule and its ambiguities. */
MTP_MUST_USE int mtp_tr_detect(struct mtp_tr_detector *d, const uint8_t *in, size_t *in_len,
                               struct mtp_tr_detection *out, struct mtp_error *err);

#endif
