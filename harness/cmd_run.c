/*
 * `virttax run`: parse the plan, pick each workload's experiment, check the
 * flags against them, then one session measures every experiment through the
 * one runner and writes DIR/results.json (docs/ARCHITECTURE.md).
 *
 * Why so little here: what used to be four programs picked by scanning argv
 * (the A/B loop, I/O, memory pressure, footprint) is now an experiment table
 * (harness/experiments.c); setup is the session's (harness/session.c), the
 * loop the runner's (harness/runner.c). Bad input is rejected before anything
 * runs and nothing is written then.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/results.h"
#include "harness/cmds.h"
#include "harness/experiment.h"
#include "harness/runner.h"
#include "harness/session.h"

#define CALIB_EST_S 4.0 /* a quick calibration here: 4 runs of ~1 s */

struct run_ctx {
	struct plan plan;
	const struct experiment_ops *wl_exp[PLAN_MAX_WORKLOADS];
	const struct experiment_ops *exps[PLAN_MAX_WORKLOADS];
	size_t nexps;
	json_t *cal; /* --calibration, loaded before anything runs */
	struct session s;
};

static bool needs_calibration(const struct run_ctx *x)
{
	for (size_t i = 0; i < x->nexps; i++)
		if (x->exps[i]->needs_calibration)
			return true;
	return false;
}

static bool calibrates_first(const struct run_ctx *x)
{
	for (size_t i = 0; i < x->nexps; i++)
		if (x->exps[i]->needs_calibration && x->exps[i]->calibrates_first)
			return true;
	return false;
}

static void assign_experiments(struct run_ctx *x)
{
	x->nexps = 0;
	for (size_t i = 0; i < x->plan.nwl; i++) {
		const struct experiment_ops *e = experiment_for(&x->plan, &x->plan.wl[i]);
		size_t k = 0;
		x->wl_exp[i] = e;
		while (k < x->nexps && x->exps[k] != e)
			k++;
		if (k == x->nexps)
			x->exps[x->nexps++] = e;
	}
}

/* --dry-run: every child run and an estimate; nothing is probed or measured */
static int dry_run(struct run_ctx *x, const char *cmd)
{
	struct session *s = &x->s;
	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	s->plan = &x->plan;
	for (size_t i = 0; i < x->plan.nwl; i++)
		s->wl_exp[i] = x->wl_exp[i];
	double est = 0;
	size_t runs = 0;
	printf("%s --dry-run: nothing is run. Seed %llu (pass --seed %llu to keep this order); "
	       "the series of each round run in a seeded random order.\n",
	       cmd, (unsigned long long)x->plan.seed, (unsigned long long)x->plan.seed);
	bool calibrate = needs_calibration(x) && !x->plan.calibration_path;
	const char *calib_line =
	    "  calibration: 4 child runs (host boundaries, 3 groups of exit kinds)%s\n";
	if (calibrate) {
		runs += 4;
		est += x->plan.quick ? CALIB_EST_S : 3 * CALIB_EST_S;
	}
	if (calibrate && calibrates_first(x))
		printf(calib_line, ", before the runs");
	for (size_t i = 0; i < x->nexps; i++) {
		printf("experiment %s: %s\n", x->exps[i]->name, x->exps[i]->help);
		runs += runner_dry_run(s, x->exps[i], stdout, &est);
	}
	if (calibrate && !calibrates_first(x))
		printf(calib_line, ", after the runs (an interrupted session keeps its runs)");
	char d[32];
	progress_duration(est, d, sizeof(d));
	printf("%zu child runs, estimated %s (rough: the workload table's per-run estimates "
	       "from the development host)%s\nresults would go to %s/results.json\n",
	       runs, d, x->plan.reps_auto ? " plus what --reps auto adds" : "", x->plan.out_dir);
	return VTX_EXIT_OK;
}

/* Each experiment's fixtures, runs and teardown; stops at a fatal problem or a signal. */
static void measure(struct run_ctx *x)
{
	struct session *s = &x->s;
	char err[400];
	for (size_t i = 0; i < x->nexps; i++) /* N of `[k/N]`, corrected as fixtures come up */
		progress_add_total(&s->progress, (unsigned)runner_plan(s, x->exps[i]));
	for (size_t i = 0; i < x->nexps && !s->fatal && !session_stopped(); i++) {
		const struct experiment_ops *e = x->exps[i];
		s->exp = e;
		int rc = e->begin ? e->begin(s, err, sizeof(err)) : 0;
		if (rc) {
			session_fail(s, RUN_FATAL_HOST, "%s", err);
		} else {
			runner_experiment(s, e);
		}
		if (e->end)
			e->end(s);
		s->exp = NULL;
	}
}

/* The runs and the calibration their decomposition prices with. Calibrated
 * after the runs unless an experiment prices while it measures: a session
 * stopped early then keeps the runs it finished (the calibration is what it
 * loses, and --calibration FILE or `virttax report --calibration` adds it
 * back). The co-tenant never shares the host with the calibration. */
static int measure_and_calibrate(struct run_ctx *x)
{
	struct session *s = &x->s;
	json_t *cal = x->cal;
	bool first = calibrates_first(x);
	int rc = VTX_EXIT_OK;
	x->cal = NULL;
	if (!needs_calibration(x)) {
		json_decref(cal);
		cal = NULL;
	} else if (first) {
		rc = calibrate_session(s, cal);
		cal = NULL;
	}
	if (!rc)
		rc = session_cotenant(s);
	if (!rc)
		measure(x);
	session_cotenant_stop(s);
	if (needs_calibration(x) && !first) {
		if (!rc && !s->fatal && !session_stopped())
			rc = calibrate_session(s, cal);
		else
			json_decref(cal);
	}
	return rc;
}

int run_main(int argc, char **argv, const char *cmd)
{
	struct run_ctx *x = calloc(1, sizeof(*x));
	char err[400];
	if (!x)
		return VTX_EXIT_HOST;
	int rc = plan_parse_with(&x->plan, argc, argv, experiment_own_workload, err, sizeof(err));
	if (!rc) {
		assign_experiments(x);
		rc = experiment_check_flags(&x->plan, err, sizeof(err));
	}
	if (rc) {
		if (rc < 0)
			fprintf(stderr, "%s: %s\n", cmd, err);
		rc = rc < 0 ? VTX_EXIT_USAGE : VTX_EXIT_OK;
	} else if (x->plan.dry_run) {
		rc = dry_run(x, cmd);
	} else if (!(rc = calibrate_load(&x->plan, cmd, &x->cal)) &&
		   !(rc = session_begin(&x->s, &x->plan, x->wl_exp, cmd, true))) {
		rc = measure_and_calibrate(x);
		int st = session_finish(&x->s, x->exps, x->nexps);
		rc = rc ? rc : st;
	}
	json_decref(x->cal);
	plan_release(&x->plan);
	free(x);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	return run_main(argc, argv, "virttax run");
}
