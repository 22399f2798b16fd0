/*
 * A/B comparison of two results files: per workload, metric (and curve
 * point) and VM series, the VM-side samples and the per-pair overhead of A
 * against those of B, with a bootstrap CI of the ratio, a permutation-test
 * p-value and a verdict.
 *
 * Why these rules (Firecracker's A/B gate): a change is significant only when
 * it is both statistically convincing (p < 0.01) and large enough to matter
 * (|change| > noise, default 5%); everything is direction-aware (a throughput
 * drop and a latency rise are both regressions) and reproducible (fixed seeds).
 */
#ifndef VIRTTAX_REPORTS_COMPARE_H
#define VIRTTAX_REPORTS_COMPARE_H

#include <jansson.h>
#include <stdbool.h>

#define COMPARE_ALPHA 0.01
#define COMPARE_DEFAULT_NOISE_PCT 5.0
#define COMPARE_SEED 0xc0ffee5eedull

/* CMP_NA: both sides have samples but the ratio is undefined (a bare value or
 * the median of A is 0, a value is not finite); "note" says why. */
enum compare_verdict { CMP_NO_CHANGE, CMP_REGRESSION, CMP_IMPROVEMENT, CMP_MISSING, CMP_NA };
const char *compare_verdict_name(enum compare_verdict v);

/* The verdict rule alone (pure, unit tested): slowdown_pct > 0 means B is worse
 * (time-equivalent, direction-aware). */
enum compare_verdict compare_verdict(double p, double slowdown_pct, double noise_pct);

/* Time-equivalent slowdown of B vs A in percent from the ratio of medians
 * r = B/A: lower is better: (r - 1) * 100; higher is better: (1/r - 1) * 100. */
double compare_slowdown_pct(double ratio, bool lower_is_better);

/*
 * Compare results A against B. Returns a new object
 *   {"noise_pct", "alpha", "rows": [ROW...], "regressions": N, "improvements": N,
 *    "compared": N, "missing": N, "not_applicable": N}
 * ROW = {"workload","metric","unit","better","xk","xu","x","series","kind":"vm"|"overhead",
 *        "a":{"n","median","mad"},"b":{...},"ratio","ratio_ci95":[lo,hi],
 *        "slowdown_pct","p","p_exact","verdict","note"}
 * "vm" rows compare the VM-side metric values; "overhead" rows compare the
 * per-pair VM time relative to bare (1 + overhead), so a regression of the
 * host alone does not show there. A row whose ratio is undefined has the
 * verdict "n/a", null statistics and the reason in "note". NULL with a message in err when A and B
 * share nothing to compare.
 */
json_t *compare_results(json_t *a, json_t *b, double noise_pct, char *err, size_t errlen);

#endif
