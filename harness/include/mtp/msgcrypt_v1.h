/* MTProto 1.0 message encryption (core.telegram.org/mtproto/description_v1,
 * "Defining AES Key and Initialization Vector"; deprecated for messages, but
 * still the scheme of auth.bindTempAuthKey's encrypted_message,
 * core.telegram.org/method/auth.bindTempAuthKey: "encrypted in the usual way,
 * but with MTProto v1 using the perm_auth_key").
 *
 * A packet is             auth_key_id (8) | msg_key (16) | AES-256-IGE(plaintext)
 * and the plaintext is    salt (8) | session_id (8) | msg_id (8) | seq_no (4) |
 *                         message_data_length (4) | data | padding (0..15)
 * with its total length a multiple of 16.  Unlike MTProto 2.0, msg_key covers
 * the message WITHOUT its padding and no part of the key:
 *   msg_key = SHA1(plaintext[0, 32 + message_data_length))[4, 20)
 * ("the 128 lower-order bits of SHA1 of the message body": the last 16 bytes
 * of the digest, as the 64 lower-order bits of SHA1(auth_key) are its last 8).
 * x = 0 for messages from the client, x = 8 from the server:
 *   sha1_a = SHA1(msg_key | auth_key[x, 32))
 *   sha1_b = SHA1(auth_key[32+x, 16) | msg_key | auth_key[48+x, 16))
 *   sha1_c = SHA1(auth_key[64+x, 32) | msg_key)
 *   sha1_d = SHA1(msg_key | auth_key[96+x, 32))
 *   aes_key = sha1_a[0, 8) | sha1_b[8, 20) | sha1_c[4, 16)
 *   aes_iv  = sha1_a[8, 20) | sha1_b[0, 8) | sha1_c[16, 20) | sha1_d[0, 8)
 * Constants shared with MTProto 2.0 (key and id lengths, enum mtp_sender) come
 * from mtp/msgcrypt.h. */
#ifndef MTP_MSGCRYPT_V1_H
#define MTP_MSGCRYPT_V1_H

#include <stddef.h>
#include <stdint.h>

#include "mtp/buf.h"
#include "mtp/env.h"
#include "mtp/err.h"
#include "mtp/msgcrypt.h"

/* MTProto 1.0 pads only to the block size. */
#define MTP_MSG_V1_MAX_PADDING 15

/* msg_key over an unpadded plaintext (header and data) of any length. */
MTP_MUST_USE int mtp_msg_v1_key(const uint8_t *plain, size_t len, uint8_t msg_key[MTP_MSG_KEY_LEN],
                                struct mtp_error *err);

/* aes_key and aes_iv for a message with this msg_key.  Fails only if OpenSSL does (MTP_ERR_OSSL). */
MTP_MUST_USE int mtp_msg_v1_kdf(const uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender s,
                                const uint8_t msg_key[MTP_MSG_KEY_LEN], uint8_t aes_key[32], uint8_t aes_iv[32]);

/* Encrypts a complete, padded plaintext (len a multiple of 16 and at least
 * the 32-byte header, else MTP_ERR_BAD_PLAINTEXT_LENGTH) and appends
 * auth_key_id | msg_key | ciphertext to out.  msg_key covers the first
 * 32 + message_data_length bytes, or the whole plaintext when that length
 * claims more: nothing else of the header or the padding is checked, so that
 * tests can build packets a correct receiver must reject.  plain must not
 * point into out. */
MTP_MUST_USE int mtp_msg_v1_encrypt(const uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender s, const uint8_t *plain,
                                    size_t len, struct mtp_wr *out, struct mtp_error *err);

/* Verifies and decrypts a packet from sender s and appends the whole
 * plaintext (header, data and padding) to plain_out.  Checks, reported in
 * this order:
 *   MTP_ERR_AUTH_KEY_ID_MISMATCH      auth_key_id missing or not the id of auth_key
 *   MTP_ERR_BAD_CIPHERTEXT_LENGTH     ciphertext not a multiple of 16 or shorter than 32 bytes
 *   MTP_ERR_V1_MSG_KEY_MISMATCH       msg_key wrong (compared in constant time) over the
 *                                     first min(32 + message_data_length, all) bytes
 *   MTP_ERR_BAD_MESSAGE_LENGTH        message_data_length (unsigned) beyond the plaintext
 *   MTP_ERR_UNALIGNED_MESSAGE_LENGTH  message_data_length not a multiple of 4
 *   MTP_ERR_V1_BAD_PADDING_LENGTH     more than 15 bytes of padding
 * The msg_key check runs even when an earlier check failed.  How many bytes
 * SHA1 covers depends on message_data_length (MTProto 1.0 hashes the
 * unpadded message), so unlike MTProto 2.0 the work is not the same for every
 * rejection.  On failure nothing is appended and every intermediate secret is
 * wiped.  Other codes: MTP_ERR_OVERFLOW / MTP_ERR_NOMEM when plain_out cannot
 * hold the plaintext, MTP_ERR_OSSL.  packet must not point into plain_out. */
MTP_MUST_USE int mtp_msg_v1_decrypt(const uint8_t auth_key[MTP_AUTH_KEY_LEN], enum mtp_sender s, const uint8_t *packet,
                                    size_t len, struct mtp_wr *plain_out, struct mtp_error *err);

/* Pads the message in plain (header and data) with random bytes from env to
 * the next multiple of 16: 0..15 bytes, as MTProto 1.0 does. */
MTP_MUST_USE int mtp_msg_v1_pad(struct mtp_wr *plain, const struct mtp_env *env, struct mtp_error *err);

#endif
