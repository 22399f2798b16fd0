/*
 * results.json readers shared by reports, compare, gate and decompose (see rdata.h;
 * loading and the schema check are core/results.c).
 */
#include "reports/rdata.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

json_t *rdata_workload(json_t *root, const char *name)
{
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(root, "workloads"), i, w)
	{
		const char *n = json_string_value(json_object_get(w, "name"));
		if (n && !strcmp(n, name))
			return w;
	}
	return NULL;
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

bool rdata_run_counts(json_t *run)
{
	return !json_is_true(json_object_get(run, "warmup")) && !strcmp(str(run, "status"), "ok");
}

bool rdata_same_metric(json_t *a, json_t *b)
{
	if (strcmp(str(a, "m"), str(b, "m")))
		return false;
	json_t *xa = json_object_get(a, "xk"), *xb = json_object_get(b, "xk");
	if (json_is_null(xa))
		xa = NULL;
	if (json_is_null(xb))
		xb = NULL;
	if (!xa || !xb)
		return !xa && !xb;
	return json_equal(xa, xb) && json_number_value(json_object_get(a, "x")) ==
					 json_number_value(json_object_get(b, "x"));
}

json_t *rdata_find_metric(json_t *run, json_t *key)
{
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(run, "metrics"), i,
			   m) if (rdata_same_metric(m, key)) return m;
	return NULL;
}

json_t *rdata_metric_keys(json_t *runs)
{
	json_t *keys = json_array(), *run, *m, *key;
	size_t i, j, k;
	json_array_foreach(runs, i, run)
	{
		if (!rdata_run_counts(run))
			continue;
		json_array_foreach(json_object_get(run, "metrics"), j, m)
		{
			bool seen = false;
			json_array_foreach(keys, k, key) seen = seen || rdata_same_metric(key, m);
			if (!seen)
				json_array_append(keys, m);
		}
	}
	return keys;
}

json_t *rdata_vm_series(json_t *runs)
{
	json_t *out = json_array(), *run, *s;
	size_t i, k;
	bool bare_side = false;
	json_array_foreach(runs, i, run) bare_side = bare_side || !strcmp(str(run, "side"), "bare");
	json_array_foreach(runs, i, run)
	{
		const char *name = json_string_value(json_object_get(run, "series"));
		if (strcmp(str(run, "side"), "vm") || !name)
			continue;
		bool seen = false;
		json_array_foreach(out, k, s) seen = seen || !strcmp(str(s, "series"), name);
		if (seen)
			continue;
		/* null: a series with no bare side (footprint); absent: a file from
		 * before the key, when a VM series ran against "bare" if the
		 * workload had bare runs at all (older footprint files had none) */
		json_t *bs = json_object_get(run, "baseline_series");
		json_array_append_new(
		    out, json_pack("{s:s,s:o,s:O,s:b}", "series", name, "baseline_series",
				   json_is_string(bs) ? json_incref(bs)
				   : bs || !bare_side ? json_null()
						      : json_string("bare"),
				   "config", json_object_get(run, "config"), "reference",
				   json_is_true(json_object_get(run, "reference"))));
	}
	return out;
}

json_t *rdata_run(json_t *runs, const char *series, long rep)
{
	size_t i;
	json_t *run;
	json_array_foreach(runs, i, run)
	{
		if (!rdata_run_counts(run) || strcmp(str(run, "series"), series))
			continue;
		if (json_integer_value(json_object_get(run, "rep")) == rep)
			return run;
	}
	return NULL;
}

size_t rdata_nreps(json_t *runs)
{
	size_t i, n = 0;
	json_t *run;
	json_array_foreach(runs, i, run)
	{
		if (json_is_true(json_object_get(run, "warmup")))
			continue;
		json_int_t r = json_integer_value(json_object_get(run, "rep"));
		if (r >= 0 && (size_t)r + 1 > n)
			n = (size_t)r + 1;
	}
	return n;
}

static bool metric_value(json_t *run, json_t *key, double *v)
{
	json_t *m = run ? rdata_find_metric(run, key) : NULL;
	json_t *jv = m ? json_object_get(m, "v") : NULL;
	if (!json_is_number(jv))
		return false;
	*v = json_number_value(jv);
	return isfinite(*v);
}

size_t rdata_values(json_t *runs, const char *series, json_t *key, double *out, long *reps,
		    size_t max)
{
	size_t n = 0, nr = rdata_nreps(runs);
	for (size_t r = 0; r < nr && n < max; r++) {
		double v;
		if (!metric_value(rdata_run(runs, series, (long)r), key, &v))
			continue;
		if (reps)
			reps[n] = (long)r;
		out[n++] = v;
	}
	return n;
}

size_t rdata_pairs(json_t *runs, const char *bare_series, const char *vm_series, json_t *key,
		   double *bare, double *vm, long *reps, size_t max)
{
	size_t n = 0, nr = rdata_nreps(runs);
	for (size_t r = 0; r < nr && n < max; r++) {
		double b, v;
		if (!metric_value(rdata_run(runs, bare_series, (long)r), key, &b) ||
		    !metric_value(rdata_run(runs, vm_series, (long)r), key, &v))
			continue;
		if (reps)
			reps[n] = (long)r;
		bare[n] = b;
		vm[n++] = v;
	}
	return n;
}

double rdata_to_ns(double v, const char *unit)
{
	static const struct {
		const char *u;
		double f;
	} t[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
	for (size_t i = 0; unit && i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(unit, t[i].u))
			return v * t[i].f;
	return NAN;
}

bool rdata_lower_is_better(json_t *key)
{
	return strcmp(str(key, "better"), "higher") != 0;
}

void rdata_metric_label(json_t *key, char *buf, size_t len)
{
	json_t *xk = json_object_get(key, "xk");
	if (json_is_string(xk))
		snprintf(buf, len, "%s@%s=%.17g", str(key, "m"), json_string_value(xk),
			 json_number_value(json_object_get(key, "x")));
	else
		snprintf(buf, len, "%s", str(key, "m"));
}

/* ---- timed regions (docs/INTERFACES.md section 2) ---- */

json_t *rdata_regions(json_t *run)
{
	json_t *r = json_object_get(json_object_get(run, "vmm_stats"), "regions");
	if (!json_is_object(r))
		r = json_object_get(json_object_get(run, "bare_stats"), "regions");
	return json_is_object(r) ? r : NULL;
}

static json_t *region_label(json_t *list, const char *label)
{
	json_t *e;
	size_t i;
	json_array_foreach(list, i, e) if (!strcmp(str(e, "label"), label)) return e;
	return NULL;
}

json_t *rdata_region(json_t *run, json_t *key)
{
	json_t *list = json_object_get(rdata_regions(run), "list"), *e, *best = NULL;
	const char *m = str(key, "m");
	char label[128];
	size_t i, mlen = strlen(m), blen = 0;
	json_t *x = json_object_get(key, "x");
	if (!json_is_array(list))
		return NULL;
	double xv = json_number_value(x);
	if (json_is_string(json_object_get(key, "xk")) && xv >= 0 && xv < 1e19 && xv == floor(xv)) {
		snprintf(label, sizeof(label), "%s@%.0f", m, xv);
		if ((e = region_label(list, label)))
			return e;
	}
	if ((e = region_label(list, m)))
		return e;
	json_array_foreach(list, i, e)
	{ /* a metric family: METRIC = LABEL_... (flag_rtt_p50 -> flag_rtt) */
		const char *l = str(e, "label");
		size_t n = strlen(l);
		if (n < mlen && !strncmp(m, l, n) && m[n] == '_' && n > blen)
			best = e, blen = n;
	}
	return best ? best : region_label(list, "run");
}

int rdata_region_interval(json_t *region, struct rdata_interval *out)
{
	json_t *n = json_object_get(region, "n");
	if (!json_is_integer(n) || json_integer_value(n) < 1)
		return -1;
	json_t *src = json_integer_value(n) > 1 ? json_object_get(region, "shortest") : region;
	json_t *w = json_object_get(src, "wall_ns"), *r = json_object_get(src, "run_ns"),
	       *q = json_object_get(src, "wait_ns");
	if (!json_is_number(w) || !json_is_number(r) || !json_is_number(q))
		return -1;
	out->wall_ns = json_number_value(w);
	out->run_ns = json_number_value(r);
	out->wait_ns = json_number_value(q);
	out->fields = src;
	out->shortest = json_integer_value(n) > 1;
	return 0;
}
