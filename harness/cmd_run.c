/*
 * `virttax run`: the measurement loop.
 *
 * Why it looks like this: bare-metal and VM runs alternate (A B A B ...) on the
 * same pinned CPU so that slow drifts (thermal, frequency, noisy neighbours)
 * hit both sides equally; warm-up pairs are recorded but not counted; every
 * run, failed or not, lands in results.json, which is written once, atomically,
 * at the end. Bad input is rejected before anything runs.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectors/collector.h"
#include "core/calib.h"
#include "core/outfile.h"
#include "core/tsc.h"
#include "harness/autoreps.h"
#include "harness/calib_run.h"
#include "harness/cmds.h"
#include "harness/cotenant.h"
#include "harness/hosted.h"
#include "harness/io_run.h"
#include "harness/mem_pressure.h"
#include "harness/plan.h"
#include "core/results.h"
#include "harness/run_record.h"
#include "reports/table.h"
#include "harness/vmm.h"

#define TSC_WINDOW_MS 100
#define COTENANT_BYTES (64u << 20) /* > any LLC here, 16k 4 KiB pages */

struct run_ctx {
	const struct plan *plan;
	const struct vmm_ops *vmm;
	unsigned long tsc_khz;
	char scratch[PATH_MAX];
	enum run_fatal fatal;
	char fatal_msg[400];
};

static void series_name(const struct plan *p, const char *side, const char *backing,
			const char *pagesize, char *buf, size_t len)
{
	bool vb = p->nbackings > 1, vp = pagesize && p->npagesizes > 1;
	if (!vb && !vp)
		snprintf(buf, len, "%s", side);
	else if (vb && vp)
		snprintf(buf, len, "%s[backing=%s,pagesize=%s]", side, backing, pagesize);
	else if (vb)
		snprintf(buf, len, "%s[backing=%s]", side, backing);
	else
		snprintf(buf, len, "%s[pagesize=%s]", side, pagesize);
}

static void progress(const struct plan_workload *w, const struct run_meta *m,
		     const struct run_result *res)
{
	fprintf(stderr, "virttax: %-10s %-22s %s %u: %s (%.2f s)%s%s\n", w->ops->name, m->series,
		m->warmup ? "warmup" : "rep   ", m->rep, run_status_name(res->status),
		(double)res->wall_ns / 1e9, res->reason[0] ? ": " : "", res->reason);
}

/* One run on one side; appends its record to `runs`. Returns 0 or -errno; sets
 * ctx->fatal when the plan must stop. */
static int one_run(struct run_ctx *ctx, const struct plan_workload *w, struct run_spec *spec,
		   const struct run_meta *meta, json_t *runs)
{
	struct run_result res;
	run_result_init(&res);
	int rc = meta->vmm ? vmm_find(meta->vmm)->run(spec, &res) : bare_run(spec, &res);
	if (rc) {
		snprintf(ctx->fatal_msg, sizeof(ctx->fatal_msg), "cannot start the %s run: %s",
			 meta->side, strerror(-rc));
		ctx->fatal = RUN_FATAL_HOST;
	} else if (res.fatal) {
		snprintf(ctx->fatal_msg, sizeof(ctx->fatal_msg), "%s (workload %s)", res.reason,
			 w->ops->name);
		ctx->fatal = res.fatal;
	} else {
		progress(w, meta, &res);
		json_array_append_new(runs, results_run_record(meta, &res));
	}
	run_result_release(&res);
	return ctx->fatal ? -ECANCELED : 0;
}

/* One bare run and one VM run per page size, for one backing. */
static int one_pair(struct run_ctx *ctx, const struct plan_workload *w, const char *backing,
		    unsigned rep, bool warmup, json_t *runs)
{
	const struct plan *p = ctx->plan;
	char bare_series[96], vm_series[96];
	struct run_spec spec = {
	    .workload = w->ops->name,
	    .wl_args = (const char *const *)w->args,
	    .nwl_args = w->nargs,
	    .cpu = p->cpu,
	    .backing = plan_bare_backing(backing),
	    .mem_bytes = p->mem_bytes,
	    .timeout_s = p->timeout_s,
	    .tsc_khz = ctx->tsc_khz,
	    .scratch_dir = ctx->scratch,
	    .vmm_args = p->vmm_args,
	    .nvmm_args = p->nvmm_args,
	    .vcpus = p->vcpus,
	    .cpu_list = p->cpu_list_set ? p->cpu_list : NULL,
	};
	series_name(p, "bare", backing, NULL, bare_series, sizeof(bare_series));
	struct run_meta meta = {.side = "bare",
				.series = bare_series,
				.backing = spec.backing,
				.rep = rep,
				.warmup = warmup};
	int rc = one_run(ctx, w, &spec, &meta, runs);
	/* with several VMMs (--vmm vmm-lite,qemu) each is its own series, named after it */
	for (size_t v = 0; !rc && v < p->nvmms; v++)
		for (size_t i = 0; !rc && i < p->npagesizes; i++) {
			series_name(p, p->nvmms > 1 ? p->vmms[v] : "vm", backing, p->pagesizes[i],
				    vm_series, sizeof(vm_series));
			spec.backing = backing;
			spec.pagesize = p->pagesizes[i];
			meta = (struct run_meta){.side = "vm",
						 .vmm = p->vmms[v],
						 .series = vm_series,
						 .baseline_series = bare_series,
						 .backing = backing,
						 .pagesize = spec.pagesize,
						 .rep = rep,
						 .warmup = warmup};
			rc = one_run(ctx, w, &spec, &meta, runs);
		}
	return rc;
}

static int run_workload(struct run_ctx *ctx, const struct plan_workload *w, json_t *results)
{
	const struct plan *p = ctx->plan;
	json_t *runs = json_array();
	json_t *wl = json_pack("{s:s,s:o,s:o}", "name", w->ops->name, "params",
			       plan_workload_params_json(w), "runs", runs);
	json_array_append_new(json_object_get(results, "workloads"), wl);
	int rc = 0;
	unsigned i;
	/* autoreps_more(): --reps N, or --reps auto's stopping rule (harness/autoreps.c) */
	for (i = 0; !rc && (i < p->warmup || autoreps_more(p, wl, i - p->warmup)); i++) {
		bool warmup = i < p->warmup;
		unsigned rep = warmup ? i : i - p->warmup;
		for (size_t b = 0; !rc && b < p->nbackings; b++)
			rc = one_pair(ctx, w, p->backings[b], rep, warmup, runs);
	}
	if (!rc)
		autoreps_record(p, wl, i - p->warmup);
	return rc ? rc : results_summarize(wl);
}

static int write_results(const struct plan *p, json_t *results, char *path, size_t len)
{
	int rc = outfile_mkdirs(p->out_dir);
	if (rc)
		return rc;
	if ((size_t)snprintf(path, len, "%s/results.json", p->out_dir) >= len)
		return -ENAMETOOLONG;
	return results_write_atomic(path, results);
}

/* Keep the harness itself off the measured CPU when there is another one. */
static void move_off_cpu(int cpu)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) || CPU_COUNT(&set) < 2)
		return;
	CPU_CLR(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int prepare(struct run_ctx *ctx)
{
	char why[400];
	int rc = 0;
	for (size_t v = 0; !rc && v < ctx->plan->nvmms; v++)
		rc = vmm_find(ctx->plan->vmms[v])->probe(why, sizeof(why));
	if (rc) {
		fprintf(stderr, "virttax run: %s\n", why);
		return rc == -ENOENT ? VTX_EXIT_USAGE : VTX_EXIT_HOST;
	}
	uint64_t hz;
	if ((rc = tsc_measure_hz(TSC_WINDOW_MS, &hz))) {
		fprintf(stderr, "virttax run: cannot measure the TSC frequency: %s\n",
			strerror(-rc));
		return VTX_EXIT_HOST;
	}
	ctx->tsc_khz = (unsigned long)((hz + 500) / 1000);
	const char *tmp = getenv("TMPDIR");
	snprintf(ctx->scratch, sizeof(ctx->scratch), "%s/virttax-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(ctx->scratch)) {
		fprintf(stderr, "virttax run: mkdtemp %s: %s (set TMPDIR)\n", ctx->scratch,
			strerror(errno));
		return VTX_EXIT_HOST;
	}
	move_off_cpu(ctx->plan->cpu);
	return VTX_EXIT_OK;
}

/* --co-tenant: the thrasher runs through every run of the plan, bare and VM
 * alike (harness/cotenant.c); it is recorded as a sharing cost. */
static int cotenant_begin(const struct plan *p, json_t *results, pid_t *pid)
{
	char why[200];
	int cpu;
	*pid = 0;
	if (!p->co_tenant)
		return 0;
	if (cotenant_place(p->co_tenant, p->cpu, &cpu, why, sizeof(why))) {
		fprintf(stderr, "virttax run: --co-tenant %s: unavailable: %s; nothing run\n",
			p->co_tenant, why);
		return VTX_EXIT_HOST;
	}
	int rc = cotenant_start(cpu, COTENANT_BYTES, pid);
	if (rc) {
		fprintf(stderr, "virttax run: cannot start the co-tenant: %s\n", strerror(-rc));
		return VTX_EXIT_HOST;
	}
	json_object_set_new(
	    results, "co_tenant",
	    json_pack("{s:s,s:i,s:I,s:s,s:s}", "mode", p->co_tenant, "cpu", cpu, "bytes",
		      (json_int_t)COTENANT_BYTES, "what", "cache/TLB thrasher process", "note",
		      "a sharing cost (caches, TLB, CPU time), not a virtualization cost: it "
		      "applies to the bare-metal and VM runs alike"));
	return 0;
}

static int run_plan(struct run_ctx *ctx, json_t *results)
{
	const struct plan *p = ctx->plan;
	pid_t neighbour;
	int crc = cotenant_begin(p, results, &neighbour);
	if (crc)
		return crc;
	for (size_t i = 0; i < p->nwl; i++)
		if (run_workload(ctx, &p->wl[i], results) && ctx->fatal) {
			cotenant_stop(neighbour);
			fprintf(stderr, "virttax run: %s; nothing written\n", ctx->fatal_msg);
			return ctx->fatal == RUN_FATAL_USAGE ? VTX_EXIT_USAGE : VTX_EXIT_HOST;
		}
	cotenant_stop(neighbour);
	char path[PATH_MAX];
	int rc = write_results(p, results, path, sizeof(path));
	if (rc) {
		fprintf(stderr, "virttax run: cannot write %s/results.json: %s (check --out)\n",
			p->out_dir, strerror(-rc));
		return VTX_EXIT_HOST;
	}
	table_print(stdout, results);
	table_vmms_print(stdout, results);
	size_t failed = results_failed_runs(results);
	printf("\nresults: %s (%zu run%s not ok)\n", path, failed, failed == 1 ? "" : "s");
	return failed ? VTX_EXIT_FAILED : VTX_EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
	struct plan plan;
	char err[400];
	if (footprint_wanted(argc, argv))
		return cmd_footprint(argc, argv); /* harness-side: harness/cmd_footprint.c */
	if (io_run_wanted(argc, argv))
		return cmd_io_run(argc, argv); /* the I/O technique table: harness/io_run.c */
	if (mem_pressure_wanted(argc, argv))
		return cmd_mem_pressure(argc,
					argv); /* memory cgroup limit: harness/mem_pressure.c */
	const char *cal_path = NULL;
	json_t *cal = NULL;
	if (calib_take_flag(&argc, argv, &cal_path)) {
		fprintf(stderr,
			"virttax run: --calibration needs a FILE (from virttax calibrate)\n");
		return VTX_EXIT_USAGE;
	}
	int rc = plan_parse(&plan, argc, argv, err, sizeof(err));
	if (rc) {
		if (rc < 0)
			fprintf(stderr, "virttax run: %s\n", err);
		plan_release(&plan);
		return rc < 0 ? VTX_EXIT_USAGE : VTX_EXIT_OK;
	}
	if (cal_path && calib_load(cal_path, &cal, err, sizeof(err))) {
		fprintf(stderr, "virttax run: --calibration %s\n", err);
		plan_release(&plan);
		return VTX_EXIT_USAGE;
	}
	struct run_ctx ctx = {.plan = &plan, .vmm = vmm_find(plan.vmms[0])};
	rc = prepare(&ctx);
	if (rc == VTX_EXIT_OK) {
		json_t *results =
		    results_new(&plan, environment_collect(NULL), ctx.tsc_khz, VIRTTAX_VERSION);
		if (!cal && calibrate_now(plan.vmms[0], plan.cpu, plan.quick, ctx.scratch,
					  ctx.tsc_khz, &cal))
			cal = json_pack("{s:b,s:s}", "available", 0, "reason",
					"calibration failed (see the run's stderr)");
		json_object_set_new(results, "calibration", cal);
		cal = NULL;
		rc = run_plan(&ctx, results);
		json_decref(results);
		rmdir(ctx.scratch);
	}
	json_decref(cal);
	plan_release(&plan);
	return rc;
}
