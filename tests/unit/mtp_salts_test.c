#include "mtp/salts.h"
#include "mtp_test.h"

#define T0 1700000000000LL
#define H 3600000LL

START_TEST(add_keeps_order_and_replaces_same_salt)
{
    struct mtp_salts s;
    mtp_salts_clear(&s);
    mtp_salts_add(&s, 0xb, T0 + H, T0 + 2 * H);
    mtp_salts_add(&s, 0xa, T0, T0 + H);
    mtp_salts_add(&s, 0xc, T0 + 2 * H, T0 + 3 * H);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_uint_eq(s.e[0].salt, 0xa);
    ck_assert_uint_eq(s.e[1].salt, 0xb);
    ck_assert_uint_eq(s.e[2].salt, 0xc);
    mtp_salts_add(&s, 0xa, T0 + 5 * H, T0 + 6 * H);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_uint_eq(s.e[2].salt, 0xa);
}
END_TEST

START_TEST(full_drops_oldest)
{
    struct mtp_salts s;
    mtp_salts_clear(&s);
    for (uint64_t i = 0; i < MTP_SALTS_MAX + 3; i++)
        mtp_salts_add(&s, 100 + i, T0 + (int64_t)i * H, T0 + (int64_t)(i + 1) * H);
    ck_assert_uint_eq(s.n, MTP_SALTS_MAX);
    ck_assert_uint_eq(s.e[0].salt, 103);
}
END_TEST

START_TEST(at_and_accepts_with_grace)
{
    struct mtp_salts s;
    mtp_salts_clear(&s);
    mtp_salts_add(&s, 0xa, T0, T0 + H);
    mtp_salts_add(&s, 0xb, T0 + H, T0 + 2 * H);
    ck_assert_ptr_null(mtp_salts_at(&s, T0 - 1));
    ck_assert_uint_eq(mtp_salts_at(&s, T0)->salt, 0xa);
    ck_assert_uint_eq(mtp_salts_at(&s, T0 + H - 1)->salt, 0xa);
    ck_assert_uint_eq(mtp_salts_at(&s, T0 + H)->salt, 0xb);
    ck_assert_ptr_null(mtp_salts_at(&s, T0 + 2 * H));
    /* The old salt stays acceptable for the grace period after it expires. */
    ck_assert(mtp_salts_accepts(&s, 0xa, T0 + H + 1799999, 1800000));
    ck_assert(!mtp_salts_accepts(&s, 0xa, T0 + H + 1800000, 1800000));
    /* A future salt is not accepted early. */
    ck_assert(!mtp_salts_accepts(&s, 0xb, T0, 1800000));
    ck_assert(!mtp_salts_accepts(&s, 0xc, T0, 1800000));
    mtp_salts_expire(&s, T0 + H + 1800000, 1800000);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_uint_eq(s.e[0].salt, 0xb);
}
END_TEST

START_TEST(extend_continues_schedule)
{
    struct mtp_det_state st;
    struct mtp_env env = mtp_env_deterministic(&st, "salts", 5, T0);
    struct mtp_salts s;
    mtp_salts_clear(&s);
    mtp_salts_add(&s, 0xa, T0, T0 + H);
    ck_assert_ok(mtp_salts_extend(&s, T0, H, 3, &env));
    ck_assert_uint_eq(s.n, 3);
    ck_assert_int_eq(s.e[1].valid_since_ms, T0 + H);
    ck_assert_int_eq(s.e[2].valid_since_ms, T0 + 2 * H);
    ck_assert_int_eq(s.e[2].valid_until_ms, T0 + 3 * H);
    ck_assert_uint_ne(s.e[1].salt, s.e[2].salt);
    /* Already covered: nothing new; 10 ms later a fourth period is needed to cover three. */
    ck_assert_ok(mtp_salts_extend(&s, T0 + 10, H, 2, &env));
    ck_assert_uint_eq(s.n, 3);
    ck_assert_ok(mtp_salts_extend(&s, T0 + 10, H, 3, &env));
    ck_assert_uint_eq(s.n, 4);
    ck_assert_rc(mtp_salts_extend(&s, T0, H, 0, &env), MTP_ERR_ARG);
    ck_assert_rc(mtp_salts_extend(&s, T0, 0, 1, &env), MTP_ERR_ARG);
    /* An empty schedule starts now. */
    mtp_salts_clear(&s);
    ck_assert_ok(mtp_salts_extend(&s, T0 + 5, H, 1, &env));
    ck_assert_int_eq(s.e[0].valid_since_ms, T0 + 5);
}
END_TEST

static Suite *salts_suite(void)
{
    Suite *s = suite_create("mtp_salts");
    TCase *tc = tcase_create("salts");
    tcase_add_test(tc, add_keeps_order_and_replaces_same_salt);
    tcase_add_test(tc, full_drops_oldest);
    tcase_add_test(tc, at_and_accepts_with_grace);
    tcase_add_test(tc, extend_continues_schedule);
    suite_add_tcase(s, tc);
    return s;
}

MTP_TEST_MAIN(salts_suite)
