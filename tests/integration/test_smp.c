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

static char *run_agent(const char *cmdline, int vcpus, int *status)
{
	const char *b = getenv("VTX_BUILD");
	if (!b || access("/dev/kvm", R_OK | W_OK))
		return NULL;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "%s/vmm-lite --kernel %s/guest-agent.elf --vcpus %d --mem 64M --timeout 60 "
		 "--cmdline '%s' 2>&1",
		 b, b, vcpus, cmdline);
	FILE *f = popen(cmd, "r");
	cr_assert(f);
	size_t cap = 1 << 20, n = 0;
	char *out = calloc(1, cap);
	size_t r;
	while ((r = fread(out + n, 1, cap - 1 - n, f)) > 0)
		n += r;
	*status = pclose(f);
	return out;
}

Test(smp, two_vcpus_report_in, .timeout = 120)
{
	int st;
	char *out = run_agent("workload=sched-spinlock ms=50", 2, &st);
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
	char *out = run_agent("workload=sched-ipi mode=flag iters=100", 1, &st);
	if (!out)
		cr_skip_test("no VTX_BUILD or /dev/kvm");
	cr_assert(strstr(out, "smp: cpus=1 "), "output: %s", out);
	cr_assert(strstr(out, "unavailable: only one CPU"), "output: %s", out);
	free(out);
}
