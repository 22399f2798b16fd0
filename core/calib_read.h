/*
 * Looking up a calibrated per-operation cost (calibration.json, or the
 * "calibration" object embedded in results.json) and mapping the VMM's exit
 * reasons ("io:0x4f0", "mmio", "hlt", ...) to calibration kinds.
 *
 * Why its own file: the decomposition, the ladder chart and the validation
 * view all need "what does one crossing of kind K cost here, with what CI",
 * and the answer must say why when it is unavailable rather than guess.
 */
#ifndef VIRTTAX_CORE_CALIB_READ_H
#define VIRTTAX_CORE_CALIB_READ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct calib_cost {
	double ns;	     /* median ns per operation */
	double ci_lo, ci_hi; /* 95% CI of the median, ns */
	long n;		     /* rounds (samples) behind it, 0 when unknown */
	const char *side;    /* "vm" | "bare" | NULL */
};

/* 0; -ENOENT (kind absent) or -ENOTSUP (measured as unavailable) with the reason in why. */
int calib_read_lookup(json_t *calib, const char *kind, struct calib_cost *out, char *why,
		      size_t whylen);
/* The cost of what `kind` does beyond `minus` (pt-churn - pt-rewrite: one page fault),
 * CI from the two CIs' far ends. 0, or -errno with why (either missing, not positive). */
int calib_read_difference(json_t *calib, const char *kind, const char *minus,
			  struct calib_cost *out, char *why, size_t whylen);

/* Every available kind of the calibration in ladder order (cheapest first):
 * an array of {"kind","side","ns","ci95":[lo,hi],"n"} (new ref). */
json_t *calib_read_ladder(json_t *calib);

/* The calibration kind whose cost one VMM exit of `reason` costs, or NULL when
 * the exit is not charged to the workload (serial protocol output, the exit
 * port: outside the timed region). `why` says which. */
const char *calib_read_exit_kind(const char *reason, char *why, size_t whylen);

/* The spacing curve of a kind (calibration.json vm.<kind>.spacing): cost per
 * operation when `gap_ns` of compute precede each one (docs/CALIBRATION.md). */
#define CALIB_SPACING_MAX 16
struct calib_spacing {
	size_t n; /* points, sorted by gap_ns */
	double gap_ns[CALIB_SPACING_MAX], ns[CALIB_SPACING_MAX];
	double ci_lo[CALIB_SPACING_MAX], ci_hi[CALIB_SPACING_MAX];
	long cnt[CALIB_SPACING_MAX]; /* rounds behind each point */
};
/* 0 and the curve of `kind` (VM side first); -ENOENT when the kind has none. */
int calib_read_spacing(json_t *calib, const char *kind, struct calib_spacing *out);
/* Cost at `gap_ns`: linear in cost over log(gap) (gaps below 1 ns count as
 * 1 ns) between the two bracketing points, clamped to the first/last point
 * outside the curve; the CI ends are interpolated with the same weights.
 * out->n is the rounds of the nearer point. -EINVAL on an empty curve or a
 * non-finite gap. */
int calib_spacing_at(const struct calib_spacing *sp, double gap_ns, struct calib_cost *out);

/* exit-storm's kind= parameter -> calibration kind */
const char *calib_read_storm_kind(const char *kind);

#endif
