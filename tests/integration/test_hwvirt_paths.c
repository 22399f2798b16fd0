/*
 * What only PVM hid, proven on the hypervisor at hand (this PVM host in
 * `make test`, an emulated AMD-V KVM in `make test-hwvirt`): the agent finds
 * the TSC rate in vmm-lite's CPUID timing leaf and through its PIT, without
 * tsc_khz=; the hypercall the calibration times is the CPU vendor's own and
 * its row says which; a wait for an interrupt that never comes ends as an
 * error with a reason (not the watchdog), and an interrupt taken just before
 * the wait's hlt (QEMU's TCG SVM bug, PLATFORM.md section 4) does not hang;
 * the guest's TSC is the host's (KVM gives a VT-x/AMD-V vCPU an offset).
 */
#include <cpuid.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/helpers.h"
#include "virttax/workload.h"
#include "virttax/x86_vendor.h"
#include "vmm-lite/cpuid.h"

static char *run_opts(const char *vmm_opts, const char *cmdline, int *status)
{
	char *out = itest_run_agent_opts(vmm_opts, cmdline, 1, status);
	if (!out)
		cr_skip_test("VTX_BUILD unset or /dev/kvm not usable");
	return out;
}

static char *run(const char *cmdline, int *status)
{
	return run_opts("", cmdline, status);
}

static int exit_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* "tsc_khz" of the hello record in out, after checking its tsc_src */
static long hello_khz(const char *out, const char *src)
{
	char want[64];
	snprintf(want, sizeof(want), "\"tsc_src\":\"%s\"", src);
	cr_assert(strstr(out, want), "no hello with %s:\n%s", want, out);
	const char *k = strstr(out, "\"tsc_khz\":");
	cr_assert_not_null(k);
	return strtol(k + strlen("\"tsc_khz\":"), NULL, 10);
}

static bool on_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

Test(hwvirt_paths, tsc_rate_from_vmm_lites_cpuid_timing_leaf, .timeout = 120)
{
	int st, khz = kvm_vcpu_tsc_khz();
	char *out = run("workload=noop vtx.tsc=cpuid", &st);
	cr_assert_eq(exit_code(st), 1, "status %d:\n%s", st, out);
	cr_assert_gt(khz, 0);
	cr_assert_eq(hello_khz(out, "cpuid"), khz, "the leaf must carry KVM_GET_TSC_KHZ");
	free(out);
}

Test(hwvirt_paths, tsc_rate_from_the_pit_through_port_0x61, .timeout = 120)
{
	int st, khz = kvm_vcpu_tsc_khz();
	/* the PIT is part of the full in-kernel irqchip (the default has only the LAPIC) */
	char *out = run_opts("--irqchip full", "workload=noop vtx.tsc=pit", &st);
	cr_assert_eq(exit_code(st), 1, "status %d (port 0x61 unanswered?):\n%s", st, out);
	long pit = hello_khz(out, "pit");
	/* the agent answers only when the rate is known within 1 % */
	cr_assert(labs(pit - khz) * 100 < khz, "PIT says %ld kHz, KVM %d kHz", pit, khz);
	free(out);
}

Test(hwvirt_paths, no_source_named_is_an_error_not_a_guess, .timeout = 120)
{
	int st;
	char *out = run("workload=noop vtx.tsc=cmdline", &st);
	cr_assert_eq(exit_code(st), 9, "agent panic expected, status %d:\n%s", st, out);
	cr_assert(strstr(out, "vtx.tsc= did not answer"), "%s", out);
	free(out);
}

Test(hwvirt_paths, hypercall_is_the_vendors_own_and_the_row_says_which, .timeout = 120)
{
	int st;
	char *out = run("workload=calib kinds=hypercall spacing=none goal_ms=2 rounds=3", &st);
	cr_assert_eq(exit_code(st), 1, "status %d:\n%s", st, out);
	char want[96];
	unsigned a, b, c, d;
	__cpuid(0, a, b, c, d); /* the host's CPU: what the guest's leaf 0 passes on */
	enum x86_vendor v = x86_vendor_from_cpuid(b, c, d);
	if (on_pvm())
		snprintf(want, sizeof(want), "\"how\":\"int $0x1b (PVM in-kernel hypercall)");
	else
		snprintf(want, sizeof(want), "\"how\":\"%s (CPU vendor %s)",
			 x86_vendor_uses_vmmcall(v) ? "vmmcall" : "vmcall", x86_vendor_name(v));
	cr_assert(strstr(out, want), "expected %s in:\n%s", want, out);
	free(out);
}

Test(hwvirt_paths, a_lost_interrupt_is_an_error_with_a_reason, .timeout = 120)
{
	int st;
	char *out = run("vtx.selftest=lost-irq", &st);
	/* guest status 1 (the workload failed) is vmm-lite exit 3; the watchdog's is 67 */
	cr_assert_eq(exit_code(st), 3, "status %d:\n%s", st, out);
	cr_assert(strstr(out, "lost interrupt: lost-irq selftest"), "%s", out);
	cr_assert(strstr(out, "woken by its backstop timer"), "%s", out);
	free(out);
}

Test(hwvirt_paths, an_interrupt_taken_before_the_hlt_does_not_hang_the_wait, .timeout = 120)
{
	int st;
	char *out = run("vtx.selftest=hlt-window", &st);
	if (strstr(out, "hlt-window: unavailable: on PVM")) {
		free(out);
		cr_skip_test("PVM: interrupts wait on the VIF page, not sti (runs in make "
			     "test-hwvirt)");
	}
	cr_assert_eq(exit_code(st), 1, "status %d:\n%s", st, out);
	cr_assert(strstr(out, "was stepped over"), "%s", out);
	free(out);
}

/* the agent's first instruction, in its own TSC, lies between the host's TSC
 * before vmm-lite started and after it ended: vmm-lite sets the vCPU's TSC
 * offset to 0 (on AMD-V it started near 0, and footprint's spawn-to-entry
 * time was n=0) */
Test(hwvirt_paths, the_guests_tsc_is_the_hosts, .timeout = 120)
{
	int st;
	uint64_t before = wl_rdtsc();
	char *out = run("workload=noop", &st);
	uint64_t after = wl_rdtsc();
	cr_assert_eq(exit_code(st), 1, "status %d:\n%s", st, out);
	const char *e = strstr(out, "\"tsc_entry\":");
	cr_assert_not_null(e, "no tsc_entry in the hello:\n%s", out);
	uint64_t entry = strtoull(e + strlen("\"tsc_entry\":"), NULL, 10);
	cr_assert(before < entry && entry < after,
		  "guest TSC at entry %llu not between the host's %llu and %llu (an offset?)",
		  (unsigned long long)entry, (unsigned long long)before, (unsigned long long)after);
	free(out);
}
