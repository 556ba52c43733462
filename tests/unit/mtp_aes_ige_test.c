/* AES-IGE through the public API and through each implementation
 * (crypto/mtp_aes_ige_internal.h): the AES-NI kernel and the EVP fallback
 * must give the same bytes for the same vectors. */
#include <openssl/evp.h>
#include <string.h>

#include "crypto/mtp_aes_ige_internal.h"
#include "mtp/aes_ige.h"
#include "mtp/env.h"
#include "mtp_test.h"

/* The implementations to run every vector through.  AES-NI is included only
 * when the CPU has it; the AUTO entry then checks the dispatch. */
static const enum mtp_aes_impl all_impls[] = {MTP_AES_IMPL_AUTO, MTP_AES_IMPL_EVP, MTP_AES_IMPL_AESNI};
#define N_IMPLS (sizeof all_impls / sizeof all_impls[0])

static bool impl_usable(enum mtp_aes_impl impl) { return impl != MTP_AES_IMPL_AESNI || mtp_aesni_available(); }

struct ige_vector {
    const char *source;
    const char *key, *iv, *plain, *cipher;
};

/* OpenSSL test/igetest.c ige_test_vectors[0] (encrypt) and [1] (decrypt), AES-128 (Ben Laurie). */
static const struct ige_vector vectors[] = {
    {"openssl igetest [0]", "000102030405060708090a0b0c0d0e0f",
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
     "0000000000000000000000000000000000000000000000000000000000000000",
     "1a8519a6557be652e9da8e43da4ef4453cf456b4ca488aa383c79c98b34797cb"},
    {"openssl igetest [1]", "5468697320697320616e20696d706c65",
     "6d656e746174696f6e206f6620494745206d6f646520666f72204f70656e5353",
     "99706487a1cde613bc6de0b6f24b1c7aa448c8b9c3403e3467a8cad89340f53b",
     "4c2e204c6574277320686f70652042656e20676f74206974207269676874210a"},
    /* AES-256, from vectors/aes_ige/aes256_telethon.json (Telethon's pure-Python IGE). */
    {"telethon 16 bytes", "01065ba498e14c6b1b3c27fdd65c162d18276c6ba099a8b8f57ac58471884a45",
     "44de6add70c5bd2f646b4e55630770400f11929d23b2c8b14dd547f8db263864", "7665a901529bf79b6bb420f526c9ffd2",
     "d6f41a265af5471a5ad1e6568eea1436"},
    {"telethon 48 bytes", "d568cd54114a50fa2a3c6c5d31146f58abebfd6719bae8820b195da06a336700",
     "f541b00195e811b17a4fb46b7dcf2aba80c72e58459d19dfcf04a7612fbe569b",
     "5c62d370f91c215b834dd8b09125dd88a3c26c5c10d2e03a6e5135d06c6b07194315e70c42e60b27ba294b5dfe22cf7a",
     "3d7a0f57302a7a10b7e2fefb31fc38658a7561aeabe3c181a17877911d807dfa588270c886572208a1a94e07010543b7"},
};

START_TEST(known_vectors_every_impl)
{
    const struct ige_vector *v = &vectors[_i / N_IMPLS];
    enum mtp_aes_impl impl = all_impls[_i % N_IMPLS];
    if (!impl_usable(impl))
        return;
    size_t key_len, iv_len, n, cn;
    const uint8_t *key = mtp_test_hex(v->key, &key_len);
    const uint8_t *iv = mtp_test_hex(v->iv, &iv_len);
    const uint8_t *plain = mtp_test_hex(v->plain, &n);
    const uint8_t *cipher = mtp_test_hex(v->cipher, &cn);
    ck_assert_uint_eq(iv_len, 32);
    ck_assert_uint_eq(n, cn);
    uint8_t out[64], buf[64];
    struct mtp_error err;
    mtp_error_clear(&err);

    ck_assert_ok(mtp_aes_ige_crypt_impl(impl, true, key, key_len, iv, plain, out, n, &err));
    ck_assert_hex_eq(out, n, v->cipher);
    ck_assert_ok(mtp_aes_ige_crypt_impl(impl, false, key, key_len, iv, cipher, out, n, &err));
    ck_assert_hex_eq(out, n, v->plain);

    memcpy(buf, plain, n);
    ck_assert_ok(mtp_aes_ige_crypt_impl(impl, true, key, key_len, iv, buf, buf, n, &err));
    ck_assert_hex_eq(buf, n, v->cipher);
    ck_assert_ok(mtp_aes_ige_crypt_impl(impl, false, key, key_len, iv, buf, buf, n, &err));
    ck_assert_hex_eq(buf, n, v->plain);
    ck_assert_int_eq(err.code, MTP_OK);
}
END_TEST

START_TEST(public_api_matches_vectors)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        size_t key_len, iv_len, n;
        const uint8_t *key = mtp_test_hex(vectors[i].key, &key_len);
        const uint8_t *iv = mtp_test_hex(vectors[i].iv, &iv_len);
        const uint8_t *plain = mtp_test_hex(vectors[i].plain, &n);
        uint8_t out[64], back[64];
        ck_assert_ok(mtp_aes_ige_encrypt(key, key_len, iv, plain, out, n, NULL));
        ck_assert_hex_eq(out, n, vectors[i].cipher);
        ck_assert_ok(mtp_aes_ige_decrypt(key, key_len, iv, out, back, n, NULL));
        ck_assert_mem_eq(back, plain, n);
    }
    ck_assert_str_eq(mtp_aes_ige_impl_name(), mtp_aesni_available() ? "aes-ni" : "openssl-evp");
}
END_TEST

/* A third IGE, the textbook loop over single-block EVP ECB calls, as the
 * oracle for the cross-check below. */
static void reference_ige(bool encrypt, const uint8_t *key, size_t key_len, const uint8_t iv[32], const uint8_t *in,
                          uint8_t *out, size_t len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    ck_assert_ptr_nonnull(ctx);
    const EVP_CIPHER *c = key_len == 32 ? EVP_aes_256_ecb() : EVP_aes_128_ecb();
    ck_assert_int_eq(EVP_CipherInit_ex2(ctx, c, key, NULL, encrypt ? 1 : 0, NULL), 1);
    EVP_CIPHER_CTX_set_padding(ctx, 0);
    uint8_t prev_in[16], prev_out[16];
    /* encrypt: x ^ y(-1) -> E -> ^ x(-1);  decrypt: y ^ x(-1) -> D -> ^ y(-1) */
    memcpy(prev_out, encrypt ? iv : iv + 16, 16);
    memcpy(prev_in, encrypt ? iv + 16 : iv, 16);
    for (size_t at = 0; at < len; at += 16) {
        uint8_t t[16], cur[16];
        int outl = 0;
        memcpy(cur, in + at, 16);
        for (int i = 0; i < 16; i++)
            t[i] = (uint8_t)(cur[i] ^ prev_out[i]);
        ck_assert_int_eq(EVP_CipherUpdate(ctx, t, &outl, t, 16), 1);
        ck_assert_int_eq(outl, 16);
        for (int i = 0; i < 16; i++)
            out[at + i] = (uint8_t)(t[i] ^ prev_in[i]);
        memcpy(prev_out, out + at, 16);
        memcpy(prev_in, cur, 16);
    }
    EVP_CIPHER_CTX_free(ctx);
}

#define CROSS_MAX 3248 /* past three EVP chunks of 1024 bytes, and an odd number of blocks */

START_TEST(every_length_cross_checked)
{
    size_t key_len = _i == 0 ? 32 : 16;
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "ige cross", 9, 0);
    static uint8_t data[CROSS_MAX], ref[CROSS_MAX], out[CROSS_MAX], inplace[CROSS_MAX];
    for (size_t len = 0; len <= CROSS_MAX; len += 16) {
        uint8_t key[32], iv[32];
        ck_assert_ok(mtp_env_rand(&env, key, sizeof key));
        ck_assert_ok(mtp_env_rand(&env, iv, sizeof iv));
        ck_assert_ok(mtp_env_rand(&env, data, len));
        for (int enc = 0; enc <= 1; enc++) {
            reference_ige(enc, key, key_len, iv, data, ref, len);
            for (size_t k = 0; k < N_IMPLS; k++) {
                if (!impl_usable(all_impls[k]))
                    continue;
                ck_assert_ok(mtp_aes_ige_crypt_impl(all_impls[k], enc, key, key_len, iv, data, out, len, NULL));
                ck_assert_msg(memcmp(out, ref, len) == 0, "impl %d %s len %zu key %zu differs from the reference",
                              (int)all_impls[k], enc ? "encrypt" : "decrypt", len, key_len);
                memcpy(inplace, data, len);
                ck_assert_ok(
                    mtp_aes_ige_crypt_impl(all_impls[k], enc, key, key_len, iv, inplace, inplace, len, NULL));
                ck_assert_msg(memcmp(inplace, ref, len) == 0, "impl %d in place %s len %zu differs",
                              (int)all_impls[k], enc ? "encrypt" : "decrypt", len);
            }
        }
        /* and the round trip */
        ck_assert_ok(mtp_aes_ige_encrypt(key, key_len, iv, data, out, len, NULL));
        ck_assert_ok(mtp_aes_ige_decrypt(key, key_len, iv, out, inplace, len, NULL));
        ck_assert_msg(memcmp(inplace, data, len) == 0, "round trip len %zu", len);
    }
}
END_TEST

/* The property that gives IGE its name and that CBC lacks: a changed
 * ciphertext bit garbles its block and every later block on decryption. */
START_TEST(error_propagates_forward_only)
{
    uint8_t key[32], iv[32], plain[256], cipher[256], back[256];
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = (uint8_t)(i * 13);
    memset(key, 0x42, sizeof key);
    memset(iv, 0x17, sizeof iv);
    ck_assert_ok(mtp_aes_ige_encrypt(key, 32, iv, plain, cipher, sizeof plain, NULL));
    cipher[5 * 16 + 3] ^= 0x01;
    for (size_t k = 0; k < N_IMPLS; k++) {
        if (!impl_usable(all_impls[k]))
            continue;
        ck_assert_ok(mtp_aes_ige_crypt_impl(all_impls[k], false, key, 32, iv, cipher, back, sizeof back, NULL));
        ck_assert_mem_eq(back, plain, 5 * 16);
        for (size_t b = 5; b < sizeof plain / 16; b++)
            ck_assert_msg(memcmp(back + 16 * b, plain + 16 * b, 16) != 0, "block %zu survived the flip", b);
    }
}
END_TEST

START_TEST(rejects_bad_lengths_and_keys)
{
    const enum mtp_aes_impl impl = all_impls[_i];
    uint8_t key[32] = {0}, iv[32] = {0}, buf[48] = {0}, out[48];
    memset(out, 0xee, sizeof out);
    struct mtp_error err;
    static const size_t bad_data[] = {1, 15, 17, 47};
    for (size_t i = 0; i < sizeof bad_data / sizeof bad_data[0]; i++) {
        mtp_error_clear(&err);
        ck_assert_rc(mtp_aes_ige_crypt_impl(impl, true, key, 32, iv, buf, out, bad_data[i], &err),
                     MTP_ERR_AES_DATA_LENGTH);
        mtp_error_clear(&err);
        ck_assert_rc(mtp_aes_ige_crypt_impl(impl, false, key, 16, iv, buf, out, bad_data[i], &err),
                     MTP_ERR_AES_DATA_LENGTH);
    }
    ck_assert_int_eq(err.code, MTP_ERR_AES_DATA_LENGTH);
    ck_assert_str_eq(err.msg, "aes-ige: data is 47 bytes, not a multiple of 16");
    static const size_t bad_key[] = {0, 8, 15, 17, 24, 31, 33, 64};
    for (size_t i = 0; i < sizeof bad_key / sizeof bad_key[0]; i++) {
        mtp_error_clear(&err);
        ck_assert_rc(mtp_aes_ige_crypt_impl(impl, true, key, bad_key[i], iv, buf, out, 16, &err),
                     MTP_ERR_AES_KEY_LENGTH);
        /* the key is checked before the data */
        ck_assert_rc(mtp_aes_ige_crypt_impl(impl, false, key, bad_key[i], iv, buf, out, 15, NULL),
                     MTP_ERR_AES_KEY_LENGTH);
    }
    ck_assert_str_eq(err.msg, "aes-ige: key is 64 bytes, need 16 or 32");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_aes_ige_crypt_impl(impl, true, NULL, 32, iv, buf, out, 16, &err), MTP_ERR_AES_KEY_LENGTH);
    ck_assert_rc(mtp_aes_ige_crypt_impl(impl, true, key, 32, iv, NULL, out, 16, NULL), MTP_ERR_ARG);
    /* nothing was written by any rejected call */
    for (size_t i = 0; i < sizeof out; i++)
        ck_assert_uint_eq(out[i], 0xee);
    /* an empty input is fine and touches nothing */
    ck_assert_ok(mtp_aes_ige_crypt_impl(MTP_AES_IMPL_EVP, true, key, 32, iv, NULL, NULL, 0, NULL));
    ck_assert_ok(mtp_aes_ige_encrypt(key, 32, iv, buf, out, 0, NULL));
    ck_assert_uint_eq(out[0], 0xee);
}
END_TEST

START_TEST(public_api_rejects)
{
    uint8_t key[32] = {0}, iv[32] = {0}, buf[32] = {0};
    ck_assert_rc(mtp_aes_ige_encrypt(key, 24, iv, buf, buf, 16, NULL), MTP_ERR_AES_KEY_LENGTH);
    ck_assert_rc(mtp_aes_ige_decrypt(key, 32, iv, buf, buf, 20, NULL), MTP_ERR_AES_DATA_LENGTH);
}
END_TEST

START_TEST(aesni_unavailable_is_reported)
{
    uint8_t key[32] = {0}, iv[32] = {0}, buf[16] = {0};
    int rc = mtp_aes_ige_crypt_impl(MTP_AES_IMPL_AESNI, true, key, 32, iv, buf, buf, 16, NULL);
    ck_assert_rc(rc, mtp_aesni_available() ? MTP_OK : MTP_ERR_UNSUPPORTED);
}
END_TEST

static Suite *aes_ige_suite(void)
{
    Suite *s = suite_create("aes_ige");
    TCase *tc = tcase_create("vectors");
    tcase_add_loop_test(tc, known_vectors_every_impl, 0, (int)(N_IMPLS * (sizeof vectors / sizeof vectors[0])));
    tcase_add_test(tc, public_api_matches_vectors);
    suite_add_tcase(s, tc);
    tc = tcase_create("cross");
    tcase_add_loop_test(tc, every_length_cross_checked, 0, 2);
    tcase_add_test(tc, error_propagates_forward_only);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_loop_test(tc, rejects_bad_lengths_and_keys, 0, (int)N_IMPLS);
    tcase_add_test(tc, public_api_rejects);
    tcase_add_test(tc, aesni_unavailable_is_reported);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(aes_ige_suite)
