/*
 * The experiment registry: one entry per harness/exp_*.c. The order is the
 * order in which experiments are asked whether they measure a workload;
 * `ab` (bare vs each VMM series) takes what no other claims.
 *
 * Also here: the check that every experiment flag the user gave applies to a
 * selected workload (issue: `--balloon` with cpu-int is bad input, not a
 * silent no-op), from each experiment's declared flags.
 */
#include "harness/experiment.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const struct experiment_ops *const experiment_table[] = {
    &exp_footprint,    &exp_validate, &exp_io_blk,    &exp_io_net,
    &exp_mem_pressure, &exp_ab,	      &exp_calibrate, NULL,
};

const struct experiment_ops *experiment_find(const char *name)
{
	for (const struct experiment_ops *const *e = experiment_table; *e; e++)
		if (!strcmp((*e)->name, name))
			return *e;
	return NULL;
}

const struct experiment_ops *experiment_for(const struct plan *p, const struct plan_workload *w)
{
	for (const struct experiment_ops *const *e = experiment_table; *e; e++)
		if ((*e)->claims && (*e)->claims(p, w))
			return *e;
	return &exp_ab;
}

bool experiment_own_workload(const char *name)
{
	struct plan_workload w = {.name = name};
	struct plan p = {0};
	for (const struct experiment_ops *const *e = experiment_table; *e; e++)
		if (*e != &exp_ab && (*e)->claims && (*e)->claims(&p, &w))
			return true;
	return false;
}

/* The experiment flags, and where each applies (for the one-line error). */
static const struct {
	unsigned bit;
	const char *flag;
	const char *where;
	bool needs_cpus; /* applies only to workloads that declare several vCPUs */
} flags[] = {
    {PLAN_F_IO_TECHNIQUE, "--io-technique",
     "the I/O workloads blk-seq, blk-rand, net-rr, net-stream", false},
    {PLAN_F_DIRECT, "--direct", "the disk workloads blk-seq and blk-rand", false},
    {PLAN_F_MEM_LIMIT, "--mem-limit", "workload mem-pressure", false},
    {PLAN_F_BALLOON, "--balloon", "workload mem-pressure (its VM side, vmm-lite)", false},
    {PLAN_F_PIN_MODE, "--pin none|dedicated",
     "workloads that run on several CPUs (sched-ipi, sched-spinlock)", true},
    {PLAN_F_OVERCOMMIT, "--overcommit",
     "workloads that run on several CPUs (sched-ipi, sched-spinlock)", true},
    {PLAN_F_CO_TENANT, "--co-tenant", "bare-vs-VM workloads (experiment ab)", false},
    {PLAN_F_REPS_AUTO, "--reps auto/--target-ci/--max-reps", "bare-vs-VM workloads (experiment ab)",
     false},
    {PLAN_F_CALIBRATION, "--calibration",
     "experiments that decompose overhead (ab, mem-pressure, io-blk, io-net, validate)", false},
    {PLAN_F_BACKINGS, "--backing with several values", "bare-vs-VM workloads (experiment ab)",
     false},
    {PLAN_F_PAGESIZES, "--pagesize with several values", "bare-vs-VM workloads (experiment ab)",
     false},
    {PLAN_F_VMMS, "--vmm with several values", "experiments ab, io-blk, io-net and vmm-footprint",
     false},
};

static bool applies(const struct plan *p, const struct plan_workload *w, unsigned bit,
		    bool needs_cpus)
{
	if (!(experiment_for(p, w)->flags & bit))
		return false;
	if (needs_cpus) {
		const char *list;
		return plan_vcpus(p, w, &list) > 1;
	}
	return true;
}

int experiment_check_flags(const struct plan *p, char *err, size_t len)
{
	for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
		if (!(p->given & flags[f].bit))
			continue;
		bool any = false;
		char names[256] = "";
		size_t off = 0;
		for (size_t i = 0; i < p->nwl; i++) {
			any |= applies(p, &p->wl[i], flags[f].bit, flags[f].needs_cpus);
			if (off < sizeof(names))
				off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s",
							i ? ", " : "", p->wl[i].name);
		}
		if (!any)
			return snprintf(err, len, "%s applies to %s, not to %s; nothing run",
					flags[f].flag, flags[f].where, names),
			       -EINVAL;
	}
	for (size_t i = 0; i < p->nwl; i++) {
		const struct experiment_ops *e = experiment_for(p, &p->wl[i]);
		int rc = e->validate ? e->validate(p, err, len) : 0;
		if (rc)
			return rc;
	}
	return 0;
}
