/*
 * The guest side of the platform primitives (include/virttax/wl_ops.h): VM
 * exits of every kind, interrupts, ring-3 round trips, CR3 switches and
 * page-table churn, each probed before use.
 *
 * Why here and not in a workload: these need privileged instructions, the
 * IDT, the GDT and the page tables, which only the agent owns. Every kind is
 * probed for real (an exception fixup catches instructions that fault, the
 * vmm-lite test devices answer a magic value so a missing device is seen);
 * what cannot run says why. Setup happens once, on the first probe; the
 * tables it allocates come from the arena and live until the workload ends.
 *
 * Under another VMM (QEMU) the exit kinds use what that VMM handles, never
 * vmm-lite's devices: pio is an `outl` to port 0x4f0 when it reads all-ones
 * (no device: any KVM VMM answers it in user space), mmio a store to GPA
 * 0xd0000000 when that is not RAM, mmio-ioeventfd the QueueNotify register
 * of a virtio-rng device announced on the command line (QEMU backs it with an
 * ioeventfd once the driver is ready), msr-user-read the MSR the command line
 * names with vtx.umsr= (QEMU 7.2 serves 0x35 in user space). docs/CALIBRATION.md.
 */
#include "guest-agent/agent.h"
#include "guest-agent/smp.h"
#include "guest-agent/virtio.h"
#include "virttax/wl_ops.h"

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_U 0x4ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_PS 0x80ull
#define PTE_ADDR 0x000ffffffffff000ull
#define PAGE 4096ull
#define CHURN_VA 0x4000000000ull /* 256 GiB: outside the identity map */
#define SEL_UDATA 0x2b
#define SEL_UCODE 0x33
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_FMASK 0xc0000084
#define VEC_TIMER 0xf0
#define VEC_IPI 0xf1
#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define X2APIC_SVR 0x80f
#define X2APIC_LVT_TIMER 0x832
#define X2APIC_SELF_IPI 0x83f
#define KVM_HC_PROBE_NR 0xfffu /* no such hypercall: KVM answers -KVM_ENOSYS */
#define KVM_ENOSYS_RET ((uint64_t)-1000)
#define LINUX_ENOSYS_RET ((uint64_t)-38) /* what PVM's int $0x1b answers (measured) */
#define IRQ_PROBE_US 20000
#define IRQ_WAIT_MS 1000 /* an interrupt later than this was lost */
#define TIMER_LATENCY_US 20
#define AG_ENOTSUP 95
#define VIRTIO_ID_RNG 4
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050

struct calib_try {
	uint64_t ret, faulted;
};
void calib_loop_cpuid(uint64_t n);
void calib_loop_outl(uint64_t n, uint16_t port);
void calib_loop_store(uint64_t n, volatile uint32_t *p);
void calib_loop_rdmsr(uint64_t n, uint32_t msr);
void calib_loop_wrmsr(uint64_t n, uint32_t msr, uint64_t val);
void calib_loop_vmcall(uint64_t n, uint64_t nr);
void calib_loop_vmmcall(uint64_t n, uint64_t nr);
void calib_loop_int1b(uint64_t n, uint64_t nr);
void calib_loop_cr3(uint64_t n, uint64_t other, uint64_t self);
void calib_loop_ptchurn(uint64_t n, uint64_t *pte, uint64_t va, uint64_t a, uint64_t b);
void calib_loop_ptrewrite(uint64_t n, uint64_t *pte, uint64_t va, uint64_t a, uint64_t b);
void calib_loop_cr0(uint64_t n);
void calib_user_run(uint64_t n, uint64_t rsp);
struct calib_try calib_try_vmcall(uint64_t nr);
struct calib_try calib_try_vmmcall(uint64_t nr);
struct calib_try calib_try_int1b(uint64_t nr);
struct calib_try calib_try_rdmsr(uint32_t msr);
struct calib_try calib_try_wrmsr(uint32_t msr, uint64_t val);
extern char calib_try_vmcall_insn[], calib_try_vmcall_fixup[], calib_try_vmmcall_insn[],
    calib_try_vmmcall_fixup[], calib_try_int1b_insn[], calib_try_int1b_fixup[],
    calib_try_rdmsr_insn[], calib_try_rdmsr_fixup[], calib_try_wrmsr_insn[],
    calib_try_wrmsr_fixup[];
extern char calib_irq_handler[], calib_syscall_entry[];
extern volatile uint64_t calib_irq_tsc, calib_irq_count;
extern uint64_t ag_gdt[5];
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

static struct {
	bool done;
	uint32_t dev_flags;
	bool dev; /* vmm-lite's calibration device answered */
	uint8_t dev_errno[3];
	int hc;			/* 0 none, 1 vmcall, 2 vmmcall, 3 int $0x1b */
	enum x86_vendor vendor; /* from CPUID leaf 0: picks vmcall or vmmcall */
	uint32_t kmsr;		/* in-kernel MSR, 0 = none found */
	uint64_t kmsr_val;
	bool umsr;	  /* vmm-lite's user-space MSR, read and write */
	uint32_t umsr_rd; /* else an MSR the VMM serves in user space for reads (vtx.umsr=) */
	bool pio_open;	  /* no device at port 0x4f0: it reads all-ones */
	bool mmio_open;	  /* no device page: GPA 0xd0000000 is not RAM */
	volatile uint32_t *notify; /* QueueNotify of a virtio-rng the agent brought up */
	bool x2apic, irq;	   /* x2APIC timer set up / an interrupt was delivered */
	char irq_why[160];
	struct ag_irqflag irqf; /* sti/cli, or PVM's VIF page (irq.c) */
	uint64_t tsc_hz;
	volatile uint32_t *mmio, *mmio_kernel;
	uint64_t cr3, cr3_other;
	uint64_t *churn_pte, churn_a, churn_b;
	uint64_t user_rsp;
	bool sysc;
	uint64_t gdt[8];
	uint32_t ok_ops; /* bit per op whose probe succeeded */
} cs;

static uint64_t *table_new(uint64_t align)
{
	uint64_t p = ag_arena_alloc(ag_memory_arena(), PAGE, align);
	if (p)
		memset((void *)p, 0, PAGE);
	return (uint64_t *)p;
}

/* The PTE slot for 4 KiB page `va` in the tables under `pml4`, created when absent. */
static uint64_t *pte_slot(uint64_t *pml4, uint64_t va)
{
	uint64_t *t = pml4;
	for (int shift = 39; shift > 12; shift -= 9) {
		uint64_t *e = &t[(va >> shift) & 511];
		if (*e & PTE_PS)
			return NULL; /* covered by a large page: not ours to split */
		if (!(*e & PTE_P)) {
			uint64_t *n = table_new(PAGE);
			if (!n)
				return NULL;
			*e = (uint64_t)n | PTE_P | PTE_RW | PTE_U;
		}
		t = (uint64_t *)(*e & PTE_ADDR);
	}
	return &t[(va >> 12) & 511];
}

static void setup_fixups(void)
{
	ag_fixup_register((uint64_t)calib_try_vmcall_insn, (uint64_t)calib_try_vmcall_fixup);
	ag_fixup_register((uint64_t)calib_try_vmmcall_insn, (uint64_t)calib_try_vmmcall_fixup);
	ag_fixup_register((uint64_t)calib_try_int1b_insn, (uint64_t)calib_try_int1b_fixup);
	/* int $0x1b delivered to our own IDT vector 27 reports the next rip */
	ag_fixup_register((uint64_t)calib_try_int1b_insn + 2, (uint64_t)calib_try_int1b_fixup);
	ag_fixup_register((uint64_t)calib_try_rdmsr_insn, (uint64_t)calib_try_rdmsr_fixup);
	ag_fixup_register((uint64_t)calib_try_wrmsr_insn, (uint64_t)calib_try_wrmsr_fixup);
}

static bool gpa_is_ram(uint64_t gpa)
{
	for (size_t i = 0; i < ag_memory_ram_count(); i++) {
		struct ag_range r = ag_memory_ram(i);
		if (gpa >= r.start && gpa < r.end)
			return true;
	}
	return false;
}

/* Without vmm-lite's device: QueueNotify of a virtio-rng the VMM announced,
 * brought up with one queue and never given a buffer (a notify finds nothing). */
static void setup_notify(void)
{
	struct ag_vdev d;
	if (ag_virtio_probe(VIRTIO_ID_RNG, 0, 8, &d) == 0)
		cs.notify = (volatile uint32_t *)(d.regs + VIRTIO_MMIO_QUEUE_NOTIFY);
}

static void setup_device(void)
{
	uint32_t v = ag_inl(VTX_CALIB_PIO_PORT);
	cs.dev = v == VTX_CALIB_MAGIC;
	if (!cs.dev) {
		cs.pio_open = v == 0xffffffffu; /* nothing claims the port */
		setup_notify();
		return;
	}
	cs.dev_flags = ag_inl(VTX_CALIB_PIO_STATUS);
	for (int i = 0; i < 3; i++) {
		uint8_t v;
		__asm__ volatile("inb %1, %0"
				 : "=a"(v)
				 : "Nd"((uint16_t)(VTX_CALIB_PIO_STATUS + 1 + i)));
		cs.dev_errno[i] = v;
	}
}

/* PVM: int $0x1b. Else the vendor's own instruction only (vmcall on Intel,
 * vmmcall on AMD/Hygon, from CPUID): the other one #UDs on real hardware and
 * KVM patches it on first use, which would time a different path. */
static void setup_hypercall(void)
{
	struct calib_try t;
	if (ag_pvm_detect()) {
		t = calib_try_int1b(KVM_HC_PROBE_NR);
		if (!t.faulted && (t.ret == KVM_ENOSYS_RET || t.ret == LINUX_ENOSYS_RET))
			cs.hc = 3;
		/* vmcall from a native PVM guest spins in the emulator: never try it here */
		return;
	}
	cs.vendor = ag_cpu_vendor();
	bool amd = x86_vendor_uses_vmmcall(cs.vendor);
	t = amd ? calib_try_vmmcall(KVM_HC_PROBE_NR) : calib_try_vmcall(KVM_HC_PROBE_NR);
	if (!t.faulted && t.ret == KVM_ENOSYS_RET)
		cs.hc = amd ? 2 : 1;
}

static void setup_msrs(void)
{
	static const uint32_t cand[] = {0xc0000103 /* TSC_AUX */, 0xc0000102 /* KERNEL_GS_BASE */,
					0x277 /* PAT */};
	for (unsigned i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		struct calib_try r = calib_try_rdmsr(cand[i]);
		if (r.faulted || calib_try_wrmsr(cand[i], r.ret).faulted)
			continue;
		cs.kmsr = cand[i];
		cs.kmsr_val = r.ret;
		break;
	}
	if (cs.dev && (cs.dev_flags & VTX_CALIB_F_USER_MSR)) {
		struct calib_try r = calib_try_rdmsr(VTX_CALIB_USER_MSR);
		cs.umsr = !r.faulted && r.ret == VTX_CALIB_MAGIC;
	} else if (!cs.dev && ag_opt_user_msr()) {
		/* the VMM's value: never 0 for QEMU's 0x35 (cores << 16 | threads),
		 * while a KVM that ignores unknown MSRs reads 0 without faulting */
		struct calib_try r = calib_try_rdmsr(ag_opt_user_msr());
		cs.umsr_rd = !r.faulted && r.ret ? ag_opt_user_msr() : 0;
	}
}

static void setup_memory(void)
{
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	cs.cr3 = cr3;
	uint64_t *pml4 = (uint64_t *)(cr3 & PTE_ADDR);
	uint64_t *e = pte_slot(pml4, VTX_CALIB_MMIO_GPA);
	uint64_t *k = pte_slot(pml4, VTX_CALIB_MMIO_KERNEL_GPA);
	if (e && k) {
		*e = VTX_CALIB_MMIO_GPA | PTE_P | PTE_RW | PTE_U | PTE_PCD | PTE_PWT;
		*k = VTX_CALIB_MMIO_KERNEL_GPA | PTE_P | PTE_RW | PTE_U | PTE_PCD | PTE_PWT;
		cs.mmio = (volatile uint32_t *)VTX_CALIB_MMIO_GPA;
		cs.mmio_kernel = (volatile uint32_t *)VTX_CALIB_MMIO_KERNEL_GPA;
		cs.mmio_open = !cs.dev && !gpa_is_ram(VTX_CALIB_MMIO_GPA);
	}
	uint64_t a = ag_arena_alloc(ag_memory_arena(), 2 * PAGE, PAGE);
	cs.churn_pte = a ? pte_slot(pml4, CHURN_VA) : NULL;
	if (cs.churn_pte) {
		cs.churn_a = a | PTE_P | PTE_RW | PTE_U;
		cs.churn_b = (a + PAGE) | PTE_P | PTE_RW | PTE_U;
		*cs.churn_pte = cs.churn_a;
	}
	__asm__ volatile("mov %0, %%cr3" ::"r"(cr3) : "memory"); /* flush: new tables */
	/* A 2nd address space: an 8 KiB-aligned pair whose both halves copy ours.
	 * PVM reads CR3 bit 12 as "user half": in ring 3 it walks root + 4 KiB. */
	uint64_t other = ag_arena_alloc(ag_memory_arena(), 2 * PAGE, 2 * PAGE);
	if (other) {
		memcpy((void *)other, pml4, PAGE);
		memcpy((void *)(other + PAGE), pml4, PAGE);
		cs.cr3_other = other;
	}
	uint64_t stack = ag_arena_alloc(ag_memory_arena(), 4 * PAGE, PAGE);
	cs.user_rsp = stack ? stack + 4 * PAGE : 0;
}

/* GDT with ring-3 segments (0x2b data, 0x33 code) and the int gates. */
static void setup_ring3(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} gdtr;
	memcpy(cs.gdt, ag_gdt, sizeof(ag_gdt));
	cs.gdt[5] = 0x00cff2000000ffffull; /* data, DPL 3 */
	cs.gdt[6] = 0x00affa000000ffffull; /* 64-bit code, DPL 3 */
	gdtr.limit = 7 * 8 - 1;
	gdtr.base = (uint64_t)cs.gdt;
	__asm__ volatile("lgdt %0" ::"m"(gdtr));
	/* SYSCALL: EFER.SCE; STAR: kernel CS 0x08, sysret base 0x20 (SS 0x2b, CS 0x33) */
	struct calib_try efer = calib_try_rdmsr(MSR_EFER);
	cs.sysc = !efer.faulted && !calib_try_wrmsr(MSR_EFER, efer.ret | 1).faulted &&
		  !calib_try_wrmsr(MSR_STAR, (0x20ull << 48) | (0x08ull << 32)).faulted &&
		  !calib_try_wrmsr(MSR_LSTAR, (uint64_t)calib_syscall_entry).faulted &&
		  !calib_try_wrmsr(MSR_FMASK, 0x700).faulted;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* x2APIC on, TSC-deadline timer on VEC_TIMER; then one deadline with IF=1. */
static void setup_irq(void)
{
	uint32_t r[4];
	ag_cpuid(1, 0, r);
	if (!(r[2] & (1u << 21)) || !(r[2] & (1u << 24))) {
		ag_strlcat(cs.irq_why, sizeof(cs.irq_why),
			   "no x2APIC or TSC-deadline in CPUID.1:ECX");
		return;
	}
	struct calib_try base = calib_try_rdmsr(MSR_APIC_BASE);
	if (base.faulted || calib_try_wrmsr(MSR_APIC_BASE, base.ret | (3u << 10)).faulted ||
	    calib_try_wrmsr(X2APIC_SVR, 0x1ff).faulted ||
	    calib_try_wrmsr(X2APIC_LVT_TIMER, VEC_TIMER | (2u << 17)).faulted) {
		ag_strlcat(cs.irq_why, sizeof(cs.irq_why),
			   "enabling the x2APIC TSC-deadline timer faulted");
		return;
	}
	if (ag_tscdl_check(cs.irq_why, sizeof(cs.irq_why)))
		return;
	if (ag_irqflag_init(&cs.irqf)) {
		ag_strlcat(cs.irq_why, sizeof(cs.irq_why),
			   "PVM without a mapped VIF page: no interrupt flag to set");
		return;
	}
	ag_idt_set(VEC_TIMER, (uint64_t)calib_irq_handler, 0);
	ag_idt_set(VEC_IPI, (uint64_t)calib_irq_handler, 0);
	cs.x2apic = true;
	uint64_t before = calib_irq_count, t0 = ag_rdtsc();
	wrmsr(MSR_TSC_DEADLINE, t0 + 1000);
	ag_irq_enable(&cs.irqf);
	while (calib_irq_count == before && ag_rdtsc() - t0 < (uint64_t)IRQ_PROBE_US * 5000)
		__asm__ volatile("pause");
	ag_irq_disable(&cs.irqf);
	cs.irq = calib_irq_count != before;
	if (!cs.irq)
		ag_strlcat(cs.irq_why, sizeof(cs.irq_why),
			   cs.irqf.vif ? "an armed TSC-deadline interrupt was not delivered within "
					 "~20 ms with the PVM VIF if_ byte set (probed; "
					 "docs/PVM-INTERRUPTS.md)"
				       : "an armed TSC-deadline interrupt was not delivered within "
					 "~20 ms with IF=1 (probed)");
}

static void calib_setup(void)
{
	if (cs.done)
		return;
	cs.done = true;
	setup_fixups();
	setup_device();
	setup_hypercall();
	setup_msrs();
	setup_memory();
	setup_ring3();
	setup_irq();
}

/* Ring 3 runs on the kernel/user root pair (cr3_other), see setup_memory. */
static void user_run(uint64_t n)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(cs.cr3_other) : "memory");
	calib_user_run(n, cs.user_rsp);
	__asm__ volatile("mov %0, %%cr3" ::"r"(cs.cr3) : "memory");
}

static int say(char *why, size_t len, int rc, const char *a, const char *b)
{
	why[0] = 0;
	ag_strlcat(why, len, a);
	if (b)
		ag_strlcat(why, len, b);
	return rc;
}

static int probe_dev(char *why, size_t len, uint32_t flag, int idx, const char *how)
{
	if (!cs.dev)
		return say(why, len, -AG_ENOTSUP,
			   "the VMM has no virttax calibration device (vmm-lite provides it)",
			   NULL);
	if (flag && !(cs.dev_flags & flag)) {
		char num[24];
		ag_fmt_u64(num, sizeof(num), cs.dev_errno[idx]);
		say(why, len, -AG_ENOTSUP, "the VMM could not register it, errno ", num);
		return -AG_ENOTSUP;
	}
	return say(why, len, 0, how, NULL);
}

/* "vmmcall (CPU vendor AuthenticAMD), nr 0xfff answered -KVM_ENOSYS": the
 * calibration row says which instruction was timed and why that one. */
static int say_hypercall(char *why, size_t len)
{
	if (cs.hc == 3)
		return say(why, len, 0,
			   "int $0x1b (PVM in-kernel hypercall), nr 0xfff answered -ENOSYS", NULL);
	if (ag_pvm_detect())
		return say(why, len, -AG_ENOTSUP,
			   "int $0x1b (PVM) with nr 0xfff faulted or did not answer -ENOSYS", NULL);
	say(why, len, cs.hc ? 0 : -AG_ENOTSUP,
	    x86_vendor_uses_vmmcall(cs.vendor) ? "vmmcall (CPU vendor " : "vmcall (CPU vendor ",
	    x86_vendor_name(cs.vendor));
	ag_strlcat(why, len,
		   cs.hc ? "), nr 0xfff answered -KVM_ENOSYS"
			 : ") with nr 0xfff faulted or did not answer -KVM_ENOSYS");
	return cs.hc ? 0 : -AG_ENOTSUP;
}

/* host-irq: one gap of a tight TSC loop within WL_HOST_IRQ_PROBE_MS */
static int probe_host_irq(char *why, size_t len)
{
	uint64_t sum;
	if (wl_host_irq_gaps(cs.tsc_hz, 1, ag_rdtsc() + WL_HOST_IRQ_PROBE_MS * (cs.tsc_hz / 1000),
			     &sum))
		return say(why, len, -AG_ENOTSUP,
			   "no host interrupt landed on the vCPU within 100 ms (tickless host "
			   "CPU?)",
			   NULL);
	return say(why, len, 0,
		   "TSC gaps of 0.5-500 us in a tight lfence;rdtsc loop: a host interrupt "
		   "(timer tick) taking the vCPU out of the guest and back",
		   NULL);
}

static int op_probe(unsigned op, char *why, size_t len);
static int ag_op_probe(struct wl_env *env, unsigned op, char *why, size_t len)
{
	cs.tsc_hz = env->tsc_hz;
	int rc = op_probe(op, why, len);
	if (!rc && op < 32)
		cs.ok_ops |= 1u << op;
	return rc;
}

static int op_probe(unsigned op, char *why, size_t len)
{
	calib_setup();
	switch (op) {
	case WL_OP_CPUID:
		return say(why, len, 0, "cpuid leaf 0", NULL);
	case WL_OP_HYPERCALL:
		return say_hypercall(why, len);
	case WL_OP_PIO:
		if (!cs.dev && cs.pio_open)
			return say(why, len, 0,
				   "outl to port 0x4f0, claimed by no device (reads all-ones): the "
				   "VMM's own port-exit path in user space",
				   NULL);
		return probe_dev(why, len, 0, 0,
				 "outl to port 0x4f0, handled by the VMM in user space");
	case WL_OP_PIO_KERNEL:
		if (!cs.dev)
			return say(why, len, -AG_ENOTSUP,
				   "the VMM offers no port with an ioeventfd (vmm-lite's 0x4f8; "
				   "QEMU microvm has no PCI, whose legacy virtio notify is a port)",
				   NULL);
		return probe_dev(why, len, VTX_CALIB_F_PIO_IOEVENTFD, 0,
				 "outl to port 0x4f8, KVM ioeventfd (no datamatch)");
	case WL_OP_MMIO:
		if (!cs.mmio)
			return say(why, len, -AG_ENOTSUP, "cannot map the MMIO test page", NULL);
		if (!cs.dev && cs.mmio_open)
			return say(why, len, 0,
				   "32-bit store to GPA 0xd0000000, neither RAM nor an announced "
				   "device: the VMM's own MMIO-exit path in user space",
				   NULL);
		return probe_dev(why, len, 0, 0, "32-bit store to GPA 0xd0000000, VMM user space");
	case WL_OP_MMIO_KERNEL:
		if (!cs.dev && cs.notify)
			return say(
			    why, len, 0,
			    "32-bit store of queue 0 to QueueNotify of the virtio-rng on "
			    "virtio-mmio, an ioeventfd in the VMM (QEMU: ioeventfd=on, after "
			    "DRIVER_OK)",
			    NULL);
		if (!cs.dev)
			return say(why, len, -AG_ENOTSUP,
				   "no ioeventfd-backed notification: vmm-lite's page 0xd0001000, "
				   "or a virtio-rng announced on the command line (virttax "
				   "calibrate attaches one under QEMU)",
				   NULL);
		if (!cs.mmio)
			return say(why, len, -AG_ENOTSUP, "cannot map the MMIO test page", NULL);
		return probe_dev(why, len, VTX_CALIB_F_MMIO_IOEVENTFD, 1,
				 "32-bit store to GPA 0xd0001000, KVM ioeventfd");
	case WL_OP_MSR_KERNEL_RD:
	case WL_OP_MSR_KERNEL_WR:
		if (!cs.kmsr)
			return say(why, len, -AG_ENOTSUP,
				   "TSC_AUX, KERNEL_GS_BASE and PAT all faulted", NULL);
		return say(why, len, 0,
			   cs.kmsr == 0xc0000103   ? "MSR 0xc0000103 (TSC_AUX)"
			   : cs.kmsr == 0xc0000102 ? "MSR 0xc0000102 (KERNEL_GS_BASE)"
						   : "MSR 0x277 (PAT)",
			   op == WL_OP_MSR_KERNEL_RD ? " rdmsr" : " wrmsr");
	case WL_OP_MSR_USER_RD:
	case WL_OP_MSR_USER_WR:
		if (!cs.dev && ag_opt_user_msr()) {
			char num[16] = "0x";
			for (int sh = 28, started = 0, n = 2; sh >= 0; sh -= 4) {
				unsigned dgt = (ag_opt_user_msr() >> sh) & 0xf;
				if (dgt || started || !sh)
					num[n++] = "0123456789abcdef"[dgt], started = 1, num[n] = 0;
			}
			if (op == WL_OP_MSR_USER_WR)
				return say(why, len, -AG_ENOTSUP,
					   "the VMM serves no MSR write in user space (vtx.umsr= "
					   "names one whose reads it serves): MSR ",
					   num);
			return cs.umsr_rd
				   ? say(why, len, 0,
					 "rdmsr of the MSR the VMM serves in user space "
					 "through KVM's MSR filter (vtx.umsr=; QEMU 7.2: 0x35 "
					 "MSR_CORE_THREAD_COUNT): MSR ",
					 num)
				   : say(why, len, -AG_ENOTSUP,
					 "rdmsr of the vtx.umsr= MSR faulted or read 0 (the "
					 "VMM does not serve it here): ",
					 num);
		}
		if (cs.umsr)
			return say(why, len, 0,
				   "MSR 0x4b564e00 via KVM_X86_SET_MSR_FILTER to the VMM",
				   op == WL_OP_MSR_USER_RD ? " (rdmsr)" : " (wrmsr)");
		if (!cs.dev || (cs.dev_flags & VTX_CALIB_F_USER_MSR))
			return probe_dev(why, len, VTX_CALIB_F_USER_MSR, 2, "")
				   ? -AG_ENOTSUP
				   : say(why, len, -AG_ENOTSUP,
					 "rdmsr 0x4b564e00 faulted or did not return the VMM's "
					 "magic",
					 NULL);
		return probe_dev(why, len, VTX_CALIB_F_USER_MSR, 2, "");
	case WL_OP_HLT_TIMER:
	case WL_OP_SELF_IPI:
	case WL_OP_TIMER_LATENCY:
		if (!cs.irq)
			return say(why, len, -AG_ENOTSUP, cs.irq_why, NULL);
		return say(why, len, 0,
			   op == WL_OP_HLT_TIMER ? "hlt woken by an expired x2APIC TSC deadline"
			   : op == WL_OP_SELF_IPI
			       ? "x2APIC SELF_IPI write, delivered and EOI'd"
			       : "x2APIC TSC deadline 20 us ahead to handler entry",
			   cs.irqf.vif ? "; interrupt flag: PVM VIF page if_ byte" : "; sti/cli");
	case WL_OP_IPI:
		return ag_ipi_probe(cs.tsc_hz, why, len);
	case WL_OP_SYSCALL:
		if (!cs.user_rsp || !cs.sysc || !cs.cr3_other)
			return say(why, len, -AG_ENOTSUP,
				   cs.sysc ? "no memory for the ring-3 stack"
					   : "setting up SYSCALL (EFER.SCE, STAR, LSTAR) faulted",
				   NULL);
		user_run(1); /* a crash here ends the run */
		return say(why, len, 0, "ring 3 syscall to LSTAR and sysretq back", NULL);
	case WL_OP_CTX_SWITCH:
		return cs.cr3_other
			   ? say(why, len, 0,
				 "mov to CR3 of a 2nd PML4 and back (one op = 2 switches)", NULL)
			   : say(why, len, -AG_ENOTSUP, "no memory for a 2nd PML4", NULL);
	case WL_OP_PT_CHURN:
		return cs.churn_pte ? say(why, len, 0,
					  "rewrite a 4 KiB PTE, invlpg, increment through it", NULL)
				    : say(why, len, -AG_ENOTSUP, "cannot map the churn page", NULL);
	case WL_OP_PT_REWRITE:
		return cs.churn_pte ? say(why, len, 0,
					  "rewrite a 4 KiB PTE and invlpg it, no access (pt-churn "
					  "without its page fault)",
					  NULL)
				    : say(why, len, -AG_ENOTSUP, "cannot map the churn page", NULL);
	case WL_OP_PRIV_INSN:
		return say(why, len, 0,
			   ag_pvm_vif_active()
			       ? "mov from CR0 in the deprivileged guest kernel: trapped and "
				 "emulated by PVM"
			       : "mov from CR0 (not intercepted under VT-x/AMD-V: a native cost)",
			   NULL);
	case WL_OP_HOST_IRQ:
		return probe_host_irq(why, len);
	case WL_OP_THREAD_WAKE:
	case WL_OP_PROCESS_RT:
		return say(why, len, -AG_ENOTSUP,
			   "host-only: the agent has no threads or processes", NULL);
	}
	return say(why, len, -AG_EINVAL, "unknown operation", NULL);
}

/* n interrupts, each waited for at most IRQ_WAIT_MS (ag_irq_wait: a hlt
 * woken by the timer itself, a spin for the others); *ticks as ag_op's. A
 * lost interrupt is an error with a reason, not a hang. */
static int run_irq(unsigned op, uint64_t n, uint64_t hz_per_us, uint64_t *ticks)
{
	uint64_t sum = 0, t0 = ag_rdtsc(), bound = (uint64_t)IRQ_WAIT_MS * 1000 * hz_per_us;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t before = calib_irq_count, halts = 0;
		int rc;
		if (op == WL_OP_HLT_TIMER) {
			wrmsr(MSR_TSC_DEADLINE, 1);
			rc = ag_irq_wait(&cs.irqf, &calib_irq_count, before, bound, &halts);
		} else if (op == WL_OP_SELF_IPI) {
			ag_irq_enable(&cs.irqf);
			wrmsr(X2APIC_SELF_IPI, VEC_IPI);
			rc = ag_irq_wait(&cs.irqf, &calib_irq_count, before, bound, NULL);
			ag_irq_disable(&cs.irqf);
		} else {
			uint64_t dl = ag_rdtsc() + TIMER_LATENCY_US * hz_per_us;
			wrmsr(MSR_TSC_DEADLINE, dl);
			ag_irq_enable(&cs.irqf);
			rc = ag_irq_wait(&cs.irqf, &calib_irq_count, before, bound, NULL);
			ag_irq_disable(&cs.irqf);
			sum += calib_irq_tsc > dl ? calib_irq_tsc - dl : 0;
		}
		if (rc) {
			ag_irq_lost(op == WL_OP_SELF_IPI ? "an x2APIC self-IPI"
							 : "an x2APIC TSC-deadline interrupt",
				    bound, hz_per_us * 1000);
			return rc;
		}
	}
	*ticks = op == WL_OP_TIMER_LATENCY ? sum : ag_rdtsc() - t0;
	return 0;
}

/* Trapped-and-emulated instructions per operation, beyond the I/O and MMIO
 * exits vmm-lite already counts: declared to vmm-lite (port 0x4f4) so that its
 * emulation verdict does not mistake deliberate traps for an emulated guest. */
static void declare_trapped(unsigned op, uint64_t n)
{
	/* measured on PVM (insn_emulation per op): cpuid, int $0x1b and syscall/sysret
	 * 0; ioeventfd I/O, MSRs and a mov to CR3 1 each; a PTE write ~1.5, declared
	 * as 1 (declaring too little can only make a run look more emulated) */
	static const uint8_t per_op[WL_OP_COUNT] = {
	    [WL_OP_PIO_KERNEL] = 1,    [WL_OP_MMIO_KERNEL] = 1, [WL_OP_MSR_KERNEL_RD] = 1,
	    [WL_OP_MSR_KERNEL_WR] = 1, [WL_OP_HLT_TIMER] = 3,	[WL_OP_SELF_IPI] = 2,
	    [WL_OP_TIMER_LATENCY] = 2, [WL_OP_CTX_SWITCH] = 2,	[WL_OP_PT_CHURN] = 1,
	    [WL_OP_PT_REWRITE] = 1,    [WL_OP_PRIV_INSN] = 1,
	};
	static uint64_t pending;
	if (!cs.dev || op >= WL_OP_COUNT)
		return;
	pending += n * per_op[op];
	if (pending < 512)
		return;
	while (pending) {
		uint32_t v = pending > 500000 ? 500000 : (uint32_t)pending;
		ag_outl(VTX_CALIB_PIO_STATUS, v);
		pending -= v;
	}
}

static int ag_op(struct wl_env *env, unsigned op, uint64_t n, uint64_t *ticks)
{
	if (!n || op >= 32 || !(cs.ok_ops & (1u << op)))
		return -AG_EINVAL; /* probe first */
	if (op == WL_OP_IPI)
		return ag_ipi_pingpong(n, ticks); /* declares its own trapped instructions */
	if (op == WL_OP_HLT_TIMER || op == WL_OP_SELF_IPI || op == WL_OP_TIMER_LATENCY) {
		int rc = run_irq(op, n, env->tsc_hz / 1000000, ticks);
		if (cs.irqf.vif) /* PVM: wrmsr, hlt and EOI trapped (3/2/2 per op, measured) */
			declare_trapped(op, n);
		return rc;
	}
	uint64_t t0 = ag_rdtsc();
	switch (op) {
	case WL_OP_CPUID:
		calib_loop_cpuid(n);
		break;
	case WL_OP_HYPERCALL:
		if (cs.hc == 3)
			calib_loop_int1b(n, KVM_HC_PROBE_NR);
		else if (cs.hc == 2)
			calib_loop_vmmcall(n, KVM_HC_PROBE_NR);
		else
			calib_loop_vmcall(n, KVM_HC_PROBE_NR);
		break;
	case WL_OP_PIO:
		calib_loop_outl(n, VTX_CALIB_PIO_PORT);
		break;
	case WL_OP_PIO_KERNEL:
		calib_loop_outl(n, VTX_CALIB_PIO_KERNEL_PORT);
		break;
	case WL_OP_MMIO:
		calib_loop_store(n, cs.mmio);
		break;
	case WL_OP_MMIO_KERNEL:
		calib_loop_store(n, cs.dev ? cs.mmio_kernel : cs.notify);
		break;
	case WL_OP_MSR_KERNEL_RD:
		calib_loop_rdmsr(n, cs.kmsr);
		break;
	case WL_OP_MSR_KERNEL_WR:
		calib_loop_wrmsr(n, cs.kmsr, cs.kmsr_val);
		break;
	case WL_OP_MSR_USER_RD:
		calib_loop_rdmsr(n, cs.dev ? VTX_CALIB_USER_MSR : cs.umsr_rd);
		break;
	case WL_OP_MSR_USER_WR:
		calib_loop_wrmsr(n, VTX_CALIB_USER_MSR, 0);
		break;
	case WL_OP_SYSCALL:
		user_run(n);
		break;
	case WL_OP_CTX_SWITCH:
		calib_loop_cr3(n, cs.cr3_other, cs.cr3);
		break;
	case WL_OP_PT_CHURN:
		calib_loop_ptchurn(n, cs.churn_pte, CHURN_VA, cs.churn_b, cs.churn_a);
		break;
	case WL_OP_PT_REWRITE:
		calib_loop_ptrewrite(n, cs.churn_pte, CHURN_VA, cs.churn_b, cs.churn_a);
		break;
	case WL_OP_PRIV_INSN:
		calib_loop_cr0(n);
		break;
	case WL_OP_HOST_IRQ: {
		int rc = wl_host_irq_gaps(env->tsc_hz, n, WL_HOST_IRQ_DEADLINE(t0, n, env->tsc_hz),
					  ticks);
		return rc ? -AG_EIO : 0;
	}
	default:
		return -AG_EINVAL;
	}
	*ticks = ag_rdtsc() - t0;
	declare_trapped(op, n);
	return 0;
}

void ag_calib_install(struct wl_env *env);
void ag_calib_install(struct wl_env *env)
{
	env->op_probe = ag_op_probe;
	env->op = ag_op;
}
