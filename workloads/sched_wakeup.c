/*
 * sched-wakeup: sleep until a deadline T us ahead, `iters` times, and record
 * how late the sleeper ran again (cyclictest-like).
 *
 * Why: timer wakeup latency is what interactive and real-time guests feel;
 * in a VM the timer goes through the hypervisor's LAPIC emulation, the host
 * timer, an interrupt injection and the vCPU thread's scheduling. Guest: an
 * x2APIC TSC-deadline one-shot and hlt (the runtime probes delivery first;
 * when interrupts do not reach the guest it says "unavailable: <reason>" and
 * reports nothing). Host: clock_nanosleep(TIMER_ABSTIME) on
 * CLOCK_MONOTONIC with 1 ns timer slack. Lateness = TSC at wakeup - deadline.
 */
#include "workloads/wl_sched.h"
#include "workloads/wl_errno.h"

static const struct wl_param wake_params[] = {
    {"period_us", "200", "sleep length T, us (10..1000000)"},
    {"iters", "5000", "wakeups measured"},
    {"max_ms", "20000", "time bound, ms"},
    {0, 0, 0},
};

static int wake_run(struct wl_env *env)
{
	uint64_t period, iters, max_ms;
	int rc;
	if ((rc = wl_param_u64(env, "period_us", &period)) ||
	    (rc = wl_param_u64(env, "iters", &iters)) ||
	    (rc = wl_param_u64(env, "max_ms", &max_ms)))
		return rc;
	if (period < 10 || period > 1000000 || iters < 10 || iters > 10000000) {
		env->log(env, "sched-wakeup: period_us must be 10..1e6 and iters 10..1e7");
		return -WL_EINVAL;
	}
	char why[160] = "the runtime has no timer sleep";
	if (!env->sleep_probe || env->sleep_probe(env, why, sizeof(why))) {
		char msg[200];
		wl_cat2(msg, sizeof(msg), "sched-wakeup: unavailable: ", why);
		env->log(env, msg);
		return 0;
	}
	uint64_t *lat = env->alloc(env, iters * sizeof(uint64_t), 0);
	if (!lat) {
		env->log(env, "sched-wakeup: no memory for the samples");
		return -WL_ENOMEM;
	}
	uint64_t step = period * (env->tsc_hz / 1000000), bound = max_ms * (env->tsc_hz / 1000);
	wl_region_begin(env, "run");
	uint64_t t0 = wl_rdtsc(), n = 0;
	for (; n < iters && wl_rdtsc() - t0 < bound; n++) {
		uint64_t dl = wl_rdtsc() + step, woke = 0;
		if ((rc = env->sleep_until(env, dl, &woke)))
			break;
		lat[n] = (uint64_t)wl_ticks_to_ns(env, woke > dl ? woke - dl : 0);
	}
	wl_region_end(env, "run");
	if (rc)
		return rc;
	if (n < iters)
		env->log(env, "sched-wakeup: max_ms reached, fewer wakeups measured");
	struct wl_dist d;
	wl_dist_compute(lat, n, &d);
	wl_dist_emit(env, "lateness", "ns", &d);
	return 0;
}

const struct workload_ops wl_sched_wakeup = {
    .name = "sched-wakeup",
    .help = "timer wakeup lateness (TSC-deadline + hlt in a VM, clock_nanosleep on the host)",
    .params = wake_params,
    .quick_params = "iters=1000",
    .run = wake_run,
    .est_ms = 2500,
    .est_quick_ms = 500,
};
