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
 * Several VMMs (`--vmm vmm-lite,qemu`) are calibrated in one run, their
 * groups interleaved in one seeded order, and kvm-floor (docs/FLOOR.md) times
 * the pio kind beside them: calibration.json carries each VMM's kinds and
 * their ratios to the floor and to the first VMM (core/calib.c).
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
#include "harness/vmm.h"

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

#define CAL_MAX_VMMS 4
#define CAL_MAX_SERIES (2 + NGROUPS * CAL_MAX_VMMS)
#define CAL_FLOOR_KINDS "pio" /* what kvm-floor's guest times */

struct cal_state {
	json_t *bare, *floor;	  /* the sides being filled */
	json_t *vm[CAL_MAX_VMMS]; /* one per VMM */
	const char *vmm[CAL_MAX_VMMS];
	size_t nvmms;
	char floor_why[240]; /* non-empty: kvm-floor could not run here */
};

static struct cal_state cal;

static bool is_floor(const struct series *ser)
{
	return ser->vmm && !strcmp(ser->vmm, VMM_FLOOR_NAME);
}

static const char *kinds_of(const struct series *ser)
{
	if (is_floor(ser))
		return CAL_FLOOR_KINDS;
	return ser->vmm ? vm_groups[ser->index % NGROUPS] : CALIB_HOST_KINDS;
}

static json_t *side_of(const struct series *ser)
{
	if (is_floor(ser))
		return cal.floor;
	return ser->vmm ? cal.vm[ser->index / NGROUPS] : cal.bare;
}

static size_t cal_series(struct session *s, const struct plan_workload *w, struct series *out,
			 size_t max)
{
	(void)w, (void)s;
	size_t n = 0;
	if (max < 2 + NGROUPS * cal.nvmms)
		return 0;
	out[n++] = (struct series){.name = "bare", .side = "bare", .backing = "thp"};
	if (!cal.floor_why[0])
		out[n++] = (struct series){.name = VMM_FLOOR_NAME,
					   .side = "vm",
					   .vmm = VMM_FLOOR_NAME,
					   .backing = "thp",
					   .mem_bytes = 256ull << 20,
					   .vcpus = 1};
	for (size_t v = 0; v < cal.nvmms; v++)
		for (size_t g = 0; g < NGROUPS; g++) {
			struct series *x = &out[n++];
			*x = (struct series){
			    .side = "vm",
			    .vmm = cal.vmm[v],
			    .backing = "thp",
			    .pagesize = "2m",
			    .index = (int)(v * NGROUPS + g),
			    .mem_bytes = 256ull << 20,
			    /* the ipi kind ping-pongs vCPU 0 <-> 1 (both on the CPU) */
			    .vcpus = strstr(vm_groups[g], ",ipi,") ? 2 : 1};
			snprintf(x->name, sizeof(x->name), "%s[group=%zu]", x->vmm, g + 1);
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
		json_t *side = side_of(ser);
		char bad[200];
		if (calib_add_records(side, res.proto.calib, hello_tsc_hz(&res, s->tsc_khz), bad,
				      sizeof(bad)) &&
		    res.status == RUN_OK) { /* a hostile producer fails its own run */
			res.status = RUN_FAILED;
			snprintf(res.reason, sizeof(res.reason), "%s", bad);
		}
		calib_price_cpu(
		    side, json_object_get(ser->vmm ? res.vmm_stats : res.bare_stats, "regions"));
		if (res.status != RUN_OK) {
			char why[400];
			snprintf(why, sizeof(why), "the calibration run failed (%s): %s",
				 run_status_name(res.status), res.reason);
			calib_mark_missing(side, kinds, why);
		}
	}
	size_t nk = json_array_size(res.proto.calib);
	progress_note(&s->progress, "%s: calibrating: %s %s: %s%zu kind%s measured (%.2f s)",
		      s->cmd, ser->name,
		      is_floor(ser) ? "the floor's exit"
		      : ser->vmm    ? "exit kinds"
				    : "host boundaries",
		      rc ? "stopped, " : "", nk, nk == 1 ? "" : "s", (double)res.wall_ns / 1e9);
	run_result_release(&res);
	*record = NULL; /* calibration runs are not workload runs */
	return rc;
}

int calibrate_measure_vmms(struct session *s, const char *const *vmms, size_t nvmms, json_t **out)
{
	struct series ser[CAL_MAX_SERIES];
	size_t perm[CAL_MAX_SERIES];
	time_t now = time(NULL);
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	cal = (struct cal_state){.bare = json_object(), .floor = json_object()};
	for (size_t v = 0; v < nvmms && v < CAL_MAX_VMMS; v++) {
		cal.vmm[v] = vmms[v];
		cal.vm[v] = json_object();
		cal.nvmms++;
	}
	if (vmm_floor.probe(cal.floor_why, sizeof(cal.floor_why)) && !cal.floor_why[0])
		snprintf(cal.floor_why, sizeof(cal.floor_why), "unavailable: kvm-floor cannot run");
	json_t *all = json_object();
	for (size_t v = 0; v < cal.nvmms; v++)
		json_object_set(all, cal.vmm[v], cal.vm[v]);
	*out = json_pack("{s:i,s:s,s:s,s:s,s:i,s:b,s:I,s:o,s:o,s:O,s:o,s:O}", "version",
			 CALIB_SCHEMA_VERSION, "tool", "virttax " VIRTTAX_VERSION, "created", stamp,
			 "vmm", cal.vmm[0], "pin", s->plan->cpu, "quick", s->plan->quick, "tsc_khz",
			 (json_int_t)s->tsc_khz, "environment", environment_collect(NULL), "bare",
			 cal.bare, "vm", cal.vm[0], "vmms", all, "floor", cal.floor);
	for (size_t v = 0; v < cal.nvmms; v++)
		json_decref(cal.vm[v]); /* *out holds them now; cal borrows */
	json_decref(cal.floor);
	if (cal.floor_why[0])
		calib_mark_missing(cal.floor, CAL_FLOOR_KINDS, cal.floor_why);
	size_t n = cal_series(s, NULL, ser, CAL_MAX_SERIES);
	runner_order(s->plan->seed, CALIB_ROUND_WL, 0, n, perm);
	progress_note(&s->progress, "%s: calibrating exit costs (%s%s, %zu runs%s)", s->cmd,
		      cal.vmm[0], cal.nvmms > 1 ? " and more" : "", n,
		      s->plan->quick ? ", quick" : "");
	int rc = 0;
	for (size_t k = 0; !rc && k < n; k++) {
		struct run_meta m = {.side = ser[perm[k]].side, .series = ser[perm[k]].name};
		json_t *rec = NULL;
		rc = cal_rep(s, NULL, &ser[perm[k]], &m, &rec);
	}
	if (!rc) {
		json_object_set_new(*out, "ladder", calib_build_ladder(*out));
		json_object_set_new(*out, "ratios", calib_build_ratios(*out));
		json_object_set_new(*out, "order",
				    json_pack("{s:I,s:s}", "seed", (json_int_t)s->plan->seed,
					      "note",
					      "the host, floor and VM groups ran in a seeded "
					      "random order"));
		return 0;
	}
	if (rc != -ECANCELED)
		fprintf(stderr, "%s: calibration failed: %s\n", s->cmd, s->fatal_msg);
	json_decref(*out);
	*out = NULL;
	return rc;
}

int calibrate_measure(struct session *s, const char *vmm, json_t **out)
{
	return calibrate_measure_vmms(s, &vmm, 1, out);
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
