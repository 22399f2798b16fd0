/*
 * Statistics for virttax results (see stats.h for why they look like this).
 */
#include "harness/stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double *sorted_copy(const double *x, size_t n)
{
	double *s = malloc(n * sizeof(*s));
	if (!s)
		return NULL;
	memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return s;
}

static double median_of_sorted(const double *s, size_t n)
{
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
}

double stats_median(const double *x, size_t n)
{
	if (n == 0)
		return NAN;
	double *s = sorted_copy(x, n);
	if (!s)
		return NAN;
	double m = median_of_sorted(s, n);
	free(s);
	return m;
}

/* P(B <= k) for B ~ Binomial(n, 1/2) */
static double binom_half_cdf(size_t n, size_t k)
{
	double sum = 0, term = pow(0.5, (double)n); /* C(n,0) / 2^n */
	for (size_t i = 0; i <= k && i <= n; i++) {
		sum += term;
		term = term * (double)(n - i) / (double)(i + 1);
	}
	return sum;
}

/* Widest-first search for the narrowest [s[k-1], s[n-k]] with coverage >= 95%. */
static void median_ci(const double *s, size_t n, struct stats_summary *out)
{
	size_t best = 1;
	for (size_t k = 1; k <= n / 2; k++) {
		double coverage = 1.0 - 2.0 * binom_half_cdf(n, k - 1);
		if (coverage < 0.95)
			break;
		best = k;
	}
	out->ci_lo = s[best - 1];
	out->ci_hi = s[n - best];
	out->ci_level = n >= 2 ? 1.0 - 2.0 * binom_half_cdf(n, best - 1) : 0.0;
}

int stats_summarize(const double *x, size_t n, struct stats_summary *out)
{
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return -EINVAL;
	double *s = sorted_copy(x, n);
	if (!s)
		return -ENOMEM;
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += s[i];
	out->n = n;
	out->mean = sum / (double)n;
	out->min = s[0];
	out->max = s[n - 1];
	out->median = median_of_sorted(s, n);
	double ss = 0;
	for (size_t i = 0; i < n; i++)
		ss += (s[i] - out->mean) * (s[i] - out->mean);
	out->stddev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
	median_ci(s, n, out);
	free(s);
	return 0;
}

double stats_overhead_pct(double bare, double vm, bool lower_is_better)
{
	if (lower_is_better)
		return (vm - bare) / bare * 100.0;
	return (bare / vm - 1.0) * 100.0;
}

uint64_t stats_rand(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static double percentile_sorted(const double *s, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t lo = (size_t)floor(pos);
	size_t hi = lo + 1 < n ? lo + 1 : lo;
	return s[lo] + (s[hi] - s[lo]) * (pos - (double)lo);
}

/* One bootstrap replicate: resample pairs, overhead of the resampled medians. */
static double bootstrap_once(const double *bare, const double *vm, size_t n, bool lower,
			     uint64_t *rng, double *rb, double *rv)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = (size_t)(stats_rand(rng) % n);
		rb[i] = bare[j];
		rv[i] = vm[j];
	}
	qsort(rb, n, sizeof(*rb), cmp_double);
	qsort(rv, n, sizeof(*rv), cmp_double);
	return stats_overhead_pct(median_of_sorted(rb, n), median_of_sorted(rv, n), lower);
}

int stats_overhead_paired(const double *bare, const double *vm, size_t n, bool lower_is_better,
			  struct stats_overhead *out)
{
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return -EINVAL;
	out->npairs = n;
	out->value =
	    stats_overhead_pct(stats_median(bare, n), stats_median(vm, n), lower_is_better);
	double *rb = malloc(n * sizeof(double)), *rv = malloc(n * sizeof(double));
	double *reps = malloc(STATS_BOOTSTRAP_ITERS * sizeof(double));
	if (!rb || !rv || !reps) {
		free(rb), free(rv), free(reps);
		return -ENOMEM;
	}
	uint64_t rng = STATS_BOOTSTRAP_SEED;
	for (size_t b = 0; b < STATS_BOOTSTRAP_ITERS; b++)
		reps[b] = bootstrap_once(bare, vm, n, lower_is_better, &rng, rb, rv);
	qsort(reps, STATS_BOOTSTRAP_ITERS, sizeof(*reps), cmp_double);
	out->ci_lo = percentile_sorted(reps, STATS_BOOTSTRAP_ITERS, 0.025);
	out->ci_hi = percentile_sorted(reps, STATS_BOOTSTRAP_ITERS, 0.975);
	free(rb), free(rv), free(reps);
	return 0;
}

/* Scale of the data for the modified z-score: 1.4826 * MAD, or, when more
 * than half the samples are identical (MAD == 0), 1.2533 * mean absolute
 * deviation (Iglewicz & Hoaglin's fallback). */
static double robust_scale(const double *x, size_t n, double med)
{
	double *dev = malloc(n * sizeof(*dev));
	if (!dev)
		return 0;
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		dev[i] = fabs(x[i] - med);
		sum += dev[i];
	}
	double mad = stats_median(dev, n);
	free(dev);
	return mad > 0 ? 1.4826 * mad : 1.2533 * sum / (double)n;
}

size_t stats_outliers(const double *x, size_t n, bool *flags)
{
	size_t nflag = 0;
	for (size_t i = 0; i < n; i++)
		flags[i] = false;
	if (n < 3)
		return 0; /* two points cannot disagree with "the rest" */
	double med = stats_median(x, n);
	double scale = robust_scale(x, n, med);
	if (!(scale > 0))
		return 0;
	for (size_t i = 0; i < n; i++) {
		flags[i] = fabs(x[i] - med) / scale > STATS_OUTLIER_Z;
		nflag += flags[i];
	}
	return nflag;
}
