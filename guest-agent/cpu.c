/*
 * 64-bit CPU setup: GDT with a TSS, IDT for vectors 0-31, safe MSR access,
 * and the PVM paravirtual MSRs (detection, VIF registration).
 *
 * Why: a guest fault must never end as a silent triple fault. Every CPU
 * exception is reported as an "exception" record on COM1 and the agent exits
 * with status 3; #DF, NMI and #MC run on their own IST stack so that even a
 * broken stack gets reported. The same handler implements exception fixups,
 * so that probing an MSR that may not exist (PVM's, on a non-PVM host) is
 * safe: the #GP resumes at a fixup label instead.
 *
 * CPUID goes through ag_cpuid: on PVM a plain cpuid is not intercepted and
 * returns the outer hypervisor's values; the synthetic form (invlpg of PVM's
 * magic address, then cpuid) returns what the VMM configured, like cpuid
 * does on VT-x and AMD-V.
 */
#include "guest-agent/agent.h"
#include "virttax/protocol.h"
#include "virttax/x86_vendor.h"

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18
#define GATE_INTERRUPT 0x8e
#define TSS_AVAILABLE 0x89
#define IST_CRITICAL 1

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

struct idt_gate {
	uint64_t lo, hi;
};

extern uint64_t ag_gdt[5];
extern const uint64_t ag_exception_stubs[32];
extern char ag_ist1_top[], ag_rsp0_top[];
extern char ag_rdmsr_insn[], ag_rdmsr_fixup[], ag_wrmsr_insn[], ag_wrmsr_fixup[];
void ag_load_segments(uint16_t code, uint16_t data);

static struct tss64 tss __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16))); /* 32..255: ag_idt_set */
#define MAX_FIXUPS 16
static struct {
	uint64_t insn, fixup;
} fixups[MAX_FIXUPS];
static unsigned nfixups;
static uint8_t vif_page[4096] __attribute__((aligned(4096)));
static bool vif_registered;

static void gdt_set_tss(void)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
	ag_gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | ((uint64_t)TSS_AVAILABLE << 40) |
		    (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	ag_gdt[4] = base >> 32;
}

static void idt_set(unsigned vec, uint64_t handler, unsigned ist)
{
	idt[vec].lo = (handler & 0xffff) | ((uint64_t)SEL_CODE64 << 16) | ((uint64_t)ist << 32) |
		      ((uint64_t)GATE_INTERRUPT << 40) | (((handler >> 16) & 0xffff) << 48);
	idt[vec].hi = handler >> 32;
}

/* An interrupt gate for vector 32..255 (dpl 3: reachable by `int` from ring 3). */
void ag_idt_set(unsigned vec, uint64_t handler, unsigned dpl)
{
	if (vec < 32 || vec > 255)
		return;
	idt_set(vec, handler, 0);
	idt[vec].lo |= (uint64_t)(dpl & 3) << 45;
}

/* Any fault on `insn` resumes at `fixup` (probing instructions that may #UD/#GP). */
int ag_fixup_register(uint64_t insn, uint64_t fixup)
{
	if (nfixups >= MAX_FIXUPS)
		return -AG_ENOMEM;
	fixups[nfixups].insn = insn;
	fixups[nfixups++].fixup = fixup;
	return 0;
}

void ag_cpu_init(void)
{
	tss.rsp[0] = (uint64_t)ag_rsp0_top;
	tss.ist[IST_CRITICAL - 1] = (uint64_t)ag_ist1_top;
	tss.iomap_base = sizeof(tss);
	gdt_set_tss();
	struct desc_ptr gdtr = {sizeof(uint64_t) * 5 - 1, (uint64_t)ag_gdt};
	__asm__ volatile("lgdt %0" ::"m"(gdtr));
	ag_load_segments(SEL_CODE64, SEL_DATA);
	__asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
	for (unsigned v = 0; v < 32; v++) {
		bool critical = v == 2 || v == 8 || v == 18; /* NMI, #DF, #MC */
		idt_set(v, ag_exception_stubs[v], critical ? IST_CRITICAL : 0);
	}
	struct desc_ptr idtr = {sizeof(idt) - 1, (uint64_t)idt};
	__asm__ volatile("lidt %0" ::"m"(idtr));
}

static bool apply_fixup(struct ag_exc_frame *f)
{
	for (unsigned i = 0; i < nfixups; i++)
		if (f->rip == fixups[i].insn && f->vec < 32 && f->vec != 2 && f->vec != 8) {
			f->rip = fixups[i].fixup;
			return true;
		}
	if (f->vec != 13)
		return false;
	if (f->rip == (uint64_t)ag_rdmsr_insn) {
		f->rip = (uint64_t)ag_rdmsr_fixup;
		return true;
	}
	if (f->rip == (uint64_t)ag_wrmsr_insn) {
		f->rip = (uint64_t)ag_wrmsr_fixup;
		return true;
	}
	return false;
}

void ag_exception(struct ag_exc_frame *f);
void ag_exception(struct ag_exc_frame *f)
{
	static int reporting;
	if (apply_fixup(f))
		return;
	if (reporting++) { /* faulted while reporting: exit without words */
		ag_outb(VTX_EXIT_PORT, VTX_GUEST_EXCEPTION);
		ag_halt_forever();
	}
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	struct ag_line l;
	ag_uart_puts("\n"); /* the record must start at column 0 */
	ag_rec_begin(&l, "exception");
	ag_rec_u64(&l, "vec", f->vec);
	ag_rec_u64(&l, "rip", f->rip);
	ag_rec_u64(&l, "err", f->err);
	ag_rec_u64(&l, "cr2", cr2);
	ag_emit_line(&l);
	ag_finish(VTX_GUEST_EXCEPTION);
}

bool ag_pvm_detect(void)
{
	static int pvm = -1; /* the answer cannot change: ask once */
	uint64_t sig = 0;
	if (pvm < 0)
		pvm = ag_rdmsr_safe(PVM_MSR_SIGNATURE, &sig) == 0 && sig == PVM_SIGNATURE;
	return pvm;
}

void ag_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	if (ag_pvm_detect()) /* invlpg 0xffffffffff4d5650 (disp32 form), then cpuid */
		__asm__ volatile(".byte 0x0f, 0x01, 0x3c, 0x25, 0x50, 0x56, 0x4d, 0xff\n\tcpuid"
				 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
				 : "a"(leaf), "c"(sub)
				 : "memory");
	else
		__asm__ volatile("cpuid"
				 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
				 : "a"(leaf), "c"(sub));
}

enum x86_vendor ag_cpu_vendor(void)
{
	uint32_t r[4];
	ag_cpuid(0, 0, r);
	return x86_vendor_from_cpuid(r[1], r[2], r[3]);
}

int ag_pvm_register_vif(void)
{
	int rc = ag_wrmsr_safe(PVM_MSR_VIF, (uint64_t)vif_page | 1);
	if (rc == 0)
		vif_registered = true;
	return rc;
}

bool ag_pvm_vif_active(void)
{
	uint64_t v = 0;
	if (vif_registered)
		return true;
	return ag_rdmsr_safe(PVM_MSR_VIF, &v) == 0 && (v & 1);
}
