/*
 * sys-call: guest user -> guest kernel -> user round trips (host: syscall(getpid)).
 *
 * Why: mediation-heavy code (kernel-heavy work, frequent IPC, fork/exec/mmap
 * storms) is where a hypervisor costs most; each operation here is one
 * crossing the hypervisor may have to mediate. The operation is a runtime
 * primitive (include/virttax/wl_ops.h, WL_OP_SYSCALL) because a freestanding
 * workload cannot issue it itself; timing and reporting: workloads/wl_opbench.c.
 */
#include "virttax/wl_ops.h"
#include "workloads/wl_opbench.h"

static const struct wl_param sys_call_params[] = {
    {"iters", "200000", "operations in total"},
    {"batches", "16", "timed batches (the median batch is reported), 1..64"},
    {"max_ms", "30000", "time bound, ms"},
    {0, 0, 0},
};

static int sys_call_run(struct wl_env *env)
{
	return wl_opbench_run(env, WL_OP_SYSCALL);
}

const struct workload_ops wl_sys_call = {
    .name = "sys-call",
    .help = "guest user -> guest kernel -> user round trips (host: syscall(getpid))",
    .params = sys_call_params,
    .quick_params = "iters=40000",
    .run = sys_call_run,
    .est_ms = 5000,
    .est_quick_ms = 800,
};
