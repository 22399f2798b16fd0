/*
 * `virttax run --reps auto`: keep adding A/B pairs until every overhead is
 * known well enough (Phoronix Test Suite style), or a cap is reached.
 *
 * Why its own file: the stopping rule is statistics, not process management;
 * cmd_run.c only asks "one more pair?" and this file answers from the run
 * records alone (results_summarize), so it is unit tested on JSON.
 * Warm-up pairs never count; outliers are flagged by the summary (MAD) and
 * kept, never dropped to make an interval look narrower.
 */
#ifndef VIRTTAX_HARNESS_AUTOREPS_H
#define VIRTTAX_HARNESS_AUTOREPS_H

#include <jansson.h>
#include <stdbool.h>

#define AUTOREPS_MIN 5 /* enough pairs for a bootstrap CI and a p < 0.01 */
#define AUTOREPS_DEFAULT_MAX 30
#define AUTOREPS_DEFAULT_TARGET_PCT 1.0

struct plan;

/* Widest 95% CI half-width (percentage points) of the overheads in the
 * workload's summary; metrics counted in "count" (the workload's own
 * bookkeeping) and entries without pairs are skipped. NAN when none. The
 * label of the widest entry goes to `which`. Recomputes the summary. */
double autoreps_widest_halfwidth(json_t *workload, char *which, size_t len);

/* Should `virttax run` do another counted pair of this workload? `done` =
 * counted pairs finished. Fixed reps: done < reps. Auto: done < AUTOREPS_MIN,
 * else widest half-width >= target and done < max_reps. Prints progress. */
bool autoreps_more(const struct plan *p, json_t *workload, unsigned done);

/* Record the outcome in the workload object: "reps_auto": {"reps","converged",
 * "target_ci_pct","max_reps","widest_ci_halfwidth_pct","widest"}. */
void autoreps_record(const struct plan *p, json_t *workload, unsigned done);

#endif
