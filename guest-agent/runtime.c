/*
 * The freestanding workload runtime: struct wl_env inside the guest.
 *
 * Why: workloads are written once against wl_env and also run as host
 * processes; this is the guest side of that contract. Metrics and logs become
 * protocol records on COM1, memory comes from the RAM arena (released when the
 * workload returns), parameters come from the validated command line.
 */
#include "guest-agent/agent.h"
#include "guest-agent/smp.h"
#include "workloads/wl_cmdline.h"

#define PAGE_SIZE 4096

struct runtime {
	struct wl_env env;
	const struct wl_cmdline *cmd;
};

static struct runtime *rt_of(struct wl_env *env)
{
	return (struct runtime *)env->priv;
}

/* Workload memory, every page written once before the workload sees it, as
 * the bare runner does (harness/hosted_mem.c): guest RAM is mapped in the
 * guest's page tables but not yet backed by the host, so an untouched page
 * would pay the host's fault (allocate and zero, two-stage or shadow fill)
 * inside the timed loop on the VM side only. */
static void *rt_alloc(struct wl_env *env, size_t bytes, size_t align)
{
	(void)env;
	uint64_t p = ag_arena_alloc(ag_memory_arena(), bytes, align ? align : PAGE_SIZE);
	for (uint64_t off = 0; p && off < bytes; off += PAGE_SIZE)
		*(volatile uint8_t *)(uintptr_t)(p + off) = 0;
	return (void *)(uintptr_t)p;
}

static void rt_emit(struct wl_env *env, const char *metric, const char *unit, bool lower_is_better,
		    double value, const char *xk, const char *xu, double x)
{
	struct ag_line l;
	ag_rec_begin(&l, "metric");
	ag_rec_str(&l, "wl", rt_of(env)->cmd->wl->name);
	ag_rec_str(&l, "m", metric);
	ag_rec_str(&l, "u", unit);
	ag_rec_str(&l, "better", lower_is_better ? "lower" : "higher");
	ag_rec_double(&l, "v", value);
	if (xk) {
		ag_rec_str(&l, "xk", xk);
		ag_rec_str(&l, "xu", xu ? xu : "");
		ag_rec_double(&l, "x", x);
	}
	ag_emit_line(&l);
}

static void rt_log(struct wl_env *env, const char *msg)
{
	(void)env;
	ag_log(msg);
}

static const char *rt_param(struct wl_env *env, const char *key)
{
	return wl_cmdline_param(rt_of(env)->cmd, key);
}

static void emit_params(const struct wl_cmdline *cmd)
{
	for (size_t i = 0; i < cmd->nparams; i++) {
		struct ag_line l;
		ag_rec_begin(&l, "param");
		ag_rec_str(&l, "k", cmd->params[i].key);
		ag_rec_str(&l, "v", cmd->params[i].val);
		ag_emit_line(&l);
	}
}

static unsigned rt_ncpus(struct wl_env *env)
{
	return ag_smp_ncpus(env->tsc_hz);
}

static int rt_cpu_run(struct wl_env *env, unsigned cpu, void (*fn)(void *), void *arg)
{
	(void)env;
	return ag_smp_run(cpu, fn, arg);
}

static int rt_cpu_join(struct wl_env *env, unsigned cpu)
{
	(void)env;
	return ag_smp_join(cpu, AG_JOIN_WORKLOAD_MS);
}

static int rt_sleep_probe(struct wl_env *env, char *why, size_t len)
{
	return ag_sleep_probe(env->tsc_hz, why, len);
}

static int rt_sleep_until(struct wl_env *env, uint64_t deadline, uint64_t *woke)
{
	(void)env;
	return ag_sleep_until(deadline, woke);
}

int ag_run_workload(const struct wl_cmdline *cmd, uint64_t tsc_hz, bool regions)
{
	struct runtime rt = {
	    .env = {.tsc_hz = tsc_hz,
		    .alloc = rt_alloc,
		    .emit = rt_emit,
		    .log = rt_log,
		    .param = rt_param,
		    .ncpus = rt_ncpus,
		    .cpu_run = rt_cpu_run,
		    .cpu_join = rt_cpu_join,
		    .sleep_probe = rt_sleep_probe,
		    .sleep_until = rt_sleep_until},
	    .cmd = cmd,
	};
	rt.env.priv = &rt;
	ag_calib_env(&rt.env); /* platform primitives + calib records (calib_*.c) */
	if (regions)
		ag_region_install(&rt.env); /* timed-region markers (region.c) */
	emit_params(cmd);
	struct ag_arena_mark mark = ag_arena_mark(ag_memory_arena());
	int rc = cmd->wl->run(&rt.env);
	ag_arena_reset(ag_memory_arena(), mark);
	return rc;
}
