/* Hashes and key derivations of the auth-key exchange
 * (core.telegram.org/mtproto/auth_key steps 5-9, /mtproto/description "Server Salt").
 *
 * The state machines (client and server) use these together with mtp/pq.h,
 * mtp/rsa.h and mtp/dh.h:
 *
 *   client                                        server
 *   ------                                        ------
 *   pq: mtp_pq_factor_be                          mtp_pq_generate
 *   fingerprint: mtp_rsa_key_fingerprint          mtp_rsa_key_fingerprint
 *   inner data: mtp_rsa_pad_encrypt_env           mtp_rsa_pad_decrypt (+ TL parse)
 *   answer: mtp_authcrypt_tmp_aes,                mtp_authcrypt_tmp_aes,
 *     mtp_authcrypt_inner_decrypt, TL parse,        mtp_authcrypt_inner_encrypt
 *     mtp_authcrypt_inner_check
 *   DH: mtp_dh_check, mtp_dh_keypair              mtp_dh_keypair (a, g_a)
 *   client_DH_inner_data:                         mtp_authcrypt_inner_decrypt, TL parse,
 *     mtp_authcrypt_inner_encrypt                   mtp_authcrypt_inner_check, mtp_dh_check_gb
 *   auth_key: mtp_dh_shared(g_a, b)               mtp_dh_shared(g_b, a)
 *   dh_gen_*: mtp_authcrypt_new_nonce_hash        mtp_authcrypt_new_nonce_hash
 *   salt: mtp_authcrypt_server_salt               mtp_authcrypt_server_salt
 *
 * Integers that the spec takes "as part of SHA1" (nonces, hashes, the salt)
 * are byte strings here in wire order, never converted to numbers. */
#ifndef MTP_AUTHCRYPT_H
#define MTP_AUTHCRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "mtp/env.h"
#include "mtp/err.h"

#define MTP_AUTHCRYPT_NONCE 16u
#define MTP_AUTHCRYPT_NEW_NONCE 32u
#define MTP_AUTHCRYPT_AUTH_KEY 256u
#define MTP_AUTHCRYPT_INNER_MIN 32u   /* 20-byte SHA1 + something, in whole blocks */
#define MTP_AUTHCRYPT_INNER_MAX 1024u /* well above any genuine server_DH_inner_data (596 bytes) */

void mtp_authcrypt_sha1(const void *data, size_t len, uint8_t out[20]);
void mtp_authcrypt_sha256(const void *data, size_t len, uint8_t out[32]);

/* Step 5: the key and IV that encrypt server_DH_inner_data and
 * client_DH_inner_data:
 *   tmp_aes_key = SHA1(new_nonce + server_nonce) + SHA1(server_nonce + new_nonce)[0..12]
 *   tmp_aes_iv  = SHA1(server_nonce + new_nonce)[12..20] + SHA1(new_nonce + new_nonce) + new_nonce[0..4] */
void mtp_authcrypt_tmp_aes(const uint8_t new_nonce[MTP_AUTHCRYPT_NEW_NONCE],
                           const uint8_t server_nonce[MTP_AUTHCRYPT_NONCE], uint8_t key[32], uint8_t iv[32]);

/* SHA1(data) + data + padding, AES-256-IGE encrypted.  The _padded form takes
 * the padding (0..15 bytes making a multiple of 16; MTP_ERR_ARG otherwise),
 * the plain form draws it from env.  *out_len = round_up(20 + len, 16) <= cap. */
MTP_MUST_USE int mtp_authcrypt_inner_encrypt_padded(const uint8_t key[32], const uint8_t iv[32], const uint8_t *data,
                                                    size_t len, const uint8_t *padding, size_t pad_len, uint8_t *out,
                                                    size_t cap, size_t *out_len, struct mtp_error *err);
MTP_MUST_USE int mtp_authcrypt_inner_encrypt(const struct mtp_env *env, const uint8_t key[32], const uint8_t iv[32],
                                             const uint8_t *data, size_t len, uint8_t *out, size_t cap,
                                             size_t *out_len, struct mtp_error *err);
/* Decrypts encrypted_answer / encrypted_data into out (in_len bytes, cap must
 * hold them).  MTP_ERR_INNER_BAD_LENGTH unless in_len is a multiple of 16 in
 * MTP_AUTHCRYPT_INNER_MIN..MTP_AUTHCRYPT_INNER_MAX.  The result is not trusted
 * yet: parse the TL object that starts at out + 20 to learn its length, then
 * call mtp_authcrypt_inner_check. */
MTP_MUST_USE int mtp_authcrypt_inner_decrypt(const uint8_t key[32], const uint8_t iv[32], const uint8_t *in,
                                             size_t in_len, uint8_t *out, size_t cap, struct mtp_error *err);
/* with_hash = SHA1(answer) + answer + 0..15 bytes.  answer_len is the length of
 * the TL object as parsed (the only way to tell the answer from its padding).
 * MTP_ERR_INNER_BAD_PADDING if 20 + answer_len > len,
 * MTP_ERR_INNER_HASH if the SHA1 differs,
 * MTP_ERR_INNER_BAD_PADDING if more than 15 bytes follow the answer. */
MTP_MUST_USE int mtp_authcrypt_inner_check(const uint8_t *with_hash, size_t len, size_t answer_len,
                                           struct mtp_error *err);

/* auth_key_aux_hash: the 64 higher-order bits of SHA1(auth_key), i.e. its
 * first 8 bytes (also retry_id after a dh_gen_retry). */
void mtp_authcrypt_auth_key_aux_hash(const uint8_t auth_key[MTP_AUTHCRYPT_AUTH_KEY], uint8_t out[8]);
/* new_nonce_hash1/2/3: the 128 lower-order bits of
 * SHA1(new_nonce + byte(number) + auth_key_aux_hash).  number must be 1..3. */
MTP_MUST_USE int mtp_authcrypt_new_nonce_hash(const uint8_t new_nonce[MTP_AUTHCRYPT_NEW_NONCE], int number,
                                              const uint8_t auth_key_aux_hash[8], uint8_t out[16],
                                              struct mtp_error *err);
/* The same from the auth_key itself. */
MTP_MUST_USE int mtp_authcrypt_new_nonce_hash_key(const uint8_t new_nonce[MTP_AUTHCRYPT_NEW_NONCE], int number,
                                                  const uint8_t auth_key[MTP_AUTHCRYPT_AUTH_KEY], uint8_t out[16],
                                                  struct mtp_error *err);
/* server_DH_params_fail.new_nonce_hash: the 128 lower-order bits of SHA1(new_nonce). */
void mtp_authcrypt_dh_params_fail_hash(const uint8_t new_nonce[MTP_AUTHCRYPT_NEW_NONCE], uint8_t out[16]);
/* The first server_salt: new_nonce[0..8] XOR server_nonce[0..8], as the 8
 * wire bytes of the TL long. */
void mtp_authcrypt_server_salt(const uint8_t new_nonce[MTP_AUTHCRYPT_NEW_NONCE],
                               const uint8_t server_nonce[MTP_AUTHCRYPT_NONCE], uint8_t salt[8]);

#endif
