#include <string.h>

#include "mtp/env.h"
#include "mtp_test.h"

START_TEST(deterministic_is_reproducible_and_chunking_independent)
{
    struct mtp_det_state a, b;
    struct mtp_env ea = mtp_env_deterministic(&a, "seed", 4, 1700000000000);
    struct mtp_env eb = mtp_env_deterministic(&b, "seed", 4, 1700000000000);
    uint8_t x[100], y[100];
    ck_assert_ok(mtp_env_rand(&ea, x, sizeof x));
    for (size_t i = 0; i < sizeof y; i += 7)
        ck_assert_ok(mtp_env_rand(&eb, y + i, i + 7 <= sizeof y ? 7 : sizeof y - i));
    ck_assert_mem_eq(x, y, sizeof x);
    /* First block is SHA256(SHA256("seed") || 0 as 8 LE bytes): pin it so the stream never changes silently. */
    ck_assert_hex_eq(x, 4, "cc36962c");
    ck_assert_int_eq(mtp_env_now_ms(&ea), 1700000000000);
    a.now_ms += 5;
    ck_assert_int_eq(mtp_env_now_ms(&ea), 1700000000005);
    struct mtp_det_state c;
    struct mtp_env ec = mtp_env_deterministic(&c, "other", 5, 0);
    ck_assert_ok(mtp_env_rand(&ec, y, sizeof y));
    ck_assert_int_ne(memcmp(x, y, sizeof x), 0);
}
END_TEST

START_TEST(scripted_hands_out_bytes_then_fails)
{
    static const uint8_t bytes[] = {1, 2, 3, 4, 5};
    struct mtp_script_state st;
    struct mtp_env e = mtp_env_scripted(&st, bytes, sizeof bytes, 42);
    uint8_t out[4];
    ck_assert_ok(mtp_env_rand(&e, out, 3));
    ck_assert_hex_eq(out, 3, "010203");
    ck_assert_rc(mtp_env_rand(&e, out, 3), MTP_ERR_LIMIT);
    ck_assert_ok(mtp_env_rand(&e, out, 2));
    ck_assert_hex_eq(out, 2, "0405");
    ck_assert_int_eq(mtp_env_now_ms(&e), 42);
}
END_TEST

START_TEST(system_env_works)
{
    struct mtp_env e = mtp_env_system();
    uint8_t a[32] = {0}, b[32] = {0};
    ck_assert_ok(mtp_env_rand(&e, a, sizeof a));
    ck_assert_ok(mtp_env_rand(&e, b, sizeof b));
    ck_assert_int_ne(memcmp(a, b, sizeof a), 0);
    ck_assert_int_gt(mtp_env_now_ms(&e), 1600000000000);
}
END_TEST

static Suite *env_suite(void)
{
    Suite *s = suite_create("env");
    TCase *tc = tcase_create("env");
    tcase_add_test(tc, deterministic_is_reproducible_and_chunking_independent);
    tcase_add_test(tc, scripted_hands_out_bytes_then_fails);
    tcase_add_test(tc, system_env_works);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(env_suite)
