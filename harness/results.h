/*
 * results.json: building run records, summarising them, writing atomically.
 *
 * Why its own file: results.json is virttax's product (docs/RESULTS-SCHEMA.md).
 * The summary is computed from the run records alone, so anyone can recompute
 * it from the file, and tests can check it without running anything.
 */
#ifndef VIRTTAX_HARNESS_RESULTS_H
#define VIRTTAX_HARNESS_RESULTS_H

#include <jansson.h>
#include <stdbool.h>

#include "harness/vmm.h"

#define RESULTS_SCHEMA "virttax-results"
#define RESULTS_SCHEMA_VERSION 1
#define VIRTTAX_VERSION "0.1.0"

struct plan;

/* Where a run belongs: which side/series, which repetition. */
struct run_meta {
	const char *side;	     /* "bare" | "vm" */
	const char *vmm;	     /* NULL for bare */
	const char *series;	     /* "bare", "vm", "vm[pagesize=4k]", ... */
	const char *baseline_series; /* vm runs: the bare series they pair with */
	const char *backing;
	const char *pagesize; /* NULL for bare */
	unsigned rep;	      /* 0-based, warm-ups and counted reps numbered separately */
	bool warmup;
};

/* The top-level object with an empty "workloads" array (new ref). Steals
 * `environment` (NULL: stored as null). */
json_t *results_new(const struct plan *p, json_t *environment, unsigned long tsc_khz,
		    const char *version);
/* One run record (new ref) from a finished run. */
json_t *results_run_record(const struct run_meta *meta, const struct run_result *res);
/* Recompute "summary" of one workload object from its "runs". 0 or -errno. */
int results_summarize(json_t *workload);
/* Count of runs whose status is not "ok" across all workloads. */
size_t results_failed_runs(json_t *root);
/* Write to `path` via a temporary file in the same directory, fsync, rename. */
int results_write_atomic(const char *path, json_t *root);

#endif
