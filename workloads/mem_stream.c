/*
 * mem-stream: the four STREAM kernels (copy, scale, add, triad) over three
 * arrays of doubles, best of `ntimes`, in MB/s (10^6 bytes per second,
 * counted as STREAM does: copy/scale move 2 arrays, add/triad 3).
 *
 * Why: sustained memory bandwidth is limited by DRAM and by TLB misses on
 * sequential streams; a guest adds nested-paging walks and the backing page
 * size of guest memory, which the guest/host ratio of these four numbers
 * shows. The arrays are validated afterwards the way STREAM does it, so a
 * fast-but-wrong kernel fails the run instead of reporting a number.
 */
#include "virttax/workload.h"
#include "workloads/wl_errno.h"
#include "workloads/wl_kernels.h"
#include "workloads/wl_util.h"

#define STREAM_ALIGN (2u << 20)
#define STREAM_SCALAR 3.0
#define STREAM_NKERNELS 4

/* Keep GCC from turning the copy loop into a memcpy call: the agent's memcpy
 * and glibc's differ, and both sides must run the same instructions. */
#if defined(__GNUC__) && !defined(__clang__)
#define WL_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define WL_NO_LIBCALL
#endif

static const struct wl_param mem_stream_params[] = {
    {"size", "64M", "bytes per array (3 arrays of doubles), >= 4K"},
    {"ntimes", "10", "repetitions; the best of each kernel is reported"},
    {"max_ms", "30000", "time bound in ms; fewer repetitions (logged) past it"},
    {0, 0, 0},
};

WL_NO_LIBCALL void wl_stream_copy(double *restrict c, const double *restrict a, size_t n)
{
	for (size_t j = 0; j < n; j++)
		c[j] = a[j];
}

WL_NO_LIBCALL void wl_stream_scale(double *restrict b, const double *restrict c, double s, size_t n)
{
	for (size_t j = 0; j < n; j++)
		b[j] = s * c[j];
}

WL_NO_LIBCALL void wl_stream_add(double *restrict c, const double *restrict a,
				 const double *restrict b, size_t n)
{
	for (size_t j = 0; j < n; j++)
		c[j] = a[j] + b[j];
}

WL_NO_LIBCALL void wl_stream_triad(double *restrict a, const double *restrict b,
				   const double *restrict c, double s, size_t n)
{
	for (size_t j = 0; j < n; j++)
		a[j] = b[j] + s * c[j];
}

struct stream_arrays {
	double *a, *b, *c;
	size_t n;
};

static const char *const stream_names[STREAM_NKERNELS] = {"copy", "scale", "add", "triad"};
static const unsigned stream_arrays_moved[STREAM_NKERNELS] = {2, 2, 3, 3};

static void stream_init(struct stream_arrays *s)
{
	for (size_t j = 0; j < s->n; j++) {
		s->a[j] = 1.0;
		s->b[j] = 2.0;
		s->c[j] = 0.0;
	}
	for (size_t j = 0; j < s->n; j++)
		s->a[j] = 2.0 * s->a[j]; /* as STREAM: touches a once more */
}

static void stream_kernel(struct stream_arrays *s, int k)
{
	switch (k) {
	case 0:
		wl_stream_copy(s->c, s->a, s->n);
		break;
	case 1:
		wl_stream_scale(s->b, s->c, STREAM_SCALAR, s->n);
		break;
	case 2:
		wl_stream_add(s->c, s->a, s->b, s->n);
		break;
	default:
		wl_stream_triad(s->a, s->b, s->c, STREAM_SCALAR, s->n);
		break;
	}
}

/* One repetition; ticks[k] = TSC ticks of kernel k, each in its own timed
 * region labelled with the kernel's metric. */
static void stream_rep(struct wl_env *env, struct stream_arrays *s, uint64_t ticks[STREAM_NKERNELS])
{
	for (int k = 0; k < STREAM_NKERNELS; k++) {
		wl_region_begin(env, stream_names[k]);
		uint64_t t0 = wl_rdtsc();
		stream_kernel(s, k);
		uint64_t t1 = wl_rdtsc();
		wl_region_end(env, stream_names[k]);
		ticks[k] = t1 - t0;
	}
}

static bool near(double got, double want)
{
	double d = got - want;
	if (d < 0)
		d = -d;
	return d <= 1e-13 * (want < 0 ? -want : want);
}

/* STREAM's check: replay the recurrence on scalars, compare every element. */
static int stream_validate(const struct stream_arrays *s, uint64_t reps)
{
	double aj = 2.0, bj = 2.0, cj = 0.0;
	for (uint64_t r = 0; r < reps; r++) {
		cj = aj;
		bj = STREAM_SCALAR * cj;
		cj = aj + bj;
		aj = bj + STREAM_SCALAR * cj;
	}
	for (size_t j = 0; j < s->n; j++)
		if (!near(s->a[j], aj) || !near(s->b[j], bj) || !near(s->c[j], cj))
			return -WL_EIO;
	return 0;
}

static int stream_alloc(struct wl_env *env, struct stream_arrays *s, uint64_t size)
{
	s->n = (size_t)(size / sizeof(double));
	s->a = env->alloc(env, (size_t)size, STREAM_ALIGN);
	s->b = s->a ? env->alloc(env, (size_t)size, STREAM_ALIGN) : 0;
	s->c = s->b ? env->alloc(env, (size_t)size, STREAM_ALIGN) : 0;
	if (s->c)
		return 0;
	wl_log_u64(env, "mem-stream: cannot allocate 3 arrays of ", size, " B");
	return -WL_ENOMEM;
}

static void stream_emit(struct wl_env *env, const struct stream_arrays *s,
			const uint64_t best[STREAM_NKERNELS])
{
	for (int k = 0; k < STREAM_NKERNELS; k++) {
		double bytes = (double)stream_arrays_moved[k] * (double)s->n * sizeof(double);
		double ns = wl_ticks_to_ns(env, best[k]);
		env->emit(env, stream_names[k], "MB/s", false, bytes / 1e6 / (ns / 1e9), 0, 0, 0);
	}
}

static int mem_stream_run(struct wl_env *env)
{
	uint64_t size, ntimes, max_ms;
	if (wl_param_u64(env, "size", &size) || wl_param_u64(env, "ntimes", &ntimes) ||
	    wl_param_u64(env, "max_ms", &max_ms) || size < 4096 || size > (uint64_t)SIZE_MAX / 4 ||
	    ntimes == 0 || max_ms == 0) {
		env->log(env, "mem-stream: need numbers size >= 4K, ntimes > 0, max_ms > 0");
		return -WL_EINVAL;
	}
	struct stream_arrays s;
	int rc = stream_alloc(env, &s, size);
	if (rc)
		return rc;
	stream_init(&s);
	uint64_t best[STREAM_NKERNELS] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
	uint64_t bound = wl_ms_to_ticks(env, max_ms), t0 = wl_rdtsc(), reps = 0;
	while (reps < ntimes && (reps == 0 || wl_rdtsc() - t0 <= bound)) {
		uint64_t ticks[STREAM_NKERNELS];
		stream_rep(env, &s, ticks);
		for (int k = 0; k < STREAM_NKERNELS; k++)
			best[k] = ticks[k] < best[k] ? ticks[k] : best[k];
		reps++;
	}
	if (reps < ntimes)
		wl_log_u64(env, "mem-stream: time bound reached after ", reps, " repetitions");
	if (stream_validate(&s, reps)) {
		env->log(env, "mem-stream: array contents differ from the STREAM recurrence");
		return -WL_EIO;
	}
	stream_emit(env, &s, best);
	return 0;
}

const struct workload_ops wl_mem_stream = {
    .name = "mem-stream",
    .needs = WL_NEEDS_TRANSLATION,
    .help = "STREAM copy/scale/add/triad: MB/s, best of ntimes",
    .params = mem_stream_params,
    .quick_params = "size=32M ntimes=5",
    .run = mem_stream_run,
    .est_ms = 800,
    .est_quick_ms = 400,
};
