/*
 * `virttax run --mem-limit SIZE`: workloads under a memory cgroup limit.
 *
 * Why a path of its own (like --io-technique): every run needs a fresh
 * memory cgroup that the child joins before exec and that is removed after
 * the child was reaped, on every path; and each rep is four runs, bare and VM
 * unlimited (a group with no limit, so the counters are comparable) and bare
 * and VM under the limit, so the report can say both "how much slower under
 * pressure" (limited vs unlimited, per side) and "how much slower in the VM
 * under the same pressure". The group's major faults, refaults and events
 * (memory.events / memory.failcnt + oom_control) are stored per run as
 * deltas. Without swap a limit below an anonymous working set ends in an OOM
 * kill; that is recorded as the outcome (status failed, reason
 * "oom-killed under memory.max=..."), never turned into a number.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectors/collector.h"
#include "core/calib.h"
#include "core/outfile.h"
#include "core/tsc.h"
#include "harness/calib_run.h"
#include "harness/cmds.h"
#include "harness/hosted.h"
#include "harness/memcg.h"
#include "harness/mem_pressure.h"
#include "harness/argv.h"
#include "harness/plan.h"
#include "core/results.h"
#include "harness/run_record.h"
#include "reports/table.h"
#include "harness/vmm.h"

#define MP_GROUP_PREFIX "virttax-memlimit-"

struct mp_ctx {
	struct plan plan;
	struct memcg_host host;
	char host_note[512];
	uint64_t limit;
	char limit_text[32];
	unsigned long tsc_khz;
	char scratch[PATH_MAX];
	unsigned seq;
	bool fatal;
	char fatal_msg[400];
	unsigned long balloon_mib; /* --balloon MIB: vmm-lite's virtio-balloon target, 0: none */
	char balloon_arg[32];	   /* "--balloon=MIB" for the VM side */
};

bool mem_pressure_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--mem-limit", 11) || !strncmp(argv[i], "--balloon", 9))
			return true;
	return false;
}

/* Removes --mem-limit SIZE / --mem-limit=SIZE from argv; 0, 1 when absent, -EINVAL. */
int mem_pressure_take_flag(int *argc, char **argv, uint64_t *limit, char *text, size_t len)
{
	const char *val = NULL;
	if (argv_take_value(argc, argv, "--mem-limit", &val))
		return 1;
	if (!val || wl_parse_u64(val, limit) || *limit < (1u << 20))
		return -EINVAL;
	snprintf(text, len, "%s", val);
	return 0;
}

/* Removes --balloon MIB / --balloon=MIB: 0, 1 when absent, -EINVAL (not 1..1048576). */
static int balloon_take_flag(int *argc, char **argv, unsigned long *mib)
{
	const char *val = NULL;
	if (argv_take_value(argc, argv, "--balloon", &val))
		return 1;
	char *end;
	errno = 0;
	*mib = val && *val >= '0' && *val <= '9' ? strtoul(val, &end, 10) : 0;
	return !val || errno || *end || *mib == 0 || *mib > (1ul << 20) ? -EINVAL : 0;
}

/* Groups of earlier harnesses that died before removing them (empty ones only). */
static void remove_stale(const struct memcg_host *h)
{
	DIR *d = opendir(h->parent);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		long pid;
		if (strncmp(e->d_name, MP_GROUP_PREFIX, strlen(MP_GROUP_PREFIX)))
			continue;
		pid = strtol(e->d_name + strlen(MP_GROUP_PREFIX), NULL, 10);
		if (pid > 0 && kill((pid_t)pid, 0) && errno == ESRCH) {
			char path[PATH_MAX + 300];
			snprintf(path, sizeof(path), "%s/%s", h->parent, e->d_name);
			rmdir(path);
		}
	}
	closedir(d);
}

static json_t *limit_json(const struct mp_ctx *c, uint64_t limit)
{
	return limit == UINT64_MAX ? json_null() : json_integer((json_int_t)c->limit);
}

/* An OOM kill inside the group is the outcome of the run, said plainly. */
static void oom_verdict(const struct mp_ctx *c, json_t *rec, json_t *delta, uint64_t limit)
{
	json_int_t kills =
	    json_integer_value(json_object_get(json_object_get(delta, "events"), "oom_kill"));
	if (kills <= 0)
		return;
	char why[320];
	snprintf(why, sizeof(why),
		 "oom-killed under %s=%s (%s %s, %" JSON_INTEGER_FORMAT " kill%s): no swap here, "
		 "so anonymous memory above the limit cannot be reclaimed",
		 memcg_knob(MEMCG_V2), limit == UINT64_MAX ? "max" : c->limit_text,
		 memcg_iface_name(c->host.iface), memcg_knob(c->host.iface), kills,
		 kills == 1 ? "" : "s");
	const char *st = json_string_value(json_object_get(rec, "status"));
	if (st && !strcmp(st, "ok")) {
		json_object_set_new(rec, "reason", json_string(why)); /* a thread, not the child */
		return;
	}
	json_object_set_new(rec, "status", json_string("failed"));
	json_object_set_new(rec, "reason", json_string(why));
}

/* One run in a fresh group; the group is removed whatever happened. */
static int mp_run(struct mp_ctx *c, struct run_spec *spec, const struct run_meta *meta,
		  uint64_t limit, json_t *runs)
{
	char name[64], why[300];
	struct memcg g;
	snprintf(name, sizeof(name), MP_GROUP_PREFIX "%d-%u", (int)getpid(), c->seq++);
	if (memcg_create(&c->host, name, limit, &g, why, sizeof(why))) {
		snprintf(c->fatal_msg, sizeof(c->fatal_msg), "--mem-limit: %s", why);
		c->fatal = true;
		return -EIO;
	}
	json_t *before = memcg_read(&g);
	spec->cgroup_procs = g.procs;
	struct run_result res;
	run_result_init(&res);
	int rc = meta->vmm ? vmm_find(meta->vmm)->run(spec, &res) : bare_run(spec, &res);
	json_t *after = memcg_read(&g), *delta = memcg_delta(before, after);
	int drc = memcg_destroy(&g);
	json_decref(before);
	json_decref(after);
	if (rc || res.fatal) {
		snprintf(c->fatal_msg, sizeof(c->fatal_msg), "cannot run the %s side: %s",
			 meta->side, rc ? strerror(-rc) : res.reason);
		c->fatal = true;
		json_decref(delta);
		run_result_release(&res);
		return -EIO;
	}
	json_t *rec = results_run_record(meta, &res);
	oom_verdict(c, rec, delta, limit);
	json_t *bal = json_object_get(res.vmm_stats, "balloon");
	if (meta->vmm && c->balloon_mib)
		json_object_set_new(rec, "balloon", bal ? json_incref(bal) : json_null());
	json_object_set_new(rec, "memcg",
			    json_pack("{s:s,s:s,s:o,s:o,s:b}", "interface",
				      memcg_iface_name(c->host.iface), "knob",
				      memcg_knob(c->host.iface), "limit_bytes",
				      limit_json(c, limit), "delta", delta, "removed", drc == 0));
	fprintf(stderr, "virttax: %-12s %-28s %s %u: %s (%.2f s)%s%s\n", spec->workload,
		meta->series, meta->warmup ? "warmup" : "rep   ", meta->rep,
		json_string_value(json_object_get(rec, "status")), (double)res.wall_ns / 1e9,
		json_is_string(json_object_get(rec, "reason")) ? ": " : "",
		json_is_string(json_object_get(rec, "reason"))
		    ? json_string_value(json_object_get(rec, "reason"))
		    : "");
	json_array_append_new(runs, rec);
	run_result_release(&res);
	if (drc)
		fprintf(stderr, "virttax: warning: cannot remove %s: %s\n", name, strerror(-drc));
	return 0;
}

/* bare then VM, unlimited then limited: four runs per rep. */
static int mp_rep(struct mp_ctx *c, const struct plan_workload *w, unsigned rep, bool warmup,
		  json_t *runs)
{
	const struct plan *p = &c->plan;
	char bare_s[64], vm_s[128];
	struct run_spec spec = {
	    .workload = w->ops->name,
	    .wl_args = (const char *const *)w->args,
	    .nwl_args = w->nargs,
	    .cpu = p->cpu,
	    .mem_bytes = p->mem_bytes,
	    .timeout_s = p->timeout_s,
	    .tsc_khz = c->tsc_khz,
	    .scratch_dir = c->scratch,
	    .vmm_args = p->vmm_args,
	    .nvmm_args = p->nvmm_args,
	    .vcpus = p->vcpus,
	    .cpu_list = p->cpu_list_set ? p->cpu_list : NULL,
	};
	const char *vargs[PLAN_MAX_VMM_ARGS + 1];
	char bal_s[40] = "";
	if (c->balloon_mib) { /* the VM side only: bare metal has no balloon */
		for (size_t i = 0; i < p->nvmm_args; i++)
			vargs[i] = p->vmm_args[i];
		vargs[p->nvmm_args] = c->balloon_arg;
		spec.vmm_args = vargs;
		spec.nvmm_args = p->nvmm_args + 1;
		snprintf(bal_s, sizeof(bal_s), "balloon=%luM", c->balloon_mib);
	}
	int rc = 0;
	for (int lim = 0; lim < (c->limit ? 2 : 1) && !rc; lim++) {
		uint64_t limit = lim ? c->limit : UINT64_MAX;
		snprintf(bare_s, sizeof(bare_s), lim ? "bare[mem-limit=%s]" : "bare",
			 c->limit_text);
		if (lim)
			snprintf(vm_s, sizeof(vm_s), "vm[mem-limit=%s%s%s]", c->limit_text,
				 *bal_s ? "," : "", bal_s);
		else
			snprintf(vm_s, sizeof(vm_s), *bal_s ? "vm[%s]" : "vm", bal_s);
		spec.backing = plan_bare_backing(p->backings[0]);
		spec.pagesize = NULL;
		struct run_meta m = {.side = "bare",
				     .series = bare_s,
				     .backing = spec.backing,
				     .rep = rep,
				     .warmup = warmup};
		rc = mp_run(c, &spec, &m, limit, runs);
		spec.backing = p->backings[0];
		spec.pagesize = p->pagesizes[0];
		m = (struct run_meta){.side = "vm",
				      .vmm = p->vmms[0],
				      .series = vm_s,
				      .baseline_series = bare_s,
				      .backing = spec.backing,
				      .pagesize = spec.pagesize,
				      .rep = rep,
				      .warmup = warmup};
		if (!rc)
			rc = mp_run(c, &spec, &m, limit, runs);
	}
	return rc;
}

static int mp_workload(struct mp_ctx *c, const struct plan_workload *w, json_t *results)
{
	json_t *runs = json_array();
	json_t *wl = json_pack("{s:s,s:o,s:o}", "name", w->ops->name, "params",
			       plan_workload_params_json(w), "runs", runs);
	json_array_append_new(json_object_get(results, "workloads"), wl);
	int rc = 0;
	for (unsigned i = 0; !rc && i < c->plan.warmup + c->plan.reps; i++) {
		bool warmup = i < c->plan.warmup;
		rc = mp_rep(c, w, warmup ? i : i - c->plan.warmup, warmup, runs);
	}
	return rc ? rc : results_summarize(wl);
}

static int mp_prepare(struct mp_ctx *c)
{
	char why[400];
	int rc = vmm_find(c->plan.vmms[0])->probe(why, sizeof(why));
	if (rc) {
		fprintf(stderr, "virttax run: %s\n", why);
		return rc == -ENOENT ? VTX_EXIT_USAGE : VTX_EXIT_HOST;
	}
	uint64_t hz;
	if ((rc = tsc_measure_hz(100, &hz))) {
		fprintf(stderr, "virttax run: cannot measure the TSC frequency: %s\n",
			strerror(-rc));
		return VTX_EXIT_HOST;
	}
	c->tsc_khz = (unsigned long)((hz + 500) / 1000);
	const char *tmp = getenv("TMPDIR");
	snprintf(c->scratch, sizeof(c->scratch), "%s/virttax-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(c->scratch)) {
		fprintf(stderr, "virttax run: mkdtemp %s: %s (set TMPDIR)\n", c->scratch,
			strerror(errno));
		return VTX_EXIT_HOST;
	}
	return VTX_EXIT_OK;
}

static int mp_write(struct mp_ctx *c, json_t *results)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/results.json", c->plan.out_dir);
	int rc = outfile_mkdirs(c->plan.out_dir);
	if (!rc)
		rc = results_write_atomic(path, results);
	if (rc) {
		fprintf(stderr, "virttax run: cannot write %s: %s (check --out)\n", path,
			strerror(-rc));
		return VTX_EXIT_HOST;
	}
	table_print(stdout, results);
	size_t failed = results_failed_runs(results);
	printf("\nresults: %s (%zu run%s not ok)\n", path, failed, failed == 1 ? "" : "s");
	return failed ? VTX_EXIT_FAILED : VTX_EXIT_OK;
}

static int mp_execute(struct mp_ctx *c, json_t **cal)
{
	int rc = mp_prepare(c);
	if (rc)
		return rc;
	json_t *results =
	    results_new(&c->plan, environment_collect(NULL), c->tsc_khz, VIRTTAX_VERSION);
	if (!*cal &&
	    calibrate_now(c->plan.vmms[0], c->plan.cpu, c->plan.quick, c->scratch, c->tsc_khz, cal))
		*cal = json_pack("{s:b,s:s}", "available", 0, "reason",
				 "calibration failed (see the run's stderr)");
	json_object_set_new(results, "calibration", *cal);
	*cal = NULL;
	json_t *mp = json_pack("{s:o,s:s,s:s,s:s,s:s,s:s}", "limit_bytes",
			       c->limit ? json_integer((json_int_t)c->limit) : json_null(), "limit",
			       c->limit_text, "interface", memcg_iface_name(c->host.iface), "knob",
			       memcg_knob(c->host.iface), "probe", c->host_note, "note",
			       "series without [mem-limit=] ran in a group with no limit; the "
			       "memory-pressure slowdown is limited vs unlimited on the same side");
	json_object_set_new(mp, "balloon_mib",
			    c->balloon_mib ? json_integer((json_int_t)c->balloon_mib)
					   : json_null());
	if (c->balloon_mib)
		json_object_set_new(
		    mp, "balloon_note",
		    json_string(
			"the VM side ran with a virtio-balloon inflated to balloon_mib "
			"before the workload (per-run stats in runs[].balloon); the bare "
			"side has no balloon: its comparable experiment is the cgroup limit "
			"(--mem-limit)"));
	json_object_set_new(results, "mem_pressure", mp);
	for (size_t i = 0; i < c->plan.nwl && !c->fatal; i++)
		mp_workload(c, &c->plan.wl[i], results);
	rmdir(c->scratch);
	if (c->fatal) {
		fprintf(stderr, "virttax run: %s; nothing written\n", c->fatal_msg);
		json_decref(results);
		return VTX_EXIT_HOST;
	}
	rc = mp_write(c, results);
	json_decref(results);
	return rc;
}

int cmd_mem_pressure(int argc, char **argv)
{
	static struct mp_ctx c;
	char err[400];
	const char *cal_path = NULL;
	json_t *cal = NULL;
	memset(&c, 0, sizeof(c));
	int brc = balloon_take_flag(&argc, argv, &c.balloon_mib);
	if (brc < 0) {
		fprintf(stderr, "virttax run: --balloon needs a target in MiB (1..1048576, below "
				"--mem), e.g. --balloon 64\n");
		return VTX_EXIT_USAGE;
	}
	int lrc = mem_pressure_take_flag(&argc, argv, &c.limit, c.limit_text, sizeof(c.limit_text));
	if (lrc < 0 || (lrc == 1 && brc == 1)) {
		fprintf(stderr, "virttax run: --mem-limit needs a SIZE >= 1M (bytes, K/M/G), e.g. "
				"--mem-limit 96M\n");
		return VTX_EXIT_USAGE;
	}
	if (lrc == 1)
		c.limit = 0; /* --balloon alone: the unlimited pair only */
	snprintf(c.balloon_arg, sizeof(c.balloon_arg), "--balloon=%lu", c.balloon_mib);
	if (calib_take_flag(&argc, argv, &cal_path)) {
		fprintf(stderr,
			"virttax run: --calibration needs a FILE (from virttax calibrate)\n");
		return VTX_EXIT_USAGE;
	}
	int rc = plan_parse(&c.plan, argc, argv, err, sizeof(err));
	if (rc) {
		if (rc < 0)
			fprintf(stderr, "virttax run: %s\n", err);
		plan_release(&c.plan);
		return rc < 0 ? VTX_EXIT_USAGE : VTX_EXIT_OK;
	}
	if (c.balloon_mib && strcmp(c.plan.vmms[0], "vmm-lite")) {
		fprintf(stderr,
			"virttax run: --balloon is wired for --vmm vmm-lite only (got %s)\n",
			c.plan.vmms[0]);
		plan_release(&c.plan);
		return VTX_EXIT_USAGE;
	}
	if (c.plan.co_tenant || (cal_path && calib_load(cal_path, &cal, err, sizeof(err)))) {
		fprintf(stderr, "virttax run: %s\n",
			c.plan.co_tenant ? "--mem-limit cannot be combined with --co-tenant (run "
					   "them separately)"
					 : err);
		plan_release(&c.plan);
		return VTX_EXIT_USAGE;
	}
	if (memcg_probe(&c.host, "/proc/self/mountinfo", "/proc/self/cgroup", c.host_note,
			sizeof(c.host_note))) {
		fprintf(stderr, "virttax run: --mem-limit: unavailable: %s; nothing run\n",
			c.host_note);
		plan_release(&c.plan);
		return VTX_EXIT_HOST;
	}
	if (c.host_note[0])
		fprintf(stderr, "virttax run: --mem-limit: %s\n", c.host_note);
	remove_stale(&c.host);
	rc = mp_execute(&c, &cal);
	json_decref(cal);
	plan_release(&c.plan);
	return rc;
}
