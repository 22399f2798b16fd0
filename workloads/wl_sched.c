/*
 * Statistics for the scheduling workloads (see wl_sched.h): heapsort,
 * nearest-rank percentiles, log2 histogram, distribution records.
 */
#include "workloads/wl_sched.h"

static void sift(uint64_t *a, size_t root, size_t n)
{
	for (;;) {
		size_t c = 2 * root + 1;
		if (c >= n)
			return;
		if (c + 1 < n && a[c + 1] > a[c])
			c++;
		if (a[root] >= a[c])
			return;
		uint64_t t = a[root];
		a[root] = a[c];
		a[c] = t;
		root = c;
	}
}

void wl_sort_u64(uint64_t *a, size_t n)
{
	if (n < 2)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift(a, i, n);
	for (size_t end = n - 1; end > 0; end--) {
		uint64_t t = a[0];
		a[0] = a[end];
		a[end] = t;
		sift(a, 0, end);
	}
}

uint64_t wl_pct_sorted(const uint64_t *a, size_t n, unsigned permille)
{
	if (!n)
		return 0;
	if (permille > 1000)
		permille = 1000;
	/* nearest rank: ceil(p * n), 1-based */
	size_t rank = (size_t)(((uint64_t)permille * n + 999) / 1000);
	if (rank < 1)
		rank = 1;
	return a[rank - 1];
}

unsigned wl_log2_bucket(uint64_t v)
{
	unsigned b = 0;
	while (v > 1 && b < WL_HIST_BUCKETS - 1) {
		v >>= 1;
		b++;
	}
	return b;
}

void wl_dist_compute(uint64_t *a, size_t n, struct wl_dist *d)
{
	for (unsigned b = 0; b < WL_HIST_BUCKETS; b++)
		d->hist[b] = 0;
	d->n = n;
	wl_sort_u64(a, n);
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		sum += (double)a[i];
		d->hist[wl_log2_bucket(a[i])]++;
	}
	d->mean = n ? sum / (double)n : 0;
	d->min = n ? a[0] : 0;
	d->max = n ? a[n - 1] : 0;
	d->p50 = wl_pct_sorted(a, n, 500);
	d->p90 = wl_pct_sorted(a, n, 900);
	d->p99 = wl_pct_sorted(a, n, 990);
	d->p999 = wl_pct_sorted(a, n, 999);
}

void wl_cat2(char *out, size_t cap, const char *a, const char *b)
{
	size_t i = 0;
	for (; *a && i + 1 < cap; a++)
		out[i++] = *a;
	for (; *b && i + 1 < cap; b++)
		out[i++] = *b;
	if (cap)
		out[i] = 0;
}

void wl_dist_emit(struct wl_env *env, const char *name, const char *unit, const struct wl_dist *d)
{
	char m[64];
	static const char *const sfx[] = {"_p50", "_p99", "_p999", "_max", "_mean"};
	double v[] = {(double)d->p50, (double)d->p99, (double)d->p999, (double)d->max, d->mean};
	for (unsigned i = 0; i < 5; i++) {
		wl_cat2(m, sizeof(m), name, sfx[i]);
		env->emit(env, m, unit, true, v[i], 0, 0, 0);
	}
	wl_cat2(m, sizeof(m), name, "_samples");
	env->emit(env, m, "count", false, (double)d->n, 0, 0, 0);
	wl_cat2(m, sizeof(m), name, "_hist");
	for (unsigned b = 0; b < WL_HIST_BUCKETS; b++)
		if (d->hist[b])
			env->emit(env, m, "count", false, (double)d->hist[b], "bucket_lo", unit,
				  b ? (double)(1ull << b) : 0.0);
}

uint64_t wl_spin_work(uint64_t iters, uint64_t x)
{
	for (uint64_t i = 0; i < iters; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}
