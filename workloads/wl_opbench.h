/*
 * Shared body of the mediation workloads (sys-call, ctx-switch, pt-churn):
 * run one runtime primitive (include/virttax/wl_ops.h) `iters` times and
 * report the cost per operation.
 *
 * Why shared: the three workloads differ only in which primitive they time
 * and in what the primitive does on each side; the timing and reporting must
 * be identical so that their bare and VM numbers are comparable.
 */
#ifndef VIRTTAX_WL_OPBENCH_H
#define VIRTTAX_WL_OPBENCH_H

#include "virttax/workload.h"

/* Probes op (an unavailable op is an error naming the reason: -ENOTSUP),
 * times `iters` param operations in `batches` param batches, emits
 * "ns_per_op" (median batch), "time" (ms). */
int wl_opbench_run(struct wl_env *env, unsigned op);

#endif
