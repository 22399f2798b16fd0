/*
 * The spacing curve: records -> calibration points (harness/calib.c), the
 * log-gap interpolation (reports/calib_read.c) and the spacing-aware
 * mediation and validation rows (reports/decompose.c), all by hand.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "core/calib.h"
#include "core/calib_read.h"
#include "reports/decompose.h"

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	cr_assert(j, "%s", e.text);
	return j;
}

static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

Test(calib_spacing, record_to_point_and_sorted_into_the_kind)
{
	/* tsc 1 GHz, 10 iters: (3000-1000)/10 = 200 ns, (3100-1000)/10 = 210, (2900-1000)/10 = 190;
	 * the gap-alone round is 1000/10 = 100 ns */
	json_t *recs =
	    parse("[{\"kind\":\"pio\",\"ok\":true,\"iters\":4,\"ticks\":[400,400,400]},"
		  "{\"kind\":\"pio\",\"ok\":true,\"spacing\":true,\"gap_units\":5000,\"iters\":10,"
		  "\"ticks\":[3000,3100,2900],\"base_ticks\":[1000,1000,1000]},"
		  "{\"kind\":\"pio\",\"ok\":true,\"spacing\":true,\"gap_units\":0,\"iters\":10,"
		  "\"ticks\":[500,500,500],\"base_ticks\":[0,0,0]}]");
	const char *why;
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(calib_record_check(json_array_get(recs, i), &why), 0);
	json_t *side = json_object();
	cr_assert_eq(calib_add_records(side, recs, 1e9, NULL, 0), 0);
	json_t *pio = json_object_get(side, "pio");
	cr_assert_float_eq(num(pio, "ns"), 100.0, 1e-9); /* the back-to-back record */
	json_t *sp = json_object_get(pio, "spacing");
	cr_assert_eq(json_array_size(sp), 2);
	json_t *p0 = json_array_get(sp, 0), *p1 = json_array_get(sp, 1);
	cr_assert_float_eq(num(p0, "gap_ns"), 0.0, 1e-9); /* sorted by gap */
	cr_assert_float_eq(num(p0, "ns"), 50.0, 1e-9);
	cr_assert_float_eq(num(p1, "gap_ns"), 100.0, 1e-9);
	cr_assert_float_eq(num(p1, "ns"), 200.0, 1e-9);
	cr_assert_float_eq(json_number_value(json_array_get(json_object_get(p1, "ci95"), 0)), 190.0,
			   1e-9);
	cr_assert_float_eq(json_number_value(json_array_get(json_object_get(p1, "ci95"), 1)), 210.0,
			   1e-9);
	cr_assert_eq(json_integer_value(json_object_get(p1, "n")), 3);
	cr_assert_eq(json_integer_value(json_object_get(p1, "gap_units")), 5000);
	json_decref(side);
	json_decref(recs);
}

Test(calib_spacing, bad_records_and_points_rejected)
{
	const char *why;
	json_t *r =
	    parse("{\"kind\":\"pio\",\"ok\":true,\"spacing\":true,\"gap_units\":1,\"iters\":1,"
		  "\"ticks\":[1,2],\"base_ticks\":[1]}");
	cr_assert_eq(calib_record_check(r, &why), -EINVAL);
	cr_assert(strstr(why, "base_ticks"));
	json_decref(r);
	json_t *c = parse("{\"version\":1,\"bare\":{},\"vm\":{\"pio\":{\"available\":true,\"ns\":1,"
			  "\"ci95\":[1,1],\"n\":3,\"spacing\":[{\"gap_ns\":1,\"ns\":2}]}}}");
	char err[200];
	cr_assert_eq(calib_validate(c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "vm.pio.spacing[0]"), "%s", err);
	json_decref(c);
}

static struct calib_spacing curve(void)
{
	struct calib_spacing sp = {.n = 3,
				   .gap_ns = {0, 1000, 100000},
				   .ns = {20000, 22000, 30000},
				   .ci_lo = {19000, 21000, 28000},
				   .ci_hi = {21000, 23000, 32000},
				   .cnt = {11, 11, 7}};
	return sp;
}

Test(calib_spacing, interpolation_log_gap_linear_cost_clamped)
{
	struct calib_spacing sp = curve();
	struct calib_cost c;
	/* exactly on a point */
	cr_assert_eq(calib_spacing_at(&sp, 1000, &c), 0);
	cr_assert_float_eq(c.ns, 22000, 1e-6);
	/* 10 us is half way between 1 us and 100 us on a log axis: (22000+30000)/2 */
	cr_assert_eq(calib_spacing_at(&sp, 10000, &c), 0);
	cr_assert_float_eq(c.ns, 26000, 1e-6);
	cr_assert_float_eq(c.ci_lo, 24500, 1e-6);
	cr_assert_float_eq(c.ci_hi, 27500, 1e-6);
	/* 50 us: w = ln(50)/ln(100) = 0.849485 -> 22000 + 0.849485 * 8000 */
	cr_assert_eq(calib_spacing_at(&sp, 50000, &c), 0);
	cr_assert_float_eq(c.ns, 22000 + log(50.0) / log(100.0) * 8000, 1e-6);
	cr_assert_eq(c.n, 7);
	/* between the 0 point (counted as 1 ns) and 1 us: 31.6 ns = 10^1.5 is half way */
	cr_assert_eq(calib_spacing_at(&sp, pow(10, 1.5), &c), 0);
	cr_assert_float_eq(c.ns, 21000, 1e-6);
	/* clamped outside the curve */
	cr_assert_eq(calib_spacing_at(&sp, 1e7, &c), 0);
	cr_assert_float_eq(c.ns, 30000, 1e-9);
	cr_assert_float_eq(c.ci_hi, 32000, 1e-9);
	cr_assert_eq(calib_spacing_at(&sp, 0, &c), 0);
	cr_assert_float_eq(c.ns, 20000, 1e-9);
	cr_assert_eq(calib_spacing_at(&sp, NAN, &c), -EINVAL);
	struct calib_spacing empty = {0};
	cr_assert_eq(calib_spacing_at(&empty, 10, &c), -EINVAL);
}

Test(calib_spacing, lookup_reads_the_vm_kind_curve)
{
	json_t *c =
	    parse("{\"version\":1,\"bare\":{},\"vm\":{\"pio\":{\"available\":true,\"ns\":1,"
		  "\"ci95\":[1,1],\"n\":3,\"spacing\":[{\"gap_ns\":100,\"ns\":5,\"ci95\":[4,6],"
		  "\"n\":7},{\"gap_ns\":10,\"ns\":3,\"ci95\":[2,4],\"n\":7}]},"
		  "\"cpuid\":{\"available\":true,\"ns\":1,\"ci95\":[1,1],\"n\":3}}}");
	struct calib_spacing sp;
	cr_assert_eq(calib_read_spacing(c, "pio", &sp), 0);
	cr_assert_eq(sp.n, 2);
	cr_assert_float_eq(sp.gap_ns[0], 10, 1e-9); /* sorted */
	cr_assert_float_eq(sp.ns[1], 5, 1e-9);
	cr_assert_eq(calib_read_spacing(c, "cpuid", &sp), -ENOENT);
	/* the kind itself is still found with its back-to-back cost */
	struct calib_cost cost;
	char why[200];
	cr_assert_eq(calib_read_lookup(c, "pio", &cost, why, sizeof(why)), 0);
	cr_assert_float_eq(cost.ns, 1, 1e-9);
	json_decref(c);
}

/* synthetic-a: exit-storm bare 100 ms, 2000 pio exits at 5000 ns back to back,
 * measured 13 % (4k) / 10 % (2m). With a curve 4000 ns at 10 us and 8000 ns at
 * 100 us, the gap 100 ms / 2000 = 50 us gives w = ln 5 / ln 10 and
 * 4000 + w * 4000 = 6795.88 ns -> 2000 * 6795.88 / 1e8 = 13.59 %. */
Test(calib_spacing, decompose_uses_the_curve_at_the_run_gap)
{
	json_error_t e;
	json_t *r = json_load_file("tests/data/synthetic-a.json", 0, &e);
	cr_assert(r, "%s", e.text);
	json_t *cal = parse(
	    "{\"version\":1,\"bare\":{},\"vm\":{\"pio\":{\"available\":true,\"ns\":5000,"
	    "\"ci95\":[5000,5000],\"n\":10,\"spacing\":[{\"gap_ns\":10000,\"ns\":4000,"
	    "\"ci95\":[3800,4200],\"n\":11},{\"gap_ns\":100000,\"ns\":8000,\"ci95\":[7600,8400],"
	    "\"n\":11}]}}}");
	json_t *d = decompose_results(r, cal);
	json_t *v = json_object_get(d, "validation"), *row = NULL, *x;
	size_t i;
	json_array_foreach(v, i, x) if (!strcmp(json_string_value(json_object_get(x, "series")),
						"vm[pagesize=4k]")) row = x;
	cr_assert(row);
	double w = log(5.0) / log(10.0), cost = 4000 + w * 4000, pred = 2000 * cost / 1e8 * 100;
	cr_assert_str_eq(json_string_value(json_object_get(row, "model")), "spacing-aware");
	cr_assert_float_eq(num(row, "predicted_pct"), pred, 1e-6);
	cr_assert_float_eq(num(row, "predicted_b2b_pct"), 10.0, 1e-9);
	/* compared with measured 13 minus scheduling 1 (docs/METHOD.md) */
	cr_assert_float_eq(num(row, "error_pct"), (pred - 12.0) / 12.0 * 100, 1e-6);
	cr_assert_float_eq(num(row, "error_b2b_pct"), (10.0 - 12.0) / 12.0 * 100, 1e-9);
	cr_assert(json_is_false(json_object_get(row, "within_tol")), "+13.3 %%");
	cr_assert(json_is_false(json_object_get(row, "within_tol_b2b")));
	cr_assert_float_eq(num(row, "gap_us"), 50.0, 1e-9);
	/* CI: the interpolated CI [6456.1, 7135.7] ns as +-1.96 sigma -> ~[12.91, 14.27] % */
	json_t *ci = json_object_get(row, "predicted_ci95");
	double lo = 2000 * (3800 + w * 3800) / 1e6, hi = 2000 * (4200 + w * 4200) / 1e6;
	cr_assert(fabs(json_number_value(json_array_get(ci, 0)) - lo) < 0.15, "lo %f vs %f",
		  json_number_value(json_array_get(ci, 0)), lo);
	cr_assert(fabs(json_number_value(json_array_get(ci, 1)) - hi) < 0.15, "hi %f vs %f",
		  json_number_value(json_array_get(ci, 1)), hi);
	/* residual follows the spacing-aware mediation: 13 - 13.59 - 3 (translation) - 1 */
	json_t *entries = json_object_get(d, "entries"), *en;
	json_array_foreach(entries, i, en)
	{
		if (strcmp(json_string_value(json_object_get(en, "series")), "vm[pagesize=4k]") ||
		    strcmp(json_string_value(json_object_get(en, "workload")), "exit-storm"))
			continue;
		json_t *res = json_array_get(json_object_get(en, "components"), 3);
		cr_assert_float_eq(num(res, "value_pct"), 13.0 - pred - 3.0 - 1.0, 1e-6);
	}
	json_decref(d);
	json_decref(cal);
	json_decref(r);
}
