/*
 * Descriptive statistics and overhead estimates for paired runs.
 *
 * Why: every number virttax prints must carry its spread, and an overhead is
 * only meaningful with a confidence interval. Everything here is
 * deterministic (fixed-seed bootstrap) so the same samples always give the
 * same results.json.
 */
#ifndef VIRTTAX_HARNESS_STATS_H
#define VIRTTAX_HARNESS_STATS_H

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

#endif
