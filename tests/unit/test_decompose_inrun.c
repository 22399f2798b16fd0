/*
 * In-run exit cost in the exit-storm validation (reports/decompose.c).
 *
 * Why: on a nested host an exit's cost varies by about +-10% from VM boot to
 * VM boot, so exit-storm times its own exits (selfcal_exit_ns) and the
 * validation verdict uses that per-pair cost. Values computed by hand from
 * tests/data/make_synthetic.py (synthetic-selfcal.json).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "reports/decompose.h"

static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static json_t *row_of(json_t *d, const char *series)
{
	json_t *x;
	size_t i;
	json_array_foreach(json_object_get(d, "validation"), i, x)
	{
		if (!strcmp(json_string_value(json_object_get(x, "series")), series))
			return x;
	}
	return NULL;
}

static json_t *load(void)
{
	json_error_t e;
	json_t *r = json_load_file("tests/data/synthetic-selfcal.json", 0, &e);
	cr_assert(r, "%s", e.text);
	return r;
}

/* per pair: 2000 exits x (6000 + 100 rep) ns / 100 ms = 12.0, 12.2 ... 13.0 %, median 12.5 */
Test(decompose_inrun, verdict_uses_the_in_run_cost)
{
	json_t *r = load(), *d = decompose_results(r, NULL);
	json_t *row = row_of(d, "vm[pagesize=4k]");
	cr_assert(row);
	cr_assert_str_eq(json_string_value(json_object_get(row, "model")), "in-run");
	cr_assert_float_eq(num(row, "selfcal_exit_ns"), 6250.0, 1e-9);
	cr_assert_float_eq(num(row, "predicted_inrun_pct"), 12.5, 1e-9);
	cr_assert_float_eq(num(row, "predicted_pct"), 12.5, 1e-9);
	/* against measured 13 minus scheduling 1 */
	cr_assert_float_eq(num(row, "error_inrun_pct"), (12.5 - 12.0) / 12.0 * 100, 1e-9);
	cr_assert_float_eq(num(row, "error_pct"), (12.5 - 12.0) / 12.0 * 100, 1e-9);
	cr_assert(json_is_true(json_object_get(row, "within_tol")));
	cr_assert(json_is_true(json_object_get(row, "within_tol_inrun")));
	/* the calibration (5000 ns back to back, no curve) says 10 %: -16.7 %, outside */
	cr_assert_float_eq(num(row, "predicted_b2b_pct"), 10.0, 1e-9);
	cr_assert(json_is_false(json_object_get(row, "within_tol_b2b")));
	cr_assert(json_is_null(json_object_get(row, "predicted_sp_pct")));
	/* bootstrap over pairs: the CI lies within the pair values and brackets 12.5 */
	json_t *ci = json_object_get(row, "predicted_inrun_ci95");
	double lo = json_number_value(json_array_get(ci, 0)),
	       hi = json_number_value(json_array_get(ci, 1));
	cr_assert(lo >= 12.0 - 1e-9 && lo < 12.5 && hi > 12.5 && hi <= 13.0 + 1e-9, "[%f, %f]",
		  lo, hi);
	/* 2m: measured 10 % minus scheduling 1, in-run 12.5 % -> +38.9 %, outside */
	json_t *r2 = row_of(d, "vm[pagesize=2m]");
	cr_assert_float_eq(num(r2, "error_pct"), (12.5 - 9.0) / 9.0 * 100, 1e-9);
	cr_assert(json_is_false(json_object_get(r2, "within_tol")));
	/* mediation uses it too: residual 13 - 12.5 - 3 (translation) - 1 (scheduling) */
	json_t *en;
	size_t i;
	json_array_foreach(json_object_get(d, "entries"), i, en)
	{
		if (strcmp(json_string_value(json_object_get(en, "series")), "vm[pagesize=4k]"))
			continue;
		json_t *med = json_array_get(json_object_get(en, "components"), 0);
		json_t *res = json_array_get(json_object_get(en, "components"), 3);
		cr_assert_float_eq(num(med, "value_pct"), 12.5, 1e-9);
		cr_assert_float_eq(num(res, "value_pct"), 13.0 - 12.5 - 3.0 - 1.0, 1e-9);
		json_t *ir = json_object_get(json_object_get(med, "detail"), "in_run");
		cr_assert_str_eq(json_string_value(json_object_get(ir, "kind")), "pio");
	}
	json_decref(d);
	json_decref(r);
}

/* one VM run without the metric: no in-run model, back to the calibration */
Test(decompose_inrun, missing_in_one_run_falls_back)
{
	json_t *r = load(), *x;
	size_t i;
	json_t *wl = json_array_get(json_object_get(r, "workloads"), 0);
	json_array_foreach(json_object_get(wl, "runs"), i, x)
	{
		if (strcmp(json_string_value(json_object_get(x, "series")), "vm[pagesize=4k]") ||
		    json_integer_value(json_object_get(x, "rep")) != 2)
			continue;
		json_t *ms = json_object_get(x, "metrics");
		cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ms, 3), "m")),
				 "selfcal_exit_ns");
		json_array_remove(ms, 3);
	}
	json_t *d = decompose_results(r, NULL), *row = row_of(d, "vm[pagesize=4k]");
	cr_assert_str_eq(json_string_value(json_object_get(row, "model")), "back-to-back");
	cr_assert_float_eq(num(row, "predicted_pct"), 10.0, 1e-9);
	cr_assert(json_is_null(json_object_get(row, "predicted_inrun_pct")));
	cr_assert(json_is_false(json_object_get(row, "within_tol")));
	/* the 2m series still has it in every run */
	cr_assert_str_eq(json_string_value(json_object_get(row_of(d, "vm[pagesize=2m]"), "model")),
			 "in-run");
	json_decref(d);
	json_decref(r);
}
