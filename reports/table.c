/*
 * Summary table (see table.h for why it is printed from results.json).
 */
#include "reports/table.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_COLS 9

static const char *const headers[TABLE_COLS] = {
    "workload",	      "metric",		 "unit",     "series",	 "bare median [CI]",
    "vm median [CI]", "overhead % [CI]", "CI level", "n bare/vm"};

void table_human_bytes(double b, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	size_t u = 0;
	while (fabs(b) >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	if (b == floor(b))
		snprintf(buf, len, "%.0f %s", b, units[u]);
	else
		snprintf(buf, len, "%.3g %s", b, units[u]);
}

void table_number(double v, char *buf, size_t len)
{
	double a = fabs(v);
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (a >= 1000)
		snprintf(buf, len, "%.0f", v);
	else if (a >= 10)
		snprintf(buf, len, "%.1f", v);
	else if (a >= 0.1)
		snprintf(buf, len, "%.3f", v);
	else
		snprintf(buf, len, "%.3g", v);
}

static double num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

char (*table_grid_row(struct table_grid *g))[TABLE_CELL]
{
	if (g->nrows == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 32;
		void *p = realloc(g->cell, cap * (size_t)g->ncols * sizeof(*g->cell));
		if (!p)
			return NULL;
		g->cell = p;
		g->cap = cap;
	}
	char(*row)[TABLE_CELL] = g->cell + g->nrows++ * (size_t)g->ncols;
	memset(row, 0, (size_t)g->ncols * sizeof(*row));
	return row;
}

void table_grid_free(struct table_grid *g)
{
	free(g->cell);
	g->cell = NULL;
	g->nrows = g->cap = 0;
}

void table_metric_label(json_t *e, char *buf, size_t len)
{
	const char *m = json_string_value(json_object_get(e, "metric"));
	const char *xu = json_string_value(json_object_get(e, "xu"));
	double x = num(e, "x");
	if (isnan(x)) {
		snprintf(buf, len, "%s", m);
		return;
	}
	char xs[32];
	if (xu && !strcmp(xu, "B"))
		table_human_bytes(x, xs, sizeof(xs));
	else {
		char n[24];
		table_number(x, n, sizeof(n));
		snprintf(xs, sizeof(xs), "%s%s%s", n, xu && *xu ? " " : "", xu ? xu : "");
	}
	snprintf(buf, len, "%s @ %s", m, xs);
}

/* "97.9%" */
static void level_text(double level, char *buf, size_t len)
{
	if (!isfinite(level))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", level * 100);
}

/* "160.2 [159.8, 160.9]": the median and its order-statistic interval; its
 * level in parentheses when it is not the row's (another n than the pairs) */
static void median_cell(json_t *st, double row_level, char *buf, size_t len)
{
	double med = num(st, "median"), level = num(st, "ci_level");
	json_t *ci = json_object_get(st, "ci");
	char n[20], lo[20], hi[20], lv[24] = "";
	table_number(med, n, sizeof(n));
	if (isnan(med) || !json_is_number(json_array_get(ci, 0))) {
		snprintf(buf, len, "%s", n);
		return;
	}
	table_number(json_number_value(json_array_get(ci, 0)), lo, sizeof(lo));
	table_number(json_number_value(json_array_get(ci, 1)), hi, sizeof(hi));
	if (isfinite(level) && !(fabs(level - row_level) < 1e-9)) {
		char l[16];
		level_text(level, l, sizeof(l));
		snprintf(lv, sizeof(lv), " (%s)", l);
	}
	snprintf(buf, len, "%s [%s, %s]%s", n, lo, hi, lv);
}

static void overhead_cell(json_t *o, char *buf, size_t len)
{
	json_t *ci = json_object_get(o, "ci");
	double v = num(o, "value");
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%+.2f [%+.2f, %+.2f]", v,
			 json_number_value(json_array_get(ci, 0)),
			 json_number_value(json_array_get(ci, 1)));
}

/* The overhead interval's real coverage; "underpowered" below the nominal
 * level (fewer than 6 pairs for 95%) */
static void level_cell(json_t *o, char *buf, size_t len)
{
	char l[16];
	level_text(num(o, "ci_level"), l, sizeof(l));
	snprintf(buf, len, "%s%s", l,
		 json_is_true(json_object_get(o, "underpowered")) ? " underpowered" : "");
}

static void add_entry(struct table_grid *t, const char *wl, json_t *e)
{
	char(*c)[TABLE_CELL] = table_grid_row(t);
	if (!c)
		return;
	snprintf(c[0], TABLE_CELL, "%s", wl);
	table_metric_label(e, c[1], TABLE_CELL);
	snprintf(c[2], TABLE_CELL, "%s", json_string_value(json_object_get(e, "unit")));
	snprintf(c[3], TABLE_CELL, "%s", json_string_value(json_object_get(e, "series")));
	json_t *ov = json_object_get(e, "overhead_pct");
	double row_level = num(ov, "ci_level");
	median_cell(json_object_get(e, "bare"), row_level, c[4], TABLE_CELL);
	median_cell(json_object_get(e, "vm"), row_level, c[5], TABLE_CELL);
	overhead_cell(ov, c[6], TABLE_CELL);
	level_cell(ov, c[7], TABLE_CELL);
	snprintf(c[8], TABLE_CELL, "%lld/%lld",
		 (long long)json_integer_value(json_object_get(json_object_get(e, "bare"), "n")),
		 (long long)json_integer_value(json_object_get(json_object_get(e, "vm"), "n")));
}

/* display width of UTF-8 text (the ± is two bytes, one column) */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void print_row(FILE *out, const struct table_grid *g, const char (*c)[TABLE_CELL],
		      const size_t *w)
{
	for (int i = 0; i < g->ncols; i++) {
		bool right = i >= g->right_from;
		size_t pad = w[i] - width(c[i]);
		fprintf(out, "%s%*s%s%*s", i ? "  " : "", right ? (int)pad : 0, "", c[i],
			right ? 0 : (int)pad, "");
	}
	fputc('\n', out);
}

void table_grid_print(FILE *out, const struct table_grid *g)
{
	size_t w[TABLE_GRID_MAX_COLS];
	char hdr[TABLE_GRID_MAX_COLS][TABLE_CELL];
	for (int i = 0; i < g->ncols && i < TABLE_GRID_MAX_COLS; i++) {
		snprintf(hdr[i], TABLE_CELL, "%s", g->headers[i]);
		w[i] = width(hdr[i]);
		for (size_t r = 0; r < g->nrows; r++) {
			size_t cw = width(g->cell[r * (size_t)g->ncols + (size_t)i]);
			w[i] = w[i] > cw ? w[i] : cw;
		}
	}
	print_row(out, g, (const char(*)[TABLE_CELL])hdr, w);
	for (size_t r = 0; r < g->nrows; r++)
		print_row(out, g, (const char(*)[TABLE_CELL])(g->cell + r * (size_t)g->ncols), w);
}

static void print_failures(FILE *out, json_t *results)
{
	size_t i, j;
	json_t *w, *run;
	bool first = true;
	json_array_foreach(json_object_get(results, "workloads"), i, w)
	    json_array_foreach(json_object_get(w, "runs"), j, run)
	{
		const char *st = json_string_value(json_object_get(run, "status"));
		if (!strcmp(st, "ok"))
			continue;
		if (first)
			fprintf(out, "\nruns not ok (recorded in results.json, excluded from the "
				     "summary):\n");
		first = false;
		const char *reason = json_string_value(json_object_get(run, "reason"));
		fprintf(out, "  %s %s %s #%lld: %s: %.160s\n",
			json_string_value(json_object_get(w, "name")),
			json_string_value(json_object_get(run, "series")),
			json_is_true(json_object_get(run, "warmup")) ? "warmup" : "rep",
			(long long)json_integer_value(json_object_get(run, "rep")), st,
			reason ? reason : "");
	}
}

void table_print(FILE *out, json_t *results)
{
	struct table_grid t = {.ncols = TABLE_COLS, .right_from = 4, .headers = headers};
	size_t i, j;
	json_t *w, *e;
	json_array_foreach(json_object_get(results, "workloads"), i, w)
	    json_array_foreach(json_object_get(w, "summary"), j, e)
		add_entry(&t, json_string_value(json_object_get(w, "name")), e);
	table_grid_print(out, &t);
	fprintf(out,
		"CI: distribution-free intervals at their real coverage (CI level; nominal 95%%, "
		"reached from 6 pairs, \"underpowered\" below; a median's own level in () when its "
		"n differs): medians by order statistics; overhead = median over pairs of the "
		"time ratio VM/bare, minus 1, with the order-statistic interval of that median\n");
	print_failures(out, results);
	table_grid_free(&t);
}

json_t *table_select(json_t *results, const char *experiment)
{
	json_t *v = json_pack("{s:[]}", "workloads"), *w;
	size_t i;
	json_array_foreach(json_object_get(results, "workloads"), i, w)
	{
		const char *e = json_string_value(json_object_get(w, "experiment"));
		if (!strcmp(e ? e : "ab", experiment))
			json_array_append(json_object_get(v, "workloads"), w);
	}
	return v;
}

void table_print_experiment(FILE *out, json_t *results, const char *experiment)
{
	json_t *v = table_select(results, experiment);
	if (json_array_size(json_object_get(v, "workloads")))
		table_print(out, v);
	json_decref(v);
}
