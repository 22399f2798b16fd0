/*
 * Unit tests of collector_set_*: the whole life cycle on this test process
 * as the target (bare and "VM" with a stats JSON file), and the rule that an
 * unavailable collector reports a reason instead of failing.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "collectors/internal.h"

static void burn(void)
{
	volatile unsigned long x = 0;
	for (unsigned long i = 0; i < 30000000; i++)
		x += i;
}

static json_t *run_set(struct collector_target *t)
{
	struct collector_set s;
	cr_assert_eq(collector_set_open(&s, t), 0);
	cr_assert_gt(s.n, 4);
	cr_assert_eq(collector_set_start(&s), 0);
	burn();
	cr_assert_eq(collector_set_stop(&s), 0);
	cr_assert_eq(collector_set_finish(&s), 0);
	json_t *j = collector_set_to_json(&s);
	collector_set_close(&s);
	cr_assert_eq(s.n, 0);
	return j;
}

static const json_t *dig(const json_t *j, const char *const *keys)
{
	for (; *keys; keys++)
		j = json_is_array(j) ? json_array_get(j, 0) : json_object_get(j, *keys);
	return j;
}
#define DIG(j, ...) dig((j), (const char *const[]){__VA_ARGS__, NULL})

Test(collect_set, bare_target_on_self)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	struct collector_target t = {.kind = CT_BARE, .pid = getpid(), .tids = &tid, .ntids = 1};
	json_t *j = run_set(&t);
	/* VM-only collectors: unavailable with a reason, not an error */
	cr_assert(json_is_false(DIG(j, "kvm-stats", "available")));
	cr_assert_str_eq(json_string_value(DIG(j, "kvm-stats", "reason")),
			 "unavailable: bare-metal target has no KVM statistics");
	cr_assert(json_is_false(DIG(j, "exits", "available")));
	/* sched: the busy loop ran on this thread */
	cr_assert(json_is_true(DIG(j, "sched", "available")));
	cr_assert_gt(json_integer_value(DIG(j, "sched", "threads", "0", "run_ns")), 1000000);
	cr_assert_str_eq(json_string_value(DIG(j, "sched", "threads", "0", "role")), "workload");
	cr_assert(json_is_false(DIG(j, "sched", "steal", "available")));
	/* perf software events always; hardware only with a PMU */
	cr_assert(json_is_true(DIG(j, "perf", "available")), "%s",
		  json_string_value(DIG(j, "perf", "reason")));
	const json_t *tc = DIG(j, "perf", "threads", "0", "software", "task-clock");
	cr_assert_gt(json_real_value(json_object_get(tc, "value")), 1e6, "task-clock ns");
	cr_assert_str_eq(json_string_value(json_object_get(tc, "unit")), "ns");
	const json_t *hw = DIG(j, "perf", "hardware");
	if (json_is_false(json_object_get(hw, "available")))
		cr_assert(!strncmp(json_string_value(json_object_get(hw, "reason")),
				   "unavailable: ", 13));
	cr_assert(json_is_true(DIG(j, "topology", "available")));
	cr_assert_geq(json_integer_value(DIG(j, "topology", "pus")), 1);
	json_decref(j);
}

static const char *stats_doc =
    "{\"vmm\":\"vmm-lite\",\"version\":1,"
    "\"exits\":{\"hlt\":{\"count\":2,\"total_ns\":50,\"hist_log2_ns\":[0,2]}},"
    "\"kvm_stats\":{\"vm\":{},\"vcpus\":[{\"index\":0,\"tid\":1,\"stats\":{"
    "\"exits\":{\"before\":1,\"after\":9,\"delta\":8,\"unit\":\"none\",\"type\":\"cumulative\","
    "\"base\":10,\"exponent\":0}}}]}}";

Test(collect_set, vm_target_reads_stats_json)
{
	char path[] = "/tmp/vtx-collect-set-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, stats_doc, strlen(stats_doc)), (ssize_t)strlen(stats_doc));
	close(fd);
	pid_t tid = (pid_t)syscall(SYS_gettid);
	struct collector_target t = {.kind = CT_VM,
				     .pid = getpid(),
				     .tids = &tid,
				     .ntids = 1,
				     .vmm_stats_json = path,
				     .vmm_name = "vmm-lite"};
	json_t *j = run_set(&t);
	cr_assert(json_is_true(DIG(j, "kvm-stats", "available")));
	cr_assert_eq(json_integer_value(DIG(j, "kvm-stats", "vcpu_totals", "exits", "value")), 8);
	cr_assert_float_eq(json_real_value(DIG(j, "exits", "reasons", "hlt", "mean_ns")), 25.0,
			   1e-9);
	cr_assert_str_eq(json_string_value(DIG(j, "sched", "threads", "0", "role")), "vcpu0");
	json_decref(j);
	/* the VMM died before writing its stats: reported, the set still succeeds */
	unlink(path);
	j = run_set(&t);
	cr_assert(json_is_false(DIG(j, "kvm-stats", "available")));
	cr_assert(strstr(json_string_value(DIG(j, "kvm-stats", "reason")), path));
	json_decref(j);
}

Test(collect_set, other_vmms_say_why)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	struct collector_target t = {.kind = CT_VM,
				     .pid = getpid(),
				     .tids = &tid,
				     .ntids = 1,
				     .vmm_stats_json = NULL,
				     .vmm_name = "qemu"};
	/* the QEMU driver writes the same stats JSON (from QMP query-stats); none here */
	json_t *j = run_set(&t);
	cr_assert_str_eq(json_string_value(DIG(j, "kvm-stats", "reason")),
			 "unavailable: no VMM stats JSON path");
	cr_assert(strstr(json_string_value(DIG(j, "exits", "reason")), "does not account exits"));
	json_decref(j);
	t.vmm_name = "firecracker";
	j = run_set(&t);
	cr_assert(strstr(json_string_value(DIG(j, "kvm-stats", "reason")), "no KVM stats source"));
	json_decref(j);
}

Test(collect_set, stop_without_start_is_reported)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	struct collector_target t = {.kind = CT_BARE, .pid = getpid(), .tids = &tid, .ntids = 1};
	struct collector_set s;
	cr_assert_eq(collector_set_open(&s, &t), 0);
	cr_assert_eq(collector_set_stop(&s), 0);
	json_t *j = collector_set_to_json(&s);
	cr_assert_str_eq(json_string_value(DIG(j, "sched", "threads", "0", "error")),
			 "not sampled at start and stop");
	json_decref(j);
	collector_set_close(&s);
}

Test(collect_set, environment_of_this_machine)
{
	json_t *e = environment_collect(NULL);
	cr_assert_not_null(e);
	cr_assert(json_is_true(json_object_get(e, "live_probes")));
	const json_t *kvm = json_object_get(e, "kvm");
	const char *fl = json_string_value(json_object_get(kvm, "flavour"));
	cr_assert_not_null(fl);
	/* the flavour follows /sys/module, whatever this machine is */
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		cr_assert_str_eq(fl, "pvm");
	else if (access("/sys/module/kvm_intel", F_OK) == 0)
		cr_assert_str_eq(fl, "vmx");
	const json_t *dev = json_object_get(kvm, "dev_kvm");
	cr_assert_eq(json_is_true(json_object_get(dev, "present")), access("/dev/kvm", F_OK) == 0);
	cr_assert(json_is_boolean(json_object_get(json_object_get(e, "pmu"), "available")));
	/* the emulation probe ran (vmm-lite next to the test binary) or says why not */
	const json_t *emu = json_object_get(kvm, "emulation_probe");
	cr_assert(json_is_boolean(json_object_get(emu, "available")));
	if (json_is_true(json_object_get(emu, "available")))
		cr_assert(json_is_boolean(json_object_get(emu, "native")));
	else
		cr_assert(
		    !strncmp(json_string_value(json_object_get(emu, "reason")), "unavailable", 11));
	cr_assert(json_is_array(json_object_get(e, "problems")));
	json_decref(e);
}
