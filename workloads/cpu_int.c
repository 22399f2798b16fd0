/*
 * cpu-int: a dependent chain of integer multiply/add/xor/shift.
 *
 * Why: pure ALU work touches no memory and makes no exits, so its guest/host
 * ratio isolates the cost of merely running under a hypervisor (timer ticks,
 * preemption by the VMM, vCPU scheduling). Every step depends on the previous
 * one, so the compiler can neither vectorise nor fold it, and the final value
 * is logged as a checksum so both sides can be checked to compute the same.
 */
#include "virttax/workload.h"
#include "workloads/wl_errno.h"
#include "workloads/wl_kernels.h"
#include "workloads/wl_util.h"

#define CPU_INT_CHECK_EVERY (1u << 20) /* iterations between time-bound checks */

static const struct wl_param cpu_int_params[] = {
    {"iters", "1000000000", "dependent multiply/add/xor/shift steps"},
    {"max_ms", "30000", "time bound in ms; the run stops early (and says so) past it"},
    {0, 0, 0},
};

/* One block of `n` dependent steps starting from state x. Exposed for tests. */
uint64_t wl_cpu_int_block(uint64_t x, uint64_t first, uint64_t n)
{
	for (uint64_t i = first; i < first + n; i++) {
		x = x * 0x9e3779b97f4a7c15ull + i;
		x ^= x >> 29;
		x += x << 7;
	}
	return x;
}

struct cpu_int_result {
	uint64_t done;	/* iterations executed */
	uint64_t ticks; /* TSC ticks they took */
	uint64_t x;	/* final state (checksum) */
};

static void cpu_int_loop(struct wl_env *env, uint64_t iters, uint64_t max_ms,
			 struct cpu_int_result *r)
{
	uint64_t bound = wl_ms_to_ticks(env, max_ms);
	uint64_t x = 0x243f6a8885a308d3ull;
	uint64_t done = 0;
	wl_region_begin(env, "run");
	uint64_t t0 = wl_rdtsc();
	while (done < iters) {
		uint64_t n =
		    iters - done < CPU_INT_CHECK_EVERY ? iters - done : CPU_INT_CHECK_EVERY;
		x = wl_cpu_int_block(x, done, n);
		done += n;
		if (wl_rdtsc() - t0 > bound)
			break;
	}
	uint64_t t1 = wl_rdtsc();
	wl_region_end(env, "run");
	wl_keep_u64(x);
	r->done = done;
	r->ticks = t1 - t0;
	r->x = x;
}

static int cpu_int_run(struct wl_env *env)
{
	uint64_t iters, max_ms;
	if (wl_param_u64(env, "iters", &iters) || wl_param_u64(env, "max_ms", &max_ms) ||
	    iters == 0 || max_ms == 0) {
		env->log(env, "cpu-int: iters and max_ms must be numbers > 0");
		return -WL_EINVAL;
	}
	struct cpu_int_result r;
	cpu_int_loop(env, iters, max_ms, &r);
	if (r.done < iters)
		wl_log_u64(env, "cpu-int: time bound reached after ", r.done, " iterations");
	char msg[96] = "cpu-int: checksum ";
	wl_strcat_hex(msg, sizeof(msg), r.x);
	wl_strcat(msg, sizeof(msg), " iterations ");
	wl_strcat_u64(msg, sizeof(msg), r.done);
	env->log(env, msg);
	double ns = wl_ticks_to_ns(env, r.ticks);
	env->emit(env, "ns_per_iter", "ns", true, ns / (double)r.done, 0, 0, 0);
	env->emit(env, "time", "ms", true, ns / 1e6, 0, 0, 0);
	return 0;
}

const struct workload_ops wl_cpu_int = {
    .name = "cpu-int",
    .help = "dependent integer multiply/add/xor/shift chain: ns per step",
    .params = cpu_int_params,
    .quick_params = "iters=100000000",
    .run = cpu_int_run,
    .est_ms = 3500,
    .est_quick_ms = 450,
};
