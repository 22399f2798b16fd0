/*
 * exit-storm: one VM exit of a chosen kind every k units of compute.
 *
 * Why: it validates the overhead decomposition. With `exits` exits and a
 * calibrated cost per exit (calibration.json), the predicted overhead is
 * exits x cost; the measured overhead is VM time - bare time for the same
 * compute. The compute unit is one step of cpu-int's dependent integer chain
 * (wl_cpu_int_block), so it neither vectorises nor touches memory. On the
 * bare side the exit operation is unavailable and the same compute runs
 * without exits (metric exits = 0); the run does not fail there.
 *
 * Metrics: time (ms, all of it), exits (count actually done), exit_time (ms
 * spent inside the exit operations, measured around each by the runtime),
 * compute_units (count), selfcal_exit_ns (ns per exit of `selfcal` exits of
 * the same kind made back to back before the storm, outside its timed region:
 * median of SELFCAL_ROUNDS rounds), checksum logged.
 *
 * Why the self-calibration: on a nested host the cost of an exit varies from
 * VM boot to VM boot by about +-10% (measured on PVM: 20.8 to 25.9 us per pio
 * exit in consecutive boots), so a cost calibrated in another VM cannot
 * predict this VM's overhead to 10%. The decomposition prices exit-storm's
 * exits with this in-run cost (docs/METHOD.md). On the bare side the exit is
 * a no-op and the metric is the cost of that no-op (unused there).
 */
#include "virttax/wl_ops.h"
#include "virttax/workload.h"
#include "workloads/wl_errno.h"
#include "workloads/wl_kernels.h"
#include "workloads/wl_util.h"

static const struct wl_param exit_storm_params[] = {
    {"kind", "pio", "exit kind: pio|mmio|cpuid|hypercall|msr (msr = in-kernel MSR read)"},
    {"k", "10000", "compute units (dependent integer steps) between two exits, >= 1"},
    {"exits", "2000", "number of exits (= blocks of k units), >= 1"},
    {"max_ms", "30000", "time bound, ms"},
    {"selfcal", "500", "exits timed back to back before the storm (in-run cost), 0 = off"},
    {0, 0, 0},
};

static int storm_kind(const char *s, unsigned *op)
{
	static const struct {
		const char *name;
		unsigned op;
	} kinds[] = {{"pio", WL_OP_PIO},
		     {"mmio", WL_OP_MMIO},
		     {"cpuid", WL_OP_CPUID},
		     {"hypercall", WL_OP_HYPERCALL},
		     {"msr", WL_OP_MSR_KERNEL_RD}};
	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (s && wl_streq(s, kinds[i].name)) {
			*op = kinds[i].op;
			return 0;
		}
	return -WL_EINVAL;
}

static bool storm_can_exit(struct wl_env *env, unsigned op)
{
	char why[160] = "";
	if (env->op && env->op_probe && !env->op_probe(env, op, why, sizeof(why))) {
		env->log(env, why);
		return true;
	}
	char msg[220] = "exit-storm: no exits on this side (compute only): ";
	wl_strcat(msg, sizeof(msg), why[0] ? why : "no platform operations");
	env->log(env, msg);
	return false;
}

#define SELFCAL_ROUNDS 5

/* one exit, called exactly as the storm calls it */
static int storm_exit(struct wl_env *env, unsigned op, bool do_exit, uint64_t *ticks)
{
	uint64_t t = 0;
	int rc = do_exit ? env->op(env, op, 1, &t) : 0;
	*ticks += t;
	return rc;
}

/* ns per exit: median of SELFCAL_ROUNDS rounds of n / SELFCAL_ROUNDS exits,
 * each round timed whole (loop and call overhead included, as in the storm) */
static int storm_selfcal(struct wl_env *env, unsigned op, bool do_exit, uint64_t n)
{
	uint64_t per = n / SELFCAL_ROUNDS ? n / SELFCAL_ROUNDS : 1, ign = 0;
	double r[SELFCAL_ROUNDS];
	int rc;
	for (unsigned j = 0; j < SELFCAL_ROUNDS; j++) {
		wl_region_begin(env, "selfcal_exit_ns");
		uint64_t t0 = wl_rdtsc();
		for (uint64_t i = 0; i < per; i++)
			if ((rc = storm_exit(env, op, do_exit, &ign)))
				break;
		uint64_t t1 = wl_rdtsc();
		wl_region_end(env, "selfcal_exit_ns");
		if (rc)
			return rc;
		r[j] = wl_ticks_to_ms(env, t1 - t0) * 1e6 / (double)per;
		for (unsigned a = j; a > 0 && r[a] < r[a - 1]; a--) {
			double x = r[a];
			r[a] = r[a - 1], r[a - 1] = x;
		}
	}
	env->emit(env, "selfcal_exit_ns", "ns", true, r[SELFCAL_ROUNDS / 2], 0, 0, 0);
	return 0;
}

static int exit_storm_run(struct wl_env *env)
{
	uint64_t k, exits, max_ms, selfcal, exit_ticks = 0, done = 0, x = 1;
	unsigned op;
	int rc;
	if ((rc = wl_param_u64(env, "k", &k)) || (rc = wl_param_u64(env, "exits", &exits)) ||
	    (rc = wl_param_u64(env, "max_ms", &max_ms)) ||
	    (rc = wl_param_u64(env, "selfcal", &selfcal)))
		return rc;
	if (storm_kind(env->param(env, "kind"), &op) || !k || !exits) {
		env->log(env,
			 "exit-storm: kind must be pio|mmio|cpuid|hypercall|msr, k and exits >= 1");
		return -WL_EINVAL;
	}
	bool do_exit = storm_can_exit(env, op);
	if (selfcal && (rc = storm_selfcal(env, op, do_exit, selfcal)))
		return rc;
	wl_region_begin(env, "run");
	uint64_t t0 = wl_rdtsc(), deadline = t0 + wl_ms_to_ticks(env, max_ms), n = 0;
	for (; n < exits; n++) {
		x = wl_cpu_int_block(x, n * k, k);
		if (do_exit) {
			if ((rc = storm_exit(env, op, do_exit, &exit_ticks)))
				break;
			done++;
		}
		if ((n & 63) == 63 && wl_rdtsc() > deadline) {
			n++;
			break;
		}
	}
	uint64_t t1 = wl_rdtsc();
	wl_region_end(env, "run");
	if (rc)
		return rc;
	if (n < exits)
		wl_log_u64(env, "exit-storm: max_ms reached after blocks ", n, "");
	wl_log_u64(env, "exit-storm: checksum ", x, "");
	env->emit(env, "time", "ms", true, wl_ticks_to_ms(env, t1 - t0), 0, 0, 0);
	env->emit(env, "exits", "count", true, (double)done, 0, 0, 0);
	env->emit(env, "exit_time", "ms", true, wl_ticks_to_ms(env, exit_ticks), 0, 0, 0);
	env->emit(env, "compute_units", "count", false, (double)(n * k), 0, 0, 0);
	return 0;
}

const struct workload_ops wl_exit_storm = {
    .name = "exit-storm",
    .help = "one VM exit of a chosen kind every k units of compute (validates the decomposition)",
    .params = exit_storm_params,
    .quick_params = "exits=1000 selfcal=100",
    .run = exit_storm_run,
    .est_ms = 400,
    .info_metrics = "selfcal_exit_ns",
    .est_quick_ms = 200,
};
