/*
 * Reading results.json for reports, compare, gate and the decomposition.
 *
 * Why its own file: every consumer needs the same few questions answered
 * from the run records (not from the summary, which holds no per-run
 * samples): which metrics and VM series exist, and the counted, ok samples
 * of one metric of one series, paired by rep with their bare runs. Keeping
 * it in one place means every report pairs and filters runs the same way
 * the summary does (docs/RESULTS-SCHEMA.md: warm-ups and runs that are not
 * ok never count).
 */
#ifndef VIRTTAX_REPORTS_RDATA_H
#define VIRTTAX_REPORTS_RDATA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The workload object called `name`, or NULL (borrowed). */
json_t *rdata_workload(json_t *root, const char *name);

/* true when a run is counted: not a warm-up and status "ok". */
bool rdata_run_counts(json_t *run);
/* Same metric name and curve point. */
bool rdata_same_metric(json_t *a, json_t *b);
/* The metric `key` in a run's metrics, or NULL (borrowed). */
json_t *rdata_find_metric(json_t *run, json_t *key);
/* Distinct metrics over counted runs (array of borrowed-then-increfed metric objects). */
json_t *rdata_metric_keys(json_t *runs);
/* Distinct VM series, first seen order: [{"series","baseline_series","config",
 * "reference"}] ("reference": the series is measured as a yardstick, such as
 * kvm-floor in footprint, not a VMM under test) */
json_t *rdata_vm_series(json_t *runs);
/* The counted ok run of `series` with rep number `rep`, or NULL. */
json_t *rdata_run(json_t *runs, const char *series, long rep);
/* Largest counted rep number + 1 over all runs. */
size_t rdata_nreps(json_t *runs);

/* Values of metric `key` in the counted ok runs of `series`, in rep order.
 * reps[] (may be NULL) receives the rep numbers. Returns how many (<= max). */
size_t rdata_values(json_t *runs, const char *series, json_t *key, double *out, long *reps,
		    size_t max);
/* Pairs (same rep, both counted and ok, both with the metric). Returns how many. */
size_t rdata_pairs(json_t *runs, const char *bare_series, const char *vm_series, json_t *key,
		   double *bare, double *vm, long *reps, size_t max);

/* Unit conversions: a time metric value in ns ("ns","us","ms","s"); NAN for others. */
double rdata_to_ns(double v, const char *unit);
/* "lower" -> true */
bool rdata_lower_is_better(json_t *key);
/* A printable label for a metric key: "latency@wss=16384" or "time". */
void rdata_metric_label(json_t *key, char *buf, size_t len);

/* Timed regions (docs/INTERFACES.md section 2) of a run: the VM's vmm_stats.regions
 * or the bare side's bare_stats.regions, or NULL (borrowed). */
json_t *rdata_regions(json_t *run);
/* The region that timed metric `key` in `run`: the first of the labels
 * METRIC@X (curve point x, an integer), METRIC, the longest LABEL with
 * METRIC = LABEL_..., "run"; NULL when none (borrowed). */
json_t *rdata_region(json_t *run, json_t *key);
/* One interval of a region: its only one (n = 1), or, when the label was timed
 * n > 1 times, the shortest (the interval a best-of metric reports). Fields
 * net of the marker's footprint. 0, or -1 when the region lacks them. */
struct rdata_interval {
	double wall_ns, run_ns, wait_ns;
	json_t *fields; /* the object holding them and kvm_vcpu (borrowed) */
	bool shortest;
};
int rdata_region_interval(json_t *region, struct rdata_interval *out);

#endif
