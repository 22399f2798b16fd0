/*
 * The components outside the pair sum (reports/decompose_extra.c) on
 * synthetic results whose expected values were computed by hand
 * (tests/data/synthetic-mp.json, synthetic-ct-{on,off}.json).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "reports/decompose.h"

static json_t *load(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "tests/data/%s", name);
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);
	cr_assert(j, "%s: %s", path, e.text);
	return j;
}

static double d(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static json_t *row(json_t *rows, const char *key, const char *val)
{
	json_t *r;
	size_t i;
	json_array_foreach(
	    rows, i, r) if (!strcmp(json_string_value(json_object_get(r, key)), val)) return r;
	cr_assert_fail("no row with %s=%s", key, val);
	return NULL;
}

/* bare: 150/100, 165/110, 150/120 -> +50, +50, +25 %: median 50; 4 major faults each.
 * vm: 300/200, 500/200 -> +50, +150: median 100; rep 2 OOM-killed. */
Test(decompose_extra, memory_pressure_by_hand)
{
	json_t *r = load("synthetic-mp.json");
	json_t *rows = decompose_mem_pressure(r);
	cr_assert_eq(json_array_size(rows), 2); /* blk-rand has no limited series */
	json_t *b = row(rows, "series", "bare[mem-limit=32M]");
	cr_assert_float_eq(d(b, "slowdown_pct"), 50.0, 1e-9);
	cr_assert_float_eq(d(b, "major_faults_median"), 4.0, 1e-9);
	cr_assert_float_eq(d(b, "refaults_median"), 4.0, 1e-9);
	cr_assert_eq(json_integer_value(json_object_get(b, "oom_kills")), 0);
	json_t *v = row(rows, "series", "vm[mem-limit=32M]");
	cr_assert_float_eq(d(v, "slowdown_pct"), 100.0, 1e-9);
	cr_assert_eq(json_integer_value(json_object_get(v, "ok_pairs")), 2);
	cr_assert_eq(json_integer_value(json_object_get(v, "runs")), 3);
	cr_assert_eq(json_integer_value(json_object_get(v, "oom_kills")), 1);
	cr_assert_float_eq(d(v, "major_faults_median"), 20.0, 1e-9);
	json_decref(rows);
	json_decref(r);
}

/* exits per I/O 2.0, 2.5, 3.0 -> 2.5; x mmio 25000 ns [24000, 26000] */
Test(decompose_extra, io_crossings_by_hand)
{
	json_t *r = load("synthetic-mp.json");
	json_t *rows = decompose_io(r, json_object_get(r, "calibration"));
	cr_assert_eq(json_array_size(rows), 1);
	json_t *x = json_array_get(rows, 0);
	cr_assert_str_eq(json_string_value(json_object_get(x, "kind")), "mmio");
	cr_assert_float_eq(d(x, "exits_per_io"), 2.5, 1e-9);
	cr_assert_float_eq(d(x, "notifications_per_io"), 2.0, 1e-9);
	cr_assert_float_eq(d(x, "interrupts_per_io"), 1.0, 1e-9);
	cr_assert_float_eq(d(x, "backend_cpu_ns_per_io"), 50.0, 1e-9);
	cr_assert_float_eq(d(x, "crossing_ns_per_io"), 62500.0, 1e-6);
	json_t *ci = json_object_get(x, "crossing_ci95");
	cr_assert_float_eq(json_number_value(json_array_get(ci, 0)), 60000.0, 1e-6);
	cr_assert_float_eq(json_number_value(json_array_get(ci, 1)), 65000.0, 1e-6);
	json_decref(rows);
	/* without a calibration the crossing is n/a with a reason, never 0 */
	rows = decompose_io(r, NULL);
	x = json_array_get(rows, 0);
	cr_assert(json_is_null(json_object_get(x, "crossing_ns_per_io")));
	cr_assert(json_is_string(json_object_get(x, "reason")));
	json_decref(rows);
	json_decref(r);
}

/* bare: median 150 with vs 100 without -> +50 %; vm: 170 vs 120 -> +41.67 % */
Test(decompose_extra, cotenant_is_a_sharing_cost)
{
	json_t *src[2] = {load("synthetic-ct-off.json"), load("synthetic-ct-on.json")};
	json_t *rows = decompose_sharing(src, 2);
	cr_assert_eq(json_array_size(rows), 2);
	json_t *b = row(rows, "side", "bare"), *v = row(rows, "side", "vm");
	cr_assert_float_eq(d(b, "slowdown_pct"), 50.0, 1e-9);
	cr_assert_float_eq(d(v, "slowdown_pct"), (170.0 / 120.0 - 1) * 100, 1e-9);
	cr_assert_str_eq(json_string_value(json_object_get(v, "label")),
			 "sharing cost, not a virtualization cost");
	json_decref(rows);
	/* a file without the workload is skipped as the reference */
	json_t *three[3] = {load("synthetic-mp.json"), src[0], src[1]};
	rows = decompose_sharing(three, 3);
	cr_assert_eq(json_array_size(rows), 2);
	json_decref(rows);
	json_decref(three[0]);
	/* one source alone has nothing to compare with */
	rows = decompose_sharing(src + 1, 1);
	cr_assert_eq(json_array_size(rows), 0);
	json_decref(rows);
	json_decref(src[0]);
	json_decref(src[1]);
}
