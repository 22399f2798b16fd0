/*
 * Collectors: everything that counts what happened during one run.
 *
 * Why one ops table: kvm-stats, exits, perf, sched and topology differ in
 * source but not in life cycle (probe, open on a target, start, stop, read,
 * to_json), so the harness drives them all the same way and adding a
 * collector is one file plus one entry in collectors/registry.c.
 */
#ifndef VIRTTAX_COLLECTOR_H
#define VIRTTAX_COLLECTOR_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

enum collector_target_kind {
	CT_BARE, /* a bare-metal baseline process (`virttax baseline`) */
	CT_VM,	 /* a VMM process running a guest */
};

/* What a collector is opened on. Threads are alive from open() to read(). */
struct collector_target {
	enum collector_target_kind kind;
	pid_t pid; /* the baseline process or the VMM process */
	const pid_t
	    *tids; /* threads that run guest/workload code (vCPUs, or the baseline's thread) */
	size_t ntids;
	const char
	    *vmm_stats_json;  /* CT_VM: path of the VMM's --stats-json, valid after the VMM exits */
	const char *vmm_name; /* "vmm-lite", "qemu" */
};

/* One named value with a unit, e.g. {"context-switches", 12, "count"}. */
struct collector_value {
	char name[64];
	double value;
	char unit[16];
};

struct collector;

struct collector_ops {
	const char *name;
	/* 0 when usable here; otherwise -errno and a one-line reason in `why` */
	int (*probe)(char *why, size_t whylen);
	int (*open)(struct collector *c, const struct collector_target *t);
	int (*start)(struct collector *c); /* just before the workload runs */
	int (*stop)(struct collector *c);  /* just after it ends, threads still alive */
	/* After the target exited (e.g. parse vmm_stats_json). May be NULL. */
	int (*finish)(struct collector *c);
	/* Everything this collector measured, as a JSON object (new reference) */
	json_t *(*to_json)(struct collector *c);
	void (*close)(struct collector *c);
};

struct collector {
	const struct collector_ops *ops;
	const struct collector_target *target;
	void *priv;
	int available; /* result of probe (1 usable, 0 unavailable: see why) */
	char why[160]; /* reason when unavailable */
	int opened;    /* open() succeeded: close() is owed */
};

/* collectors/registry.c */
extern const struct collector_ops *const collector_table[];

/*
 * A set of collectors for one run. Unavailable collectors are kept and report
 * {"available":false,"reason":"..."} in JSON instead of failing the run.
 */
struct collector_set {
	struct collector *items;
	size_t n;
};
int collector_set_open(struct collector_set *s, const struct collector_target *t);
int collector_set_start(struct collector_set *s);
int collector_set_stop(struct collector_set *s);
int collector_set_finish(struct collector_set *s);
json_t *collector_set_to_json(struct collector_set *s); /* {"name": {...}, ...} */
void collector_set_close(struct collector_set *s);

/* collectors/environment.c: the machine description embedded in results.json
 * and printed by `virttax doctor`. sysfs_root NULL means "/". */
json_t *environment_collect(const char *sysfs_root);

/* collectors/topology.c: where to put a noisy neighbour relative to the
 * workload's CPU (OS index). */
enum neighbor_place {
	NEIGHBOR_SMT_SIBLING, /* another PU of the same core */
	NEIGHBOR_OTHER_CORE,  /* another core of the same NUMA node */
	NEIGHBOR_OTHER_NUMA,  /* a PU of another NUMA node */
};
struct topology;
/* synthetic NULL: this machine; else an hwloc synthetic description such as
 * "node:2 core:2 pu:2" (tests). 0 or -errno. */
int topology_load(struct topology **out, const char *synthetic);
void topology_free(struct topology *t);
json_t *topology_to_json(struct topology *t);
/* 0 and *cpu set, or -ENOENT (no such CPU here) / -EINVAL (workload_cpu
 * unknown) with a one-line reason in why. */
int topology_pick_neighbor(struct topology *t, int workload_cpu, enum neighbor_place where,
			   int *cpu, char *why, size_t whylen);

#endif
