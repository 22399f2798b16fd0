/*
 * The side-by-side table of `virttax run --vmm vmm-lite,qemu`: one row per
 * workload metric, with the bare-metal median, each VMM's median and each
 * VMM's overhead against the same bare-metal runs.
 *
 * Why a second table: the summary in results.json (and table.c) has one
 * entry per VM series; comparing VMMs means reading them across, so this
 * pivots the same summary entries (nothing is recomputed). Printed only when
 * the results hold more than one VMM.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "reports/table.h"

#define TV_MAX_VMMS 4

static size_t vmm_names(json_t *results, const char **names)
{
	size_t n = 0, i, j, k;
	json_t *w, *r;
	json_array_foreach(json_object_get(results, "workloads"), i, w)
	    json_array_foreach(json_object_get(w, "runs"), j, r)
	{
		const char *v = json_string_value(json_object_get(r, "vmm"));
		for (k = 0; v && k < n && strcmp(names[k], v); k++)
			;
		if (v && k == n && n < TV_MAX_VMMS)
			names[n++] = v;
	}
	return n;
}

static const char *entry_vmm(json_t *w, json_t *e)
{
	const char *series = json_string_value(json_object_get(e, "series"));
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(w, "runs"), i, r)
	{
		const char *s = json_string_value(json_object_get(r, "series"));
		if (s && series && !strcmp(s, series))
			return json_string_value(json_object_get(r, "vmm"));
	}
	return NULL;
}

static bool same_metric(json_t *a, json_t *b)
{
	return json_equal(json_object_get(a, "metric"), json_object_get(b, "metric")) &&
	       json_equal(json_object_get(a, "x"), json_object_get(b, "x")) &&
	       json_equal(json_object_get(a, "baseline_series"),
			  json_object_get(b, "baseline_series"));
}

static void cell_median(json_t *side, char *buf, size_t len)
{
	json_t *m = json_object_get(side, "median");
	if (json_is_number(m))
		table_number(json_number_value(m), buf, len);
	else
		snprintf(buf, len, "-");
}

static void row(FILE *out, json_t *w, json_t *first, json_t *summary, const char **names, size_t n)
{
	char label[96], num[32];
	const char *m = json_string_value(json_object_get(first, "metric"));
	json_t *x = json_object_get(first, "x");
	if (json_is_number(x)) {
		char xs[32];
		table_human_bytes(json_number_value(x), xs, sizeof(xs));
		snprintf(label, sizeof(label), "%s @ %s", m, xs);
	} else
		snprintf(label, sizeof(label), "%s", m);
	cell_median(json_object_get(first, "bare"), num, sizeof(num));
	fprintf(out, "%-10s %-22s %-6s %12s", json_string_value(json_object_get(w, "name")), label,
		json_string_value(json_object_get(first, "unit")), num);
	for (size_t v = 0; v < n; v++) {
		size_t i;
		json_t *e, *hit = NULL;
		json_array_foreach(summary, i, e) if (same_metric(first, e) && entry_vmm(w, e) &&
						      !strcmp(entry_vmm(w, e), names[v])) hit = e;
		cell_median(json_object_get(hit, "vm"), num, sizeof(num));
		double o = json_number_value(
		    json_object_get(json_object_get(hit, "overhead_pct"), "value"));
		fprintf(out, " %12s %+9.2f%%", num, hit ? o : NAN);
	}
	fprintf(out, "\n");
}

static void print_vmms(FILE *out, json_t *results)
{
	const char *names[TV_MAX_VMMS];
	size_t n = vmm_names(results, names), i, j, k;
	json_t *w, *e, *f;
	if (n < 2)
		return;
	fflush(out);
	fprintf(out, "\nside by side (medians; overhead %% vs the same bare-metal runs):\n");
	fprintf(out, "%-10s %-22s %-6s %12s", "workload", "metric", "unit", "bare");
	for (size_t v = 0; v < n; v++)
		fprintf(out, " %12s %10s", names[v], "overhead");
	fprintf(out, "\n");
	json_array_foreach(json_object_get(results, "workloads"), i, w)
	{
		json_t *summary = json_object_get(w, "summary");
		json_array_foreach(summary, j, e)
		{
			bool seen = false; /* print each metric once, at its first entry */
			json_array_foreach(summary, k, f) if (k < j && same_metric(e, f)) seen =
			    true;
			if (!seen)
				row(out, w, e, summary, names, n);
		}
	}
}

void table_vmms_print(FILE *out, json_t *results)
{
	json_t *v = table_select(results, "ab");
	print_vmms(out, v);
	json_decref(v);
}
