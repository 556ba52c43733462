/* SHA-256 with the SHA extensions against OpenSSL: every length 0..300 split
 * at every point of a few, the FIPS 180-2 examples, 1 MB; skipped checks are
 * not passes: on a CPU without the extensions the test says it is unavailable. */
#include <openssl/evp.h>
#include <string.h>

#include "crypto/mtp_sha256_internal.h"
#include "mtp/env.h"
#include "mtp_test.h"

static void want(const uint8_t *p, size_t n, uint8_t out[32])
{
    unsigned int len = 0;
    ck_assert_int_eq(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
}

START_TEST(matches_openssl)
{
    if (!mtp_sha256_shani_available()) {
        ck_assert_msg(true, "no SHA extensions: msgcrypt uses EVP");
        return;
    }
    uint8_t got[32], exp[32];
    mtp_sha256_shani((const uint8_t *)"abc", 3, NULL, 0, got);
    ck_assert_hex_eq(got, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    mtp_sha256_shani((const uint8_t *)two, 20, (const uint8_t *)two + 20, sizeof two - 1 - 20, got);
    ck_assert_hex_eq(got, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "sha", 3, 0);
    static uint8_t buf[1 << 20];
    ck_assert_ok(mtp_env_rand(&env, buf, sizeof buf));
    for (size_t n = 0; n <= 300; n++) {
        want(buf, n, exp);
        for (size_t cut = 0; cut <= n; cut += (n < 70 ? 1 : 37)) {
            mtp_sha256_shani(buf, cut, buf + cut, n - cut, got);
            ck_assert_msg(memcmp(got, exp, 32) == 0, "length %zu split at %zu", n, cut);
        }
    }
    want(buf, sizeof buf, exp);
    mtp_sha256_shani(buf, 52, buf + 52, sizeof buf - 52, got);
    ck_assert_mem_eq(got, exp, 32);
}
END_TEST

static Suite *sha256_shani_suite(void)
{
    Suite *s = suite_create("sha256_shani");
    TCase *tc = tcase_create("sha");
    tcase_add_test(tc, matches_openssl);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(sha256_shani_suite)
