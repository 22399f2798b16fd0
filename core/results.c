/*
 * results.json: summary, loading with the schema check, atomic write (see
 * results.h for why; the format is documented in docs/RESULTS-SCHEMA.md).
 */
#include "core/results.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/outfile.h"
#include "core/stats.h"

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* ---- summary ---- */

/* A metric identity: name, curve key and point. */
struct metric_key {
	json_t *proto; /* a metric object carrying m,u,better[,xk,xu,x] */
};

static bool same_metric(json_t *a, json_t *b)
{
	if (strcmp(json_string_value(json_object_get(a, "m")),
		   json_string_value(json_object_get(b, "m"))))
		return false;
	json_t *xa = json_object_get(a, "xk"), *xb = json_object_get(b, "xk");
	if (!xa || !xb)
		return !xa && !xb;
	return json_equal(xa, xb) && json_number_value(json_object_get(a, "x")) ==
					 json_number_value(json_object_get(b, "x"));
}

static bool run_counts(json_t *run)
{
	return !json_is_true(json_object_get(run, "warmup")) &&
	       !strcmp(json_string_value(json_object_get(run, "status")), "ok");
}

static json_t *find_metric(json_t *run, json_t *key)
{
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(run, "metrics"), i, m) if (same_metric(m, key)) return m;
	return NULL;
}

/* Distinct metrics over counted runs, first-seen order (borrowed refs in an array). */
static json_t *metric_keys(json_t *runs)
{
	json_t *keys = json_array(), *run, *m;
	size_t i, j, k;
	json_array_foreach(runs, i, run)
	{
		if (!run_counts(run))
			continue;
		json_array_foreach(json_object_get(run, "metrics"), j, m)
		{
			bool seen = false;
			json_t *key;
			json_array_foreach(keys, k, key) seen = seen || same_metric(key, m);
			if (!seen)
				json_array_append(keys, m);
		}
	}
	return keys;
}

/* Where `name` is in the workload's planned series (the canonical order), or
 * past the end when it is not listed (version 1 files). */
static size_t planned_index(json_t *planned, const char *name)
{
	size_t i;
	json_t *p;
	json_array_foreach(
	    planned, i,
	    p) if (!strcmp(json_string_value(json_object_get(p, "series")), name)) return i;
	return SIZE_MAX;
}

/* Distinct [series, baseline_series] of the vm runs, in the planned order
 * (the runs of a round are in a random order), else first-seen order. */
static json_t *vm_series(json_t *runs, json_t *planned)
{
	json_t *out = json_array(), *run, *s;
	size_t i, k;
	json_array_foreach(runs, i, run)
	{
		const char *name = json_string_value(json_object_get(run, "series"));
		if (strcmp(json_string_value(json_object_get(run, "side")), "vm") || !name)
			continue;
		bool seen = false;
		json_array_foreach(out, k, s) seen =
		    seen || !strcmp(json_string_value(json_object_get(s, "series")), name);
		if (!seen)
			json_array_append_new(
			    out, json_pack("{s:s,s:O?,s:O}", "series", name, "baseline_series",
					   json_object_get(run, "baseline_series"), "config",
					   json_object_get(run, "config")));
	}
	/* insertion sort by planned index: stable, few series */
	size_t n = json_array_size(out);
	for (i = 1; i < n; i++)
		for (k = i; k > 0; k--) {
			json_t *a = json_array_get(out, k - 1), *b = json_array_get(out, k);
			if (planned_index(planned,
					  json_string_value(json_object_get(a, "series"))) <=
			    planned_index(planned, json_string_value(json_object_get(b, "series"))))
				break;
			json_incref(a);
			json_array_set(out, k - 1, b);
			json_array_set_new(out, k, a);
		}
	return out;
}

/* Values of `key` in counted runs of `series`, indexed by rep (NAN = missing). */
struct samples {
	double *v;     /* by rep */
	size_t nreps;  /* array length */
	size_t failed; /* counted runs of this series that did not finish ok */
};

static int collect(json_t *runs, const char *series, json_t *key, struct samples *s)
{
	json_t *run;
	size_t i;
	s->nreps = 0;
	s->failed = 0;
	json_array_foreach(runs, i, run) if (!json_is_true(json_object_get(run, "warmup")))
	{
		size_t rep = (size_t)json_integer_value(json_object_get(run, "rep"));
		s->nreps = rep + 1 > s->nreps ? rep + 1 : s->nreps;
	}
	s->v = malloc((s->nreps ? s->nreps : 1) * sizeof(double));
	if (!s->v)
		return -ENOMEM;
	for (size_t r = 0; r < s->nreps; r++)
		s->v[r] = NAN;
	json_array_foreach(runs, i, run)
	{
		const char *ser = json_string_value(json_object_get(run, "series"));
		if (!ser || strcmp(ser, series) || json_is_true(json_object_get(run, "warmup")))
			continue;
		if (!run_counts(run)) {
			s->failed++;
			continue;
		}
		json_t *m = find_metric(run, key);
		if (m)
			s->v[json_integer_value(json_object_get(run, "rep"))] =
			    json_number_value(json_object_get(m, "v"));
	}
	return 0;
}

/* Dense copy of the present values; reps[] receives their rep numbers. */
static size_t dense(const struct samples *s, double *out, json_int_t *reps)
{
	size_t n = 0;
	for (size_t r = 0; r < s->nreps; r++)
		if (!isnan(s->v[r])) {
			reps[n] = (json_int_t)r;
			out[n++] = s->v[r];
		}
	return n;
}

/* [lo, hi], its real coverage and whether it reaches the nominal level */
static void set_interval(json_t *o, double lo, double hi, double level, bool underpowered)
{
	json_object_set_new(o, "ci", json_pack("[o,o]", num(lo), num(hi)));
	json_object_set_new(o, "ci_level", num(level));
	json_object_set_new(o, "underpowered", json_boolean(underpowered));
}

static json_t *stats_json(const double *x, size_t n)
{
	struct stats_summary st;
	if (stats_summarize(x, n, &st))
		return json_pack("{s:i}", "n", 0);
	json_t *o = json_pack("{s:I,s:o,s:o,s:o,s:o,s:o}", "n", (json_int_t)st.n, "median",
			      num(st.median), "min", num(st.min), "max", num(st.max), "mean",
			      num(st.mean), "stddev", num(st.stddev));
	set_interval(o, st.ci_lo, st.ci_hi, st.ci_level, st.underpowered);
	return o;
}

static json_t *outlier_reps(const double *x, const json_int_t *reps, size_t n)
{
	bool flags[n ? n : 1];
	json_t *a = json_array();
	stats_outliers(x, n, flags);
	for (size_t i = 0; i < n; i++)
		if (flags[i])
			json_array_append_new(a, json_integer(reps[i]));
	return a;
}

static json_t *overhead_json(const struct samples *b, const struct samples *v, bool lower)
{
	size_t nr = b->nreps < v->nreps ? b->nreps : v->nreps, n = 0;
	double pb[nr ? nr : 1], pv[nr ? nr : 1];
	for (size_t r = 0; r < nr; r++)
		if (!isnan(b->v[r]) && !isnan(v->v[r])) {
			pb[n] = b->v[r];
			pv[n++] = v->v[r];
		}
	struct stats_overhead o;
	int rc = stats_overhead_paired(pb, pv, n, lower, &o);
	json_t *j = json_pack("{s:o,s:I,s:s}", "value", rc ? json_null() : num(o.value), "pairs",
			      (json_int_t)n, "method",
			      lower ? "median over pairs of vm/bare, minus 1; order-statistic "
				      "interval of that median"
				    : "median over pairs of bare/vm (time-equivalent), minus 1; "
				      "order-statistic interval of that median");
	if (rc)
		set_interval(j, NAN, NAN, NAN, true);
	else
		set_interval(j, o.ci_lo, o.ci_hi, o.ci_level, o.underpowered);
	if (rc == -EDOM)
		json_object_set_new(j, "note",
				    json_string(lower ? "a bare value is 0: no ratio"
						      : "a VM value is 0: no ratio"));
	return j;
}

static json_t *summary_entry(json_t *key, json_t *ser, const struct samples *b,
			     const struct samples *v)
{
	size_t nmax = (b->nreps > v->nreps ? b->nreps : v->nreps) + 1;
	double xb[nmax], xv[nmax];
	json_int_t rb[nmax], rv[nmax];
	size_t nb = dense(b, xb, rb), nv = dense(v, xv, rv);
	if (nb == 0 && nv == 0)
		return NULL;
	bool lower = !strcmp(json_string_value(json_object_get(key, "better")), "lower");
	json_t *e = json_pack("{s:O,s:O,s:O}", "metric", json_object_get(key, "m"), "unit",
			      json_object_get(key, "u"), "better", json_object_get(key, "better"));
	json_t *xk = json_object_get(key, "xk");
	json_object_set(e, "xk", xk ? xk : json_null());
	json_object_set_new(e, "role", json_string(results_metric_role(key)));
	json_object_set(e, "xu", xk ? json_object_get(key, "xu") : json_null());
	json_object_set(e, "x", xk ? json_object_get(key, "x") : json_null());
	json_object_set(e, "series", json_object_get(ser, "series"));
	json_object_set(e, "baseline_series", json_object_get(ser, "baseline_series"));
	json_object_set(e, "vm_config", json_object_get(ser, "config"));
	json_object_set_new(e, "bare", stats_json(xb, nb));
	json_object_set_new(e, "vm", stats_json(xv, nv));
	json_object_set_new(e, "overhead_pct", overhead_json(b, v, lower));
	json_object_set_new(e, "outliers",
			    json_pack("{s:s,s:o,s:o}", "method",
				      "modified z-score > 3.5 (MAD); flagged, kept", "bare",
				      outlier_reps(xb, rb, nb), "vm", outlier_reps(xv, rv, nv)));
	json_object_set_new(
	    e, "failed_runs",
	    json_pack("{s:I,s:I}", "bare", (json_int_t)b->failed, "vm", (json_int_t)v->failed));
	return e;
}

const char *results_metric_role(json_t *metric)
{
	const char *role = json_string_value(json_object_get(metric, "role"));
	const char *unit = json_string_value(json_object_get(metric, "u"));
	if (!unit)
		unit = json_string_value(json_object_get(metric, "unit"));
	if ((role && !strcmp(role, "info")) || (unit && !strcmp(unit, "count")))
		return "info";
	return "performance";
}

/* One summary entry: metric `key` of vm series `ser` against its bare series. */
static int summarize_one(json_t *runs, json_t *key, json_t *ser, json_t *summary)
{
	const char *bs = json_string_value(json_object_get(ser, "baseline_series"));
	const char *vs = json_string_value(json_object_get(ser, "series"));
	struct samples b = {0}, v = {0};
	int rc = collect(runs, bs ? bs : "bare", key, &b);
	if (!rc)
		rc = collect(runs, vs, key, &v);
	json_t *e = rc ? NULL : summary_entry(key, ser, &b, &v);
	free(b.v);
	free(v.v);
	if (e)
		json_array_append_new(summary, e);
	return rc;
}

int results_summarize(json_t *workload)
{
	json_t *runs = json_object_get(workload, "runs");
	if (!json_is_array(runs))
		return -EINVAL;
	json_t *keys = metric_keys(runs), *summary = json_array();
	json_t *series = vm_series(runs, json_object_get(workload, "series"));
	json_t *ser;
	size_t i;
	int rc = 0;
	json_t *key;
	size_t k;
	/* metric-major, so the series of one metric (e.g. 4k and 2m guest pages
	 * at one working-set size) end up next to each other */
	json_array_foreach(keys, k, key)
	{
		json_array_foreach(series, i, ser)
		{
			if (!rc)
				rc = summarize_one(runs, key, ser, summary);
		}
	}
	json_decref(keys);
	json_decref(series);
	if (rc) {
		json_decref(summary);
		return rc;
	}
	return json_object_set_new(workload, "summary", summary) ? -ENOMEM : 0;
}

size_t results_failed_runs(json_t *root)
{
	size_t n = 0, i, j;
	json_t *w, *run;
	json_array_foreach(json_object_get(root, "workloads"), i, w)
	    json_array_foreach(json_object_get(w, "runs"), j, run) n +=
	    strcmp(json_string_value(json_object_get(run, "status")), "ok") != 0;
	return n;
}

static int results_dump(FILE *out, void *root)
{
	if (json_dumpf(root, out, JSON_INDENT(1)))
		return -EIO;
	return fputc('\n', out) == EOF ? -EIO : 0;
}

/* Temp file + fsync + rename: reports/outfile.c does it for every output file. */
int results_write_atomic(const char *path, json_t *root)
{
	return outfile_write(path, results_dump, root);
}

int results_load(const char *path, json_t **root, char *err, size_t errlen)
{
	char file[4096];
	struct stat st;
	*root = NULL;
	if (stat(path, &st)) {
		snprintf(err, errlen, "%s: %s (give a run directory or its results.json)", path,
			 strerror(errno));
		return -ENOENT;
	}
	snprintf(file, sizeof(file), S_ISDIR(st.st_mode) ? "%s/results.json" : "%s", path);
	json_error_t je;
	json_t *r = json_load_file(file, 0, &je);
	if (!r) {
		snprintf(err, errlen,
			 "%s: not readable JSON (line %d: %s); expected virttax's "
			 "results.json",
			 file, je.line, je.text);
		return -EINVAL;
	}
	const char *schema = json_string_value(json_object_get(r, "schema"));
	json_t *ver = json_object_get(r, "schema_version");
	if (!schema || strcmp(schema, RESULTS_SCHEMA) ||
	    !json_is_array(json_object_get(r, "workloads"))) {
		snprintf(err, errlen, "%s: not a virttax results file (schema \"%s\" expected)",
			 file, RESULTS_SCHEMA);
		json_decref(r);
		return -EINVAL;
	}
	if (!json_is_integer(ver) || json_integer_value(ver) < RESULTS_SCHEMA_VERSION_MIN ||
	    json_integer_value(ver) > RESULTS_SCHEMA_VERSION) {
		char v[32] = "none";
		if (json_is_number(ver))
			snprintf(v, sizeof(v), "%g", json_number_value(ver));
		snprintf(err, errlen,
			 "%s: schema_version %s is not one this virttax reads (%d..%d): use the "
			 "virttax that wrote it, or a newer one",
			 file, v, RESULTS_SCHEMA_VERSION_MIN, RESULTS_SCHEMA_VERSION);
		json_decref(r);
		return -EINVAL;
	}
	/* the summary is derived data: recompute it, so every reader sees the
	 * estimator of this virttax whatever version wrote the file */
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(r, "workloads"), i,
			   w) if (json_is_array(json_object_get(w, "runs"))) results_summarize(w);
	*root = r;
	return 0;
}

bool results_partial(json_t *root, char *why, size_t len)
{
	if (!json_is_false(json_object_get(root, "complete")))
		return false;
	json_t *st = json_object_get(root, "stopped");
	const char *reason = json_string_value(json_object_get(st, "reason"));
	snprintf(why, len, "partial results (\"complete\": false): %s; %lld runs kept, %zu left",
		 reason ? reason : "stopped",
		 (long long)json_integer_value(json_object_get(st, "runs_done")),
		 json_array_size(json_object_get(st, "remaining")));
	return true;
}
