/*
 * Unit tests of the calibration statistics, calib record validation, the
 * boundary ladder and the calibration.json round trip (harness/calib.c).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/calib.h"
#include "harness/plan.h"

Test(calib, median_and_ci_order_statistics)
{
	/* n = 11: the 95% CI of the median is [x(2), x(10)] (coverage 0.988) */
	double x[11] = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5, 100};
	struct calib_stat s;
	cr_assert_eq(calib_stat_compute(x, 11, &s), 0);
	cr_assert_float_eq(s.median, 6.0, 1e-12);
	cr_assert_float_eq(s.lo, 2.0, 1e-12);
	cr_assert_float_eq(s.hi, 10.0, 1e-12);
	cr_assert_float_eq(s.coverage, 1.0 - 2.0 * 12.0 / 2048.0, 1e-9);
	cr_assert_eq(s.n, 11);
}

Test(calib, small_n_uses_min_max_with_exact_coverage)
{
	double x[4] = {4, 3, 2, 1};
	struct calib_stat s;
	cr_assert_eq(calib_stat_compute(x, 4, &s), 0);
	cr_assert_float_eq(s.median, 2.5, 1e-12);
	cr_assert_float_eq(s.lo, 1.0, 1e-12);
	cr_assert_float_eq(s.hi, 4.0, 1e-12);
	cr_assert_float_eq(s.coverage, 1.0 - 2.0 / 16.0, 1e-12);
	cr_assert_eq(calib_stat_compute(x, 0, &s), -EINVAL);
}

Test(calib, seven_rounds_ci)
{
	double x[7] = {7, 6, 5, 4, 3, 2, 1};
	struct calib_stat s;
	calib_stat_compute(x, 7, &s);
	/* k = 1 is the only rank with coverage >= 95% for n = 7 (0.984) */
	cr_assert_float_eq(s.lo, 1.0, 1e-12);
	cr_assert_float_eq(s.hi, 7.0, 1e-12);
	cr_assert(s.coverage >= 0.95);
}

static json_t *rec(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	cr_assert_not_null(j, "%s", e.text);
	return j;
}

Test(calib, record_check)
{
	const char *why = NULL;
	json_t *good = rec(
	    "{\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"iters\":10,\"ticks\":[100,200,300]}");
	json_t *unav = rec("{\"t\":\"calib\",\"kind\":\"ipi\",\"ok\":false,\"reason\":\"no AP\"}");
	json_t *noreason = rec("{\"t\":\"calib\",\"kind\":\"ipi\",\"ok\":false}");
	json_t *badticks =
	    rec("{\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"iters\":10,\"ticks\":[-1]}");
	json_t *noiters =
	    rec("{\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"iters\":0,\"ticks\":[1]}");
	cr_assert_eq(calib_record_check(good, &why), 0);
	cr_assert_eq(calib_record_check(unav, &why), 0);
	cr_assert_eq(calib_record_check(noreason, &why), -EINVAL);
	cr_assert_eq(calib_record_check(badticks, &why), -EINVAL);
	cr_assert_eq(calib_record_check(noiters, &why), -EINVAL);
	cr_assert_not_null(why);
	json_decref(good), json_decref(unav), json_decref(noreason), json_decref(badticks),
	    json_decref(noiters);
}

Test(calib, kind_json_converts_ticks_to_ns)
{
	/* 1 GHz TSC, 10 ops per round: 100/200/300 ticks -> 10/20/30 ns */
	json_t *r =
	    rec("{\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"how\":\"outl\",\"iters\":10,"
		"\"ticks\":[300,100,200]}");
	json_t *k = calib_kind_json(r, 1e9);
	cr_assert(json_is_true(json_object_get(k, "available")));
	cr_assert_float_eq(json_number_value(json_object_get(k, "ns")), 20.0, 1e-9);
	cr_assert_float_eq(json_number_value(json_object_get(k, "cycles")), 20.0, 1e-9);
	cr_assert_eq(json_integer_value(json_object_get(k, "n")), 3);
	cr_assert_eq(json_integer_value(json_object_get(k, "ops")), 30);
	json_t *ci = json_object_get(k, "ci95");
	cr_assert_float_eq(json_number_value(json_array_get(ci, 0)), 10.0, 1e-9);
	cr_assert_float_eq(json_number_value(json_array_get(ci, 1)), 30.0, 1e-9);
	json_decref(k);
	json_decref(r);
}

static json_t *sample_calibration(void)
{
	json_t *bare = json_object(), *vm = json_object();
	json_t *recs = rec(
	    "[{\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"iters\":4,\"ticks\":[100000,"
	    "100400,99600]},{\"t\":\"calib\",\"kind\":\"ipi\",\"ok\":false,\"reason\":\"no AP\"}]");
	json_t *hrecs =
	    rec("[{\"t\":\"calib\",\"kind\":\"syscall\",\"ok\":true,\"iters\":1000,"
		"\"ticks\":[100000,100000,100000]},{\"t\":\"calib\",\"kind\":\"function-call\","
		"\"ok\":true,\"iters\":1000,\"ticks\":[2000,2000,2000]}]");
	cr_assert_eq(calib_add_records(vm, recs, 1e9, NULL, 0), 0);
	cr_assert_eq(calib_add_records(bare, hrecs, 1e9, NULL, 0), 0);
	calib_mark_missing(vm, "pio,cpuid", "the run failed");
	json_t *c =
	    json_pack("{s:i,s:o,s:o}", "version", CALIB_SCHEMA_VERSION, "bare", bare, "vm", vm);
	json_object_set_new(c, "ladder", calib_build_ladder(c));
	json_decref(recs);
	json_decref(hrecs);
	return c;
}

Test(calib, ladder_and_missing_kinds)
{
	json_t *c = sample_calibration();
	json_t *vm = json_object_get(c, "vm");
	/* pio came from the record; cpuid was missing and gets the reason */
	cr_assert(json_is_true(json_object_get(json_object_get(vm, "pio"), "available")));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(vm, "cpuid"), "reason")),
			 "the run failed");
	json_t *ladder = json_object_get(c, "ladder");
	cr_assert_eq(json_array_size(ladder), 3); /* function call, syscall, pio; not ipi */
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ladder, 0), "kind")),
			 "function-call");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ladder, 2), "kind")),
			 "pio");
	cr_assert_float_eq(calib_cost_ns(c, "vm", "pio"), 25000.0, 1e-6);
	cr_assert_float_eq(calib_cost_ns(c, "vm", "ipi"), -1.0, 1e-12);
	json_decref(c);
}

Test(calib, file_round_trip_and_bad_files)
{
	char path[] = "/tmp/vtx-calib-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	json_t *c = sample_calibration(), *back = NULL;
	char err[256];
	cr_assert_eq(calib_write(path, c), 0);
	cr_assert_eq(calib_load(path, &back, err, sizeof(err)), 0, "%s", err);
	cr_assert(json_equal(c, back));
	json_decref(back);
	/* wrong version */
	json_object_set_new(c, "version", json_integer(99));
	calib_write(path, c);
	cr_assert_eq(calib_load(path, &back, err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "version 99"));
	/* an available kind without a CI */
	json_object_set_new(c, "version", json_integer(CALIB_SCHEMA_VERSION));
	json_object_del(json_object_get(json_object_get(c, "vm"), "pio"), "ci95");
	calib_write(path, c);
	cr_assert_eq(calib_load(path, &back, err, sizeof(err)), -EINVAL);
	/* not JSON */
	FILE *f = fopen(path, "w");
	fputs("{nope", f);
	fclose(f);
	cr_assert_eq(calib_load(path, &back, err, sizeof(err)), -EINVAL);
	cr_assert_null(back);
	unlink(path);
	json_decref(c);
}

Test(calib, calibration_flag_is_a_plan_option)
{
	char err[300];
	struct plan p;
	char *argv[] = {"run", "--quick", "--calibration", "c.json", "--reps", "3", NULL};
	cr_assert_eq(plan_parse(&p, 6, argv, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(p.calibration_path, "c.json");
	cr_assert_eq(p.reps, 3);
	cr_assert(p.given & PLAN_F_CALIBRATION);
	plan_release(&p);
	char *bad[] = {"run", "--calibration", NULL};
	cr_assert_eq(plan_parse(&p, 2, bad, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "--calibration"), "%s", err);
	plan_release(&p);
}

/* several VMMs and the floor: ratios of medians over the rounds, none for a
 * kind one side lacks, and the comparison table */
Test(calib, ratios_to_the_floor_and_to_the_first_vmm)
{
	json_error_t e;
	json_t *c = json_loads(
	    "{\"vmm\":\"vmm-lite\",\"floor\":{\"pio\":{\"available\":true,\"ns\":10,"
	    "\"samples_ns\":[9,10,11]}},"
	    "\"vmms\":{\"vmm-lite\":{\"pio\":{\"available\":true,\"ns\":10,\"how\":\"outl\","
	    "\"samples_ns\":[10,10,10]},\"mmio\":{\"available\":false,\"reason\":\"no page\"},"
	    "\"cpuid\":{\"available\":true,\"ns\":5,\"samples_ns\":[5,5,5]}},"
	    "\"qemu\":{\"pio\":{\"available\":true,\"ns\":30,\"samples_ns\":[30,30,30]},"
	    "\"mmio\":{\"available\":true,\"ns\":40,\"samples_ns\":[40,40,40]},"
	    "\"cpuid\":{\"available\":true,\"ns\":5,\"samples_ns\":[4,5,6]}}}}",
	    0, &e);
	cr_assert(c, "%s", e.text);
	json_t *r = calib_build_ratios(c);
	json_t *lf = json_object_get(json_object_get(r, "to_floor"), "vmm-lite");
	json_t *qf = json_object_get(json_object_get(r, "to_floor"), "qemu");
	json_t *qv = json_object_get(json_object_get(r, "to_first"), "qemu");
	cr_assert_float_eq(json_number_value(json_object_get(json_object_get(lf, "pio"), "value")),
			   1.0, 1e-9);
	cr_assert_float_eq(json_number_value(json_object_get(json_object_get(qf, "pio"), "value")),
			   3.0, 1e-9);
	/* 3 rounds each: the interval is [min, max] of the 9 ratios 30/{9,10,11} at its
	 * real level 1 - 2/C(6,3) = 90%, below the nominal 95% */
	json_t *qp = json_object_get(qf, "pio"), *ci = json_object_get(qp, "ci");
	cr_assert_float_eq(json_number_value(json_array_get(ci, 0)), 30.0 / 11, 1e-9);
	cr_assert_float_eq(json_number_value(json_array_get(ci, 1)), 30.0 / 9, 1e-9,
			   "the interval comes from the floor's spread");
	cr_assert_float_eq(json_number_value(json_object_get(qp, "ci_level")), 0.9, 1e-12);
	cr_assert(json_is_true(json_object_get(qp, "underpowered")));
	cr_assert_float_eq(json_number_value(json_object_get(json_object_get(qv, "pio"), "value")),
			   3.0, 1e-9);
	cr_assert_null(json_object_get(qv, "mmio"), "vmm-lite's mmio is unavailable: no ratio");
	cr_assert_null(json_object_get(lf, "cpuid"), "the floor has no cpuid: no ratio");
	cr_assert_null(json_object_get(json_object_get(r, "to_first"), "vmm-lite"));
	json_object_set_new(c, "ratios", r);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	calib_print_compare(f, c);
	fclose(f);
	cr_assert(strstr(buf, "qemu/vmm-lite"), "%s", buf);
	cr_assert(strstr(buf, "3.00 [3.00, 3.00]"), "%s", buf);
	cr_assert(strstr(buf, "unavailable"), "%s", buf);
	cr_assert(strstr(buf, "vmm-lite  mmio              unavailable: no page"), "%s", buf);
	free(buf);
	json_decref(c);
}

/* Pricing by the thread's CPU time in the kind's region: used when the
 * rounds are the region and the thread never blocked, refused otherwise. */
Test(calib, price_cpu_uses_region_cpu_time_when_the_rounds_are_the_region)
{
	/* 3 rounds of 10 ops, 100/200/300 ns per op: 6000 ns timed, median 200 */
	json_t *side = rec("{\"pio\":{\"available\":true,\"ns\":200,\"ci95\":[100,300],"
			   "\"iters\":10,\"ops\":30,\"samples_ns\":[100,200,300]},"
			   "\"hlt-timer\":{\"available\":true,\"ns\":200,\"ci95\":[100,300],"
			   "\"iters\":10,\"ops\":30,\"samples_ns\":[100,200,300]},"
			   "\"host-irq\":{\"available\":true,\"ns\":200,\"ci95\":[100,300],"
			   "\"iters\":10,\"ops\":30,\"samples_ns\":[100,200,300]},"
			   "\"cpuid\":{\"available\":true,\"ns\":50,\"ci95\":[40,60],"
			   "\"iters\":1,\"ops\":3,\"samples_ns\":[50,50,50]}}");
	json_t *regions =
	    rec("{\"list\":[{\"label\":\"calib.pio\",\"n\":1,\"wall_ns\":6000,\"run_ns\":3000,"
		"\"wait_ns\":3000,\"voluntary_ctxt_switches\":0},"
		"{\"label\":\"calib.hlt-timer\",\"n\":1,\"wall_ns\":6000,\"run_ns\":1000,"
		"\"wait_ns\":0,\"voluntary_ctxt_switches\":30},"
		"{\"label\":\"calib.host-irq\",\"n\":1,\"wall_ns\":600000,\"run_ns\":600000,"
		"\"wait_ns\":0,\"voluntary_ctxt_switches\":0}]}");
	calib_price_cpu(side, regions);
	json_t *pio = json_object_get(side, "pio");
	cr_assert_float_eq(json_number_value(json_object_get(pio, "ns")), 100.0, 1e-9);
	cr_assert_float_eq(json_number_value(json_object_get(pio, "ns_stopwatch")), 200.0, 1e-9);
	cr_assert_float_eq(json_number_value(json_array_get(json_object_get(pio, "ci95"), 0)), 50.0,
			   1e-9);
	cr_assert_float_eq(json_number_value(json_array_get(json_object_get(pio, "ci95"), 1)),
			   150.0, 1e-9);
	cr_assert_float_eq(
	    json_number_value(json_object_get(json_object_get(pio, "cpu"), "wait_ns_per_op")),
	    100.0, 1e-9);
	cr_assert_str_eq(json_string_value(json_object_get(pio, "priced_by")), "cpu");
	/* blocked (hlt) and not covered (host-irq's gaps): the stopwatch stays */
	const char *kept[] = {"hlt-timer", "host-irq"};
	for (int i = 0; i < 2; i++) {
		json_t *k = json_object_get(side, kept[i]);
		cr_assert_float_eq(json_number_value(json_object_get(k, "ns")), 200.0, 1e-9, "%s",
				   kept[i]);
		cr_assert(json_is_false(json_object_get(json_object_get(k, "cpu"), "used")), "%s",
			  kept[i]);
		cr_assert_null(json_object_get(k, "ns_stopwatch"));
	}
	/* no region: untouched */
	cr_assert_float_eq(json_number_value(json_object_get(json_object_get(side, "cpuid"), "ns")),
			   50.0, 1e-9);
	cr_assert_null(json_object_get(json_object_get(side, "cpuid"), "cpu"));
	json_decref(side);
	json_decref(regions);
}
