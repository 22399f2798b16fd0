/*
 * Descriptive statistics, the overhead estimator and the two-sample
 * comparison every virttax output uses (docs/METHOD.md "Statistics").
 *
 * Why these methods: every interval virttax prints must say what it is. The
 * intervals here are distribution-free with an exact coverage for continuous
 * data at every n (order statistics of a median; the Mann-Whitney interval of
 * a ratio between two samples), so each carries its real level, and when too
 * few runs exist for the nominal level the interval says so (`underpowered`)
 * instead of pretending. They are checked against scipy (tests/unit/
 * stats_reference.py) and their coverage by simulation (tests/unit/
 * test_stats_coverage.c). Everything is deterministic: the same samples always
 * give the same results.json.
 */
#ifndef VIRTTAX_CORE_STATS_H
#define VIRTTAX_CORE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nominal level of the intervals of a measurement (medians, overheads). */
#define STATS_CI_NOMINAL 0.95
#define STATS_BOOTSTRAP_SEED 0x5eed5eed1234abcdull /* seed of stats_rand users */
#define STATS_OUTLIER_Z 3.5 /* modified z-score threshold (Iglewicz & Hoaglin) */

struct stats_summary {
	size_t n;
	double median, min, max, mean, stddev; /* stddev: sample (n-1); 0 when n < 2 */
	/* distribution-free CI of the median from order statistics */
	double ci_lo, ci_hi;
	double ci_level;   /* its exact coverage: >= STATS_CI_NOMINAL, or less when n < 6 */
	bool underpowered; /* ci_level < STATS_CI_NOMINAL: too few samples for the nominal level */
};

/* 0, or -EINVAL when n == 0 */
int stats_summarize(const double *x, size_t n, struct stats_summary *out);
double stats_median(const double *x, size_t n); /* NAN when n == 0 */

/* Order-statistic interval of the median: [x(k), x(n-k+1)] with the largest k
 * whose exact coverage 1 - 2 P(Binom(n, 1/2) <= k-1) is >= nominal; when no k
 * reaches it, [min, max] with its own coverage 1 - 2^(1-n) and underpowered. */
struct stats_interval {
	double lo, hi;
	double level;	   /* exact coverage for continuous data */
	bool underpowered; /* level < nominal */
};
int stats_median_ci(const double *x, size_t n, double nominal, struct stats_interval *out);
/* Exact coverage of [x(k), x(n-k+1)] (1 <= k <= n/2); 0 when n < 2. */
double stats_median_ci_level(size_t n, size_t k);
/* Smallest n whose order-statistic interval reaches `nominal` (6 for 0.95). */
size_t stats_median_ci_min_n(double nominal);

/* ---- the overhead estimator (summary, decomposition, compare, gate) ---- */

/* Time-equivalent ratio of one pair: how much longer the same work takes in
 * the VM. Lower is better: vm / bare; higher is better: bare / vm. */
double stats_time_ratio(double bare, double vm, bool lower_is_better);
/* (stats_time_ratio - 1) * 100 */
double stats_overhead_pct(double bare, double vm, bool lower_is_better);

struct stats_overhead {
	double value;	     /* percent: median over pairs of the time ratio, minus 1 */
	double ci_lo, ci_hi; /* percent: order-statistic interval of that median */
	double ci_level;     /* its exact coverage */
	bool underpowered;   /* ci_level < STATS_CI_NOMINAL (fewer than 6 pairs) */
	size_t npairs;
};
/* bare[i] and vm[i] form pair i. 0; -EINVAL when n == 0; -EDOM when a ratio
 * is undefined (a zero or non-finite denominator or value). */
int stats_overhead_paired(const double *bare, const double *vm, size_t n, bool lower_is_better,
			  struct stats_overhead *out);

/* flags[i] = true when x[i] is an outlier (modified z-score on the MAD).
 * Never drops anything. Returns the number flagged. */
size_t stats_outliers(const double *x, size_t n, bool *flags);

/* Deterministic PRNG (xorshift64*). */
uint64_t stats_rand(uint64_t *state);
/* A standard normal deviate (Box-Muller over stats_rand). */
double stats_normal(uint64_t *state);
/* Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
double stats_normal_quantile(double p);

/* ---- two independent samples (compare, gate) ---- */

#define STATS_PERM_ITERS 10000
#define STATS_PERM_EXACT_MAX 20000 /* enumerate every split when there are at most this many */
#define STATS_MW_EXACT_MAX 2500	   /* na * nb up to which the Mann-Whitney law is exact */

/* Median absolute deviation (unscaled): median |x - median(x)|. NAN when n == 0. */
double stats_mad(const double *x, size_t n);

/* Two-sided permutation test of "a and b come from the same distribution",
 * statistic |mean(b) - mean(a)|. Exact (every split enumerated) when
 * C(na+nb, na) <= STATS_PERM_EXACT_MAX, else `iters` random splits with a
 * fixed seed and p = (hits + 1) / (iters + 1). *exact says which.
 * 0, or -EINVAL when a sample is empty. */
int stats_permutation_test(const double *a, size_t na, const double *b, size_t nb, size_t iters,
			   uint64_t seed, double *p, bool *exact);

/* Smallest p the exact test can return with these sizes: 2 / C(na+nb, na)
 * when na == nb (the most extreme split and its mirror give the same
 * statistic), 1 / C(na+nb, na) otherwise (capped at 1). */
double stats_permutation_min_p(size_t na, size_t nb);

/* P(U <= u) for the Mann-Whitney statistic U of samples of na and nb under
 * "same distribution" (continuous data): exact when na * nb <=
 * STATS_MW_EXACT_MAX, else the normal approximation with continuity correction. */
double stats_mw_cdf(size_t na, size_t nb, double u);
/* Two-sided Mann-Whitney test of "a and b come from the same distribution":
 * U = #{b_j > a_i} + #{b_j == a_i} / 2, p = min(1, 2 min(P(U' <= U),
 * P(U' >= U))) by stats_mw_cdf (exact when na * nb <= STATS_MW_EXACT_MAX).
 * The test whose inversion is stats_ratio_shift's interval, so the two agree:
 * the interval at level 1 - alpha leaves out 1 when p < alpha. *exact says
 * which law. 0, or -EINVAL when a sample is empty. */
int stats_mw_test(const double *a, size_t na, const double *b, size_t nb, double *p, bool *exact);

/* Ratio B/A of two independent samples of positive values: the Hodges-Lehmann
 * estimate exp(median over all (i, j) of log b[j] - log a[i]) with the
 * distribution-free interval [D(k), D(na nb - k + 1)] of those differences,
 * k the largest with exact coverage 1 - 2 P(U <= k-1) >= nominal (the
 * interval the Mann-Whitney test inverts; exact for a shift of log values).
 * When no k reaches nominal: [min, max] with its coverage, underpowered. */
struct stats_shift {
	double ratio, lo, hi;
	double level;
	bool underpowered;
};
/* 0; -EINVAL when a sample is empty; -EDOM when a value is <= 0 or not finite. */
int stats_ratio_shift(const double *a, size_t na, const double *b, size_t nb, double nominal,
		      struct stats_shift *out);

/* ---- how many runs (--reps auto, the gate's recommendation) ---- */

/* Robust spread of log values: 1.4826 * MAD of log(x), each sample centred on
 * its own median (pass nb = 0 for one sample). NAN when a value is <= 0 or
 * fewer than 2 values. */
double stats_log_spread(const double *a, size_t na, const double *b, size_t nb);
/* Pairs so that the order-statistic interval of a median of values with log
 * spread `sigma` has a half-width of about `halfwidth_frac` (0.01 = 1%) at
 * level `nominal`: ((z * 1.2533 * sigma) / halfwidth)^2 (normal theory,
 * asymptotic efficiency of the median), at least stats_median_ci_min_n. */
size_t stats_reps_for_halfwidth(double sigma, double halfwidth_frac, double nominal);
/* Runs per side so that a two-sided test at `alpha` detects a change of
 * `change_frac` with power `power` between samples with log spread `sigma`:
 * 2 (z(1-alpha/2) + z(power))^2 sigma^2 / log(1+change)^2 * pi/3 (the
 * Mann-Whitney's efficiency), at least the n whose interval reaches 1 - alpha. */
size_t stats_reps_for_shift(double sigma, double change_frac, double alpha, double power);

#endif
