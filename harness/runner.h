/*
 * The one runner: the only caller of the VMM drivers' run and of the
 * bare-metal runner, and the one round loop every experiment is measured by.
 *
 * Why one: the control-fd handshake, the collectors and the protocol parser
 * (harness/child.c, core/proto.c) must observe every experiment, every VMM
 * and both sides the same way; the order of the series inside a round must
 * be counterbalanced (seeded, recorded per run) so that a drift or a teardown
 * effect cannot masquerade as overhead; every finished run must reach
 * DIR/runs.jsonl before the next starts; a stop request must end the loop
 * with what is left written down.
 */
#ifndef VIRTTAX_HARNESS_RUNNER_H
#define VIRTTAX_HARNESS_RUNNER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/experiment.h"
#include "harness/session.h"

/* Spawns one child for spec: VMM `vmm` (its driver's run), or the bare-metal
 * runner when vmm is NULL. 0, -ECANCELED when the session was stopped before,
 * or the driver's -errno (could not start). Always fills res. */
int runner_exec(struct session *s, const struct run_spec *spec, const char *vmm,
		struct run_result *res);
/* The run_spec of series ser of workload w from the plan (workload args,
 * CPU placement, backing, page size, memory, timeout, TSC, scratch, VMM args,
 * I/O technique). Pointers refer to the plan, w and ser. */
void runner_spec(const struct session *s, const struct plan_workload *w, const struct series *ser,
		 struct run_spec *spec);
/* After runner_exec: 0 when the run counts (ok or not); -ECANCELED when the
 * session was stopped meanwhile (the run is dropped); -EIO after recording a
 * fatal problem (could not start, the VMM said bad input or host problem). */
int runner_check(struct session *s, const struct plan_workload *w, const struct series *ser, int rc,
		 const struct run_result *res);
/* The default experiment rep: spec, exec, check, run record. */
int runner_rep(struct session *s, const struct plan_workload *w, const struct series *ser,
	       const struct run_meta *m, json_t **record);

/* Warm-up and counted rounds of experiment e under the session's plan. */
void runner_rounds(const struct plan *p, const struct experiment_ops *e, unsigned *warmup,
		   unsigned *reps);
/* The order of round `round` of the workload at index `wl`: a permutation
 * of 0..n-1 (Fisher-Yates over xorshift64* seeded from seed, wl and round). */
void runner_order(uint64_t seed, unsigned wl, unsigned round, size_t n, size_t *perm);
/* Measures every workload of the plan that experiment e claims. 0; -ECANCELED
 * (stopped) or -EIO (fatal) with the session's "remaining" filled. */
int runner_experiment(struct session *s, const struct experiment_ops *e);
/* The runs experiment e plans (the session's planned[] and the progress total). */
size_t runner_plan(struct session *s, const struct experiment_ops *e);
/* --dry-run: prints every child run experiment e would start (out NULL:
 * nothing) and returns their number; *est_s accumulates the estimated seconds. */
size_t runner_dry_run(struct session *s, const struct experiment_ops *e, FILE *out, double *est_s);

#endif
