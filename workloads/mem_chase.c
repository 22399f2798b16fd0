/*
 * mem-chase: random pointer chase over working sets of growing size.
 *
 * Why: a dependent chain of loads through one random cyclic permutation
 * defeats prefetchers, so each access costs the full latency of the level
 * the working set lives in. Past the TLB reach every access also walks the
 * page tables, and under a hypervisor that walk is two-dimensional (guest and
 * host tables): the latency-vs-size curve is where nested paging and page
 * size (4k vs 2M, THP) show up. One point per size: metric "latency" (ns per
 * access) at x = working-set size in bytes.
 */
#include "virttax/workload.h"
#include "workloads/wl_errno.h"
#include "workloads/wl_kernels.h"
#include "workloads/wl_util.h"

#define CHASE_ALIGN (2u << 20) /* so 2 MiB pages/THP can back the buffer */

static const struct wl_param mem_chase_params[] = {
    {"min", "16K", "smallest working set, bytes (multiple of 64, >= 128)"},
    {"max", "1G", "largest working set, bytes"},
    {"step", "2", "factor between consecutive working sets (>= 2)"},
    {"accesses", "1000000", "timed dependent loads per working set"},
    {"seed", "1", "seed of the permutation (xorshift64)"},
    {"max_ms", "60000", "time bound in ms; larger sizes are skipped (and logged) past it"},
    {0, 0, 0},
};

struct chase_cfg {
	uint64_t min, max, step, accesses, seed, max_ms;
};

void wl_chase_build(void *base, size_t lines, uint64_t seed)
{
	char *b = base;
	uint64_t state = seed ? seed : 0x9e3779b97f4a7c15ull; /* xorshift needs != 0 */
	for (size_t i = 0; i < lines; i++)
		*(uint64_t *)(b + i * CHASE_LINE) = i;
	/* Sattolo: j < i (never j == i) makes i -> a[i] one single cycle */
	for (size_t i = lines - 1; i > 0; i--) {
		size_t j = (size_t)(wl_xorshift64(&state) % i);
		uint64_t *pi = (uint64_t *)(b + i * CHASE_LINE);
		uint64_t *pj = (uint64_t *)(b + j * CHASE_LINE);
		uint64_t t = *pi;
		*pi = *pj;
		*pj = t;
	}
	for (size_t i = 0; i < lines; i++) {
		uint64_t next = *(uint64_t *)(b + i * CHASE_LINE);
		*(void **)(b + i * CHASE_LINE) = b + next * CHASE_LINE;
	}
}

void *wl_chase_walk(void *p, uint64_t steps)
{
	void **q = p;
	for (; steps >= 8; steps -= 8) {
		q = (void **)*q;
		q = (void **)*q;
		q = (void **)*q;
		q = (void **)*q;
		q = (void **)*q;
		q = (void **)*q;
		q = (void **)*q;
		q = (void **)*q;
	}
	for (; steps; steps--)
		q = (void **)*q;
	return q;
}

static int chase_read_cfg(struct wl_env *env, struct chase_cfg *c)
{
	if (wl_param_u64(env, "min", &c->min) || wl_param_u64(env, "max", &c->max) ||
	    wl_param_u64(env, "step", &c->step) || wl_param_u64(env, "accesses", &c->accesses) ||
	    wl_param_u64(env, "seed", &c->seed) || wl_param_u64(env, "max_ms", &c->max_ms)) {
		env->log(env,
			 "mem-chase: every parameter must be a number (K/M/G suffixes allowed)");
		return -WL_EINVAL;
	}
	if (c->min < 2 * CHASE_LINE || c->min % CHASE_LINE || c->min > c->max ||
	    c->max > (uint64_t)SIZE_MAX / 2 || c->step < 2 || c->accesses == 0 || c->max_ms == 0) {
		env->log(env, "mem-chase: need 128 <= min <= max, min a multiple of 64, step >= 2, "
			      "accesses > 0, max_ms > 0");
		return -WL_EINVAL;
	}
	return 0;
}

/* The largest size of the sweep min, min*step, ... that is <= max. */
static uint64_t chase_largest(const struct chase_cfg *c)
{
	uint64_t s = c->min;
	while (s <= c->max / c->step)
		s *= c->step;
	return s;
}

static double chase_one(struct wl_env *env, char *buf, uint64_t wss, const struct chase_cfg *c)
{
	size_t lines = (size_t)(wss / CHASE_LINE);
	wl_chase_build(buf, lines, c->seed);
	void *p = wl_chase_walk(buf, lines < c->accesses ? lines : c->accesses); /* warm up */
	char label[WL_REGION_LABEL_MAX];
	wl_region_label_at(label, sizeof(label), "latency", wss);
	wl_region_begin(env, label);
	uint64_t t0 = wl_rdtsc();
	p = wl_chase_walk(p, c->accesses);
	uint64_t t1 = wl_rdtsc();
	wl_region_end(env, label);
	wl_keep_u64((uint64_t)(uintptr_t)p);
	return wl_ticks_to_ns(env, t1 - t0) / (double)c->accesses;
}

static int mem_chase_run(struct wl_env *env)
{
	struct chase_cfg c;
	int rc = chase_read_cfg(env, &c);
	if (rc)
		return rc;
	uint64_t largest = chase_largest(&c);
	char *buf = env->alloc(env, (size_t)largest, CHASE_ALIGN);
	if (!buf) {
		wl_log_u64(env, "mem-chase: cannot allocate ", largest,
			   " B for the largest working set");
		return -WL_ENOMEM;
	}
	uint64_t bound = wl_ms_to_ticks(env, c.max_ms), t0 = wl_rdtsc(), last = 0;
	for (uint64_t wss = c.min; wss <= largest; wss *= c.step) {
		/* a size costs about `step` times the previous one (the build is
		 * linear in size): skip it when it would end past the bound */
		uint64_t t = wl_rdtsc();
		if (wss != c.min && t - t0 + last * c.step > bound) {
			wl_log_u64(env, "mem-chase: time bound reached; skipped sizes from ", wss,
				   " B");
			break;
		}
		double ns = chase_one(env, buf, wss, &c);
		last = wl_rdtsc() - t;
		env->emit(env, "latency", "ns", true, ns, "wss", "B", (double)wss);
		if (wss > largest / c.step)
			break;
	}
	return 0;
}

const struct workload_ops wl_mem_chase = {
    .name = "mem-chase",
    .needs = WL_NEEDS_TRANSLATION,
    .help = "random pointer chase: ns per dependent load vs working-set size",
    .params = mem_chase_params,
    .quick_params = "min=16K max=64M step=4 accesses=200000",
    .run = mem_chase_run,
    .est_ms = 4000,
    .est_quick_ms = 500,
};
