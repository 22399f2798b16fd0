/*
 * Unit tests of the workloads: the number parser, the shared command-line
 * parser, every workload run with tiny parameters, the kernels' results
 * (single chase cycle, STREAM array contents) and parameter validation.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tsc.h"
#include "tests/unit/test_workloads_env.h"
#include "virttax/wl_ops.h"
#include "workloads/wl_errno.h"
#include "workloads/wl_kernels.h"

/* ---- wl_parse_u64 ---- */

static uint64_t parse_ok(const char *s)
{
	uint64_t v = 12345;
	int rc = wl_parse_u64(s, &v);
	cr_assert_eq(rc, 0, "'%s' should parse, rc %d", s, rc);
	return v;
}

Test(wl_parse_u64, decimal_hex_and_suffixes)
{
	cr_assert_eq(parse_ok("0"), 0);
	cr_assert_eq(parse_ok("42"), 42);
	cr_assert_eq(parse_ok("16K"), 16384);
	cr_assert_eq(parse_ok("16k"), 16384);
	cr_assert_eq(parse_ok("2KiB"), 2048);
	cr_assert_eq(parse_ok("3kb"), 3072);
	cr_assert_eq(parse_ok("64M"), 64ull << 20);
	cr_assert_eq(parse_ok("1G"), 1ull << 30);
	cr_assert_eq(parse_ok("0x10"), 16);
	cr_assert_eq(parse_ok("0XfF"), 255);
	cr_assert_eq(parse_ok("0x2M"), 2ull << 20);
	cr_assert_eq(parse_ok("18446744073709551615"), UINT64_MAX);
	cr_assert_eq(parse_ok("17179869183G"), 17179869183ull << 30);
}

Test(wl_parse_u64, rejects_overflow_and_garbage)
{
	static const char *const bad[] = {
	    "",
	    "abc",
	    "12x",
	    "-1",
	    " 1",
	    "1 ",
	    "K",
	    "0x",
	    "0xg",
	    "1KB2",
	    "1T",
	    "1Ki",
	    "1.5M",
	    "18446744073709551616",
	    "17179869184G",
	    "0x10000000000000000",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 7;
		cr_assert_eq(wl_parse_u64(bad[i], &v), -WL_EINVAL, "'%s' must be rejected", bad[i]);
		cr_assert_eq(v, 7, "'%s': output touched on error", bad[i]);
	}
	uint64_t v;
	cr_assert_eq(wl_parse_u64(NULL, &v), -WL_EINVAL);
}

/* ---- wl_cmdline ---- */

Test(wl_cmdline, defaults_overrides_and_last_wins)
{
	static struct wl_cmdline c;
	wl_cmdline_init(&c);
	cr_assert_eq(wl_cmdline_add_line(&c, "  iters=5 workload=cpu-int\titers=7\n"), 0);
	cr_assert_eq(wl_cmdline_resolve(&c, NULL), 0, "%s", c.err);
	cr_assert_str_eq(c.wl->name, "cpu-int");
	cr_assert_str_eq(wl_cmdline_param(&c, "iters"), "7");
	cr_assert_str_eq(wl_cmdline_param(&c, "max_ms"), "30000"); /* default */
	cr_assert_null(wl_cmdline_param(&c, "workload"));
	cr_assert_eq(c.nparams, 2);
}

Test(wl_cmdline, runtime_options_are_kept_apart)
{
	static const char *const opts[] = {"pagesize", "tsc_khz", "virtio_mmio.*", NULL};
	static struct wl_cmdline c;
	wl_cmdline_init(&c);
	cr_assert_eq(wl_cmdline_add_line(
			 &c, "pagesize=4k workload=noop virtio_mmio.device=512@0xfeb00e00:12 "
			     "tsc_khz=1 tsc_khz=2445404 iters=0x10"),
		     0);
	cr_assert_eq(wl_cmdline_resolve(&c, opts), 0, "%s", c.err);
	cr_assert_str_eq(wl_cmdline_opt(&c, "pagesize"), "4k");
	cr_assert_str_eq(wl_cmdline_opt(&c, "tsc_khz"), "2445404");
	cr_assert_str_eq(wl_cmdline_opt(&c, "virtio_mmio.device"), "512@0xfeb00e00:12");
	cr_assert_str_eq(wl_cmdline_param(&c, "iters"), "0x10");
	cr_assert_null(wl_cmdline_param(&c, "pagesize"));
}

static int resolve_line(struct wl_cmdline *c, const char *line)
{
	wl_cmdline_init(c);
	int rc = wl_cmdline_add_line(c, line);
	return rc ? rc : wl_cmdline_resolve(c, NULL);
}

Test(wl_cmdline, rejects_bad_input_with_a_reason)
{
	static struct wl_cmdline c;
	cr_assert_eq(resolve_line(&c, "iters=1"), -WL_EINVAL);
	cr_assert(strstr(c.err, "missing workload"), "%s", c.err);
	cr_assert_eq(resolve_line(&c, "workload=nope"), -WL_EINVAL);
	cr_assert(strstr(c.err, "unknown workload 'nope'"), "%s", c.err);
	cr_assert_eq(resolve_line(&c, "workload=cpu-int pagesize=4k"), -WL_EINVAL);
	cr_assert(strstr(c.err, "'pagesize'"), "%s", c.err);
	cr_assert_eq(resolve_line(&c, "workload=cpu-int iters"), -WL_EINVAL);
	cr_assert(strstr(c.err, "KEY=VALUE"), "%s", c.err);
	cr_assert_eq(resolve_line(&c, "workload=cpu-int =5"), -WL_EINVAL);
}

Test(wl_cmdline, bounded_storage)
{
	static struct wl_cmdline c;
	static char line[WL_CMDLINE_STORE * 2];
	memset(line, 'a', sizeof(line) - 3);
	memcpy(line, "x=", 2);
	line[sizeof(line) - 1] = 0;
	wl_cmdline_init(&c);
	cr_assert_eq(wl_cmdline_add_line(&c, line), -WL_E2BIG);
	wl_cmdline_init(&c);
	for (int i = 0; i < WL_CMDLINE_MAX_TOKENS; i++)
		cr_assert_eq(wl_cmdline_add_line(&c, "iters=1"), 0);
	cr_assert_eq(wl_cmdline_add_line(&c, "iters=1"), -WL_E2BIG);
}

Test(wl_cmdline, status_from_rc)
{
	cr_assert_eq(wl_status_from_rc(0), 0);
	cr_assert_eq(wl_status_from_rc(-WL_EINVAL), 2);
	cr_assert_eq(wl_status_from_rc(-WL_ENOMEM), 1);
	cr_assert_eq(wl_status_from_rc(-WL_EIO), 1);
}

Test(wl_cmdline, every_workload_quick_params_resolve)
{
	static struct wl_cmdline c;
	int n = 0;
	for (const struct workload_ops *const *w = workload_table; *w; w++, n++) {
		wl_cmdline_init(&c);
		char line[256];
		snprintf(line, sizeof(line), "workload=%s %s", (*w)->name, (*w)->quick_params);
		cr_assert_eq(resolve_line(&c, line), 0, "%s: %s", (*w)->name, c.err);
		for (size_t i = 0; i < c.nparams; i++) {
			uint64_t v;
			if (c.params[i].val[0] < '0' || c.params[i].val[0] > '9')
				continue; /* a word (rw=read, kinds=all, kind=pio), not a number */
			if (strchr(c.params[i].val, ','))
				continue; /* a list of numbers (calib gaps=0,1000,...) */
			cr_assert_eq(wl_parse_u64(c.params[i].val, &v), 0, "%s %s=%s", (*w)->name,
				     c.params[i].key, c.params[i].val);
		}
	}
	cr_assert_geq(n, 5);
	cr_assert_not_null(workload_find("mem-chase"));
	cr_assert_null(workload_find("mem-chas"));
}

/* ---- the workloads, tiny parameters ---- */

static struct tenv T;

static void run_ok(const char *line)
{
	cr_assert_eq(tenv_setup(&T, line), 0, "%s: %s", line, T.cmd.err);
	int rc = tenv_run(&T);
	cr_assert_eq(rc, 0, "%s: rc %d, last log '%s'", line, rc, T.last_log);
	char why[160];
	cr_assert_eq(tenv_check_regions(&T, why, sizeof(why)), 0, "%s: regions: %s", line, why);
}

static void assert_scalar(const char *m, const char *unit, bool lower)
{
	const struct tenv_metric *x = tenv_metric(&T, m);
	cr_assert_not_null(x, "metric %s missing", m);
	cr_assert_str_eq(x->u, unit, "%s unit", m);
	cr_assert_eq(x->lower, lower, "%s direction", m);
	cr_assert(x->v > 0 && x->v < 1e12, "%s = %g", m, x->v);
	cr_assert_str_eq(x->xk, "", "%s is a scalar", m);
}

Test(workloads, cpu_int_runs_and_reports)
{
	run_ok("workload=cpu-int iters=2000000");
	cr_assert_eq(T.nmetrics, 2);
	assert_scalar("ns_per_iter", "ns", true);
	assert_scalar("time", "ms", true);
	/* at least one cycle per dependent multiply: > 0.1 ns, < 1 us */
	double ns = tenv_metric(&T, "ns_per_iter")->v;
	cr_assert(ns > 0.1 && ns < 1000.0, "ns_per_iter %g", ns);
	double ms = tenv_metric(&T, "time")->v;
	cr_assert_float_eq(ms, ns * 2000000 / 1e6, ms * 1e-9, "time %g vs %g ns * iters", ms, ns);
	cr_assert(strstr(T.last_log, "checksum 0x"), "%s", T.last_log);
}

Test(workloads, cpu_int_block_is_a_chain)
{
	uint64_t whole = wl_cpu_int_block(1, 0, 1000);
	uint64_t split = wl_cpu_int_block(wl_cpu_int_block(1, 0, 400), 400, 600);
	cr_assert_eq(whole, split);
	cr_assert_neq(whole, wl_cpu_int_block(2, 0, 1000));
	cr_assert_neq(whole, wl_cpu_int_block(1, 0, 999));
}

Test(workloads, cpu_fp_runs_and_converges)
{
	run_ok("workload=cpu-fp iters=2000000");
	cr_assert_eq(T.nmetrics, 3);
	assert_scalar("gflops", "GFLOP/s", false);
	assert_scalar("ns_per_iter", "ns", true);
	assert_scalar("time", "ms", true);
	double gf = tenv_metric(&T, "gflops")->v, ms = tenv_metric(&T, "time")->v;
	cr_assert_float_eq(gf, 2e6 * CPU_FP_FLOPS_PER_ITER / (ms * 1e6), gf * 1e-9);
	double x[CPU_FP_CHAINS] = {0.0, 0.5, 2.0, 100.0};
	wl_cpu_fp_block(x, 40u << 20); /* (1-2^-20)^(40*2^20) ~ e^-40 */
	for (int k = 0; k < CPU_FP_CHAINS; k++)
		cr_assert_float_eq(x[k], 1.0, 1e-9, "chain %d at %.17g", k,
				   x[k]); /* rounding: ulp/(1-a) */
}

Test(workloads, mem_chase_sweeps_sizes)
{
	run_ok("workload=mem-chase min=16K max=300K step=4 accesses=20000");
	cr_assert_eq(T.nmetrics, 3, "16K, 64K, 256K (1M > max)");
	double want = 16384;
	for (size_t i = 0; i < T.nmetrics; i++, want *= 4) {
		const struct tenv_metric *m = &T.metrics[i];
		cr_assert_str_eq(m->m, "latency");
		cr_assert_str_eq(m->u, "ns");
		cr_assert_str_eq(m->xk, "wss");
		cr_assert_str_eq(m->xu, "B");
		cr_assert(m->lower);
		cr_assert_float_eq(m->x, want, 0.5);
		cr_assert(m->v > 0.05 && m->v < 10000.0, "latency %g ns at %g B", m->v, m->x);
	}
}

Test(workloads, mem_chase_time_bound_stops_the_sweep)
{
	run_ok("workload=mem-chase min=16K max=64M step=2 accesses=200000 max_ms=1");
	cr_assert_geq(T.nmetrics, 1);
	cr_assert_lt(T.nmetrics, 13, "the bound must skip sizes, got %zu", T.nmetrics);
	cr_assert(strstr(T.last_log, "time bound"), "%s", T.last_log);
}

static void assert_single_cycle(size_t lines, uint64_t seed)
{
	char *buf = aligned_alloc(64, lines * CHASE_LINE);
	cr_assert_not_null(buf);
	unsigned char *seen = calloc(lines, 1);
	wl_chase_build(buf, lines, seed);
	char *p = buf;
	size_t steps = 0;
	do {
		size_t idx = (size_t)(p - buf) / CHASE_LINE;
		cr_assert_lt(idx, lines);
		cr_assert_eq((size_t)(p - buf) % CHASE_LINE, 0);
		cr_assert_eq(seen[idx], 0, "line %zu visited twice (lines %zu)", idx, lines);
		seen[idx] = 1;
		p = *(char **)p;
		steps++;
	} while (p != buf && steps <= lines);
	cr_assert_eq(steps, lines, "cycle of %zu, expected %zu", steps, lines);
	cr_assert_eq(wl_chase_walk(buf, lines), buf, "walk of n steps returns home");
	free(seen);
	free(buf);
}

Test(workloads, mem_chase_permutation_is_one_cycle)
{
	static const size_t sizes[] = {2, 3, 7, 256, 1000, 16384};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (uint64_t seed = 0; seed < 4; seed++)
			assert_single_cycle(sizes[i], seed * 0x1234567ull + 1);
}

Test(workloads, mem_chase_permutation_is_not_sequential)
{
	size_t lines = 4096, neighbours = 0;
	char *buf = aligned_alloc(64, lines * CHASE_LINE);
	wl_chase_build(buf, lines, 1);
	for (size_t i = 0; i < lines; i++) {
		char *next = *(char **)(buf + i * CHASE_LINE);
		if (next == buf + (i + 1) * CHASE_LINE)
			neighbours++;
	}
	free(buf);
	cr_assert_lt(neighbours, lines / 100, "%zu of %zu links go to the next line", neighbours,
		     lines);
}

Test(workloads, mem_stream_runs_and_reports)
{
	run_ok("workload=mem-stream size=256K ntimes=3");
	cr_assert_eq(T.nmetrics, 4);
	static const char *const k[] = {"copy", "scale", "add", "triad"};
	for (int i = 0; i < 4; i++) {
		assert_scalar(k[i], "MB/s", false);
		cr_assert_str_eq(T.metrics[i].m, k[i], "order");
		cr_assert(T.metrics[i].v > 10.0 && T.metrics[i].v < 1e7, "%s %g MB/s", k[i],
			  T.metrics[i].v);
	}
}

Test(workloads, stream_kernels_compute_the_right_arrays)
{
	enum { N = 1003 };
	static double a[N], b[N], c[N];
	for (int j = 0; j < N; j++) {
		a[j] = j;
		b[j] = 2.0 * j + 1;
		c[j] = -1;
	}
	wl_stream_copy(c, a, N);
	for (int j = 0; j < N; j++)
		cr_assert_eq(c[j], (double)j);
	wl_stream_scale(b, c, 3.0, N);
	for (int j = 0; j < N; j++)
		cr_assert_eq(b[j], 3.0 * j);
	wl_stream_add(c, a, b, N);
	for (int j = 0; j < N; j++)
		cr_assert_eq(c[j], 4.0 * j);
	wl_stream_triad(a, b, c, 0.5, N);
	for (int j = 0; j < N; j++)
		cr_assert_eq(a[j], 5.0 * j, "a[%d] = %g", j, a[j]);
}

Test(workloads, noop_still_works)
{
	run_ok("workload=noop iters=1000");
	assert_scalar("tsc_read", "ns", true);
}

/* ---- validation ---- */

static void run_fails(const char *line, int want)
{
	cr_assert_eq(tenv_setup(&T, line), 0, "%s: %s", line, T.cmd.err);
	int rc = tenv_run(&T);
	cr_assert_eq(rc, want, "%s: rc %d, want %d", line, rc, want);
	cr_assert_eq(T.nmetrics, 0, "%s: no metric on failure", line);
}

Test(validation, bad_values_are_rejected)
{
	static const char *const bad[] = {
	    "workload=cpu-int iters=0",	   "workload=cpu-int iters=ten",
	    "workload=cpu-int max_ms=0",   "workload=cpu-fp iters=0",
	    "workload=cpu-fp iters=1x",	   "workload=mem-chase min=1M max=64K",
	    "workload=mem-chase min=100",  "workload=mem-chase min=64",
	    "workload=mem-chase step=1",   "workload=mem-chase accesses=0",
	    "workload=mem-chase max=",	   "workload=mem-stream size=0",
	    "workload=mem-stream size=1K", "workload=mem-stream ntimes=0",
	    "workload=mem-stream size=-1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_fails(bad[i], -WL_EINVAL);
		cr_assert_gt(T.nlogs, 0, "%s: says why", bad[i]);
	}
}

Test(validation, no_memory_is_enomem)
{
	static const char *const lines[] = {
	    "workload=mem-chase min=16K max=64K",
	    "workload=mem-stream size=64K ntimes=1",
	};
	for (size_t i = 0; i < 2; i++) {
		cr_assert_eq(tenv_setup(&T, lines[i]), 0);
		T.fail_alloc = true;
		cr_assert_eq(tenv_run(&T), -WL_ENOMEM, "%s", lines[i]);
		cr_assert(strstr(T.last_log, "cannot allocate"), "%s", T.last_log);
	}
}

/* ---- timed regions (wl_env.region): where each workload marks its intervals ---- */

static size_t count_regions(const char *label)
{
	size_t n = 0;
	for (size_t i = 0; i < T.nregions; i++)
		n += T.regions[i].edge == WL_REGION_BEGIN && !strcmp(T.regions[i].label, label);
	return n;
}

Test(regions, each_timed_interval_is_marked_and_labelled)
{
	run_ok("workload=mem-stream size=256K ntimes=3");
	for (const char *const *k = (const char *const[]){"copy", "scale", "add", "triad", NULL};
	     *k; k++)
		cr_assert_eq(count_regions(*k), 3, "%s", *k);
	run_ok("workload=mem-chase min=16K max=64K step=2 accesses=2000");
	cr_assert_eq(count_regions("latency@16384"), 1);
	cr_assert_eq(count_regions("latency@65536"), 1);
	run_ok("workload=cpu-int iters=100000");
	cr_assert_eq(count_regions("run"), 1);
	run_ok("workload=exit-storm exits=50 k=10 selfcal=10");
	cr_assert_eq(count_regions("run"), 1);
	cr_assert_eq(count_regions("selfcal_exit_ns"), 5);
	run_ok("workload=mem-pressure wss=1M passes=3");
	cr_assert_eq(count_regions("run"), 1);
}

Test(regions, the_checker_can_fail)
{
	char why[160];
	run_ok("workload=cpu-int iters=100000");
	T.regions[1].edge = WL_REGION_BEGIN; /* begin, begin */
	cr_assert_neq(tenv_check_regions(&T, why, sizeof(why)), 0);
	T.regions[1].edge = WL_REGION_END;
	snprintf(T.regions[0].label, sizeof(T.regions[0].label), "time_total");
	snprintf(T.regions[1].label, sizeof(T.regions[1].label), "time_total");
	cr_assert_neq(tenv_check_regions(&T, why, sizeof(why)), 0, "label ties to nothing");
	T.nregions = 0;
	cr_assert_neq(tenv_check_regions(&T, why, sizeof(why)), 0, "timed metrics, no region");
}

/* host-irq: gaps of a tight TSC loop inside [0.5 us, 500 us], summed */
Test(host_irq, gaps_are_bounded_and_time_out)
{
	uint64_t hz = 0, sum = 0;
	cr_assert_eq(tsc_measure_hz(20, &hz), 0);
	uint64_t t0 = wl_rdtsc(), lo = WL_HOST_IRQ_MIN_NS * (hz / 1000000) / 1000,
		 hi = WL_HOST_IRQ_MAX_NS * (hz / 1000000) / 1000;
	int rc = wl_host_irq_gaps(hz, 3, t0 + hz / 2, &sum);
	if (rc == 0) /* a tickless CPU may see none in 0.5 s: then only the bounds below */
		cr_assert(sum >= 3 * lo && sum <= 3 * hi, "3 gaps summing %llu ticks",
			  (unsigned long long)sum);
	else
		cr_assert_eq(rc, -WL_ETIMEDOUT);
	/* past its deadline with more gaps asked than can come: -ETIMEDOUT, at once */
	t0 = wl_rdtsc();
	cr_assert_eq(wl_host_irq_gaps(hz, 1000000, t0, &sum), -WL_ETIMEDOUT);
	cr_assert_lt(wl_rdtsc() - t0, hz / 10);
}
