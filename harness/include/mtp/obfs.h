/* Transport obfuscation ("obfuscated2", core.telegram.org/mtproto/mtproto-transports#transport-obfuscation),
 * as used towards Telegram's DCs, over WebSocket and by MTProxy.
 *
 * The initiator sends a 64-byte init: random bytes that avoid every prefix of
 * another transport, the protocol tag at 56..59 and (MTProxy) the DC id as a
 * signed LE int16 at 60..61.  Keys and IVs for both directions come from
 * bytes 8..56 of the init and of the init reversed; with an MTProxy secret
 * each key becomes SHA256(key || secret).  Both directions run AES-256-CTR
 * over the whole stream, the initiator's starting with the init itself, of
 * which only bytes 56..63 are sent encrypted.
 *
 * Role names below are CLIENT (the initiator, who generated the init) and
 * SERVER (who received it); an MTProxy talking to a DC is a CLIENT there. */
#ifndef MTP_OBFS_H
#define MTP_OBFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/env.h"
#include "mtp/err.h"
#include "mtp/transport.h"

#define MTP_OBFS_INIT_LEN 64

enum mtp_obfs_secret_mode {
    MTP_OBFS_SECRET_NONE = 0, /* plain obfuscation: no secret */
    MTP_OBFS_SECRET_SIMPLE,   /* 16-byte secret: any transport */
    MTP_OBFS_SECRET_PADDED,   /* 17 bytes, 0xdd (or any other extra first byte): padded intermediate only */
    MTP_OBFS_SECRET_FAKE_TLS, /* 0xee, 16 bytes, then the domain to imitate */
};

struct mtp_obfs_secret {
    enum mtp_obfs_secret_mode mode;
    uint8_t key[16]; /* what goes into SHA256(key || secret) */
};

/* Parses an MTProxy secret as distributed (raw bytes, not hex).  NULL/0 gives
 * MTP_OBFS_SECRET_NONE.  Other lengths are MTP_ERR_ARG. */
MTP_MUST_USE int mtp_obfs_secret_parse(struct mtp_obfs_secret *s, const uint8_t *p, size_t len,
                                       struct mtp_error *err);

/* The AES-256-CTR keys of one end. */
struct mtp_obfs_keys {
    uint8_t enc_key[32], enc_iv[16]; /* what this end sends */
    uint8_t dec_key[32], dec_iv[16]; /* what this end receives */
};

/* Keys for role from a plaintext init (secret may be NULL).  The server's
 * keys mirror the client's: its enc pair is the client's dec pair. */
MTP_MUST_USE int mtp_obfs_derive(const uint8_t init[MTP_OBFS_INIT_LEN], const struct mtp_obfs_secret *secret,
                                 enum mtp_tr_side role, struct mtp_obfs_keys *keys);

/* MTP_ERR_OBFS_BAD_INIT when bytes 0..7 of an init would be taken for
 * another transport (first byte 0xef, first int a tag, an HTTP method or a
 * TLS ClientHello, or bytes 4..7 zero). */
MTP_MUST_USE int mtp_obfs_check_init(const uint8_t init[MTP_OBFS_INIT_LEN], struct mtp_error *err);

/* A fresh plaintext init from env: random bytes redrawn until they pass
 * mtp_obfs_check_init, then the tag of kind and, if dc != 0, the DC id. */
MTP_MUST_USE int mtp_obfs_make_init(const struct mtp_env *env, enum mtp_tr_kind kind, int16_t dc,
                                    uint8_t init[MTP_OBFS_INIT_LEN], struct mtp_error *err);

struct evp_cipher_ctx_st;

/* One end of an obfuscated connection: two running AES-256-CTR streams. */
struct mtp_obfs {
    struct evp_cipher_ctx_st *tx, *rx;
    enum mtp_tr_kind kind; /* the transport inside, from the tag */
    int16_t dc;            /* bytes 60..61 of the init (0 when unused) */
    uint32_t tag;          /* bytes 56..59 as a LE int */
};

/* Client: checks a plaintext init (bad init, tag not one of the three, tag
 * not allowed by the secret), sets up both streams and writes the 64 bytes to
 * send: init[0..56) || encrypt(init)[56..64).  keys (may be NULL) receives a
 * copy of the keys; wipe it after use. */
MTP_MUST_USE int mtp_obfs_client_init(struct mtp_obfs *o, const uint8_t init[MTP_OBFS_INIT_LEN],
                                      const struct mtp_obfs_secret *secret, uint8_t wire[MTP_OBFS_INIT_LEN],
                                      struct mtp_obfs_keys *keys, struct mtp_error *err);
/* The same without mtp_obfs_check_init (the tag is still checked): only for
 * the seeded fault obfs-init-zero of the reference client, which sends an
 * init the check refuses so that a conformance suite can show it notices. */
MTP_MUST_USE int mtp_obfs_client_init_unchecked(struct mtp_obfs *o, const uint8_t init[MTP_OBFS_INIT_LEN],
                                                const struct mtp_obfs_secret *secret, uint8_t wire[MTP_OBFS_INIT_LEN],
                                                struct mtp_obfs_keys *keys, struct mtp_error *err);
/* Server: the 64 bytes as received.  Checks the plain prefix, derives the
 * mirror keys, decrypts bytes 56..63 and checks the tag (MTP_ERR_OBFS_BAD_TAG:
 * unknown, or a secret of mode PADDED and a tag other than padded's, as
 * MTProxy does when it only allows random padding). */
MTP_MUST_USE int mtp_obfs_server_init(struct mtp_obfs *o, const uint8_t wire[MTP_OBFS_INIT_LEN],
                                      const struct mtp_obfs_secret *secret, struct mtp_obfs_keys *keys,
                                      struct mtp_error *err);
void mtp_obfs_free(struct mtp_obfs *o);

/* The server's end from keys logged for the connection (a key log's OBFS2
 * line) rather than derived: what a capture decoder needs when an MTProxy
 * secret it does not know went into the keys.  keys is the server's view (dec
 * pair = what the client sends, enc pair = what the server sends); wire is the
 * init as received.  The rx stream is left just past the init, whose tag is
 * checked as mtp_obfs_server_init does (MTP_ERR_OBFS_BAD_TAG when the keys do
 * not decrypt it to one).  Decrypt what the server sent with mtp_obfs_encrypt
 * (CTR runs the same both ways). */
MTP_MUST_USE int mtp_obfs_from_keys(struct mtp_obfs *o, const uint8_t wire[MTP_OBFS_INIT_LEN],
                                    const struct mtp_obfs_keys *keys, struct mtp_error *err);

/* The 64 bytes a client sends for init, without any check: for tools that
 * must produce wrong inits on purpose (what a server does with them is
 * mtp_obfs_server_init's business). */
MTP_MUST_USE int mtp_obfs_wire(const uint8_t init[MTP_OBFS_INIT_LEN], const struct mtp_obfs_secret *secret,
                               uint8_t wire[MTP_OBFS_INIT_LEN]);

/* In place; the counters carry on across calls. */
MTP_MUST_USE int mtp_obfs_encrypt(struct mtp_obfs *o, uint8_t *buf, size_t n);
MTP_MUST_USE int mtp_obfs_decrypt(struct mtp_obfs *o, uint8_t *buf, size_t n);
/* Moves a stream on by n bytes that were never seen (a gap in a capture), so
 * that what follows the gap decrypts.  rx: the receiving stream, else tx. */
MTP_MUST_USE int mtp_obfs_skip(struct mtp_obfs *o, bool rx, uint64_t n);

#endif
