/* Mann-Whitney U and the bootstrap of the median difference (check_stats.h). */
#include "check/check_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median_sorted(const double *s, size_t n)
{
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

double stats_median(const double *v, size_t n)
{
    double *s = malloc(n * sizeof *s);
    if (s == NULL)
        return NAN;
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double m = median_sorted(s, n);
    free(s);
    return m;
}

struct ranked {
    double v;
    int group;
};

static int cmp_ranked(const void *x, const void *y)
{
    return cmp_double(&((const struct ranked *)x)->v, &((const struct ranked *)y)->v);
}

int stats_mann_whitney(const double *a, size_t na, const double *b, size_t nb, struct stats_mwu *out)
{
    if (na == 0 || nb == 0)
        return -1;
    size_t n = na + nb;
    struct ranked *r = malloc(n * sizeof *r);
    if (r == NULL)
        return -1;
    for (size_t i = 0; i < na; i++)
        r[i] = (struct ranked){a[i], 0};
    for (size_t i = 0; i < nb; i++)
        r[na + i] = (struct ranked){b[i], 1};
    qsort(r, n, sizeof *r, cmp_ranked);
    /* Ranks 1..n, ties get the mean of their ranks; sum of t^3 - t for the variance. */
    double ra = 0, ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && r[j + 1].v == r[i].v)
            j++;
        double rank = (double)(i + j) / 2 + 1, t = (double)(j - i + 1);
        for (size_t k = i; k <= j; k++)
            if (r[k].group == 0)
                ra += rank;
        ties += t * t * t - t;
        i = j + 1;
    }
    free(r);
    double dna = (double)na, dnb = (double)nb, dn = (double)n;
    double u = ra - dna * (dna + 1) / 2;
    double mean = dna * dnb / 2;
    double var = dna * dnb / 12 * ((dn + 1) - ties / (dn * (dn - 1)));
    if (!(var > 0))
        return -1;
    double d = u - mean;
    double cc = d > 0 ? -0.5 : d < 0 ? 0.5 : 0; /* continuity correction */
    out->u = u;
    out->z = (d + cc) / sqrt(var);
    out->p = erfc(fabs(out->z) / sqrt(2.0));
    if (out->p > 1)
        out->p = 1;
    return 0;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static double resampled_median(const double *v, size_t n, double *tmp, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = v[xorshift(rng) % n];
    qsort(tmp, n, sizeof *tmp, cmp_double);
    return median_sorted(tmp, n);
}

int stats_bootstrap_median_diff(const double *a, size_t na, const double *b, size_t nb, double confidence,
                                unsigned iterations, uint64_t seed, struct stats_ci *out)
{
    if (na == 0 || nb == 0 || iterations < 10 || !(confidence > 0 && confidence < 1))
        return -1;
    double *tmp = malloc((na > nb ? na : nb) * sizeof *tmp);
    double *d = malloc(iterations * sizeof *d);
    if (tmp == NULL || d == NULL) {
        free(tmp);
        free(d);
        return -1;
    }
    uint64_t rng = seed ? seed : 0x9e3779b97f4a7c15ull;
    for (unsigned i = 0; i < iterations; i++)
        d[i] = resampled_median(b, nb, tmp, &rng) - resampled_median(a, na, tmp, &rng);
    qsort(d, iterations, sizeof *d, cmp_double);
    double tail = (1 - confidence) / 2;
    size_t lo = (size_t)floor(tail * (iterations - 1)), hi = (size_t)ceil((1 - tail) * (iterations - 1));
    out->lo = d[lo];
    out->hi = d[hi];
    out->diff = stats_median(b, nb) - stats_median(a, na);
    free(tmp);
    free(d);
    return 0;
}
