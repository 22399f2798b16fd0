/*
 * vtx.selftest=pvmirq: the experiments behind docs/PVM-INTERRUPTS.md.
 *
 * Why: on the PVM host external interrupts did not reach a natively running
 * guest. This selftest replays, on request, each experiment that found out
 * how this PVM delivers them (the VIF page's if_/pending bytes), printing one
 * log record per experiment, so that the finding can be re-checked on any
 * host (and under QEMU) with one command.
 */
#include "guest-agent/agent.h"
#include "virttax/protocol.h"

#define LAB_VEC 0xf2
#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define X2APIC_SVR 0x80f
#define X2APIC_EOI 0x80b
#define X2APIC_LVT_TIMER 0x832
#define X2APIC_SELF_IPI 0x83f

struct lab_frame {
	uint64_t rip, cs, rflags, rsp, ss;
};

volatile uint64_t lab_irq_count, lab_irq_tsc, lab_irq_rflags, lab_irq_cs;
volatile uint8_t lab_irq_vif_if, lab_irq_vif_pending;
static volatile uint8_t *lab_vif;
extern char lab_irq_stub[];
void lab_irq_c(struct lab_frame *f);

__asm__(".text\n"
	"lab_irq_stub:\n"
	"  pushq %rax; pushq %rcx; pushq %rdx; pushq %rsi; pushq %rdi\n"
	"  pushq %r8; pushq %r9; pushq %r10; pushq %r11\n"
	"  leaq 72(%rsp), %rdi\n"
	"  cld\n"
	"  call lab_irq_c\n"
	"  popq %r11; popq %r10; popq %r9; popq %r8\n"
	"  popq %rdi; popq %rsi; popq %rdx; popq %rcx; popq %rax\n"
	"  iretq\n");

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

void lab_irq_c(struct lab_frame *f)
{
	lab_irq_tsc = ag_rdtsc();
	lab_irq_rflags = f->rflags;
	lab_irq_cs = f->cs;
	if (lab_vif) {
		lab_irq_vif_if = lab_vif[0];
		lab_irq_vif_pending = lab_vif[1];
	}
	lab_irq_count++;
	wrmsr(X2APIC_EOI, 0);
}

static uint64_t rflags(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static void cat_kv(char *m, size_t cap, const char *k, uint64_t v)
{
	char num[24];
	ag_strlcat(m, cap, " ");
	ag_strlcat(m, cap, k);
	ag_strlcat(m, cap, "=");
	ag_fmt_u64(num, sizeof(num), v);
	ag_strlcat(m, cap, num);
}

static uint64_t khz;

/* Spin up to ms milliseconds for the count to move; returns ticks waited. */
static uint64_t spin_for_irq(uint64_t before, uint64_t ms)
{
	uint64_t t0 = ag_rdtsc();
	while (lab_irq_count == before && ag_rdtsc() - t0 < ms * khz)
		__asm__ volatile("pause");
	return ag_rdtsc() - t0;
}

static void report(const char *name, uint64_t before, uint64_t waited)
{
	char m[400] = "pvmirq ";
	ag_strlcat(m, sizeof(m), name);
	cat_kv(m, sizeof(m), "delivered", lab_irq_count - before);
	cat_kv(m, sizeof(m), "waited_us", waited / (khz / 1000 ? khz / 1000 : 1));
	cat_kv(m, sizeof(m), "vif_if", lab_vif ? lab_vif[0] : 255);
	cat_kv(m, sizeof(m), "vif_pending", lab_vif ? lab_vif[1] : 255);
	cat_kv(m, sizeof(m), "rflags", rflags());
	if (lab_irq_count != before) {
		cat_kv(m, sizeof(m), "h_rflags", lab_irq_rflags);
		cat_kv(m, sizeof(m), "h_cs", lab_irq_cs);
		cat_kv(m, sizeof(m), "h_vif_if", lab_irq_vif_if);
		cat_kv(m, sizeof(m), "h_vif_pending", lab_irq_vif_pending);
	}
	ag_log(m);
}

static void hypercall_probe(void)
{
	uint64_t ret;
	__asm__ volatile("int $0x1b" : "=a"(ret) : "a"(0xfffull) : "memory", "rcx", "r11");
	(void)ret;
}

static void lab_run(void)
{
	uint64_t vifmsr = 0, base = 0, before, w;
	if (ag_rdmsr_safe(PVM_MSR_VIF, &vifmsr) == 0 && (vifmsr & 1))
		lab_vif = (volatile uint8_t *)(vifmsr & ~0xfffull);
	{
		char m[200] = "pvmirq start";
		cat_kv(m, sizeof(m), "vif_msr", vifmsr);
		cat_kv(m, sizeof(m), "rflags", rflags());
		if (lab_vif)
			for (int i = 0; i < 16; i += 8)
				cat_kv(m, sizeof(m), i ? "vif8" : "vif0",
				       *(volatile uint64_t *)(lab_vif + i));
		ag_log(m);
	}
	if (ag_rdmsr_safe(MSR_APIC_BASE, &base) ||
	    ag_wrmsr_safe(MSR_APIC_BASE, base | (3u << 10)) || ag_wrmsr_safe(X2APIC_SVR, 0x1ff) ||
	    ag_wrmsr_safe(X2APIC_LVT_TIMER, LAB_VEC | (2u << 17))) {
		ag_log("pvmirq: x2APIC setup faulted");
		return;
	}
	ag_idt_set(LAB_VEC, (uint64_t)lab_irq_stub, 0);

	/* A: deadline in the past-ish, sti, spin */
	before = lab_irq_count;
	wrmsr(MSR_TSC_DEADLINE, ag_rdtsc() + 1000);
	__asm__ volatile("sti" ::: "memory");
	w = spin_for_irq(before, 20);
	report("A_sti_spin", before, w);
	/* B: vif.if_ = 1 and spin (the timer is pending in the LAPIC) */
	if (lab_vif) {
		before = lab_irq_count;
		lab_vif[0] = 1;
		w = spin_for_irq(before, 20);
		report("B_vifif1_spin", before, w);
		lab_vif[0] = 0;
		/* C: vif.if_=1 then a hypercall (an exit) */
		before = lab_irq_count;
		lab_vif[0] = 1;
		hypercall_probe();
		w = spin_for_irq(before, 20);
		report("C_vifif1_hypercall", before, w);
		lab_vif[0] = 0;
		/* D: fresh deadline 1 ms ahead, if_=1, spin (host timer must kick us) */
		before = lab_irq_count;
		lab_vif[0] = 1;
		wrmsr(MSR_TSC_DEADLINE, ag_rdtsc() + khz);
		w = spin_for_irq(before, 20);
		report("D_vifif1_deadline1ms_spin", before, w);
		lab_vif[0] = 0;
		/* E: deadline 1 ms ahead, if_=0, spin: does pending get set? */
		before = lab_irq_count;
		wrmsr(MSR_TSC_DEADLINE, ag_rdtsc() + khz);
		w = spin_for_irq(before, 5);
		report("E_vifif0_deadline1ms_spin5ms", before, w);
		/* F: then if_=1, check pending, hypercall if pending */
		before = lab_irq_count;
		lab_vif[0] = 1;
		if (lab_vif[1])
			hypercall_probe();
		w = spin_for_irq(before, 20);
		report("F_vifif1_after_pending", before, w);
		lab_vif[0] = 0;
		/* G: hlt with if_=1, deadline 1 ms ahead */
		before = lab_irq_count;
		wrmsr(MSR_TSC_DEADLINE, ag_rdtsc() + khz);
		lab_vif[0] = 1;
		uint64_t t0 = ag_rdtsc();
		__asm__ volatile("hlt" ::: "memory");
		w = ag_rdtsc() - t0;
		report("G_vifif1_hlt_1ms", before, w);
		lab_vif[0] = 0;
		/* G2: hlt in a loop with if_=1 until delivered */
		before = lab_irq_count;
		wrmsr(MSR_TSC_DEADLINE, ag_rdtsc() + khz);
		lab_vif[0] = 1;
		t0 = ag_rdtsc();
		uint64_t nhlt = 0;
		while (lab_irq_count == before && ag_rdtsc() - t0 < 20 * khz) {
			__asm__ volatile("hlt" ::: "memory");
			nhlt++;
		}
		w = ag_rdtsc() - t0;
		report("G2_vifif1_hlt_loop_1ms", before, w);
		{
			char m[64] = "pvmirq G2 hlt_count";
			cat_kv(m, sizeof(m), "n", nhlt);
			ag_log(m);
		}
		lab_vif[0] = 0;
		/* G3: PVM_HC_HALT (4105) hypercall via int $0x1b, if_=1 */
		for (uint64_t nr = 4105; nr <= 4105; nr++) {
			before = lab_irq_count;
			wrmsr(MSR_TSC_DEADLINE, ag_rdtsc() + khz);
			lab_vif[0] = 1;
			t0 = ag_rdtsc();
			uint64_t ret;
			__asm__ volatile("int $0x1b"
					 : "=a"(ret)
					 : "a"(nr)
					 : "memory", "rcx", "r11");
			w = ag_rdtsc() - t0;
			report("G3_vifif1_hc_halt", before, w);
			char m[64] = "pvmirq G3";
			cat_kv(m, sizeof(m), "ret", ret);
			ag_log(m);
			spin_for_irq(before, 20);
			lab_vif[0] = 0;
		}
		/* I: latency series: 20 x deadline 1 ms ahead, wait by spin / hlt loop / HC_HALT */
		for (int mode = 0; mode < 3; mode++) {
			uint64_t late[20], nexit = 0;
			for (int k = 0; k < 20; k++) {
				before = lab_irq_count;
				uint64_t dl = ag_rdtsc() + khz;
				wrmsr(MSR_TSC_DEADLINE, dl);
				lab_vif[0] = 1;
				while (lab_irq_count == before) {
					if (mode == 1)
						__asm__ volatile("hlt" ::: "memory");
					else if (mode == 2) {
						uint64_t r;
						__asm__ volatile("int $0x1b"
								 : "=a"(r)
								 : "a"(4105ull)
								 : "memory", "rcx", "r11");
					} else
						__asm__ volatile("pause");
					nexit += mode ? 1 : 0;
				}
				lab_vif[0] = 0;
				late[k] = lab_irq_tsc > dl ? lab_irq_tsc - dl : 0;
			}
			for (int i = 1; i < 20; i++)
				for (int j = i; j > 0 && late[j] < late[j - 1]; j--) {
					uint64_t t = late[j];
					late[j] = late[j - 1];
					late[j - 1] = t;
				}
			char m[200] = "pvmirq I_latency";
			cat_kv(m, sizeof(m), "mode", (uint64_t)mode);
			cat_kv(m, sizeof(m), "p50_ns", late[10] * 1000000 / khz);
			cat_kv(m, sizeof(m), "min_ns", late[0] * 1000000 / khz);
			cat_kv(m, sizeof(m), "max_ns", late[19] * 1000000 / khz);
			cat_kv(m, sizeof(m), "waits", nexit);
			ag_log(m);
		}
		/* G5: lost-wakeup check: an interrupt delivered just before hlt
		 * (self-IPI, if_=1), then hlt with a 5 ms backstop deadline */
		for (int k = 0; k < 2; k++) {
			before = lab_irq_count;
			lab_vif[0] = 1;
			wrmsr(X2APIC_SELF_IPI, LAB_VEC);
			uint64_t got = lab_irq_count - before;
			wrmsr(MSR_TSC_DEADLINE, ag_rdtsc() + 5 * khz);
			uint64_t t1 = ag_rdtsc();
			__asm__ volatile("hlt" ::: "memory");
			w = ag_rdtsc() - t1;
			char m[160] = "pvmirq G5_hlt_after_delivery";
			cat_kv(m, sizeof(m), "ipi_delivered_before_hlt", got);
			cat_kv(m, sizeof(m), "hlt_us", w / (khz / 1000));
			cat_kv(m, sizeof(m), "delivered_total", lab_irq_count - before);
			if (k == 1) {
				/* second hlt right after the first: no delivery in between */
				t1 = ag_rdtsc();
				before = lab_irq_count;
				wrmsr(MSR_TSC_DEADLINE, ag_rdtsc() + 5 * khz);
				__asm__ volatile("hlt" ::: "memory");
				cat_kv(m, sizeof(m), "second_hlt_us",
				       (ag_rdtsc() - t1) / (khz / 1000));
			}
			spin_for_irq(before, 20);
			lab_vif[0] = 0;
			ag_log(m);
		}
		/* J: does cli clear vif.if_? */
		lab_vif[0] = 1;
		__asm__ volatile("cli" ::: "memory");
		{
			char m[64] = "pvmirq J_cli";
			cat_kv(m, sizeof(m), "vif_if_after_cli", lab_vif[0]);
			ag_log(m);
		}
		lab_vif[0] = 0;
		/* H: self-IPI with if_=1 */
		before = lab_irq_count;
		lab_vif[0] = 1;
		wrmsr(X2APIC_SELF_IPI, LAB_VEC);
		w = spin_for_irq(before, 20);
		report("H_vifif1_selfipi", before, w);
		lab_vif[0] = 0;
	}
	__asm__ volatile("cli" ::: "memory");
}

void ag_selftest_pvmirq(void);
void ag_selftest_pvmirq(void)
{
	if (!ag_pvm_detect() || ag_rdmsr_safe(PVM_MSR_TSC_KHZ, &khz) || !khz) {
		ag_log("pvmirq: not a PVM host (MSR 0x4b564d11/13): nothing to test");
		ag_finish(VTX_GUEST_OK);
	}
	lab_run();
	ag_finish(VTX_GUEST_OK);
}
