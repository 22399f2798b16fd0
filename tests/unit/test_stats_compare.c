/*
 * Unit tests of the two-sample statistics in harness/stats.c used by compare,
 * gate and the decomposition: MAD, bootstrap CIs, permutation test.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "core/stats.h"

Test(stats_compare, mad_by_hand)
{
	double x[] = {1, 2, 3, 4, 100};
	cr_assert_float_eq(stats_mad(x, 5), 1, 1e-12); /* |x-3| = 2,1,0,1,97 -> 1 */
	cr_assert(isnan(stats_mad(x, 0)));
}

Test(stats_compare, permutation_identical_samples_p_is_one)
{
	double a[] = {10, 11, 12, 13, 14}, b[] = {10, 11, 12, 13, 14};
	double p;
	bool exact;
	cr_assert_eq(stats_permutation_test(a, 5, b, 5, STATS_PERM_ITERS, 0, &p, &exact), 0);
	cr_assert(exact);
	cr_assert_float_eq(p, 1.0, 1e-12);
}

Test(stats_compare, permutation_shifted_is_significant)
{
	double a[] = {100, 101, 99, 100.5, 99.5, 100.2}, b[] = {110, 111, 109, 110.5, 109.5, 110.2};
	double p;
	bool exact;
	cr_assert_eq(stats_permutation_test(a, 6, b, 6, STATS_PERM_ITERS, 0, &p, &exact), 0);
	cr_assert(exact);
	/* only the observed split and its mirror are as extreme: 2 / C(12,6) */
	cr_assert_float_eq(p, 2.0 / 924, 1e-12);
	cr_assert(p < 0.01);
	cr_assert_float_eq(stats_permutation_min_p(6, 6), 2.0 / 924, 1e-12);
	/* n = 3 per side can never reach 0.01 */
	cr_assert(stats_permutation_min_p(3, 3) > 0.01);
}

Test(stats_compare, permutation_monte_carlo_large_samples)
{
	double a[40], b[40];
	uint64_t rng = 42;
	for (int i = 0; i < 40; i++) {
		a[i] = 100 + stats_normal(&rng);
		b[i] = 100 + stats_normal(&rng);
	}
	double p, p2;
	bool exact;
	cr_assert_eq(stats_permutation_test(a, 40, b, 40, 2000, 7, &p, &exact), 0);
	cr_assert_not(exact);
	cr_assert(p > 0.01, "same distribution: p = %g", p);
	stats_permutation_test(a, 40, b, 40, 2000, 7, &p2, &exact);
	cr_assert_eq(p, p2, "fixed seed: reproducible");
	for (int i = 0; i < 40; i++)
		b[i] += 3;
	stats_permutation_test(a, 40, b, 40, 2000, 7, &p, &exact);
	cr_assert(p < 0.01, "shifted by 3 sigma: p = %g", p);
	cr_assert_eq(stats_permutation_test(a, 0, b, 40, 10, 7, &p, &exact), -22);
}

Test(stats_compare, bootstrap_ratio_brackets_true_ratio)
{
	double a[] = {100, 102, 98, 101, 99, 100}, b[] = {120, 122, 118, 121, 119, 120};
	struct stats_ratio r;
	cr_assert_eq(stats_bootstrap_ratio(a, 6, b, 6, 2000, 0, &r), 0);
	cr_assert_float_eq(r.value, 1.2, 1e-12);
	cr_assert(r.ci_lo <= 1.2 && r.ci_hi >= 1.2);
	cr_assert(r.ci_lo > 1.1 && r.ci_hi < 1.3);
	double z[] = {0, 0};
	cr_assert_eq(stats_bootstrap_ratio(z, 2, b, 6, 100, 0, &r), -22);
}

/* Coverage sanity: over many normal samples of n = 30, the bootstrap CI of the
 * median contains the true median most of the time (nominal 95%; percentile
 * bootstrap of a median undercovers a little at small n). */
Test(stats_compare, bootstrap_median_ci_coverage)
{
	uint64_t rng = 12345;
	int covered = 0, trials = 200;
	for (int t = 0; t < trials; t++) {
		double x[30], lo, hi;
		for (int i = 0; i < 30; i++)
			x[i] = 50 + 5 * stats_normal(&rng);
		cr_assert_eq(stats_bootstrap_median_ci(x, 30, 500, (uint64_t)t + 1, &lo, &hi), 0);
		covered += lo <= 50 && 50 <= hi;
	}
	cr_assert(covered >= trials * 0.88 && covered <= trials * 0.995, "coverage %d/%d", covered,
		  trials);
}

Test(stats_compare, normal_deviates_have_unit_variance)
{
	uint64_t rng = 99;
	double s = 0, ss = 0;
	for (int i = 0; i < 20000; i++) {
		double z = stats_normal(&rng);
		s += z, ss += z * z;
	}
	cr_assert(fabs(s / 20000) < 0.03);
	cr_assert(fabs(ss / 20000 - 1) < 0.05);
}
