/*
 * noop: measures nothing but the runtime itself (the cost of one TSC read
 * pair). Exists so that boot, protocol and teardown can be tested without a
 * real workload, and as the smallest example of a workload.
 */
#include "virttax/workload.h"

static const struct wl_param noop_params[] = {
    {"iters", "1000", "number of back-to-back TSC reads"},
    {0, 0, 0},
};

static int noop_run(struct wl_env *env)
{
	uint64_t iters;
	int rc = wl_param_u64(env, "iters", &iters);
	if (rc)
		return rc;
	if (iters == 0)
		return -22; /* -EINVAL */
	wl_region_begin(env, "run");
	uint64_t t0 = wl_rdtsc();
	for (uint64_t i = 0; i < iters; i++)
		(void)wl_rdtsc();
	uint64_t t1 = wl_rdtsc();
	wl_region_end(env, "run");
	env->emit(env, "tsc_read", "ns", true, wl_ticks_to_ns(env, t1 - t0) / (double)iters, 0, 0,
		  0);
	return 0;
}

const struct workload_ops wl_noop = {
    .name = "noop",
    .help = "TSC read cost; a smoke test of the runtime",
    .params = noop_params,
    .quick_params = "",
    .run = noop_run,
    .est_ms = 90,
    .est_quick_ms = 90,
};
