/*
 * The workload table. Adding a workload: one file in workloads/ with a
 * `const struct workload_ops wl_NAME`, one extern and one entry here.
 */
#include "virttax/workload.h"
#include "workloads/wl_util.h"

extern const struct workload_ops wl_noop;
extern const struct workload_ops wl_cpu_int;
extern const struct workload_ops wl_cpu_fp;
extern const struct workload_ops wl_mem_chase;
extern const struct workload_ops wl_mem_stream;
extern const struct workload_ops wl_blk_seq;
extern const struct workload_ops wl_blk_rand;
extern const struct workload_ops wl_net_rr;
extern const struct workload_ops wl_net_stream;
extern const struct workload_ops wl_calib;
extern const struct workload_ops wl_exit_storm;
extern const struct workload_ops wl_sys_call;
extern const struct workload_ops wl_ctx_switch;
extern const struct workload_ops wl_pt_churn;
extern const struct workload_ops wl_sched_wakeup;
extern const struct workload_ops wl_sched_ipi;
extern const struct workload_ops wl_sched_spinlock;
extern const struct workload_ops wl_mem_pressure;

const struct workload_ops *const workload_table[] = {
    &wl_noop,	    &wl_cpu_int,	&wl_cpu_fp,	  &wl_mem_chase,  &wl_mem_stream,
    &wl_blk_seq,    &wl_blk_rand,	&wl_net_rr,	  &wl_net_stream, &wl_calib,
    &wl_exit_storm, &wl_sys_call,	&wl_ctx_switch,	  &wl_pt_churn,	  &wl_sched_wakeup,
    &wl_sched_ipi,  &wl_sched_spinlock, &wl_mem_pressure, NULL,
};

const struct workload_ops *workload_find(const char *name)
{
	for (const struct workload_ops *const *w = workload_table; *w; w++)
		if (wl_streq((*w)->name, name))
			return *w;
	return 0;
}
