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

double stats_median_ci_level(size_t n, size_t k)
{
	if (n < 2 || k < 1 || k > n / 2)
		return 0.0;
	return 1.0 - 2.0 * binom_half_cdf(n, k - 1);
}

size_t stats_median_ci_min_n(double nominal)
{
	size_t n = 2;
	while (n < 1000 && stats_median_ci_level(n, 1) < nominal)
		n++;
	return n;
}

/* The narrowest [s[k-1], s[n-k]] whose coverage is >= nominal, else [min, max]. */
static void median_ci_sorted(const double *s, size_t n, double nominal, struct stats_interval *out)
{
	size_t best = 1;
	for (size_t k = 2; k <= n / 2; k++) {
		if (stats_median_ci_level(n, k) < nominal)
			break;
		best = k;
	}
	out->lo = s[best - 1];
	out->hi = s[n - best];
	out->level = stats_median_ci_level(n, best);
	out->underpowered = out->level < nominal;
}

int stats_median_ci(const double *x, size_t n, double nominal, struct stats_interval *out)
{
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return -EINVAL;
	double *s = sorted_copy(x, n);
	if (!s)
		return -ENOMEM;
	median_ci_sorted(s, n, nominal, out);
	free(s);
	return 0;
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
	struct stats_interval ci;
	median_ci_sorted(s, n, STATS_CI_NOMINAL, &ci);
	out->ci_lo = ci.lo;
	out->ci_hi = ci.hi;
	out->ci_level = ci.level;
	out->underpowered = ci.underpowered;
	free(s);
	return 0;
}

double stats_time_ratio(double bare, double vm, bool lower_is_better)
{
	return lower_is_better ? vm / bare : bare / vm;
}

double stats_overhead_pct(double bare, double vm, bool lower_is_better)
{
	return (stats_time_ratio(bare, vm, lower_is_better) - 1.0) * 100.0;
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

/* The median of the per-pair time ratios and its order-statistic interval:
 * the paired estimator (docs/METHOD.md). A pair's bare and VM runs share a
 * round, so the ratio cancels what the round's load did to both. */
int stats_overhead_paired(const double *bare, const double *vm, size_t n, bool lower_is_better,
			  struct stats_overhead *out)
{
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return -EINVAL;
	double *r = malloc(n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r[i] = stats_time_ratio(bare[i], vm[i], lower_is_better);
		if (!isfinite(r[i])) {
			free(r);
			return -EDOM;
		}
	}
	qsort(r, n, sizeof(*r), cmp_double);
	struct stats_interval ci;
	median_ci_sorted(r, n, STATS_CI_NOMINAL, &ci);
	out->value = (median_of_sorted(r, n) - 1.0) * 100.0;
	out->ci_lo = (ci.lo - 1.0) * 100.0;
	out->ci_hi = (ci.hi - 1.0) * 100.0;
	out->ci_level = ci.level;
	out->underpowered = ci.underpowered;
	out->npairs = n;
	free(r);
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
	if (na == 0 || nb == 0)
		return 1.0;
	double c = binom(na + nb, na), p = (na == nb ? 2.0 : 1.0) / c;
	return p < 1.0 ? p : 1.0;
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

/* Acklam's rational approximation of the inverse normal CDF */
double stats_normal_quantile(double p)
{
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
				   -2.759285104469687e+02, 1.383577518672690e+02,
				   -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
				   -1.556989798598866e+02, 6.680131188771972e+01,
				   -1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
				   -2.400758277161838e+00, -2.549732539343734e+00,
				   4.374664141464968e+00,  2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
				   2.445134137142996e+00, 3.754408661907416e+00};
	if (!(p > 0 && p < 1))
		return p == 0 ? -INFINITY : p == 1 ? INFINITY : NAN;
	double q, r;
	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		       ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	if (p > 1 - 0.02425) {
		q = sqrt(-2 * log(1 - p));
		return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		       ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	q = p - 0.5;
	r = q * q;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
	       (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* ---- Mann-Whitney law and the interval of a ratio ---- */

/* Exact law of U for sizes (m, n): pmf[u], u = 0..m n. The largest of the
 * m + n values belongs to the first sample with probability m / (m + n) and
 * then exceeds all n others: p(u; i, j) = (i p(u - j; i-1, j) + j p(u; i, j-1))
 * / (i + j). One row of i is kept for every j. NULL when out of memory. */
static double *mw_pmf(size_t m, size_t n)
{
	double **prev = calloc(n + 1, sizeof(*prev)), **cur = calloc(n + 1, sizeof(*cur));
	double *res = NULL;
	if (!prev || !cur)
		goto out;
	for (size_t j = 0; j <= n; j++) { /* i = 0: U = 0 */
		prev[j] = calloc(1, sizeof(double));
		if (!prev[j])
			goto out;
		prev[j][0] = 1;
	}
	for (size_t i = 1; i <= m; i++) {
		for (size_t j = 0; j <= n; j++) {
			size_t len = i * j + 1;
			cur[j] = calloc(len, sizeof(double));
			if (!cur[j])
				goto out;
			if (j == 0) {
				cur[j][0] = 1;
				continue;
			}
			double wa = (double)i / (double)(i + j), wb = (double)j / (double)(i + j);
			for (size_t u = 0; u < len; u++) {
				double v = 0;
				if (u >= j && u - j <= (i - 1) * j)
					v += wa * prev[j][u - j];
				if (u <= i * (j - 1))
					v += wb * cur[j - 1][u];
				cur[j][u] = v;
			}
		}
		for (size_t j = 0; j <= n; j++) {
			free(prev[j]);
			prev[j] = cur[j];
			cur[j] = NULL;
		}
	}
	res = prev[n];
	prev[n] = NULL;
out:
	for (size_t j = 0; prev && j <= n; j++)
		free(prev[j]);
	for (size_t j = 0; cur && j <= n; j++)
		free(cur[j]);
	free(prev);
	free(cur);
	return res;
}

/* The law of the last sizes asked for: compare and gate ask for the same
 * sizes row after row. Per thread, so no caller has to lock. */
static _Thread_local struct {
	size_t m, n;
	double *pmf;
} mw_cache;

static const double *mw_pmf_cached(size_t m, size_t n)
{
	if (!mw_cache.pmf || mw_cache.m != m || mw_cache.n != n) {
		double *p = mw_pmf(m, n);
		if (!p)
			return NULL;
		free(mw_cache.pmf);
		mw_cache.pmf = p;
		mw_cache.m = m;
		mw_cache.n = n;
	}
	return mw_cache.pmf;
}

static double normal_cdf(double z)
{
	return 0.5 * erfc(-z / M_SQRT2);
}

double stats_mw_cdf(size_t na, size_t nb, double u)
{
	double mn = (double)na * (double)nb;
	if (na == 0 || nb == 0)
		return u >= 0 ? 1.0 : 0.0;
	if (u < 0)
		return 0.0;
	if (u >= mn)
		return 1.0;
	if (mn > STATS_MW_EXACT_MAX) {
		double sd = sqrt(mn * (double)(na + nb + 1) / 12.0);
		return normal_cdf((floor(u) + 0.5 - mn / 2) / sd);
	}
	const double *p = mw_pmf_cached(na, nb);
	double s = 0;
	if (!p)
		return NAN;
	for (size_t k = 0; k <= (size_t)u; k++)
		s += p[k];
	return s < 1.0 ? s : 1.0;
}

int stats_mw_test(const double *a, size_t na, const double *b, size_t nb, double *p, bool *exact)
{
	if (na == 0 || nb == 0)
		return -EINVAL;
	double *sa = sorted_copy(a, na), *sb = sorted_copy(b, nb), u = 0;
	if (!sa || !sb) {
		free(sa), free(sb);
		return -ENOMEM;
	}
	/* for each b_j: #{a_i < b_j} + #{a_i == b_j} / 2, both ends move up with j */
	for (size_t j = 0, lt = 0, le = 0; j < nb; j++) {
		while (lt < na && sa[lt] < sb[j])
			lt++;
		if (le < lt)
			le = lt;
		while (le < na && sa[le] <= sb[j])
			le++;
		u += (double)lt + (double)(le - lt) / 2;
	}
	free(sa), free(sb);
	double mn = (double)na * (double)nb;
	double lo = stats_mw_cdf(na, nb, floor(u)), hi = stats_mw_cdf(na, nb, floor(mn - u));
	*p = fmin(1.0, 2 * fmin(lo, hi));
	*exact = mn <= STATS_MW_EXACT_MAX;
	return isfinite(*p) ? 0 : -ENOMEM;
}

/* The pairwise differences D = lb[j] - la[i] of two sorted samples are never
 * stored (na nb of them): the k-th smallest (1-based) is found by bisection on
 * the value, counting #{D <= t} in O(na + nb). */
struct diffs {
	const double *la, *lb;
	size_t na, nb;
};

/* Every comparison is on the difference as computed, lb[j] - la[i] (never on
 * a rearranged form), so the count and the candidates agree to the last bit.
 * For fixed j it falls as i grows; for fixed i it grows with j. */
static size_t count_le(const struct diffs *d, double t)
{
	size_t c = 0, i = d->na; /* for each j: #{i: lb[j] - la[i] <= t} = na - i */
	for (size_t j = d->nb; j-- > 0;) {
		while (i > 0 && d->lb[j] - d->la[i - 1] <= t)
			i--;
		c += d->na - i;
	}
	return c;
}

/* Smallest difference strictly greater than t (+INF when none). */
static double next_above(const struct diffs *d, double t)
{
	double best = INFINITY;
	size_t i = d->na; /* for each j: the largest i with lb[j] - la[i] > t is i - 1 */
	for (size_t j = d->nb; j-- > 0;) {
		while (i > 0 && !(d->lb[j] - d->la[i - 1] > t))
			i--;
		if (i > 0 && d->lb[j] - d->la[i - 1] < best)
			best = d->lb[j] - d->la[i - 1];
	}
	return best;
}

static double kth_diff(const struct diffs *d, size_t k)
{
	double lo = d->lb[0] - d->la[d->na - 1], hi = d->lb[d->nb - 1] - d->la[0];
	if (k <= 1)
		return lo;
	if (k >= d->na * d->nb)
		return hi;
	lo = nextafter(lo, -INFINITY); /* invariant: count_le(lo) < k <= count_le(hi) */
	for (int it = 0; it < 200; it++) {
		double cand = next_above(d, lo);
		if (count_le(d, cand) >= k)
			return cand;
		double mid = lo + (hi - lo) / 2;
		if (mid <= lo || mid >= hi)
			break;
		if (count_le(d, mid) >= k)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

static int sorted_logs(const double *x, size_t n, double **out)
{
	double *l = malloc(n * sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!(x[i] > 0) || !isfinite(x[i])) {
			free(l);
			return -EDOM;
		}
		l[i] = log(x[i]);
	}
	qsort(l, n, sizeof(*l), cmp_double);
	*out = l;
	return 0;
}

/* The largest k (1 <= k <= mn/2) with 1 - 2 P(U <= k-1) >= nominal, or 1;
 * *level = the coverage of the k returned. */
static size_t mw_interval_k(size_t na, size_t nb, double nominal, double *level)
{
	size_t mn = na * nb, best = 1;
	if (mn > STATS_MW_EXACT_MAX) { /* normal law: k <= mn/2 + 1/2 - z sd */
		double sd = sqrt((double)mn * (double)(na + nb + 1) / 12.0);
		double z = stats_normal_quantile(1 - (1 - nominal) / 2);
		double k = floor((double)mn / 2 + 0.5 - z * sd);
		best = k >= 1 ? (size_t)k : 1;
		*level = 1.0 - 2.0 * stats_mw_cdf(na, nb, (double)(best - 1));
		return best;
	}
	const double *p = mw_pmf_cached(na, nb);
	double cdf = 0;
	if (!p) {
		*level = NAN;
		return 1;
	}
	for (size_t k = 1; k <= (mn + 1) / 2; k++) {
		cdf += p[k - 1]; /* P(U <= k-1) */
		double lev = 1.0 - 2.0 * cdf;
		if (k > 1 && lev < nominal)
			break;
		best = k;
		*level = lev;
	}
	return best;
}

int stats_ratio_shift(const double *a, size_t na, const double *b, size_t nb, double nominal,
		      struct stats_shift *out)
{
	memset(out, 0, sizeof(*out));
	if (na == 0 || nb == 0)
		return -EINVAL;
	double *la = NULL, *lb = NULL;
	int rc = sorted_logs(a, na, &la);
	if (!rc)
		rc = sorted_logs(b, nb, &lb);
	if (rc) {
		free(la);
		return rc;
	}
	struct diffs d = {la, lb, na, nb};
	size_t mn = na * nb;
	double med = mn % 2 ? kth_diff(&d, mn / 2 + 1)
			    : (kth_diff(&d, mn / 2) + kth_diff(&d, mn / 2 + 1)) / 2;
	size_t k = mw_interval_k(na, nb, nominal, &out->level);
	out->ratio = exp(med);
	out->lo = exp(kth_diff(&d, k));
	out->hi = exp(kth_diff(&d, mn - k + 1));
	out->underpowered = !(out->level >= nominal);
	free(la);
	free(lb);
	return 0;
}

/* ---- how many runs ---- */

static size_t centred_logs(const double *x, size_t n, double *out)
{
	for (size_t i = 0; i < n; i++) {
		if (!(x[i] > 0) || !isfinite(x[i]))
			return SIZE_MAX;
		out[i] = log(x[i]);
	}
	double m = stats_median(out, n);
	for (size_t i = 0; i < n; i++)
		out[i] -= m;
	return n;
}

double stats_log_spread(const double *a, size_t na, const double *b, size_t nb)
{
	if (na + nb < 2)
		return NAN;
	double *l = malloc((na + nb) * sizeof(*l));
	if (!l)
		return NAN;
	double s = NAN;
	if ((na == 0 || centred_logs(a, na, l) != SIZE_MAX) &&
	    (nb == 0 || centred_logs(b, nb, l + na) != SIZE_MAX)) {
		/* deviations from 0 (each sample already centred on its median) */
		double *dev = l;
		for (size_t i = 0; i < na + nb; i++)
			dev[i] = fabs(dev[i]);
		s = 1.4826 * stats_median(dev, na + nb);
	}
	free(l);
	return s;
}

size_t stats_reps_for_halfwidth(double sigma, double halfwidth_frac, double nominal)
{
	size_t min = stats_median_ci_min_n(nominal);
	if (!isfinite(sigma) || !(halfwidth_frac > 0))
		return min;
	double z = stats_normal_quantile(1 - (1 - nominal) / 2);
	double n = pow(z * 1.2533 * sigma / log1p(halfwidth_frac), 2);
	if (!(n < 1e7))
		return (size_t)1e7;
	return (size_t)ceil(n) > min ? (size_t)ceil(n) : min;
}

size_t stats_reps_for_shift(double sigma, double change_frac, double alpha, double power)
{
	size_t min = 2;
	while (min < 1000 && 2.0 / binom(2 * min, min) > alpha)
		min++; /* the [min, max] interval of equal samples reaches 1 - alpha */
	if (!isfinite(sigma) || !(change_frac > 0))
		return min;
	double z = stats_normal_quantile(1 - alpha / 2) + stats_normal_quantile(power);
	double n = 2 * z * z * sigma * sigma / pow(log1p(change_frac), 2) * M_PI / 3;
	if (!(n < 1e7))
		return (size_t)1e7;
	return (size_t)ceil(n) > min ? (size_t)ceil(n) : min;
}
