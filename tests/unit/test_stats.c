/*
 * Unit tests of core/stats.c against values computed by hand (scipy: test_stats_reference.c,
 * coverage: test_stats_coverage.c).
 */
#include <criterion/criterion.h>
#include <errno.h>
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

Test(stats, overhead_is_the_median_of_per_pair_ratios)
{
	/* ratios 1.10, 1.20, 1.05, 1.30, 1.00, 1.15, 1.25, 1.12: median (1.12 + 1.15) / 2 */
	double bare[] = {100, 100, 200, 100, 300, 100, 80, 100};
	double vm[] = {110, 120, 210, 130, 300, 115, 100, 112};
	struct stats_overhead o;
	cr_assert_eq(stats_overhead_paired(bare, vm, 8, true, &o), 0);
	cr_assert_eq(o.npairs, 8);
	cr_assert_float_eq(o.value, 13.5, 1e-9);
	/* n = 8: [r(2), r(7)] = [1.05, 1.25] covers 1 - 2 * 9/256 = 92.97% < 95%, so
	 * [r(1), r(8)] = [1.00, 1.30] at 99.22% */
	cr_assert_float_eq(o.ci_lo, 0.0, 1e-9);
	cr_assert_float_eq(o.ci_hi, 30.0, 1e-9);
	cr_assert_float_eq(o.ci_level, 1 - 2.0 / 256, 1e-12);
	cr_assert_not(o.underpowered);
	/* not the ratio of the medians: 117.5 / 100 = +17.5% */
	cr_assert(fabs(o.value - 17.5) > 1);
	cr_assert_eq(stats_overhead_paired(bare, vm, 0, true, &o), -22);
	double zero[] = {0, 100};
	cr_assert_eq(stats_overhead_paired(zero, vm, 2, true, &o), -EDOM, "bare 0: no ratio");
}

Test(stats, overhead_higher_is_better_is_time_equivalent)
{
	/* throughput 10 -> 8: the same work takes 25% longer */
	double bare[] = {10, 10, 10}, vm[] = {8, 8, 8};
	struct stats_overhead o;
	cr_assert_eq(stats_overhead_paired(bare, vm, 3, false, &o), 0);
	cr_assert_float_eq(o.value, 25, 1e-9);
}

Test(stats, small_n_says_its_real_level)
{
	double b[] = {5, 5, 5, 5, 5}, v[] = {6, 7, 5.5, 6.5, 6.2};
	struct stats_overhead o;
	for (size_t n = 1; n <= 5; n++) {
		cr_assert_eq(stats_overhead_paired(b, v, n, true, &o), 0);
		cr_assert(o.underpowered, "n = %zu pairs cannot reach 95%%", n);
		cr_assert_float_eq(o.ci_level, n < 2 ? 0 : 1 - pow(0.5, (double)n - 1), 1e-12);
	}
	cr_assert_float_eq(o.ci_lo, 10, 1e-9); /* n = 5: [min, max] at 93.75% */
	cr_assert_float_eq(o.ci_hi, 40, 1e-9);
	cr_assert_eq(stats_median_ci_min_n(0.95), 6);
	cr_assert_eq(stats_median_ci_min_n(0.99), 8);
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

Test(stats, reps_rules)
{
	/* 1% half-width at 95% for a 2% log spread: (1.96 * 1.2533 * 0.02 / log 1.01)^2 = 24.7 */
	cr_assert_eq(stats_reps_for_halfwidth(0.02, 0.01, 0.95), 25);
	cr_assert_eq(stats_reps_for_halfwidth(0.0001, 0.01, 0.95), 6, "at least the 95%% n");
	cr_assert_eq(stats_reps_for_halfwidth(NAN, 0.01, 0.95), 6);
	/* detect 5% at alpha 0.01 with power 0.95, 3% spread:
	 * 2 * (2.5758 + 1.6449)^2 * 0.03^2 / log(1.05)^2 * pi/3 = 14.1 */
	cr_assert_eq(stats_reps_for_shift(0.03, 0.05, 0.01, 0.95), 15);
	cr_assert_eq(stats_reps_for_shift(0.001, 0.05, 0.01, 0.95), 5, "the 99%% interval needs 5");
	double a[] = {100, 102, 98, 101, 99}, b[] = {200, 204, 196, 202, 198};
	double s1 = stats_log_spread(a, 5, NULL, 0), s2 = stats_log_spread(a, 5, b, 5);
	cr_assert_float_eq(s1, 1.4826 * log(100.0 / 99.0), 1e-9); /* |log(99/100)| */
	cr_assert_float_eq(s2, s1, 1e-9, "each sample centred on its own median");
	cr_assert(isnan(stats_log_spread(a, 1, NULL, 0)));
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
