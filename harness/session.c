/*
 * The measurement session (see session.h for why).
 */
#include "harness/session.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collectors/collector.h"
#include "core/outfile.h"
#include "core/results.h"
#include "core/tsc.h"
#include "harness/cmds.h"
#include "harness/cotenant.h"
#include "harness/experiment.h" /* the ops struct only: no registry calls */

#define TSC_WINDOW_MS 100
#define COTENANT_BYTES (64u << 20) /* > any LLC here, 16k 4 KiB pages */

static void on_stop_signal(int sig)
{
	if (proc_stop_signal) { /* a second one: stop now, the default way */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	proc_stop_signal = sig;
}

static void arm_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal}; /* no SA_RESTART: poll sees EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
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

static json_t *iso8601_now(void)
{
	char buf[40];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* Every VMM of the plan must be usable, unless each selected experiment
 * probes per series (footprint says "unavailable" per VMM). */
static int probe_vmms(struct session *s)
{
	const struct plan *p = s->plan;
	bool strict = false;
	for (size_t i = 0; i < p->nwl; i++)
		strict |= !s->wl_exp[i]->probes_vmms;
	char why[400];
	for (size_t v = 0; strict && v < p->nvmms; v++) {
		int rc = vmm_find(p->vmms[v])->probe(why, sizeof(why));
		if (rc) {
			fprintf(stderr, "%s: %s\n", s->cmd, why);
			return rc == -ENOENT ? VTX_EXIT_USAGE : VTX_EXIT_HOST;
		}
	}
	return VTX_EXIT_OK;
}

static json_t *experiment_names(const struct session *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->plan->nwl; i++) {
		const char *n = s->wl_exp[i]->name;
		bool seen = false;
		size_t k;
		json_t *x;
		json_array_foreach(a, k, x) seen |= !strcmp(json_string_value(x), n);
		if (!seen)
			json_array_append_new(a, json_string(n));
	}
	return a;
}

int session_begin(struct session *s, struct plan *p, const struct experiment_ops *const *wl_exp,
		  const char *cmd, bool write_results)
{
	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	s->plan = p;
	for (size_t i = 0; i < p->nwl; i++)
		s->wl_exp[i] = wl_exp[i];
	s->write_results = write_results;
	progress_init(&s->progress, stderr, p->quiet);
	snprintf(s->results_path, sizeof(s->results_path), "%s/results.json", p->out_dir);
	snprintf(s->jsonl_path, sizeof(s->jsonl_path), "%s/runs.jsonl", p->out_dir);
	int rc = probe_vmms(s);
	if (rc)
		return rc;
	uint64_t hz;
	if ((rc = tsc_measure_hz(TSC_WINDOW_MS, &hz))) {
		fprintf(stderr, "%s: cannot measure the TSC frequency: %s\n", cmd, strerror(-rc));
		return VTX_EXIT_HOST;
	}
	s->tsc_khz = (unsigned long)((hz + 500) / 1000);
	const char *tmp = getenv("TMPDIR");
	snprintf(s->scratch, sizeof(s->scratch), "%s/virttax-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->scratch)) {
		fprintf(stderr, "%s: mkdtemp %s: %s (set TMPDIR)\n", cmd, s->scratch,
			strerror(errno));
		s->scratch[0] = 0;
		return VTX_EXIT_HOST;
	}
	move_off_cpu(p->cpu);
	arm_signals();
	json_t *params = plan_to_json(p), *vmms = json_object();
	for (size_t v = 0; v < p->nvmms; v++) { /* which builds run (the gate compares them) */
		const struct vmm_ops *ops = vmm_find(p->vmms[v]);
		json_t *id = ops && ops->identity ? ops->identity() : NULL;
		json_object_set_new(vmms, p->vmms[v], id ? id : json_null());
	}
	json_object_set_new(params, "tsc_khz", json_integer((json_int_t)s->tsc_khz));
	s->results = json_pack("{s:s,s:i,s:b,s:o,s:o,s:s,s:o,s:o,s:n,s:[]}", "schema",
			       RESULTS_SCHEMA, "schema_version", RESULTS_SCHEMA_VERSION, "complete",
			       0, "experiments", experiment_names(s), "created", iso8601_now(),
			       "virttax_version", VIRTTAX_VERSION, "environment",
			       write_results ? environment_collect(NULL) : json_null(),
			       "parameters", params, "calibration", "workloads");
	if (s->results)
		json_object_set_new(s->results, "vmms", vmms);
	else
		json_decref(vmms);
	return s->results ? VTX_EXIT_OK : VTX_EXIT_HOST;
}

int session_cotenant(struct session *s)
{
	const struct plan *p = s->plan;
	char why[200];
	int cpu;
	if (!p->co_tenant)
		return VTX_EXIT_OK;
	if (cotenant_place(p->co_tenant, p->cpu, &cpu, why, sizeof(why))) {
		session_fail(s, RUN_FATAL_HOST, "--co-tenant %s: unavailable: %s; nothing run",
			     p->co_tenant, why);
		return VTX_EXIT_HOST;
	}
	int rc = cotenant_start(cpu, COTENANT_BYTES, &s->cotenant);
	if (rc) {
		session_fail(s, RUN_FATAL_HOST, "cannot start the co-tenant: %s", strerror(-rc));
		return VTX_EXIT_HOST;
	}
	json_object_set_new(
	    s->results, "co_tenant",
	    json_pack("{s:s,s:i,s:I,s:s,s:s}", "mode", p->co_tenant, "cpu", cpu, "bytes",
		      (json_int_t)COTENANT_BYTES, "what", "cache/TLB thrasher process", "note",
		      "a sharing cost (caches, TLB, CPU time), not a virtualization cost: it "
		      "applies to the bare-metal and VM runs alike"));
	return VTX_EXIT_OK;
}

int session_append_run(struct session *s, const char *wl, json_t *record)
{
	s->nruns++;
	if (!s->write_results)
		return 0;
	if (!s->jsonl) {
		int rc = outfile_mkdirs(s->plan->out_dir);
		if (rc)
			return rc;
		s->jsonl = fopen(s->jsonl_path, "we");
		if (!s->jsonl)
			return -errno;
	}
	json_t *line = json_pack("{s:s,s:O}", "workload", wl, "run", record);
	int rc = json_dumpf(line, s->jsonl, JSON_COMPACT) || fputc('\n', s->jsonl) == EOF ||
			 fflush(s->jsonl)
		     ? -EIO
		     : 0;
	json_decref(line);
	return rc;
}

json_t *session_workload(struct session *s, const struct plan_workload *w,
			 const struct experiment_ops *e)
{
	json_t *all = json_object_get(s->results, "workloads"), *wl;
	size_t i;
	json_array_foreach(all, i, wl) if (!strcmp(json_string_value(json_object_get(wl, "name")),
						   w->name)) return wl;
	const char *cpu_list = NULL;
	unsigned vcpus = plan_vcpus(s->plan, w, &cpu_list);
	wl = json_pack("{s:s,s:s,s:o,s:{s:i,s:s?,s:s},s:[]}", "name", w->name, "experiment",
		       e->name, "params", plan_workload_params_json(w), "placement", "vcpus",
		       (int)vcpus, "cpu_list", cpu_list, "rule",
		       vcpus > 1 ? "the workload needs several CPUs (workload table), given by "
				   "default; --pin none|dedicated and --overcommit override"
				 : "one vCPU / thread on --pin CPU",
		       "runs");
	json_array_append_new(all, wl);
	return wl;
}

void session_fail(struct session *s, enum run_fatal f, const char *fmt, ...)
{
	if (s->fatal)
		return;
	s->fatal = f ? f : RUN_FATAL_HOST;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->fatal_msg, sizeof(s->fatal_msg), fmt, ap);
	va_end(ap);
}

static const char *signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal";
}

/* "complete", and "stopped" with what was left when it is not */
static void mark_completion(struct session *s)
{
	bool complete = !session_stopped() && !s->fatal;
	json_object_set_new(s->results, "complete", json_boolean(complete));
	if (complete)
		return;
	if (!s->remaining)
		s->remaining = json_array();
	for (size_t i = 0; i < s->plan->nwl; i++) { /* workloads that never started */
		size_t k;
		json_t *wl;
		bool started = false;
		json_array_foreach(json_object_get(s->results, "workloads"), k, wl) started |=
		    !strcmp(json_string_value(json_object_get(wl, "name")), s->plan->wl[i].name);
		if (!started)
			json_array_append_new(s->remaining,
					      json_pack("{s:s,s:s}", "workload",
							s->plan->wl[i].name, "series", "(all)"));
	}
	char why[480];
	if (session_stopped())
		snprintf(why, sizeof(why), "%s: the runs that finished are kept",
			 signal_name(proc_stop_signal));
	else
		snprintf(why, sizeof(why), "%s", s->fatal_msg);
	json_object_set_new(s->results, "stopped",
			    json_pack("{s:s,s:I,s:o}", "reason", why, "runs_done",
				      (json_int_t)s->nruns, "remaining",
				      s->remaining ? json_incref(s->remaining) : json_array()));
}

static int exit_status(struct session *s)
{
	if (session_stopped())
		return SESSION_EXIT_INTERRUPTED;
	if (s->fatal)
		return s->fatal == RUN_FATAL_USAGE ? VTX_EXIT_USAGE : VTX_EXIT_HOST;
	return results_failed_runs(s->results) ? VTX_EXIT_FAILED : VTX_EXIT_OK;
}

void session_cotenant_stop(struct session *s)
{
	cotenant_stop(s->cotenant);
	s->cotenant = 0;
}

int session_finish(struct session *s, const struct experiment_ops *const *exps, size_t nexps)
{
	progress_end(&s->progress);
	session_cotenant_stop(s);
	if (s->jsonl)
		fclose(s->jsonl);
	s->jsonl = NULL;
	if (s->scratch[0])
		rmdir(s->scratch);
	s->scratch[0] = 0;
	int status = exit_status(s);
	if (!s->results || !s->write_results)
		goto out;
	if (s->fatal == RUN_FATAL_USAGE || (s->fatal && !s->nruns)) {
		/* bad input (the VMM refused the agent or an argument): nothing of it is kept */
		if (s->nruns) {
			unlink(s->jsonl_path);
			rmdir(s->plan->out_dir);
		}
		fprintf(stderr, "%s: %s; nothing written\n", s->cmd, s->fatal_msg);
		goto out;
	}
	mark_completion(s);
	int rc = outfile_mkdirs(s->plan->out_dir);
	if (!rc)
		rc = results_write_atomic(s->results_path, s->results);
	if (rc) {
		fprintf(stderr, "%s: cannot write %s: %s (check --out)\n", s->cmd, s->results_path,
			strerror(-rc));
		status =
		    status == VTX_EXIT_OK || status == VTX_EXIT_FAILED ? VTX_EXIT_HOST : status;
		goto out;
	}
	for (size_t i = 0; i < nexps; i++)
		if (exps[i]->print)
			exps[i]->print(stdout, s->results);
	size_t failed = results_failed_runs(s->results);
	printf("\nresults: %s (%zu run%s not ok)\n", s->results_path, failed,
	       failed == 1 ? "" : "s");
	if (session_stopped() || s->fatal)
		fprintf(stderr,
			"%s: stopped (%s): %zu run%s kept, %zu left; results.json says "
			"\"complete\": false\n",
			s->cmd, session_stopped() ? signal_name(proc_stop_signal) : s->fatal_msg,
			s->nruns, s->nruns == 1 ? "" : "s", json_array_size(s->remaining));
out:
	json_decref(s->results);
	json_decref(s->remaining);
	s->results = s->remaining = NULL;
	return status;
}
