/*
 * Experiment `mem-pressure` (`virttax run --workloads mem-pressure --mem-limit
 * SIZE` and/or `--balloon MIB`): workloads under a memory cgroup limit.
 *
 * Why an experiment of its own: every run needs a fresh memory cgroup that
 * the child joins before exec and that is removed after the child was
 * reaped, on every path; and a round is four series, bare and VM unlimited (a
 * group with no limit, so the counters are comparable) and bare and VM under
 * the limit, so the report can say both "how much slower under pressure"
 * (limited vs unlimited, per side) and "how much slower in the VM under the
 * same pressure". The group's major faults, refaults and events
 * (memory.events / memory.failcnt + oom_control) are stored per run as
 * deltas. Without swap a limit below an anonymous working set ends in an OOM
 * kill; that is recorded as the outcome (status failed, reason
 * "oom-killed under memory.max=..."), never turned into a number. With
 * --balloon the VM side (vmm-lite) gets a virtio-balloon inflated before the
 * workload; bare metal has none.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/results.h"
#include "harness/experiment.h"
#include "harness/memcg.h"
#include "harness/runner.h"
#include "reports/table.h"

#define MP_GROUP_PREFIX "virttax-memlimit-"

struct mp_state {
	struct memcg_host host;
	char host_note[512];
	unsigned seq;
};

static struct mp_state mp;

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

static json_t *limit_json(const struct plan *p, uint64_t limit)
{
	return limit == UINT64_MAX ? json_null() : json_integer((json_int_t)p->mem_limit);
}

/* An OOM kill inside the group is the outcome of the run, said plainly. */
static void oom_verdict(const struct plan *p, json_t *rec, json_t *delta, uint64_t limit)
{
	json_int_t kills =
	    json_integer_value(json_object_get(json_object_get(delta, "events"), "oom_kill"));
	if (kills <= 0)
		return;
	char why[320];
	snprintf(why, sizeof(why),
		 "oom-killed under %s=%s (%s %s, %" JSON_INTEGER_FORMAT " kill%s): no swap here, "
		 "so anonymous memory above the limit cannot be reclaimed",
		 memcg_knob(MEMCG_V2), limit == UINT64_MAX ? "max" : p->mem_limit_text,
		 memcg_iface_name(mp.host.iface), memcg_knob(mp.host.iface), kills,
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
static int mp_rep(struct session *s, const struct plan_workload *w, const struct series *ser,
		  const struct run_meta *m, json_t **record)
{
	const struct plan *p = s->plan;
	char name[64], why[300];
	struct memcg g;
	struct run_spec spec;
	runner_spec(s, w, ser, &spec);
	if (ser->vmm && ser->index)
		spec.balloon_mib = p->balloon_mib; /* the VM side only: bare metal has no balloon */
	snprintf(name, sizeof(name), MP_GROUP_PREFIX "%d-%u", (int)getpid(), mp.seq++);
	if (memcg_create(&mp.host, name, ser->mem_limit, &g, why, sizeof(why))) {
		session_fail(s, RUN_FATAL_HOST, "--mem-limit: %s", why);
		return -EIO;
	}
	json_t *before = memcg_read(&g);
	spec.cgroup_procs = g.procs;
	struct run_result res;
	run_result_init(&res);
	int rc = runner_exec(s, &spec, ser->vmm, &res);
	json_t *after = memcg_read(&g), *delta = memcg_delta(before, after);
	int drc = memcg_destroy(&g);
	json_decref(before);
	json_decref(after);
	if (drc)
		progress_note(&s->progress, "%s: warning: cannot remove %s: %s", s->cmd, name,
			      strerror(-drc));
	rc = runner_check(s, w, ser, rc, &res);
	if (rc) {
		json_decref(delta);
		run_result_release(&res);
		return rc;
	}
	json_t *rec = results_run_record(m, &res);
	oom_verdict(p, rec, delta, ser->mem_limit);
	json_t *bal = json_object_get(res.vmm_stats, "balloon");
	if (spec.balloon_mib)
		json_object_set_new(rec, "balloon", bal ? json_incref(bal) : json_null());
	json_object_set_new(
	    rec, "memcg",
	    json_pack("{s:s,s:s,s:o,s:o,s:b}", "interface", memcg_iface_name(mp.host.iface), "knob",
		      memcg_knob(mp.host.iface), "limit_bytes", limit_json(p, ser->mem_limit),
		      "delta", delta, "removed", drc == 0));
	run_result_release(&res);
	*record = rec;
	return 0;
}

static bool mp_claims(const struct plan *p, const struct plan_workload *w)
{
	return (p->given & (PLAN_F_MEM_LIMIT | PLAN_F_BALLOON)) && w->ops &&
	       (w->ops->needs & WL_TAKES_MEM_PRESSURE);
}

static int mp_validate(const struct plan *p, char *err, size_t len)
{
	char why[300];
	const struct vmm_ops *v = vmm_find(p->vmms[0]);
	if (p->co_tenant)
		return snprintf(err, len,
				"--mem-limit cannot be combined with --co-tenant (run them "
				"separately)"),
		       -EINVAL;
	if (p->nvmms > 1)
		return snprintf(err, len, "--mem-limit/--balloon: one --vmm at a time (got %s)",
				p->vmm),
		       -EINVAL;
	if (p->balloon_mib && (!v->balloon_probe || v->balloon_probe(why, sizeof(why))))
		return snprintf(err, len, "--balloon is wired for --vmm vmm-lite only (got %s)",
				p->vmms[0]),
		       -EINVAL;
	return 0;
}

static int mp_begin(struct session *s, char *err, size_t len)
{
	const struct plan *p = s->plan;
	memset(&mp, 0, sizeof(mp));
	if (memcg_probe(&mp.host, "/proc/self/mountinfo", "/proc/self/cgroup", mp.host_note,
			sizeof(mp.host_note)))
		return snprintf(err, len, "--mem-limit: unavailable: %s; nothing run",
				mp.host_note),
		       -ENODEV;
	if (mp.host_note[0])
		progress_note(&s->progress, "%s: --mem-limit: %s", s->cmd, mp.host_note);
	remove_stale(&mp.host);
	json_t *o =
	    json_pack("{s:o,s:s,s:s,s:s,s:s,s:s}", "limit_bytes",
		      p->mem_limit ? json_integer((json_int_t)p->mem_limit) : json_null(), "limit",
		      p->mem_limit_text, "interface", memcg_iface_name(mp.host.iface), "knob",
		      memcg_knob(mp.host.iface), "probe", mp.host_note, "note",
		      "series without [mem-limit=] ran in a group with no limit; the "
		      "memory-pressure slowdown is limited vs unlimited on the same side");
	json_object_set_new(o, "balloon_mib",
			    p->balloon_mib ? json_integer((json_int_t)p->balloon_mib)
					   : json_null());
	if (p->balloon_mib)
		json_object_set_new(
		    o, "balloon_note",
		    json_string(
			"the VM side ran with a virtio-balloon inflated to balloon_mib "
			"before the workload (per-run stats in runs[].balloon); the bare "
			"side has no balloon: its comparable experiment is the cgroup limit "
			"(--mem-limit)"));
	json_object_set_new(s->results, "mem_pressure", o);
	return 0;
}

/* bare and VM unlimited, then (with --mem-limit) bare and VM limited */
static size_t mp_series(struct session *s, const struct plan_workload *w, struct series *out,
			size_t max)
{
	(void)w;
	const struct plan *p = s->plan;
	char bal[40] = "";
	size_t n = 0;
	if (p->balloon_mib)
		snprintf(bal, sizeof(bal), "balloon=%luM", p->balloon_mib);
	for (int lim = 0; lim < (p->mem_limit ? 2 : 1) && n + 2 <= max; lim++) {
		struct series *b = &out[n++], *v = &out[n++];
		uint64_t limit = lim ? p->mem_limit : UINT64_MAX;
		*b = (struct series){.side = "bare", .backing = p->backings[0], .mem_limit = limit};
		*v = (struct series){.side = "vm",
				     .vmm = p->vmms[0],
				     .backing = p->backings[0],
				     .pagesize = p->pagesizes[0],
				     .mem_limit = limit,
				     .index = p->balloon_mib != 0};
		snprintf(b->name, sizeof(b->name), lim ? "bare[mem-limit=%s]" : "bare",
			 p->mem_limit_text);
		if (lim)
			snprintf(v->name, sizeof(v->name), "vm[mem-limit=%s%s%s]",
				 p->mem_limit_text, *bal ? "," : "", bal);
		else
			snprintf(v->name, sizeof(v->name), *bal ? "vm[%s]" : "vm", bal);
		snprintf(v->baseline, sizeof(v->baseline), "%s", b->name);
	}
	return n;
}

static void mp_print(FILE *out, json_t *results)
{
	table_print_experiment(out, results, "mem-pressure");
}

const struct experiment_ops exp_mem_pressure = {
    .name = "mem-pressure",
    .help = "workloads in a memory cgroup, unlimited and limited (--mem-limit), and a "
	    "virtio-balloon on the VM side (--balloon)",
    .flags = PLAN_F_MEM_LIMIT | PLAN_F_BALLOON | PLAN_F_CALIBRATION,
    .needs_calibration = true,
    .claims = mp_claims,
    .validate = mp_validate,
    .begin = mp_begin,
    .series = mp_series,
    .rep = mp_rep,
    .print = mp_print,
};
