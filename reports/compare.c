/*
 * A/B comparison (see compare.h for the rules and why).
 */
#include "reports/compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/results.h"
#include "core/stats.h"
#include "reports/rdata.h"

#define MAXS 4096

const char *compare_verdict_name(enum compare_verdict v)
{
	static const char *const n[] = {"no change", "regression",   "improvement", "missing",
					"n/a",	     "within noise", "inconclusive"};
	return n[v];
}

enum compare_verdict compare_verdict(double p, double slowdown_pct, double slowdown_hi_pct,
				     bool reached, double noise_pct)
{
	if (!reached || !isfinite(slowdown_pct) || !isfinite(slowdown_hi_pct))
		return CMP_INCONCLUSIVE;
	bool significant = p < COMPARE_ALPHA;
	if (significant && slowdown_pct > 0 && slowdown_hi_pct > noise_pct)
		return CMP_REGRESSION;
	if (slowdown_hi_pct <= noise_pct) {
		if (significant && slowdown_pct < -noise_pct)
			return CMP_IMPROVEMENT;
		return significant && slowdown_pct > 0 ? CMP_WITHIN_NOISE : CMP_NO_CHANGE;
	}
	return CMP_INCONCLUSIVE; /* a slowdown beyond noise is neither shown nor ruled out */
}

double compare_slowdown_pct(double ratio, bool lower_is_better)
{
	return (lower_is_better ? ratio - 1.0 : 1.0 / ratio - 1.0) * 100.0;
}

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *interval(double lo, double hi)
{
	return json_pack("[o,o]", num(lo), num(hi));
}

struct sample_set {
	double *v;
	size_t n;
	const char *undefined; /* non-NULL: why the values have no ratio */
	/* overhead rows: the pairs, for the side's paired overhead */
	const double *bare, *vm;
	bool lower;
};

static json_t *side_json(const struct sample_set *s)
{
	json_t *o = json_pack("{s:I,s:o,s:o}", "n", (json_int_t)s->n, "median",
			      num(stats_median(s->v, s->n)), "mad", num(stats_mad(s->v, s->n)));
	struct stats_overhead ov;
	if (s->bare && s->n && !stats_overhead_paired(s->bare, s->vm, s->n, s->lower, &ov))
		json_object_set_new(o, "overhead_pct",
				    json_pack("{s:o,s:o,s:o,s:b,s:I}", "value", num(ov.value), "ci",
					      interval(ov.ci_lo, ov.ci_hi), "ci_level",
					      num(ov.ci_level), "underpowered", ov.underpowered,
					      "pairs", (json_int_t)ov.npairs));
	return o;
}

static bool all_positive(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(v[i] > 0) || !isfinite(v[i]))
			return false;
	return true;
}

static void set_verdict(json_t *row, enum compare_verdict v, const char *note)
{
	json_object_set_new(row, "verdict", json_string(compare_verdict_name(v)));
	json_object_set_new(row, "note", note && *note ? json_string(note) : json_null());
}

/* ---- how many runs: the gate itself on resampled runs ---- */

#define SIM_DRAWS 200 /* draws per candidate n */
#define SIM_MAX_N 400 /* beyond: the normal-theory figure is reported */
#define SIM_SEED 0x9a7e5eedull

/* Does the gate decide right on n + n values drawn (with replacement) from
 * pool (centred logs), B shifted by `shift` in log: a regression when
 * shifted, a pass (no change / within noise) when not? */
static bool sim_decides(const double *pool, size_t m, size_t n, double shift, double noise,
			uint64_t *rng, double *a, double *b)
{
	for (size_t i = 0; i < n; i++) {
		a[i] = exp(pool[stats_rand(rng) % m]);
		b[i] = exp(pool[stats_rand(rng) % m] + shift);
	}
	struct stats_shift r;
	double p;
	bool exact;
	if (stats_ratio_shift(a, n, b, n, COMPARE_CI_NOMINAL, &r) ||
	    stats_mw_test(a, n, b, n, &p, &exact))
		return false;
	enum compare_verdict v =
	    compare_verdict(p, compare_slowdown_pct(r.ratio, true),
			    compare_slowdown_pct(r.hi, true), !r.underpowered, noise);
	return shift > 0 ? v == CMP_REGRESSION : v == CMP_NO_CHANGE || v == CMP_WITHIN_NOISE;
}

/* Both rates of the gate at n runs per side reach COMPARE_POWER. */
static bool sim_powered(const double *pool, size_t m, size_t n, double noise, double *a, double *b)
{
	uint64_t rng = SIM_SEED;
	size_t reg = 0, pass = 0;
	for (size_t d = 0; d < SIM_DRAWS; d++) {
		reg += sim_decides(pool, m, n, log1p(noise / 100), noise, &rng, a, b);
		pass += sim_decides(pool, m, n, 0, noise, &rng, a, b);
	}
	return reg >= COMPARE_POWER * SIM_DRAWS && pass >= COMPARE_POWER * SIM_DRAWS;
}

/* Runs per side at which the gate, run on samples drawn from these two
 * runs' own values (each side centred on its median: their spread and their
 * tails), flags a noise-sized slowdown and passes an unchanged candidate,
 * each in COMPARE_POWER of the draws. The normal-theory figure
 * (stats_reps_for_shift) is where the search starts: alone it ignored the
 * exact test's steps (at 5 + 5 only fully separated samples reach p < 0.01)
 * and the tails, and recommended 5 runs where gate-power then detected a
 * 6% slowdown in 14 of 20 trials. */
static size_t reps_needed(struct sample_set a, struct sample_set b, double noise)
{
	size_t start = stats_reps_for_shift(stats_log_spread(a.v, a.n, b.v, b.n), noise / 100,
					    COMPARE_ALPHA, COMPARE_POWER);
	size_t m = a.n + b.n, lo = 0, hi;
	double *pool = malloc(m * sizeof(*pool)), *xa = malloc(SIM_MAX_N * sizeof(*xa) * 2);
	if (!pool || !xa || m < 4 || !(noise > 0))
		goto out;
	for (size_t i = 0; i < m; i++) {
		double v = i < a.n ? a.v[i] : b.v[i - a.n];
		if (!(v > 0) || !isfinite(v))
			goto out;
		pool[i] = log(v) * (a.lower ? 1 : -1); /* as times: lower is better */
	}
	double ma = stats_median(pool, a.n), mb = stats_median(pool + a.n, b.n);
	for (size_t i = 0; i < m; i++)
		pool[i] -= i < a.n ? ma : mb;
	/* grow until powered, then bisect between the last n that was not */
	for (hi = start; hi <= SIM_MAX_N && !sim_powered(pool, m, hi, noise, xa, xa + SIM_MAX_N);
	     hi = hi * 3 / 2 + 1)
		lo = hi;
	if (hi > SIM_MAX_N)
		goto out;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (sim_powered(pool, m, mid, noise, xa, xa + SIM_MAX_N))
			hi = mid;
		else
			lo = mid;
	}
	start = hi;
out:
	free(pool);
	free(xa);
	return start;
}

/* Fill the statistics and the verdict of a row from the two samples. */
static void judge(json_t *row, struct sample_set a, struct sample_set b, bool lower, double noise)
{
	json_object_set_new(row, "a", side_json(&a));
	json_object_set_new(row, "b", side_json(&b));
	const char *undef = a.undefined ? a.undefined : b.undefined;
	if (!undef && (!all_positive(a.v, a.n) || !all_positive(b.v, b.n)))
		undef = "a value is not a positive number: no ratio";
	if (a.n == 0 || b.n == 0) {
		set_verdict(row, CMP_MISSING,
			    a.n	  ? "no counted ok samples in the candidate"
			    : b.n ? "no counted ok samples in the baseline"
				  : "no counted ok samples on either side");
		return;
	}
	if (undef) {
		set_verdict(row, CMP_NA, undef);
		return;
	}
	struct stats_shift r;
	double p = NAN;
	bool exact = false;
	if (stats_ratio_shift(a.v, a.n, b.v, b.n, COMPARE_CI_NOMINAL, &r) ||
	    stats_mw_test(a.v, a.n, b.v, b.n, &p, &exact)) {
		set_verdict(row, CMP_NA, "out of memory");
		return;
	}
	/* the interval of the slowdown: for higher-is-better values the ends swap */
	double slow = compare_slowdown_pct(r.ratio, lower);
	double s1 = compare_slowdown_pct(r.lo, lower), s2 = compare_slowdown_pct(r.hi, lower);
	double slo = fmin(s1, s2), shi = fmax(s1, s2);
	double minp = fmin(1.0, 2 * stats_mw_cdf(a.n, b.n, 0)); /* fully separated samples */
	enum compare_verdict v = compare_verdict(p, slow, shi, !r.underpowered, noise);
	json_object_set_new(row, "ratio", num(r.ratio));
	json_object_set_new(row, "ci", interval(r.lo, r.hi));
	json_object_set_new(row, "ci_level", num(r.level));
	json_object_set_new(row, "underpowered", json_boolean(r.underpowered));
	json_object_set_new(row, "slowdown_pct", num(slow));
	json_object_set_new(row, "slowdown_ci_pct", interval(slo, shi));
	json_object_set_new(row, "p", num(p));
	json_object_set_new(row, "p_exact", json_boolean(exact));
	json_object_set_new(row, "min_p", num(minp));
	char note[300] = "";
	size_t need = 0;
	if (v == CMP_INCONCLUSIVE) {
		need = reps_needed(a, b, noise);
		if (r.underpowered)
			snprintf(note, sizeof(note),
				 "n=%zu+%zu: the interval reaches %.1f%% at most (%.0f%% needed), "
				 "smallest p %.3g; needs about %zu runs per side",
				 a.n, b.n, r.level * 100, COMPARE_CI_NOMINAL * 100, minp, need);
		else
			snprintf(note, sizeof(note),
				 "slowdown %+.2f%% [%+.2f, %+.2f] at %.1f%%, p=%.3g: neither "
				 "below %.3g%% nor significant; needs about %zu runs per side",
				 slow, slo, shi, r.level * 100, p, noise, need);
	}
	json_object_set_new(row, "reps_needed",
			    need ? json_integer((json_int_t)need) : json_null());
	/* decided or not: the runs per side that give this spread its power for a
	 * noise-sized change (a pass with fewer is weaker evidence) */
	json_object_set_new(row, "reps_for_power",
			    json_integer((json_int_t)(need ? need : reps_needed(a, b, noise))));
	set_verdict(row, v, note);
}

/* "64MiB", "1.5GiB", "512B"; other units: "16384pages" */
static void x_text(double x, const char *xu, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	if (!xu || strcmp(xu, "B")) {
		snprintf(buf, len, "%.6g%s", x, xu ? xu : "");
		return;
	}
	size_t u = 0;
	while (fabs(x) >= 1024 && u < 4)
		x /= 1024, u++;
	snprintf(buf, len, "%.4g%s", x, units[u]);
}

void compare_row_name(json_t *row, char *buf, size_t len)
{
	const char *xk = json_string_value(json_object_get(row, "xk"));
	char pt[64] = "";
	if (xk) {
		char x[32];
		x_text(json_number_value(json_object_get(row, "x")),
		       json_string_value(json_object_get(row, "xu")), x, sizeof(x));
		snprintf(pt, sizeof(pt), " %s=%s", xk, x);
	}
	snprintf(buf, len, "%s %s%s %s %s", json_string_value(json_object_get(row, "workload")),
		 json_string_value(json_object_get(row, "metric")), pt,
		 json_string_value(json_object_get(row, "series")),
		 json_string_value(json_object_get(row, "kind")));
}

static json_t *row_new(const char *wl, json_t *key, json_t *ser, const char *kind)
{
	json_t *xk = json_object_get(key, "xk");
	bool curve = json_is_string(xk), overhead = !strncmp(kind, "overhead", 8);
	bool perf = !strcmp(results_metric_role(key), "performance");
	bool has_bare = json_is_string(json_object_get(ser, "baseline_series"));
	return json_pack(
	    "{s:s,s:O,s:s,s:s,s:O,s:O,s:O,s:O,s:s,s:s,s:b}", "workload", wl, "metric",
	    json_object_get(key, "m"), "unit",
	    overhead ? "x bare (time-equivalent)" : json_string_value(json_object_get(key, "u")),
	    "better", overhead ? "lower" : json_string_value(json_object_get(key, "better")), "xk",
	    curve ? xk : json_null(), "xu", curve ? json_object_get(key, "xu") : json_null(), "x",
	    curve ? json_object_get(key, "x") : json_null(), "series",
	    json_object_get(ser, "series"), "kind", kind, "role", perf ? "performance" : "info",
	    "judged", perf && (overhead || !has_bare));
}

/* Share of the timed region of `key` in `run` spent on a CPU (schedstat
 * run_ns / wall_ns of the region), or NAN when the run has no such region
 * or the thread blocked in it (a voluntary context switch: asleep, e.g.
 * waiting for I/O or in HLT, which must stay in what the gate judges). Not
 * "wall - run - wait is small": time taken by an outer hypervisor (steal,
 * on neither a CPU nor a run queue here) reached 20% of a cpu-int region at
 * load 10, which never blocks. */
static double on_cpu_share(json_t *run, json_t *key)
{
	json_t *g = run ? rdata_region(run, key) : NULL;
	struct rdata_interval iv;
	if (!g || rdata_region_interval(g, &iv) || !(iv.wall_ns > 0) || !(iv.run_ns > 0) ||
	    iv.run_ns > 1.1 * iv.wall_ns)
		return NAN;
	json_t *vol = json_object_get(iv.fields, "voluntary_ctxt_switches");
	if (!json_is_integer(vol) || json_integer_value(vol) != 0)
		return NAN;
	return iv.run_ns / iv.wall_ns;
}

/* The counted pairs of a series (rep numbers in reps, values in bare/vm). */
static size_t pairs_of(json_t *runs, json_t *ser, json_t *key, double *bare, double *vm, long *reps)
{
	return rdata_pairs(runs, json_string_value(json_object_get(ser, "baseline_series")),
			   json_string_value(json_object_get(ser, "series")), key, bare, vm, reps,
			   MAXS);
}

/* true when every counted pair of the series has the metric's timed region,
 * never blocked, on both sides (vacuously for none) */
static bool pairs_on_cpu(json_t *runs, json_t *ser, json_t *key)
{
	static double b[MAXS], v[MAXS];
	static long reps[MAXS];
	size_t n = runs ? pairs_of(runs, ser, key, b, v, reps) : 0;
	const char *bs = json_string_value(json_object_get(ser, "baseline_series")),
		   *vs = json_string_value(json_object_get(ser, "series"));
	for (size_t i = 0; i < n; i++)
		if (!isfinite(on_cpu_share(rdata_run(runs, bs, reps[i]), key)) ||
		    !isfinite(on_cpu_share(rdata_run(runs, vs, reps[i]), key)))
			return false;
	return true;
}

/* Per-pair VM time relative to bare, time-equivalent: 1 + overhead. With
 * on_cpu, each side's value is first scaled to the time its timed region
 * spent on a CPU: the host's other load (run-queue wait, which differs from
 * run to run and, on a busy host, is most of the wall time) is taken out;
 * VM exits, the VMM's own work and a vCPU held by vmm-lite stay in. A zero
 * denominator leaves the set without a ratio, with the reason. */
static struct sample_set rel_times(json_t *runs, json_t *ser, json_t *key, bool on_cpu, double *out,
				   double *bare, double *vm)
{
	static long reps[MAXS];
	bool lower = rdata_lower_is_better(key);
	struct sample_set set = {out, 0, NULL, bare, vm, lower};
	set.n = pairs_of(runs, ser, key, bare, vm, reps);
	const char *bs = json_string_value(json_object_get(ser, "baseline_series")),
		   *vs = json_string_value(json_object_get(ser, "series"));
	for (size_t i = 0; i < set.n; i++) {
		if (on_cpu) { /* times shrink, rates grow */
			double fb = on_cpu_share(rdata_run(runs, bs, reps[i]), key),
			       fv = on_cpu_share(rdata_run(runs, vs, reps[i]), key);
			bare[i] = lower ? bare[i] * fb : bare[i] / fb;
			vm[i] = lower ? vm[i] * fv : vm[i] / fv;
		}
		if ((lower ? bare[i] : vm[i]) == 0)
			set.undefined = lower ? "bare value is 0" : "VM value is 0";
		out[i] = stats_time_ratio(bare[i], vm[i], lower);
	}
	return set;
}

/* Wall time (s) of the counted runs of series s1 (and s2) in runs: the
 * candidate's time behind a row (JUnit "time"). */
static double wall_s(json_t *runs, const char *s1, const char *s2)
{
	double ns = 0;
	size_t i;
	json_t *run;
	json_array_foreach(runs, i, run)
	{
		const char *ser = json_string_value(json_object_get(run, "series"));
		if (ser && (!strcmp(ser, s1) || (s2 && !strcmp(ser, s2))))
			ns += (double)json_integer_value(json_object_get(run, "wall_ns"));
	}
	return ns / 1e9;
}

/* Rows for one metric key of one vm series present in A (and maybe B). */
static void compare_key(const char *wl, json_t *ra, json_t *rb, json_t *key, json_t *ser,
			double noise, json_t *rows)
{
	static double va[MAXS], vb[MAXS], ba[MAXS], xa[MAXS], bb[MAXS], xb[MAXS];
	const char *s = json_string_value(json_object_get(ser, "series"));
	bool lower = rdata_lower_is_better(key);
	json_t *row = row_new(wl, key, ser, "vm");
	size_t na = rdata_values(ra, s, key, va, NULL, MAXS);
	size_t nb = rb ? rdata_values(rb, s, key, vb, NULL, MAXS) : 0;
	judge(row, (struct sample_set){va, na, NULL, NULL, NULL, lower},
	      (struct sample_set){vb, nb, NULL, NULL, NULL, lower}, lower, noise);
	json_object_set_new(row, "b_wall_s", json_real(rb ? wall_s(rb, s, NULL) : 0));
	if (na == 0) /* not in the baseline (kvm-floor has no hello line): nothing to keep */
		json_object_set_new(row, "judged", json_false());
	if (json_is_true(json_object_get(ser, "reference"))) { /* kvm-floor: the host's yardstick */
		json_object_set_new(row, "judged", json_false());
		json_object_set_new(row, "reference", json_true());
	}
	json_array_append_new(rows, row);
	if (!json_is_string(json_object_get(ser, "baseline_series")))
		return; /* no bare side (vmm-footprint): no overhead */
	/* the gate judges the on-CPU overhead when no timed region of either side
	 * blocked; the wall-clock overhead is then shown beside */
	bool on_cpu = pairs_on_cpu(ra, ser, key) && pairs_on_cpu(rb, ser, key);
	for (int pass = 0; pass < 1 + on_cpu; pass++) {
		bool oc = on_cpu && pass == 0;
		struct sample_set oa = rel_times(ra, ser, key, oc, va, ba, xa);
		struct sample_set ob = rb ? rel_times(rb, ser, key, oc, vb, bb, xb)
					  : (struct sample_set){vb, 0, NULL, NULL, NULL, lower};
		if (oa.n == 0 && ob.n == 0)
			return; /* the metric has no bare side (exit-storm's exit_time) */
		row = row_new(wl, key, ser, pass ? "overhead-wall" : "overhead");
		json_object_set_new(row, "on_cpu", json_boolean(oc));
		if (pass)
			json_object_set_new(row, "judged", json_false());
		judge(row, oa, ob, true, noise);
		json_object_set_new(row, "b_wall_s",
				    json_real(rb ? wall_s(rb, s,
							  json_string_value(json_object_get(
							      ser, "baseline_series")))
						 : 0));
		json_array_append_new(rows, row);
	}
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
	size_t i, reg = 0, imp = 0, miss = 0, na = 0, inc = 0, judged = 0, need = 0, power = 0;
	json_array_foreach(rows, i, row)
	{
		const char *v = json_string_value(json_object_get(row, "verdict"));
		bool j = json_is_true(json_object_get(row, "judged"));
		judged += j;
		reg += j && !strcmp(v, "regression");
		inc += j && !strcmp(v, "inconclusive");
		imp += j && !strcmp(v, "improvement");
		miss += !strcmp(v, "missing");
		na += !strcmp(v, compare_verdict_name(CMP_NA));
		json_int_t r = json_integer_value(json_object_get(row, "reps_needed"));
		if (j && (size_t)r > need)
			need = (size_t)r;
		json_int_t pw = json_integer_value(json_object_get(row, "reps_for_power"));
		if (j && (size_t)pw > power)
			power = (size_t)pw;
	}
	json_object_set_new(out, "regressions", json_integer((json_int_t)reg));
	json_object_set_new(out, "improvements", json_integer((json_int_t)imp));
	json_object_set_new(out, "inconclusive", json_integer((json_int_t)inc));
	json_object_set_new(out, "missing", json_integer((json_int_t)miss));
	json_object_set_new(out, "not_applicable", json_integer((json_int_t)na));
	json_object_set_new(out, "judged", json_integer((json_int_t)judged));
	json_object_set_new(out, "reps_needed",
			    need ? json_integer((json_int_t)need) : json_null());
	json_object_set_new(out, "reps_for_power",
			    power ? json_integer((json_int_t)power) : json_null());
	json_object_set_new(out, "compared",
			    json_integer((json_int_t)(json_array_size(rows) - miss - na)));
}

json_t *compare_results(json_t *a, json_t *b, double noise_pct, char *err, size_t errlen)
{
	json_t *rows = json_array(), *wa;
	size_t i;
	json_array_foreach(json_object_get(a, "workloads"), i, wa)
	    compare_workload(wa, b, noise_pct, rows);
	json_t *out = json_pack(
	    "{s:f,s:f,s:f,s:f,s:s,s:o}", "noise_pct", noise_pct, "alpha", COMPARE_ALPHA,
	    "ci_nominal", COMPARE_CI_NOMINAL, "power", COMPARE_POWER, "method",
	    "overhead rows: per pair, VM time / bare time, each the time its timed region spent "
	    "on a CPU when no region blocked (no voluntary context switch; overhead-wall: "
	    "wall-clock times, not judged), else wall-clock times; "
	    "ratio B/A: Hodges-Lehmann (median of all log b - log a), interval: the Mann-Whitney "
	    "interval of that shift at 99% (exact below 2500 cells), with its real level; p: "
	    "two-sided Mann-Whitney test, the test that interval inverts (exact law below 2500 "
	    "cells, else normal with continuity correction); regression when p < alpha, slower "
	    "and the "
	    "interval's upper end beyond noise; within noise / no change when that end is "
	    "below noise; else inconclusive (reps_needed; reps_for_power on every row: runs per "
	    "side to detect a noise-sized "
	    "change with power 0.95 at this spread)",
	    "rows", rows);
	count_verdicts(out);
	json_t *wb, *run;
	size_t j;
	double total = 0;
	json_array_foreach(json_object_get(b, "workloads"), i, wb)
	    json_array_foreach(json_object_get(wb, "runs"), j, run) total +=
	    (double)json_integer_value(json_object_get(run, "wall_ns")) / 1e9;
	json_object_set_new(out, "candidate_wall_s", json_real(total));
	/* nothing in common: no row whose baseline has samples in a workload the
	 * candidate has too (a candidate whose runs all failed is still compared:
	 * its rows are missing, which the gate names) */
	size_t common = 0;
	json_t *row;
	json_array_foreach(rows, i, row) common +=
	    json_integer_value(json_object_get(json_object_get(row, "a"), "n")) > 0 &&
	    rdata_workload(b, json_string_value(json_object_get(row, "workload")));
	if (common == 0) {
		snprintf(err, errlen,
			 "nothing to compare: the baseline and candidate share no workload, metric "
			 "and VM series with counted ok runs in the baseline");
		json_decref(out);
		return NULL;
	}
	return out;
}
