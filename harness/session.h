/*
 * One measurement session: everything `virttax run`, `virttax footprint` and
 * `virttax calibrate` set up once before the first child and tear down after
 * the last: VMM probes, the TSC rate, a scratch directory, the results
 * document with the environment, the calibration, the output directory and
 * DIR/runs.jsonl, SIGINT/SIGTERM, the co-tenant, progress.
 *
 * Why one place: the setup used to be written four times (run, mem-pressure,
 * footprint, calibrate) and an interrupt lost everything. Here a stop request
 * kills the running child, the runs that finished are already in runs.jsonl,
 * and session_finish() writes results.json with "complete": false and what
 * was left (exit 130).
 */
#ifndef VIRTTAX_HARNESS_SESSION_H
#define VIRTTAX_HARNESS_SESSION_H

#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/proc.h"
#include "harness/plan.h"
#include "harness/progress.h"
#include "harness/vmm.h"

#define SESSION_EXIT_INTERRUPTED 130

struct experiment_ops;

struct session {
	const char *cmd; /* "virttax run": the prefix of every message */
	struct plan *plan;
	unsigned long tsc_khz;
	char scratch[PATH_MAX];
	json_t *results;    /* the document being built (core/results.h schema) */
	bool write_results; /* false: `virttax calibrate` (it writes calibration.json) */
	char results_path[PATH_MAX + 16];
	char jsonl_path[PATH_MAX + 16];
	FILE *jsonl;  /* DIR/runs.jsonl, created with the first finished run */
	size_t nruns; /* records appended */
	struct progress progress;
	pid_t cotenant;
	const struct experiment_ops *wl_exp[PLAN_MAX_WORKLOADS]; /* plan->wl[i]'s experiment */
	unsigned planned[PLAN_MAX_WORKLOADS]; /* runs planned per workload (progress N) */
	const struct experiment_ops *exp;     /* the experiment running now */
	void *state;			      /* its private state (begin .. end) */
	enum run_fatal fatal;		      /* set when the plan must stop */
	char fatal_msg[400];
	json_t *remaining; /* runs not done when stopped: [{workload, series, rep, warmup}] */
};

/* SIGINT/SIGTERM arrived while the session ran (core/proc.h's flag). */
static inline bool session_stopped(void)
{
	return proc_stop_signal != 0;
}

/* Probes the VMMs of the plan, measures the TSC, makes the scratch directory,
 * collects the environment, starts the results document, installs the
 * signal handlers. wl_exp[i] is the experiment of plan->wl[i] (the registry's
 * experiment_for()). Returns a virttax exit status (0 ok; a message printed). */
int session_begin(struct session *s, struct plan *p, const struct experiment_ops *const *wl_exp,
		  const char *cmd, bool write_results);
/* --co-tenant: starts the thrasher for the whole session. Exit status. */
int session_cotenant(struct session *s);
/* Stops the co-tenant (if any) before what must not share the host with it. */
void session_cotenant_stop(struct session *s);
/* Appends one finished run of workload `wl` to DIR/runs.jsonl (created, with
 * DIR, on the first call) and flushes it. 0 or -errno. */
int session_append_run(struct session *s, const char *wl, json_t *record);
/* The workload object of results.json called `name`, created on first use. */
json_t *session_workload(struct session *s, const struct plan_workload *w,
			 const struct experiment_ops *e);
/* Records a fatal problem (the first one wins): the plan stops. */
void session_fail(struct session *s, enum run_fatal f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes results.json ("complete" unless stopped or failed), prints each
 * experiment's table, removes the scratch directory, stops the co-tenant.
 * Returns the exit status: 130 stopped, 2/3 fatal, 1 a run not ok, 0. */
int session_finish(struct session *s, const struct experiment_ops *const *exps, size_t nexps);

#endif
