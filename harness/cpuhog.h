/*
 * A CPU hog that takes a known share of one CPU (harness/cpuhog.c), the
 * scheduling perturbation of `virttax validate`.
 */
#ifndef VIRTTAX_HARNESS_CPUHOG_H
#define VIRTTAX_HARNESS_CPUHOG_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness/memcg.h"

struct cpuhog {
	pid_t pid;
	struct memcg g; /* its cpu cgroup (the memcg helpers are controller-agnostic) */
	unsigned quota_us, period_us;
	uint64_t periods0, throttled0; /* cpu.stat when the hog started */
};

struct cpuhog_stat {
	uint64_t periods, throttled; /* bandwidth periods since the start, and those throttled */
	uint64_t run_ns;	     /* the hog's CPU time (/proc/PID/schedstat) */
};

/* Creates cgroup NAME-PID in this process's cpu cgroup with `times` the
 * weight of a nice-0 task (capped at the interface's maximum: v2 100x, v1
 * 256x), capped to quota_us of every period_us when quota_us > 0 (v2
 * cpu.weight/cpu.max, v1 cpu.shares/cpu.cfs_quota_us); g->procs for
 * run_spec.cgroup_procs; remove with memcg_destroy(). 0 or -errno + why. */
int cpugroup_create(struct memcg *g, const char *name, unsigned times, unsigned quota_us,
		    unsigned period_us, char *why, size_t len);
#define CPUHOG_TIMES 256 /* the hog's weight: the maximum */
/* Forks a spinning hog pinned to `cpu`, in a new cpu cgroup capped to
 * quota_us of every period_us (v2 cpu.max, v1 cpu.cfs_quota_us) with the
 * largest weight (CPUHOG_TIMES). 0, or -errno with why ("unavailable"-style). */
int cpuhog_start(struct cpuhog *h, int cpu, unsigned quota_us, unsigned period_us, char *why,
		 size_t len);
/* Reads the counters, kills and reaps the hog, removes its group. */
void cpuhog_stop(struct cpuhog *h, struct cpuhog_stat *st);
#endif
