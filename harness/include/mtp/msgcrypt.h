/* MTProto 2.0 message encryption (core.telegram.org/mtproto/description,
 * "Defining AES Key and Initialization Vector"; checks from
 * core.telegram.org/mtproto/security_guidelines).
 *
 * An encrypted packet is  auth_key_id (8) | msg_key (16) | AES-256-IGE(plaintext)
 * and the plaintext is    salt (8) | session_id (8) | msg_id (8) | seq_no (4) |
 *                         message_data_length (4) | data | padding (12..1024)
 * with its total length a multiple of 16.  x = 0 for messages from the client,
 * x = 8 for messages from the server:
 *   msg_key = SHA256(auth_key[88+x, 32) | plaintext)[8, 24)
 *   a = SHA256(msg_key | auth_key[x, 36)),  b = SHA256(auth_key[40+x, 36) | msg_key)
 *   aes_key = a[0,8) | b[8,24) | a[24,32),  aes_iv = b[0,8) | a[8,24) | b[24,32) */
#ifndef MTP_MSGCRYPT_H
#define MTP_MSGCRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"
#include "mtp/env.h"
#include "mtp/err.h"

#define MTP_AUTH_KEY_LEN 256
#define MTP_AUTH_KEY_ID_LEN 8
#define MTP_MSG_KEY_LEN 16
/* auth_key_id + msg_key in front of the ciphertext */
#define MTP_MSG_OUTER_HEADER_LEN 24
/* salt + session_id + msg_id + seq_no + message_data_length */
#define MTP_MSG_INNER_HEADER_LEN 32
#define MTP_MSG_MIN_PADDING 12
#define MTP_MSG_MAX_PADDING 1024

/* Who sent the message; selects x in the formulas above. */
enum mtp_sender { MTP_SENDER_CLIENT = 0, MTP_SENDER_SERVER = 1 };

/* The low 64 bits of SHA1(auth_key): the last 8 bytes of the digest, in wire order. */
void mtp_auth_key_id(const uint8_t auth_key[MTP_AUTH_KEY_LEN], uint8_t id[MTP_AUTH_KEY_ID_LEN]);

/* msg_key over a plaintext of any length (normally the complete, padded one). */
MTP_MUST_USE int mtp_msg_key(const uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender s, const uint8_t *plain,
                             size_t len, uint8_t msg_key[MTP_MSG_KEY_LEN], struct mtp_error *err);

/* aes_key and aes_iv for a message with this msg_key.  Fails only if OpenSSL does (MTP_ERR_OSSL). */
MTP_MUST_USE int mtp_msg_kdf(const uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender s,
                             const uint8_t msg_key[MTP_MSG_KEY_LEN], uint8_t aes_key[32], uint8_t aes_iv[32]);

/* Encrypts a complete, padded plaintext (len a positive multiple of 16, else
 * MTP_ERR_BAD_PLAINTEXT_LENGTH) and appends auth_key_id | msg_key | ciphertext
 * to out.  The header and padding are NOT checked, so that tests can build
 * packets that a correct peer must reject.  plain must not point into out. */
MTP_MUST_USE int mtp_msg_encrypt(const uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender s, const uint8_t *plain,
                                 size_t len, struct mtp_wr *out, struct mtp_error *err);

/* Verifies and decrypts a packet as received (auth_key_id | msg_key | ciphertext)
 * from sender s, and appends the whole plaintext (header, data and padding)
 * to plain_out.  Checks, reported in this order:
 *   MTP_ERR_AUTH_KEY_ID_MISMATCH      auth_key_id missing or not the id of auth_key
 *   MTP_ERR_BAD_CIPHERTEXT_LENGTH     ciphertext not a multiple of 16 or shorter than 32 bytes
 *   MTP_ERR_MSG_KEY_MISMATCH          msg_key wrong (compared in constant time)
 *   MTP_ERR_BAD_MESSAGE_LENGTH        message_data_length (unsigned) beyond the plaintext
 *   MTP_ERR_UNALIGNED_MESSAGE_LENGTH  message_data_length not a multiple of 4
 *   MTP_ERR_BAD_PADDING_LENGTH        padding outside 12..1024
 * The msg_key check runs even when an earlier check failed (over the whole
 * blocks present), so every rejection costs the same work; the first failure
 * is the one reported.  On failure nothing is appended to plain_out and every
 * intermediate secret is wiped.  Other codes: MTP_ERR_OVERFLOW / MTP_ERR_NOMEM
 * when plain_out cannot hold the plaintext, MTP_ERR_OSSL.  packet must not
 * point into plain_out. */
MTP_MUST_USE int mtp_msg_decrypt(const uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender s, const uint8_t *packet,
                                 size_t len, struct mtp_wr *plain_out, struct mtp_error *err);

/* The same encryption and checks for a session that handles many messages
 * with one auth key: the key's id is computed once and OpenSSL's SHA-256 is
 * fetched once, which saves about a third of the time of a 1 KB message.
 * A context is used by one thread at a time; mtp_msgcrypt_del wipes it. */
struct mtp_msgcrypt;
MTP_MUST_USE int mtp_msgcrypt_new(const uint8_t auth_key[MTP_AUTH_KEY_LEN], struct mtp_msgcrypt **out,
                                  struct mtp_error *err);
void mtp_msgcrypt_del(struct mtp_msgcrypt *c);
/* The key's auth_key_id (MTP_AUTH_KEY_ID_LEN bytes, wire order), valid until mtp_msgcrypt_del. */
const uint8_t *mtp_msgcrypt_auth_key_id(const struct mtp_msgcrypt *c);
/* As mtp_msg_encrypt / mtp_msg_decrypt with the context's auth key. */
MTP_MUST_USE int mtp_msgcrypt_encrypt(struct mtp_msgcrypt *c, enum mtp_sender s, const uint8_t *plain, size_t len,
                                      struct mtp_wr *out, struct mtp_error *err);
MTP_MUST_USE int mtp_msgcrypt_decrypt(struct mtp_msgcrypt *c, enum mtp_sender s, const uint8_t *packet, size_t len,
                                      struct mtp_wr *plain_out, struct mtp_error *err);

/* mtp_msgcrypt_decrypt with some checks left out: only for the seeded faults
 * of the reference client, which prove that a conformance suite notices each
 * missing check.  skip is a set of these bits; 0 is mtp_msgcrypt_decrypt. */
enum {
    MTP_MSGCRYPT_SKIP_AUTH_KEY_ID = 1u << 0, /* any auth_key_id passes */
    MTP_MSGCRYPT_SKIP_MSG_KEY = 1u << 1,     /* decrypt with the msg_key as sent, never compare it */
    MTP_MSGCRYPT_SKIP_LENGTH = 1u << 2,      /* message_data_length beyond the plaintext, negative, or not % 4 */
    MTP_MSGCRYPT_SKIP_PADDING = 1u << 3,     /* padding outside 12..1024 */
};
MTP_MUST_USE int mtp_msgcrypt_decrypt_skip(struct mtp_msgcrypt *c, enum mtp_sender s, unsigned skip,
                                           const uint8_t *packet, size_t len, struct mtp_wr *plain_out,
                                           struct mtp_error *err);

/* Pads the message in plain (its whole content, header and data) with random
 * bytes from env: 12..max_padding bytes, total length a multiple of 16.  The
 * padding length is drawn uniformly from the allowed lengths; pass
 * MTP_MSG_MAX_PADDING for the full range the spec allows, or a smaller bound
 * (at least 27, which every length can reach) to save bytes.  MTP_ERR_ARG when
 * max_padding is outside 27..1024. */
MTP_MUST_USE int mtp_msg_pad(struct mtp_wr *plain, size_t max_padding, const struct mtp_env *env,
                             struct mtp_error *err);

#endif
