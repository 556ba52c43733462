/* Two-sample statistics for the timing side-channel test (tlsfuzzer's method):
 * the Mann-Whitney U test (Wilcoxon rank-sum) and a bootstrap confidence
 * interval of the difference of the medians.  Pure functions over arrays;
 * the bootstrap's randomness is a seeded generator so a run can be replayed. */
#ifndef MTP_CHECK_STATS_H
#define MTP_CHECK_STATS_H

#include <stddef.h>
#include <stdint.h>

/* The median of v[0..n) (n > 0); v is not modified. */
double stats_median(const double *v, size_t n);

struct stats_mwu {
    double u;        /* U of the first sample */
    double z;        /* the normal approximation, tie- and continuity-corrected */
    double p;        /* two-sided p-value */
};
/* Mann-Whitney U of a[0..na) against b[0..nb) (both > 0).  Returns -1 when
 * there is nothing to test (a sample empty, or every value equal). */
int stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb, struct stats_mwu *out);

struct stats_ci {
    double diff;     /* median(b) - median(a) */
    double lo, hi;   /* the interval at the given confidence */
};
/* Percentile bootstrap of median(b) - median(a): iterations resamples of
 * each sample with replacement, from a xorshift generator seeded with seed. */
int stats_bootstrap_median_diff(const double *a, size_t na, const double *b, size_t nb, double confidence,
                                unsigned iterations, uint64_t seed, struct stats_ci *out);

#endif
