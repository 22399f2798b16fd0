/*
 * Integration: interrupt delivery to the natively running guest agent
 * (docs/PVM-INTERRUPTS.md). On the PVM host (module kvm_pvm) the outcome is
 * known and asserted: the VIF page's if_ byte opens the interrupt window
 * (sti does not), so the timer sleep of sched-wakeup, the IPI ping-pong of
 * sched-ipi wake and the interrupt kinds of calibrate are available with
 * n > 0 and the run stays native. Elsewhere each of them must either measure
 * or say "unavailable: <reason>". Skipped without VTX_BUILD or /dev/kvm.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static bool on_pvm(void)
{
	struct stat st;
	return stat("/sys/module/kvm_pvm", &st) == 0;
}

Test(pvm_irq, lab_shows_the_vif_protocol, .timeout = 60)
{
	int st;
	char *out = itest_run_agent("vtx.selftest=pvmirq", 1, &st);
	if (!out)
		cr_skip_test("no VTX_BUILD or /dev/kvm");
	if (!on_pvm()) {
		cr_assert(strstr(out, "pvmirq: not a PVM host"), "output: %s", out);
		free(out);
		return;
	}
	/* sti alone: nothing; if_ = 1: delivered, handler entered with if_ cleared */
	cr_assert(strstr(out, "pvmirq A_sti_spin delivered=0 "), "output: %s", out);
	cr_assert(strstr(out, "pvmirq B_vifif1_spin delivered=1 "), "output: %s", out);
	cr_assert(strstr(out, "h_vif_if=0"), "output: %s", out);
	/* if_ = 0: PVM marks the interrupt pending instead of injecting it */
	cr_assert(strstr(out, "E_vifif0_deadline1ms_spin5ms delivered=0 "), "output: %s", out);
	cr_assert(strstr(out, "vif_if=0 vif_pending=1"), "output: %s", out);
	cr_assert(strstr(out, "F_vifif1_after_pending delivered=1 "), "output: %s", out);
	cr_assert(strstr(out, "H_vifif1_selfipi delivered=1 "), "output: %s", out);
	cr_assert(strstr(out, "{\"t\":\"done\",\"status\":0}"), "output: %s", out);
	cr_assert_eq(WEXITSTATUS(st), 1, "vmm-lite status %d", WEXITSTATUS(st));
	free(out);
}

Test(pvm_irq, sched_wakeup_sleeps_in_the_vm, .timeout = 60)
{
	int st;
	char *out = itest_run_agent("workload=sched-wakeup iters=300", 1, &st);
	if (!out)
		cr_skip_test("no VTX_BUILD or /dev/kvm");
	if (on_pvm() || !strstr(out, "sched-wakeup: unavailable: ")) {
		cr_assert(strstr(out, "\"m\":\"lateness_samples\",\"u\":\"count\",\"better\":"
				      "\"higher\",\"v\":300}"),
			  "output: %s", out);
		cr_assert(!strstr(out, "unavailable"), "output: %s", out);
		/* exit 1 = the guest wrote 0: not the emulation verdict's 68 */
		cr_assert_eq(WEXITSTATUS(st), 1, "vmm-lite status %d: %s", WEXITSTATUS(st), out);
	}
	free(out);
}

Test(pvm_irq, sched_ipi_wake_pingpongs, .timeout = 120)
{
	int st;
	char *out = itest_run_agent("workload=sched-ipi mode=wake iters=300", 2, &st);
	if (!out)
		cr_skip_test("no VTX_BUILD or /dev/kvm");
	if (on_pvm() || !strstr(out, "sched-ipi wake: unavailable: ")) {
		cr_assert(strstr(out, "sched-ipi wake: IPI ping-pong between two vCPUs"),
			  "output: %s", out);
		cr_assert(strstr(out, "\"m\":\"wake_rtt_samples\""), "output: %s", out);
		cr_assert_eq(WEXITSTATUS(st), 1, "vmm-lite status %d: %s", WEXITSTATUS(st), out);
	}
	free(out);
}

Test(pvm_irq, one_vcpu_ipi_says_why, .timeout = 60)
{
	int st;
	char *out = itest_run_agent("workload=sched-ipi mode=wake iters=100", 1, &st);
	if (!out)
		cr_skip_test("no VTX_BUILD or /dev/kvm");
	cr_assert(strstr(out, "sched-ipi wake: unavailable: needs a second vCPU"), "output: %s",
		  out);
	free(out);
}

Test(pvm_irq, calibrate_interrupt_kinds, .timeout = 120)
{
	const char *b = getenv("VTX_BUILD");
	if (!b || access("/dev/kvm", R_OK | W_OK))
		cr_skip_test("no VTX_BUILD or /dev/kvm");
	char dir[] = "/tmp/vtx-pvmirq-XXXXXX", cmd[1024], path[256];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cal.json", dir);
	snprintf(cmd, sizeof(cmd), "%s/virttax calibrate --quick --out %s >/dev/null 2>&1", b,
		 path);
	int st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "calibrate status %d", st);
	json_error_t e;
	json_t *c = json_load_file(path, 0, &e);
	cr_assert_not_null(c, "%s", e.text);
	const char *kinds[] = {"hlt-timer", "self-ipi", "ipi", "timer-latency"};
	for (size_t i = 0; i < 4; i++) {
		json_t *k = json_object_get(json_object_get(c, "vm"), kinds[i]);
		cr_assert_not_null(k, "vm.%s missing", kinds[i]);
		if (json_is_true(json_object_get(k, "available"))) {
			cr_assert_gt(json_integer_value(json_object_get(k, "n")), 0);
			cr_assert_gt(json_number_value(json_object_get(k, "ns")), 0);
		} else {
			const char *r = json_string_value(json_object_get(k, "reason"));
			cr_assert(!on_pvm(), "vm.%s unavailable on PVM: %s", kinds[i], r);
			cr_assert(r && *r, "vm.%s unavailable without a reason", kinds[i]);
		}
	}
	json_decref(c);
	unlink(path);
	rmdir(dir);
}
