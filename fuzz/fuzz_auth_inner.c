/* Target functions: mtp_authcrypt_inner_decrypt + mtp_authcrypt_inner_check (encrypted_answer,
 * set_client_DH_params.encrypted_data), mtp_rsa_pad_decrypt and mtp_rsa_old_decrypt +
 * mtp_rsa_old_check (req_DH_params.encrypted_data on the server)
 * Input: byte 0 picks the mode, bytes 1-2 are a little-endian data length, the rest is
 *   mode 0: ciphertext, decrypted with the samples-auth_key tmp_aes key and IV;
 *   mode 1: ciphertext for the RSA_PAD decryption with a fixed generated key;
 *   mode 2: ciphertext for the old scheme with the same key;
 *   mode 3: RSA_PAD plaintext side: 32-byte temp_key, then data + padding (192 bytes max),
 *           encrypted and decrypted again.
 * Oracles: only the documented codes come back; whatever the inner-data check accepts
 * re-encrypts to the same ciphertext; an RSA_PAD decryption gives back temp_key and
 * data_with_padding that re-encrypt to the same ciphertext; mode 3 round-trips. */
#include <string.h>

#include "mtp/authcrypt.h"
#include "mtp/rsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Generated once from a fixed seed and only read afterwards. */
static struct mtp_rsa_key *fuzz_key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "fuzz_auth_inner", 15, 0);
    if (mtp_rsa_key_generate(&env, &fuzz_key, NULL) != MTP_OK)
        __builtin_trap();
    return 0;
}

static const uint8_t tmp_key[32] = {0xe6, 0x8c, 0xa5, 0xab, 0xa1, 0x01, 0xff, 0xca, 0x0a, 0xdd, 0xa6,
                                    0x63, 0x03, 0xa5, 0x7a, 0xff, 0xaa, 0x27, 0x12, 0xfb, 0x16, 0xa7,
                                    0xb8, 0xda, 0xfc, 0x72, 0xc2, 0x5e, 0x8a, 0x73, 0xa3, 0x68};
static const uint8_t tmp_iv[32] = {0x0a, 0x35, 0x5d, 0x44, 0x31, 0xb9, 0xdd, 0xd9, 0x1a, 0x51, 0xef,
                                   0xf3, 0xf7, 0xd3, 0x40, 0xd6, 0x4f, 0x03, 0x90, 0xc5, 0x3f, 0x91,
                                   0xdc, 0x53, 0xc3, 0x31, 0xd4, 0x3c, 0x26, 0x4f, 0x83, 0x5b};

static void inner(const uint8_t *in, size_t len, size_t data_len)
{
    uint8_t out[MTP_AUTHCRYPT_INNER_MAX], again[MTP_AUTHCRYPT_INNER_MAX];
    int rc = mtp_authcrypt_inner_decrypt(tmp_key, tmp_iv, in, len, out, sizeof out, NULL);
    if (rc == MTP_ERR_INNER_BAD_LENGTH)
        return;
    if (rc != MTP_OK)
        __builtin_trap();
    rc = mtp_authcrypt_inner_check(out, len, data_len, NULL);
    if (rc == MTP_ERR_INNER_HASH || rc == MTP_ERR_INNER_BAD_PADDING)
        return;
    size_t again_len = 0;
    if (rc != MTP_OK || 20 + data_len > len || len - 20 - data_len > 15 ||
        mtp_authcrypt_inner_encrypt_padded(tmp_key, tmp_iv, out + 20, data_len, out + 20 + data_len,
                                           len - 20 - data_len, again, sizeof again, &again_len, NULL) != MTP_OK ||
        again_len != len || memcmp(again, in, len) != 0)
        __builtin_trap();
}

static void pad_decrypt(const uint8_t *in, size_t len)
{
    uint8_t padded[MTP_RSA_PAD_PADDED], tk[32], again[MTP_RSA_BYTES];
    int rc = mtp_rsa_pad_decrypt(fuzz_key, in, len, padded, tk, NULL);
    if (rc == MTP_ERR_RSA_BAD_LENGTH || rc == MTP_ERR_RSA_OUT_OF_RANGE || rc == MTP_ERR_RSA_PAD_HASH)
        return;
    if (rc != MTP_OK || mtp_rsa_pad_encrypt(fuzz_key, padded, 0, padded, MTP_RSA_PAD_PADDED, tk, again, NULL) != MTP_OK ||
        memcmp(again, in, MTP_RSA_BYTES) != 0)
        __builtin_trap();
}

static void old_decrypt(const uint8_t *in, size_t len, size_t data_len)
{
    uint8_t with_hash[MTP_RSA_OLD_PADDED];
    int rc = mtp_rsa_old_decrypt(fuzz_key, in, len, with_hash, NULL);
    if (rc == MTP_ERR_RSA_BAD_LENGTH || rc == MTP_ERR_RSA_OUT_OF_RANGE)
        return;
    if (rc != MTP_OK)
        __builtin_trap();
    rc = mtp_rsa_old_check(with_hash, data_len, NULL);
    if (rc != MTP_OK && rc != MTP_ERR_RSA_HASH)
        __builtin_trap();
}

static void pad_round_trip(const uint8_t *in, size_t len, size_t data_len)
{
    if (len < 32)
        return;
    const uint8_t *tk = in;
    in += 32;
    len -= 32;
    uint8_t padded[MTP_RSA_PAD_PADDED] = {0}, back[MTP_RSA_PAD_PADDED], tk2[32], enc[MTP_RSA_BYTES];
    memcpy(padded, in, len < sizeof padded ? len : sizeof padded);
    if (data_len > MTP_RSA_PAD_PADDED)
        data_len = MTP_RSA_PAD_PADDED;
    int rc = mtp_rsa_pad_encrypt(fuzz_key, padded, data_len, padded + data_len, MTP_RSA_PAD_PADDED - data_len, tk,
                                 enc, NULL);
    if (data_len > MTP_RSA_PAD_DATA_MAX) {
        if (rc != MTP_ERR_RSA_DATA_TOO_LONG)
            __builtin_trap();
        return;
    }
    if (rc == MTP_ERR_RSA_RETRY)
        return;
    if (rc != MTP_OK || mtp_rsa_pad_decrypt(fuzz_key, enc, sizeof enc, back, tk2, NULL) != MTP_OK ||
        memcmp(back, padded, sizeof back) != 0 || memcmp(tk2, tk, 32) != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t data_len = (size_t)data[1] | (size_t)data[2] << 8;
    const uint8_t *in = data + 3;
    size_t len = size - 3;
    switch (data[0] & 3) {
    case 0:
        inner(in, len, data_len);
        break;
    case 1:
        pad_decrypt(in, len);
        break;
    case 2:
        old_decrypt(in, len, data_len);
        break;
    default:
        pad_round_trip(in, len, data_len);
        break;
    }
    return 0;
}
