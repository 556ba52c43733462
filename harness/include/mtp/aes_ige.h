/* AES in IGE mode (Infinite Garble Extension), the block mode of MTProto's
 * message encryption and of the auth-key exchange (core.telegram.org/mtproto/description, "AES IGE").
 *
 * The 32-byte IV follows the OpenSSL / MTProto convention:
 *   iv[0..16)  = the "previous ciphertext block" y(-1),
 *   iv[16..32) = the "previous plaintext block"  x(-1),
 * and y(i) = AES_k(x(i) ^ y(i-1)) ^ x(i-1).
 *
 * Keys are 16 bytes (AES-128, for the published OpenSSL IGE vectors) or 32
 * bytes (AES-256, what MTProto uses).  The key schedule is computed on every
 * call: MTProto derives a new key for every message, so there is nothing to
 * cache.  in and out may be the same buffer; otherwise they must not overlap.
 * The IV is not updated: every MTProto message starts from its own IV. */
#ifndef MTP_AES_IGE_H
#define MTP_AES_IGE_H

#include <stddef.h>
#include <stdint.h>

#include "mtp/err.h"

#define MTP_AES_BLOCK_LEN 16
#define MTP_AES_IGE_IV_LEN 32

/* len must be a multiple of 16 (MTP_ERR_AES_DATA_LENGTH), key_len 16 or 32
 * (MTP_ERR_AES_KEY_LENGTH).  len 0 is a no-op. */
MTP_MUST_USE int mtp_aes_ige_encrypt(const uint8_t *key, size_t key_len, const uint8_t iv[MTP_AES_IGE_IV_LEN],
                                     const uint8_t *in, uint8_t *out, size_t len, struct mtp_error *err);
MTP_MUST_USE int mtp_aes_ige_decrypt(const uint8_t *key, size_t key_len, const uint8_t iv[MTP_AES_IGE_IV_LEN],
                                     const uint8_t *in, uint8_t *out, size_t len, struct mtp_error *err);

/* One message of a batch: AES-256 (32-byte key), its own IV, in and out as
 * above (len a multiple of 16; in == out allowed). */
struct mtp_aes_ige_job {
    const uint8_t *key;
    const uint8_t *iv;
    const uint8_t *in;
    uint8_t *out;
    size_t len;
};

/* Decrypts independent messages.  Each message is as serial as ever, but
 * different messages are not: the AES-NI kernel keeps up to
 * MTP_AES_IGE_LANES of them in flight, one block of each per step, so the
 * AES unit's pipeline stays full instead of waiting on one chain.  Same
 * results as mtp_aes_ige_decrypt on each job; errors are checked for every
 * job before any is decrypted. */
#define MTP_AES_IGE_LANES 8
MTP_MUST_USE int mtp_aes_ige_decrypt_many(const struct mtp_aes_ige_job *jobs, size_t n, struct mtp_error *err);

/* "aes-ni" or "openssl-evp": the implementation the calls above use on this CPU (for reports). */
const char *mtp_aes_ige_impl_name(void);

#endif
