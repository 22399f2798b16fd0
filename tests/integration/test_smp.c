/*
 * Integration: the guest agent brings up its application processor with
 * INIT/SIPI under vmm-lite (2 vCPUs) and both CPUs report in; sched-spinlock
 * then runs on both and its lock check (counter == acquisitions) passes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

Test(smp, two_vcpus_report_in, .timeout = 120)
{
	int st;
	char *out = itest_run_agent("workload=sched-spinlock ms=50", 2, &st);
	if (!out)
		cr_skip_test("no VTX_BUILD or /dev/kvm");
	cr_assert(strstr(out, "smp: cpus=2 "), "output: %s", out);
	cr_assert(strstr(out, "apic_ids=0,1") || strstr(out, "apic_ids=1,0"), "output: %s", out);
	cr_assert(strstr(out, "\"m\":\"throughput\""), "output: %s", out);
	cr_assert(strstr(out, "{\"t\":\"done\",\"status\":0}"), "output: %s", out);
	cr_assert_eq(WEXITSTATUS(st), 1, "vmm-lite status %d", WEXITSTATUS(st));
	free(out);
}

Test(smp, one_vcpu_says_so, .timeout = 120)
{
	int st;
	char *out = itest_run_agent("workload=sched-ipi mode=flag iters=100", 1, &st);
	if (!out)
		cr_skip_test("no VTX_BUILD or /dev/kvm");
	cr_assert(strstr(out, "smp: cpus=1 "), "output: %s", out);
	cr_assert(strstr(out, "unavailable: only one CPU"), "output: %s", out);
	free(out);
}
