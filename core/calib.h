/*
 * Calibration: {"t":"calib"} records -> per-kind costs with a 95% CI ->
 * calibration.json (schema: docs/CALIBRATION.md): check, load, ladder.
 *
 * Why in core/: `virttax run` and `virttax calibrate` make calibrations, the
 * protocol parser validates calib records and the reports read the file; the
 * statistics and the file round trip are unit tested without booting
 * anything. The procedure that boots the agent is harness/calib_run.c.
 */
#ifndef VIRTTAX_CORE_CALIB_H
#define VIRTTAX_CORE_CALIB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CALIB_SCHEMA_VERSION 1
#define CALIB_MAX_KINDS 64   /* calib records per run */
#define CALIB_MAX_SAMPLES 24 /* rounds (ticks) per record */
/* iterations per round: far above what a round of goal_ms does (10^8 at
 * 1 ns/op), far below where iters * rounds or a float conversion overflows */
#define CALIB_MAX_ITERS (1LL << 40)
#define CALIB_MAX_SPACING 16 /* spacing points per kind (a run makes <= 8) */

/* 0 when `rec` is a well-formed calib record; else -EINVAL and *why. */
int calib_record_check(json_t *rec, const char **why);

/* Median and a distribution-free 95% CI of the median (order statistics,
 * binomial): [x(k), x(n-k+1)] with the largest k whose coverage is >= 95%;
 * for n < 6 no such k exists and the CI is [min, max] with its exact
 * coverage (1 - 2^(1-n)). */
struct calib_stat {
	double median, lo, hi, coverage;
	size_t n;
};
int calib_stat_compute(const double *x, size_t n, struct calib_stat *out);

/* One record -> {"available":true,"how","ns","ci95":[lo,hi],"n","iters","ops","cycles",
 * "samples_ns":[...]} or {"available":false,"reason"}. tsc_hz > 0. */
json_t *calib_kind_json(json_t *rec, double tsc_hz);

/* One spacing record (gap_units, ticks and interleaved base_ticks) ->
 * {"gap_units","gap_ns","ns","ci95","ci_coverage","n","iters","unit","samples_ns"}:
 * ns = median over rounds of (ticks - base_ticks) / iters, gap_ns = median of
 * base_ticks / iters; NULL when malformed. */
json_t *calib_spacing_json(json_t *rec, double tsc_hz);
/* Add the kinds of `recs` (array of calib records) to `side` ({"kind":{...}});
 * spacing records go to side[kind].spacing (sorted by gap_ns). 0, or -E2BIG
 * with a one-line reason in err and `side` unchanged when a kind would get
 * more than CALIB_MAX_SPACING spacing points (a hostile producer). */
int calib_add_records(json_t *side, json_t *recs, double tsc_hz, char *err, size_t len);
/* Price each kind of `side` with the measuring thread's CPU time per
 * operation in its timed region "calib.KIND" of `regions` (the calib run's
 * stats "regions"): ns = run_ns / ops, ci95 scaled by ns / stopwatch median;
 * the stopwatch values stay as ns_stopwatch / ci95_stopwatch and "cpu" says
 * what was measured. Only when the rounds cover the region (sum of the rounds'
 * times / region wall time within [CALIB_CPU_MIN_COVER, CALIB_CPU_MAX_COVER])
 * and the thread never blocked in it: otherwise "cpu" says why the stopwatch
 * stays (hlt, IPIs, host-irq's gaps). Why: under load the stopwatch holds the
 * run-queue waits inside the rounds, which the scheduling component counts. */
#define CALIB_CPU_MIN_COVER 0.9
#define CALIB_CPU_MAX_COVER 1.05
void calib_price_cpu(json_t *side, json_t *regions);
/* Mark `kinds` (comma-separated) unavailable in `side` with `reason`, unless present. */
void calib_mark_missing(json_t *side, const char *kinds, const char *reason);
/* The boundary ladder from the "bare" and "vm" sides, cheapest first. */
json_t *calib_build_ladder(json_t *calib);

/* Validate a calibration object (version, sides, kinds); -EINVAL + err. */
int calib_validate(json_t *calib, char *err, size_t len);
int calib_load(const char *path, json_t **out, char *err, size_t len);
int calib_write(const char *path, json_t *calib); /* atomic: temp + rename */
/* Calibrated ns per op of `kind` on `side` ("vm"/"bare"), or -1 when unavailable. */
double calib_cost_ns(json_t *calib, const char *side, const char *kind);

/* A human-readable table of every kind and the ladder. */
void calib_print(FILE *f, json_t *calib);

/* core/calib_compare.c: several VMMs ("vmms") and kvm-floor ("floor") in one
 * calibration. {"to_floor":{VMM:{KIND:R}},"to_first":{VMM:{KIND:R}},"first":VMM},
 * R = {"value","ci95":[lo,hi],"n_num","n_den"}: median(VMM)/median(reference)
 * with a bootstrap CI over the rounds' samples. */
json_t *calib_build_ratios(json_t *calib);
/* The exit kinds of the floor and every VMM side by side, with the ratios and
 * each kind's "how" (nothing without "vmms" and "floor"). */
void calib_print_compare(FILE *f, json_t *calib);

#endif
