/*
 * The report model and the helpers the formats share (see report.h; the
 * format table is reports/report_formats.c).
 */
#include "reports/table.h"
#include "reports/report.h"

#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/results.h"
#include "core/calib_read.h"
#include "reports/decompose.h"
#include "reports/rdata.h"

static int load_calib(const char *path, json_t **out, char *err, size_t len)
{
	json_error_t je;
	*out = json_load_file(path, 0, &je);
	if (!*out) {
		snprintf(err, len,
			 "--calibration %s: %s (line %d); expected calibration.json "
			 "from `virttax calibrate`",
			 path, je.text, je.line);
		return -EINVAL;
	}
	return 0;
}

/* Summaries are computed from the runs when a file carries none (e.g. hand-made). */
static void ensure_summaries(json_t *results)
{
	size_t i;
	json_t *wl;
	json_array_foreach(json_object_get(results, "workloads"), i, wl)
	{
		json_t *s = json_object_get(wl, "summary");
		if (!json_is_array(s) || json_array_size(s) == 0)
			results_summarize(wl);
	}
}

int report_ctx_load(struct report_ctx *ctx, const char *const *paths, size_t n,
		    const char *calib_path, char *err, size_t errlen)
{
	memset(ctx, 0, sizeof(*ctx));
	if (n == 0 || n > REPORT_MAX_SOURCES) {
		snprintf(err, errlen, "expected 1..%d run directories or results.json files",
			 REPORT_MAX_SOURCES);
		return -EINVAL;
	}
	if (calib_path && load_calib(calib_path, &ctx->calib, err, errlen))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int rc = results_load(paths[i], &ctx->results[i], err, errlen);
		if (rc)
			return report_ctx_release(ctx), rc;
		ctx->paths[i] = paths[i];
		ctx->n++;
		char partial[400];
		if (results_partial(ctx->results[i], partial, sizeof(partial)))
			fprintf(stderr, "virttax report: %s: %s\n", paths[i], partial);
		ensure_summaries(ctx->results[i]);
		json_t *emb = json_object_get(ctx->results[i], "calibration");
		if (!ctx->calib && json_is_object(emb))
			ctx->calib = json_incref(emb);
	}
	ctx->validation = json_array();
	for (size_t i = 0; i < n; i++) {
		ctx->decomp[i] = decompose_results(ctx->results[i], ctx->calib);
		json_array_extend(ctx->validation, json_object_get(ctx->decomp[i], "validation"));
	}
	ctx->ladder = calib_read_ladder(ctx->calib);
	ctx->sharing = decompose_sharing(ctx->results, ctx->n);
	return 0;
}

void report_ctx_release(struct report_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n; i++) {
		json_decref(ctx->results[i]);
		json_decref(ctx->decomp[i]);
	}
	json_decref(ctx->calib);
	json_decref(ctx->ladder);
	json_decref(ctx->validation);
	json_decref(ctx->sharing);
	memset(ctx, 0, sizeof(*ctx));
}

const char *report_num(double v, char *buf, size_t len)
{
	if (!isfinite(v))
		snprintf(buf, len, "n/a");
	else if (fabs(v) >= 1e9 || (fabs(v) < 1e-3 && v != 0))
		snprintf(buf, len, "%.3e", v);
	else if (fabs(v) >= 1000)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.4g", v);
	return buf;
}

const char *const report_validation_headers[REPORT_VALIDATION_COLS] = {
    "series",	       "kind",
    "k (units/exit)",  "gap µs",
    "exits",	       "pairs",
    "measured % [CI]", "back-to-back % [CI]",
    "error %",	       "spacing-aware % [CI]",
    "error %",	       "in-run ns/exit",
    "in-run % [CI]",   "error %",
    "residual % [CI]", "guest-timed exit %",
    "model",	       "within ±10%"};

static void cell_val_ci(json_t *v, const char *key, const char *ci, char *buf, size_t len)
{
	report_val_ci(report_d(v, key), json_object_get(v, ci), buf, len);
}

static void cell_num(json_t *v, const char *key, char *buf, size_t len)
{
	report_num(report_d(v, key), buf, len);
}

void report_validation_cells(json_t *v, char c[REPORT_VALIDATION_COLS][96])
{
	bool sp = json_is_number(json_object_get(v, "predicted_sp_pct"));
	bool ir = json_is_number(json_object_get(v, "predicted_inrun_pct"));
	snprintf(c[0], 96, "%s", report_s(v, "series"));
	snprintf(c[1], 96, "%s", report_s(v, "kind"));
	snprintf(c[2], 96, "%s", report_s(v, "k"));
	cell_num(v, "gap_us", c[3], 96);
	snprintf(c[4], 96, "%s", report_s(v, "exits"));
	snprintf(c[5], 96, "%lld", (long long)json_integer_value(json_object_get(v, "pairs")));
	cell_val_ci(v, "measured_pct", "measured_ci95", c[6], 96);
	cell_val_ci(v, "predicted_b2b_pct", "predicted_b2b_ci95", c[7], 96);
	cell_num(v, "error_b2b_pct", c[8], 96);
	if (sp) {
		cell_val_ci(v, "predicted_sp_pct", "predicted_sp_ci95", c[9], 96);
		cell_num(v, "error_sp_pct", c[10], 96);
	} else {
		snprintf(c[9], 96, "no spacing curve");
		snprintf(c[10], 96, "–");
	}
	if (ir) {
		cell_num(v, "selfcal_exit_ns", c[11], 96);
		cell_val_ci(v, "predicted_inrun_pct", "predicted_inrun_ci95", c[12], 96);
		cell_num(v, "error_inrun_pct", c[13], 96);
	} else {
		snprintf(c[11], 96, "–");
		snprintf(c[12], 96, "no selfcal_exit_ns");
		snprintf(c[13], 96, "–");
	}
	cell_val_ci(v, "residual_pct", "residual_ci95", c[14], 96);
	cell_num(v, "guest_exit_time_pct", c[15], 96);
	snprintf(c[16], 96, "%s", report_s(v, "model"));
	snprintf(c[17], 96, "%s", json_is_true(json_object_get(v, "within_tol")) ? "yes" : "no");
}

const char *report_x_label(json_t *e, char *buf, size_t len)
{
	char v[48];
	if (!json_is_string(json_object_get(e, "xk"))) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (!strcmp(report_s(e, "xu"), "B"))
		table_human_bytes(report_d(e, "x"), v, sizeof(v));
	else
		snprintf(v, sizeof(v), "%.10g %s", report_d(e, "x"), report_s(e, "xu"));
	snprintf(buf, len, "%s=%s", report_s(e, "xk"), v);
	return buf;
}

double report_d(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

const char *report_s(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

const char *report_val_ci(double v, json_t *ci, char *buf, size_t len)
{
	char a[32], b[32], c[32];
	if (!isfinite(v))
		return snprintf(buf, len, "n/a"), buf;
	if (json_is_array(ci) && json_is_number(json_array_get(ci, 0)))
		snprintf(buf, len, "%s [%s, %s]", report_num(v, a, sizeof(a)),
			 report_num(json_number_value(json_array_get(ci, 0)), b, sizeof(b)),
			 report_num(json_number_value(json_array_get(ci, 1)), c, sizeof(c)));
	else
		snprintf(buf, len, "%s", report_num(v, a, sizeof(a)));
	return buf;
}

const char *report_comp(json_t *comp, char *buf, size_t len)
{
	if (!json_is_true(json_object_get(comp, "available")))
		return snprintf(buf, len, "n/a"), buf;
	char t[96];
	report_val_ci(report_d(comp, "value_pct"), json_object_get(comp, "ci95_pct"), t, sizeof(t));
	double level = report_d(comp, "ci_level"); /* measured: the paired estimator's */
	if (isfinite(level))
		snprintf(buf, len, "%s%% (%.1f%%%s)", t, level * 100,
			 json_is_true(json_object_get(comp, "underpowered")) ? " underpowered"
									     : "");
	else
		snprintf(buf, len, "%s%%", t);
	return buf;
}

json_t *report_component(json_t *entry, const char *name)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(entry, "components"), i,
			   c) if (!strcmp(report_s(c, "name"), name)) return c;
	return NULL;
}

void report_for_each_curve(const struct report_ctx *ctx, report_curve_fn fn, void *arg)
{
	for (size_t s = 0; s < ctx->n; s++) {
		size_t i, j;
		json_t *wl, *e;
		json_array_foreach(json_object_get(ctx->results[s], "workloads"), i, wl)
		{
			const char *seen[32];
			size_t nseen = 0;
			json_array_foreach(json_object_get(wl, "summary"), j, e)
			{
				if (!json_is_string(json_object_get(e, "xk")))
					continue;
				const char *m = report_s(e, "metric");
				bool dup = false;
				for (size_t k = 0; k < nseen; k++)
					dup = dup || !strcmp(seen[k], m);
				if (dup || nseen == 32)
					continue;
				seen[nseen++] = m;
				fn(ctx, s, wl, m, arg);
			}
		}
	}
}
