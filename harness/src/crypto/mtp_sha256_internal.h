/* SHA-256 with the x86 SHA extensions, for the small digests of MTProto's
 * message crypto (two one-block hashes for the key derivation and one over
 * the plaintext for msg_key, every message): at these sizes OpenSSL's EVP
 * calls cost more than the hashing.  Callers check mtp_sha256_shani_available()
 * and use EVP otherwise. */
#ifndef MTP_SHA256_INTERNAL_H
#define MTP_SHA256_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool mtp_sha256_shani_available(void);
/* SHA-256 of a (alen bytes) followed by b (blen bytes). */
void mtp_sha256_shani(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[32]);

#endif
