/*
 * Building results.json during a run (core/results.h is the schema): one
 * record per finished child. Experiments add what they know to it (memcg,
 * balloon, footprint, tool); a record carries any extra per-run object
 * (vmm_stats, regions, ...) untouched.
 */
#ifndef VIRTTAX_HARNESS_RUN_RECORD_H
#define VIRTTAX_HARNESS_RUN_RECORD_H

#include <jansson.h>
#include <stdbool.h>

#include "harness/vmm.h"

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

/* One run record (new ref) from a finished run. */
json_t *results_run_record(const struct run_meta *meta, const struct run_result *res);

#endif
