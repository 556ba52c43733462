/* AES-IGE: argument checks, the choice of implementation, and the portable
 * OpenSSL EVP implementation (the AES-NI kernel is in mtp_aes_ige_aesni.c).
 *
 * EVP has no IGE mode and the old AES_ige_encrypt is deprecated (and slow),
 * so the portable path builds IGE from modes EVP does have:
 *
 * Encryption is one CBC encryption over transformed input.  With
 * z(i) = y(i) ^ x(i-1) = AES(x(i) ^ y(i-1)) and y(i-1) = z(i-1) ^ x(i-2):
 *     z(i) = AES(q(i) ^ z(i-1)),   q(i) = x(i) ^ x(i-2)
 * which is CBC over q with IV y(-1), taking x(-1) from the IV and x(-2) = 0.
 * Then y(i) = z(i) ^ x(i-1).  CBC runs at OpenSSL's full speed; the two XOR
 * passes are cheap.
 *
 * Decryption has no such form: the AES input of block i depends on the
 * plaintext of block i-1, the output of the previous decryption.  It calls
 * ECB once per block. */
#include <openssl/evp.h>
#include <string.h>

#include "crypto/mtp_aes_ige_internal.h"
#include "mtp/buf.h"

/* Blocks transformed per CBC call: large enough to amortise the call, small enough for the stack. */
#define EVP_CHUNK_BLOCKS 64

static void xor16(uint8_t *dst, const uint8_t *a, const uint8_t *b)
{
    for (int i = 0; i < 16; i++)
        dst[i] = (uint8_t)(a[i] ^ b[i]);
}

static const EVP_CIPHER *evp_cipher(size_t key_len, bool cbc)
{
    if (key_len == 32)
        return cbc ? EVP_aes_256_cbc() : EVP_aes_256_ecb();
    return cbc ? EVP_aes_128_cbc() : EVP_aes_128_ecb();
}

static int ossl_fail(struct mtp_error *err, const char *what)
{
    return mtp_error_set(err, MTP_ERR_OSSL, MTP_NO_OFFSET, "aes-ige: %s failed", what);
}

static int evp_ige_encrypt(EVP_CIPHER_CTX *ctx, const uint8_t *key, size_t key_len,
                           const uint8_t iv[MTP_AES_IGE_IV_LEN], const uint8_t *in, uint8_t *out, size_t len,
                           struct mtp_error *err)
{
    if (EVP_EncryptInit_ex2(ctx, evp_cipher(key_len, true), key, iv, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
        return ossl_fail(err, "EVP_EncryptInit_ex2(cbc)");
    uint8_t q[EVP_CHUNK_BLOCKS * 16];
    uint8_t x1[16], x2[16]; /* x(i-1) and x(i-2) for the chunk's first block */
    uint8_t last1[16], last2[16];
    memcpy(x1, iv + 16, 16);
    memset(x2, 0, 16);
    int rc = MTP_OK;
    for (size_t at = 0; at < len; at += sizeof q) {
        size_t n = len - at < sizeof q ? len - at : sizeof q;
        const uint8_t *x = in + at;
        uint8_t *y = out + at;
        xor16(q, x, x2);
        if (n > 16)
            xor16(q + 16, x + 16, x1);
        for (size_t i = 32; i < n; i += 16)
            xor16(q + i, x + i, x + i - 32);
        int outl = 0;
        if (EVP_EncryptUpdate(ctx, q, &outl, q, (int)n) != 1 || (size_t)outl != n) {
            rc = ossl_fail(err, "EVP_EncryptUpdate(cbc)");
            break;
        }
        /* Save the chunk's last two plaintext blocks before out (maybe == in) overwrites them. */
        memcpy(last1, x + n - 16, 16);
        memcpy(last2, n > 16 ? x + n - 32 : x1, 16);
        /* Backwards, so that with out == in each x(i-1) is read before y(i-1) replaces it. */
        for (size_t i = n - 16; i > 0; i -= 16)
            xor16(y + i, q + i, x + i - 16);
        xor16(y, q, x1);
        memcpy(x1, last1, 16);
        memcpy(x2, last2, 16);
    }
    mtp_wipe(q, sizeof q);
    mtp_wipe(x1, sizeof x1);
    mtp_wipe(x2, sizeof x2);
    mtp_wipe(last1, sizeof last1);
    mtp_wipe(last2, sizeof last2);
    return rc;
}

static int evp_ige_decrypt(EVP_CIPHER_CTX *ctx, const uint8_t *key, size_t key_len,
                           const uint8_t iv[MTP_AES_IGE_IV_LEN], const uint8_t *in, uint8_t *out, size_t len,
                           struct mtp_error *err)
{
    if (EVP_DecryptInit_ex2(ctx, evp_cipher(key_len, false), key, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
        return ossl_fail(err, "EVP_DecryptInit_ex2(ecb)");
    uint8_t y[16], x[16], t[16];
    memcpy(y, iv, 16);
    memcpy(x, iv + 16, 16);
    int rc = MTP_OK;
    for (size_t at = 0; at < len; at += 16) {
        uint8_t c[16];
        memcpy(c, in + at, 16); /* kept: with out == in the next line's store overwrites it */
        xor16(t, c, x);
        /* EVP_Cipher skips EVP_DecryptUpdate's buffering; for whole blocks with padding off it is the same. */
        if (EVP_Cipher(ctx, t, t, 16) <= 0) {
            rc = ossl_fail(err, "EVP_Cipher(ecb)");
            break;
        }
        xor16(x, t, y);
        memcpy(out + at, x, 16);
        memcpy(y, c, 16);
    }
    mtp_wipe(t, sizeof t);
    mtp_wipe(x, sizeof x);
    return rc;
}

static int check_args(const uint8_t *key, size_t key_len, const uint8_t *in, const uint8_t *out, size_t len,
                      struct mtp_error *err)
{
    if (key == NULL || (key_len != 16 && key_len != 32))
        return mtp_error_set(err, MTP_ERR_AES_KEY_LENGTH, MTP_NO_OFFSET, "aes-ige: key is %zu bytes, need 16 or 32",
                             key == NULL ? 0 : key_len);
    if (len % MTP_AES_BLOCK_LEN != 0)
        return mtp_error_set(err, MTP_ERR_AES_DATA_LENGTH, MTP_NO_OFFSET,
                             "aes-ige: data is %zu bytes, not a multiple of 16", len);
    if (len > 0 && (in == NULL || out == NULL))
        return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "aes-ige: NULL data buffer");
    return MTP_OK;
}

int mtp_aes_ige_crypt_impl(enum mtp_aes_impl impl, bool encrypt, const uint8_t *key, size_t key_len,
                           const uint8_t iv[MTP_AES_IGE_IV_LEN], const uint8_t *in, uint8_t *out, size_t len,
                           struct mtp_error *err)
{
    MTP_GUARD(check_args(key, key_len, in, out, len, err));
    if (impl == MTP_AES_IMPL_AUTO)
        impl = mtp_aesni_available() ? MTP_AES_IMPL_AESNI : MTP_AES_IMPL_EVP;
    if (impl == MTP_AES_IMPL_AESNI) {
        if (!mtp_aesni_available())
            return mtp_error_set(err, MTP_ERR_UNSUPPORTED, MTP_NO_OFFSET, "aes-ige: this CPU has no AES-NI");
        if (encrypt)
            mtp_aesni_ige_encrypt(key, key_len, iv, in, out, len);
        else
            mtp_aesni_ige_decrypt(key, key_len, iv, in, out, len);
        return MTP_OK;
    }
    if (len == 0)
        return MTP_OK;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return mtp_error_set(err, MTP_ERR_NOMEM, MTP_NO_OFFSET, "aes-ige: EVP_CIPHER_CTX_new failed");
    int rc = encrypt ? evp_ige_encrypt(ctx, key, key_len, iv, in, out, len, err)
                     : evp_ige_decrypt(ctx, key, key_len, iv, in, out, len, err);
    EVP_CIPHER_CTX_free(ctx); /* also cleanses the key schedule */
    return rc;
}

int mtp_aes_ige_encrypt(const uint8_t *key, size_t key_len, const uint8_t iv[MTP_AES_IGE_IV_LEN], const uint8_t *in,
                        uint8_t *out, size_t len, struct mtp_error *err)
{
    return mtp_aes_ige_crypt_impl(MTP_AES_IMPL_AUTO, true, key, key_len, iv, in, out, len, err);
}

int mtp_aes_ige_decrypt(const uint8_t *key, size_t key_len, const uint8_t iv[MTP_AES_IGE_IV_LEN], const uint8_t *in,
                        uint8_t *out, size_t len, struct mtp_error *err)
{
    return mtp_aes_ige_crypt_impl(MTP_AES_IMPL_AUTO, false, key, key_len, iv, in, out, len, err);
}

const char *mtp_aes_ige_impl_name(void) { return mtp_aesni_available() ? "aes-ni" : "openssl-evp"; }

int mtp_aes_ige_decrypt_many(const struct mtp_aes_ige_job *jobs, size_t n, struct mtp_error *err)
{
    for (size_t i = 0; i < n; i++) {
        MTP_GUARD(check_args(jobs[i].key, 32, jobs[i].in, jobs[i].out, jobs[i].len, err));
        if (jobs[i].iv == NULL)
            return mtp_error_set(err, MTP_ERR_ARG, MTP_NO_OFFSET, "aes-ige: job %zu has no IV", i);
    }
    if (mtp_aesni_available()) {
        mtp_aesni_ige_decrypt_many(jobs, n);
        return MTP_OK;
    }
    for (size_t i = 0; i < n; i++)
        MTP_GUARD(mtp_aes_ige_crypt_impl(MTP_AES_IMPL_EVP, false, jobs[i].key, 32, jobs[i].iv, jobs[i].in,
                                         jobs[i].out, jobs[i].len, err));
    return MTP_OK;
}
