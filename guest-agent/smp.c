/*
 * SMP in the guest agent: start the application processors with
 * INIT/SIPI/SIPI through the x2APIC and let workloads run code on them
 * (wl_env.ncpus / cpu_run / cpu_join), plus the one-shot timer sleep of
 * sched-wakeup (wl_env.sleep_us).
 *
 * Why INIT/SIPI and not a VMM-specific start: the same image runs under
 * vmm-lite (in-kernel LAPIC, vCPUs > 0 wait for INIT/SIPI) and under QEMU.
 * The APs are started lazily, the first time a workload asks how many CPUs
 * there are, so single-CPU workloads never pay for it. How many vCPUs exist
 * is not known (no ACPI/MP tables): the SIPI is broadcast to all-but-self and
 * APs are counted as they check in, until the count has been stable for
 * SMP_SETTLE_MS. Each AP gets its own stack, GDT, TSS and (PVM) VIF page,
 * shares the BSP's IDT and page tables, reports in and then spins (pause) on
 * its mailbox. Nothing here trusts what an AP reports beyond its index,
 * which is bounds-checked in ap_start64.
 */
#include "guest-agent/agent.h"
#include "guest-agent/smp.h"
#include "virttax/protocol.h"

#define SMP_MAX_CPUS 8
#define AP_STACK 16384
#define TRAMP_GPA 0x90000ull /* below the legacy hole, above vmm-lite's VIF pages */
#define MSR_APIC_BASE 0x1b
#define X2APIC_ICR 0x830
#define X2APIC_SVR 0x80f
#define X2APIC_LVT_TIMER 0x832
#define MSR_TSC_DEADLINE 0x6e0
#define ICR_ALL_BUT_SELF (3u << 18)
#define ICR_INIT 0x4500u
#define ICR_SIPI 0x4600u
#define SMP_SETTLE_MS 60
#define SMP_MAX_WAIT_MS 400
#define SLEEP_LATE_MS 1000 /* a timer sleep woken this late lost its interrupt */
#define VEC_TIMER 0xf0
#define AG_ENOTSUP 95
#define AG_EBUSY 16

struct tss64 {
	uint32_t r0;
	uint64_t rsp[3];
	uint64_t r1;
	uint64_t ist[7];
	uint64_t r2;
	uint16_t r3, iomap;
} __attribute__((packed));

struct mailbox {
	volatile uint64_t seq, done; /* BSP bumps seq; the AP sets done = seq after fn */
	void (*volatile fn)(void *);
	void *volatile arg;
};

extern char ap_tramp_start[], ap_tramp_end[], ap_tr_gdtr[], ap_tr_far32[], ap_tr_far64[],
    ap_tr_cr3[], ap_tr_gdt[], ap_tr_prot32[], ap_start64[];
extern uint64_t ag_gdt[5];
extern char calib_irq_handler[];
extern volatile uint64_t calib_irq_tsc, calib_irq_count;
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void ap_main(uint32_t idx);

volatile uint32_t ap_next_index = 1;
uint32_t ap_max_index = SMP_MAX_CPUS;
uint64_t ap_stack_tops[SMP_MAX_CPUS];

static char ap_stacks[SMP_MAX_CPUS][AP_STACK] __attribute__((section(".stack"), aligned(4096)));
static uint8_t ap_vif[SMP_MAX_CPUS][4096] __attribute__((section(".stack"), aligned(4096)));
static uint64_t ap_gdt[SMP_MAX_CPUS][5] __attribute__((aligned(16)));
static struct tss64 ap_tss[SMP_MAX_CPUS] __attribute__((aligned(16)));
static struct mailbox mbox[SMP_MAX_CPUS] __attribute__((aligned(64)));
static volatile uint32_t online[SMP_MAX_CPUS], apic_id[SMP_MAX_CPUS], ap_vif_state[SMP_MAX_CPUS];
static struct {
	bool tried;
	uint32_t ncpus;
	char why[128];
	uint64_t start_ms; /* time from the INIT to the last check-in */
	uint16_t idtr_limit;
	uint64_t idtr_base;
	uint64_t tsc_khz;
	bool pvm;
	int timer; /* 0 untried, 1 works, -1 not */
	char timer_why[128];
} smp;

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* The LAPIC's x2APIC ID (MSR 0x802, x2APIC mode switched on first). Not
 * CPUID.1:EBX: on PVM cpuid is not intercepted and reports the physical CPU
 * the vCPU thread happens to run on. */
static uint32_t cpuid_apic_id(void)
{
	uint64_t base = 0, id = 0;
	if (ag_rdmsr_safe(MSR_APIC_BASE, &base) == 0 &&
	    ag_wrmsr_safe(MSR_APIC_BASE, base | (3u << 10)) == 0 && ag_rdmsr_safe(0x802, &id) == 0)
		return (uint32_t)id;
	uint32_t r[4];
	ag_cpuid(1, 0, r);
	return r[1] >> 24;
}

static bool cpuid_has(uint32_t ecx_bit)
{
	uint32_t r[4];
	ag_cpuid(1, 0, r);
	return r[2] & (1u << ecx_bit);
}

/* Runs on the AP, first emulated (no VIF yet on PVM), so general registers only. */
static void ap_cpu_setup(uint32_t i)
{
	uint64_t base = (uint64_t)&ap_tss[i], limit = sizeof(ap_tss[i]) - 1;
	ap_tss[i].rsp[0] = ap_stack_tops[i];
	ap_tss[i].ist[0] = ap_stack_tops[i] - AP_STACK / 2;
	ap_tss[i].iomap = sizeof(ap_tss[i]);
	memcpy(ap_gdt[i], ag_gdt, sizeof(ag_gdt));
	ap_gdt[i][3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		       (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	ap_gdt[i][4] = base >> 32;
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} gdtr = {sizeof(ap_gdt[i]) - 1, (uint64_t)ap_gdt[i]},
	  idtr = {smp.idtr_limit, smp.idtr_base};
	__asm__ volatile("lgdt %0; lidt %1; ltr %w2" ::"m"(gdtr), "m"(idtr), "r"(0x18) : "memory");
}

/* PVM: the VMM may have registered this vCPU's VIF page (vmm-lite does);
 * under QEMU with pvm.vif=1 the AP registers its own. */
static void ap_vif_register(uint32_t i)
{
	uint64_t v = 0;
	if (!smp.pvm) {
		ap_vif_state[i] = 0;
		return;
	}
	if (ag_rdmsr_safe(PVM_MSR_VIF, &v) == 0 && (v & 1)) {
		ap_vif_state[i] = 1; /* registered by the VMM */
		return;
	}
	ap_vif_state[i] = ag_wrmsr_safe(PVM_MSR_VIF, (uint64_t)ap_vif[i] | 1) == 0 ? 2 : 3;
}

void ap_main(uint32_t i)
{
	ap_cpu_setup(i);
	ap_vif_register(i);
	apic_id[i] = cpuid_apic_id();
	__atomic_store_n(&online[i], 1, __ATOMIC_RELEASE);
	uint64_t seen = 0;
	for (;;) {
		uint64_t s;
		while ((s = __atomic_load_n(&mbox[i].seq, __ATOMIC_ACQUIRE)) == seen)
			__asm__ volatile("pause");
		seen = s;
		mbox[i].fn(mbox[i].arg);
		__atomic_store_n(&mbox[i].done, s, __ATOMIC_RELEASE);
	}
}

static uint64_t ms_ticks(uint64_t ms)
{
	return ms * smp.tsc_khz;
}

static void delay_us(uint64_t us)
{
	uint64_t t0 = ag_rdtsc(), n = us * smp.tsc_khz / 1000;
	while (ag_rdtsc() - t0 < n)
		__asm__ volatile("pause");
}

static int tramp_install(void)
{
	bool ram = false;
	for (size_t r = 0; r < ag_memory_ram_count(); r++) {
		struct ag_range g = ag_memory_ram(r);
		ram |= g.start <= TRAMP_GPA && g.end >= TRAMP_GPA + 4096;
	}
	if (!ram)
		return -AG_ENOTSUP;
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	if (cr3 >> 32)
		return -AG_ENOTSUP;
	uint8_t *page = (uint8_t *)TRAMP_GPA;
	memcpy(page, ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
#define PATCH(sym, val) (*(uint32_t *)(page + ((sym)-ap_tramp_start)) = (uint32_t)(val))
	PATCH(ap_tr_gdtr + 2, TRAMP_GPA + (uint64_t)(ap_tr_gdt - ap_tramp_start));
	PATCH(ap_tr_far32, TRAMP_GPA + (uint64_t)(ap_tr_prot32 - ap_tramp_start));
	PATCH(ap_tr_far64, (uint64_t)ap_start64);
	PATCH(ap_tr_cr3, cr3);
#undef PATCH
	return 0;
}

static int x2apic_enable(void)
{
	uint64_t base = 0;
	if (!cpuid_has(21))
		return -AG_ENOTSUP;
	if (ag_rdmsr_safe(MSR_APIC_BASE, &base) ||
	    ag_wrmsr_safe(MSR_APIC_BASE, base | (3u << 10)) || ag_wrmsr_safe(X2APIC_SVR, 0x1ff))
		return -AG_EIO;
	return 0;
}

/* Count check-ins until stable for SMP_SETTLE_MS (or SMP_MAX_WAIT_MS in all). */
static uint32_t wait_checkins(uint64_t t0)
{
	uint32_t n = 1, last = 0;
	uint64_t stable_since = ag_rdtsc();
	while (ag_rdtsc() - t0 < ms_ticks(SMP_MAX_WAIT_MS)) {
		uint32_t c = 1;
		for (uint32_t i = 1; i < SMP_MAX_CPUS; i++)
			c += __atomic_load_n(&online[i], __ATOMIC_ACQUIRE) ? 1 : 0;
		if (c != n) {
			n = c;
			last = (uint32_t)((ag_rdtsc() - t0) / smp.tsc_khz);
			stable_since = ag_rdtsc();
		}
		if (n > 1 && ag_rdtsc() - stable_since > ms_ticks(SMP_SETTLE_MS))
			break;
		__asm__ volatile("pause");
	}
	smp.start_ms = last;
	return n;
}

static void cat_u64(char *m, size_t cap, uint64_t v)
{
	char num[24];
	ag_fmt_u64(num, sizeof(num), v);
	ag_strlcat(m, cap, num);
}

/* A log record (the protocol has no SMP record type): "smp: cpus=N ..." */
static void emit_smp_record(void)
{
	static const char *const vif[] = {"none", "vmm", "self", "failed"};
	char m[320] = "smp: cpus=";
	cat_u64(m, sizeof(m), smp.ncpus);
	ag_strlcat(m, sizeof(m), " apic_ids=");
	for (uint32_t i = 0; i < smp.ncpus; i++) {
		if (i)
			ag_strlcat(m, sizeof(m), ",");
		cat_u64(m, sizeof(m), apic_id[i]);
	}
	ag_strlcat(m, sizeof(m), " ap_vif=");
	for (uint32_t i = 1; i < smp.ncpus; i++) {
		if (i > 1)
			ag_strlcat(m, sizeof(m), ",");
		ag_strlcat(m, sizeof(m), vif[ap_vif_state[i] & 3]);
	}
	ag_strlcat(m, sizeof(m), " start_ms=");
	cat_u64(m, sizeof(m), smp.start_ms);
	ag_strlcat(m, sizeof(m), " how=INIT/SIPI/SIPI x2APIC broadcast, trampoline 0x90000");
	if (smp.why[0]) {
		ag_strlcat(m, sizeof(m), " why=");
		ag_strlcat(m, sizeof(m), smp.why);
	}
	ag_log(m);
}

static void smp_start(uint64_t tsc_hz)
{
	smp.tried = true;
	smp.ncpus = 1;
	smp.tsc_khz = tsc_hz / 1000;
	smp.pvm = ag_pvm_detect();
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr;
	__asm__ volatile("sidt %0" : "=m"(idtr));
	smp.idtr_limit = idtr.limit;
	smp.idtr_base = idtr.base;
	apic_id[0] = cpuid_apic_id();
	for (uint32_t i = 1; i < SMP_MAX_CPUS; i++) {
		ap_stack_tops[i] = (uint64_t)ap_stacks[i] + AP_STACK;
		memset(ap_vif[i], 0, sizeof(ap_vif[i]));
	}
	int rc = x2apic_enable();
	if (rc) {
		ag_strlcat(smp.why, sizeof(smp.why),
			   rc == -AG_ENOTSUP ? "no x2APIC in CPUID.1:ECX"
					     : "enabling x2APIC faulted");
		return;
	}
	if (tramp_install()) {
		ag_strlcat(smp.why, sizeof(smp.why),
			   "page 0x90000 is not RAM or CR3 is above 4 GiB: no trampoline");
		return;
	}
	uint64_t t0 = ag_rdtsc();
	wrmsr(X2APIC_ICR, ICR_ALL_BUT_SELF | ICR_INIT);
	delay_us(1000);
	for (int k = 0; k < 2; k++) {
		wrmsr(X2APIC_ICR, ICR_ALL_BUT_SELF | ICR_SIPI | (uint32_t)(TRAMP_GPA >> 12));
		delay_us(200);
	}
	smp.ncpus = wait_checkins(t0);
	if (smp.ncpus == 1)
		ag_strlcat(smp.why, sizeof(smp.why), "no application processor checked in");
}

unsigned ag_smp_ncpus(uint64_t tsc_hz)
{
	if (!smp.tried) {
		smp_start(tsc_hz);
		emit_smp_record();
	}
	return smp.ncpus;
}

int ag_smp_run(unsigned cpu, void (*fn)(void *), void *arg)
{
	if (!smp.tried || cpu == 0 || cpu >= smp.ncpus || !fn)
		return -AG_EINVAL;
	struct mailbox *m = &mbox[cpu];
	if (__atomic_load_n(&m->done, __ATOMIC_ACQUIRE) != m->seq)
		return -AG_EBUSY;
	m->fn = fn;
	m->arg = arg;
	__atomic_store_n(&m->seq, m->seq + 1, __ATOMIC_RELEASE);
	return 0;
}

int ag_smp_join(unsigned cpu, uint64_t max_ms)
{
	if (!smp.tried || cpu == 0 || cpu >= smp.ncpus)
		return -AG_EINVAL;
	struct mailbox *m = &mbox[cpu];
	uint64_t t0 = ag_rdtsc();
	while (__atomic_load_n(&m->done, __ATOMIC_ACQUIRE) != m->seq) {
		if (ag_rdtsc() - t0 > ms_ticks(max_ms)) {
			char msg[AG_ERR_MAX] = "smp: CPU ", num[24];
			ag_fmt_u64(num, sizeof(num), cpu);
			ag_strlcat(msg, sizeof(msg), num);
			ag_strlcat(msg, sizeof(msg), " did not finish its work within ");
			ag_fmt_u64(num, sizeof(num), max_ms);
			ag_strlcat(msg, sizeof(msg), num);
			ag_strlcat(msg, sizeof(msg), " ms (bounded join)");
			ag_log(msg);
			return -AG_ETIMEDOUT;
		}
		__asm__ volatile("pause");
	}
	return 0;
}

/* One-shot x2APIC TSC-deadline timer + hlt, with a real delivery probe first
 * (shares calib_irq_handler: it records the TSC and counts). On PVM the
 * interrupt flag is the VIF page's if_ byte (irq.c, docs/PVM-INTERRUPTS.md). */
static struct ag_irqflag bsp_irq;

static int timer_probe(void)
{
	if (smp.timer)
		return smp.timer > 0 ? 0 : -AG_ENOTSUP;
	smp.timer = -1;
	if (!cpuid_has(24) || x2apic_enable()) {
		ag_strlcat(smp.timer_why, sizeof(smp.timer_why),
			   "no x2APIC/TSC-deadline timer (CPUID.1:ECX) or enabling it faulted");
		return -AG_ENOTSUP;
	}
	if (ag_wrmsr_safe(X2APIC_LVT_TIMER, VEC_TIMER | (2u << 17))) {
		ag_strlcat(smp.timer_why, sizeof(smp.timer_why), "LVT timer write faulted");
		return -AG_ENOTSUP;
	}
	if (ag_tscdl_check(smp.timer_why, sizeof(smp.timer_why)))
		return -AG_ENOTSUP;
	if (ag_irqflag_init(&bsp_irq)) {
		ag_strlcat(smp.timer_why, sizeof(smp.timer_why),
			   "PVM without a mapped VIF page: no interrupt flag to set");
		return -AG_ENOTSUP;
	}
	ag_idt_set(VEC_TIMER, (uint64_t)calib_irq_handler, 0);
	uint64_t before = calib_irq_count, t0 = ag_rdtsc();
	wrmsr(MSR_TSC_DEADLINE, t0 + 1000);
	ag_irq_enable(&bsp_irq);
	while (calib_irq_count == before && ag_rdtsc() - t0 < ms_ticks(20))
		__asm__ volatile("pause");
	ag_irq_disable(&bsp_irq);
	if (calib_irq_count == before) {
		ag_strlcat(smp.timer_why, sizeof(smp.timer_why),
			   bsp_irq.vif ? "an armed x2APIC TSC-deadline interrupt was not delivered "
					 "within 20 ms with the PVM VIF if_ byte set (probed; see "
					 "docs/PVM-INTERRUPTS.md)"
				       : "an armed x2APIC TSC-deadline interrupt was not delivered "
					 "to the IDT within 20 ms with IF=1 (probed)");
		return -AG_ENOTSUP;
	}
	smp.timer = 1;
	return 0;
}

int ag_sleep_probe(uint64_t tsc_hz, char *why, size_t len)
{
	smp.tsc_khz = tsc_hz / 1000;
	int rc = timer_probe();
	why[0] = 0;
	ag_strlcat(why, len,
		   rc ? smp.timer_why : "x2APIC TSC-deadline one-shot, hlt until it fires");
	if (!rc) {
		ag_strlcat(why, len, "; interrupt flag: ");
		ag_strlcat(why, len, ag_irq_how(&bsp_irq));
	}
	return rc;
}

/* The deadline's own interrupt ends the hlt (a handler that lands just
 * before it steps over it, hlt_skip.h). Woken without it SLEEP_LATE_MS past
 * the deadline, the interrupt is lost: an error with a reason, not a hang. */
int ag_sleep_until(uint64_t deadline, uint64_t *woke)
{
	if (smp.timer <= 0)
		return -AG_ENOTSUP;
	uint64_t before = calib_irq_count, halts = 0, now = ag_rdtsc();
	uint64_t bound = (deadline > now ? deadline - now : 0) + ms_ticks(SLEEP_LATE_MS);
	wrmsr(MSR_TSC_DEADLINE, deadline);
	int rc = ag_irq_wait(&bsp_irq, &calib_irq_count, before, bound, &halts);
	if (bsp_irq.vif) /* the deadline and EOI wrmsr and each hlt are trapped */
		ag_declare_trapped(2 + halts);
	if (rc) {
		ag_irq_lost("the x2APIC TSC-deadline interrupt of a timer sleep", bound,
			    smp.tsc_khz);
		return rc;
	}
	*woke = calib_irq_tsc;
	return 0;
}

uint32_t ag_smp_apic_id(unsigned cpu)
{
	return cpu < smp.ncpus ? apic_id[cpu] : 0;
}
