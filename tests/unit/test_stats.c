/*
 * Unit tests of harness/stats.c against values computed by hand.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "core/stats.h"

#define EPS 1e-9

Test(stats, summary_odd_and_even)
{
	struct stats_summary s;
	double odd[] = {5, 1, 3, 2, 4};
	cr_assert_eq(stats_summarize(odd, 5, &s), 0);
	cr_assert_eq(s.n, 5);
	cr_assert_float_eq(s.median, 3, EPS);
	cr_assert_float_eq(s.min, 1, EPS);
	cr_assert_float_eq(s.max, 5, EPS);
	cr_assert_float_eq(s.mean, 3, EPS);
	cr_assert_float_eq(s.stddev, sqrt(2.5), EPS); /* sample stddev of 1..5 */
	double even[] = {4, 1, 3, 2};
	cr_assert_eq(stats_summarize(even, 4, &s), 0);
	cr_assert_float_eq(s.median, 2.5, EPS);
	cr_assert_eq(stats_summarize(even, 0, &s), -22);
}

Test(stats, median_ci_order_statistics)
{
	/* n = 10: [x(2), x(9)] covers 1 - 2*11/1024 = 97.85%; [x(3), x(8)] only 89% */
	double x[] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
	struct stats_summary s;
	stats_summarize(x, 10, &s);
	cr_assert_float_eq(s.ci_lo, 2, EPS);
	cr_assert_float_eq(s.ci_hi, 9, EPS);
	cr_assert_float_eq(s.ci_level, 1 - 2 * 11.0 / 1024, 1e-12);
	/* n = 3: too few for 95%: [min, max] with its real coverage 75% */
	double y[] = {1, 2, 3};
	stats_summarize(y, 3, &s);
	cr_assert_float_eq(s.ci_lo, 1, EPS);
	cr_assert_float_eq(s.ci_hi, 3, EPS);
	cr_assert_float_eq(s.ci_level, 0.75, EPS);
}

Test(stats, overhead_directions)
{
	cr_assert_float_eq(stats_overhead_pct(100, 110, true), 10, EPS);
	cr_assert_float_eq(stats_overhead_pct(100, 90, true), -10, EPS);
	/* throughput 10 GB/s bare, 8 GB/s VM: takes 25% longer */
	cr_assert_float_eq(stats_overhead_pct(10, 8, false), 25, EPS);
}

Test(stats, paired_bootstrap_is_reproducible_and_brackets)
{
	double bare[] = {100, 101, 99, 100.5, 100.2, 99.8, 100.1, 100.3};
	double vm[] = {110, 111, 109, 110.4, 110.1, 109.9, 110.2, 110.3};
	struct stats_overhead a, b;
	cr_assert_eq(stats_overhead_paired(bare, vm, 8, true, &a), 0);
	cr_assert_eq(stats_overhead_paired(bare, vm, 8, true, &b), 0);
	cr_assert_eq(a.ci_lo, b.ci_lo, "fixed seed: identical CI");
	cr_assert_eq(a.ci_hi, b.ci_hi);
	cr_assert_eq(a.npairs, 8);
	cr_assert_float_eq(a.value, (110.15 - 100.15) / 100.15 * 100, 1e-9);
	cr_assert(a.ci_lo <= a.value && a.value <= a.ci_hi, "[%g, %g] vs %g", a.ci_lo, a.ci_hi,
		  a.value);
	cr_assert(a.ci_lo > 8 && a.ci_hi < 12, "CI [%g, %g] should be near 10%%", a.ci_lo, a.ci_hi);
	cr_assert_eq(stats_overhead_paired(bare, vm, 0, true, &a), -22);
}

Test(stats, identical_samples_give_zero_width_ci)
{
	double b[] = {5, 5, 5}, v[] = {6, 6, 6};
	struct stats_overhead o;
	stats_overhead_paired(b, v, 3, true, &o);
	cr_assert_float_eq(o.value, 20, EPS);
	cr_assert_float_eq(o.ci_lo, 20, EPS);
	cr_assert_float_eq(o.ci_hi, 20, EPS);
}

Test(stats, mad_outliers_flagged)
{
	double x[] = {10, 10.1, 9.9, 10.05, 50, 9.95};
	bool f[6];
	cr_assert_eq(stats_outliers(x, 6, f), 1);
	cr_assert(f[4]);
	cr_assert_not(f[0]);
	double y[] = {1, 1, 1, 1, 2}; /* MAD = 0: mean-absolute-deviation fallback */
	bool g[5];
	cr_assert_eq(stats_outliers(y, 5, g), 1);
	cr_assert(g[4]);
	double z[] = {1, 100};
	bool h[2];
	cr_assert_eq(stats_outliers(z, 2, h), 0, "two points: nothing to compare against");
}
