#include <string.h>

#include "mtp/pq.h"
#include "mtp_test.h"

static void factor_ok(uint64_t pq, uint64_t want_p, uint64_t want_q)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    uint64_t p = 0, q = 0;
    ck_assert_msg(mtp_pq_factor(pq, &p, &q, &err) == MTP_OK, "pq %llx: %s", (unsigned long long)pq, err.msg);
    ck_assert_uint_eq(p, want_p);
    ck_assert_uint_eq(q, want_q);
}

static void factor_fails(uint64_t pq, int code)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    uint64_t p = 7, q = 7;
    ck_assert_rc(mtp_pq_factor(pq, &p, &q, &err), code);
    ck_assert_int_eq(err.code, code);
    ck_assert_ptr_nonnull(strstr(err.msg, "pq"));
    ck_assert_uint_eq(p, 7); /* outputs untouched on failure */
}

START_TEST(miller_rabin_is_exact_on_hard_cases)
{
    ck_assert(!mtp_pq_is_prime(0));
    ck_assert(!mtp_pq_is_prime(1));
    ck_assert(mtp_pq_is_prime(2));
    ck_assert(mtp_pq_is_prime(3));
    ck_assert(mtp_pq_is_prime(37));
    ck_assert(!mtp_pq_is_prime(561));                    /* Carmichael */
    ck_assert(!mtp_pq_is_prime(3215031751ull));          /* strong pseudoprime to bases 2, 3, 5, 7 */
    ck_assert(!mtp_pq_is_prime(3825123056546413051ull)); /* strong pseudoprime to bases 2..23 */
    ck_assert(mtp_pq_is_prime(18446744073709551557ull)); /* 2^64 - 59, the largest 64-bit prime */
    ck_assert(!mtp_pq_is_prime(18446744073709551615ull));
    ck_assert(mtp_pq_is_prime(2147483647ull));
    ck_assert(mtp_pq_is_prime(0x494C553Bull));
    ck_assert(mtp_pq_is_prime(0x53911073ull));
}
END_TEST

START_TEST(worked_examples)
{
    /* core.telegram.org/mtproto/samples-auth_key: older and req_pq_multi examples */
    factor_ok(0x17ED48941A08F981ull, 0x494C553Bull, 0x53911073ull);
    factor_ok(1372318559046200203ull, 1141464581ull, 1202243663ull);
}
END_TEST

START_TEST(large_and_unbalanced_semiprimes)
{
    factor_ok(0xffffffea00000055ull, 4294967279ull, 4294967291ull); /* 64-bit, two 32-bit primes */
    factor_ok(0x7ffffffc80000005ull, 2147483647ull, 4294967291ull); /* 63-bit */
    factor_ok(0xffffffffffffffedull, 3ull, 6148914691236517199ull);  /* smallest odd prime times a 63-bit one */
    factor_ok(0x7ffffffffea6002dull, 1000003ull, 9223344366799ull);
    factor_ok(15, 3, 5);
}
END_TEST

START_TEST(every_rejection_has_its_code)
{
    factor_fails(0, MTP_ERR_PQ_TOO_SMALL);
    factor_fails(1, MTP_ERR_PQ_TOO_SMALL);
    factor_fails(9, MTP_ERR_PQ_TOO_SMALL);
    factor_fails(14, MTP_ERR_PQ_TOO_SMALL);
    factor_fails(16, MTP_ERR_PQ_EVEN_FACTOR);
    factor_fails(2ull * 4294967291ull, MTP_ERR_PQ_EVEN_FACTOR);
    factor_fails(0xfffffffffffffffeull, MTP_ERR_PQ_EVEN_FACTOR);
    factor_fails(17, MTP_ERR_PQ_PRIME);
    factor_fails(18446744073709551557ull, MTP_ERR_PQ_PRIME);
    factor_fails(25, MTP_ERR_PQ_EQUAL_FACTORS);
    factor_fails(0xfffffff600000019ull, MTP_ERR_PQ_EQUAL_FACTORS); /* (2^32 - 5)^2 */
    factor_fails(105, MTP_ERR_PQ_NOT_TWO_PRIMES);                  /* 3 * 5 * 7 */
    factor_fails(27, MTP_ERR_PQ_NOT_TWO_PRIMES);
    factor_fails(81, MTP_ERR_PQ_NOT_TWO_PRIMES); /* 9^2 with 9 composite */
    factor_fails(0xde0f9189fc0f20full, MTP_ERR_PQ_NOT_TWO_PRIMES); /* 1000003 * 1000033 * 1000037 */
    factor_fails(3825123056546413051ull, MTP_ERR_PQ_NOT_TWO_PRIMES);
    factor_fails(0xffffffffffffffffull, MTP_ERR_PQ_NOT_TWO_PRIMES); /* 3 * 5 * 17 * 257 * 641 * 65537 * 6700417 */
}
END_TEST

START_TEST(big_endian_input)
{
    struct mtp_error err;
    mtp_error_clear(&err);
    uint64_t p, q;
    static const uint8_t pq[] = {0x17, 0xED, 0x48, 0x94, 0x1A, 0x08, 0xF9, 0x81};
    ck_assert_ok(mtp_pq_factor_be(pq, sizeof pq, &p, &q, &err));
    ck_assert_uint_eq(p, 0x494C553B);
    static const uint8_t padded[] = {0, 0, 0x17, 0xED, 0x48, 0x94, 0x1A, 0x08, 0xF9, 0x81};
    ck_assert_ok(mtp_pq_factor_be(padded, sizeof padded, &p, &q, &err));
    ck_assert_uint_eq(q, 0x53911073);
    static const uint8_t nine[] = {1, 0, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_rc(mtp_pq_factor_be(nine, sizeof nine, &p, &q, &err), MTP_ERR_PQ_TOO_LARGE);
    ck_assert_str_eq(err.msg, "pq: 9 bytes with more than 8 significant ones (over 64 bits)");
    mtp_error_clear(&err);
    ck_assert_rc(mtp_pq_factor_be(NULL, 0, &p, &q, &err), MTP_ERR_PQ_TOO_SMALL);
}
END_TEST

START_TEST(generator_draws_two_distinct_primes_of_the_asked_sizes)
{
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "pq", 2, 0);
    struct mtp_error err;
    mtp_error_clear(&err);
    for (int i = 0; i < 50; i++) {
        uint64_t pq, p, q, p2, q2;
        ck_assert_ok(mtp_pq_generate(&env, MTP_PQ_DEFAULT_BITS, MTP_PQ_DEFAULT_BITS, &pq, &p, &q, &err));
        ck_assert(p < q);
        ck_assert(mtp_pq_is_prime(p) && mtp_pq_is_prime(q));
        ck_assert_uint_eq(p >> 30, 1);
        ck_assert_uint_eq(q >> 30, 1);
        ck_assert_uint_eq(pq, p * q);
        ck_assert(pq < (1ull << 63));
        ck_assert_ok(mtp_pq_factor(pq, &p2, &q2, &err));
        ck_assert_uint_eq(p2, p);
        ck_assert_uint_eq(q2, q);
    }
    uint64_t pq, p, q;
    ck_assert_ok(mtp_pq_generate(&env, 20, 43 - 20, &pq, &p, &q, &err));
    ck_assert(pq < (1ull << 43));
    ck_assert_ok(mtp_pq_generate(&env, 2, 3, &pq, &p, &q, &err));
    ck_assert_uint_eq(p, 3);
    ck_assert(q == 5 || q == 7);
    ck_assert_rc(mtp_pq_generate(&env, 32, 32, &pq, &p, &q, &err), MTP_ERR_ARG);
    ck_assert_rc(mtp_pq_generate(&env, 1, 30, &pq, &p, &q, &err), MTP_ERR_ARG);
    ck_assert_rc(mtp_pq_generate(&env, 33, 20, &pq, &p, &q, &err), MTP_ERR_ARG);
}
END_TEST

START_TEST(generator_is_deterministic_under_a_seeded_env)
{
    struct mtp_det_state s1, s2;
    struct mtp_env e1 = mtp_env_deterministic(&s1, "seed", 4, 0), e2 = mtp_env_deterministic(&s2, "seed", 4, 0);
    uint64_t a[3], b[3];
    ck_assert_ok(mtp_pq_generate(&e1, 31, 31, &a[0], &a[1], &a[2], NULL));
    ck_assert_ok(mtp_pq_generate(&e2, 31, 31, &b[0], &b[1], &b[2], NULL));
    ck_assert_mem_eq(a, b, sizeof a);
    /* No randomness left: the failure is reported, not hidden. */
    struct mtp_script_state ss;
    struct mtp_env empty = mtp_env_scripted(&ss, NULL, 0, 0);
    struct mtp_error err;
    mtp_error_clear(&err);
    ck_assert_rc(mtp_pq_generate(&empty, 31, 31, &a[0], &a[1], &a[2], &err), MTP_ERR_LIMIT);
}
END_TEST

START_TEST(minimal_big_endian_encoding)
{
    uint8_t b[8];
    ck_assert_uint_eq(mtp_pq_to_be(0x494C553B, b), 4);
    ck_assert_hex_eq(b, 4, "494c553b");
    ck_assert_uint_eq(mtp_pq_to_be(0x17ED48941A08F981ull, b), 8);
    ck_assert_hex_eq(b, 8, "17ed48941a08f981");
    ck_assert_uint_eq(mtp_pq_to_be(0, b), 1);
    ck_assert_hex_eq(b, 1, "00");
    ck_assert_uint_eq(mtp_pq_to_be(0x100, b), 2);
    ck_assert_hex_eq(b, 2, "0100");
}
END_TEST

static Suite *pq_suite(void)
{
    Suite *s = suite_create("pq");
    TCase *t = tcase_create("pq");
    tcase_add_test(t, miller_rabin_is_exact_on_hard_cases);
    tcase_add_test(t, worked_examples);
    tcase_add_test(t, large_and_unbalanced_semiprimes);
    tcase_add_test(t, every_rejection_has_its_code);
    tcase_add_test(t, big_endian_input);
    tcase_add_test(t, generator_draws_two_distinct_primes_of_the_asked_sizes);
    tcase_add_test(t, generator_is_deterministic_under_a_seeded_env);
    tcase_add_test(t, minimal_big_endian_encoding);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(pq_suite)
