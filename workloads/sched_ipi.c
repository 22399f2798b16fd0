/*
 * sched-ipi: a ping-pong between two CPUs (guest vCPUs, host threads),
 * round-trip time per exchange.
 *
 * Why: cross-CPU wakeups (IPIs in a guest, futex wakes on a host) are how
 * work is handed between CPUs; in a VM an IPI is an exit, a host-side wakeup
 * of the target vCPU thread and an injection. Modes:
 *   flag : both sides spin on a shared cache line (no interrupt, no sleep):
 *          the floor, identical code on both sides; shows vCPU scheduling.
 *   wake : the sleeping handoff. Host: futex ping-pong between two threads
 *          (env->op WL_OP_THREAD_WAKE, one op = one round trip). Guest: an
 *          x2APIC IPI ping-pong (env->op WL_OP_IPI), probed; when the runtime
 *          cannot deliver interrupts the mode says "unavailable: <reason>".
 * mode=both (default) runs flag, then wake.
 */
#include "virttax/wl_ops.h"
#include "workloads/wl_sched.h"
#include "workloads/wl_errno.h"

static const struct wl_param ipi_params[] = {
    {"mode", "both", "flag | wake | both"},
    {"iters", "20000", "round trips measured per mode"},
    {"max_ms", "20000", "time bound per mode, ms"},
    {0, 0, 0},
};

struct pp {
	volatile uint64_t ping __attribute__((aligned(64)));
	volatile uint64_t pong __attribute__((aligned(64)));
	uint64_t iters;
};

static void pp_responder(void *arg)
{
	struct pp *p = arg;
	for (uint64_t i = 1; i <= p->iters; i++) {
		while (__atomic_load_n(&p->ping, __ATOMIC_ACQUIRE) != i)
			__asm__ volatile("pause");
		__atomic_store_n(&p->pong, i, __ATOMIC_RELEASE);
	}
}

static int run_flag(struct wl_env *env, uint64_t iters, uint64_t bound, uint64_t *rt)
{
	unsigned have = env->ncpus ? env->ncpus(env) : 1;
	if (have < 2) {
		env->log(env,
			 "sched-ipi flag: unavailable: only one CPU can run workload code here "
			 "(give the VM --vcpus 2)");
		return 0;
	}
	struct pp *p = env->alloc(env, sizeof(*p), 64);
	if (!p)
		return -WL_ENOMEM;
	*p = (struct pp){.iters = iters};
	int rc = env->cpu_run(env, 1, pp_responder, p);
	if (rc)
		return rc;
	wl_region_begin(env, "flag_rtt");
	uint64_t t0 = wl_rdtsc(), n = 0;
	for (uint64_t i = 1; i <= iters; i++, n++) {
		uint64_t a = wl_rdtsc();
		__atomic_store_n(&p->ping, i, __ATOMIC_RELEASE);
		while (__atomic_load_n(&p->pong, __ATOMIC_ACQUIRE) != i)
			__asm__ volatile("pause");
		rt[n] = (uint64_t)wl_ticks_to_ns(env, wl_rdtsc() - a);
		if (a - t0 > bound) { /* finish the responder's remaining rounds unmeasured */
			for (uint64_t k = i + 1; k <= iters; k++) {
				__atomic_store_n(&p->ping, k, __ATOMIC_RELEASE);
				while (__atomic_load_n(&p->pong, __ATOMIC_ACQUIRE) != k)
					__asm__ volatile("pause");
			}
			env->log(env, "sched-ipi flag: max_ms reached, fewer round trips measured");
			n++;
			break;
		}
	}
	wl_region_end(env, "flag_rtt");
	env->cpu_join(env, 1);
	struct wl_dist d;
	wl_dist_compute(rt, n, &d);
	wl_dist_emit(env, "flag_rtt", "ns", &d);
	return 0;
}

static int run_wake(struct wl_env *env, uint64_t iters, uint64_t bound, uint64_t *rt)
{
	unsigned op = WL_OP_IPI;
	char why[160] = "the runtime has no platform primitives";
	int rc = -WL_ENOTSUP;
	if (env->op_probe) {
		rc = env->op_probe(env, WL_OP_IPI, why, sizeof(why));
		if (rc) { /* the host has no IPIs: its sleeping handoff is a futex wake */
			char why2[160];
			if (!env->op_probe(env, WL_OP_THREAD_WAKE, why2, sizeof(why2)))
				op = WL_OP_THREAD_WAKE, rc = 0;
		}
	}
	if (rc && env->sleep_probe) { /* a fixed IPI needs interrupt delivery: say why not */
		char why2[160];
		if (env->sleep_probe(env, why2, sizeof(why2)))
			wl_cat2(why, sizeof(why), "IPIs need interrupt delivery, and ", why2);
	}
	if (rc) {
		char msg[220];
		wl_cat2(msg, sizeof(msg), "sched-ipi wake: unavailable: ", why);
		env->log(env, msg);
		return 0;
	}
	wl_region_begin(env, "wake_rtt");
	uint64_t t0 = wl_rdtsc(), n = 0;
	for (; n < iters && wl_rdtsc() - t0 < bound; n++) {
		uint64_t ticks;
		if ((rc = env->op(env, op, 1, &ticks)))
			break;
		rt[n] = (uint64_t)wl_ticks_to_ns(env, ticks);
	}
	wl_region_end(env, "wake_rtt");
	if (rc)
		return rc;
	env->log(env, op == WL_OP_IPI ? "sched-ipi wake: IPI ping-pong between two vCPUs"
				      : "sched-ipi wake: futex ping-pong between two threads");
	struct wl_dist d;
	wl_dist_compute(rt, n, &d);
	wl_dist_emit(env, "wake_rtt", "ns", &d);
	return 0;
}

static int ipi_run(struct wl_env *env)
{
	uint64_t iters, max_ms;
	int rc;
	const char *mode = env->param(env, "mode");
	if ((rc = wl_param_u64(env, "iters", &iters)) ||
	    (rc = wl_param_u64(env, "max_ms", &max_ms)))
		return rc;
	bool flag = wl_streq(mode, "flag") || wl_streq(mode, "both");
	bool wake = wl_streq(mode, "wake") || wl_streq(mode, "both");
	if ((!flag && !wake) || iters < 10 || iters > 10000000) {
		env->log(env, "sched-ipi: mode must be flag|wake|both and iters 10..1e7");
		return -WL_EINVAL;
	}
	uint64_t *rt = env->alloc(env, iters * sizeof(uint64_t), 0);
	if (!rt)
		return -WL_ENOMEM;
	uint64_t bound = max_ms * (env->tsc_hz / 1000);
	if (flag && (rc = run_flag(env, iters, bound, rt)))
		return rc;
	if (wake && (rc = run_wake(env, iters, bound, rt)))
		return rc;
	return 0;
}

const struct workload_ops wl_sched_ipi = {
    .name = "sched-ipi",
    .help = "cross-CPU ping-pong round trip: shared-flag spin and sleeping wakeup (IPI in a "
	    "VM, futex on the host)",
    .params = ipi_params,
    .quick_params = "iters=5000",
    .run = ipi_run,
    .vcpus = 2,
    .est_ms = 1500,
    .est_quick_ms = 400,
};
