/*
 * results.json, the schema every experiment writes and every reader reads:
 * the summary, loading with the schema check, the atomic writer.
 *
 * Why its own file: results.json is virttax's product (docs/RESULTS-SCHEMA.md).
 * The summary is computed from the run records alone, so anyone can recompute
 * it from the file, and tests can check it without running anything. How run
 * records are made from children is the runner's business (harness/).
 */
#ifndef VIRTTAX_CORE_RESULTS_H
#define VIRTTAX_CORE_RESULTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define RESULTS_SCHEMA "virttax-results"
#define RESULTS_SCHEMA_VERSION 3
#define RESULTS_SCHEMA_VERSION_MIN 1 /* versions 1 and 2 are still read (summary recomputed) */
#define VIRTTAX_VERSION "0.1.0"

/* Recompute "summary" of one workload object from its "runs". 0 or -errno. */
int results_summarize(json_t *workload);
/* "info" for a metric that describes the run rather than measures its speed
 * (unit "count", or "role": "info" in its run record: the workload table's
 * info_metrics), else "performance". `metric` is a run's metric or a summary entry. */
const char *results_metric_role(json_t *metric);
/* Count of runs whose status is not "ok" across all workloads. */
size_t results_failed_runs(json_t *root);
/* Write to `path` via a temporary file in the same directory, fsync, rename
 * (core/outfile.c: in place when `path` is not a regular file). */
int results_write_atomic(const char *path, json_t *root);
/* Load PATH (a run directory holding results.json, or the file itself),
 * check the schema and its version and recompute every workload's summary
 * from its runs. 0; -errno with a one-line message naming PATH and the fix. */
int results_load(const char *path, json_t **root, char *err, size_t errlen);
/* A file written by an interrupted or stopped run ("complete": false)?
 * true and "partial: ..." (why, runs kept and left) in why. */
bool results_partial(json_t *root, char *why, size_t len);

#endif
