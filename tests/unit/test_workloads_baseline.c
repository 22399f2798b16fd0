/*
 * Unit tests of the hosted runner: TSC measurement, pre-faulted memory with
 * 4k/THP backing, the protocol writer, and `virttax baseline` end to end
 * (stdout/stderr captured, control-fd handshake over a socketpair).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/cmds.h"
#include "core/tsc.h"
#include "harness/hosted.h"
#include "virttax/protocol.h"

Test(hosted_tsc, measures_a_stable_plausible_rate)
{
	uint64_t a, b;
	cr_assert_eq(tsc_measure_hz(30, &a), 0);
	cr_assert_eq(tsc_measure_hz(30, &b), 0);
	cr_assert(a > 100000000ull && a < 10000000000ull, "TSC %llu Hz", (unsigned long long)a);
	double rel = fabs((double)a - (double)b) / (double)a;
	cr_assert_lt(rel, 1e-3, "two measurements differ by %g: %llu vs %llu", rel,
		     (unsigned long long)a, (unsigned long long)b);
	cr_assert_eq(tsc_measure_hz(0, &a), -EINVAL);
}

Test(hosted_mem, backing_names)
{
	enum hosted_backing b;
	cr_assert_eq(hosted_backing_parse("4k", &b), 0);
	cr_assert_eq(b, HOSTED_BACKING_4K);
	cr_assert_str_eq(hosted_backing_pagesize(b), "4k");
	cr_assert_eq(hosted_backing_parse("thp", &b), 0);
	cr_assert_eq(b, HOSTED_BACKING_THP);
	cr_assert_str_eq(hosted_backing_pagesize(b), "2m");
	cr_assert_eq(hosted_backing_parse("2m", &b), -EINVAL);
	cr_assert_eq(hosted_backing_parse("", &b), -EINVAL);
}

Test(hosted_mem, four_k_is_aligned_prefaulted_and_not_huge)
{
	struct hosted_mem m;
	hosted_mem_init(&m, HOSTED_BACKING_4K);
	char *p = hosted_mem_alloc(&m, 10000, 64);
	cr_assert_not_null(p);
	cr_assert_eq((uintptr_t)p % 4096, 0);
	char *q = hosted_mem_alloc(&m, 8u << 20, 2u << 20);
	cr_assert_not_null(q);
	cr_assert_eq((uintptr_t)q % (2u << 20), 0);
	memset(q, 0x5a, 8u << 20);
	cr_assert_eq(m.nmaps, 2);
	cr_assert_eq(m.bytes, 12288 + (8u << 20));
	cr_assert_eq(m.huge_bytes, 0, "MADV_NOHUGEPAGE yet %zu B huge", m.huge_bytes);
	cr_assert_null(hosted_mem_alloc(&m, 0, 4096));
	cr_assert_null(hosted_mem_alloc(&m, 4096, 3000), "align must be a power of two");
	hosted_mem_release(&m);
	cr_assert_eq(m.nmaps, 0);
	cr_assert_eq(m.bytes, 0);
}

static bool thp_enabled(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	char buf[128] = "";
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	return strstr(buf, "[always]") || strstr(buf, "[madvise]");
}

Test(hosted_mem, thp_gets_huge_pages)
{
	struct hosted_mem m;
	hosted_mem_init(&m, HOSTED_BACKING_THP);
	char *p = hosted_mem_alloc(&m, 16u << 20, 64);
	cr_assert_not_null(p);
	cr_assert_eq((uintptr_t)p % (2u << 20), 0);
	if (thp_enabled())
		cr_assert_gt(m.huge_bytes, 0, "THP on but no huge page in 16 MiB");
	long long huge = hosted_mem_huge_bytes(p, 16u << 20);
	cr_assert_geq(huge, 0);
	cr_assert_leq(huge, 16ll << 20);
	hosted_mem_release(&m);
}

/* ---- protocol writer ---- */

static json_t *parse_record(const char *line)
{
	size_t n = strlen(VTX_PROTO_PREFIX);
	cr_assert_eq(strncmp(line, VTX_PROTO_PREFIX, n), 0, "no prefix: %s", line);
	json_error_t err;
	json_t *j = json_loads(line + n, 0, &err);
	cr_assert_not_null(j, "bad JSON '%s': %s", line, err.text);
	return j;
}

Test(hosted_proto, metric_records)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_eq(
	    hosted_proto_metric(f, "mem-chase", "latency", "ns", 1, 81.5, "wss", "B", 16384), 0);
	cr_assert_eq(hosted_proto_metric(f, "cpu-fp", "gflops", "GFLOP/s", 0, NAN, NULL, NULL, 0),
		     0);
	fclose(f);
	char *nl = strchr(buf, '\n');
	cr_assert_not_null(nl);
	*nl = 0;
	json_t *a = parse_record(buf), *b = parse_record(nl + 1);
	cr_assert_str_eq(json_string_value(json_object_get(a, "t")), "metric");
	cr_assert_str_eq(json_string_value(json_object_get(a, "better")), "lower");
	cr_assert_float_eq(json_number_value(json_object_get(a, "v")), 81.5, 1e-12);
	cr_assert_str_eq(json_string_value(json_object_get(a, "xk")), "wss");
	cr_assert_float_eq(json_number_value(json_object_get(a, "x")), 16384, 1e-9);
	cr_assert(json_is_null(json_object_get(b, "v")), "NaN must become null");
	cr_assert_null(json_object_get(b, "xk"));
	cr_assert_str_eq(json_string_value(json_object_get(b, "better")), "higher");
	json_decref(a);
	json_decref(b);
	free(buf);
}

/* ---- virttax baseline end to end ---- */

struct captured {
	int rc;
	char out[16384];
	char err[2048];
};

static void slurp(FILE *f, char *dst, size_t cap)
{
	rewind(f);
	size_t n = fread(dst, 1, cap - 1, f);
	dst[n] = 0;
	fclose(f);
}

static void run_baseline(struct captured *c, int argc, char **argv)
{
	FILE *out = tmpfile(), *err = tmpfile();
	cr_assert(out && err);
	fflush(stdout);
	fflush(stderr);
	int so = dup(1), se = dup(2);
	dup2(fileno(out), 1);
	dup2(fileno(err), 2);
	c->rc = cmd_baseline(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	slurp(out, c->out, sizeof(c->out));
	slurp(err, c->err, sizeof(c->err));
}

/* The record of type t (the n-th one), or NULL; new reference. */
static json_t *find_record(const char *out, const char *t, int nth)
{
	char line[4096];
	for (const char *p = out; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (nl ? 1 : 0);
		json_t *j = parse_record(line);
		if (!strcmp(json_string_value(json_object_get(j, "t")), t) && nth-- == 0)
			return j;
		json_decref(j);
	}
	return NULL;
}

static int done_status(const char *out)
{
	json_t *d = find_record(out, "done", 0);
	cr_assert_not_null(d, "no done record in:\n%s", out);
	int s = (int)json_integer_value(json_object_get(d, "status"));
	json_decref(d);
	return s;
}

Test(baseline, runs_noop_and_speaks_the_protocol)
{
	static struct captured c;
	char *argv[] = {"baseline", "--backing", "4k", "workload=noop", "iters=0x100", NULL};
	run_baseline(&c, 5, argv);
	cr_assert_eq(c.rc, 0, "stderr: %s", c.err);
	json_t *h = find_record(c.out, "hello", 0);
	cr_assert_not_null(h);
	cr_assert_str_eq(json_string_value(json_object_get(h, "side")), "bare");
	cr_assert_str_eq(json_string_value(json_object_get(h, "tsc_src")), "host");
	cr_assert_str_eq(json_string_value(json_object_get(h, "pagesize")), "4k");
	cr_assert_gt(json_integer_value(json_object_get(h, "tsc_khz")), 100000);
	cr_assert_gt(json_integer_value(json_object_get(h, "mem_bytes")), 0);
	json_decref(h);
	json_t *p = find_record(c.out, "param", 0);
	cr_assert_str_eq(json_string_value(json_object_get(p, "k")), "iters");
	cr_assert_str_eq(json_string_value(json_object_get(p, "v")), "0x100");
	json_decref(p);
	json_t *m = find_record(c.out, "metric", 0);
	cr_assert_not_null(m);
	cr_assert_str_eq(json_string_value(json_object_get(m, "wl")), "noop");
	cr_assert_gt(json_number_value(json_object_get(m, "v")), 0.0);
	json_decref(m);
	cr_assert_eq(done_status(c.out), 0);
	cr_assert_str_eq(c.err, "");
}

Test(baseline, bad_input_exits_2_with_one_line)
{
	static struct captured c;
	char *unknown[] = {"baseline", "workload=nope", NULL};
	run_baseline(&c, 2, unknown);
	cr_assert_eq(c.rc, VTX_EXIT_USAGE);
	cr_assert_eq(done_status(c.out), 2);
	cr_assert(strstr(c.err, "unknown workload 'nope'"), "%s", c.err);
	cr_assert_eq(strchr(c.err, '\n'), c.err + strlen(c.err) - 1, "one line: %s", c.err);

	char *badkey[] = {"baseline", "workload=cpu-int", "iterz=5", NULL};
	run_baseline(&c, 3, badkey);
	cr_assert_eq(c.rc, VTX_EXIT_USAGE);
	cr_assert(strstr(c.err, "'iterz'"), "%s", c.err);

	char *badval[] = {"baseline", "workload=mem-chase", "min=1M", "max=16K", NULL};
	run_baseline(&c, 4, badval);
	cr_assert_eq(c.rc, VTX_EXIT_USAGE);
	cr_assert_eq(done_status(c.out), 2);
	json_t *e = find_record(c.out, "error", 0);
	cr_assert_not_null(e);
	cr_assert_str_eq(json_string_value(json_object_get(e, "wl")), "mem-chase");
	json_decref(e);

	char *badflag[] = {"baseline", "--backing", "1g", "workload=noop", NULL};
	run_baseline(&c, 4, badflag);
	cr_assert_eq(c.rc, VTX_EXIT_USAGE);
	cr_assert_str_eq(c.out, "", "no protocol for a bad flag");
	cr_assert(strstr(c.err, "--backing"), "%s", c.err);

	char *nopin[] = {"baseline", "--pin", "many", "workload=noop", NULL};
	run_baseline(&c, 4, nopin);
	cr_assert_eq(c.rc, VTX_EXIT_USAGE);
}

Test(baseline, control_fd_handshake)
{
	static struct captured c;
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(write(sv[0], "gg", 2), 2); /* both releases, queued up front */
	char fdarg[16];
	snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
	char *argv[] = {"baseline", "--pin", "0", "--control-fd", fdarg, "workload=noop", NULL};
	run_baseline(&c, 6, argv);
	cr_assert_eq(c.rc, 0, "%s", c.err);
	close(sv[1]);
	char buf[512];
	ssize_t n = read(sv[0], buf, sizeof(buf) - 1);
	cr_assert_gt(n, 0);
	buf[n] = 0;
	close(sv[0]);
	char *nl = strchr(buf, '\n');
	cr_assert_not_null(nl, "%s", buf);
	*nl = 0;
	json_t *ready = json_loads(buf, 0, NULL), *stopped = json_loads(nl + 1, 0, NULL);
	cr_assert_not_null(ready, "%s", buf);
	cr_assert_not_null(stopped, "%s", nl + 1);
	cr_assert_str_eq(json_string_value(json_object_get(ready, "event")), "ready");
	cr_assert_eq(json_integer_value(json_object_get(ready, "pid")), getpid());
	json_t *tids = json_object_get(ready, "tids");
	cr_assert_eq(json_array_size(tids), 1);
	cr_assert_eq(json_integer_value(json_array_get(tids, 0)), gettid());
	cr_assert_str_eq(json_string_value(json_object_get(stopped, "event")), "stopped");
	cr_assert_eq(json_integer_value(json_object_get(stopped, "status")), 0);
	json_decref(ready);
	json_decref(stopped);
}
