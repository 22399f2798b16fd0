/*
 * Overhead decomposition (method: docs/METHOD.md).
 *
 * Why: a single overhead number says that a VM is slower, not why. Per
 * workload, VM series and metric this splits the measured overhead (in percent
 * of the bare-metal time) into mediation (exits x calibrated cost per exit
 * kind), translation (the 4 KiB vs 2 MiB guest page A/B), scheduling
 * (run-queue delay of the vCPU beyond the bare thread's, and steal) and the
 * residual, each with a bootstrap 95% CI over the pairs. A component that
 * cannot be computed from the data says why instead of being guessed.
 *
 * Pure: results JSON (+ calibration JSON) in, decomposition JSON out, so it
 * is unit tested on synthetic files (tests/data/).
 */
#ifndef VIRTTAX_REPORTS_DECOMPOSE_H
#define VIRTTAX_REPORTS_DECOMPOSE_H

#include <jansson.h>

#define DECOMPOSE_ITERS 2000
#define DECOMPOSE_SEED 0xdec0de5eedull
#define DECOMPOSE_VALIDATION_TOL_PCT 10.0
/* a residual beyond +-this many points of bare time gets a measured cause */
#define DECOMPOSE_RESIDUAL_PP 5.0
/* an interval whose run + wait exceeds its wall time by this factor was not
 * resolved by the scheduler's accounting (schedstat, updated at switches) */
#define DECOMPOSE_UNRESOLVED_FACTOR 1.05

/*
 * Returns (new ref)
 *   {"method": "...", "calibration_source": "...",
 *    "entries": [ENTRY...], "validation": [VROW...]}
 * ENTRY = {"workload","series","vm_config","metric","unit","better","xk","xu","x",
 *          "pairs": N, "measured": COMP, "components": [COMP...]}   (mediation,
 *          translation, scheduling, residual, in that order)
 * COMP  = {"name","available": bool,"value_pct","ci95_pct":[lo,hi],"reason"|null,
 *          "note"|null, "detail": {...}}
 * VROW  = {"workload","series","k","kind","exits","pairs","measured_pct","measured_ci95",
 *          "predicted_pct","predicted_ci95","residual_pct","residual_ci95",
 *          "error_pct" ((predicted - measured) / measured * 100),"within_tol": bool,
 *          "guest_exit_time_pct", "model" (in-run|spacing-aware|back-to-back: the one
 *          predicted_pct and within_tol use), "gap_us", "selfcal_exit_ns", and per model
 *          m in b2b|sp|inrun: "predicted_<m>_pct","predicted_<m>_ci95","error_<m>_pct",
 *          "within_tol_<m>" (null/false when m is not available)}
 *          for exit-storm entries with a priced kind or an in-run cost.
 * `calib` may be NULL: then results["calibration"] is used if present.
 */
json_t *decompose_results(json_t *results, json_t *calib);

/* reports/decompose_extra.c. Rows of the components outside the pair sum
 * (decompose_results() stores the first two as "io" and "memory_pressure"):
 * I/O boundary crossings per I/O of each VM series with vmm_stats "io";
 * memory pressure, limited vs unlimited per side (`run --mem-limit`);
 * co-tenant sharing cost, per side, of a --co-tenant results file against one
 * without (labelled "sharing cost, not a virtualization cost"). New refs. */
json_t *decompose_io(json_t *results, json_t *calib);
json_t *decompose_mem_pressure(json_t *results);
json_t *decompose_sharing(json_t *const *results, size_t n);

#endif
