/* The timing test's statistics: medians, the Mann-Whitney U test against
 * values worked out by hand (and the normal approximation the textbooks give),
 * and the bootstrap interval of the median difference. */
#include <math.h>

#include "check/check_stats.h"
#include "mtp_test.h"

START_TEST(median_odd_even_unsorted)
{
    const double odd[] = {5, 1, 3}, even[] = {4, 1, 3, 2};
    ck_assert_double_eq(stats_median(odd, 3), 3);
    ck_assert_double_eq(stats_median(even, 4), 2.5);
    ck_assert_double_eq(odd[0], 5); /* not sorted in place */
}
END_TEST

START_TEST(mann_whitney_separated)
{
    /* Every a below every b: U = 0; mean 12.5, variance 25 * 11 / 12; with the continuity
     * correction z = -12 / sqrt(22.9167) = -2.5067, two-sided p = 0.01219. */
    const double a[] = {1, 2, 3, 4, 5}, b[] = {6, 7, 8, 9, 10};
    struct stats_mwu m;
    ck_assert_int_eq(stats_mann_whitney(a, 5, b, 5, &m), 0);
    ck_assert_double_eq(m.u, 0);
    ck_assert_double_eq_tol(m.z, -2.50672, 1e-4);
    ck_assert_double_eq_tol(m.p, 0.012186, 1e-5);
    /* The other way round: U = 25, the same p. */
    ck_assert_int_eq(stats_mann_whitney(b, 5, a, 5, &m), 0);
    ck_assert_double_eq(m.u, 25);
    ck_assert_double_eq_tol(m.p, 0.012186, 1e-5);
}
END_TEST

START_TEST(mann_whitney_ties_and_degenerate)
{
    /* Ranks of 1,1,1,2,2,2 are 2,2,2,5,5,5: R_a = 2+2+5 = 9, U = 3; ties 2 * (27 - 3) = 48,
     * variance 9/12 * (7 - 48/30) = 4.05, z = (3 - 4.5 + 0.5) / sqrt(4.05). */
    const double a[] = {1, 1, 2}, b[] = {1, 2, 2};
    struct stats_mwu m;
    ck_assert_int_eq(stats_mann_whitney(a, 3, b, 3, &m), 0);
    ck_assert_double_eq(m.u, 3);
    ck_assert_double_eq_tol(m.z, -1.0 / sqrt(4.05), 1e-9);
    ck_assert_double_eq_tol(m.p, 0.61926, 1e-4);
    /* Same samples: no evidence at all. */
    ck_assert_int_eq(stats_mann_whitney(a, 3, a, 3, &m), 0);
    ck_assert_double_eq(m.p, 1);
    /* Nothing to rank. */
    const double same[] = {7, 7, 7};
    ck_assert_int_eq(stats_mann_whitney(same, 3, same, 3, &m), -1);
    ck_assert_int_eq(stats_mann_whitney(a, 0, b, 3, &m), -1);
}
END_TEST

START_TEST(bootstrap_shift)
{
    double a[100], b[100];
    for (int i = 0; i < 100; i++) {
        a[i] = i;
        b[i] = i + 50;
    }
    struct stats_ci ci, again;
    ck_assert_int_eq(stats_bootstrap_median_diff(a, 100, b, 100, 0.999, 2000, 42, &ci), 0);
    ck_assert_double_eq(ci.diff, 50);
    ck_assert(ci.lo > 0 && ci.lo <= 50 && ci.hi >= 50);
    /* The same seed, the same interval. */
    ck_assert_int_eq(stats_bootstrap_median_diff(a, 100, b, 100, 0.999, 2000, 42, &again), 0);
    ck_assert_double_eq(ci.lo, again.lo);
    ck_assert_double_eq(ci.hi, again.hi);
    /* No shift: the interval holds zero. */
    ck_assert_int_eq(stats_bootstrap_median_diff(a, 100, a, 100, 0.999, 2000, 7, &ci), 0);
    ck_assert(ci.lo <= 0 && ci.hi >= 0);
    ck_assert_int_eq(stats_bootstrap_median_diff(a, 100, b, 100, 1.5, 2000, 7, &ci), -1);
    ck_assert_int_eq(stats_bootstrap_median_diff(a, 100, b, 100, 0.99, 5, 7, &ci), -1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("check_stats");
    TCase *t = tcase_create("stats");
    tcase_add_test(t, median_odd_even_unsorted);
    tcase_add_test(t, mann_whitney_separated);
    tcase_add_test(t, mann_whitney_ties_and_degenerate);
    tcase_add_test(t, bootstrap_shift);
    suite_add_tcase(s, t);
    return s;
}

MTP_TEST_MAIN(suite)
