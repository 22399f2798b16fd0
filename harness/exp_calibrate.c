/*
 * Experiment `calibrate`: the cost per operation of every VM exit kind (the
 * agent's workload `calib` in the VMM) and of the host's isolation
 * boundaries (the same workload on bare metal), written as calibration.json
 * by core/calib.c (docs/CALIBRATION.md). `virttax calibrate` runs it alone;
 * a `virttax run` whose experiments decompose overhead runs it first.
 *
 * Why groups: a kind that crashes the guest costs only its group, which is
 * then reported unavailable with the reason. Adding a kind is an entry in
 * vm_groups (or the host list); adding a VMM's own kinds is a series here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "collectors/collector.h"
#include "core/calib.h"
#include "core/results.h"
#include "harness/cmds.h"
#include "harness/experiment.h"
#include "harness/runner.h"

#define CALIB_HOST_KINDS                                                                           \
	"function-call,indirect-call,syscall,thread-wake,process-roundtrip,ctx-switch,pt-churn,"   \
	"host-irq"
static const char *const vm_groups[] = {
    "function-call,indirect-call,cpuid,hypercall,pio,pio-ioeventfd,mmio,mmio-ioeventfd,"
    "msr-kernel-read,msr-kernel-write,msr-user-read,msr-user-write",
    "syscall,ctx-switch,pt-churn,pt-rewrite,priv-insn,host-irq",
    "hlt-timer,self-ipi,ipi,timer-latency",
};
#define NGROUPS (sizeof(vm_groups) / sizeof(vm_groups[0]))
#define CALIB_ROUND_WL 0xca11 /* runner_order's workload number for the calibration */

struct cal_state {
	json_t *bare, *vm; /* the sides being filled */
	const char *vmm;
};

static struct cal_state cal;

static const char *kinds_of(const struct series *ser)
{
	return ser->vmm ? vm_groups[ser->index] : CALIB_HOST_KINDS;
}

static size_t cal_series(struct session *s, const struct plan_workload *w, struct series *out,
			 size_t max)
{
	(void)w;
	size_t n = 0;
	if (max < NGROUPS + 1)
		return 0;
	out[n++] = (struct series){.name = "bare", .side = "bare", .backing = "thp"};
	for (size_t g = 0; g < NGROUPS; g++) {
		struct series *v = &out[n++];
		*v = (struct series){.side = "vm",
				     .vmm = cal.vmm ? cal.vmm : s->plan->vmms[0],
				     .backing = "thp",
				     .pagesize = "2m",
				     .index = (int)g,
				     .mem_bytes = 256ull << 20,
				     /* the ipi kind ping-pongs vCPU 0 <-> 1 (both on the CPU) */
				     .vcpus = strstr(vm_groups[g], ",ipi,") ? 2 : 1};
		snprintf(v->name, sizeof(v->name), "%s[group=%zu]", v->vmm, g + 1);
	}
	return n;
}

static double hello_tsc_hz(const struct run_result *r, unsigned long fallback_khz)
{
	json_t *k = json_object_get(r->proto.hello, "tsc_khz");
	return (json_is_integer(k) && json_integer_value(k) > 0 ? (double)json_integer_value(k)
								: (double)fallback_khz) *
	       1e3;
}

/* One run of the calib workload; records go to its side, failures to reasons. */
static int cal_rep(struct session *s, const struct plan_workload *w, const struct series *ser,
		   const struct run_meta *m, json_t **record)
{
	(void)w, (void)m;
	char karg[512], garg[32], rarg[32];
	const char *kinds = kinds_of(ser);
	snprintf(karg, sizeof(karg), "kinds=%s", kinds);
	snprintf(garg, sizeof(garg), "goal_ms=%d", s->plan->quick ? 5 : 20);
	snprintf(rarg, sizeof(rarg), "rounds=%d", s->plan->quick ? 7 : 11);
	const char *args[] = {karg, garg, rarg};
	struct plan_workload calw = {.name = "calib", .args = {karg, garg, rarg}, .nargs = 3};
	struct run_spec spec;
	runner_spec(s, &calw, ser, &spec);
	spec.wl_args = args;
	spec.cpu_list = NULL; /* every vCPU and thread on the calibration CPU */
	spec.timeout_s = 120;
	spec.vmm_args = NULL, spec.nvmm_args = 0;
	/* costs, not runs: no perf events on the measured threads, whose sched
	 * hooks would add 2-3 us to every context switch (process round trip,
	 * wake-ups, halts; docs/CALIBRATION.md) */
	spec.no_collectors = true;
	struct run_result res;
	run_result_init(&res);
	int rc = runner_check(s, &calw, ser, runner_exec(s, &spec, ser->vmm, &res), &res);
	if (!rc) {
		json_t *side = ser->vmm ? cal.vm : cal.bare;
		calib_add_records(side, res.proto.calib, hello_tsc_hz(&res, s->tsc_khz));
		if (res.status != RUN_OK) {
			char why[400];
			snprintf(why, sizeof(why), "the calibration run failed (%s): %s",
				 run_status_name(res.status), res.reason);
			calib_mark_missing(side, kinds, why);
		}
	}
	size_t nk = json_array_size(res.proto.calib);
	progress_note(&s->progress, "%s: calibrating: %s %s: %s%zu kind%s measured (%.2f s)",
		      s->cmd, ser->name, ser->vmm ? "exit kinds" : "host boundaries",
		      rc ? "stopped, " : "", nk, nk == 1 ? "" : "s", (double)res.wall_ns / 1e9);
	run_result_release(&res);
	*record = NULL; /* calibration runs are not workload runs */
	return rc;
}

int calibrate_measure(struct session *s, const char *vmm, json_t **out)
{
	struct series ser[NGROUPS + 1];
	size_t perm[NGROUPS + 1];
	time_t now = time(NULL);
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	cal = (struct cal_state){.bare = json_object(), .vm = json_object(), .vmm = vmm};
	*out =
	    json_pack("{s:i,s:s,s:s,s:s,s:i,s:b,s:I,s:o,s:o,s:o}", "version", CALIB_SCHEMA_VERSION,
		      "tool", "virttax " VIRTTAX_VERSION, "created", stamp, "vmm", vmm, "pin",
		      s->plan->cpu, "quick", s->plan->quick, "tsc_khz", (json_int_t)s->tsc_khz,
		      "environment", environment_collect(NULL), "bare", cal.bare, "vm", cal.vm);
	size_t n = cal_series(s, NULL, ser, NGROUPS + 1);
	runner_order(s->plan->seed, CALIB_ROUND_WL, 0, n, perm);
	progress_note(&s->progress, "%s: calibrating exit costs (%s, %zu runs%s)", s->cmd, vmm, n,
		      s->plan->quick ? ", quick" : "");
	int rc = 0;
	for (size_t k = 0; !rc && k < n; k++) {
		struct run_meta m = {.side = ser[perm[k]].side, .series = ser[perm[k]].name};
		json_t *rec = NULL;
		rc = cal_rep(s, NULL, &ser[perm[k]], &m, &rec);
	}
	if (!rc) {
		json_object_set_new(*out, "ladder", calib_build_ladder(*out));
		json_object_set_new(*out, "order",
				    json_pack("{s:I,s:s}", "seed", (json_int_t)s->plan->seed,
					      "note",
					      "the host and VM groups ran in a seeded "
					      "random order"));
		return 0;
	}
	if (rc != -ECANCELED)
		fprintf(stderr, "%s: calibration failed: %s\n", s->cmd, s->fatal_msg);
	json_decref(*out);
	*out = NULL;
	return rc;
}

int calibrate_session(struct session *s, json_t *loaded)
{
	const struct plan *p = s->plan;
	json_t *c = loaded; /* stolen */
	if (!c) {
		int rc = calibrate_measure(s, p->vmms[0], &c);
		if (rc == -ECANCELED)
			return SESSION_EXIT_INTERRUPTED;
		if (rc && s->fatal == RUN_FATAL_USAGE) /* bad input (agent, VMM args): stop */
			return VTX_EXIT_USAGE;
		if (rc) { /* recorded, and the plan goes on without it */
			c = json_pack("{s:b,s:s}", "available", 0, "reason", s->fatal_msg);
			s->fatal = RUN_FATAL_NONE;
			s->fatal_msg[0] = 0;
		}
	}
	json_object_set_new(s->results, "calibration", c);
	return VTX_EXIT_OK;
}

int calibrate_load(const struct plan *p, const char *cmd, json_t **out)
{
	char err[400];
	*out = NULL;
	if (!p->calibration_path)
		return 0;
	if (calib_load(p->calibration_path, out, err, sizeof(err))) {
		fprintf(stderr, "%s: --calibration %s\n", cmd, err);
		return VTX_EXIT_USAGE;
	}
	return 0;
}

const struct experiment_ops exp_calibrate = {
    .name = "calibrate",
    .help = "exit costs per kind and the host's isolation-boundary ladder (calibration.json)",
    .no_warmup = true,
    .reps = 1,
    .quick_reps = 1,
    .series = cal_series,
    .rep = cal_rep,
};
