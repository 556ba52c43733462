/* The AES-NI kernel on its own: key schedule and block cipher against the
 * FIPS-197 examples and OpenSSL, then the IGE loops.  On a CPU without AES-NI
 * the kernel must not be called; the test then checks that it is reported as
 * unavailable and that the dispatcher falls back. */
#include <openssl/evp.h>
#include <string.h>

#include "crypto/mtp_aes_ige_internal.h"
#include "mtp/env.h"
#include "mtp_test.h"

/* FIPS-197 Appendix C.1 (AES-128) and C.3 (AES-256). */
START_TEST(fips197_examples)
{
    if (!mtp_aesni_available()) {
        ck_assert_str_eq(mtp_aes_ige_impl_name(), "openssl-evp");
        return;
    }
    size_t n;
    const uint8_t *pt = mtp_test_hex("00112233445566778899aabbccddeeff", &n);
    const uint8_t *k128 = mtp_test_hex("000102030405060708090a0b0c0d0e0f", &n);
    const uint8_t *k256 = mtp_test_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &n);
    uint8_t out[16], back[16];
    mtp_aesni_block_encrypt(k128, 16, pt, out);
    ck_assert_hex_eq(out, 16, "69c4e0d86a7b0430d8cdb78070b4c55a");
    mtp_aesni_block_decrypt(k128, 16, out, back);
    ck_assert_mem_eq(back, pt, 16);
    mtp_aesni_block_encrypt(k256, 32, pt, out);
    ck_assert_hex_eq(out, 16, "8ea2b7ca516745bfeafc49904b496089");
    mtp_aesni_block_decrypt(k256, 32, out, back);
    ck_assert_mem_eq(back, pt, 16);
}
END_TEST

/* Every round constant and both step kinds of the key expansion show up in
 * the last round key, so random keys against OpenSSL exercise all of them. */
START_TEST(block_cipher_matches_openssl)
{
    if (!mtp_aesni_available())
        return;
    size_t key_len = _i == 0 ? 32 : 16;
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "aesni blocks", 12, 0);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    ck_assert_ptr_nonnull(ctx);
    for (int i = 0; i < 500; i++) {
        uint8_t key[32], in[16], want[16], got[16], back[16];
        int outl = 0;
        ck_assert_ok(mtp_env_rand(&env, key, sizeof key));
        ck_assert_ok(mtp_env_rand(&env, in, sizeof in));
        ck_assert_int_eq(EVP_EncryptInit_ex2(ctx, key_len == 32 ? EVP_aes_256_ecb() : EVP_aes_128_ecb(), key, NULL,
                                             NULL),
                         1);
        EVP_CIPHER_CTX_set_padding(ctx, 0);
        ck_assert_int_eq(EVP_EncryptUpdate(ctx, want, &outl, in, 16), 1);
        mtp_aesni_block_encrypt(key, key_len, in, got);
        ck_assert_mem_eq(got, want, 16);
        mtp_aesni_block_decrypt(key, key_len, got, back);
        ck_assert_mem_eq(back, in, 16);
    }
    EVP_CIPHER_CTX_free(ctx);
}
END_TEST

/* The kernel's IGE loops against the published OpenSSL IGE vector, in place. */
START_TEST(ige_kernel_in_place)
{
    if (!mtp_aesni_available()) {
        uint8_t key[16] = {0}, iv[32] = {0}, buf[16] = {0};
        ck_assert_rc(mtp_aes_ige_crypt_impl(MTP_AES_IMPL_AESNI, false, key, 16, iv, buf, buf, 16, NULL),
                     MTP_ERR_UNSUPPORTED);
        return;
    }
    size_t n;
    const uint8_t *key = mtp_test_hex("000102030405060708090a0b0c0d0e0f", &n);
    const uint8_t *iv = mtp_test_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &n);
    uint8_t buf[32] = {0};
    mtp_aesni_ige_encrypt(key, 16, iv, buf, buf, sizeof buf);
    ck_assert_hex_eq(buf, 32, "1a8519a6557be652e9da8e43da4ef4453cf456b4ca488aa383c79c98b34797cb");
    mtp_aesni_ige_decrypt(key, 16, iv, buf, buf, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++)
        ck_assert_uint_eq(buf[i], 0);
    /* zero blocks: the IV must not be read past or written */
    mtp_aesni_ige_encrypt(key, 16, iv, buf, buf, 0);
    ck_assert_uint_eq(buf[0], 0);
}
END_TEST

/* Batches of messages of mixed lengths (0 blocks too), some in place, against
 * one mtp_aes_ige_decrypt per message: lanes that finish early take the next
 * job, so every lane count 1..8 runs. */
START_TEST(decrypt_many_matches_single)
{
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "ige many", 8, 0);
    enum { JOBS = 37, MAXLEN = 1024 };
    static uint8_t keys[JOBS][32], ivs[JOBS][32], in[JOBS][MAXLEN], out[JOBS][MAXLEN], want[JOBS][MAXLEN];
    struct mtp_aes_ige_job jobs[JOBS];
    for (int i = 0; i < JOBS; i++) {
        uint8_t r;
        ck_assert_ok(mtp_env_rand(&env, keys[i], 32));
        ck_assert_ok(mtp_env_rand(&env, ivs[i], 32));
        ck_assert_ok(mtp_env_rand(&env, in[i], MAXLEN));
        ck_assert_ok(mtp_env_rand(&env, &r, 1));
        size_t len = i == 5 ? 0 : (size_t)(r % 64 + 1) * 16;
        ck_assert_ok(mtp_aes_ige_decrypt(keys[i], 32, ivs[i], in[i], want[i], len, NULL));
        bool in_place = i % 3 == 0;
        if (in_place)
            memcpy(out[i], in[i], len);
        jobs[i] = (struct mtp_aes_ige_job){keys[i], ivs[i], in_place ? out[i] : in[i], out[i], len};
    }
    ck_assert_ok(mtp_aes_ige_decrypt_many(jobs, JOBS, NULL));
    for (int i = 0; i < JOBS; i++)
        ck_assert_mem_eq(out[i], want[i], jobs[i].len);
    /* a bad job is refused before anything is written */
    memset(out[0], 0xaa, 16);
    jobs[3].len = 17;
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_aes_ige_decrypt_many(jobs, JOBS, &err), MTP_ERR_AES_DATA_LENGTH);
    ck_assert_uint_eq(out[0][0], 0xaa);
}
END_TEST

static Suite *aes_ige_aesni_suite(void)
{
    Suite *s = suite_create("aes_ige_aesni");
    TCase *tc = tcase_create("kernel");
    tcase_add_test(tc, fips197_examples);
    tcase_add_loop_test(tc, block_cipher_matches_openssl, 0, 2);
    tcase_add_test(tc, ige_kernel_in_place);
    tcase_add_test(tc, decrypt_many_matches_single);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(aes_ige_aesni_suite)
