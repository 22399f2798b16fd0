/*
 * IPI ping-pong between CPU 0 and CPU 1 of the guest (calib kind `ipi`,
 * sched-ipi mode=wake): CPU 0 sends a fixed x2APIC IPI, CPU 1 wakes from
 * hlt in its handler and answers with another IPI, CPU 0 wakes from hlt.
 *
 * Why a probe first and a bounded probe responder: interrupt delivery to a
 * natively running guest is hypervisor specific (on PVM it goes through the
 * VIF page, irq.c, docs/PVM-INTERRUPTS.md). The probe does one round trip
 * with both sides spinning for at most 20 ms, so a host that does not
 * deliver costs 20 ms and an `unavailable: <reason>`, never a hang. Each
 * direction has its own vector, so the handlers need no per-CPU state.
 * The measured ping-pong hlts on both CPUs, so each runs a backstop timer
 * (irq.c: one interrupt per IPI_WAIT_MS) and gives up a round trip that
 * takes longer than that: a lost IPI is an error with a reason, not a hang.
 */
#include "guest-agent/agent.h"
#include "guest-agent/hlt_skip.h"
#include "guest-agent/smp.h"

#define VEC_PING 0xf3 /* to CPU 1 */
#define VEC_PONG 0xf4 /* to CPU 0 */
#define X2APIC_ICR 0x830
#define X2APIC_SVR 0x80f
#define PROBE_MS 20
#define IPI_WAIT_MS 1000 /* a round trip this slow lost its IPI; also the backstop period */
#define AG_ENOTSUP 95

volatile uint64_t ipi_ping_count, ipi_pong_count, ipi_ping_tsc, ipi_pong_tsc;
extern char ipi_ping_handler[], ipi_pong_handler[];

/* handler: count, TSC, the wait's hlt stepped over (hlt_skip.h), x2APIC EOI (MSR 0x80b), iretq */
/* clang-format off */
#define IPI_HANDLER(name, count, tsc)                                          \
	__asm__(".text\n" #name ":\n"                                          \
		"  pushq %rax; pushq %rcx; pushq %rdx\n"                       \
		"  rdtsc; shlq $32, %rdx; orq %rdx, %rax\n"                    \
		"  movq %rax, " #tsc "(%rip)\n"                                \
		"  lock incq " #count "(%rip)\n"                               \
		AG_HLT_SKIP_STR(24)                                            \
		"  movl $0x80b, %ecx; xorl %eax, %eax; xorl %edx, %edx; wrmsr\n" \
		"  popq %rdx; popq %rcx; popq %rax\n"                          \
		"  iretq\n")
/* clang-format on */
IPI_HANDLER(ipi_ping_handler, ipi_ping_count, ipi_ping_tsc);
IPI_HANDLER(ipi_pong_handler, ipi_pong_count, ipi_pong_tsc);

static struct {
	bool tried, ok;
	char why[160];
	uint64_t tsc_khz;
	struct ag_irqflag bsp;
} ip;

struct responder {
	uint64_t n; /* round trips to answer; 0: probe (spin, bounded) */
	uint32_t bsp_apic;
	volatile uint32_t ready; /* 1: the AP has its interrupt flag on; 2: it failed */
	volatile uint64_t halts, answered, lost;
	uint64_t bound_ticks;
};

static inline void send_ipi(uint32_t apic, uint32_t vec)
{
	uint64_t v = ((uint64_t)apic << 32) | vec; /* fixed, physical, edge */
	__asm__ volatile("wrmsr" ::"c"(X2APIC_ICR), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static struct ag_irqflag ap_flag; /* CPU 1's, set up by the probe */

static void responder(void *arg)
{
	struct responder *r = arg;
	const struct ag_irqflag *fp = &ap_flag;
	/* once, in the probe: the AP's LAPIC is in x2APIC mode (smp.c) but
	 * software-disabled until SVR bit 8 is set (it would accept no fixed
	 * interrupt), and its interrupt flag (its own VIF page on PVM) */
	if (!r->n && (ag_wrmsr_safe(X2APIC_SVR, 0x1ff) || ag_irqflag_init(&ap_flag))) {
		r->ready = 2;
		return;
	}
	if (r->n && ag_backstop_start(r->bound_ticks, NULL, 0)) {
		r->ready = 2;
		return;
	}
	uint64_t seen = ipi_ping_count, halts = 0, done = 0;
	ag_irq_enable(fp);
	__atomic_store_n(&r->ready, 1, __ATOMIC_RELEASE);
	if (!r->n) { /* probe: spin, bounded */
		uint64_t t0 = ag_rdtsc();
		while (ipi_ping_count == seen && ag_rdtsc() - t0 < r->bound_ticks)
			__asm__ volatile("pause");
		if (ipi_ping_count != seen) {
			send_ipi(r->bsp_apic, VEC_PONG);
			done = 1;
		}
	} else {
		for (; done < r->n; done++) {
			if (ag_irq_wait(fp, &ipi_ping_count, seen + done, r->bound_ticks, &halts)) {
				r->lost = 1;
				break;
			}
			ag_irq_enable(fp); /* a wait that hlted returns with the flag off */
			send_ipi(r->bsp_apic, VEC_PONG);
		}
		ag_backstop_stop();
	}
	ag_irq_disable(fp);
	r->halts = halts;
	r->answered = done;
}

static int fail(const char *a)
{
	ip.why[0] = 0;
	ag_strlcat(ip.why, sizeof(ip.why), a);
	return -AG_ENOTSUP;
}

static int probe(uint64_t tsc_hz)
{
	ip.tsc_khz = tsc_hz / 1000;
	if (ag_smp_ncpus(tsc_hz) < 2)
		return fail("needs a second vCPU running agent code: only one CPU checked in "
			    "(boot the VM with --vcpus 2)");
	if (ag_irqflag_init(&ip.bsp))
		return fail("PVM without a mapped VIF page: no interrupt flag to set");
	char why[AG_ERR_MAX] = "";
	if (ag_backstop_start(PROBE_MS * ip.tsc_khz, why, sizeof(why))) {
		ag_backstop_stop();
		ip.why[0] = 0;
		ag_strlcat(ip.why, sizeof(ip.why),
			   "its hlt waits need the x2APIC TSC-deadline timer as a backstop: ");
		ag_strlcat(ip.why, sizeof(ip.why), why);
		return -AG_ENOTSUP;
	}
	ag_backstop_stop();
	ag_idt_set(VEC_PING, (uint64_t)ipi_ping_handler, 0);
	ag_idt_set(VEC_PONG, (uint64_t)ipi_pong_handler, 0);
	struct responder r = {
	    .n = 0, .bsp_apic = ag_smp_apic_id(0), .bound_ticks = PROBE_MS * ip.tsc_khz};
	uint64_t pong0 = ipi_pong_count;
	if (ag_smp_run(1, responder, &r))
		return fail("CPU 1 did not take the probe (mailbox busy)");
	uint64_t t0 = ag_rdtsc();
	while (!__atomic_load_n(&r.ready, __ATOMIC_ACQUIRE) && ag_rdtsc() - t0 < r.bound_ticks)
		__asm__ volatile("pause");
	ag_irq_enable(&ip.bsp);
	send_ipi(ag_smp_apic_id(1), VEC_PING);
	t0 = ag_rdtsc();
	while (ipi_pong_count == pong0 && ag_rdtsc() - t0 < 2 * r.bound_ticks)
		__asm__ volatile("pause");
	ag_irq_disable(&ip.bsp);
	if (ag_smp_join(1, 2 * PROBE_MS + 100))
		return fail("CPU 1 did not finish the bounded probe responder");
	if (r.ready != 1)
		return fail("CPU 1 could not enable its x2APIC (SVR) or found no PVM VIF page");
	if (!r.answered)
		return fail(ip.bsp.vif
				? "a fixed x2APIC IPI to CPU 1 was not delivered within 20 ms "
				  "with its PVM VIF if_ byte set (probed; docs/PVM-INTERRUPTS.md)"
				: "a fixed x2APIC IPI to CPU 1 was not delivered within 20 ms "
				  "with IF=1 (probed)");
	if (ipi_pong_count == pong0)
		return fail("CPU 1 answered, but its IPI back to CPU 0 was not delivered within "
			    "40 ms (probed)");
	return 0;
}

int ag_ipi_probe(uint64_t tsc_hz, char *why, size_t len)
{
	if (!ip.tried) {
		ip.tried = true;
		ip.ok = probe(tsc_hz) == 0;
	}
	why[0] = 0;
	if (!ip.ok) {
		ag_strlcat(why, len, ip.why);
		return -AG_ENOTSUP;
	}
	ag_strlcat(why, len,
		   "x2APIC fixed IPI CPU0 -> CPU1 -> CPU0, both waiting in hlt "
		   "(one op = one round trip); interrupt flag: ");
	ag_strlcat(why, len, ag_irq_how(&ip.bsp));
	return 0;
}

static int lost(const char *what, uint64_t bound)
{
	ag_irq_lost(what, bound, ip.tsc_khz);
	return -AG_ETIMEDOUT;
}

/* n round trips; *ticks = TSC ticks from the first IPI to the last answer.
 * Each round trip is bounded by IPI_WAIT_MS (backstop timers on both CPUs). */
int ag_ipi_pingpong(uint64_t n, uint64_t *ticks)
{
	if (!ip.ok || !n)
		return -AG_EINVAL;
	uint64_t bound = IPI_WAIT_MS * ip.tsc_khz;
	struct responder r = {.n = n, .bsp_apic = ag_smp_apic_id(0), .bound_ticks = bound};
	uint32_t ap = ag_smp_apic_id(1);
	uint64_t halts = 0, fired0 = ag_backstop_count;
	char why[AG_ERR_MAX];
	if (ag_backstop_start(bound, why, sizeof(why))) {
		ag_log(why);
		return -AG_EIO;
	}
	if (ag_smp_run(1, responder, &r)) {
		ag_backstop_stop();
		return -AG_EIO;
	}
	uint64_t t0 = ag_rdtsc();
	while (!__atomic_load_n(&r.ready, __ATOMIC_ACQUIRE) && ag_rdtsc() - t0 < bound)
		__asm__ volatile("pause");
	int rc = r.ready == 1 ? 0 : -AG_EIO;
	uint64_t pong0 = ipi_pong_count, i = 1;
	t0 = ag_rdtsc();
	ag_irq_enable(&ip.bsp);
	for (; !rc && i <= n; i++) {
		send_ipi(ap, VEC_PING);
		rc = ag_irq_wait(&ip.bsp, &ipi_pong_count, pong0 + i - 1, bound, &halts);
		ag_irq_enable(&ip.bsp); /* a wait that hlted returns with the flag off */
	}
	*ticks = ag_rdtsc() - t0;
	ag_irq_disable(&ip.bsp);
	ag_backstop_stop();
	if (ag_smp_join(1, 3 * IPI_WAIT_MS)) /* the AP gives up within two backstop periods */
		return -AG_ETIMEDOUT;
	if (ip.bsp.vif) /* ICR and EOI wrmsr on both sides and every hlt; 4 backstop
			 * start/stop wrmsr per side, 2 per firing */
		ag_declare_trapped(4 * n + halts + r.halts + 8 + 2 * (ag_backstop_count - fired0));
	if (r.ready != 1) {
		ag_log("ipi: CPU 1 could not start its backstop timer (x2APIC TSC-deadline)");
		return -AG_EIO;
	}
	if (r.lost)
		return lost("an x2APIC IPI from CPU 0 to CPU 1 (ping-pong)", bound);
	if (rc)
		return lost("an x2APIC IPI from CPU 1 to CPU 0 (ping-pong)", bound);
	return 0;
}
