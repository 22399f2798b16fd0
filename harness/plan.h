/*
 * The run plan: what `virttax run` will do, parsed and validated from the
 * command line before anything runs.
 *
 * Why separate from cmd_run.c: every piece of bad input (unknown workload or
 * key, bad number, unknown backing) must be rejected before the first child
 * is started, so parsing/validation is a pure function that unit tests can
 * drive without booting anything.
 */
#ifndef VIRTTAX_HARNESS_PLAN_H
#define VIRTTAX_HARNESS_PLAN_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virttax/workload.h"

#define PLAN_MAX_WORKLOADS 16
#define PLAN_MAX_PARAMS 32
#define PLAN_MAX_SETS 64
#define PLAN_MAX_BACKINGS 4
#define PLAN_MAX_PAGESIZES 2
#define PLAN_MAX_VMMS 4
#define PLAN_DEFAULT_REPS 10
#define PLAN_DEFAULT_WARMUP 2
#define PLAN_QUICK_REPS 3
#define PLAN_QUICK_WARMUP 1
#define PLAN_DEFAULT_MEM "2G"
#define PLAN_DEFAULT_TIMEOUT_S 300
#define PLAN_DEFAULT_BACKING "thp"
#define PLAN_DEFAULT_PAGESIZE "2m"
#define PLAN_MAX_VMM_ARGS 16
#define PLAN_DEFAULT_WORKLOADS "cpu-int,cpu-fp,mem-chase,mem-stream"
#define PLAN_MAX_TECH 8

/* The run flags whose meaning depends on the experiment: recorded when given
 * so that each can be checked against the selected workloads
 * (harness/experiments.c: a flag that applies to none is bad input). */
enum plan_flag {
	PLAN_F_IO_TECHNIQUE = 1u << 0, /* --io-technique */
	PLAN_F_DIRECT = 1u << 1,       /* --direct */
	PLAN_F_MEM_LIMIT = 1u << 2,    /* --mem-limit */
	PLAN_F_BALLOON = 1u << 3,      /* --balloon */
	PLAN_F_PIN_MODE = 1u << 4,     /* --pin none|dedicated */
	PLAN_F_OVERCOMMIT = 1u << 5,   /* --overcommit */
	PLAN_F_CO_TENANT = 1u << 6,    /* --co-tenant (not off) */
	PLAN_F_REPS_AUTO = 1u << 7,    /* --reps auto, --target-ci, --max-reps */
	PLAN_F_CALIBRATION = 1u << 8,  /* --calibration */
	PLAN_F_BACKINGS = 1u << 9,     /* --backing with several values */
	PLAN_F_PAGESIZES = 1u << 10,   /* --pagesize with several values */
	PLAN_F_VMMS = 1u << 11,	       /* --vmm with several values */
	/* given, applies everywhere: only experiment defaults look at these */
	PLAN_F_REPS = 1u << 16,
	PLAN_F_WARMUP = 1u << 17,
	PLAN_F_MEM = 1u << 18,
	PLAN_F_VMM = 1u << 19,
};

struct plan_workload {
	const char *name;		/* ops->name, or an experiment's own (vmm-footprint) */
	const struct workload_ops *ops; /* NULL for an experiment's own workload */
	/* effective values of every parameter, in ops->params order */
	const char *values[PLAN_MAX_PARAMS];
	size_t nparams;
	/* "k=v" for every value that differs from the default: the child args */
	char *args[PLAN_MAX_PARAMS];
	size_t nargs;
};

struct plan {
	struct plan_workload wl[PLAN_MAX_WORKLOADS];
	size_t nwl;
	unsigned reps, warmup;
	bool reps_auto;	      /* --reps auto (harness/autoreps.c): reps is the minimum */
	double target_ci_pct; /* --target-ci: overhead CI half-width goal, percentage points */
	unsigned max_reps;    /* --max-reps: cap of --reps auto */
	const char *vmm_args[PLAN_MAX_VMM_ARGS]; /* --vmm-arg: passed to the VMM verbatim */
	size_t nvmm_args;
	const char *vmm;		 /* the --vmm argument as given, e.g. "vmm-lite,qemu" */
	const char *vmms[PLAN_MAX_VMMS]; /* its names: each is its own VM series */
	size_t nvmms;
	const char *backings[PLAN_MAX_BACKINGS];
	size_t nbackings;
	const char *pagesizes[PLAN_MAX_PAGESIZES];
	size_t npagesizes;
	char out_dir[PATH_MAX];
	bool quick;
	int cpu;
	/* --pin none|dedicated, --overcommit, --co-tenant (docs/SCHED.md): the
	 * CPU list given to vmm-lite --pin and baseline --thread-pin ("" = no
	 * pinning, NULL = everything on `cpu` as before), vCPUs/threads (0 = 1) */
	const char *pin_mode; /* NULL (one CPU) | "none" | "dedicated" */
	bool overcommit;
	const char *co_tenant; /* NULL = off */
	char cpu_list[32];
	bool cpu_list_set;
	char auto_cpu_list[32]; /* workloads that need 2 vCPUs: --pin CPU + another core */
	unsigned vcpus;
	uint64_t mem_bytes;
	unsigned timeout_s;
	const char *sets[PLAN_MAX_SETS]; /* raw --set arguments */
	size_t nsets;
	/* experiment flags (docs/IO.md, docs/SCHED.md) */
	const char *techniques[PLAN_MAX_TECH]; /* --io-technique LIST */
	size_t ntechniques;
	bool direct;		      /* --direct: blk-* with O_DIRECT on both sides */
	uint64_t mem_limit;	      /* --mem-limit SIZE (bytes), 0: none */
	char mem_limit_text[32];      /* as given, for series names */
	unsigned long balloon_mib;    /* --balloon MIB, 0: none */
	const char *calibration_path; /* --calibration FILE */
	uint64_t seed;		      /* --seed N (or from the clock): the order of each round */
	bool quiet;		      /* --quiet: no progress on stderr */
	bool dry_run;		      /* --dry-run: print the plan, run nothing */
	unsigned given;		      /* PLAN_F_* the user gave */
	/* neither --backing nor --pagesize given: workloads with
	 * WL_NEEDS_TRANSLATION also get the translation A/B series (exp_ab.c) */
	bool translation_series;
	char *owned[PLAN_MAX_WORKLOADS * PLAN_MAX_PARAMS * 2 + 8]; /* strings to free */
	size_t nowned;
};

/* Parses `virttax run` arguments (argv[0] is "run"). 0; 1 when --help was
 * printed; -EINVAL with a one-line message naming the input and the fix in err.
 * Workload names not in the workload table are accepted when own_workload
 * (may be NULL) says an experiment measures them (harness/experiments.c). */
int plan_parse(struct plan *p, int argc, char **argv, char *err, size_t errlen);
int plan_parse_with(struct plan *p, int argc, char **argv, bool (*own_workload)(const char *),
		    char *err, size_t errlen);
void plan_release(struct plan *p);
void plan_usage(FILE *out);

/* The effective value of parameter `key` of w, or "" when it has none. */
const char *plan_value(const struct plan_workload *w, const char *key);
/* The bare-metal runner supports only 4k|thp: hugetlb-* maps to thp there. */
const char *plan_bare_backing(const char *backing);
/* Every parameter of the plan as JSON (the "parameters" of results.json). */
json_t *plan_to_json(const struct plan *p);
json_t *plan_workload_params_json(const struct plan_workload *w);
/* The last CPU this process may run on, or -errno. */
int plan_default_cpu(void);
/* vCPUs (VM) / threads (bare) workload w runs with, and their CPU list
 * ("" = unpinned, NULL = everything on plan->cpu): --pin none|dedicated and
 * --overcommit when given, else what the workload declares (2 vCPUs get a
 * dedicated CPU each when there is a second one). */
unsigned plan_vcpus(const struct plan *p, const struct plan_workload *w, const char **cpu_list);

#endif
