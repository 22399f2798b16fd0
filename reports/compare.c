/*
 * A/B comparison (see compare.h for the rules and why).
 */
#include "reports/compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "reports/rdata.h"

#define MAXS 4096

const char *compare_verdict_name(enum compare_verdict v)
{
	static const char *const n[] = {"no change", "regression", "improvement", "missing", "n/a"};
	return n[v];
}

enum compare_verdict compare_verdict(double p, double slowdown_pct, double noise_pct)
{
	if (!(p < COMPARE_ALPHA) || !(fabs(slowdown_pct) > noise_pct))
		return CMP_NO_CHANGE;
	return slowdown_pct > 0 ? CMP_REGRESSION : CMP_IMPROVEMENT;
}

double compare_slowdown_pct(double ratio, bool lower_is_better)
{
	return (lower_is_better ? ratio - 1.0 : 1.0 / ratio - 1.0) * 100.0;
}

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *side_json(const double *x, size_t n)
{
	return json_pack("{s:I,s:o,s:o}", "n", (json_int_t)n, "median", num(stats_median(x, n)),
			 "mad", num(stats_mad(x, n)));
}

struct sample_set {
	double *v;
	size_t n;
	const char *undefined; /* non-NULL: why the values have no ratio */
};

static bool all_finite(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return false;
	return true;
}

static void not_applicable(json_t *row, const char *why)
{
	json_object_set_new(row, "verdict", json_string(compare_verdict_name(CMP_NA)));
	json_object_set_new(row, "note", json_string(why));
}

/* Fill the statistics and the verdict of a row from the two samples. */
static void judge(json_t *row, struct sample_set a, struct sample_set b, bool lower, double noise)
{
	json_object_set_new(row, "a", side_json(a.v, a.n));
	json_object_set_new(row, "b", side_json(b.v, b.n));
	struct stats_ratio r;
	double p = NAN;
	bool exact = false;
	const char *undef = a.undefined ? a.undefined : b.undefined;
	if (!undef && (!all_finite(a.v, a.n) || !all_finite(b.v, b.n)))
		undef = "a value is not finite";
	if (!undef && a.n && stats_median(a.v, a.n) == 0)
		undef = "median of A is 0";
	if (a.n && b.n && undef) {
		not_applicable(row, undef);
		return;
	}
	if (a.n == 0 || b.n == 0 ||
	    stats_bootstrap_ratio(a.v, a.n, b.v, b.n, STATS_BOOTSTRAP_ITERS, COMPARE_SEED, &r) ||
	    stats_permutation_test(a.v, a.n, b.v, b.n, STATS_PERM_ITERS, COMPARE_SEED, &p,
				   &exact)) {
		json_object_set_new(row, "verdict", json_string("missing"));
		json_object_set_new(
		    row, "note",
		    json_string(a.n && b.n ? "no ratio" : "no counted ok samples on one side"));
		return;
	}
	double slow = compare_slowdown_pct(r.value, lower);
	enum compare_verdict v = compare_verdict(p, slow, noise);
	json_object_set_new(row, "ratio", num(r.value));
	json_object_set_new(row, "ratio_ci95", json_pack("[o,o]", num(r.ci_lo), num(r.ci_hi)));
	json_object_set_new(row, "slowdown_pct", num(slow));
	json_object_set_new(row, "p", num(p));
	json_object_set_new(row, "p_exact", json_boolean(exact));
	json_object_set_new(row, "verdict", json_string(compare_verdict_name(v)));
	double minp = stats_permutation_min_p(a.n, b.n);
	char note[200] = "";
	if (minp >= COMPARE_ALPHA)
		snprintf(note, sizeof(note),
			 "too few samples to ever be significant (n=%zu+%zu: smallest p %.3g; "
			 "use --reps 5 or more)",
			 a.n, b.n, minp);
	json_object_set_new(row, "note", note[0] ? json_string(note) : json_null());
}

static json_t *row_new(const char *wl, json_t *key, const char *series, const char *kind)
{
	json_t *xk = json_object_get(key, "xk");
	bool curve = json_is_string(xk);
	return json_pack(
	    "{s:s,s:O,s:s,s:O,s:O,s:O,s:O,s:s,s:s}", "workload", wl, "metric",
	    json_object_get(key, "m"), "unit",
	    strcmp(kind, "overhead") ? json_string_value(json_object_get(key, "u"))
				     : "x bare (time-equivalent)",
	    "better",
	    strcmp(kind, "overhead") ? json_object_get(key, "better") : json_string("lower"), "xk",
	    curve ? xk : json_null(), "xu", curve ? json_object_get(key, "xu") : json_null(), "x",
	    curve ? json_object_get(key, "x") : json_null(), "series", series, "kind", kind);
}

/* Per-pair VM time relative to bare, time-equivalent: 1 + overhead. A zero
 * denominator (the bare value, or the VM value of a higher-is-better metric)
 * leaves the set without a ratio, with the reason. */
static struct sample_set rel_times(json_t *runs, json_t *ser, json_t *key, double *out)
{
	static double b[MAXS], v[MAXS];
	struct sample_set set = {out, 0, NULL};
	set.n =
	    rdata_pairs(runs, json_string_value(json_object_get(ser, "baseline_series")),
			json_string_value(json_object_get(ser, "series")), key, b, v, NULL, MAXS);
	bool lower = rdata_lower_is_better(key);
	for (size_t i = 0; i < set.n; i++) {
		if ((lower ? b[i] : v[i]) == 0)
			set.undefined = lower ? "bare value is 0" : "VM value is 0";
		out[i] = 1.0 + stats_overhead_pct(b[i], v[i], lower) / 100.0;
	}
	return set;
}

/* Rows for one metric key of one vm series present in A (and maybe B). */
static void compare_key(const char *wl, json_t *ra, json_t *rb, json_t *key, json_t *ser,
			double noise, json_t *rows)
{
	static double va[MAXS], vb[MAXS];
	const char *s = json_string_value(json_object_get(ser, "series"));
	bool lower = rdata_lower_is_better(key);
	json_t *row = row_new(wl, key, s, "vm");
	size_t na = rdata_values(ra, s, key, va, NULL, MAXS);
	size_t nb = rb ? rdata_values(rb, s, key, vb, NULL, MAXS) : 0;
	judge(row, (struct sample_set){va, na, NULL}, (struct sample_set){vb, nb, NULL}, lower,
	      noise);
	json_array_append_new(rows, row);
	row = row_new(wl, key, s, "overhead");
	struct sample_set oa = rel_times(ra, ser, key, va);
	struct sample_set ob = rb ? rel_times(rb, ser, key, vb) : (struct sample_set){vb, 0, NULL};
	judge(row, oa, ob, true, noise);
	json_array_append_new(rows, row);
}

static void compare_workload(json_t *wa, json_t *b, double noise, json_t *rows)
{
	const char *name = json_string_value(json_object_get(wa, "name"));
	json_t *wb = name ? rdata_workload(b, name) : NULL;
	json_t *ra = json_object_get(wa, "runs"), *rb = wb ? json_object_get(wb, "runs") : NULL;
	json_t *keys = rdata_metric_keys(ra), *series = rdata_vm_series(ra), *key, *ser;
	size_t i, j;
	json_array_foreach(keys, i, key) json_array_foreach(series, j, ser)
	    compare_key(name, ra, rb, key, ser, noise, rows);
	json_decref(keys);
	json_decref(series);
}

static void count_verdicts(json_t *out)
{
	json_t *rows = json_object_get(out, "rows"), *row;
	size_t i, reg = 0, imp = 0, miss = 0, na = 0;
	json_array_foreach(rows, i, row)
	{
		const char *v = json_string_value(json_object_get(row, "verdict"));
		reg += !strcmp(v, "regression");
		imp += !strcmp(v, "improvement");
		miss += !strcmp(v, "missing");
		na += !strcmp(v, compare_verdict_name(CMP_NA));
	}
	json_object_set_new(out, "regressions", json_integer((json_int_t)reg));
	json_object_set_new(out, "improvements", json_integer((json_int_t)imp));
	json_object_set_new(out, "missing", json_integer((json_int_t)miss));
	json_object_set_new(out, "not_applicable", json_integer((json_int_t)na));
	json_object_set_new(out, "compared",
			    json_integer((json_int_t)(json_array_size(rows) - miss - na)));
}

json_t *compare_results(json_t *a, json_t *b, double noise_pct, char *err, size_t errlen)
{
	json_t *rows = json_array(), *wa;
	size_t i;
	json_array_foreach(json_object_get(a, "workloads"), i, wa)
	    compare_workload(wa, b, noise_pct, rows);
	json_t *out =
	    json_pack("{s:f,s:f,s:s,s:o}", "noise_pct", noise_pct, "alpha", COMPARE_ALPHA, "method",
		      "ratio of medians B/A with a bootstrap 95% CI (2000 resamples); "
		      "two-sided permutation test on the difference of means (exact when "
		      "small, else 10000 permutations); significant when p < alpha and "
		      "|slowdown| > noise",
		      "rows", rows);
	count_verdicts(out);
	if (json_integer_value(json_object_get(out, "compared")) == 0) {
		snprintf(err, errlen,
			 "nothing to compare: the baseline and candidate share no workload, metric "
			 "and VM series with counted ok runs");
		json_decref(out);
		return NULL;
	}
	return out;
}
