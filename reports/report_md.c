/*
 * Markdown report: for pull requests and papers. Every number carries its
 * unit, n and spread (an interval with its real coverage); components that could not be computed
 * say why in a footnote list instead of showing a number.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "core/results.h"
#include "reports/report.h"

/* "12.3 [11.9, 12.8] (n=10, 97.9%)": the interval's real coverage after n */
static void stats_cell(FILE *out, json_t *st)
{
	char b[96];
	if (!json_integer_value(json_object_get(st, "n"))) {
		fprintf(out, " n/a (n=0) |");
		return;
	}
	fprintf(out, " %s (n=%lld, %.1f%%%s) |",
		report_val_ci(report_d(st, "median"), json_object_get(st, "ci"), b, sizeof(b)),
		(long long)json_integer_value(json_object_get(st, "n")),
		report_d(st, "ci_level") * 100,
		json_is_true(json_object_get(st, "underpowered")) ? " underpowered" : "");
}

static void summary_table(FILE *out, json_t *wl)
{
	size_t i;
	json_t *e;
	fprintf(out, "| metric | unit | better | x | series | bare median [CI] (n, CI level) | VM "
		     "median [CI] (n, CI level) | overhead %% [CI] (pairs, CI level) | outliers "
		     "(MAD) |\n");
	fprintf(out, "|---|---|---|---|---|---:|---:|---:|---|\n");
	json_array_foreach(json_object_get(wl, "summary"), i, e)
	{
		char x[64], o[96];
		json_t *ov = json_object_get(e, "overhead_pct"),
		       *ol = json_object_get(e, "outliers");
		report_x_label(e, x, sizeof(x));
		fprintf(out, "| %s | %s | %s | %s | %s |", report_s(e, "metric"),
			report_s(e, "unit"), report_s(e, "better"), x, report_s(e, "series"));
		stats_cell(out, json_object_get(e, "bare"));
		stats_cell(out, json_object_get(e, "vm"));
		double lv = report_d(ov, "ci_level");
		fprintf(
		    out, " %s (%lld",
		    report_val_ci(report_d(ov, "value"), json_object_get(ov, "ci"), o, sizeof(o)),
		    (long long)json_integer_value(json_object_get(ov, "pairs")));
		if (isfinite(lv))
			fprintf(out, ", %.1f%%%s", lv * 100,
				json_is_true(json_object_get(ov, "underpowered")) ? " underpowered"
										  : "");
		fprintf(out, ") | bare %zu, vm %zu |\n",
			json_array_size(json_object_get(ol, "bare")),
			json_array_size(json_object_get(ol, "vm")));
	}
	fprintf(out, "\nIntervals are distribution-free, at their real coverage (CI level; nominal "
		     "95%%, reached from 6 runs or pairs, *underpowered* below): medians by order "
		     "statistics; overhead = median over pairs of the time ratio VM/bare, minus "
		     "1, with the order-statistic interval of that median.\n");
}

static const char *const comps[] = {"mediation", "translation", "scheduling", "residual"};

/* Footnotes of one table: identical reasons share a number. */
struct notes {
	char text[8][700];
	int num[8], n;
};

static int note_ref(struct notes *ns, int *counter, const char *name, const char *reason)
{
	char t[700];
	snprintf(t, sizeof(t), "%s: %s", name, reason);
	for (int k = 0; k < ns->n; k++)
		if (!strcmp(ns->text[k], t))
			return ns->num[k];
	if (ns->n == 8)
		return 0;
	snprintf(ns->text[ns->n], sizeof(ns->text[0]), "%s", t);
	ns->num[ns->n++] = ++*counter;
	return *counter;
}

static void decomposition_table(FILE *out, json_t *dec, const char *wl, int *note)
{
	size_t i;
	json_t *e;
	bool header = false;
	struct notes ns = {.n = 0};
	json_array_foreach(json_object_get(dec, "entries"), i, e)
	{
		if (strcmp(report_s(e, "workload"), wl))
			continue;
		if (!header) {
			fprintf(out, "\nDecomposition (%% of bare-metal time, lower is better; "
				     "median over pairs; measured: [order-statistic CI] (its "
				     "level), components: [95%% bootstrap CI]):\n\n");
			fprintf(
			    out,
			    "| series | metric | x | pairs | measured | mediation | translation "
			    "| scheduling | residual "
			    "|\n|---|---|---|---:|---:|---:|---:|---:|---:|\n");
			header = true;
		}
		char x[64], b[96];
		report_x_label(e, x, sizeof(x));
		fprintf(out, "| %s | %s (%s) | %s | %lld | %s |", report_s(e, "series"),
			report_s(e, "metric"), report_s(e, "unit"), x,
			(long long)json_integer_value(json_object_get(e, "pairs")),
			report_comp(json_object_get(e, "measured"), b, sizeof(b)));
		for (int c = 0; c < 4; c++) {
			json_t *cp = report_component(e, comps[c]);
			fprintf(out, " %s", report_comp(cp, b, sizeof(b)));
			const char *cause = json_string_value(
			    json_object_get(json_object_get(cp, "detail"), "cause"));
			if (!json_is_true(json_object_get(cp, "available"))) {
				int r = note_ref(&ns, note, comps[c], report_s(cp, "reason"));
				if (r)
					fprintf(out, " [^%d]", r);
			} else if (cause) { /* a residual beyond +-5 points: its measured cause */
				int r = note_ref(&ns, note, "residual's measured cause", cause);
				if (r)
					fprintf(out, " [^%d]", r);
			}
			fprintf(out, " |");
		}
		fprintf(out, "\n");
	}
	for (int k = 0; k < ns.n; k++)
		fprintf(out, "%s[^%d]: %s\n", k ? "" : "\n", ns.num[k], ns.text[k]);
}

static void mediation_detail(FILE *out, json_t *dec, const char *wl)
{
	size_t i, j;
	json_t *e, *k;
	json_array_foreach(json_object_get(dec, "entries"), i, e)
	{
		if (strcmp(report_s(e, "workload"), wl) || json_is_string(json_object_get(e, "xk")))
			continue;
		json_t *det = json_object_get(report_component(e, "mediation"), "detail");
		if (!json_array_size(json_object_get(det, "kinds")))
			continue;
		fprintf(out,
			"\nExits charged in `%s` (median per run; cost = calibrated ns per exit "
			"[95%% CI], n rounds):\n\n| calibration kind | exit reasons | exits/run | "
			"cost ns | source |\n|---|---|---:|---:|---|\n",
			report_s(e, "series"));
		json_array_foreach(json_object_get(det, "kinds"), j, k)
		{
			char b[96], c[32];
			json_t *cost = json_object_get(k, "cost_ns");
			fprintf(out, "| %s | %s | %s | ", report_s(k, "kind"),
				report_s(k, "exit_reasons"),
				report_num(report_d(k, "count_median"), c, sizeof(c)));
			if (cost)
				fprintf(out, "%s (n=%lld)",
					report_val_ci(report_d(cost, "median"),
						      json_object_get(cost, "ci95"), b, sizeof(b)),
					(long long)json_integer_value(json_object_get(cost, "n")));
			else
				fprintf(out, "not priced: %s", report_s(k, "reason"));
			fprintf(out, " | %s |\n", report_s(k, "source"));
		}
		fprintf(out, "\nNot charged: %s exits/run (%s).\n",
			report_num(report_d(det, "excluded_exits_median"), (char[32]){0}, 32),
			report_s(det, "excluded_why"));
		return; /* one series is enough: the kinds are the same */
	}
}

static void validation(FILE *out, const struct report_ctx *ctx)
{
	size_t i;
	json_t *v;
	if (!json_array_size(ctx->validation))
		return;
	fprintf(
	    out,
	    "\n## Validation: exit-storm, predicted vs measured\n\n"
	    "Predicted = exits × cost per exit / bare time: back-to-back = the calibration's "
	    "cost of exits in a tight loop; spacing-aware = the calibration's spacing curve at "
	    "the mean compute gap between exits (bare time / exits); in-run = each VM run's own "
	    "back-to-back cost (`selfcal_exit_ns`, timed in the same VM before the storm). "
	    "Error = (predicted − measured) / measured. The verdict (±10%%) uses the in-run "
	    "prediction when the runs have `selfcal_exit_ns`, else spacing-aware when the "
	    "calibration has a curve, else back-to-back (column *model*): on a nested host the "
	    "cost of an exit varies by about ±10%% from VM boot to VM boot, so a calibration "
	    "from another VM cannot reach ±10%% reliably.\n\n");
	for (int k = 0; k < REPORT_VALIDATION_COLS; k++)
		fprintf(out, "| %s ", report_validation_headers[k]);
	fprintf(out, "|\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		     "---:|---|---|\n");
	json_array_foreach(ctx->validation, i, v)
	{
		char c[REPORT_VALIDATION_COLS][96];
		report_validation_cells(v, c);
		if (!strcmp(c[17], "no"))
			snprintf(c[17], sizeof(c[17]), "**no**");
		for (int k = 0; k < REPORT_VALIDATION_COLS; k++)
			fprintf(out, "| %s ", c[k]);
		fprintf(out, "|\n");
	}
}

static void ladder(FILE *out, const struct report_ctx *ctx)
{
	size_t i;
	json_t *r;
	fprintf(out, "\n## Isolation-boundary ladder (calibration)\n\n");
	if (!json_array_size(ctx->ladder)) {
		fprintf(out, "No calibration available: run `virttax calibrate` and pass "
			     "`--calibration FILE`, or `virttax run` with calibration.\n");
		return;
	}
	fprintf(out,
		"Cost of one crossing, ns per operation (median [95%% CI], n rounds), cheapest "
		"first:\n\n| kind | side | ns/op [95%% CI] | n |\n|---|---|---:|---:|\n");
	json_array_foreach(ctx->ladder, i, r)
	{
		char b[96];
		fprintf(out, "| %s | %s | %s | %lld |\n", report_s(r, "kind"), report_s(r, "side"),
			report_val_ci(report_d(r, "ns"), json_object_get(r, "ci95"), b, sizeof(b)),
			(long long)json_integer_value(json_object_get(r, "n")));
	}
}

static int md_render(FILE *out, const struct report_ctx *ctx)
{
	int note = 0;
	fprintf(out, "# virttax report\n\n");
	for (size_t s = 0; s < ctx->n; s++) {
		json_t *r = ctx->results[s], *p = json_object_get(r, "parameters"), *wl;
		size_t i;
		fprintf(out,
			"## %s\n\ncreated %s, virttax %s, reps %lld, warm-up %lld (discarded)%s\n",
			ctx->paths[s], report_s(r, "created"), report_s(r, "virttax_version"),
			(long long)json_integer_value(json_object_get(p, "reps")),
			(long long)json_integer_value(json_object_get(p, "warmup")),
			json_is_true(json_object_get(p, "quick")) ? ", --quick" : "");
		char partial[400];
		if (results_partial(r, partial, sizeof(partial)))
			fprintf(out, "\n**%s**\n", partial);
		json_array_foreach(json_object_get(r, "workloads"), i, wl)
		{
			const char *name = report_s(wl, "name");
			json_t *rounds = json_object_get(wl, "rounds");
			fprintf(out, "\n### %s\n\n", name);
			if (rounds)
				fprintf(
				    out, "experiment %s: %lld warm-up + %lld counted rounds%s\n\n",
				    report_s(wl, "experiment"),
				    (long long)json_integer_value(
					json_object_get(rounds, "warmup")),
				    (long long)json_integer_value(json_object_get(rounds, "reps")),
				    json_is_true(json_object_get(rounds, "auto"))
					? " (at least; --reps auto)"
					: "");
			summary_table(out, wl);
			decomposition_table(out, ctx->decomp[s], name, &note);
			mediation_detail(out, ctx->decomp[s], name);
		}
	}
	validation(out, ctx);
	report_components(out, ctx, false);
	ladder(out, ctx);
	fprintf(out,
		"\n---\nCIs: medians from order statistics (level in results.json), overheads and "
		"components by bootstrap over pairs (fixed seed). Outliers are flagged by "
		"modified z-score > 3.5 on the MAD and never dropped. Method: docs/METHOD.md.\n");
	return ferror(out) ? -5 : 0;
}

const struct report_ops report_md = {
    .name = "md",
    .help = "Markdown (pull requests, papers)",
    .render = md_render,
};
