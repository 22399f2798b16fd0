/*
 * A per-run memory cgroup: created before the child, joined by the child
 * right after fork (run_spec.cgroup_procs), read and removed after it was
 * reaped. cgroup v2 (memory.max) when the unified hierarchy has the memory
 * controller; otherwise the cgroup v1 memory hierarchy (memory.limit_in_bytes)
 * when it is mounted, recorded as such; otherwise unavailable with the reason.
 *
 * Why a file of its own: the group must be removed on every path (failure,
 * OOM kill, timeout), and the probing of which interface this host offers is
 * testable against a fake sysfs tree (the root is a parameter).
 */
#ifndef VIRTTAX_HARNESS_MEMCG_H
#define VIRTTAX_HARNESS_MEMCG_H

#include <jansson.h>
#include <limits.h>
#include <stdint.h>

enum memcg_iface { MEMCG_NONE, MEMCG_V2, MEMCG_V1 };

struct memcg_host {
	enum memcg_iface iface;
	char parent[PATH_MAX - 64]; /* directory the groups are created in */
};

struct memcg {
	enum memcg_iface iface;
	char dir[PATH_MAX - 32];
	char procs[PATH_MAX]; /* DIR/cgroup.procs: run_spec.cgroup_procs */
	uint64_t limit;	      /* bytes; UINT64_MAX = no limit ("max") */
};

/* Finds a usable memory cgroup interface from `mountinfo` and `self_cgroup`
 * (/proc/self/mountinfo, /proc/self/cgroup; tests pass fakes). For v2 it
 * enables +memory in the parent's cgroup.subtree_control when it is only in
 * cgroup.controllers. 0, or -errno and "unavailable"-style reason in why. */
int memcg_probe(struct memcg_host *h, const char *mountinfo, const char *self_cgroup, char *why,
		size_t len);
/* The same for any controller ("cpu": harness/cpuhog.c); memcg_probe is
 * cgroup_probe("memory", ...). */
int cgroup_probe(const char *controller, struct memcg_host *h, const char *mountinfo,
		 const char *self_cgroup, char *why, size_t len);
/* Writes val to DIR/FILE. 0 or -errno. */
int cgroup_write(const char *dir, const char *file, const char *val);
/* Creates PARENT/NAME with the limit (UINT64_MAX: none). 0 or -errno + why. */
int memcg_create(const struct memcg_host *h, const char *name, uint64_t limit, struct memcg *g,
		 char *why, size_t len);
/* Counters of the group now, new ref:
 * {"events":{"high","max","oom","oom_kill"}, "stat":{"pgmajfault","pgfault",
 * "workingset_refault_anon","workingset_refault_file"}, "peak_bytes"}; a counter
 * the interface does not have is null. */
json_t *memcg_read(const struct memcg *g);
/* after − before, key by key (null stays null). New ref. */
json_t *memcg_delta(json_t *before, json_t *after);
/* Moves leftover tasks to the parent and removes the group; retried briefly
 * (a reaped child can linger a moment). 0 or -errno. */
int memcg_destroy(struct memcg *g);
/* "cgroup2 memory.max" / "cgroup1 memory.limit_in_bytes" */
const char *memcg_knob(enum memcg_iface iface);
const char *memcg_iface_name(enum memcg_iface iface);

#endif
