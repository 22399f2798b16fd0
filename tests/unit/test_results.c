/*
 * Unit tests of results.json: run records from protocol output, the summary
 * (pairing, failed runs excluded, curve points, several VM series), the
 * atomic write and a jansson round trip.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/plan.h"
#include "core/results.h"
#include "harness/run_record.h"
#include "reports/table.h"
#include "virttax/protocol.h"

/* A finished run whose stdout carried one scalar and one curve point. */
static json_t *fake_run(const char *side, const char *series, unsigned rep, bool warmup,
			enum run_status st, double scalar, double point)
{
	struct run_result res;
	char out[1024];
	run_result_init(&res);
	snprintf(out, sizeof(out),
		 VTX_PROTO_PREFIX
		 "{\"t\":\"hello\",\"proto\":1,\"side\":\"%s\"}\n" VTX_PROTO_PREFIX
		 "{\"t\":\"metric\",\"m\":\"time\",\"u\":\"ms\",\"better\":\"lower\",\"v\":%.17g}"
		 "\n" VTX_PROTO_PREFIX
		 "{\"t\":\"metric\",\"m\":\"bw\",\"u\":\"MB/s\",\"better\":\"higher\",\"v\":%.17g,"
		 "\"xk\":\"wss\",\"xu\":\"B\",\"x\":16384}\n" VTX_PROTO_PREFIX
		 "{\"t\":\"done\",\"status\":0}\n",
		 side, scalar, point);
	proto_feed(&res.proto, out, strlen(out));
	proto_finish(&res.proto);
	res.status = st;
	res.exit_code = 0;
	res.wall_ns = 1000000;
	if (st != RUN_OK)
		snprintf(res.reason, sizeof(res.reason), "simulated failure");
	bool vm = !strcmp(side, "vm");
	struct run_meta m = {.side = side,
			     .vmm = vm ? "vmm-lite" : NULL,
			     .series = series,
			     .baseline_series = vm ? "bare" : NULL,
			     .backing = "thp",
			     .pagesize = vm ? "2m" : NULL,
			     .rep = rep,
			     .warmup = warmup};
	json_t *r = results_run_record(&m, &res);
	run_result_release(&res);
	return r;
}

static json_t *summary_for(json_t *wl, const char *metric, const char *series)
{
	size_t i;
	json_t *e;
	json_array_foreach(
	    json_object_get(wl, "summary"), i,
	    e) if (!strcmp(json_string_value(json_object_get(e, "metric")), metric) &&
		   !strcmp(json_string_value(json_object_get(e, "series")), series)) return e;
	return NULL;
}

static json_t *workload_with_runs(void)
{
	json_t *runs = json_array();
	json_array_append_new(runs, fake_run("bare", "bare", 0, true, RUN_OK, 1000, 1));
	json_array_append_new(runs, fake_run("vm", "vm", 0, true, RUN_OK, 1000, 1));
	for (unsigned r = 0; r < 4; r++) {
		json_array_append_new(runs,
				      fake_run("bare", "bare", r, false, RUN_OK, 100 + r, 10));
		json_array_append_new(runs, fake_run("vm", "vm", r, false,
						     r == 3 ? RUN_TIMEOUT : RUN_OK, 110 + r, 8));
	}
	return json_pack("{s:s,s:{},s:o}", "name", "fake", "params", "runs", runs);
}

Test(results, run_record_fields)
{
	json_t *r = fake_run("vm", "vm[pagesize=2m]", 2, false, RUN_CRASH, 1, 2);
	cr_assert_str_eq(json_string_value(json_object_get(r, "side")), "vm");
	cr_assert_str_eq(json_string_value(json_object_get(r, "vmm")), "vmm-lite");
	cr_assert_str_eq(json_string_value(json_object_get(r, "status")), "crash");
	cr_assert_str_eq(json_string_value(json_object_get(r, "reason")), "simulated failure");
	cr_assert_eq(json_integer_value(json_object_get(r, "rep")), 2);
	cr_assert(json_is_false(json_object_get(r, "warmup")));
	cr_assert_eq(json_array_size(json_object_get(r, "metrics")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "hello"), "side")),
			 "vm");
	cr_assert(json_is_null(json_object_get(r, "vmm_stats")));
	json_decref(r);
}

Test(results, summary_pairs_counted_ok_runs)
{
	json_t *wl = workload_with_runs();
	cr_assert_eq(results_summarize(wl), 0);
	json_t *t = summary_for(wl, "time", "vm");
	cr_assert_not_null(t);
	json_t *bare = json_object_get(t, "bare"), *vm = json_object_get(t, "vm");
	cr_assert_eq(json_integer_value(json_object_get(bare, "n")), 4, "warm-ups excluded");
	cr_assert_eq(json_integer_value(json_object_get(vm, "n")), 3, "the timeout excluded");
	cr_assert_float_eq(json_real_value(json_object_get(bare, "median")), 101.5, 1e-9);
	cr_assert_float_eq(json_real_value(json_object_get(vm, "median")), 111, 1e-9);
	json_t *oh = json_object_get(t, "overhead_pct");
	cr_assert_eq(json_integer_value(json_object_get(oh, "pairs")), 3);
	/* pairs 0..2: ratios 110/100, 111/101, 112/102; their median 111/101 */
	cr_assert_float_eq(json_real_value(json_object_get(oh, "value")), 10.0 / 101 * 100, 1e-9);
	/* 3 pairs: [min, max] of the ratios, at its real coverage 75%, underpowered */
	json_t *ci = json_object_get(oh, "ci");
	cr_assert_float_eq(json_real_value(json_array_get(ci, 0)), (112.0 / 102 - 1) * 100, 1e-9);
	cr_assert_float_eq(json_real_value(json_array_get(ci, 1)), 10, 1e-9);
	cr_assert_float_eq(json_real_value(json_object_get(oh, "ci_level")), 0.75, 1e-12);
	cr_assert(json_is_true(json_object_get(oh, "underpowered")));
	cr_assert_null(json_object_get(oh, "ci95"), "no interval named after a level it lacks");
	cr_assert_float_eq(json_real_value(json_object_get(bare, "ci_level")), 0.875, 1e-12,
			   "4 bare runs: 1 - 2^-3");
	cr_assert_str_eq(json_string_value(json_object_get(t, "role")), "performance");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(t, "failed_runs"), "vm")),
		     1);

	json_t *bw = summary_for(wl, "bw", "vm");
	cr_assert_not_null(bw);
	cr_assert_eq(json_number_value(json_object_get(bw, "x")), 16384);
	cr_assert_float_eq(
	    json_real_value(json_object_get(json_object_get(bw, "overhead_pct"), "value")), 25,
	    1e-9, "higher is better: 10/8 - 1");
	json_decref(wl);
}

Test(results, write_atomic_round_trip)
{
	char dir[] = "/tmp/vtx-results-XXXXXX", path[256];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/results.json", dir);
	json_t *root = json_pack("{s:s,s:i,s:[o]}", "schema", RESULTS_SCHEMA, "schema_version",
				 RESULTS_SCHEMA_VERSION, "workloads", workload_with_runs());
	cr_assert_eq(results_summarize(json_array_get(json_object_get(root, "workloads"), 0)), 0);
	cr_assert_eq(results_write_atomic(path, root), 0);
	json_error_t err;
	json_t *back = json_load_file(path, 0, &err);
	cr_assert_not_null(back, "%s", err.text);
	cr_assert(json_equal(root, back), "round trip must preserve everything");
	cr_assert_eq(results_failed_runs(back), 1);
	/* no temporary file left behind */
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	cr_assert_neq(access(tmp, F_OK), 0);
	/* an unwritable target leaves nothing */
	cr_assert_lt(results_write_atomic("/nonexistent-dir/results.json", root), 0);
	json_decref(root);
	json_decref(back);
	unlink(path);
	rmdir(dir);
}

Test(results, table_prints_curve_points_and_failures)
{
	json_t *root = json_pack("{s:[o]}", "workloads", workload_with_runs());
	results_summarize(json_array_get(json_object_get(root, "workloads"), 0));
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	table_print(f, root);
	fclose(f);
	cr_assert(strstr(buf, "bw @ 16 KiB"), "curve point label: %s", buf);
	cr_assert(strstr(buf, "101.5"), "bare median: %s", buf);
	cr_assert(strstr(buf, "timeout"), "failed run listed: %s", buf);
	cr_assert(strstr(buf, "4/3"), "n bare/vm: %s", buf);
	free(buf);
	json_decref(root);
}

Test(results, human_sizes)
{
	char b[32];
	table_human_bytes(16384, b, sizeof(b));
	cr_assert_str_eq(b, "16 KiB");
	table_human_bytes(256.0 * 1024 * 1024, b, sizeof(b));
	cr_assert_str_eq(b, "256 MiB");
	table_human_bytes(1536, b, sizeof(b));
	cr_assert_str_eq(b, "1.5 KiB");
	table_human_bytes(100, b, sizeof(b));
	cr_assert_str_eq(b, "100 B");
}

/* exit-storm declares selfcal_exit_ns an info metric: the run record says so,
 * and so does its summary entry; a count is info by its unit. */
Test(results, info_metrics_are_marked)
{
	struct run_result res;
	const char *out = VTX_PROTO_PREFIX
	    "{\"t\":\"hello\",\"proto\":1,\"side\":\"vm\"}\n" VTX_PROTO_PREFIX
	    "{\"t\":\"metric\",\"wl\":\"exit-storm\",\"m\":\"selfcal_exit_ns\",\"u\":\"ns\","
	    "\"better\":\"lower\",\"v\":25000}\n" VTX_PROTO_PREFIX
	    "{\"t\":\"metric\",\"wl\":\"exit-storm\",\"m\":\"time\",\"u\":\"ms\","
	    "\"better\":\"lower\",\"v\":12}\n" VTX_PROTO_PREFIX
	    "{\"t\":\"metric\",\"wl\":\"cpu-int\",\"m\":\"selfcal_exit_ns\",\"u\":\"ns\","
	    "\"better\":\"lower\",\"v\":1}\n" VTX_PROTO_PREFIX "{\"t\":\"done\",\"status\":0}\n";
	run_result_init(&res);
	proto_feed(&res.proto, out, strlen(out));
	proto_finish(&res.proto);
	struct run_meta m = {.side = "vm", .vmm = "vmm-lite", .series = "vm", .backing = "thp"};
	json_t *r = results_run_record(&m, &res);
	json_t *ms = json_object_get(r, "metrics");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ms, 0), "role")), "info");
	cr_assert_null(json_object_get(json_array_get(ms, 1), "role"), "time is performance");
	cr_assert_null(json_object_get(json_array_get(ms, 2), "role"),
		       "only the workload that declares it");
	cr_assert_str_eq(results_metric_role(json_array_get(ms, 0)), "info");
	cr_assert_str_eq(results_metric_role(json_array_get(ms, 1)), "performance");
	json_t *count = json_pack("{s:s,s:s}", "m", "exits", "u", "count");
	cr_assert_str_eq(results_metric_role(count), "info");
	json_decref(count);
	json_decref(r);
	run_result_release(&res);
}

/* results_load recomputes the summary: a file with a stale summary (another
 * estimator, version 2 keys) is read with this virttax's. */
Test(results, load_recomputes_the_summary)
{
	char dir[] = "/tmp/vtx-results-XXXXXX", path[256], err[300];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/results.json", dir);
	json_t *wl = workload_with_runs();
	json_object_set_new(wl, "summary",
			    json_pack("[{s:s,s:{s:f,s:[f,f]}}]", "metric", "time", "overhead_pct",
				      "value", 99.0, "ci95", 1.0, 2.0));
	json_t *root = json_pack("{s:s,s:i,s:[o]}", "schema", RESULTS_SCHEMA, "schema_version", 2,
				 "workloads", wl);
	cr_assert_eq(results_write_atomic(path, root), 0);
	json_t *back;
	cr_assert_eq(results_load(path, &back, err, sizeof(err)), 0, "%s", err);
	json_t *t =
	    summary_for(json_array_get(json_object_get(back, "workloads"), 0), "time", "vm");
	cr_assert_not_null(t);
	cr_assert_float_eq(
	    json_real_value(json_object_get(json_object_get(t, "overhead_pct"), "value")),
	    10.0 / 101 * 100, 1e-9);
	json_decref(root);
	json_decref(back);
	unlink(path);
	rmdir(dir);
}
