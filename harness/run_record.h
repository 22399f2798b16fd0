/*
 * Building results.json during a run (core/results.h is the schema): the
 * top-level object of a plan and one record per finished child.
 */
#ifndef VIRTTAX_HARNESS_RUN_RECORD_H
#define VIRTTAX_HARNESS_RUN_RECORD_H

#include <jansson.h>
#include <stdbool.h>

#include "harness/vmm.h"

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

#endif
