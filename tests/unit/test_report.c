/*
 * compare/gate verdicts and the report formats on the synthetic results in
 * tests/data/ (see tests/data/make_synthetic.py for what differs between them).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/compare.h"
#include "reports/compare_fmt.h"
#include "reports/report.h"

Test(compare, verdict_fails_closed)
{
	/* p, slowdown, upper end of its interval, interval reaches its level, noise */
	cr_assert_eq(compare_verdict(0.001, 6.0, 8.0, true, 5.0), CMP_REGRESSION);
	cr_assert_eq(compare_verdict(0.001, 4.9, 5.5, true, 5.0), CMP_REGRESSION,
		     "slower, and beyond noise not ruled out");
	cr_assert_eq(compare_verdict(0.001, 2.0, 4.0, true, 5.0), CMP_WITHIN_NOISE);
	cr_assert_eq(compare_verdict(0.02, 50.0, 60.0, true, 5.0), CMP_INCONCLUSIVE,
		     "not significant, not shown below the noise");
	cr_assert_eq(compare_verdict(0.2, 0.5, 3.0, true, 5.0), CMP_NO_CHANGE);
	cr_assert_eq(compare_verdict(0.001, -10.0, -8.0, true, 5.0), CMP_IMPROVEMENT);
	cr_assert_eq(compare_verdict(0.001, -3.0, -1.0, true, 5.0), CMP_NO_CHANGE);
	cr_assert_eq(compare_verdict(NAN, 50.0, 60.0, true, 5.0), CMP_INCONCLUSIVE);
	cr_assert_eq(compare_verdict(0.001, 1.0, 1.5, true, 0.0), CMP_REGRESSION,
		     "noise 0: any slowdown");
	cr_assert_eq(compare_verdict(0.1, 0.0, 1.0, false, 5.0), CMP_INCONCLUSIVE,
		     "an interval below its level decides nothing");
	/* direction: a throughput drop from 100 to 80 takes 25% longer */
	cr_assert_float_eq(compare_slowdown_pct(0.8, false), 25.0, 1e-9);
	cr_assert_float_eq(compare_slowdown_pct(1.2, true), 20.0, 1e-9);
}

static json_t *load(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "tests/data/%s", name);
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);
	cr_assert(j, "%s: %s", path, e.text);
	return j;
}

static json_t *find_row(json_t *cmp, const char *wl, const char *metric, const char *series,
			const char *kind)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(cmp, "rows"), i, r)
	{
		if (!strcmp(json_string_value(json_object_get(r, "workload")), wl) &&
		    !strcmp(json_string_value(json_object_get(r, "metric")), metric) &&
		    !strcmp(json_string_value(json_object_get(r, "series")), series) &&
		    !strcmp(json_string_value(json_object_get(r, "kind")), kind))
			return r;
	}
	return NULL;
}

static const char *verdict(json_t *row)
{
	cr_assert(row);
	return json_string_value(json_object_get(row, "verdict"));
}

Test(compare, synthetic_regression_noise_and_improvement)
{
	json_t *a = load("synthetic-a.json"), *b = load("synthetic-b.json"),
	       *c = load("synthetic-c.json");
	char err[300];
	json_t *self = compare_results(a, a, 5.0, err, sizeof(err));
	cr_assert(self);
	cr_assert_eq(json_integer_value(json_object_get(self, "regressions")), 0);
	json_t *ab = compare_results(a, b, 5.0, err, sizeof(err));
	json_t *r = find_row(ab, "exit-storm", "time", "vm[pagesize=2m]", "vm");
	cr_assert_str_eq(verdict(r), "regression");
	cr_assert_float_eq(json_number_value(json_object_get(r, "ratio")), 1.2, 1e-9);
	cr_assert(json_number_value(json_object_get(r, "p")) < 0.01);
	cr_assert_str_eq(verdict(find_row(ab, "mem-stream", "triad", "vm[pagesize=2m]", "vm")),
			 "within noise", "1%%, significant, is shown below the 5%% noise");
	/* with noise 0.5% the same 1% throughput drop counts */
	json_t *ab0 = compare_results(a, b, 0.5, err, sizeof(err));
	cr_assert_str_eq(verdict(find_row(ab0, "mem-stream", "triad", "vm[pagesize=2m]", "vm")),
			 "regression");
	json_t *ac = compare_results(a, c, 5.0, err, sizeof(err));
	cr_assert_str_eq(verdict(find_row(ac, "mem-chase", "latency", "vm[pagesize=4k]", "vm")),
			 "improvement");
	cr_assert_eq(json_integer_value(json_object_get(ac, "regressions")), 0);
	/* nothing in common */
	json_t *empty = json_pack("{s:[]}", "workloads");
	cr_assert_null(compare_results(a, empty, 5.0, err, sizeof(err)));
	cr_assert(strstr(err, "nothing to compare"));
	json_decref(self), json_decref(ab), json_decref(ab0), json_decref(ac), json_decref(empty);
	json_decref(a), json_decref(b), json_decref(c);
}

/* Render with a format into memory. */
static char *render(int (*fn)(FILE *, void *), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_eq(fn(f, arg), 0);
	fclose(f);
	return buf;
}

static int render_fmt(FILE *out, void *arg)
{
	void **a = arg;
	return ((const struct report_ops *)a[0])->render(out, a[1]);
}

static char *report_text(const char *fmt)
{
	struct report_ctx ctx;
	const char *paths[] = {"tests/data/synthetic-a.json"};
	char err[300];
	cr_assert_eq(report_ctx_load(&ctx, paths, 1, NULL, err, sizeof(err)), 0, "%s", err);
	void *arg[2] = {(void *)report_find(fmt), &ctx};
	cr_assert(arg[0]);
	char *s = render(render_fmt, arg);
	report_ctx_release(&ctx);
	return s;
}

Test(report, markdown_has_units_n_and_spread)
{
	char *md = report_text("md");
	cr_assert(strstr(md,
			 "| time | ms | lower | - | vm[pagesize=4k] | 100 [100, 100] (n=6, 96.9%) "
			 "| 113 [113, 113] (n=6, 96.9%) | 13 [13, 13] (6, 96.9%) |"),
		  "%s", md);
	cr_assert(strstr(md, "Decomposition (% of bare-metal time"));
	cr_assert(strstr(md, "| vm[pagesize=4k] | time (ms) | - | 6 | 13 [13, 13]% (96.9%) | "
			     "10 [10, 10]% | 3 [3, 3]% | 1 [1, 1]% | -1 [-1, -1]% |"),
		  "%s", md);
	cr_assert(strstr(md, "needs the metric's timed region"), "unavailable components say why");
	cr_assert(strstr(md, "## Validation: exit-storm"));
	cr_assert(strstr(md, "| pio | vm | 5000 [5000, 5000] | 10 |"), "ladder row");
	free(md);
}

Test(report, csv_rows_with_medians_cis_and_n)
{
	char *csv = report_text("csv");
	cr_assert(strstr(csv, "source,workload,metric,unit,better,xk,xu,x,series,bare_median,"));
	cr_assert(strstr(csv, ",bare_n,"));
	cr_assert(strstr(csv, "tests/data/"
			      "synthetic-a.json,exit-storm,time,ms,lower,,,,vm[pagesize=4k],100,"
			      "100,100,0.96875,6,113,113,113,0.96875,6,13,13,13,0.96875,6,"),
		  "%s", csv);
	cr_assert(strstr(csv, ",bare_ci_level,") && strstr(csv, ",overhead_ci_level,"));
	/* bare exits are 0: no overhead, so empty cells (never a made-up 0), pairs 6 */
	cr_assert(strstr(csv, "exit-storm,exits,count,lower,,,,vm[pagesize=4k],0,0,0,0.96875,6,"
			      "2000,2000,2000,0.96875,6,,,,,6,"),
		  "%s", csv);
	cr_assert(strstr(csv, "mem-chase,latency,ns,lower,wss,B,67108864,vm[pagesize=4k],90,"));
	/* every line has the same number of fields */
	int fields = -1;
	for (char *line = strtok(csv, "\n"); line; line = strtok(NULL, "\n")) {
		int n = 1;
		for (char *p = line; *p; p++)
			n += *p == ',';
		if (fields < 0)
			fields = n;
		cr_assert_eq(n, fields, "line: %s", line);
	}
	free(csv);
}

Test(report, html_is_self_contained_with_charts)
{
	char *html = report_text("html");
	cr_assert(strstr(html, "<svg id=\"chart-decomposition\""));
	cr_assert(strstr(html, "<svg id=\"chart-ladder\""));
	cr_assert(strstr(html, "id=\"chart-curve-mem-chase-latency\""));
	cr_assert(strstr(html, "lower is better"));
	cr_assert_null(strstr(html, "<script"), "no scripts");
	cr_assert_null(strstr(html, "src=\""), "no external resources");
	cr_assert_null(strstr(html, "href=\""), "no external resources");
	free(html);
}

/* A minimal well-formedness check: balanced tags, quoted attributes. */
static bool xml_balanced(const char *s)
{
	const char *stack[64];
	size_t lens[64], depth = 0;
	for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
		if (p[1] == '?' || p[1] == '!')
			continue;
		const char *end = strchr(p, '>');
		if (!end)
			return false;
		bool closing = p[1] == '/', selfclose = end[-1] == '/';
		const char *name = p + 1 + closing;
		size_t n = strcspn(name, " />");
		if (closing) {
			if (!depth || lens[depth - 1] != n || strncmp(stack[depth - 1], name, n))
				return false;
			depth--;
		} else if (!selfclose) {
			if (depth == 64)
				return false;
			stack[depth] = name, lens[depth++] = n;
		}
		size_t q = 0;
		for (const char *c = p; c < end; c++)
			q += *c == '"';
		if (q % 2)
			return false;
	}
	return depth == 0;
}

Test(compare, junit_and_markdown_outputs)
{
	json_t *a = load("synthetic-a.json"), *b = load("synthetic-b.json");
	char err[300];
	json_t *ab = compare_results(a, b, 5.0, err, sizeof(err));
	char *xml = render(compare_write_junit, ab);
	cr_assert(xml_balanced(xml), "%s", xml);
	cr_assert(strstr(xml, "<failure type=\"regression\" message=\"regression: slowdown "
			      "+20.00% [+20.00, +20.00]"),
		  "%s", xml);
	cr_assert(strstr(xml, "p=0.00216, n=6+6, noise 5%</failure>"), "text in the body: %s", xml);
	cr_assert(strstr(xml, "classname=\"virttax.exit-storm\" name=\"exit-storm time "
			      "vm[pagesize=2m] overhead\""),
		  "%s", xml);
	cr_assert(strstr(xml, "name=\"mem-chase latency wss=64MiB vm[pagesize=4k] overhead\""),
		  "readable curve points: %s", xml);
	cr_assert_not(xml_balanced("<a><b></a></b>"), "the checker can fail");
	char *md = render(compare_write_markdown, ab);
	cr_assert(strstr(md, "### virttax gate: **FAIL**"), "%s", md);
	cr_assert(strstr(md, "**regression**"));
	cr_assert(strstr(md, "(n=6, MAD"));
	char esc[64];
	compare_xml_escape("a<b&\"c\"", esc, sizeof(esc));
	cr_assert_str_eq(esc, "a&lt;b&amp;&quot;c&quot;");
	free(xml), free(md);
	json_decref(ab), json_decref(a), json_decref(b);
}

/* exit-storm's `exits` is 0 on bare: its overhead row has no ratio. It must say
 * n/a with the reason in every format, never "nan ... no change". */
Test(compare, undefined_ratio_is_na_with_reason)
{
	json_t *a = load("synthetic-a.json"), *b = load("synthetic-b.json");
	char err[300];
	json_t *ab = compare_results(a, b, 5.0, err, sizeof(err));
	cr_assert(ab, "%s", err);
	json_t *r = find_row(ab, "exit-storm", "exits", "vm[pagesize=2m]", "overhead");
	cr_assert_str_eq(verdict(r), "n/a");
	cr_assert_str_eq(json_string_value(json_object_get(r, "note")), "bare value is 0");
	cr_assert_null(json_object_get(r, "ratio"), "no ratio for an n/a row");
	/* the VM-side row of the same metric still compares (2000 vs 2000) */
	cr_assert_str_eq(verdict(find_row(ab, "exit-storm", "exits", "vm[pagesize=2m]", "vm")),
			 "no change");
	cr_assert_eq(json_integer_value(json_object_get(ab, "not_applicable")), 2, "4k and 2m");
	size_t nrows = json_array_size(json_object_get(ab, "rows"));
	cr_assert_eq(json_integer_value(json_object_get(ab, "compared")),
		     (json_int_t)nrows - 2 - json_integer_value(json_object_get(ab, "missing")),
		     "n/a rows are not counted as compared");
	char *tab = render(compare_print_table, ab), *xml = render(compare_write_junit, ab);
	char *md = render(compare_write_markdown, ab), *js = render(compare_write_json, ab);
	for (char *line = strtok(tab, "\n"); line; line = strtok(NULL, "\n")) {
		cr_assert_null(strstr(line, "nan"), "%s", line);
		if (strstr(line, "exit-storm exits") && strstr(line, "overhead"))
			cr_assert(strstr(line, " n/a: bare value is 0"), "%s", line);
	}
	cr_assert_null(strstr(xml, "exit-storm exits"), "a count is not judged: %s", xml);
	cr_assert(xml_balanced(xml));
	cr_assert_null(strstr(md, "nan"), "%s", md);
	cr_assert(strstr(md, "| n/a: bare value is 0 |"), "%s", md);
	cr_assert(strstr(js, "\"verdict\": \"n/a\""), "%s", js);
	cr_assert_null(strstr(js, "nan"));
	free(tab), free(xml), free(md), free(js);
	json_decref(ab), json_decref(a), json_decref(b);
}

/* A run of cpu-int "time" (ms) whose timed region took wall_ms, of which
 * run_ms on a CPU and wait_ms on a run queue, with vol voluntary context
 * switches (the thread blocked) */
static json_t *region_run(const char *side, int rep, double wall_ms, double run_ms, double wait_ms,
			  int vol)
{
	bool vm = !strcmp(side, "vm");
	json_t *regions = json_pack("{s:[{s:s,s:i,s:f,s:f,s:f,s:i}]}", "list", "label", "run", "n",
				    1, "wall_ns", wall_ms * 1e6, "run_ns", run_ms * 1e6, "wait_ns",
				    wait_ms * 1e6, "voluntary_ctxt_switches", vol);
	return json_pack("{s:s,s:s,s:s*,s:{},s:i,s:b,s:s,s:[{s:s,s:s,s:s,s:f}],s:{s:o}}", "side",
			 side, "series", vm ? "vm" : "bare", "baseline_series", vm ? "bare" : NULL,
			 "config", "rep", rep, "warmup", 0, "status", "ok", "metrics", "m", "time",
			 "u", "ms", "better", "lower", "v", wall_ms,
			 vm ? "vmm_stats" : "bare_stats", "regions", regions);
}

/* n pairs: bare on a CPU 100 ms, the VM vm_run_ms, each side's wall time
 * its CPU time plus a run-queue wait that varies from run to run (a loaded
 * host) and steal_ms on neither (an outer hypervisor); vol voluntary
 * context switches in every region */
static json_t *loaded_results(int n, double vm_run_ms, double steal_ms, int vol, unsigned seed)
{
	json_t *runs = json_array();
	for (int i = 0; i < n; i++) {
		double wb = 50 + (double)((seed * 7919u + (unsigned)i * 104729u) % 300),
		       wv = 50 + (double)((seed * 15485863u + (unsigned)i * 32452843u) % 300);
		json_array_append_new(runs,
				      region_run("bare", i, 100 + wb + steal_ms, 100, wb, vol));
		json_array_append_new(
		    runs, region_run("vm", i, vm_run_ms + wv + steal_ms, vm_run_ms, wv, vol));
	}
	return json_pack("{s:[{s:s,s:o}]}", "workloads", "name", "cpu-int", "runs", runs);
}

Test(compare, overhead_is_judged_on_cpu_when_the_host_is_loaded)
{
	char err[300];
	/* 10% more CPU time in the VM, hidden in run-queue waits of 50..350 ms
	 * and 60 ms of steal by an outer hypervisor */
	json_t *a = loaded_results(10, 101, 60, 0, 1), *a2 = loaded_results(10, 101, 60, 0, 2),
	       *b = loaded_results(10, 111.1, 60, 0, 3);
	json_t *aa = compare_results(a, a2, 5.0, err, sizeof(err)),
	       *ab = compare_results(a, b, 5.0, err, sizeof(err));
	cr_assert(aa && ab, "%s", err);
	json_t *r = find_row(ab, "cpu-int", "time", "vm", "overhead");
	cr_assert_str_eq(verdict(r), "regression");
	cr_assert(json_is_true(json_object_get(r, "on_cpu")));
	cr_assert(json_is_true(json_object_get(r, "judged")));
	cr_assert_float_eq(json_number_value(json_object_get(r, "slowdown_pct")), 10.0, 0.01);
	json_t *w = find_row(ab, "cpu-int", "time", "vm", "overhead-wall");
	cr_assert(w && json_is_false(json_object_get(w, "judged")));
	cr_assert_str_neq(verdict(w), "regression", "the waits hide it on the wall clock");
	r = find_row(aa, "cpu-int", "time", "vm", "overhead");
	cr_assert_str_eq(verdict(r), "no change");
	cr_assert(json_is_null(json_object_get(r, "reps_needed")), "decided");
	cr_assert_geq(json_integer_value(json_object_get(r, "reps_for_power")), 5,
		      "the power runs are there on a decided row too");
	cr_assert_eq(json_integer_value(json_object_get(aa, "inconclusive")), 0);
	/* the thread blocked (a voluntary switch): the wall clock is judged */
	json_t *c = loaded_results(10, 101, 0, 3, 1), *cc = compare_results(c, c, 5.0, err, 300);
	r = find_row(cc, "cpu-int", "time", "vm", "overhead");
	cr_assert(json_is_false(json_object_get(r, "on_cpu")));
	cr_assert_null(find_row(cc, "cpu-int", "time", "vm", "overhead-wall"));
	json_decref(aa), json_decref(ab), json_decref(cc);
	json_decref(a), json_decref(a2), json_decref(b), json_decref(c);
}
