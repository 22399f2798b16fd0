/*
 * Descriptive statistics and overhead estimates for paired runs.
 *
 * Why: every number virttax prints must carry its spread, and an overhead is
 * only meaningful with a confidence interval. Everything here is
 * deterministic (fixed-seed bootstrap) so the same samples always give the
 * same results.json.
 */
#ifndef VIRTTAX_CORE_STATS_H
#define VIRTTAX_CORE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_BOOTSTRAP_ITERS 2000
#define STATS_BOOTSTRAP_SEED 0x5eed5eed1234abcdull
#define STATS_OUTLIER_Z 3.5 /* modified z-score threshold (Iglewicz & Hoaglin) */

struct stats_summary {
	size_t n;
	double median, min, max, mean, stddev; /* stddev: sample (n-1); 0 when n < 2 */
	/* distribution-free CI of the median from order statistics */
	double ci_lo, ci_hi;
	double ci_level; /* actual coverage (>= 0.95, or less when n is too small) */
};

/* 0, or -EINVAL when n == 0 */
int stats_summarize(const double *x, size_t n, struct stats_summary *out);
double stats_median(const double *x, size_t n); /* NAN when n == 0 */

/* Overhead in percent of vm vs bare medians.
 * lower is better:  (vm - bare) / bare * 100
 * higher is better: (bare / vm - 1) * 100   (time-equivalent) */
double stats_overhead_pct(double bare, double vm, bool lower_is_better);

struct stats_overhead {
	double value;	     /* from the medians of all pairs */
	double ci_lo, ci_hi; /* bootstrap percentile 95% CI over pairs */
	size_t npairs;
};
/* bare[i] and vm[i] form pair i. 0, or -EINVAL when n == 0. */
int stats_overhead_paired(const double *bare, const double *vm, size_t n, bool lower_is_better,
			  struct stats_overhead *out);

/* flags[i] = true when x[i] is an outlier (modified z-score on the MAD).
 * Never drops anything. Returns the number flagged. */
size_t stats_outliers(const double *x, size_t n, bool *flags);

/* Deterministic PRNG (xorshift64*) used by the bootstrap. */
uint64_t stats_rand(uint64_t *state);

/* ---- comparisons between two independent samples (compare, gate, decompose) ---- */

#define STATS_PERM_ITERS 10000
#define STATS_PERM_EXACT_MAX 20000 /* enumerate every split when there are at most this many */

/* Median absolute deviation (unscaled): median |x - median(x)|. NAN when n == 0. */
double stats_mad(const double *x, size_t n);

/* Percentile bootstrap 95% CI of the median of x (iters resamples, fixed seed).
 * 0, or -EINVAL when n == 0. */
int stats_bootstrap_median_ci(const double *x, size_t n, size_t iters, uint64_t seed, double *lo,
			      double *hi);

/* Ratio of medians median(b) / median(a), with a percentile bootstrap 95% CI
 * resampling a and b independently. 0, or -EINVAL when a sample is empty or
 * median(a) is 0. */
struct stats_ratio {
	double value, ci_lo, ci_hi;
};
int stats_bootstrap_ratio(const double *a, size_t na, const double *b, size_t nb, size_t iters,
			  uint64_t seed, struct stats_ratio *out);

/* Two-sided permutation test of "a and b come from the same distribution",
 * statistic |mean(b) - mean(a)|. Exact (every split enumerated) when
 * C(na+nb, na) <= STATS_PERM_EXACT_MAX, else `iters` random splits with a
 * fixed seed and p = (hits + 1) / (iters + 1). *exact says which.
 * 0, or -EINVAL when a sample is empty. */
int stats_permutation_test(const double *a, size_t na, const double *b, size_t nb, size_t iters,
			   uint64_t seed, double *p, bool *exact);

/* Smallest two-sided p an exact permutation test can reach with these sizes:
 * 2 / C(na+nb, na) (capped at 1). Used to say "too few samples to ever be significant". */
double stats_permutation_min_p(size_t na, size_t nb);

/* A standard normal deviate (Box-Muller over stats_rand). */
double stats_normal(uint64_t *state);

#endif
