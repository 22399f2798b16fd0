/*
 * The decomposition table `virttax run` prints after the overhead table.
 *
 * Why: the decomposition is what virttax exists for; a user should not have
 * to know about `virttax report` to see where the overhead went. One row per
 * workload, VM series and metric of the ab experiment: measured overhead and
 * its components, each a median over pairs with its bootstrap 95% CI, and the
 * number of pairs; a component that is not available says "n/a" and its
 * reason is listed below the table. Printed from results.json (reports/
 * decompose.c), like every other table.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "reports/decompose.h"
#include "reports/report.h"
#include "reports/table.h"

#define DEC_COLS 9
#define MAX_NOTES 6
#define MAX_RESIDUAL_NOTES 24

static const char *const dec_headers[DEC_COLS] = {"workload",	  "metric",	 "series",
						  "measured %",	  "mediation %", "translation %",
						  "scheduling %", "residual %",	 "n"};

static const char *const comp_names[] = {"mediation", "translation", "scheduling", "residual"};

/* "+1.23 [-0.40, +2.05]", or "n/a (k)" with k the reason's footnote number */
static void cell(json_t *c, char *buf, size_t len, const char **notes, size_t *nnotes)
{
	json_t *ci = json_object_get(c, "ci95_pct"), *v = json_object_get(c, "value_pct");
	if (json_is_true(json_object_get(c, "available")) && json_is_number(v)) {
		int o = snprintf(buf, len, "%+.2f [%+.2f, %+.2f]", json_number_value(v),
				 json_number_value(json_array_get(ci, 0)),
				 json_number_value(json_array_get(ci, 1)));
		json_t *lv = json_object_get(c, "ci_level"); /* measured: its real level */
		if (json_is_number(lv) && o > 0 && (size_t)o < len)
			snprintf(buf + o, len - (size_t)o, " (%.1f%%%s)",
				 json_number_value(lv) * 100,
				 json_is_true(json_object_get(c, "underpowered")) ? " underpowered"
										  : "");
		return;
	}
	const char *why = json_string_value(json_object_get(c, "reason"));
	size_t k = 0;
	while (k < *nnotes && why && strcmp(notes[k], why))
		k++;
	if (why && k == *nnotes && *nnotes < MAX_NOTES)
		notes[(*nnotes)++] = why;
	if (why && k < *nnotes)
		snprintf(buf, len, "n/a (%zu)", k + 1);
	else
		snprintf(buf, len, "n/a");
}

/* a residual beyond DECOMPOSE_RESIDUAL_PP points: its measured cause as
 * footnote "rK" (reports/decompose.c residual_cause) */
static void residual_note(json_t *res, char *buf, size_t len, const char **notes, size_t *nnotes)
{
	const char *why =
	    json_string_value(json_object_get(json_object_get(res, "detail"), "cause"));
	size_t k = 0, l = strlen(buf);
	if (!why)
		return;
	while (k < *nnotes && strcmp(notes[k], why))
		k++;
	if (k == *nnotes && *nnotes < MAX_RESIDUAL_NOTES)
		notes[(*nnotes)++] = why;
	if (k < *nnotes)
		snprintf(buf + l, len - l, " (r%zu)", k + 1);
}

static bool is_ab(json_t *results, const char *wl)
{
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(results, "workloads"), i, w)
	{
		const char *e = json_string_value(json_object_get(w, "experiment"));
		if (!strcmp(json_string_value(json_object_get(w, "name")), wl))
			return !strcmp(e ? e : "ab", "ab");
	}
	return false;
}

void table_decompose_print(FILE *out, json_t *results)
{
	json_t *dec = decompose_results(results, NULL), *e;
	struct table_grid g = {.ncols = DEC_COLS, .right_from = 3, .headers = dec_headers};
	const char *notes[MAX_NOTES], *rnotes[MAX_RESIDUAL_NOTES];
	size_t nnotes = 0, nrnotes = 0, i;
	json_array_foreach(json_object_get(dec, "entries"), i, e)
	{
		const char *wl = json_string_value(json_object_get(e, "workload"));
		char(*c)[TABLE_CELL];
		if (!is_ab(results, wl) || !(c = table_grid_row(&g)))
			continue;
		snprintf(c[0], TABLE_CELL, "%s", wl);
		table_metric_label(e, c[1], TABLE_CELL);
		snprintf(c[2], TABLE_CELL, "%s", json_string_value(json_object_get(e, "series")));
		cell(json_object_get(e, "measured"), c[3], TABLE_CELL, notes, &nnotes);
		for (int k = 0; k < 4; k++)
			cell(report_component(e, comp_names[k]), c[4 + k], TABLE_CELL, notes,
			     &nnotes);
		residual_note(report_component(e, "residual"), c[7], TABLE_CELL, rnotes, &nrnotes);
		snprintf(c[8], TABLE_CELL, "%lld",
			 (long long)json_integer_value(json_object_get(e, "pairs")));
	}
	if (g.nrows) {
		fprintf(out, "\ndecomposition (%% of bare-metal time, median over pairs; measured "
			     "[order-statistic CI] (its real level), components [bootstrap CI, "
			     "nominal 95%%]; docs/METHOD.md):\n");
		table_grid_print(out, &g);
		for (size_t k = 0; k < nnotes; k++)
			fprintf(out, "  n/a (%zu): %.300s\n", k + 1, notes[k]);
		for (size_t k = 0; k < nrnotes; k++)
			fprintf(out,
				"  residual beyond +-%.0f points (r%zu), measured cause: %.400s\n",
				DECOMPOSE_RESIDUAL_PP, k + 1, rnotes[k]);
	}
	table_grid_free(&g);
	json_decref(dec);
}
