/*
 * mem-pressure: touch every page of a working set `passes` times (one write
 * per 4 KiB page, in order), timing each pass.
 *
 * Why: the cost of memory pressure is paid per page touch: a touch that finds
 * its page resident costs a cache miss, one whose page was reclaimed costs a
 * major fault (a refault from swap or from the backing file) or, with nothing
 * to reclaim into, an OOM kill. The harness runs this workload under a cgroup
 * memory limit below `wss` (`virttax run --mem-limit SIZE`,
 * harness/mem_pressure.c) and unlimited, on bare metal and in the VM, and reads
 * the group's major faults and events; the workload reports what a user
 * feels: ns per page touch and the total time. Both runners pre-fault the
 * allocation (so neither side's host faults are timed); the first pass is
 * still reported on its own (its first write per page; under a limit, the
 * first refaults); the steady-state
 * figure is the median of passes 2..N. Every page carries a counter that must
 * equal `passes` at the end, so a lost page fails the run.
 */
#include "virttax/workload.h"
#include "workloads/wl_errno.h"
#include "workloads/wl_util.h"

#define MP_PAGE 4096u
#define MP_MAX_PASSES 64

static const struct wl_param mem_pressure_params[] = {
    {"wss", "256M", "working set in bytes (K/M/G suffix), >= 64K, a multiple of 4K"},
    {"passes", "5", "passes over the working set, 2..64 (pass 1 populates)"},
    {"max_ms", "60000", "time bound in ms; fewer passes (logged) past it"},
    {0, 0, 0},
};

/* One pass: one write per page (a 64-bit counter at the page start). The
 * first pass stores (the allocation is not zeroed), later ones increment. */
static void mp_pass(volatile uint64_t *base, size_t pages, uint64_t stride, bool first)
{
	for (size_t i = 0; i < pages; i++)
		base[i * stride] = first ? 1 : base[i * stride] + 1;
}

static int mp_check(volatile uint64_t *base, size_t pages, uint64_t stride, uint64_t want)
{
	for (size_t i = 0; i < pages; i++)
		if (base[i * stride] != want)
			return -WL_EIO;
	return 0;
}

/* Median of n values (n <= MP_MAX_PASSES), insertion sort in place. */
static double mp_median(double *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int mp_params(struct wl_env *env, uint64_t *wss, uint64_t *passes, uint64_t *max_ms)
{
	if (wl_param_u64(env, "wss", wss) || wl_param_u64(env, "passes", passes) ||
	    wl_param_u64(env, "max_ms", max_ms) || *wss < 65536 || *wss % MP_PAGE ||
	    *wss > (uint64_t)SIZE_MAX / 2 || *passes < 2 || *passes > MP_MAX_PASSES ||
	    *max_ms == 0) {
		env->log(env, "mem-pressure: need wss >= 64K (multiple of 4K), passes 2..64, "
			      "max_ms > 0");
		return -WL_EINVAL;
	}
	return 0;
}

static int mem_pressure_run(struct wl_env *env)
{
	uint64_t wss, passes, max_ms;
	int rc = mp_params(env, &wss, &passes, &max_ms);
	if (rc)
		return rc;
	volatile uint64_t *base = env->alloc(env, (size_t)wss, MP_PAGE);
	if (!base) {
		wl_log_u64(env, "mem-pressure: cannot allocate a working set of ", wss, " B");
		return -WL_ENOMEM;
	}
	size_t pages = (size_t)(wss / MP_PAGE);
	uint64_t stride = MP_PAGE / sizeof(uint64_t);
	double ns[MP_MAX_PASSES];
	/* the passes are reported after the loop: no protocol output (serial
	 * exits in a VM) inside the timed interval */
	wl_region_begin(env, "run");
	uint64_t bound = wl_ms_to_ticks(env, max_ms), t0 = wl_rdtsc(), done = 0;
	while (done < passes && (done < 2 || wl_rdtsc() - t0 <= bound)) {
		uint64_t a = wl_rdtsc();
		mp_pass(base, pages, stride, done == 0);
		ns[done] = wl_ticks_to_ns(env, wl_rdtsc() - a);
		done++;
	}
	double total = wl_ticks_to_ns(env, wl_rdtsc() - t0);
	wl_region_end(env, "run");
	for (uint64_t i = 0; i < done; i++)
		env->emit(env, "pass_time", "ns", true, ns[i], "pass", "count", (double)i + 1);
	if (done < passes)
		wl_log_u64(env, "mem-pressure: time bound reached after ", done, " passes");
	if (mp_check(base, pages, stride, done)) {
		env->log(env, "mem-pressure: a page lost its counter (contents differ)");
		return -WL_EIO;
	}
	env->emit(env, "time", "ns", true, total, 0, 0, 0);
	env->emit(env, "first_touch_ns", "ns", true, ns[0] / (double)pages, 0, 0, 0);
	env->emit(env, "touch_ns", "ns", true, mp_median(ns + 1, (size_t)done - 1) / (double)pages,
		  0, 0, 0);
	env->emit(env, "page_touches", "count", true, (double)pages * (double)done, 0, 0, 0);
	return 0;
}

const struct workload_ops wl_mem_pressure = {
    .name = "mem-pressure",
    .help = "touch every 4 KiB page of wss, passes times: ns per touch, total time (run it "
	    "with --mem-limit)",
    .params = mem_pressure_params,
    .quick_params = "wss=128M passes=4",
    .run = mem_pressure_run,
    .needs = WL_TAKES_MEM_PRESSURE,
    .est_ms = 2000,
    .est_quick_ms = 250,
};
