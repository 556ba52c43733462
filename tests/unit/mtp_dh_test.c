#include <jansson.h>
#include <openssl/bn.h>
#include <string.h>

#include "mtp/dh.h"
#include "mtp/hex.h"
#include "mtp_samples_auth_key.h"
#include "mtp_test.h"

/* A 2048-bit safe prime that is not embedded (vectors/dh/dh_checks.json, made by
 * vectors/gen/dh_checks.py): p mod 8 = 7, mod 5 = 4, mod 7 = 2, so g = 2, 4, 5, 6
 * pass and g = 7 fails its residue condition. */
#define PRIME_A                                                                                                        \
    "d6c164e723db0ff26a8dd37acbddd759a5e34d6af207f4b7bcfbced42ba2e52f1469c883af0a1582feab99e4ca6c9231cb01b10494ee31ec" \
    "1fd032a8361a51bde2e9eb29a71376a8e76eea5ee29d04e6f61ff9a57d73ffd5477d012e3b8a5d5d73e5698f4b3119d0549620b0d48c905a" \
    "4925fa51ff396f9c98b44a03845b150ca56f2aab4de6b41066aacfc9338f6b5253f2858b5d50b64410104da616f4ecf583038160456304a2" \
    "e0b3803c3dc587e737fe53a0ad932d74908ddec4f5846ff9a89e187b0469b154b4763d13235cd7124fe54b12485b2e14740298d3efcbf8f3" \
    "603eadba0b44737afa76c7a669fb7bd2d1bf040a0c855af5fe790b5137cdebb7"

static const uint8_t *hexn(const char *hex, size_t want)
{
    size_t n;
    uint8_t *p = mtp_test_hex(hex, &n);
    ck_assert_uint_eq(n, want);
    return p;
}

/* base (a hex number, or 2^bit when hex is NULL) + delta, as len big-endian bytes. */
static const uint8_t *num(const char *hex, int bit, long delta, size_t len)
{
    BIGNUM *v = BN_new(), *d = BN_new();
    ck_assert_ptr_nonnull(v);
    if (hex)
        ck_assert_int_gt(BN_hex2bn(&v, hex), 0);
    else
        ck_assert_int_eq(BN_set_bit(v, bit), 1);
    ck_assert_int_eq(BN_set_word(d, (BN_ULONG)(delta < 0 ? -delta : delta)), 1);
    ck_assert_int_eq(delta < 0 ? BN_sub(v, v, d) : BN_add(v, v, d), 1);
    char *zeros = malloc(2 * len + 1);
    ck_assert_ptr_nonnull(zeros);
    memset(zeros, '0', 2 * len);
    zeros[2 * len] = '\0';
    uint8_t *out = mtp_test_hex(zeros, NULL); /* freed with the test arena */
    free(zeros);
    ck_assert_int_eq(BN_bn2binpad(v, out, (int)len), (int)len);
    BN_free(v);
    BN_free(d);
    return out;
}

static void params_rc(const uint8_t *p, size_t len, int64_t g, enum mtp_dh_mode mode, int want)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = mtp_dh_check_params(p, len, g, mode, &err);
    ck_assert_msg(rc == want, "g=%lld: got %s (%s), want %s", (long long)g, mtp_err_name(rc), err.msg,
                  mtp_err_name(want));
}

START_TEST(telegram_prime_is_known_and_passes_the_full_check)
{
    const uint8_t *p = hexn(DH_PRIME, 256);
    ck_assert_mem_eq(p, mtp_dh_telegram_prime, 256);
    ck_assert(mtp_dh_prime_is_known(p, 256));
    ck_assert(mtp_dh_prime_is_known(num(DH_PRIME, 0, 0, 300), 300)); /* leading zeros */
    ck_assert(!mtp_dh_prime_is_known(num(DH_PRIME, 0, 4, 256), 256));
    params_rc(p, 256, 3, MTP_DH_TRUST_KNOWN, MTP_OK);
    params_rc(p, 256, 3, MTP_DH_FULL, MTP_OK);
}
END_TEST

START_TEST(generator_residues_for_the_telegram_prime)
{
    /* p mod 8 = 3, mod 5 = 3, mod 24 = 11, mod 7 = 6 */
    const uint8_t *p = mtp_dh_telegram_prime;
    params_rc(p, 256, 2, MTP_DH_TRUST_KNOWN, MTP_ERR_DH_G_BAD_RESIDUE);
    params_rc(p, 256, 3, MTP_DH_TRUST_KNOWN, MTP_OK);
    params_rc(p, 256, 4, MTP_DH_TRUST_KNOWN, MTP_OK);
    params_rc(p, 256, 5, MTP_DH_TRUST_KNOWN, MTP_ERR_DH_G_BAD_RESIDUE);
    params_rc(p, 256, 6, MTP_DH_TRUST_KNOWN, MTP_ERR_DH_G_BAD_RESIDUE);
    params_rc(p, 256, 7, MTP_DH_TRUST_KNOWN, MTP_OK);
    for (int64_t g = -1; g <= 1; g++)
        params_rc(p, 256, g, MTP_DH_TRUST_KNOWN, MTP_ERR_DH_G_OUT_OF_RANGE);
    params_rc(p, 256, 8, MTP_DH_TRUST_KNOWN, MTP_ERR_DH_G_OUT_OF_RANGE);
    params_rc(p, 256, INT64_MIN, MTP_DH_TRUST_KNOWN, MTP_ERR_DH_G_OUT_OF_RANGE);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_dh_check_params(p, 256, 2, MTP_DH_TRUST_KNOWN, &err), MTP_ERR_DH_G_BAD_RESIDUE);
    ck_assert_str_eq(err.msg, "g: 2 does not generate the subgroup of order (p-1)/2 (dh_prime mod 8 = 3)");
}
END_TEST

START_TEST(an_unknown_safe_prime_gets_the_full_tests)
{
    const uint8_t *p = hexn(PRIME_A, 256);
    ck_assert(!mtp_dh_prime_is_known(p, 256));
    params_rc(p, 256, 2, MTP_DH_TRUST_KNOWN, MTP_OK);
    params_rc(p, 256, 3, MTP_DH_TRUST_KNOWN, MTP_OK);
    params_rc(p, 256, 4, MTP_DH_FULL, MTP_OK);
    params_rc(p, 256, 5, MTP_DH_FULL, MTP_OK);
    params_rc(p, 256, 6, MTP_DH_FULL, MTP_OK);
    params_rc(p, 256, 7, MTP_DH_FULL, MTP_ERR_DH_G_BAD_RESIDUE);
}
END_TEST

START_TEST(composite_and_unsafe_primes)
{
    /* Telegram's prime + 4 is divisible by 3 (p mod 3 = 2). */
    params_rc(num(DH_PRIME, 0, 4, 256), 256, 4, MTP_DH_TRUST_KNOWN, MTP_ERR_DH_PRIME_NOT_PRIME);
    params_rc(num(DH_PRIME, 0, 4, 256), 256, 4, MTP_DH_FULL, MTP_ERR_DH_PRIME_NOT_PRIME);
    /* So is prime A + 4 (A mod 3 = 2, as for every safe prime above 7). */
    params_rc(num(PRIME_A, 0, 4, 256), 256, 4, MTP_DH_FULL, MTP_ERR_DH_PRIME_NOT_PRIME);
}
END_TEST

START_TEST(prime_size_limits)
{
    params_rc(num(NULL, 2047, 0, 256), 256, 4, MTP_DH_FULL, MTP_ERR_DH_PRIME_BAD_SIZE);  /* 2^2047 exactly */
    params_rc(num(NULL, 2047, -1, 256), 256, 4, MTP_DH_FULL, MTP_ERR_DH_PRIME_BAD_SIZE); /* 2047 bits */
    params_rc(num(NULL, 2048, 1, 257), 257, 4, MTP_DH_FULL, MTP_ERR_DH_PRIME_BAD_SIZE);  /* 2049 bits */
    params_rc(mtp_dh_telegram_prime + 1, 255, 4, MTP_DH_FULL, MTP_ERR_DH_PRIME_BAD_SIZE);
    params_rc(NULL, 0, 4, MTP_DH_FULL, MTP_ERR_DH_PRIME_BAD_SIZE);
    params_rc(num(DH_PRIME, 0, 0, 257), 257, 3, MTP_DH_FULL, MTP_OK); /* a leading zero byte is still 2048 bits */
    static uint8_t huge[5000];
    memset(huge, 0xff, sizeof huge);
    params_rc(huge, sizeof huge, 3, MTP_DH_FULL, MTP_ERR_DH_PRIME_BAD_SIZE);
}
END_TEST

static void ga_rc(const uint8_t *ga, size_t len, int want)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    int rc = mtp_dh_check_ga(mtp_dh_telegram_prime, 256, ga, len, &err);
    ck_assert_msg(rc == want, "got %s (%s), want %s", mtp_err_name(rc), err.msg, mtp_err_name(want));
    int gb_want = want == MTP_ERR_DH_GA_OUT_OF_RANGE ? MTP_ERR_DH_GB_OUT_OF_RANGE
                  : want == MTP_ERR_DH_GA_UNSAFE     ? MTP_ERR_DH_GB_UNSAFE
                                                     : want;
    ck_assert_rc(mtp_dh_check_gb(mtp_dh_telegram_prime, 256, ga, len, NULL), gb_want);
}

START_TEST(public_value_ranges)
{
    ga_rc(hexn(NEW_G_A, 256), 256, MTP_OK);
    ga_rc(hexn(NEW_G_B, 256), 256, MTP_OK);
    ga_rc(NULL, 0, MTP_ERR_DH_GA_OUT_OF_RANGE);
    ga_rc(num("0", 0, 0, 256), 256, MTP_ERR_DH_GA_OUT_OF_RANGE);
    ga_rc(num("1", 0, 0, 1), 1, MTP_ERR_DH_GA_OUT_OF_RANGE);
    ga_rc(num("2", 0, 0, 1), 1, MTP_ERR_DH_GA_UNSAFE); /* in 1 < x < p - 1, but tiny */
    ga_rc(num(DH_PRIME, 0, -2, 256), 256, MTP_ERR_DH_GA_UNSAFE);
    ga_rc(num(DH_PRIME, 0, -1, 256), 256, MTP_ERR_DH_GA_OUT_OF_RANGE);
    ga_rc(num(DH_PRIME, 0, 0, 256), 256, MTP_ERR_DH_GA_OUT_OF_RANGE);
    ga_rc(num(DH_PRIME, 0, 1, 256), 256, MTP_ERR_DH_GA_OUT_OF_RANGE);
    ga_rc(num(NULL, 2048, -1, 256), 256, MTP_ERR_DH_GA_OUT_OF_RANGE);
    ga_rc(num(NULL, 2048, 0, 257), 257, MTP_ERR_DH_GA_OUT_OF_RANGE);
    ga_rc(num(NULL, 1984, -1, 256), 256, MTP_ERR_DH_GA_UNSAFE);
    ga_rc(num(NULL, 1984, 0, 256), 256, MTP_OK);
    ga_rc(num(NULL, 1984, 0, 300), 300, MTP_OK); /* leading zeros */
    /* p - 2^1984 is the last safe value, p - 2^1984 + 1 the first unsafe one. */
    BIGNUM *p = BN_bin2bn(mtp_dh_telegram_prime, 256, NULL), *m = BN_new();
    ck_assert_int_eq(BN_set_bit(m, 1984), 1);
    ck_assert_int_eq(BN_sub(p, p, m), 1);
    char *hi = BN_bn2hex(p);
    ga_rc(num(hi, 0, 0, 256), 256, MTP_OK);
    ga_rc(num(hi, 0, 1, 256), 256, MTP_ERR_DH_GA_UNSAFE);
    OPENSSL_free(hi);
    BN_free(p);
    BN_free(m);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_dh_check_gb(mtp_dh_telegram_prime, 256, num("2", 0, 0, 1), 1, &err), MTP_ERR_DH_GB_UNSAFE);
    ck_assert_str_eq(err.msg, "g_b: below 2^1984");
}
END_TEST

START_TEST(full_check_order)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    const uint8_t *ga = hexn(NEW_G_A, 256);
    ck_assert_ok(mtp_dh_check(mtp_dh_telegram_prime, 256, 3, ga, 256, MTP_DH_FULL, &err));
    ck_assert_rc(mtp_dh_check(mtp_dh_telegram_prime, 256, 2, ga, 256, MTP_DH_FULL, &err), MTP_ERR_DH_G_BAD_RESIDUE);
    ck_assert_rc(mtp_dh_check(mtp_dh_telegram_prime, 256, 3, ga, 1, MTP_DH_FULL, NULL), MTP_ERR_DH_GA_UNSAFE);
    /* the older example's g = 2 fails on its residue, before g_a is looked at */
    ck_assert_rc(mtp_dh_check(hexn(DH_PRIME, 256), 256, OLD_G, hexn(OLD_G_A, 256), 256, MTP_DH_FULL, NULL),
                 MTP_ERR_DH_G_BAD_RESIDUE);
}
END_TEST

START_TEST(checks_one_by_one)
{
    /* The parts a client may leave out on purpose (seeded faults) give the
     * same verdicts as the whole check, each on its own. */
    const uint8_t *a = hexn(PRIME_A, 256);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_dh_check_prime(a, 256, MTP_DH_FULL, &err));
    ck_assert_rc(mtp_dh_check_prime(a, 255, MTP_DH_FULL, NULL), MTP_ERR_DH_PRIME_BAD_SIZE);
    ck_assert_rc(mtp_dh_check_prime(num(PRIME_A, 0, 2, 256), 256, MTP_DH_FULL, NULL), MTP_ERR_DH_PRIME_NOT_PRIME);
    ck_assert_ok(mtp_dh_check_prime(mtp_dh_telegram_prime, 256, MTP_DH_TRUST_KNOWN, NULL));
    /* g alone: the residue rules whatever p is (a composite p included) */
    ck_assert_ok(mtp_dh_check_g(a, 256, 2, NULL));
    ck_assert_rc(mtp_dh_check_g(a, 256, 7, &err), MTP_ERR_DH_G_BAD_RESIDUE);
    ck_assert_rc(mtp_dh_check_g(a, 256, 8, NULL), MTP_ERR_DH_G_OUT_OF_RANGE);
    ck_assert_ok(mtp_dh_check_g(num(PRIME_A, 0, 8, 256), 256, 2, NULL)); /* p + 8: mod 8 = 7 still */
    /* g_a: range and margin apart */
    const uint8_t *p = mtp_dh_telegram_prime, *one = num("1", 0, 0, 1), *two = num("2", 0, 0, 1);
    const uint8_t *big = num(NULL, 2048, 0, 257), *ok = num(NULL, 1984, 0, 256);
    ck_assert_rc(mtp_dh_check_ga_parts(p, 256, one, 1, true, true, NULL), MTP_ERR_DH_GA_OUT_OF_RANGE);
    ck_assert_rc(mtp_dh_check_ga_parts(p, 256, one, 1, true, false, NULL), MTP_ERR_DH_GA_OUT_OF_RANGE);
    ck_assert_ok(mtp_dh_check_ga_parts(p, 256, one, 1, false, true, NULL)); /* outside the range: let through */
    ck_assert_ok(mtp_dh_check_ga_parts(p, 256, big, 257, false, true, NULL));
    ck_assert_rc(mtp_dh_check_ga_parts(p, 256, big, 257, true, false, NULL), MTP_ERR_DH_GA_OUT_OF_RANGE);
    ck_assert_rc(mtp_dh_check_ga_parts(p, 256, two, 1, false, true, NULL), MTP_ERR_DH_GA_UNSAFE);
    ck_assert_ok(mtp_dh_check_ga_parts(p, 256, two, 1, true, false, NULL));
    ck_assert_ok(mtp_dh_check_ga_parts(p, 256, ok, 256, true, true, NULL));
}
END_TEST

START_TEST(worked_example_arithmetic)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    uint8_t gb[256], ak[256];
    const uint8_t *p = hexn(DH_PRIME, 256);
    ck_assert_ok(mtp_dh_public(p, 256, NEW_G, hexn(NEW_B, 256), gb, &err));
    ck_assert_hex_eq(gb, 256, NEW_G_B);
    ck_assert_ok(mtp_dh_shared(p, 256, hexn(NEW_G_A, 256), 256, hexn(NEW_B, 256), ak, &err));
    ck_assert_hex_eq(ak, 256, NEW_AUTH_KEY);
    ck_assert_ok(mtp_dh_public(p, 256, OLD_G, hexn(OLD_B, 256), gb, &err));
    ck_assert_hex_eq(gb, 256, OLD_G_B);
    ck_assert_ok(mtp_dh_shared(p, 256, hexn(OLD_G_A, 256), 256, hexn(OLD_B, 256), ak, &err));
    ck_assert_hex_eq(ak, 256, OLD_AUTH_KEY);
    ck_assert_rc(mtp_dh_public(p, 256, 9, hexn(NEW_B, 256), gb, NULL), MTP_ERR_DH_G_OUT_OF_RANGE);
    ck_assert_rc(mtp_dh_public(p, 255, 3, hexn(NEW_B, 256), gb, NULL), MTP_ERR_DH_PRIME_BAD_SIZE);
    ck_assert_rc(mtp_dh_shared(p, 256, num("1", 0, 0, 300), 300, hexn(NEW_B, 256), ak, NULL), MTP_OK);
    ck_assert_rc(mtp_dh_shared(p, 256, num(NULL, 2100, 0, 300), 300, hexn(NEW_B, 256), ak, NULL), MTP_ERR_ARG);
}
END_TEST

START_TEST(keypairs_agree_and_stay_in_range)
{
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "dh", 2, 0);
    struct mtp_error err;
    mtp_error_clear(&err);
    uint8_t a[256], ga[256], b[256], gb[256], k1[256], k2[256], check[256];
    ck_assert_ok(mtp_dh_keypair(&env, mtp_dh_telegram_prime, 256, 3, a, ga, &err));
    ck_assert_ok(mtp_dh_keypair(&env, mtp_dh_telegram_prime, 256, 3, b, gb, &err));
    ck_assert_ok(mtp_dh_public(mtp_dh_telegram_prime, 256, 3, a, check, &err));
    ck_assert_mem_eq(check, ga, 256);
    ck_assert_ok(mtp_dh_check_ga(mtp_dh_telegram_prime, 256, ga, 256, &err));
    ck_assert_ok(mtp_dh_check_gb(mtp_dh_telegram_prime, 256, gb, 256, &err));
    ck_assert_ok(mtp_dh_shared(mtp_dh_telegram_prime, 256, gb, 256, a, k1, &err));
    ck_assert_ok(mtp_dh_shared(mtp_dh_telegram_prime, 256, ga, 256, b, k2, &err));
    ck_assert_mem_eq(k1, k2, 256);
}
END_TEST

START_TEST(keypair_redraws_an_unsafe_public_value)
{
    /* A zero secret gives g^0 = 1, out of range: the next draw is the example's b. */
    uint8_t script[512] = {0};
    memcpy(script + 256, hexn(NEW_B, 256), 256);
    struct mtp_script_state ss;
    struct mtp_env env = mtp_env_scripted(&ss, script, sizeof script, 0);
    uint8_t b[256], gb[256];
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_ok(mtp_dh_keypair(&env, mtp_dh_telegram_prime, 256, NEW_G, b, gb, &err));
    ck_assert_hex_eq(gb, 256, NEW_G_B);
    ck_assert_hex_eq(b, 256, NEW_B);
    /* Only zero secrets: gives up after MTP_DH_KEYGEN_TRIES draws, secret wiped. */
    static uint8_t zeros[256 * MTP_DH_KEYGEN_TRIES];
    env = mtp_env_scripted(&ss, zeros, sizeof zeros, 0);
    memset(b, 0xaa, sizeof b);
    ck_assert_rc(mtp_dh_keypair(&env, mtp_dh_telegram_prime, 256, NEW_G, b, gb, &err), MTP_ERR_DH_KEYGEN);
    ck_assert_uint_eq(ss.pos, sizeof zeros);
    for (size_t i = 0; i < sizeof b; i++)
        ck_assert_uint_eq(b[i], 0);
    /* Randomness running out is reported as such. */
    env = mtp_env_scripted(&ss, zeros, 100, 0);
    mtp_error_clear(&err);
    ck_assert_rc(mtp_dh_keypair(&env, mtp_dh_telegram_prime, 256, NEW_G, b, gb, &err), MTP_ERR_LIMIT);
}
END_TEST

START_TEST(generic_modexp)
{
    uint8_t out[1024];
    size_t n;
    struct mtp_error err;
    mtp_error_clear(&err);
    static const uint8_t four = 4, thirteen = 13, zero = 0, five = 5;
    static const uint8_t m497[] = {0x01, 0xf1}, m8 = 8, seven = 7;
    ck_assert_ok(mtp_dh_modexp(&four, 1, &thirteen, 1, m497, 2, out, sizeof out, &n, &err));
    ck_assert_hex_eq(out, n, "01bd"); /* 4^13 mod 497 = 445 */
    ck_assert_ok(mtp_dh_modexp(&zero, 1, &five, 1, &seven, 1, out, sizeof out, &n, &err));
    ck_assert_hex_eq(out, n, "00");
    ck_assert_ok(mtp_dh_modexp(&five, 1, NULL, 0, &seven, 1, out, sizeof out, &n, &err));
    ck_assert_hex_eq(out, n, "01");
    ck_assert_rc(mtp_dh_modexp(&five, 1, &five, 1, &m8, 1, out, sizeof out, &n, &err), MTP_ERR_ARG);
    static const uint8_t one = 1;
    ck_assert_rc(mtp_dh_modexp(&five, 1, &five, 1, &one, 1, out, sizeof out, &n, NULL), MTP_ERR_ARG);
    ck_assert_rc(mtp_dh_modexp(&five, 1, &five, 1, m497, 2, out, 1, &n, NULL), MTP_ERR_OVERFLOW);
    /* base larger than the modulus is reduced first: 500^1 mod 497 = 3 */
    static const uint8_t b500[] = {0x01, 0xf4}, e1 = 1;
    ck_assert_ok(mtp_dh_modexp(b500, 2, &e1, 1, m497, 2, out, sizeof out, &n, NULL));
    ck_assert_hex_eq(out, n, "03");
}
END_TEST

/* vectors/dh/safe_primes.json: mtp_dh_check_params (which tests primality with
 * OpenSSL's BN_check_prime) gives each number the verdict the file records
 * (made with Python's Miller-Rabin and `openssl prime`); the legal g of each
 * safe prime are those Euler's criterion finds; the pseudoprime fools a
 * Fermat test to base 2. */
START_TEST(safe_primes_file)
{
    size_t len;
    uint8_t *text = mtp_test_read_file("vectors/dh/safe_primes.json", &len);
    json_error_t je;
    json_t *doc = json_loadb((const char *)text, len, 0, &je);
    ck_assert_msg(doc != NULL, "%s", je.text);
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = BN_new(), *e1 = BN_new(), *g = BN_new(), *r = BN_new();
    ck_assert(ctx && p && e1 && g && r);
    size_t i, safe_ok = 0, illegal_checked = 0;
    json_t *e;
    json_array_foreach(json_object_get(doc, "numbers"), i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *hex = json_string_value(json_object_get(e, "hex"));
        const char *check = json_string_value(json_object_get(e, "check"));
        struct mtp_wr w;
        mtp_wr_init_dyn(&w, 1024, NULL);
        ck_assert_ok(mtp_hex_decode(hex, strlen(hex), &w, "hex"));
        ck_assert_ptr_nonnull(BN_bin2bn(w.p, (int)w.len, p));
        ck_assert_int_eq(BN_num_bits(p), json_integer_value(json_object_get(e, "bits")));
        bool ok = strcmp(check, "ok") == 0;
        json_t *legal = json_object_get(e, "g_legal");
        int some_legal = ok ? (int)json_integer_value(json_array_get(legal, 0)) : 3;
        int rc = mtp_dh_check_params(w.p, w.len, some_legal, MTP_DH_FULL, NULL);
        ck_assert_msg(ok ? rc == MTP_OK : strcmp(mtp_err_name(rc), check) == 0, "%s: %s, the file says %s", name,
                      mtp_err_name(rc), check);
        if (json_is_true(json_object_get(e, "half_prime"))) {
            /* g legal <=> g^((p-1)/2) = 1 mod p */
            ck_assert(BN_sub(e1, p, BN_value_one()) && BN_rshift1(e1, e1));
            for (int k = 2; k <= 7; k++) {
                bool listed = false;
                size_t j;
                json_t *v;
                json_array_foreach(legal, j, v) listed |= json_integer_value(v) == k;
                ck_assert(BN_set_word(g, (BN_ULONG)k) && BN_mod_exp(r, g, e1, p, ctx));
                ck_assert_msg(BN_is_one(r) == listed, "%s: g = %d", name, k);
            }
        }
        if (ok && json_array_size(json_object_get(e, "g_illegal")) > 0 && illegal_checked < 2) {
            int bad = (int)json_integer_value(json_array_get(json_object_get(e, "g_illegal"), 0));
            ck_assert_rc(mtp_dh_check_params(w.p, w.len, bad, MTP_DH_FULL, NULL), MTP_ERR_DH_G_BAD_RESIDUE);
            illegal_checked++;
        }
        if (json_is_true(json_object_get(e, "fermat_base_2"))) {
            ck_assert(BN_sub(e1, p, BN_value_one()) && BN_set_word(g, 2) && BN_mod_exp(r, g, e1, p, ctx));
            ck_assert(BN_is_one(r));
        }
        if (json_is_true(json_object_get(e, "strong_base_2"))) {
            /* n - 1 = 2^k d, d odd: 2^d = 1, or 2^(2^j d) = n - 1 for some j < k (Miller-Rabin, base 2) */
            int k = 0;
            ck_assert(BN_sub(e1, p, BN_value_one()));
            while (!BN_is_odd(e1)) {
                ck_assert(BN_rshift1(e1, e1));
                k++;
            }
            ck_assert(BN_set_word(g, 2) && BN_mod_exp(r, g, e1, p, ctx));
            ck_assert(BN_sub(e1, p, BN_value_one()));
            bool passes = BN_is_one(r) || BN_cmp(r, e1) == 0;
            for (int j = 1; j < k && !passes; j++) {
                ck_assert(BN_mod_sqr(r, r, p, ctx));
                passes = BN_cmp(r, e1) == 0;
            }
            ck_assert_msg(passes, "%s: not a strong pseudoprime to base 2", name);
        }
        safe_ok += ok;
        mtp_wr_free(&w);
    }
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "numbers")), 10);
    ck_assert_uint_eq(safe_ok, 5); /* Telegram's, A, B, F, G */
    ck_assert_uint_eq(illegal_checked, 2);
    BN_free(p);
    BN_free(e1);
    BN_free(g);
    BN_free(r);
    BN_CTX_free(ctx);
    json_decref(doc);
}
END_TEST

static Suite *dh_suite(void)
{
    Suite *s = suite_create("dh");
    TCase *t = tcase_create("dh");
    tcase_add_test(t, telegram_prime_is_known_and_passes_the_full_check);
    tcase_add_test(t, generator_residues_for_the_telegram_prime);
    tcase_add_test(t, an_unknown_safe_prime_gets_the_full_tests);
    tcase_add_test(t, composite_and_unsafe_primes);
    tcase_add_test(t, prime_size_limits);
    tcase_add_test(t, public_value_ranges);
    tcase_add_test(t, full_check_order);
    tcase_add_test(t, checks_one_by_one);
    tcase_add_test(t, worked_example_arithmetic);
    tcase_add_test(t, keypairs_agree_and_stay_in_range);
    tcase_add_test(t, keypair_redraws_an_unsafe_public_value);
    tcase_add_test(t, generic_modexp);
    tcase_add_test(t, safe_primes_file);
    tcase_set_timeout(t, 60);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(dh_suite)
