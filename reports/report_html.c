/*
 * HTML report: one self-contained file (inline CSS and SVG, no scripts, no
 * external resources) with
 *   - a stacked bar per workload and VM series of the overhead components
 *     (id "chart-decomposition", one <g class="bar"> per bar),
 *   - the isolation-boundary ladder on a log scale (id "chart-ladder",
 *     one <rect class="rung"> per kind),
 *   - curves bare vs VM per curve metric, e.g. mem-chase latency per
 *     working-set size (id "chart-curve-WORKLOAD-METRIC"),
 * each captioned with unit, n and spread, plus the tables behind them.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "core/results.h"
#include "reports/report.h"

static const char *const comps[] = {"mediation", "translation", "scheduling", "residual"};
static const char *const colors[] = {"#d95f02", "#7570b3", "#1b9e77", "#999999"};
static const char *const line_colors[] = {"#222222", "#d95f02", "#1b9e77", "#7570b3", "#e7298a"};

static void esc(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

/* ---- stacked bars ---- */

struct bar {
	json_t *e;
	size_t src;	 /* which source (run) it comes from */
	double pos, neg; /* stacked extents, percent */
};

static size_t collect_bars(const struct report_ctx *ctx, struct bar *bars, size_t max)
{
	size_t n = 0;
	for (size_t s = 0; s < ctx->n; s++) {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(ctx->decomp[s], "entries"), i, e)
		{
			if (json_is_string(json_object_get(e, "xk")) || n == max)
				continue;
			bars[n] = (struct bar){e, s, 0, 0};
			for (int c = 0; c < 4; c++) {
				json_t *cp = report_component(e, comps[c]);
				double v = report_d(cp, "value_pct");
				if (!json_is_true(json_object_get(cp, "available")) || !isfinite(v))
					continue;
				*(v >= 0 ? &bars[n].pos : &bars[n].neg) += v;
			}
			double m = report_d(json_object_get(e, "measured"), "value_pct");
			if (isfinite(m))
				bars[n].pos = fmax(bars[n].pos, m),
				bars[n].neg = fmin(bars[n].neg, m);
			n++;
		}
	}
	return n;
}

static double nice_step(double range)
{
	double p = pow(10, floor(log10(range / 5))), r = range / 5 / p;
	return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * p;
}

static void bar_chart(FILE *out, const struct report_ctx *ctx)
{
	struct bar bars[128];
	size_t n = collect_bars(ctx, bars, 128);
	fprintf(out,
		"<figure><svg id=\"chart-decomposition\" xmlns=\"http://www.w3.org/2000/svg\" ");
	if (!n) {
		fprintf(out,
			"width=\"600\" height=\"40\"><text x=\"10\" y=\"25\">no decomposition: no "
			"workload with paired runs</text></svg></figure>\n");
		return;
	}
	double hi = 1, lo = 0;
	for (size_t i = 0; i < n; i++)
		hi = fmax(hi, bars[i].pos), lo = fmin(lo, bars[i].neg);
	double step = nice_step(hi - lo);
	hi = ceil(hi / step) * step, lo = floor(lo / step) * step;
	const double L = 80, T = 30, H = 320, BW = 46, GAP = 34;
	double W = L + n * (BW + GAP) + 160;
	fprintf(out,
		"width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"11\">\n", W,
		T + H + 150);
#define Y(v) (T + (hi - (v)) / (hi - lo) * H)
	for (double t = lo; t <= hi + step / 2; t += step) {
		fprintf(out,
			"<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
			"<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%g%%</text>\n",
			L, W - 160, Y(t), Y(t), fabs(t) < 1e-12 ? "#000" : "#ddd", L - 6, Y(t) + 4,
			t);
	}
	fprintf(
	    out,
	    "<text transform=\"translate(16,%.0f) rotate(-90)\" text-anchor=\"middle\">overhead, "
	    "%% of bare-metal time (lower is better)</text>\n",
	    T + H / 2);
	for (size_t i = 0; i < n; i++) {
		json_t *e = bars[i].e;
		double x = L + GAP / 2 + i * (BW + GAP), up = 0, down = 0;
		fprintf(out, "<g class=\"bar\" data-workload=\"");
		esc(out, report_s(e, "workload"));
		fprintf(out, "\" data-series=\"");
		esc(out, report_s(e, "series"));
		fprintf(out, "\">\n");
		for (int c = 0; c < 4; c++) {
			json_t *cp = report_component(e, comps[c]);
			double v = report_d(cp, "value_pct");
			if (!json_is_true(json_object_get(cp, "available")) || !isfinite(v) ||
			    v == 0)
				continue;
			double y0 = v >= 0 ? up : down, y1 = y0 + v;
			*(v >= 0 ? &up : &down) = y1;
			char b[96];
			fprintf(out,
				"<rect class=\"seg seg-%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" "
				"height=\"%.1f\" fill=\"%s\"><title>%s %s: %s</title></rect>\n",
				comps[c], x, Y(fmax(y0, y1)), BW, fabs(Y(y0) - Y(y1)), colors[c],
				report_s(e, "workload"), comps[c], report_comp(cp, b, sizeof(b)));
		}
		json_t *m = json_object_get(e, "measured"), *ci = json_object_get(m, "ci95_pct");
		double mv = report_d(m, "value_pct");
		if (isfinite(mv)) {
			double c0 = json_number_value(json_array_get(ci, 0)),
			       c1 = json_number_value(json_array_get(ci, 1));
			fprintf(out,
				"<line class=\"measured\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
				"y2=\"%.1f\" "
				"stroke=\"#000\" stroke-width=\"2\"/><line x1=\"%.1f\" x2=\"%.1f\" "
				"y1=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>\n",
				x - 4, x + BW + 4, Y(mv), Y(mv), x + BW / 2, x + BW / 2, Y(c0),
				Y(c1));
		}
		fprintf(out, "<text transform=\"translate(%.1f,%.0f) rotate(40)\">", x + 4,
			T + H + 14);
		esc(out, report_s(e, "workload"));
		fprintf(out, " ");
		esc(out, report_s(e, "series"));
		if (ctx->n > 1)
			fprintf(out, " run #%zu", bars[i].src + 1);
		fprintf(out, " (n=%lld)</text>\n</g>\n",
			(long long)json_integer_value(json_object_get(e, "pairs")));
	}
	for (int c = 0; c < 4; c++)
		fprintf(out,
			"<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			"<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
			W - 150, T + c * 18.0, colors[c], W - 132, T + c * 18.0 + 10, comps[c]);
	fprintf(out,
		"<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#000\" "
		"stroke-width=\"2\"/>"
		"<text x=\"%.0f\" y=\"%.0f\">measured [CI]</text>\n",
		W - 150, W - 138, T + 78, T + 78, W - 132, T + 82);
#undef Y
	fprintf(out,
		"</svg><figcaption>Overhead components per workload and VM series, %% of the "
		"bare-metal time (time-equivalent), median over n pairs; black line: measured "
		"overhead with the order-statistic interval of the median (its real level in the "
		"table below). Components that could not be computed are left out (reasons in the "
		"table below).</figcaption></figure>\n");
}

/* ---- ladder ---- */

static void ladder_chart(FILE *out, const struct report_ctx *ctx)
{
	size_t n = json_array_size(ctx->ladder), i;
	json_t *r;
	fprintf(out, "<figure><svg id=\"chart-ladder\" xmlns=\"http://www.w3.org/2000/svg\" ");
	if (!n) {
		fprintf(out,
			"width=\"600\" height=\"40\"><text x=\"10\" y=\"25\">no calibration: run "
			"virttax calibrate</text></svg></figure>\n");
		return;
	}
	double mn = INFINITY, mx = 0;
	json_array_foreach(ctx->ladder, i, r)
	{
		double v = report_d(r, "ns"),
		       h = json_number_value(json_array_get(json_object_get(r, "ci95"), 1));
		if (v > 0)
			mn = fmin(mn, v), mx = fmax(mx, fmax(v, h));
	}
	double d0 = floor(log10(fmax(mn, 1e-3))), d1 = fmax(ceil(log10(fmax(mx, 1e-3))), d0 + 1);
	const double L = 200, T = 20, RH = 22, W = 560;
	fprintf(out,
		"width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
		L + W + 230, T + n * RH + 50);
#define X(v) (L + (log10(v) - d0) / (d1 - d0) * W)
	for (double d = d0; d <= d1; d++)
		fprintf(out,
			"<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#ddd\"/>"
			"<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%g ns</text>\n",
			X(pow(10, d)), X(pow(10, d)), T, T + n * RH, X(pow(10, d)), T + n * RH + 16,
			pow(10, d));
	fprintf(out,
		"<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">ns per crossing (log scale, "
		"lower is cheaper)</text>\n",
		L + W / 2, T + n * RH + 38);
	json_array_foreach(ctx->ladder, i, r)
	{
		double v = fmax(report_d(r, "ns"), pow(10, d0)), y = T + i * RH;
		json_t *ci = json_object_get(r, "ci95");
		double c0 = fmax(json_number_value(json_array_get(ci, 0)), pow(10, d0));
		double c1 = fmax(json_number_value(json_array_get(ci, 1)), pow(10, d0));
		char b[96];
		fprintf(out, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", L - 6, y + 15);
		esc(out, report_s(r, "kind"));
		fprintf(out, " (%s)</text>", report_s(r, "side"));
		fprintf(
		    out,
		    "<rect class=\"rung\" data-kind=\"%s\" x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" "
		    "height=\"%.0f\" fill=\"%s\"/>",
		    report_s(r, "kind"), L, y + 4, X(v) - L, RH - 8,
		    !strcmp(report_s(r, "side"), "vm") ? "#d95f02" : "#1b9e77");
		fprintf(out,
			"<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>",
			X(c0), X(c1), y + RH / 2, y + RH / 2);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%s ns (n=%lld)</text>\n", X(c1) + 6,
			y + 15, report_val_ci(report_d(r, "ns"), ci, b, sizeof(b)),
			(long long)json_integer_value(json_object_get(r, "n")));
	}
#undef X
	fprintf(out, "</svg><figcaption>Isolation-boundary ladder: cost of one crossing, ns per "
		     "operation, median with 95%% CI over n timed rounds, log scale; green: host "
		     "(bare) boundaries, orange: VM boundaries.</figcaption></figure>\n");
}

/* ---- curves ---- */

struct curve_pt {
	double x, y, lo, hi;
	long n;
};

static size_t curve_points(json_t *wl, const char *metric, const char *series, bool bare,
			   struct curve_pt *p, size_t max)
{
	size_t i, n = 0;
	json_t *e;
	json_array_foreach(json_object_get(wl, "summary"), i, e)
	{
		if (strcmp(report_s(e, "metric"), metric) || n == max)
			continue;
		if (bare) { /* the bare stats repeat for every VM series: take the first */
			bool dup = false;
			for (size_t k = 0; k < n; k++)
				dup = dup || p[k].x == report_d(e, "x");
			if (dup)
				continue;
		} else if (strcmp(report_s(e, "series"), series)) {
			continue;
		}
		json_t *st = json_object_get(e, bare ? "bare" : "vm"),
		       *ci = json_object_get(st, "ci");
		if (!json_integer_value(json_object_get(st, "n")))
			continue;
		p[n++] = (struct curve_pt){report_d(e, "x"), report_d(st, "median"),
					   json_number_value(json_array_get(ci, 0)),
					   json_number_value(json_array_get(ci, 1)),
					   (long)json_integer_value(json_object_get(st, "n"))};
	}
	return n;
}

struct curve_frame {
	double x0, x1, y0, y1, L, T, W, H;
};

static void draw_series(FILE *out, const struct curve_frame *f, const char *name, const char *color,
			const struct curve_pt *p, size_t n, const char *unit)
{
#define PX(v) (f->L + (log2(v) - f->x0) / (f->x1 - f->x0) * f->W)
#define PY(v) (f->T + (f->y1 - log10(v)) / (f->y1 - f->y0) * f->H)
	fprintf(out,
		"<polyline class=\"series-line\" data-series=\"%s\" fill=\"none\" stroke=\"%s\" "
		"stroke-width=\"2\" points=\"",
		name, color);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%.1f,%.1f ", PX(p[i].x), PY(p[i].y));
	fprintf(out, "\"/>\n");
	for (size_t i = 0; i < n; i++)
		fprintf(out,
			"<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
			"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s x=%g: %g %s "
			"[%g, %g] n=%ld</title></circle>\n",
			PX(p[i].x), PX(p[i].x), PY(p[i].lo), PY(p[i].hi), color, PX(p[i].x),
			PY(p[i].y), color, name, p[i].x, p[i].y, unit, p[i].lo, p[i].hi, p[i].n);
#undef PX
#undef PY
}

static void curve_chart(const struct report_ctx *ctx, size_t src, json_t *wl, const char *metric,
			void *arg)
{
	FILE *out = arg;
	(void)ctx, (void)src;
	struct curve_pt pts[6][64];
	const char *names[6] = {"bare"};
	size_t np[6], ns = 1, i;
	json_t *e, *first = NULL;
	np[0] = curve_points(wl, metric, NULL, true, pts[0], 64);
	json_array_foreach(json_object_get(wl, "summary"), i, e)
	{
		if (strcmp(report_s(e, "metric"), metric))
			continue;
		first = first ? first : e;
		bool seen = false;
		for (size_t k = 1; k < ns; k++)
			seen = seen || !strcmp(names[k], report_s(e, "series"));
		if (!seen && ns < 6) {
			names[ns] = report_s(e, "series");
			np[ns] = curve_points(wl, metric, names[ns], false, pts[ns], 64);
			ns++;
		}
	}
	struct curve_frame f = {INFINITY, -INFINITY, INFINITY, -INFINITY, 70, 20, 560, 280};
	long nmin = 1L << 30, nmax = 0;
	for (size_t s = 0; s < ns; s++)
		for (size_t k = 0; k < np[s]; k++) {
			f.x0 = fmin(f.x0, log2(pts[s][k].x)), f.x1 = fmax(f.x1, log2(pts[s][k].x));
			f.y0 = fmin(f.y0, log10(fmax(pts[s][k].lo, 1e-9)));
			f.y1 = fmax(f.y1, log10(fmax(pts[s][k].hi, 1e-9)));
			nmin = pts[s][k].n < nmin ? pts[s][k].n : nmin;
			nmax = pts[s][k].n > nmax ? pts[s][k].n : nmax;
		}
	if (!isfinite(f.x0))
		return;
	f.x1 = f.x1 > f.x0 ? f.x1 : f.x0 + 1;
	f.y0 = floor(f.y0), f.y1 = fmax(ceil(f.y1), f.y0 + 1);
	const char *unit = report_s(first, "unit"), *xu = report_s(first, "xu");
	fprintf(out,
		"<figure><svg id=\"chart-curve-%s-%s\" class=\"curve\" "
		"xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"820\" height=\"360\" font-family=\"sans-serif\" font-size=\"11\">\n",
		report_s(wl, "name"), metric);
	for (double d = f.y0; d <= f.y1; d++) {
		double y = f.T + (f.y1 - d) / (f.y1 - f.y0) * f.H;
		fprintf(out,
			"<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			"<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%g %s</text>\n",
			f.L, f.L + f.W, y, y, f.L - 4, y + 4, pow(10, d), unit);
	}
	for (size_t k = 0; k < np[0]; k++) {
		double x = f.L + (log2(pts[0][k].x) - f.x0) / (f.x1 - f.x0) * f.W;
		double v = pts[0][k].x;
		const char *sfx = "";
		if (!strcmp(xu, "B"))
			for (const char *const *u =
				 (const char *const[]){"KiB", "MiB", "GiB", NULL};
			     *u && v >= 1024; u++)
				v /= 1024, sfx = *u;
		fprintf(out, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%g%s</text>\n", x,
			f.T + f.H + 16, v, *sfx ? sfx : xu);
	}
	fprintf(out,
		"<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s (%s, log scale)</text>"
		"<text transform=\"translate(14,%.0f) rotate(-90)\" text-anchor=\"middle\">%s, %s "
		"(log scale, %s is better)</text>\n",
		f.L + f.W / 2, f.T + f.H + 34, report_s(first, "xk"), xu, f.T + f.H / 2, metric,
		unit, report_s(first, "better"));
	for (size_t s = 0; s < ns; s++) {
		draw_series(out, &f, names[s], line_colors[s % 5], pts[s], np[s], unit);
		fprintf(out,
			"<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"3\" fill=\"%s\"/><text "
			"x=\"%.0f\" y=\"%.0f\">%s</text>\n",
			f.L + f.W + 14, f.T + s * 16.0 + 4, line_colors[s % 5], f.L + f.W + 30,
			f.T + s * 16.0 + 9, names[s]);
	}
	fprintf(out,
		"</svg><figcaption>%s: %s (%s) per %s, bare vs VM; points are medians, whiskers "
		"the order-statistic interval of the median (real coverage: 75%% at n = 3, "
		"93.8%% at 5, at least 95%% from 6); n = %ld..%ld runs per point.</figcaption>"
		"</figure>\n",
		report_s(wl, "name"), metric, unit, report_s(first, "xk"), nmin, nmax);
}

/* ---- tables ---- */

/* "12.3 [11.9, 12.8]" and "n=10, 97.9%" of a STATS or overhead object */
static void html_ci_cell(FILE *out, double v, json_t *o, const char *nkey)
{
	char b[128];
	report_val_ci(v, json_object_get(o, "ci"), b, sizeof(b));
	fprintf(out, "<td>");
	esc(out, b);
	if (isfinite(v))
		fprintf(out, " <small>(%s=%lld, %.1f%%%s)</small>", nkey[0] == 'p' ? "pairs" : "n",
			(long long)json_integer_value(json_object_get(o, nkey)),
			report_d(o, "ci_level") * 100,
			json_is_true(json_object_get(o, "underpowered")) ? " underpowered" : "");
	fprintf(out, "</td>");
}

/* Every summary entry: both medians and the overhead, each with its interval
 * and the interval's real coverage. */
static void summary_tables(FILE *out, const struct report_ctx *ctx)
{
	fprintf(out, "<h2>Measurements</h2>\n<table><tr><th>workload</th><th>metric</th><th>"
		     "series</th><th>bare median [CI] (n, CI level)</th><th>VM median [CI] (n, "
		     "CI level)</th><th>overhead %% [CI] (pairs, CI level)</th></tr>\n");
	for (size_t s = 0; s < ctx->n; s++) {
		size_t i, j;
		json_t *wl, *e;
		json_array_foreach(json_object_get(ctx->results[s], "workloads"), i, wl)
		    json_array_foreach(json_object_get(wl, "summary"), j, e)
		{
			char x[64];
			fprintf(out, "<tr><td>");
			esc(out, report_s(wl, "name"));
			fprintf(out, "</td><td>");
			esc(out, report_s(e, "metric"));
			fprintf(out, " (");
			esc(out, report_s(e, "unit"));
			fprintf(out, ")");
			if (json_is_string(json_object_get(e, "xk"))) {
				fprintf(out, " @");
				esc(out, report_x_label(e, x, sizeof(x)));
			}
			fprintf(out, "</td><td>");
			esc(out, report_s(e, "series"));
			fprintf(out, "</td>");
			json_t *b = json_object_get(e, "bare"), *v = json_object_get(e, "vm"),
			       *o = json_object_get(e, "overhead_pct");
			html_ci_cell(out, report_d(b, "median"), b, "n");
			html_ci_cell(out, report_d(v, "median"), v, "n");
			html_ci_cell(out, report_d(o, "value"), o, "pairs");
			fprintf(out, "</tr>\n");
		}
	}
	fprintf(out, "</table><p class=\"note\">Distribution-free intervals at their real "
		     "coverage (nominal 95%%, reached from 6 runs or pairs; underpowered below): "
		     "medians by order statistics; overhead = median over pairs of the time ratio "
		     "VM/bare, minus 1, with the order-statistic interval of that median.</p>\n");
}

static void decomposition_table(FILE *out, const struct report_ctx *ctx)
{
	fprintf(out, "<table><tr><th>workload</th><th>series</th><th>metric</th><th>pairs</th>"
		     "<th>measured</th>");
	for (int c = 0; c < 4; c++)
		fprintf(out, "<th>%s</th>", comps[c]);
	fprintf(out, "</tr>\n");
	for (size_t s = 0; s < ctx->n; s++) {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(ctx->decomp[s], "entries"), i, e)
		{
			char b[128];
			fprintf(out, "<tr><td>");
			esc(out, report_s(e, "workload"));
			fprintf(out, "</td><td>");
			esc(out, report_s(e, "series"));
			fprintf(out, "</td><td>%s (%s)", report_s(e, "metric"),
				report_s(e, "unit"));
			if (json_is_string(json_object_get(e, "xk")))
				fprintf(out, " @%s", report_x_label(e, b, sizeof(b)));
			fprintf(out, "</td><td>%lld</td><td>%s</td>",
				(long long)json_integer_value(json_object_get(e, "pairs")),
				report_comp(json_object_get(e, "measured"), b, sizeof(b)));
			for (int c = 0; c < 4; c++) {
				json_t *cp = report_component(e, comps[c]);
				fprintf(out, "<td title=\"");
				esc(out, report_s(cp, json_is_true(json_object_get(cp, "available"))
							  ? "note"
							  : "reason"));
				fprintf(out, "\">%s</td>", report_comp(cp, b, sizeof(b)));
			}
			fprintf(out, "</tr>\n");
		}
	}
	fprintf(out, "</table><p class=\"note\">%% of bare-metal time, median over pairs; "
		     "measured: [order-statistic CI] (its real level), components: [95%% "
		     "bootstrap CI]; hover n/a for the reason.</p>\n");
}

static void validation_table(FILE *out, const struct report_ctx *ctx)
{
	size_t i;
	json_t *v;
	if (!json_array_size(ctx->validation))
		return;
	fprintf(out, "<h2>Validation: exit-storm predicted vs measured</h2><table><tr>");
	for (int k = 0; k < REPORT_VALIDATION_COLS; k++) {
		fprintf(out, "<th>");
		esc(out, report_validation_headers[k]);
		fprintf(out, "</th>");
	}
	fprintf(out, "</tr>\n");
	json_array_foreach(ctx->validation, i, v)
	{
		char c[REPORT_VALIDATION_COLS][96];
		report_validation_cells(v, c);
		fprintf(out, "<tr>");
		for (int k = 0; k < REPORT_VALIDATION_COLS; k++) {
			fprintf(out, "<td>");
			esc(out, c[k]);
			fprintf(out, "</td>");
		}
		fprintf(out, "</tr>\n");
	}
	fprintf(out, "</table>\n");
}

static int html_render(FILE *out, const struct report_ctx *ctx)
{
	fprintf(
	    out,
	    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>virttax report</title><style>body{font-family:sans-serif;margin:24px;"
	    "max-width:1400px}table{border-collapse:collapse;font-size:12px;margin:8px 0}"
	    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}"
	    "figure{margin:16px 0}figcaption{font-size:12px;color:#444;max-width:900px}"
	    ".note{font-size:12px;color:#555}</style></head><body>\n<h1>virttax report</h1>\n<p>");
	for (size_t s = 0; s < ctx->n; s++) {
		if (ctx->n > 1)
			fprintf(out, "run #%zu: ", s + 1);
		esc(out, ctx->paths[s]);
		char partial[400];
		fprintf(out, " (created %s, reps %lld)", report_s(ctx->results[s], "created"),
			(long long)json_integer_value(json_object_get(
			    json_object_get(ctx->results[s], "parameters"), "reps")));
		if (results_partial(ctx->results[s], partial, sizeof(partial))) {
			fprintf(out, " <b>");
			esc(out, partial);
			fprintf(out, "</b>");
		}
		fprintf(out, "%s", s + 1 < ctx->n ? "; " : "");
	}
	fprintf(out, "</p>\n<h2>Where the overhead goes</h2>\n");
	bar_chart(out, ctx);
	decomposition_table(out, ctx);
	summary_tables(out, ctx);
	validation_table(out, ctx);
	report_components(out, ctx, true);
	fprintf(out, "<h2>Isolation-boundary ladder</h2>\n");
	ladder_chart(out, ctx);
	fprintf(out, "<h2>Curves: bare vs VM</h2>\n");
	report_for_each_curve(ctx, curve_chart, out);
	fprintf(out, "<p class=\"note\">Method: docs/METHOD.md. Every number: median, its interval "
		     "with the interval's real coverage, n.</p>"
		     "</body></html>\n");
	return ferror(out) ? -5 : 0;
}

const struct report_ops report_html = {
    .name = "html",
    .help = "self-contained HTML with inline SVG charts",
    .render = html_render,
};
