/* AES-IGE internals: the two implementations behind mtp_aes_ige_{en,de}crypt,
 * exposed so that tests and benchmarks can run each one on the same inputs. */
#ifndef MTP_AES_IGE_INTERNAL_H
#define MTP_AES_IGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtp/aes_ige.h"

enum mtp_aes_impl {
    MTP_AES_IMPL_AUTO = 0, /* AES-NI when the CPU has it, else EVP */
    MTP_AES_IMPL_AESNI,    /* MTP_ERR_UNSUPPORTED when the CPU (or the build target) lacks AES-NI */
    MTP_AES_IMPL_EVP,      /* OpenSSL EVP: CBC for encryption, ECB block by block for decryption */
};

/* Same contract as mtp_aes_ige_encrypt / mtp_aes_ige_decrypt, with the implementation chosen by the caller. */
MTP_MUST_USE int mtp_aes_ige_crypt_impl(enum mtp_aes_impl impl, bool encrypt, const uint8_t *key, size_t key_len,
                                        const uint8_t iv[MTP_AES_IGE_IV_LEN], const uint8_t *in, uint8_t *out,
                                        size_t len, struct mtp_error *err);

/* The AES-NI kernel (mtp_aes_ige_aesni.c).  Arguments are already validated:
 * key_len is 16 or 32, len a multiple of 16.  Only call when
 * mtp_aesni_available() is true. */
bool mtp_aesni_available(void);
void mtp_aesni_ige_encrypt(const uint8_t *key, size_t key_len, const uint8_t iv[MTP_AES_IGE_IV_LEN],
                           const uint8_t *in, uint8_t *out, size_t len);
void mtp_aesni_ige_decrypt(const uint8_t *key, size_t key_len, const uint8_t iv[MTP_AES_IGE_IV_LEN],
                           const uint8_t *in, uint8_t *out, size_t len);
/* The interleaved kernel behind mtp_aes_ige_decrypt_many (AES-256 keys, lengths checked). */
void mtp_aesni_ige_decrypt_many(const struct mtp_aes_ige_job *jobs, size_t n);
/* Single-block AES through the same key schedule, so the schedule can be
 * checked against the FIPS-197 examples on its own. */
void mtp_aesni_block_encrypt(const uint8_t *key, size_t key_len, const uint8_t in[16], uint8_t out[16]);
void mtp_aesni_block_decrypt(const uint8_t *key, size_t key_len, const uint8_t in[16], uint8_t out[16]);

#endif
