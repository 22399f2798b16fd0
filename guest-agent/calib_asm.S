/*
 * The instructions the calibration times, as tight loops, plus the ring-3
 * round trip and the interrupt handlers it needs.
 *
 * Why assembly: each loop must contain the measured instruction and one
 * counter/branch, nothing a compiler could move, merge or elide. The loops
 * whose instruction may not exist on this host (vmcall, vmmcall, int $0x1b,
 * rdmsr/wrmsr of a given MSR) have a single-shot probe form with an exception
 * fixup (ag_fixup_register): a fault sets %rdx = 1 and returns.
 */
#include "guest-agent/hlt_skip.h"
#define X2APIC_EOI 0x80b

	.text
/* void calib_loop_cpuid(uint64_t n) */
	.globl calib_loop_cpuid
calib_loop_cpuid:
	pushq %rbx
	movq %rdi, %r8
1:	xorl %eax, %eax
	xorl %ecx, %ecx
	cpuid
	decq %r8
	jnz 1b
	popq %rbx
	ret

/* void calib_loop_outl(uint64_t n, uint16_t port) */
	.globl calib_loop_outl
calib_loop_outl:
	movl %esi, %edx
	xorl %eax, %eax
1:	outl %eax, %dx
	decq %rdi
	jnz 1b
	ret

/* void calib_loop_store(uint64_t n, volatile uint32_t *p) */
	.globl calib_loop_store
calib_loop_store:
	xorl %eax, %eax
1:	movl %eax, (%rsi)
	decq %rdi
	jnz 1b
	ret

/* void calib_loop_rdmsr(uint64_t n, uint32_t msr) */
	.globl calib_loop_rdmsr
calib_loop_rdmsr:
	movl %esi, %ecx
1:	rdmsr
	decq %rdi
	jnz 1b
	ret

/* void calib_loop_wrmsr(uint64_t n, uint32_t msr, uint64_t val) */
	.globl calib_loop_wrmsr
calib_loop_wrmsr:
	movl %esi, %ecx
	movl %edx, %eax
	shrq $32, %rdx
1:	wrmsr
	decq %rdi
	jnz 1b
	ret

/* Hypercall loops: rax = nr (KVM_HC_*), result ignored */
	.globl calib_loop_vmcall, calib_loop_vmmcall, calib_loop_int1b
calib_loop_vmcall:
	pushq %rbx
	movq %rdi, %r8
1:	movq %rsi, %rax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	vmcall
	decq %r8
	jnz 1b
	popq %rbx
	ret
calib_loop_vmmcall:
	pushq %rbx
	movq %rdi, %r8
1:	movq %rsi, %rax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	vmmcall
	decq %r8
	jnz 1b
	popq %rbx
	ret
calib_loop_int1b:
	pushq %rbx
	movq %rdi, %r8
1:	movq %rsi, %rax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	int $0x1b
	decq %r8
	jnz 1b
	popq %rbx
	ret

/* Single-shot probes: struct calib_try {uint64_t ret, faulted;} f(uint64_t arg) */
.macro PROBE name, insn
	.globl calib_try_\name, calib_try_\name\()_insn, calib_try_\name\()_fixup
calib_try_\name:
	pushq %rbx
	movq %rdi, %rax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
calib_try_\name\()_insn:
	\insn
	xorl %edx, %edx
	popq %rbx
	ret
calib_try_\name\()_fixup:
	movl $1, %edx
	popq %rbx
	ret
.endm
	PROBE vmcall, vmcall
	PROBE vmmcall, vmmcall
	PROBE int1b, "int $0x1b"

/* MSR probes: calib_try_rdmsr(msr) -> value; calib_try_wrmsr(msr, val) */
	.globl calib_try_rdmsr, calib_try_rdmsr_insn, calib_try_rdmsr_fixup
calib_try_rdmsr:
	movl %edi, %ecx
calib_try_rdmsr_insn:
	rdmsr
	shlq $32, %rdx
	orq %rdx, %rax
	xorl %edx, %edx
	ret
calib_try_rdmsr_fixup:
	movl $1, %edx
	ret
	.globl calib_try_wrmsr, calib_try_wrmsr_insn, calib_try_wrmsr_fixup
calib_try_wrmsr:
	movl %edi, %ecx
	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
calib_try_wrmsr_insn:
	wrmsr
	xorl %eax, %eax
	xorl %edx, %edx
	ret
calib_try_wrmsr_fixup:
	movl $1, %edx
	ret

/* void calib_loop_cr3(uint64_t n, uint64_t cr3_other, uint64_t cr3_self) */
	.globl calib_loop_cr3
calib_loop_cr3:
1:	movq %rsi, %cr3
	movq %rdx, %cr3
	decq %rdi
	jnz 1b
	ret

/* void calib_loop_ptchurn(uint64_t n, uint64_t *pte, uint64_t va, uint64_t pte_a, uint64_t pte_b) */
	.globl calib_loop_ptchurn
calib_loop_ptchurn:
1:	movq %rcx, (%rsi)
	invlpg (%rdx)
	incq (%rdx)
	xchgq %rcx, %r8
	decq %rdi
	jnz 1b
	ret

/* void calib_loop_ptrewrite(uint64_t n, uint64_t *pte, uint64_t va, uint64_t pte_a, uint64_t pte_b):
 * calib_loop_ptchurn without the access: what the fault through the new PTE adds */
	.globl calib_loop_ptrewrite
calib_loop_ptrewrite:
1:	movq %rcx, (%rsi)
	invlpg (%rdx)
	xchgq %rcx, %r8
	decq %rdi
	jnz 1b
	ret

/* void calib_loop_cr0(uint64_t n): read CR0 n times (privileged: trapped and
 * emulated when the guest kernel runs deprivileged, as on PVM) */
	.globl calib_loop_cr0
calib_loop_cr0:
1:	movq %cr0, %rax
	decq %rdi
	jnz 1b
	ret

/* ---- interrupts: the handler records the TSC and the count, steps over the
 * wait's hlt if it interrupted just before it (hlt_skip.h), EOIs (x2APIC) ---- */
	.globl calib_irq_handler
calib_irq_handler:
	pushq %rax
	pushq %rcx
	pushq %rdx
	lfence
	rdtsc
	shlq $32, %rdx
	orq %rdx, %rax
	movq %rax, calib_irq_tsc(%rip)
	lock incq calib_irq_count(%rip)	/* the APs' wait backstops use it too */
	AG_HLT_SKIP(24)
	movl $X2APIC_EOI, %ecx
	xorl %eax, %eax
	xorl %edx, %edx
	wrmsr
	popq %rdx
	popq %rcx
	popq %rax
	iretq

/* ---- ring 3: SYSCALL/SYSRET round trips. The entry (LSTAR) returns with
 * sysretq unless %rax = 1, which leaves user mode for good. ---- */
	.globl calib_syscall_entry, calib_user_run
calib_syscall_entry:
	cmpq $1, %rax
	je 2f
	sysretq
2:	movq calib_kernel_rsp(%rip), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/* void calib_user_run(uint64_t n, uint64_t user_rsp): enter ring 3 with sysretq */
calib_user_run:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, calib_kernel_rsp(%rip)
	movq %rsi, %rsp
	leaq calib_user_loop(%rip), %rcx
	movl $0x2, %r11d	/* rflags: IF=0, IOPL=0 */
	sysretq
calib_user_loop:		/* ring 3, %rdi = n */
1:	xorl %eax, %eax
	syscall
	decq %rdi
	jnz 1b
	movl $1, %eax
	syscall
	ud2

	.data
	.balign 8
	.globl calib_irq_tsc, calib_irq_count
calib_irq_tsc:
	.quad 0
calib_irq_count:
	.quad 0
calib_kernel_rsp:
	.quad 0
	.section .note.GNU-stack, "", @progbits
