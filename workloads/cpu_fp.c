/*
 * cpu-fp: a floating-point kernel of CPU_FP_CHAINS independent chains of
 * dependent double-precision multiply-add (x = x*a + b).
 *
 * Why: the FPU/SSE state is what a hypervisor must save and restore around
 * exits and context switches (XSAVE), and lazy/eager FPU handling differs
 * between VMMs; a pure FP loop shows that cost on the guest/host ratio. The
 * constants keep every chain at a fixed point near 1.0 (no overflow, no
 * denormals), and the chains' bits are logged as a checksum.
 */
#include "virttax/workload.h"
#include "workloads/wl_errno.h"
#include "workloads/wl_kernels.h"
#include "workloads/wl_util.h"

#define CPU_FP_CHECK_EVERY (1u << 20)
#define CPU_FP_A (1.0 - 1.0 / 1048576.0) /* 1 - 2^-20 */
#define CPU_FP_B (1.0 / 1048576.0)	 /* 2^-20: fixed point x = b/(1-a) = 1 */

static const struct wl_param cpu_fp_params[] = {
    {"iters", "500000000", "steps of each chain (each step: one mul, one add)"},
    {"max_ms", "30000", "time bound in ms; the run stops early (and says so) past it"},
    {0, 0, 0},
};

_Static_assert(CPU_FP_CHAINS == 4, "wl_cpu_fp_block unrolls exactly 4 chains");

void wl_cpu_fp_block(double x[CPU_FP_CHAINS], uint64_t n)
{
	double x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
	for (uint64_t i = 0; i < n; i++) {
		x0 = x0 * CPU_FP_A + CPU_FP_B;
		x1 = x1 * CPU_FP_A + CPU_FP_B;
		x2 = x2 * CPU_FP_A + CPU_FP_B;
		x3 = x3 * CPU_FP_A + CPU_FP_B;
	}
	x[0] = x0;
	x[1] = x1;
	x[2] = x2;
	x[3] = x3;
}

static uint64_t double_bits(double d)
{
	union {
		double d;
		uint64_t u;
	} v = {.d = d};
	return v.u;
}

static uint64_t cpu_fp_checksum(const double x[CPU_FP_CHAINS])
{
	uint64_t sum = 0;
	for (int k = 0; k < CPU_FP_CHAINS; k++)
		sum = (sum << 7 | sum >> 57) ^ double_bits(x[k]);
	return sum;
}

static int cpu_fp_run(struct wl_env *env)
{
	uint64_t iters, max_ms;
	if (wl_param_u64(env, "iters", &iters) || wl_param_u64(env, "max_ms", &max_ms) ||
	    iters == 0 || max_ms == 0) {
		env->log(env, "cpu-fp: iters and max_ms must be numbers > 0");
		return -WL_EINVAL;
	}
	double x[CPU_FP_CHAINS] = {0.0, 0.25, 0.5, 2.0};
	uint64_t bound = wl_ms_to_ticks(env, max_ms), done = 0;
	wl_region_begin(env, "run");
	uint64_t t0 = wl_rdtsc();
	while (done < iters) {
		uint64_t n = iters - done < CPU_FP_CHECK_EVERY ? iters - done : CPU_FP_CHECK_EVERY;
		wl_cpu_fp_block(x, n);
		done += n;
		if (wl_rdtsc() - t0 > bound)
			break;
	}
	uint64_t t1 = wl_rdtsc();
	wl_region_end(env, "run");
	uint64_t sum = cpu_fp_checksum(x);
	wl_keep_u64(sum);
	if (done < iters)
		wl_log_u64(env, "cpu-fp: time bound reached after ", done, " iterations");
	char msg[96] = "cpu-fp: checksum ";
	wl_strcat_hex(msg, sizeof(msg), sum);
	wl_strcat(msg, sizeof(msg), " iterations ");
	wl_strcat_u64(msg, sizeof(msg), done);
	env->log(env, msg);
	double ns = wl_ticks_to_ns(env, t1 - t0);
	double flops = (double)done * CPU_FP_FLOPS_PER_ITER;
	env->emit(env, "gflops", "GFLOP/s", false, flops / ns, 0, 0, 0);
	env->emit(env, "ns_per_iter", "ns", true, ns / (double)done, 0, 0, 0);
	env->emit(env, "time", "ms", true, ns / 1e6, 0, 0, 0);
	return 0;
}

const struct workload_ops wl_cpu_fp = {
    .name = "cpu-fp",
    .help = "independent chains of dependent double mul+add: GFLOP/s",
    .params = cpu_fp_params,
    .quick_params = "iters=100000000",
    .run = cpu_fp_run,
    .est_ms = 2000,
    .est_quick_ms = 450,
};
