/*
 * Self-tests of the agent's bounded interrupt waits (irq.c, hlt_skip.h):
 * vtx.selftest=lost-irq and vtx.selftest=hlt-window.
 *
 * Why: a wait that hangs is only ever seen by the VMM's watchdog, so the two
 * guarantees are proven on the real hypervisor. lost-irq waits in hlt for an
 * interrupt nobody sends: the backstop timer must wake the hlt and the wait
 * must give up with "lost interrupt" (exit status of a failed workload).
 * hlt-window makes an interrupt arrive exactly at the wait's hlt, the state
 * QEMU's TCG SVM bug produces (PLATFORM.md section 4), here on any CPU:
 * `sti; jmp ag_hlt_insn` with the timer already expired takes the interrupt
 * after the jmp (sti's shadow), before the hlt. The handler must step over
 * the hlt: the backstop then fires once, not twice (the second firing, a
 * period later, is the only other thing that could end that hlt).
 */
#include "guest-agent/agent.h"
#include "virttax/protocol.h"

#define MSR_APIC_BASE 0x1b
#define X2APIC_SVR 0x80f
#define MSR_TSC_DEADLINE 0x6e0

void ag_sti_jmp_hlt(void);
__asm__(".text\n"
	".globl ag_sti_jmp_hlt\n"
	"ag_sti_jmp_hlt: sti\n"
	"  jmp ag_hlt_insn\n"); /* ag_hlt_insn: hlt; ret (irq.c) */

static uint64_t tsc_khz(void)
{
	struct ag_tsc t;
	return ag_tsc_init(0, ag_pvm_detect(), NULL, &t) ? 0 : t.khz;
}

static void setup(struct ag_irqflag *f, uint64_t period_ticks)
{
	char why[AG_ERR_MAX] = "";
	uint64_t base = 0;
	if (ag_rdmsr_safe(MSR_APIC_BASE, &base) ||
	    ag_wrmsr_safe(MSR_APIC_BASE, base | (3u << 10)) || ag_wrmsr_safe(X2APIC_SVR, 0x1ff) ||
	    ag_irqflag_init(f) || ag_backstop_start(period_ticks, why, sizeof(why))) {
		ag_error("", why[0] ? why : "no x2APIC or interrupt flag for the selftest");
		ag_finish(VTX_GUEST_PANIC);
	}
}

static void selftest_lost_irq(void)
{
	static volatile uint64_t never; /* no handler ever counts this */
	struct ag_irqflag f;
	uint64_t khz = tsc_khz(), halts = 0, fired = ag_backstop_count;
	setup(&f, 50 * khz);
	int rc = ag_irq_wait(&f, &never, 0, 100 * khz, &halts);
	ag_backstop_stop();
	if (rc != -AG_ETIMEDOUT || ag_backstop_count == fired) {
		ag_error("", "lost-irq: the bounded wait did not give up through its backstop");
		ag_finish(VTX_GUEST_PANIC);
	}
	ag_irq_lost("lost-irq selftest: an interrupt nobody sends", 100 * khz, khz);
	ag_error("lost-irq", "bounded wait gave up (-ETIMEDOUT), woken by its backstop timer");
	ag_finish(VTX_GUEST_WL_FAILED);
}

static void selftest_hlt_window(void)
{
	struct ag_irqflag f;
	uint64_t khz = tsc_khz();
	setup(&f, 2000 * khz);
	if (f.vif) {
		ag_backstop_stop();
		ag_log("hlt-window: unavailable: on PVM interrupts wait on the VIF page, not sti");
		ag_finish(VTX_GUEST_OK);
	}
	uint64_t before = ag_backstop_count;
	__asm__ volatile("cli" ::: "memory");
	ag_wrmsr_safe(MSR_TSC_DEADLINE, 1);		       /* expired: pending until IF=1 */
	for (uint64_t t0 = ag_rdtsc(); ag_rdtsc() - t0 < khz;) /* 1 ms: surely pending */
		__asm__ volatile("pause");
	ag_sti_jmp_hlt();
	__asm__ volatile("cli" ::: "memory");
	uint64_t fired = ag_backstop_count - before;
	ag_backstop_stop();
	if (fired != 1) {
		ag_error("hlt-window", fired ? "the handler did not step over the hlt: it slept "
					       "until the next backstop period"
					     : "no interrupt was taken");
		ag_finish(VTX_GUEST_WL_FAILED);
	}
	ag_log("hlt-window: an interrupt taken at the wait's hlt was stepped over");
	ag_finish(VTX_GUEST_OK);
}

bool ag_selftest_wait(const char *name)
{
	if (ag_streq(name, "lost-irq"))
		selftest_lost_irq();
	else if (ag_streq(name, "hlt-window"))
		selftest_hlt_window();
	return false;
}
