/* TEMPORARY stand-in for the crypto-aes branch's AES-256-IGE (mtp/aes_ige.h);
 * deleted once that lands. */
#ifndef MTP_IGE_TMP_H
#define MTP_IGE_TMP_H

#include <stddef.h>
#include <stdint.h>

int mtp_igetmp_crypt(const uint8_t key[32], const uint8_t iv[32], const uint8_t *in, size_t len, uint8_t *out,
                     int encrypt);

#endif
