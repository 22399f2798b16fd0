/*
 * The workload ops table.
 *
 * Why: a workload is written once and built twice, hosted (bare-metal runner,
 * `virttax baseline`) and freestanding (inside the guest agent). So a workload
 * may use only <stdint.h>, <stddef.h>, <stdbool.h> and the services in
 * struct wl_env; never libc, never syscalls. Adding a workload is one file in
 * workloads/ and one entry in workloads/registry.c.
 */
#ifndef VIRTTAX_WORKLOAD_H
#define VIRTTAX_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virttax/region.h"

struct wl_env;
struct wl_calib; /* include/virttax/wl_ops.h */

/* Services a runtime (host runner or guest agent) provides to a workload. */
struct wl_env {
	uint64_t tsc_hz; /* measured TSC frequency */
	/* Memory for the workload's data: page-aligned (or `align`), not zeroed.
	 * NULL when it does not fit. Released when the workload returns. */
	void *(*alloc)(struct wl_env *env, size_t bytes, size_t align);
	/* Report one value; see protocol.h "metric". xk == NULL for a scalar. */
	void (*emit)(struct wl_env *env, const char *metric, const char *unit, bool lower_is_better,
		     double value, const char *xk, const char *xu, double x);
	void (*log)(struct wl_env *env, const char *msg);
	/* Effective value of parameter `key` (default applied), NULL if unknown. */
	const char *(*param)(struct wl_env *env, const char *key);
	void *priv; /* runtime private */
	/* Optional platform primitives (include/virttax/wl_ops.h); NULL = none.
	 * op_probe: 0 when `op` can run here, else -errno and a one-line reason.
	 * op: run `op` n times back to back, *ticks = TSC ticks of the loop
	 * (WL_OP_TIMER_LATENCY: the sum of the n latencies); 0 or -errno. */
	int (*op_probe)(struct wl_env *env, unsigned op, char *why, size_t len);
	int (*op)(struct wl_env *env, unsigned op, uint64_t n, uint64_t *ticks);
	/* Optional: report one calibrated kind ({"t":"calib"}); NULL = not supported. */
	void (*emit_calib)(struct wl_env *env, const struct wl_calib *c);
	/* Optional other CPUs (guest: application processors, host: threads);
	 * NULL = one CPU. ncpus counts the caller's CPU too. cpu_run starts
	 * fn(arg) on CPU 1..ncpus-1 and returns at once; cpu_join waits for it. */
	unsigned (*ncpus)(struct wl_env *env);
	int (*cpu_run)(struct wl_env *env, unsigned cpu, void (*fn)(void *), void *arg);
	int (*cpu_join)(struct wl_env *env, unsigned cpu);
	/* Optional one-shot timer sleep (sched-wakeup). sleep_probe: 0, or -errno
	 * and a one-line reason. sleep_until: sleep until TSC `deadline`, *woke =
	 * TSC when running again (guest: TSC-deadline timer + hlt; host:
	 * clock_nanosleep). */
	int (*sleep_probe)(struct wl_env *env, char *why, size_t len);
	int (*sleep_until)(struct wl_env *env, uint64_t deadline, uint64_t *woke);
	/* Optional timed-region markers (docs/INTERFACES.md section 2); NULL =
	 * none. Workloads call wl_region_begin()/wl_region_end() (never this
	 * pointer directly) just outside each timed interval: begin before the
	 * TSC read that starts it, end after the TSC read that ends it. The
	 * runtime accounts what happened in between (guest: the VMM's exits and
	 * KVM stats via a marker port; host: thread CPU time, run delay, context
	 * switches). `label` (WL_REGION_LABEL_MAX, [A-Za-z0-9_.@=+-]) names what
	 * the interval times: "METRIC", "METRIC@X" (the curve point x = X), or
	 * "run" (every metric of the run without a region of its own). */
	void (*region)(struct wl_env *env, unsigned edge, const char *label);
};

#define WL_REGION_BEGIN VTX_REGION_BEGIN
#define WL_REGION_END VTX_REGION_END
#define WL_REGION_LABEL_MAX VTX_REGION_LABEL_MAX

struct wl_param {
	const char *key;
	const char *def; /* default value, as text */
	const char *help;
};

struct workload_ops {
	const char *name;
	const char *help;
	const struct wl_param *params; /* terminated by {NULL} */
	/* Quick-mode overrides "k=v k=v" applied by `virttax run --quick` */
	const char *quick_params;
	/* 0 or a negative errno; on error the runtime reports an "error" record */
	int (*run)(struct wl_env *env);
	/* What the workload needs from a run, given by default by the harness
	 * (docs/ARCHITECTURE.md): vCPUs/threads (0 = 1; 2 gets a dedicated CPU
	 * each unless --pin none or --overcommit says otherwise), and WL_NEEDS_*
	 * bits: a disk or a NIC (the I/O experiments), memory-pressure flags. */
	unsigned vcpus;
	const char *vcpus_param; /* non-NULL: that parameter's value, when larger */
	unsigned needs;
	/* Rough wall time of one run on the development host at the default and
	 * at the quick parameters, in ms: only for `virttax run --dry-run`'s
	 * estimate (time-based workloads: their ms parameter is used instead). */
	unsigned est_ms, est_quick_ms;
	/* Metrics that describe the run rather than measure its speed (a value the
	 * workload calibrates for itself, e.g. exit-storm's selfcal_exit_ns), space
	 * separated; NULL = none. Metrics in unit "count" are such always. The
	 * harness marks them "role": "info" in the run record; --reps auto and the
	 * gate do not judge them (docs/METHOD.md). */
	const char *info_metrics;
};

#define WL_NEEDS_DISK 1u	 /* a virtio-blk/ATA disk (blk-*): the io-blk experiment */
#define WL_NEEDS_NIC 2u		 /* a NIC on a tap with the reflector (net-*): io-net */
#define WL_TAKES_MEM_PRESSURE 4u /* --mem-limit / --balloon apply (mem-pressure) */
/* its overhead is largely address translation's: without --backing/--pagesize
 * the plan adds the host backing and guest page size A/B series (exp_ab.c), so
 * the decomposition's translation column is there by default */
#define WL_NEEDS_TRANSLATION 8u

/* workloads/registry.c */
extern const struct workload_ops *const workload_table[];
const struct workload_ops *workload_find(const char *name);

/* workloads/wl_util.c: freestanding helpers shared by both builds */
/* lfence; rdtsc, not rdtscp: QEMU's default CPU model has no RDTSCP (#UD). */
static inline uint64_t wl_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}
int wl_parse_u64(const char *s, uint64_t *out); /* decimal/hex, K/M/G suffixes (binary) */
int wl_param_u64(struct wl_env *env, const char *key, uint64_t *out);
double wl_ticks_to_ns(const struct wl_env *env, uint64_t ticks);
uint64_t wl_xorshift64(uint64_t *state);
/* Timed-region markers (wl_env.region); no-ops when the runtime has none. */
static inline void wl_region_begin(struct wl_env *env, const char *label)
{
	if (env->region)
		env->region(env, WL_REGION_BEGIN, label);
}
static inline void wl_region_end(struct wl_env *env, const char *label)
{
	if (env->region)
		env->region(env, WL_REGION_END, label);
}
/* Host interrupts seen from running code (wl_ops.h WL_OP_HOST_IRQ): spin on
 * the TSC until n gaps between consecutive reads lie in [WL_HOST_IRQ_MIN_NS,
 * WL_HOST_IRQ_MAX_NS]; *sum = their total ticks. 0, or -ETIMEDOUT (fewer
 * than n) once past TSC `deadline`. Both runtimes implement the op with it. */
int wl_host_irq_gaps(uint64_t tsc_hz, uint64_t n, uint64_t deadline, uint64_t *sum);
/* "METRIC@X" into buf (cap >= WL_REGION_LABEL_MAX) for an integral curve point x. */
const char *wl_region_label_at(char *buf, size_t cap, const char *metric, uint64_t x);

#endif
