/*
 * QMP reply handling of the QEMU driver (harness/qmp.c), on canned QMP JSON
 * as QEMU 7.2 sends it: replies vs events vs errors, query-cpus-fast, and
 * query-stats-schemas + query-stats shaped into vmm-lite's kvm_stats.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "harness/qmp.h"

static int parse(const char *s, json_t **ret, char *err)
{
	return qmp_parse_reply(s, strlen(s), ret, err, 160);
}

Test(qmp, reply_event_error)
{
	json_t *ret = NULL;
	char err[160] = "";
	cr_assert_eq(parse("{\"return\": {}, \"id\": 3}", &ret, err), 0);
	cr_assert(json_is_object(ret));
	json_decref(ret);
	cr_assert_eq(parse("{\"timestamp\": {\"seconds\": 1}, \"event\": \"RESUME\"}", &ret, err),
		     1);
	cr_assert_eq(parse("{\"QMP\": {\"version\": {}}}", &ret, err), 1);
	cr_assert_eq(parse("{\"error\": {\"class\": \"GenericError\", \"desc\": \"no such "
			   "target\"}}",
			   &ret, err),
		     -EIO);
	cr_assert(strstr(err, "no such target"), "%s", err);
	cr_assert_eq(parse("[1,2]", &ret, err), -EINVAL);
	cr_assert_eq(parse("{\"return\": ", &ret, err), -EINVAL);
}

static const char *cpus_fast =
    "[{\"thread-id\": 26188, \"props\": {\"core-id\": 1}, \"qom-path\": "
    "\"/machine/unattached/device[2]\", \"cpu-index\": 1, \"target\": \"x86_64\"},"
    " {\"thread-id\": 26187, \"props\": {\"core-id\": 0}, \"qom-path\": "
    "\"/machine/unattached/device[0]\", \"cpu-index\": 0, \"target\": \"x86_64\"}]";

Test(qmp, vcpus_sorted_by_index)
{
	json_t *j = json_loads(cpus_fast, 0, NULL);
	struct qmp_vcpu v[4];
	size_t n = 0;
	cr_assert_eq(qmp_vcpus(j, v, 4, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(v[0].index, 0);
	cr_assert_eq(v[0].tid, 26187);
	cr_assert_str_eq(v[1].qom_path, "/machine/unattached/device[2]");
	cr_assert_eq(qmp_vcpus(j, v, 1, &n), -EINVAL, "more vCPUs than room");
	json_decref(j);
	j = json_loads("[{\"cpu-index\": 0, \"qom-path\": \"/x\"}]", 0, NULL);
	cr_assert_eq(qmp_vcpus(j, v, 4, &n), -EINVAL, "no thread-id");
	json_decref(j);
}

static const char *schemas =
    "[{\"provider\": \"kvm\", \"target\": \"vcpu\", \"stats\": ["
    "{\"name\": \"exits\", \"exponent\": 0, \"type\": \"cumulative\"},"
    "{\"name\": \"insn_emulation\", \"exponent\": 0, \"type\": \"cumulative\"},"
    "{\"name\": \"guest_mode\", \"unit\": \"boolean\", \"exponent\": 0, \"type\": \"instant\"},"
    "{\"name\": \"halt_wait_hist\", \"unit\": \"seconds\", \"base\": 10, \"exponent\": -9, "
    "\"type\": \"log2-histogram\"},"
    "{\"name\": \"halt_wait_ns\", \"unit\": \"seconds\", \"base\": 10, \"exponent\": -9, "
    "\"type\": \"cumulative\"}]},"
    "{\"provider\": \"kvm\", \"target\": \"vm\", \"stats\": ["
    "{\"name\": \"pages_4k\", \"exponent\": 0, \"type\": \"instant\"}]}]";

static const char *vcpu_b =
    "[{\"provider\": \"kvm\", \"qom-path\": \"/machine/unattached/device[0]\", \"stats\": ["
    "{\"name\": \"exits\", \"value\": 10}, {\"name\": \"insn_emulation\", \"value\": 5},"
    "{\"name\": \"guest_mode\", \"value\": false}, {\"name\": \"halt_wait_hist\", \"value\": "
    "[0, 1]}, {\"name\": \"halt_wait_ns\", \"value\": 7}]}]";
static const char *vcpu_a =
    "[{\"provider\": \"kvm\", \"qom-path\": \"/machine/unattached/device[0]\", \"stats\": ["
    "{\"name\": \"exits\", \"value\": 480}, {\"name\": \"insn_emulation\", \"value\": 18071},"
    "{\"name\": \"guest_mode\", \"value\": true}, {\"name\": \"halt_wait_hist\", \"value\": "
    "[2, 3, 4]}, {\"name\": \"halt_wait_ns\", \"value\": 9}]}]";
static const char *vm_b =
    "[{\"provider\": \"kvm\", \"stats\": [{\"name\": \"pages_4k\", \"value\": 0}]}]";
static const char *vm_a =
    "[{\"provider\": \"kvm\", \"stats\": [{\"name\": \"pages_4k\", \"value\": 64}]}]";

static json_int_t field(json_t *o, const char *stat, const char *f)
{
	return json_integer_value(json_object_get(json_object_get(o, stat), f));
}

Test(qmp, stats_to_kvm_shape)
{
	json_t *s = json_loads(schemas, 0, NULL), *vb = json_loads(vm_b, 0, NULL),
	       *va = json_loads(vm_a, 0, NULL), *cb = json_loads(vcpu_b, 0, NULL),
	       *ca = json_loads(vcpu_a, 0, NULL);
	struct qmp_vcpu v = {.index = 0, .tid = 4242, .qom_path = "/machine/unattached/device[0]"};
	json_t *k = qmp_stats_to_kvm(s, vb, va, cb, ca, &v, 1);
	cr_assert_not_null(k);
	json_t *vm = json_object_get(k, "vm");
	cr_assert_eq(field(vm, "pages_4k", "delta"), 64);
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(vm, "pages_4k"), "type")), "instant");
	json_t *v0 = json_array_get(json_object_get(k, "vcpus"), 0);
	cr_assert_eq(json_integer_value(json_object_get(v0, "tid")), 4242);
	json_t *st = json_object_get(v0, "stats");
	cr_assert_eq(field(st, "exits", "before"), 10);
	cr_assert_eq(field(st, "exits", "delta"), 470);
	cr_assert_eq(field(st, "insn_emulation", "after"), 18071);
	cr_assert_eq(field(st, "guest_mode", "after"), 1, "boolean as 0/1");
	cr_assert_eq(field(st, "halt_wait_hist", "delta"), 8, "histogram counts its samples");
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(st, "halt_wait_hist"), "type")),
	    "log-hist");
	cr_assert_eq(field(st, "halt_wait_ns", "exponent"), -9);
	cr_assert_eq(field(st, "exits", "base"), 10);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(st, "exits"), "unit")),
			 "none");
	json_decref(k);
	/* a vCPU that query-stats does not list: no document */
	struct qmp_vcpu w = {.index = 1, .tid = 1, .qom_path = "/machine/unattached/device[9]"};
	cr_assert_null(qmp_stats_to_kvm(s, vb, va, cb, ca, &w, 1));
	json_t *none = json_array();
	cr_assert_null(qmp_stats_to_kvm(none, vb, va, cb, ca, &v, 1), "no schema");
	json_decref(none);
	json_decref(s), json_decref(vb), json_decref(va), json_decref(cb), json_decref(ca);
}
