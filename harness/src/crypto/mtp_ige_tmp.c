/* TEMPORARY: see mtp_ige_tmp.h. */
#include "crypto/mtp_ige_tmp.h"

#include <openssl/evp.h>
#include <string.h>

#include "mtp/err.h"

int mtp_igetmp_crypt(const uint8_t key[32], const uint8_t iv[32], const uint8_t *in, size_t len, uint8_t *out,
                     int encrypt)
{
    if (len % 16)
        return MTP_ERR_ARG;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return MTP_ERR_NOMEM;
    int rc = MTP_ERR_OSSL;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_ecb(), NULL, key, NULL, encrypt) != 1)
        goto out;
    EVP_CIPHER_CTX_set_padding(ctx, 0);
    uint8_t prev_c[16], prev_p[16];
    memcpy(encrypt ? prev_c : prev_p, iv, 16);
    memcpy(encrypt ? prev_p : prev_c, iv + 16, 16);
    for (size_t off = 0; off < len; off += 16) {
        uint8_t x[16], y[16], cur[16];
        int outl = 0;
        memcpy(cur, in + off, 16);
        for (int i = 0; i < 16; i++)
            x[i] = cur[i] ^ prev_c[i];
        if (EVP_CipherUpdate(ctx, y, &outl, x, 16) != 1 || outl != 16)
            goto out;
        for (int i = 0; i < 16; i++)
            out[off + i] = y[i] ^ prev_p[i];
        memcpy(prev_c, out + off, 16);
        memcpy(prev_p, cur, 16);
    }
    rc = MTP_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}
