/*
 * ctx-switch: address-space switches (guest: CR3 to a 2nd address space and back; host: pipe
 * ping-pong between two processes).
 *
 * Why: mediation-heavy code (kernel-heavy work, frequent IPC, fork/exec/mmap
 * storms) is where a hypervisor costs most; each operation here is one
 * crossing the hypervisor may have to mediate. The operation is a runtime
 * primitive (include/virttax/wl_ops.h, WL_OP_CTX_SWITCH) because a freestanding
 * workload cannot issue it itself; timing and reporting: workloads/wl_opbench.c.
 */
#include "virttax/wl_ops.h"
#include "workloads/wl_opbench.h"

static const struct wl_param ctx_switch_params[] = {
    {"iters", "50000", "operations in total"},
    {"batches", "16", "timed batches (the median batch is reported), 1..64"},
    {"max_ms", "30000", "time bound, ms"},
    {0, 0, 0},
};

static int ctx_switch_run(struct wl_env *env)
{
	return wl_opbench_run(env, WL_OP_CTX_SWITCH);
}

const struct workload_ops wl_ctx_switch = {
    .name = "ctx-switch",
    .help = "address-space switches (guest: CR3 to a 2nd address space and back; host: pipe "
	    "ping-pong between two processes)",
    .params = ctx_switch_params,
    .quick_params = "iters=10000",
    .run = ctx_switch_run,
    .est_ms = 2500,
    .est_quick_ms = 400,
};
