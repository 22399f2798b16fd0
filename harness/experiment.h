/*
 * Experiments as plug-ins (fio's engine model, applied to what `virttax run`
 * measures): one ops table per experiment, one registry
 * (harness/experiments.c). An experiment says which workloads it measures,
 * which run flags apply to it, checks the plan, sets up its fixtures, lists
 * the series one workload is measured in, does one run of one series (through
 * the one runner, harness/runner.c) and finishes its part of results.json.
 *
 * Why: the session (probe, TSC, scratch, output directory, environment,
 * calibration, signals), the counterbalanced round loop, runs.jsonl, progress
 * and the results file are the same for every experiment; what differs is
 * small and lives in one file each (harness/exp_*.c). Adding an experiment is
 * one file and one entry in experiments.c. docs/ARCHITECTURE.md.
 */
#ifndef VIRTTAX_HARNESS_EXPERIMENT_H
#define VIRTTAX_HARNESS_EXPERIMENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/plan.h"
#include "harness/run_record.h"

struct session;

#define SERIES_MAX 48

/* One series: a side configuration measured once per round (bare metal, one
 * VMM with one page size, one I/O technique, one cgroup limit, ...). */
struct series {
	char name[96];	   /* "bare", "vm[pagesize=4k]", "vm[io=poll]", ... */
	char baseline[96]; /* the bare series a VM series pairs with; "" when none */
	const char *side;  /* "bare" | "vm" */
	const char *vmm;   /* NULL on the bare side */
	const char *backing;
	const char *pagesize;	  /* NULL on the bare side */
	const char *io_technique; /* I/O experiments' VM series */
	uint64_t mem_limit;	  /* mem-pressure: cgroup limit, UINT64_MAX = none */
	unsigned vcpus;		  /* 0: the workload's (plan_vcpus) */
	uint64_t mem_bytes;	  /* 0: the plan's --mem */
	int index;		  /* experiment-private */
	char unavailable[240];	  /* non-empty: never run; recorded with this reason */
};

struct experiment_ops {
	const char *name; /* "ab", "io-blk", ...: results.json "experiment" */
	const char *help;
	/* options: the PLAN_F_* flags that apply to this experiment's workloads;
	 * an experiment's own defaults when the user did not say (0 = plan's) */
	unsigned flags;
	unsigned reps, quick_reps, warmup, quick_warmup;
	bool no_warmup;		/* every run counts (footprint, calibrate) */
	bool needs_calibration; /* the session calibrates (or loads --calibration) */
	/* workload_end reads the calibration (validate prices as it goes): the
	 * session calibrates before the runs. Otherwise it calibrates after them,
	 * so that an interrupted session keeps the runs it finished. */
	bool calibrates_first;
	bool probes_vmms; /* a VMM that fails its probe makes series unavailable */
	/* Does this experiment measure workload w of plan p? The registry asks in
	 * order; the first that says yes measures it. */
	bool (*claims)(const struct plan *p, const struct plan_workload *w);
	/* Plan checks beyond the generic flag check: 0 or -EINVAL with one line
	 * naming the input and the fix (nothing has run yet). */
	int (*validate)(const struct plan *p, char *err, size_t len);
	/* Fixtures (backing file, tap, veth, cgroups) and top-level results
	 * objects, before the first run. 0 or -errno with the reason in err. */
	int (*begin)(struct session *s, char *err, size_t len);
	/* The series workload w is measured in, in their canonical order;
	 * returns how many (<= max). */
	size_t (*series)(struct session *s, const struct plan_workload *w, struct series *out,
			 size_t max);
	/* One run of one series: *record (new ref) to append, or NULL when the
	 * run leaves none. 0; -ECANCELED when the session was stopped; -EIO
	 * when the plan must stop (s->fatal says why). NULL: runner_rep(). */
	int (*rep)(struct session *s, const struct plan_workload *w, const struct series *ser,
		   const struct run_meta *m, json_t **record);
	/* After the last run of workload w (its object in results.json). */
	void (*workload_end)(struct session *s, const struct plan_workload *w, json_t *wl);
	/* After every workload, complete or not: top-level objects, fixtures released. */
	void (*end)(struct session *s);
	/* The human table of this experiment's workloads, from results.json. */
	void (*print)(FILE *out, json_t *results);
	/* --dry-run: rough wall time of one run of series ser, ms (NULL: the
	 * workload table's estimate). */
	double (*estimate_ms)(const struct session *s, const struct plan_workload *w,
			      const struct series *ser);
};

/* harness/experiments.c: the registry */
extern const struct experiment_ops *const experiment_table[];
const struct experiment_ops *experiment_find(const char *name);
/* The experiment that measures w (never NULL for a parsed plan: ab takes the rest). */
const struct experiment_ops *experiment_for(const struct plan *p, const struct plan_workload *w);
/* Is `name` a workload only an experiment knows (vmm-footprint)? For plan_parse_with. */
bool experiment_own_workload(const char *name);
/* Every flag the user gave applies to at least one selected workload; 0 or
 * -EINVAL and "--FLAG applies to WHERE; not to W1, W2" in err. */
int experiment_check_flags(const struct plan *p, char *err, size_t len);

/* the experiments (one file each) */
extern const struct experiment_ops exp_ab, exp_io_blk, exp_io_net, exp_mem_pressure, exp_footprint,
    exp_calibrate, exp_validate;

/* harness/exp_calibrate.c: the calibration through the runner, for the
 * session and `virttax calibrate`. 0 and *out (new ref), or -errno (a
 * message printed; -ECANCELED when stopped). */
int calibrate_measure(struct session *s, const char *vmm, json_t **out);
/* The same for several VMMs in one interleaved run (`virttax calibrate --vmm
 * a,b`): "vm" holds the first's kinds, "vmms" every VMM's, "floor" kvm-floor's
 * pio, "ratios" each VMM to the floor and to the first. */
int calibrate_measure_vmms(struct session *s, const char *const *vmms, size_t nvmms, json_t **out);
/* --calibration FILE, loaded and checked before anything runs: 0 and *out
 * (NULL without the flag), or exit status 2 with the message printed. */
int calibrate_load(const struct plan *p, const char *cmd, json_t **out);
/* Stores `loaded` (stolen), or measures a calibration, as results.json
 * "calibration". A virttax exit status (0; 130 when stopped). */
int calibrate_session(struct session *s, json_t *loaded);
/* harness/exp_footprint.c: the footprint table from results.json's "footprint" */
void footprint_print(FILE *out, json_t *results);

#endif
