/*
 * Unit tests of the two-sample statistics in core/stats.c used by compare and
 * gate: MAD, permutation test, Mann-Whitney law and the interval of a ratio.
 */
#include <criterion/criterion.h>
#include <errno.h>
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

Test(stats_compare, unequal_sizes_min_p_is_one_over_c)
{
	/* 4 vs 5: only the observed split of fully separated samples is as extreme
	 * (its mirror has another |mean difference|): 1 / C(9, 4) */
	double a[] = {1, 2, 3, 4}, b[] = {101, 102, 103, 104, 105}, p;
	bool exact;
	cr_assert_eq(stats_permutation_test(a, 4, b, 5, STATS_PERM_ITERS, 0, &p, &exact), 0);
	cr_assert_float_eq(p, 1.0 / 126, 1e-12);
	cr_assert_float_eq(stats_permutation_min_p(4, 5), 1.0 / 126, 1e-12);
	cr_assert(p >= stats_permutation_min_p(4, 5) - 1e-15, "no p below the minimum");
}

Test(stats_compare, ratio_shift_brackets_true_ratio)
{
	double a[] = {100, 102, 98, 101, 99, 100}, b[] = {120, 122.4, 117.6, 121.2, 118.8, 120};
	struct stats_shift r;
	cr_assert_eq(stats_ratio_shift(a, 6, b, 6, 0.99, &r), 0);
	cr_assert_float_eq(r.ratio, 1.2, 0.01);
	cr_assert(r.lo <= 1.2 && r.hi >= 1.2, "[%g, %g]", r.lo, r.hi);
	cr_assert(r.lo > 1.1 && r.hi < 1.3);
	cr_assert(r.level >= 0.99 && !r.underpowered);
	cr_assert_eq(stats_ratio_shift(a, 3, b, 3, 0.99, &r), 0);
	cr_assert(r.underpowered, "3 + 3 reaches 90%% at most");
	cr_assert_float_eq(r.level, 0.9, 1e-12);
	double z[] = {0, 1};
	cr_assert_eq(stats_ratio_shift(z, 2, b, 6, 0.95, &r), -EDOM, "a value <= 0 has no log");
	cr_assert_eq(stats_ratio_shift(a, 0, b, 6, 0.95, &r), -EINVAL);
}

Test(stats_compare, ratio_shift_large_samples_use_the_normal_law)
{
	static double a[80], b[80];
	uint64_t rng = 5;
	for (int i = 0; i < 80; i++) {
		a[i] = 100 * exp(0.02 * stats_normal(&rng));
		b[i] = 105 * exp(0.02 * stats_normal(&rng));
	}
	struct stats_shift r;
	cr_assert_eq(stats_ratio_shift(a, 80, b, 80, 0.95, &r), 0); /* 6400 cells > exact max */
	cr_assert(r.lo < 1.05 && 1.05 < r.hi, "[%g, %g]", r.lo, r.hi);
	cr_assert(r.level >= 0.949 && r.level < 0.96, "level %g", r.level);
	cr_assert(r.hi - r.lo < 0.02);
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
