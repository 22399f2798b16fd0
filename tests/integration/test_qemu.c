/*
 * The QEMU driver end to end (harness/vmm_qemu.c): boots the noop workload of
 * the real agent under qemu-system-x86_64 through vmm_qemu.run and checks the
 * QMP-built vmm_stats (kvm_stats with a positive exits delta, vCPU tids), and
 * the footprint of a live QEMU, and that the agent reads the TSC rate from
 * the CPUID leaf QEMU publishes (tsc-frequency=), without tsc_khz=.
 * Skipped without QEMU or /dev/kvm.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/vmm.h"
#include "vmm-lite/cpuid.h"

static char scratch[PATH_MAX];

static void setup(void)
{
	char why[400];
	if (access("/dev/kvm", R_OK | W_OK))
		cr_skip_test("/dev/kvm not usable here");
	const char *b = getenv("VTX_BUILD");
	char agent[PATH_MAX];
	snprintf(agent, sizeof(agent), "%s/guest-agent.elf", b && *b ? b : "build");
	setenv("VIRTTAX_AGENT", agent, 1);
	if (vmm_qemu.probe(why, sizeof(why)))
		cr_skip_test("%s", why);
	snprintf(scratch, sizeof(scratch), "/tmp/vtx-qemu-XXXXXX");
	cr_assert_not_null(mkdtemp(scratch));
}

static void teardown(void)
{
	if (scratch[0])
		rmdir(scratch);
}

static struct run_spec spec(bool footprint)
{
	static const char *const args[] = {"iters=1000"};
	return (struct run_spec){.workload = "noop",
				 .wl_args = args,
				 .nwl_args = 1,
				 .cpu = 0,
				 .backing = "thp",
				 .pagesize = "2m",
				 .mem_bytes = 128ull << 20,
				 .timeout_s = 60,
				 .tsc_khz = 0,
				 .scratch_dir = scratch,
				 .vcpus = footprint ? 2 : 1,
				 .footprint = footprint};
}

Test(qemu, noop_kvm_stats_over_qmp, .init = setup, .fini = teardown, .timeout = 120)
{
	struct run_spec s = spec(false);
	struct run_result r;
	run_result_init(&r);
	s.tsc_khz = 0;
	cr_assert_eq(vmm_qemu.run(&s, &r), 0);
	cr_assert_eq(r.status, RUN_OK, "%s / %s", r.reason, r.stderr_tail);
	json_t *ks = json_object_get(r.vmm_stats, "kvm_stats");
	cr_assert(json_is_object(ks), "no kvm_stats");
	json_t *v0 = json_array_get(json_object_get(ks, "vcpus"), 0);
	cr_assert_gt(json_integer_value(json_object_get(v0, "tid")), 0, "vCPU tid not found");
	json_t *ex = json_object_get(json_object_get(v0, "stats"), "exits");
	cr_assert_gt(json_integer_value(json_object_get(ex, "delta")), 0, "exits did not grow");
	cr_assert(
	    json_is_true(json_object_get(json_object_get(r.vmm_stats, "emulation"), "native")));
	json_t *kc = json_object_get(r.collectors, "kvm-stats");
	cr_assert_null(json_object_get(kc, "reason"), "kvm-stats collector: %s",
		       json_string_value(json_object_get(kc, "reason")));
	cr_assert_gt(r.hello_ns, 0);
	run_result_release(&r);
}

Test(qemu, footprint_of_a_live_qemu, .init = setup, .fini = teardown, .timeout = 120)
{
	struct run_spec s = spec(true);
	struct run_result r;
	run_result_init(&r);
	cr_assert_eq(vmm_qemu.run(&s, &r), 0);
	cr_assert_eq(r.status, RUN_OK, "%s / exit %d / %s", r.reason, r.exit_code, r.stderr_tail);
	cr_assert_not_null(r.footprint);
	json_int_t map = json_integer_value(json_object_get(r.footprint, "guest_mapping_bytes"));
	cr_assert_geq(map, 128ll << 20);
	json_int_t o = json_integer_value(json_object_get(r.footprint, "overhead_rss_kib"));
	cr_assert_gt(o, 1024, "QEMU's own RSS is megabytes, got %lld KiB", (long long)o);
	run_result_release(&r);
}

Test(qemu, backing_other_than_thp_is_unavailable, .init = setup, .fini = teardown)
{
	struct run_spec s = spec(false);
	struct run_result r;
	run_result_init(&r);
	s.backing = "4k";
	cr_assert_eq(vmm_qemu.run(&s, &r), 0);
	cr_assert_eq(r.status, RUN_FAILED);
	cr_assert(strstr(r.reason, "unavailable"), "%s", r.reason);
	run_result_release(&r);
}

/* The QEMU path gives the agent a TSC rate of its own: with vtx.tsc=cpuid the
 * agent may use only CPUID, and must find KVM's rate there (QEMU's leaf
 * 0x40000010 from the driver's tsc-frequency=). */
Test(qemu, agent_reads_the_tsc_rate_from_qemus_cpuid, .init = setup, .fini = teardown,
     .timeout = 120)
{
	static const char *const args[] = {"iters=100", "vtx.tsc=cpuid"};
	struct run_spec s = spec(false);
	struct run_result r;
	int khz = kvm_vcpu_tsc_khz();
	cr_assert_gt(khz, 0, "KVM_GET_TSC_KHZ: %s", strerror(-khz));
	s.wl_args = args;
	s.nwl_args = 2;
	run_result_init(&r);
	cr_assert_eq(vmm_qemu.run(&s, &r), 0);
	cr_assert_eq(r.status, RUN_OK, "%s / exit %d signal %d / %s", r.reason, r.exit_code,
		     r.term_signal, r.stderr_tail);
	json_t *h = r.proto.hello;
	cr_assert_str_eq(json_string_value(json_object_get(h, "tsc_src")), "cpuid");
	cr_assert_eq(json_integer_value(json_object_get(h, "tsc_khz")), khz);
	run_result_release(&r);
}
