/* RSA as the auth-key exchange uses it (core.telegram.org/mtproto/auth_key, step 4).
 *
 * Keys: 2048-bit RSA only (Telegram's server keys; RSA_PAD produces exactly
 * 256 bytes).  Loaded from PEM - PKCS#1 "RSA PUBLIC KEY" as Telegram publishes
 * it, SubjectPublicKeyInfo "PUBLIC KEY", and unencrypted private keys - or
 * built from n and e, or generated for a mock server.
 *
 * Schemes:
 *  - RSA_PAD (current): data (<= 144 bytes) + random padding to 192 bytes,
 *    reversed, + SHA256(temp_key + data_with_padding), AES-256-IGE under
 *    temp_key with a zero IV, temp_key XOR SHA256(aes_encrypted) in front,
 *    then raw RSA.  If the 256-byte value is not below the modulus the client
 *    must pick another temp_key (MTP_ERR_RSA_RETRY).
 *  - the old scheme of the older samples-auth_key example:
 *    SHA1(data) + data + random padding to 255 bytes, raw RSA.
 *
 * Byte strings are big-endian numbers; fingerprints are the 8 bytes of the TL
 * long as sent on the wire. */
#ifndef MTP_RSA_H
#define MTP_RSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/env.h"
#include "mtp/err.h"

#define MTP_RSA_BYTES 256u          /* modulus size, and every ciphertext's size */
#define MTP_RSA_PAD_DATA_MAX 144u   /* longest data RSA_PAD takes */
#define MTP_RSA_PAD_PADDED 192u     /* data_with_padding */
#define MTP_RSA_PAD_TEMP_KEY 32u
#define MTP_RSA_OLD_PADDED 255u     /* SHA1(data) + data + padding */
#define MTP_RSA_OLD_DATA_MAX (MTP_RSA_OLD_PADDED - 20u)
#define MTP_RSA_FINGERPRINT 8u
#define MTP_RSA_PEM_MAX 65536u      /* PEM inputs longer than this are rejected unread */

/* Opaque: an OpenSSL EVP_PKEY plus its n and e. */
struct mtp_rsa_key;

/* Parses one PEM key (public or private).  MTP_ERR_RSA_BAD_KEY when it is not
 * an RSA key, is encrypted, is malformed, or is not exactly 2048 bits. */
MTP_MUST_USE int mtp_rsa_key_from_pem(const void *pem, size_t len, struct mtp_rsa_key **out, struct mtp_error *err);
/* A public key from big-endian n and e (leading zeros allowed). */
MTP_MUST_USE int mtp_rsa_key_from_ne(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
                                     struct mtp_rsa_key **out, struct mtp_error *err);
/* A fresh 2048-bit key with e = 65537 whose primes are drawn from env, so a
 * deterministic env gives the same key every time (mock servers, tests). */
MTP_MUST_USE int mtp_rsa_key_generate(const struct mtp_env *env, struct mtp_rsa_key **out, struct mtp_error *err);
void mtp_rsa_key_free(struct mtp_rsa_key *k);

bool mtp_rsa_key_has_private(const struct mtp_rsa_key *k);
/* Writes the public key as PKCS#1 "RSA PUBLIC KEY" PEM (Telegram's form) or,
 * with private_key set, the private key as PKCS#8 "PRIVATE KEY" PEM.  *pem is
 * malloc'ed and NUL-terminated; the caller frees it (wipe a private one). */
MTP_MUST_USE int mtp_rsa_key_to_pem(const struct mtp_rsa_key *k, bool private_key, char **pem, size_t *len,
                                    struct mtp_error *err);
/* n and e as big-endian bytes without leading zeros; cap must hold them
 * (256 for n, 8 is plenty for e in practice). */
MTP_MUST_USE int mtp_rsa_key_n(const struct mtp_rsa_key *k, uint8_t *out, size_t cap, size_t *len,
                               struct mtp_error *err);
MTP_MUST_USE int mtp_rsa_key_e(const struct mtp_rsa_key *k, uint8_t *out, size_t cap, size_t *len,
                               struct mtp_error *err);

/* Fingerprint = low 64 bits of SHA1(TL bytes(n) || TL bytes(e)), i.e. the last
 * 8 bytes of the digest, which are also the wire bytes of the TL long.  n and e
 * are taken without leading zeros whatever the input has. */
MTP_MUST_USE int mtp_rsa_fingerprint(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
                                     uint8_t fp[MTP_RSA_FINGERPRINT], struct mtp_error *err);
MTP_MUST_USE int mtp_rsa_key_fingerprint(const struct mtp_rsa_key *k, uint8_t fp[MTP_RSA_FINGERPRINT],
                                         struct mtp_error *err);

/* RSA_PAD with caller-chosen randomness (the KAT form).  pad_len must be
 * MTP_RSA_PAD_PADDED - data_len.  MTP_ERR_RSA_DATA_TOO_LONG over 144 bytes;
 * MTP_ERR_RSA_RETRY when key_aes_encrypted >= n (out is then unspecified). */
MTP_MUST_USE int mtp_rsa_pad_encrypt(const struct mtp_rsa_key *k, const uint8_t *data, size_t data_len,
                                     const uint8_t *random_padding, size_t pad_len,
                                     const uint8_t temp_key[MTP_RSA_PAD_TEMP_KEY], uint8_t out[MTP_RSA_BYTES],
                                     struct mtp_error *err);
/* RSA_PAD drawing the padding and temp_key from env, retrying with a fresh
 * temp_key (at most MTP_RSA_PAD_MAX_TRIES times) while the value is too big. */
#define MTP_RSA_PAD_MAX_TRIES 64
MTP_MUST_USE int mtp_rsa_pad_encrypt_env(const struct mtp_rsa_key *k, const struct mtp_env *env, const uint8_t *data,
                                         size_t data_len, uint8_t out[MTP_RSA_BYTES], struct mtp_error *err);
/* Server side: raw private operation, then every RSA_PAD check.  Gives back
 * data_with_padding (192 bytes); the TL inner data inside it determines its own
 * length, the rest is the client's random padding.  temp_key may be NULL.
 * Fails with MTP_ERR_RSA_NOT_PRIVATE, MTP_ERR_RSA_BAD_LENGTH (not 256 bytes),
 * MTP_ERR_RSA_OUT_OF_RANGE (>= n), MTP_ERR_RSA_PAD_HASH. */
MTP_MUST_USE int mtp_rsa_pad_decrypt(const struct mtp_rsa_key *k, const uint8_t *in, size_t in_len,
                                     uint8_t data_with_padding[MTP_RSA_PAD_PADDED],
                                     uint8_t temp_key[MTP_RSA_PAD_TEMP_KEY], struct mtp_error *err);

/* The same without the SHA256 check: only for the seeded fault of the mock DC
 * that skips it, which proves a conformance suite notices. */
MTP_MUST_USE int mtp_rsa_pad_decrypt_unchecked(const struct mtp_rsa_key *k, const uint8_t *in, size_t in_len,
                                               uint8_t data_with_padding[MTP_RSA_PAD_PADDED], struct mtp_error *err);

/* The old scheme: SHA1(data) + data + random_padding (pad_len must make 255
 * bytes), raw RSA. */
MTP_MUST_USE int mtp_rsa_old_encrypt(const struct mtp_rsa_key *k, const uint8_t *data, size_t data_len,
                                     const uint8_t *random_padding, size_t pad_len, uint8_t out[MTP_RSA_BYTES],
                                     struct mtp_error *err);
MTP_MUST_USE int mtp_rsa_old_encrypt_env(const struct mtp_rsa_key *k, const struct mtp_env *env, const uint8_t *data,
                                         size_t data_len, uint8_t out[MTP_RSA_BYTES], struct mtp_error *err);
/* Raw private operation; gives back the 255 bytes SHA1(data) + data + padding
 * (the leading byte of the 256-byte result must be zero, else
 * MTP_ERR_RSA_OUT_OF_RANGE).  Check it with mtp_rsa_old_check once the TL
 * parse of the data has told its length. */
MTP_MUST_USE int mtp_rsa_old_decrypt(const struct mtp_rsa_key *k, const uint8_t *in, size_t in_len,
                                     uint8_t data_with_hash[MTP_RSA_OLD_PADDED], struct mtp_error *err);
/* MTP_ERR_RSA_HASH unless the first 20 bytes are SHA1 of the next data_len. */
MTP_MUST_USE int mtp_rsa_old_check(const uint8_t data_with_hash[MTP_RSA_OLD_PADDED], size_t data_len,
                                   struct mtp_error *err);

/* Textbook RSA with the public exponent: out = in^e mod n, 256 bytes.
 * in must be 256 bytes and below n (MTP_ERR_RSA_OUT_OF_RANGE). */
MTP_MUST_USE int mtp_rsa_raw_public(const struct mtp_rsa_key *k, const uint8_t in[MTP_RSA_BYTES],
                                    uint8_t out[MTP_RSA_BYTES], struct mtp_error *err);

#endif
