/* One end of an MTProto TCP connection below the MTProto layer: transport
 * detection (server), obfuscation and framing composed into one sans-IO
 * object.  Frames in, bytes out (mtp_tr_conn_send); bytes in, frames out
 * (mtp_tr_conn_feed + mtp_tr_conn_next):
 *
 *     n = recv(fd, buf, sizeof buf, 0);
 *     mtp_tr_conn_feed(&c, buf, n);               // buf stays ours until NEED_MORE
 *     while ((rc = mtp_tr_conn_next(&c, &frame, &err)) == MTP_OK)
 *         handle(&frame);
 *     if (rc != MTP_ERR_NEED_MORE) close(fd);
 *
 * Received bytes are decrypted in place, so feed takes a mutable buffer. */
#ifndef MTP_TR_CONN_H
#define MTP_TR_CONN_H

#include "mtp/obfs.h"
#include "mtp/transport.h"

struct mtp_tr_conn_opts {
    enum mtp_tr_side side;          /* the end we are */
    enum mtp_tr_kind kind;          /* client: the transport to speak (a server detects it) */
    bool obfuscated;                /* client: wrap it in obfuscated2 */
    const uint8_t *init;            /* client, obfuscated: a fixed plaintext init (replays); NULL draws one */
    bool unchecked_init;            /* client: send the given init even if mtp_obfs_check_init refuses it
                                     * (seeded fault of the reference client only) */
    int16_t dc;                     /* client, obfuscated: DC id for bytes 60..61, 0 for none */
    struct mtp_obfs_secret secret;  /* MTProxy secret; mode NONE for none */
    bool require_obfs;              /* server: refuse plain transports, as MTProxy does */
    bool secret_optional;           /* server: an init whose tag does not decode under the secret is tried
                                     * without it (seeded fault of the mock DC only: a proxy that must
                                     * refuse such an init; a conformance suite must notice) */
    struct mtp_tr_opts tr;          /* decoder limits (no_tag is set as needed) */
    const struct mtp_env *env;      /* padding and init randomness */
};

enum mtp_tr_conn_state {
    MTP_TR_CONN_DETECTING = 1,
    MTP_TR_CONN_OPEN,
};

struct mtp_tr_conn {
    struct mtp_tr_conn_opts opts;
    enum mtp_tr_conn_state state;
    enum mtp_tr_kind kind;          /* known once OPEN */
    bool obfuscated;
    int16_t dc;                     /* from the obfuscated init */
    struct mtp_tr_detector det;
    struct mtp_obfs obfs;
    struct mtp_tr_decoder dec;
    struct mtp_tr_encoder enc;
    bool started;
    uint8_t *chunk;                 /* the buffer fed last, and how far it has been read */
    size_t chunk_len, chunk_pos;
    const uint8_t *replay;          /* bytes the detector took that belong to the first frame */
    size_t replay_len;
    int failed;
};

MTP_MUST_USE int mtp_tr_conn_init(struct mtp_tr_conn *c, const struct mtp_tr_conn_opts *opts, struct mtp_error *err);
void mtp_tr_conn_free(struct mtp_tr_conn *c);
/* Client: what goes out before the first frame (the tag, or the 64-byte
 * obfuscated init).  Called once; send calls it if nobody did. */
MTP_MUST_USE int mtp_tr_conn_start(struct mtp_tr_conn *c, struct mtp_wr *out, struct mtp_error *err);
MTP_MUST_USE int mtp_tr_conn_send(struct mtp_tr_conn *c, const struct mtp_tr_send *m, struct mtp_wr *out,
                                  struct mtp_error *err);
/* Server: a quick-ack answer (see mtp_tr_encode_ack). */
MTP_MUST_USE int mtp_tr_conn_send_ack(struct mtp_tr_conn *c, uint32_t token, struct mtp_wr *out,
                                      struct mtp_error *err);
/* Hands the connection the next received bytes; buf is decrypted in place
 * and must stay valid until mtp_tr_conn_next returns something else than MTP_OK. */
void mtp_tr_conn_feed(struct mtp_tr_conn *c, uint8_t *buf, size_t len);
/* The next complete frame from what was fed: MTP_OK, MTP_ERR_NEED_MORE once
 * the fed bytes are used up, or an error (sticky).  A server refuses HTTP and
 * fake-TLS with MTP_ERR_UNSUPPORTED, and plain transports with require_obfs
 * with MTP_ERR_OBFS_BAD_INIT. */
MTP_MUST_USE int mtp_tr_conn_next(struct mtp_tr_conn *c, struct mtp_tr_frame *frame, struct mtp_error *err);

#endif
