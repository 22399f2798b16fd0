/*
 * The guest's interrupt flag, on real x86 and on the PVM flavour of KVM.
 *
 * Why: a natively running PVM guest executes in hardware ring 3, where
 * sti/cli cannot change the real IF. PVM emulates them, but its interrupt
 * window is the `if_` byte at offset 0 of the vCPU's VIF page (the page
 * registered with MSR 0x4b564d10); sti/cli leave it alone, which is why
 * interrupts "were never delivered" (docs/PVM-INTERRUPTS.md has the
 * experiments). With if_ = 1 PVM injects pending interrupts at its next
 * entry; while if_ = 0 it sets the `pending` byte (offset 1) instead, and
 * the guest, after setting if_ again, makes one hypercall so that the
 * pending interrupt is injected at once. Delivery clears if_ (like an
 * interrupt gate clears IF) and the emulated iretq restores it from the
 * frame. A hlt right after a delivery returns at once, so the usual
 * "check, then hlt" loop cannot lose a wakeup. Elsewhere (QEMU/KVM, bare
 * metal) the same calls are sti/cli.
 *
 * Every wait for an interrupt is bounded (ag_irq_wait): a hlt can only end by
 * an interrupt, so a wait for anything but the TSC-deadline timer arms that
 * timer as a backstop (ag_backstop_*), and the only hlt the agent waits in
 * (ag_hlt_insn) is stepped over by handlers that interrupt just before it
 * (hlt_skip.h). A lost interrupt becomes -AG_ETIMEDOUT and a log line
 * saying which, never a hang that only the VMM's watchdog ends.
 */
#include "guest-agent/agent.h"
#include "guest-agent/hlt_skip.h"
#include "virttax/protocol.h"
#include "virttax/wl_ops.h"

#define VIF_IF 0
#define VIF_PENDING 1
#define PVM_HC_PROBE_NR 0xfffull /* no such hypercall: only the exit matters */
#define MSR_TSC_DEADLINE 0x6e0
#define X2APIC_LVT_TIMER 0x832
#define LVT_TSC_DEADLINE (2u << 17)
#define VEC_TIMER 0xf0 /* calib_irq_handler's, shared with calib_ops.c and smp.c */
#define VEC_BACKSTOP 0xf5

extern char __image_end[];
void ag_sti_hlt(void);
void ag_hlt(void);

/* The agent's one waiting hlt (see hlt_skip.h): ag_sti_hlt is sti; hlt. */
__asm__(".text\n"
	".globl ag_sti_hlt, ag_hlt, ag_hlt_insn\n"
	"ag_sti_hlt: sti\n"
	"ag_hlt:\n"
	"ag_hlt_insn: hlt\n"
	"  ret\n");

int ag_irqflag_init(struct ag_irqflag *f)
{
	uint64_t v = 0;
	f->vif = NULL;
	if (!ag_pvm_detect())
		return 0;
	if (ag_rdmsr_safe(PVM_MSR_VIF, &v) || !(v & 1))
		return -AG_EIO; /* PVM without a VIF page: the guest is emulated anyway */
	uint64_t gpa = v & ~0xfffull;
	bool mapped = gpa + 4096 <= (uint64_t)__image_end; /* [0, image end) is identity mapped */
	for (size_t r = 0; !mapped && r < ag_memory_ram_count(); r++) {
		struct ag_range g = ag_memory_ram(r);
		mapped = gpa >= g.start && gpa + 4096 <= g.end;
	}
	if (!mapped)
		return -AG_EIO;
	f->vif = (volatile uint8_t *)gpa;
	return 0;
}

void ag_irq_enable(const struct ag_irqflag *f)
{
	if (!f->vif) {
		__asm__ volatile("sti" ::: "memory");
		return;
	}
	f->vif[VIF_IF] = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (f->vif[VIF_PENDING]) {
		uint64_t r;
		__asm__ volatile("int $0x1b"
				 : "=a"(r)
				 : "a"(PVM_HC_PROBE_NR)
				 : "memory", "rcx", "r11");
	}
}

void ag_irq_disable(const struct ag_irqflag *f)
{
	if (!f->vif) {
		__asm__ volatile("cli" ::: "memory");
		return;
	}
	f->vif[VIF_IF] = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Interrupts on, halt until one has been handled (or a spurious wake), off. */
void ag_irq_halt(const struct ag_irqflag *f)
{
	if (!f->vif) {
		ag_sti_hlt();
		__asm__ volatile("cli" ::: "memory");
		return;
	}
	ag_irq_enable(f);
	ag_hlt();
	ag_irq_disable(f);
}

int ag_irq_wait(const struct ag_irqflag *f, volatile uint64_t *count, uint64_t before,
		uint64_t bound, uint64_t *halts)
{
	uint64_t t0 = 0; /* read only once the interrupt is not already there */
	while (__atomic_load_n(count, __ATOMIC_ACQUIRE) == before) {
		uint64_t now = ag_rdtsc();
		if (!t0)
			t0 = now;
		else if (now - t0 > bound)
			return -AG_ETIMEDOUT;
		if (halts) {
			ag_irq_halt(f);
			(*halts)++;
		} else {
			__asm__ volatile("pause" ::: "memory");
		}
	}
	return 0;
}

void ag_irq_lost(const char *what, uint64_t waited_ticks, uint64_t tsc_khz)
{
	char m[AG_ERR_MAX] = "lost interrupt: ", num[24];
	ag_strlcat(m, sizeof(m), what);
	ag_strlcat(m, sizeof(m), " did not arrive within ");
	ag_fmt_u64(num, sizeof(num), tsc_khz ? waited_ticks / tsc_khz : waited_ticks);
	ag_strlcat(m, sizeof(m), num);
	ag_strlcat(m, sizeof(m), tsc_khz ? " ms (bounded wait)" : " TSC ticks (bounded wait)");
	ag_log(m);
}

/* The backstop: a TSC-deadline timer on its own vector whose handler re-arms
 * it one period later, so a hlt waiting for another CPU's IPI is woken at
 * least once per period and its wait can give up. */
volatile uint64_t ag_backstop_count, ag_backstop_period;
extern char ag_backstop_handler[];
/* clang-format off */
__asm__(".text\n"
	".globl ag_backstop_handler\n"
	"ag_backstop_handler:\n"
	"  pushq %rax; pushq %rcx; pushq %rdx\n"
	"  lock incq ag_backstop_count(%rip)\n"
	AG_HLT_SKIP_STR(24)
	"  rdtsc; shlq $32, %rdx; orq %rdx, %rax\n"
	"  addq ag_backstop_period(%rip), %rax\n"
	"  movq %rax, %rdx; shrq $32, %rdx\n"
	"  movl $0x6e0, %ecx; wrmsr\n"
	"  movl $0x80b, %ecx; xorl %eax, %eax; xorl %edx, %edx; wrmsr\n"
	"  popq %rdx; popq %rcx; popq %rax\n"
	"  iretq\n");
/* clang-format on */

static void wrmsr64(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

int ag_backstop_start(uint64_t period_ticks, char *why, size_t len)
{
	ag_backstop_period = period_ticks;
	ag_idt_set(VEC_BACKSTOP, (uint64_t)ag_backstop_handler, 0);
	if (ag_wrmsr_safe(X2APIC_LVT_TIMER, VEC_BACKSTOP | LVT_TSC_DEADLINE)) {
		if (why && len) {
			why[0] = 0;
			ag_strlcat(why, len,
				   "the x2APIC LVT timer write faulted (no backstop timer)");
		}
		return -AG_EIO;
	}
	if (ag_tscdl_check(why, len))
		return -AG_EIO;
	wrmsr64(MSR_TSC_DEADLINE, ag_rdtsc() + period_ticks);
	return 0;
}

void ag_backstop_stop(void)
{
	wrmsr64(MSR_TSC_DEADLINE, 0);
	wrmsr64(X2APIC_LVT_TIMER, VEC_TIMER | LVT_TSC_DEADLINE);
}

const char *ag_irq_how(const struct ag_irqflag *f)
{
	return f->vif ? "PVM VIF page if_ byte (+ hypercall when pending)" : "sti/cli";
}

/*
 * Each interrupt handled through the PVM path costs trapped-and-emulated
 * instructions on purpose (the deadline/ICR wrmsr, hlt, the EOI wrmsr: 3 per
 * timer wakeup, measured as insn_emulation per sleep). They are declared to
 * vmm-lite (port 0x4f4, batched every >= 512) so that its emulation verdict
 * does not mistake them for an emulated guest (docs/CALIBRATION.md).
 */
void ag_declare_trapped(uint64_t n)
{
	static int dev = -1;
	static uint64_t pending;
	if (dev < 0) {
		uint32_t v;
		__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"((uint16_t)VTX_CALIB_PIO_PORT));
		dev = v == VTX_CALIB_MAGIC;
	}
	if (!dev)
		return;
	pending += n;
	if (pending < 512)
		return;
	while (pending) {
		uint32_t v = pending > 500000 ? 500000 : (uint32_t)pending;
		__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"((uint16_t)VTX_CALIB_PIO_STATUS));
		pending -= v;
	}
}

/*
 * Did the LAPIC take TSC-deadline mode? On PVM `cpuid` is not intercepted,
 * so CPUID.1:ECX[24] shows the host CPU, not the VMM's virtual CPU; KVM
 * masks the mode bits of the LVT timer when the VMM's CPUID has no
 * tsc-deadline (QEMU's default qemu64 model), and deadline writes are then
 * ignored. Reading the LVT back tells which. 0, or -AG_EIO with a reason.
 */
int ag_tscdl_check(char *why, size_t len)
{
	uint64_t lvt = 0;
	if (ag_rdmsr_safe(0x832, &lvt) || ((lvt >> 17) & 3) == 2)
		return 0;
	if (why && len) {
		why[0] = 0;
		ag_strlcat(why, len,
			   "the VMM's virtual CPU has no TSC-deadline timer: the LAPIC dropped the "
			   "LVT timer mode (QEMU: -cpu qemu64,+tsc-deadline,+x2apic)");
	}
	return -AG_EIO;
}
