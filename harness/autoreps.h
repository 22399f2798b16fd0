/*
 * `virttax run --reps auto`: how many A/B pairs each workload gets.
 *
 * Why a pilot and not "stop when the interval is narrow": stopping at the
 * first look that happens to be narrow picks the samples that look tight
 * (optional stopping) and biases the interval narrow. Here a pilot of
 * AUTOREPS_PILOT pairs only measures the spread of the per-pair time ratios;
 * that spread alone sets the total N (so that the widest overhead interval of
 * the workload's performance metrics reaches +-target at 95%), and the
 * interval then comes from all N pairs. N depends on the pilot's spread, never
 * on where its values lie; the coverage of the whole procedure is checked by
 * simulation (tests/unit/test_stats_coverage.c, reps_auto_two_stage).
 * Metrics that do not measure speed (workload_ops.info_metrics, unit
 * "count") are skipped. Warm-up pairs never count; outliers are flagged by
 * the summary (MAD) and kept. Its own file: the rule is statistics, the runner
 * only asks "one more round?"; it reads the run records alone, so it is unit
 * tested on JSON.
 */
#ifndef VIRTTAX_HARNESS_AUTOREPS_H
#define VIRTTAX_HARNESS_AUTOREPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define AUTOREPS_PILOT 6 /* pairs: the smallest n whose interval reaches 95% */
#define AUTOREPS_MIN AUTOREPS_PILOT
#define AUTOREPS_DEFAULT_MAX 30
#define AUTOREPS_DEFAULT_TARGET_PCT 1.0

struct plan;

/* Widest interval half-width (percentage points) of the performance
 * overheads in the workload's summary; NAN when none. The label of the
 * widest entry goes to `which`. Recomputes the summary. */
double autoreps_widest_halfwidth(json_t *workload, char *which, size_t len);

/* Pairs the workload needs for overhead intervals of +-target_pct from the
 * pilot's spread: the largest over its performance entries of
 * stats_reps_for_halfwidth(), clamped to [AUTOREPS_PILOT, max_reps]; the
 * entry that needs the most in `which`, its log spread in *sigma. */
size_t autoreps_plan_pairs(json_t *workload, double target_pct, size_t max_reps, char *which,
			   size_t len, double *sigma);

/* Should `virttax run` do another counted pair of this workload? `done` =
 * counted pairs finished. Fixed reps: done < reps. Auto: the pilot, then the
 * total planned once from it (recorded in the workload as reps_auto.planned).
 * Prints the plan once. */
bool autoreps_more(const struct plan *p, json_t *workload, unsigned done);

/* Record the outcome in the workload object: "reps_auto": {"pilot", "planned",
 * "planned_from", "pilot_log_spread", "reps", "converged", "target_ci_pct",
 * "max_reps", "widest_ci_halfwidth_pct", "widest", "rule"}. */
void autoreps_record(const struct plan *p, json_t *workload, unsigned done);

#endif
