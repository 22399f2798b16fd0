/*
 * Decomposition arithmetic on the synthetic results in tests/data/
 * (numbers explained in tests/data/make_synthetic.py).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/calib_read.h"
#include "reports/decompose.h"
#include "reports/report.h"
#include "reports/table.h"

static json_t *load(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "tests/data/%s", name);
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);
	cr_assert(j, "%s: %s", path, e.text);
	return j;
}

static json_t *entry(json_t *dec, const char *wl, const char *series, const char *metric, double x)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(dec, "entries"), i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "workload")), wl) ||
		    strcmp(json_string_value(json_object_get(e, "series")), series) ||
		    strcmp(json_string_value(json_object_get(e, "metric")), metric))
			continue;
		if (x >= 0 && json_number_value(json_object_get(e, "x")) != x)
			continue;
		return e;
	}
	return NULL;
}

#define component report_component /* reports/report.c */

static double val(json_t *c)
{
	return json_number_value(json_object_get(c, "value_pct"));
}

Test(decompose, exit_storm_components_by_hand)
{
	json_t *r = load("synthetic-a.json");
	json_t *d = decompose_results(r, NULL);
	json_t *e4 = entry(d, "exit-storm", "vm[pagesize=4k]", "time", -1);
	json_t *e2 = entry(d, "exit-storm", "vm[pagesize=2m]", "time", -1);
	cr_assert(e4 && e2);
	cr_assert_eq(json_integer_value(json_object_get(e4, "pairs")), 6);
	cr_assert_float_eq(val(json_object_get(e4, "measured")), 13.0, 1e-9);
	cr_assert_float_eq(val(component(e4, "mediation")), 10.0, 1e-9);
	cr_assert_float_eq(val(component(e4, "translation")), 3.0, 1e-9);
	cr_assert_float_eq(val(component(e4, "scheduling")), 1.0, 1e-9);
	cr_assert_float_eq(val(component(e4, "residual")), -1.0, 1e-9);
	/* constant samples and exact costs: the CI collapses onto the value */
	json_t *ci = json_object_get(component(e4, "mediation"), "ci95_pct");
	cr_assert_float_eq(json_number_value(json_array_get(ci, 0)), 10.0, 1e-9);
	cr_assert_float_eq(json_number_value(json_array_get(ci, 1)), 10.0, 1e-9);
	/* the 2 MiB series is the translation reference */
	cr_assert(json_is_false(json_object_get(component(e2, "translation"), "available")));
	cr_assert(strstr(json_string_value(json_object_get(component(e2, "translation"), "reason")),
			 "reference"));
	cr_assert_float_eq(val(component(e2, "residual")), -1.0, 1e-9);
	/* PMU walk cycles: the reason is carried through */
	cr_assert(strstr(json_string_value(json_object_get(component(e4, "translation"), "note")),
			 "no PMU"));
	/* validation rows: predicted 10 vs measured 13 minus scheduling 1 (error -16.7 %),
	 * guest exit time 9.5 % */
	json_t *v = json_object_get(d, "validation");
	cr_assert_eq(json_array_size(v), 2);
	json_t *v0 = json_array_get(v, 0);
	cr_assert_float_eq(json_number_value(json_object_get(v0, "predicted_pct")), 10.0, 1e-9);
	cr_assert_float_eq(json_number_value(json_object_get(v0, "error_pct")),
			   (10.0 - 12.0) / 12.0 * 100, 1e-9);
	cr_assert_float_eq(json_number_value(json_object_get(v0, "measured_minus_scheduling_pct")),
			   12.0, 1e-9);
	cr_assert(json_is_null(json_object_get(v0, "exits_agree")), "no regions: no cross-check");
	cr_assert(json_is_false(json_object_get(v0, "within_tol")));
	cr_assert_float_eq(json_number_value(json_object_get(v0, "guest_exit_time_pct")), 9.5,
			   1e-9);
	json_decref(d);
	json_decref(r);
}

Test(decompose, vmm_exits_mapped_and_kernel_exits_unpriced)
{
	json_t *r = load("synthetic-a.json");
	json_t *d = decompose_results(r, NULL);
	json_t *e = entry(d, "cpu-int", "vm[pagesize=2m]", "time", -1);
	cr_assert(e);
	/* warm-up (999 ms) ignored; 100 pio x 5 us over 200 ms; the 100 kernel-handled
	 * exits of the whole run have no category: counted, never priced (not as cpuid) */
	cr_assert_float_eq(val(component(e, "mediation")), 0.25, 1e-9);
	json_t *kinds =
	    json_object_get(json_object_get(component(e, "mediation"), "detail"), "kinds");
	cr_assert_eq(json_array_size(kinds), 2);
	json_t *k1 = json_array_get(kinds, 1);
	cr_assert_str_eq(json_string_value(json_object_get(k1, "kind")), "kernel-handled");
	cr_assert(json_is_false(json_object_get(k1, "priced")));
	cr_assert_float_eq(json_number_value(json_object_get(k1, "count_median")), 100, 1e-9);
	const char *note = json_string_value(json_object_get(component(e, "mediation"), "note"));
	cr_assert(note && strstr(note, "upper bound") && strstr(note, "kernel-handled, 100 exits"),
		  "%s", note);
	json_t *det = json_object_get(component(e, "mediation"), "detail");
	cr_assert_float_eq(json_number_value(json_object_get(det, "excluded_exits_median")), 300,
			   1e-9);
	/* measured 0.5 % (jitter is the same on both sides) */
	cr_assert_float_eq(val(json_object_get(e, "measured")), 0.5, 1e-6);
	json_decref(d);
	json_decref(r);
}

Test(decompose, curve_and_throughput_metrics_say_why)
{
	json_t *r = load("synthetic-a.json");
	json_t *d = decompose_results(r, NULL);
	json_t *e = entry(d, "mem-chase", "vm[pagesize=4k]", "latency", 67108864);
	cr_assert(e);
	cr_assert_float_eq(val(json_object_get(e, "measured")), (140.0 - 90) / 90 * 100, 1e-9);
	json_t *m = component(e, "mediation");
	cr_assert(json_is_false(json_object_get(m, "available")));
	cr_assert(strstr(json_string_value(json_object_get(m, "reason")), "timed region"));
	/* without its own mediation and scheduling, translation is not a bare difference */
	json_t *t = component(e, "translation");
	cr_assert(json_is_false(json_object_get(t, "available")));
	cr_assert(strstr(json_string_value(json_object_get(t, "reason")), "cannot be separated"));
	/* higher is better: time-equivalent bare/vm - 1 */
	json_t *s = entry(d, "mem-stream", "vm[pagesize=2m]", "triad", -1);
	cr_assert(s);
	cr_assert(fabs(val(json_object_get(s, "measured")) - 11.1) < 0.05);
	json_decref(d);
	json_decref(r);
}

Test(decompose, no_calibration_says_so)
{
	json_t *r = load("synthetic-a.json");
	json_object_del(r, "calibration");
	json_t *d = decompose_results(r, NULL);
	json_t *m = component(entry(d, "exit-storm", "vm[pagesize=2m]", "time", -1), "mediation");
	cr_assert(json_is_false(json_object_get(m, "available")));
	cr_assert(strstr(json_string_value(json_object_get(m, "reason")), "calibrat"));
	json_decref(d);
	json_decref(r);
}

Test(decompose, exit_reason_mapping)
{
	char why[200];
	cr_assert_str_eq(calib_read_exit_kind("io:0x4f0", why, sizeof(why)), "pio");
	cr_assert_null(calib_read_exit_kind("io:0x3f8", why, sizeof(why)));
	cr_assert(strstr(why, "timed region"));
	cr_assert_null(calib_read_exit_kind("io:0xf4", why, sizeof(why)));
	cr_assert_str_eq(calib_read_exit_kind("mmio", why, sizeof(why)), "mmio");
	cr_assert_str_eq(calib_read_exit_kind("hlt", why, sizeof(why)), "hlt-timer");
	cr_assert_str_eq(calib_read_storm_kind("msr"), "msr-kernel-read");
}

/* Timed regions on both sides: every metric is a fraction of the bare region's time,
 * exits are those inside the region, priced per category (never with another kind's
 * cost), scheduling is the region's run-queue wait, translation is each series minus
 * its own mediation and scheduling (numbers in tests/data/make_synthetic.py). */
Test(decompose, regions_give_every_component_of_a_best_of_metric)
{
	json_t *r = load("synthetic-regions.json");
	json_t *d = decompose_results(r, NULL);
	json_t *e2 = entry(d, "mem-stream", "vm[pagesize=2m]", "add", -1);
	json_t *e4 = entry(d, "mem-stream", "vm[pagesize=4k]", "add", -1);
	cr_assert(e2 && e4);
	cr_assert_float_eq(val(json_object_get(e2, "measured")), 20.0, 1e-6);
	cr_assert_float_eq(val(component(e2, "mediation")), 2.5, 1e-9);
	cr_assert_float_eq(val(component(e2, "scheduling")), 10.0, 1e-9);
	cr_assert_float_eq(val(component(e2, "residual")), 7.5, 1e-6);
	cr_assert(json_is_false(json_object_get(component(e2, "translation"), "available")));
	json_t *det = json_object_get(component(e2, "mediation"), "detail");
	json_t *kinds = json_object_get(det, "kinds"), *k;
	size_t i;
	bool other = false;
	json_array_foreach(
	    kinds, i, k) if (!strcmp(json_string_value(json_object_get(k, "kind")), "kernel-other"))
	{
		other = true;
		cr_assert(json_is_false(json_object_get(k, "priced")));
		cr_assert_float_eq(json_number_value(json_object_get(k, "count_median")), 5, 1e-9);
	}
	cr_assert(other, "the exits of no category are listed, with their count");
	cr_assert_str_eq(
	    json_string_value(json_object_get(det, "kinds")
				  ? json_object_get(json_array_get(kinds, 0), "count_unit")
				  : NULL),
	    "exits per timed interval");
	/* the 4k series: 3 page faults at pt-churn - pt-rewrite, translation 9.94 % */
	cr_assert_float_eq(val(component(e4, "mediation")), 2.56, 1e-9);
	cr_assert_float_eq(val(component(e4, "translation")), 9.94, 1e-6);
	cr_assert_float_eq(val(component(e4, "residual")), 7.5, 1e-6);
	const char *sn = json_string_value(json_object_get(component(e2, "scheduling"), "note"));
	cr_assert(sn && strstr(sn, "timed region 'add'") && strstr(sn, "shortest"), "%s", sn);
	json_decref(d);
	json_decref(r);
}

/* `virttax run` prints the decomposition after the overhead table */
Test(decompose, run_prints_the_decomposition_table)
{
	json_t *r = load("synthetic-regions.json");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	table_decompose_print(f, r);
	fclose(f);
	cr_assert(strstr(buf, "mediation %") && strstr(buf, "residual %") &&
		      strstr(buf, "scheduling %") && strstr(buf, "translation %"),
		  "%s", buf);
	/* mem-stream add, 2m series: measured 20, mediation 2.5, scheduling 10, residual 7.5 */
	cr_assert(strstr(buf, "+2.50 [+2.50, +2.50]") && strstr(buf, "+10.00 [+10.00, +10.00]"),
		  "%s", buf);
	cr_assert(strstr(buf, "n/a (1): this series is the reference"), "%s", buf);
	/* the 7.5-point residual is beyond +-5: its measured cause is named (the
	 * synthetic VM thread ran 7.5 points of bare time longer on the CPU) */
	cr_assert(strstr(buf, "+7.50 [+7.50, +7.50] (r1)"), "%s", buf);
	cr_assert(strstr(buf,
			 "(r1), measured cause: CPU time: the vCPU thread's CPU time differed from "
			 "the bare thread's by +7.5 pp"),
		  "%s", buf);
	free(buf);
	json_decref(r);
}

/* An interval whose run + wait exceeds its wall time was not resolved by the
 * scheduler's accounting: the residual's cause says so, not "CPU time". */
Test(decompose, unresolved_intervals_are_named_as_the_residuals_cause)
{
	json_t *r = load("synthetic-regions.json"), *w, *run, *g;
	size_t i, j, k;
	json_array_foreach(json_object_get(r, "workloads"), i, w)
	    json_array_foreach(json_object_get(w, "runs"), j, run) json_array_foreach(
		json_object_get(json_object_get(json_object_get(run, "vmm_stats"), "regions"),
				"list"),
		k, g)
	{
		json_t *src[] = {g, json_object_get(g, "shortest")};
		for (int s = 0; s < 2; s++)
			if (json_is_object(src[s]))
				json_object_set_new(src[s], "run_ns",
						    json_real(2 * json_number_value(json_object_get(
								      src[s], "wall_ns"))));
	}
	json_t *d = decompose_results(r, NULL);
	json_t *e2 = entry(d, "mem-stream", "vm[pagesize=2m]", "add", -1);
	cr_assert(e2);
	json_t *det = json_object_get(component(e2, "residual"), "detail");
	const char *cause = json_string_value(json_object_get(det, "cause"));
	cr_assert(cause && strstr(cause, "unresolved accounting"), "%s", cause ? cause : "(none)");
	cr_assert_gt(json_integer_value(json_object_get(det, "unresolved_pairs")), 0);
	json_decref(d);
	json_decref(r);
}
