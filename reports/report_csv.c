/*
 * CSV report: one row per source, workload, metric, curve point and VM
 * series with both medians, their intervals, the intervals' levels
 * (`*_ci_level`: the real coverage, 0..1) and n, the overhead with its
 * interval, level and pairs, and the decomposition components with their
 * intervals. A cell without a value (no pair, a component unavailable) is
 * empty, never a made-up 0. For spreadsheets and plotting scripts.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "reports/rdata.h"
#include "reports/report.h"

static const char *const comps[] = {"mediation", "translation", "scheduling", "residual"};

/* RFC 4180: quote fields that need it */
static void field(FILE *out, const char *s, bool last)
{
	if (strpbrk(s, ",\"\n")) {
		fputc('"', out);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', out);
			fputc(*s, out);
		}
		fputc('"', out);
	} else {
		fputs(s, out);
	}
	fputc(last ? '\n' : ',', out);
}

static void numf(FILE *out, double v)
{
	if (isfinite(v))
		fprintf(out, "%.10g,", v);
	else
		fputc(',', out);
}

static double arr(json_t *a, size_t i)
{
	json_t *v = json_array_get(a, i);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* median, ci_lo, ci_hi, ci_level, n: empty cells when there is no value */
static void stats_fields(FILE *out, json_t *st)
{
	json_t *ci = json_object_get(st, "ci");
	numf(out, report_d(st, "median"));
	numf(out, arr(ci, 0));
	numf(out, arr(ci, 1));
	numf(out, report_d(st, "ci_level"));
	fprintf(out, "%lld,", (long long)json_integer_value(json_object_get(st, "n")));
}

static bool same_point(json_t *e, json_t *s)
{
	if (strcmp(report_s(e, "metric"), report_s(s, "metric")) ||
	    strcmp(report_s(e, "series"), report_s(s, "series")))
		return false;
	bool ce = json_is_string(json_object_get(e, "xk")),
	     cs = json_is_string(json_object_get(s, "xk"));
	return ce == cs && (!ce || report_d(e, "x") == report_d(s, "x"));
}

static json_t *decomp_entry(json_t *dec, const char *wl, json_t *s)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(dec, "entries"), i,
			   e) if (!strcmp(report_s(e, "workload"), wl) &&
				  same_point(e, s)) return e;
	return NULL;
}

static void row(FILE *out, const char *src, const char *wl, json_t *s, json_t *de)
{
	char x[48] = "";
	field(out, src, false);
	field(out, wl, false);
	field(out, report_s(s, "metric"), false);
	field(out, report_s(s, "unit"), false);
	field(out, report_s(s, "better"), false);
	field(out, report_s(s, "xk"), false);
	field(out, report_s(s, "xu"), false);
	if (json_is_number(json_object_get(s, "x")))
		snprintf(x, sizeof(x), "%.17g", report_d(s, "x"));
	field(out, x, false);
	field(out, report_s(s, "series"), false);
	stats_fields(out, json_object_get(s, "bare"));
	stats_fields(out, json_object_get(s, "vm"));
	json_t *ov = json_object_get(s, "overhead_pct"), *ci = json_object_get(ov, "ci");
	numf(out, report_d(ov, "value"));
	numf(out, arr(ci, 0));
	numf(out, arr(ci, 1));
	numf(out, report_d(ov, "ci_level"));
	fprintf(out, "%lld", (long long)json_integer_value(json_object_get(ov, "pairs")));
	for (int c = 0; c < 4; c++) {
		json_t *cp = de ? report_component(de, comps[c]) : NULL;
		bool a = json_is_true(json_object_get(cp, "available"));
		json_t *cci = json_object_get(cp, "ci95_pct");
		fputc(',', out);
		numf(out, a ? report_d(cp, "value_pct") : NAN);
		numf(out, a ? arr(cci, 0) : NAN);
		numf(out, a ? arr(cci, 1) : NAN);
		/* the level when the component states one; the decomposition's
		 * percentile bootstrap has a nominal 95% whose coverage nobody
		 * measured: empty rather than a claim (docs/METHOD.md) */
		double lv = report_d(cp, "ci_level");
		if (a && isfinite(lv))
			fprintf(out, "%.10g", lv);
	}
	fputc('\n', out);
}

static int csv_render(FILE *out, const struct report_ctx *ctx)
{
	fprintf(
	    out,
	    "source,workload,metric,unit,better,xk,xu,x,series,"
	    "bare_median,bare_ci_lo,bare_ci_hi,bare_ci_level,bare_n,vm_median,vm_ci_lo,vm_ci_hi,"
	    "vm_ci_level,vm_n,overhead_pct,overhead_ci_lo,overhead_ci_hi,overhead_ci_level,"
	    "pairs");
	for (int c = 0; c < 4; c++)
		fprintf(out, ",%s_pct,%s_ci_lo,%s_ci_hi,%s_ci_level", comps[c], comps[c], comps[c],
			comps[c]);
	fputc('\n', out);
	for (size_t src = 0; src < ctx->n; src++) {
		size_t i, j;
		json_t *wl, *s;
		json_array_foreach(json_object_get(ctx->results[src], "workloads"), i, wl)
		    json_array_foreach(json_object_get(wl, "summary"), j, s)
			row(out, ctx->paths[src], report_s(wl, "name"), s,
			    decomp_entry(ctx->decomp[src], report_s(wl, "name"), s));
	}
	return ferror(out) ? -5 : 0;
}

const struct report_ops report_csv = {
    .name = "csv",
    .help = "CSV, one row per workload/metric/x/series (medians, CIs, n, components)",
    .render = csv_render,
};
