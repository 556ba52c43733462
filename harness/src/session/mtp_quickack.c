#include "mtp/quickack.h"

#include <openssl/evp.h>

#include "mtp/buf.h"

int mtp_quick_ack_token(const uint8_t auth_key[256], int x, const uint8_t *plaintext, size_t len, uint32_t *token)
{
    if (x != 0 && x != 8)
        return MTP_ERR_ARG;
    uint8_t md[32];
    unsigned int md_len = 0;
    int rc = MTP_ERR_OSSL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return MTP_ERR_NOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, auth_key + 88 + x, 32) == 1 &&
        EVP_DigestUpdate(ctx, plaintext, len) == 1 && EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len == 32) {
        *token = mtp_load_u32(md) | 0x80000000u;
        rc = MTP_OK;
    }
    EVP_MD_CTX_free(ctx);
    mtp_wipe(md, sizeof md);
    return rc;
}
