/*
 * pt-churn: page-table churn (guest: rewrite a PTE, invlpg, touch; host: mmap, touch, munmap).
 *
 * Why: mediation-heavy code (kernel-heavy work, frequent IPC, fork/exec/mmap
 * storms) is where a hypervisor costs most; each operation here is one
 * crossing the hypervisor may have to mediate. The operation is a runtime
 * primitive (include/virttax/wl_ops.h, WL_OP_PT_CHURN) because a freestanding
 * workload cannot issue it itself; timing and reporting: workloads/wl_opbench.c.
 */
#include "virttax/wl_ops.h"
#include "workloads/wl_opbench.h"

static const struct wl_param pt_churn_params[] = {
    {"iters", "50000", "operations in total"},
    {"batches", "16", "timed batches (the median batch is reported), 1..64"},
    {"max_ms", "30000", "time bound, ms"},
    {0, 0, 0},
};

static int pt_churn_run(struct wl_env *env)
{
	return wl_opbench_run(env, WL_OP_PT_CHURN);
}

const struct workload_ops wl_pt_churn = {
    .name = "pt-churn",
    .help = "page-table churn (guest: rewrite a PTE, invlpg, touch; host: mmap, touch, munmap)",
    .params = pt_churn_params,
    .quick_params = "iters=10000",
    .run = pt_churn_run,
    .est_ms = 2500,
    .est_quick_ms = 600,
};
