/*
 * A/B comparison of two results files: per workload, metric (and curve
 * point) and VM series, the VM-side samples and the per-pair overhead of A
 * against those of B: the ratio B/A with its interval, a permutation-test
 * p-value and a verdict; and what makes the two files comparable at all
 * (reports/compare_check.c).
 *
 * Why these rules (Firecracker's A/B gate, made fail-closed): a change is a
 * regression only when it is statistically convincing (permutation test,
 * p < 0.01) and a slowdown beyond the noise threshold (default 5%) is not
 * ruled out by the 99% interval of the change; a change is tolerated only
 * when that interval shows it below the threshold; anything else is
 * "inconclusive" (too few runs for this spread: the row says how many would
 * do). Everything is direction-aware (a throughput drop and a latency rise are
 * both slowdowns) and reproducible (fixed seeds). docs/METHOD.md.
 */
#ifndef VIRTTAX_REPORTS_COMPARE_H
#define VIRTTAX_REPORTS_COMPARE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define COMPARE_ALPHA 0.01
#define COMPARE_CI_NOMINAL (1 - COMPARE_ALPHA) /* level of the interval of a change */
#define COMPARE_POWER 0.95 /* the recommended runs detect a noise-sized change this often */
#define COMPARE_DEFAULT_NOISE_PCT 5.0

/* CMP_NA: both sides have samples but the ratio is undefined (a value <= 0 or
 * not finite); "note" says why. CMP_WITHIN_NOISE: significant, but the
 * interval shows the slowdown below the noise threshold. CMP_INCONCLUSIVE:
 * neither shown below the threshold nor significant (or the interval cannot
 * reach its level with these runs). */
enum compare_verdict {
	CMP_NO_CHANGE,
	CMP_REGRESSION,
	CMP_IMPROVEMENT,
	CMP_MISSING,
	CMP_NA,
	CMP_WITHIN_NOISE,
	CMP_INCONCLUSIVE,
};
const char *compare_verdict_name(enum compare_verdict v);

/* The verdict rule alone (pure, unit tested). Slowdowns in percent,
 * time-equivalent (> 0: B is slower): the estimate and the upper end of its
 * interval; `reached`: the interval reaches its nominal level. */
enum compare_verdict compare_verdict(double p, double slowdown_pct, double slowdown_hi_pct,
				     bool reached, double noise_pct);

/* Time-equivalent slowdown of B vs A in percent from a ratio r = B/A of the
 * metric's values: lower is better: (r - 1) * 100; higher is better:
 * (1/r - 1) * 100. */
double compare_slowdown_pct(double ratio, bool lower_is_better);

/*
 * Compare results A against B. Returns a new object
 *   {"noise_pct", "alpha", "ci_nominal", "power", "method", "rows": [ROW...],
 *    "regressions", "improvements", "inconclusive", "compared", "missing",
 *    "not_applicable", "judged", "reps_needed", "reps_for_power"}
 * ROW = {"workload","metric","unit","better","xk","xu","x","series",
 *        "kind":"vm"|"overhead"|"overhead-wall", "role": "performance"|"info", "judged": bool,
 *        ["on_cpu": bool (overhead rows)],
 *        "a":{"n","median","mad"[,"overhead_pct":OVERHEAD]},"b":{...},
 *        "ratio","ci":[lo,hi],"ci_level","underpowered","slowdown_pct",
 *        "slowdown_ci_pct":[lo,hi],"p","p_exact","min_p","verdict","reps_needed",
 *        "reps_for_power","note"}
 * "vm" rows compare the VM-side metric values; "overhead" rows compare the
 * per-pair VM time relative to bare (1 + overhead), so a change of the host
 * alone does not show there. The gate judges the performance (not "info")
 * overhead rows, and the vm rows of series without a bare side. A row whose
 * ratio is undefined has the verdict "n/a", null statistics and the reason in
 * "note". NULL with a message in err when A and B share nothing to compare.
 */
json_t *compare_results(json_t *a, json_t *b, double noise_pct, char *err, size_t errlen);

/* "mem-chase latency wss=64MiB vm overhead": a row's readable name (curve
 * points in human units), for the table, stderr, JUnit and Markdown. */
void compare_row_name(json_t *row, char *buf, size_t len);

/* ---- reports/compare_check.c: can A and B be compared at all? ---- */

/* What makes a candidate unfit, each with an explicit opt-out. */
enum compare_cause {
	CAUSE_MISSING,	     /* a baseline workload, metric or series has no candidate samples */
	CAUSE_FAILED_RUNS,   /* a run (either file) whose status is not ok */
	CAUSE_PARAMETERS,    /* parameters, VMM build or host differ */
	CAUSE_PARTIAL,	     /* a file written by an interrupted run */
	CAUSE_INCONCLUSIVE,  /* a judged row cannot be decided with these runs */
	CAUSE_NOTHING_JUDGED /* no row to judge: a pass would say nothing (no opt-out) */
};
#define COMPARE_NCAUSES 6
const char *compare_cause_name(enum compare_cause c);

/* Parameter categories --allow-param-diff takes ("all" = every one). */
extern const char *const compare_param_categories[];
/* Bit of category `name` (one of compare_param_categories), 0 when unknown. */
unsigned compare_param_category_bit(const char *name);

struct compare_allow {
	bool cause[COMPARE_NCAUSES]; /* --allow-missing, --allow-failed-runs, --allow-partial,
					--allow-inconclusive */
	unsigned params;	     /* bits of compare_param_categories */
};

/* Problems that keep B from passing against A, appended to cmp as
 * "problems": [{"cause","what","detail","allowed"}], with "failed" and
 * "inconclusive" counts of the problems not allowed. Reads the rows of cmp
 * (missing samples, inconclusive judged rows). */
void compare_check(json_t *cmp, json_t *a, json_t *b, const struct compare_allow *allow);

#endif
