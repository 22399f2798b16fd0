/*
 * Statistics for virttax results (see stats.h for why they look like this).
 */
#include "core/stats.h"

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

/* ---- comparisons between two independent samples ---- */

double stats_mad(const double *x, size_t n)
{
	if (n == 0)
		return NAN;
	double med = stats_median(x, n);
	double *dev = malloc(n * sizeof(*dev));
	if (!dev)
		return NAN;
	for (size_t i = 0; i < n; i++)
		dev[i] = fabs(x[i] - med);
	double mad = stats_median(dev, n);
	free(dev);
	return mad;
}

static double resampled_median(const double *x, size_t n, uint64_t *rng, double *buf)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = x[stats_rand(rng) % n];
	qsort(buf, n, sizeof(*buf), cmp_double);
	return median_of_sorted(buf, n);
}

int stats_bootstrap_median_ci(const double *x, size_t n, size_t iters, uint64_t seed, double *lo,
			      double *hi)
{
	if (n == 0 || iters == 0)
		return -EINVAL;
	double *buf = malloc(n * sizeof(*buf)), *reps = malloc(iters * sizeof(*reps));
	if (!buf || !reps) {
		free(buf), free(reps);
		return -ENOMEM;
	}
	uint64_t rng = seed ? seed : STATS_BOOTSTRAP_SEED;
	for (size_t b = 0; b < iters; b++)
		reps[b] = resampled_median(x, n, &rng, buf);
	qsort(reps, iters, sizeof(*reps), cmp_double);
	*lo = percentile_sorted(reps, iters, 0.025);
	*hi = percentile_sorted(reps, iters, 0.975);
	free(buf), free(reps);
	return 0;
}

int stats_bootstrap_ratio(const double *a, size_t na, const double *b, size_t nb, size_t iters,
			  uint64_t seed, struct stats_ratio *out)
{
	memset(out, 0, sizeof(*out));
	if (na == 0 || nb == 0 || iters == 0)
		return -EINVAL;
	double ma = stats_median(a, na);
	if (ma == 0 || isnan(ma))
		return -EINVAL;
	out->value = stats_median(b, nb) / ma;
	double *buf = malloc((na > nb ? na : nb) * sizeof(*buf));
	double *reps = malloc(iters * sizeof(*reps));
	if (!buf || !reps) {
		free(buf), free(reps);
		return -ENOMEM;
	}
	uint64_t rng = seed ? seed : STATS_BOOTSTRAP_SEED;
	size_t k = 0;
	for (size_t i = 0; i < iters; i++) {
		double ra = resampled_median(a, na, &rng, buf);
		double rb = resampled_median(b, nb, &rng, buf);
		if (ra != 0)
			reps[k++] = rb / ra;
	}
	if (k == 0) {
		free(buf), free(reps);
		return -EINVAL;
	}
	qsort(reps, k, sizeof(*reps), cmp_double);
	out->ci_lo = percentile_sorted(reps, k, 0.025);
	out->ci_hi = percentile_sorted(reps, k, 0.975);
	free(buf), free(reps);
	return 0;
}

/* C(n, k) as a double, saturating at a large value */
static double binom(size_t n, size_t k)
{
	double c = 1;
	if (k > n - k)
		k = n - k;
	for (size_t i = 1; i <= k; i++) {
		c = c * (double)(n - k + i) / (double)i;
		if (c > 1e18)
			return 1e18;
	}
	return c;
}

double stats_permutation_min_p(size_t na, size_t nb)
{
	double c = binom(na + nb, na);
	return c > 2 ? 2.0 / c : 1.0;
}

/* Sum of the first na of the pooled values after a split; the statistic is
 * derived from it: mean(b) - mean(a) = (total - sa)/nb - sa/na. */
static double split_stat(double sa, double total, size_t na, size_t nb)
{
	return fabs((total - sa) / (double)nb - sa / (double)na);
}

/* Recursive enumeration of every na-subset of pool[from..]: counts splits
 * whose statistic reaches `obs` (with a relative tolerance for rounding). */
struct perm_enum {
	const double *pool;
	size_t n, na, nb;
	double total, obs;
	double hits, count;
};

static void enumerate(struct perm_enum *e, size_t from, size_t left, double sa)
{
	if (left == 0) {
		e->count++;
		e->hits += split_stat(sa, e->total, e->na, e->nb) >= e->obs * (1 - 1e-12);
		return;
	}
	for (size_t i = from; i + left <= e->n; i++)
		enumerate(e, i + 1, left - 1, sa + e->pool[i]);
}

static void shuffle_prefix(double *v, size_t n, size_t k, uint64_t *rng)
{
	for (size_t i = 0; i < k; i++) {
		size_t j = i + (size_t)(stats_rand(rng) % (n - i));
		double t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

int stats_permutation_test(const double *a, size_t na, const double *b, size_t nb, size_t iters,
			   uint64_t seed, double *p, bool *exact)
{
	if (na == 0 || nb == 0)
		return -EINVAL;
	size_t n = na + nb;
	double *pool = malloc(n * sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	double total = 0, sa = 0;
	for (size_t i = 0; i < na; i++)
		pool[i] = a[i], sa += a[i];
	for (size_t i = 0; i < nb; i++)
		pool[na + i] = b[i];
	for (size_t i = 0; i < n; i++)
		total += pool[i];
	double obs = split_stat(sa, total, na, nb);
	*exact = binom(n, na) <= STATS_PERM_EXACT_MAX;
	if (*exact) {
		struct perm_enum e = {pool, n, na, nb, total, obs, 0, 0};
		enumerate(&e, 0, na, 0);
		*p = e.hits / e.count;
	} else {
		uint64_t rng = seed ? seed : STATS_BOOTSTRAP_SEED;
		size_t hits = 0;
		for (size_t it = 0; it < iters; it++) {
			shuffle_prefix(pool, n, na, &rng);
			double s = 0;
			for (size_t i = 0; i < na; i++)
				s += pool[i];
			hits += split_stat(s, total, na, nb) >= obs * (1 - 1e-12);
		}
		*p = (double)(hits + 1) / (double)(iters + 1);
	}
	free(pool);
	return 0;
}

double stats_normal(uint64_t *state)
{
	/* uniform in (0, 1]: 53 random bits, never 0 */
	double u1 = ((double)(stats_rand(state) >> 11) + 1.0) / 9007199254740992.0;
	double u2 = (double)(stats_rand(state) >> 11) / 9007199254740992.0;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
