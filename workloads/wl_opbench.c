/*
 * Implementation of workloads/wl_opbench.h (see there for why).
 */
#include "workloads/wl_opbench.h"
#include "virttax/wl_ops.h"
#include "workloads/wl_errno.h"
#include "workloads/wl_util.h"

#define WL_ENOTSUP 95
#define OPBENCH_MAX_BATCHES 64

static void sort_u64(uint64_t *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++)
		for (uint32_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

int wl_opbench_run(struct wl_env *env, unsigned op)
{
	uint64_t iters, batches, max_ms;
	int rc;
	if ((rc = wl_param_u64(env, "iters", &iters)) ||
	    (rc = wl_param_u64(env, "batches", &batches)) ||
	    (rc = wl_param_u64(env, "max_ms", &max_ms)))
		return rc;
	if (!iters || batches < 1 || batches > OPBENCH_MAX_BATCHES || iters < batches) {
		env->log(env, "iters must be >= batches and batches 1..64");
		return -WL_EINVAL;
	}
	char why[160] = "";
	if (!env->op || !env->op_probe || env->op_probe(env, op, why, sizeof(why))) {
		char msg[220] = "unavailable: ";
		wl_strcat(msg, sizeof(msg), why[0] ? why : "this runtime has no such operation");
		env->log(env, msg);
		return -WL_ENOTSUP;
	}
	env->log(env, why); /* the mechanism */
	uint64_t per = iters / batches, ticks[OPBENCH_MAX_BATCHES], total = 0, done = 0;
	uint64_t deadline = wl_rdtsc() + wl_ms_to_ticks(env, max_ms);
	uint32_t nb = 0;
	wl_region_begin(env, "run");
	while (nb < batches) {
		if ((rc = env->op(env, op, per, &ticks[nb])))
			break;
		total += ticks[nb++];
		done += per;
		if (wl_rdtsc() > deadline)
			break;
	}
	wl_region_end(env, "run");
	if (rc)
		return rc;
	if (nb < batches)
		wl_log_u64(env, "max_ms reached: batches done ", nb, "");
	sort_u64(ticks, nb);
	double med =
	    nb & 1 ? (double)ticks[nb / 2] : 0.5 * (double)(ticks[nb / 2 - 1] + ticks[nb / 2]);
	env->emit(env, "ns_per_op", "ns", true, wl_ticks_to_ns(env, 1) * med / (double)per, 0, 0,
		  0);
	env->emit(env, "time", "ms", true, wl_ticks_to_ms(env, total), 0, 0, 0);
	env->emit(env, "ops", "count", false, (double)done, 0, 0, 0);
	return 0;
}
