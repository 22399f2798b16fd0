/*
 * Unit tests of the kvm-stats and exits collectors' parsing of the VMM's
 * --stats-json (docs/INTERFACES.md section 4), good and malformed.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collectors/internal.h"

/* deltas written out: JSON has no arithmetic */
static const char *good_doc =
    "{\"vmm\":\"vmm-lite\",\"version\":1,"
    "\"exits\":{\"io:0x3f8\":{\"count\":4,\"total_ns\":100,\"hist_log2_ns\":[0,1,3]},"
    "          \"hlt\":{\"count\":0,\"total_ns\":0,\"hist_log2_ns\":[]}},"
    "\"kvm_stats\":{"
    " \"vm\":{\"mmu_cache_miss\":{\"before\":2,\"after\":14,\"delta\":12,\"unit\":\"none\","
    "        \"type\":\"cumulative\",\"base\":10,\"exponent\":0}},"
    " \"vcpus\":["
    "  {\"index\":0,\"tid\":100,\"stats\":{"
    "    "
    "\"exits\":{\"before\":0,\"after\":1350,\"delta\":1350,\"unit\":\"none\",\"type\":"
    "\"cumulative\",\"base\":10,\"exponent\":0},"
    "    "
    "\"halt_wait_ns\":{\"before\":5,\"after\":25,\"delta\":20,\"unit\":\"seconds\",\"type\":"
    "\"cumulative\",\"base\":10,\"exponent\":-9},"
    "    "
    "\"guest_mode\":{\"before\":0,\"after\":1,\"delta\":1,\"unit\":\"boolean\",\"type\":"
    "\"instant\",\"base\":10,\"exponent\":0}}},"
    "  {\"index\":1,\"tid\":101,\"stats\":{"
    "    "
    "\"exits\":{\"before\":10,\"after\":60,\"delta\":50,\"unit\":\"none\",\"type\":\"cumulative\","
    "\"base\":10,\"exponent\":0},"
    "    "
    "\"halt_wait_ns\":{\"before\":0,\"after\":7,\"delta\":7,\"unit\":\"seconds\",\"type\":"
    "\"cumulative\",\"base\":10,\"exponent\":-9},"
    "    "
    "\"guest_mode\":{\"before\":1,\"after\":1,\"delta\":0,\"unit\":\"boolean\",\"type\":"
    "\"instant\",\"base\":10,\"exponent\":0}}}"
    " ]}}";

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);
	cr_assert_not_null(j, "test JSON: %s at %d", err.text, err.column);
	return j;
}

static json_int_t iget(const json_t *o, const char *a, const char *b, const char *c)
{
	const json_t *j = json_object_get(o, a);
	if (b)
		j = json_object_get(j, b);
	if (c)
		j = json_object_get(j, c);
	cr_assert(json_is_integer(j), "%s.%s.%s is not an integer", a, b ? b : "", c ? c : "");
	return json_integer_value(j);
}

Test(collect_kvm, reshape_vm_vcpus_and_totals)
{
	json_t *doc = parse(good_doc), *out;
	char why[160] = "";
	cr_assert_eq(kvmstat_reshape(doc, &out, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(iget(out, "vm", "mmu_cache_miss", "delta"), 12);
	cr_assert_str_eq(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(out, "vm"), "mmu_cache_miss"), "unit")),
	    "count");
	json_t *vcpus = json_object_get(out, "vcpus");
	cr_assert_eq(json_array_size(vcpus), 2);
	cr_assert_eq(iget(json_array_get(vcpus, 1), "tid", NULL, NULL), 101);
	/* totals: cumulative stats summed, instant ones (guest_mode) left out */
	cr_assert_eq(iget(out, "vcpu_totals", "exits", "value"), 1400);
	cr_assert_eq(iget(out, "vcpu_totals", "halt_wait_ns", "value"), 27);
	cr_assert_str_eq(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(out, "vcpu_totals"), "halt_wait_ns"), "unit")),
	    "ns");
	cr_assert_null(json_object_get(json_object_get(out, "vcpu_totals"), "guest_mode"));
	json_decref(out);
	json_decref(doc);
}

Test(collect_kvm, units)
{
	char u[32];
	kvmstat_unit("none", 10, 0, u, sizeof(u));
	cr_assert_str_eq(u, "count");
	kvmstat_unit("seconds", 10, -9, u, sizeof(u));
	cr_assert_str_eq(u, "ns");
	kvmstat_unit("bytes", 2, 12, u, sizeof(u));
	cr_assert_str_eq(u, "bytes*2^12");
	kvmstat_unit("cycles", 10, 0, u, sizeof(u));
	cr_assert_str_eq(u, "cycles");
}

static void expect_bad_kvm(const char *text, const char *needle)
{
	json_t *doc = parse(text), *out = (json_t *)1;
	char why[160] = "";
	cr_assert_eq(kvmstat_reshape(doc, &out, why, sizeof(why)), -EINVAL, "accepted: %s", text);
	cr_assert_null(out);
	cr_assert(strstr(why, needle), "reason '%s' lacks '%s'", why, needle);
	cr_assert(!strncmp(why, "unavailable: ", 13), "reason '%s'", why);
	json_decref(doc);
}

Test(collect_kvm, malformed)
{
	expect_bad_kvm("{\"vmm\":\"vmm-lite\"}", "no kvm_stats");
	expect_bad_kvm("{\"vmm\":\"x\",\"kvm_stats\":{\"vm\":[],\"vcpus\":[]}}",
		       "vm: not an object");
	expect_bad_kvm("{\"vmm\":\"x\",\"kvm_stats\":{\"vm\":{},\"vcpus\":{}}}", "not an array");
	expect_bad_kvm("{\"vmm\":\"x\",\"kvm_stats\":{\"vm\":{\"a\":{\"before\":1,\"after\":5,"
		       "\"delta\":3,\"unit\":\"none\",\"type\":\"cumulative\",\"base\":10,"
		       "\"exponent\":0}},\"vcpus\":[]}}",
		       "delta 3 != after - before");
	expect_bad_kvm("{\"vmm\":\"x\",\"kvm_stats\":{\"vm\":{\"a\":{\"before\":\"1\",\"after\":5,"
		       "\"delta\":4,\"unit\":\"none\",\"type\":\"cumulative\",\"base\":10,"
		       "\"exponent\":0}},\"vcpus\":[]}}",
		       "stat a: missing or mistyped");
	expect_bad_kvm("{\"vmm\":\"x\",\"kvm_stats\":{\"vm\":{},\"vcpus\":[{\"index\":0,"
		       "\"stats\":{}}]}}",
		       "vcpus[0]: index/tid missing");
}

Test(collect_kvm, exits_mean_and_total)
{
	json_t *doc = parse(good_doc), *out;
	char why[160] = "";
	cr_assert_eq(exitstat_reshape(doc, &out, why, sizeof(why)), 0, "%s", why);
	json_t *io = json_object_get(json_object_get(out, "reasons"), "io:0x3f8");
	cr_assert_eq(json_integer_value(json_object_get(io, "count")), 4);
	cr_assert_float_eq(json_real_value(json_object_get(io, "mean_ns")), 25.0, 1e-9);
	json_t *hlt = json_object_get(json_object_get(out, "reasons"), "hlt");
	cr_assert_float_eq(json_real_value(json_object_get(hlt, "mean_ns")), 0.0, 1e-9);
	cr_assert_eq(iget(out, "total", "count", NULL), 4);
	cr_assert_eq(iget(out, "total", "total_ns", NULL), 100);
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(out, "units"), "mean_ns")), "ns");
	json_decref(out);
	json_decref(doc);
}

/* vmm-lite without --exit-timing: counts only, and no time is made up */
Test(collect_kvm, exits_counted_not_timed)
{
	json_t *doc = parse("{\"vmm\":\"vmm-lite\",\"exits\":{\"io:0x4f0\":{\"count\":5},"
			    "\"mmio\":{\"count\":2}}}"),
	       *out;
	char why[160] = "";
	cr_assert_eq(exitstat_reshape(doc, &out, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(iget(out, "total", "count", NULL), 7);
	cr_assert_null(json_object_get(json_object_get(out, "total"), "total_ns"));
	cr_assert_null(json_object_get(json_object_get(out, "total"), "mean_ns"));
	cr_assert(json_is_false(json_object_get(out, "timed")));
	cr_assert_null(
	    json_object_get(json_object_get(json_object_get(out, "reasons"), "mmio"), "mean_ns"));
	json_decref(out);
	json_decref(doc);
	/* one timed kind among untimed ones: the total is still not timed */
	doc = parse("{\"vmm\":\"x\",\"exits\":{\"io\":{\"count\":1,\"total_ns\":5,"
		    "\"hist_log2_ns\":[0,0,1]},\"hlt\":{\"count\":1}}}");
	cr_assert_eq(exitstat_reshape(doc, &out, why, sizeof(why)), 0, "%s", why);
	cr_assert(json_is_false(json_object_get(out, "timed")));
	json_decref(out);
	json_decref(doc);
}

Test(collect_kvm, exits_malformed)
{
	char why[160];
	json_t *out;
	const char *bad[] = {
	    "{\"vmm\":\"x\"}",
	    "{\"vmm\":\"x\",\"exits\":{\"io\":{\"count\":3,\"total_ns\":5,\"hist_log2_ns\":[1,1]}}"
	    "}",
	    "{\"vmm\":\"x\",\"exits\":{\"io\":{\"count\":-1,\"total_ns\":5,\"hist_log2_ns\":[]}}}",
	    "{\"vmm\":\"x\",\"exits\":{\"io\":{\"count\":1,\"total_ns\":5}}}",
	    "{\"vmm\":\"x\",\"exits\":{\"io\":{\"count\":1,\"total_ns\":5,\"hist_log2_ns\":[\"1\"]}"
	    "}}",
	    NULL,
	};
	for (size_t i = 0; bad[i]; i++) {
		json_t *doc = parse(bad[i]);
		cr_assert_eq(exitstat_reshape(doc, &out, why, sizeof(why)), -EINVAL, "accepted %s",
			     bad[i]);
		json_decref(doc);
	}
	json_t *doc = parse(bad[1]);
	exitstat_reshape(doc, &out, why, sizeof(why));
	cr_assert(strstr(why, "histogram sums to 2, count 3"), "%s", why);
	json_decref(doc);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(collect_kvm, load_file_errors)
{
	char path[] = "/tmp/vtx-collect-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	json_t *doc;
	char why[200];
	write_file(path, "{\"vmm\":\"vmm-lite\",");
	cr_assert_eq(vmmstats_load(path, &doc, why, sizeof(why)), -EINVAL);
	cr_assert(strstr(why, path), "%s", why);
	write_file(path, "[1,2]");
	cr_assert_eq(vmmstats_load(path, &doc, why, sizeof(why)), -EINVAL);
	write_file(path, good_doc);
	cr_assert_eq(vmmstats_load(path, &doc, why, sizeof(why)), 0, "%s", why);
	json_decref(doc);
	unlink(path);
	cr_assert_eq(vmmstats_load(path, &doc, why, sizeof(why)), -ENOENT);
	cr_assert_eq(vmmstats_load(NULL, &doc, why, sizeof(why)), -EINVAL);
}
