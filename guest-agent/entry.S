/*
 * PVH entry of the guest agent, the early page tables and the note.
 *
 * Why: a PVH loader starts us in 32-bit protected mode with paging off. On the
 * PVM host every 32-bit (and every pre-VIF) instruction is emulated one by one,
 * so this file does the minimum to reach 64-bit C code: read the TSC first,
 * load a static GDT, point CR3 at static identity tables (4 GiB of 2 MiB pages,
 * built by the assembler, not at run time), enable PAE/SSE, LME and paging,
 * and jump to 64-bit code. All the rest happens in C (agent_main).
 */
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_ET (1 << 4)
#define CR0_NE (1 << 5)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define BOOT_STACK_SIZE (64 * 1024)
#define IST_STACK_SIZE (16 * 1024)

/* XEN_ELFNOTE_PHYS32_ENTRY: name "Xen", type 18, descriptor = entry address */
	.section .note.Xen, "a"
	.balign 4
	.long 4			/* namesz */
	.long 8			/* descsz */
	.long 18		/* type */
	.asciz "Xen"
	.balign 4
	.quad pvh_start32	/* below 4 GiB: the upper half is zero */

	.section .text.boot, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	rdtsc
	movl %eax, boot_tsc_entry
	movl %edx, boot_tsc_entry + 4
	movl %ebx, boot_start_info
	lgdt boot_gdt_ptr32
	movl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	movl $EFER_LME, %eax
	xorl %edx, %edx
	wrmsr
	movl $(CR0_PG | CR0_NE | CR0_ET | CR0_MP | CR0_PE), %eax
	movl %eax, %cr0
	ljmp $SEL_CODE64, $start64

	.code64
start64:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	leaq boot_stack_top(%rip), %rsp
	/* zero .bss (small: stacks live in .stack) */
	leaq __bss_start(%rip), %rdi
	leaq __bss_end(%rip), %rcx
	subq %rdi, %rcx
	shrq $3, %rcx
	rep stosq
	fninit
	movl boot_start_info(%rip), %edi
	movq boot_tsc_entry(%rip), %rsi
	call agent_main
	/* agent_main never returns; if it does, report a panic */
	movl $4, %eax
	outb %al, $0xf4
1:	cli
	hlt
	jmp 1b

/*
 * int ag_rdmsr_safe(uint32_t msr, uint64_t *out)
 * int ag_wrmsr_safe(uint32_t msr, uint64_t val)
 * 0, or -EIO when the instruction raised #GP (the exception handler resumes
 * at the fixup label, see ag_exception_fixup()).
 */
	.text
	.globl ag_rdmsr_safe, ag_rdmsr_insn, ag_rdmsr_fixup
ag_rdmsr_safe:
	movl %edi, %ecx
ag_rdmsr_insn:
	rdmsr
	shlq $32, %rdx
	orq %rdx, %rax
	movq %rax, (%rsi)
	xorl %eax, %eax
	ret
ag_rdmsr_fixup:
	movl $-5, %eax
	ret

	.globl ag_wrmsr_safe, ag_wrmsr_insn, ag_wrmsr_fixup
ag_wrmsr_safe:
	movl %edi, %ecx
	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
ag_wrmsr_insn:
	wrmsr
	xorl %eax, %eax
	ret
ag_wrmsr_fixup:
	movl $-5, %eax
	ret

/* void ag_load_segments(uint16_t code, uint16_t data): reload CS and data */
	.globl ag_load_segments
ag_load_segments:
	movl %esi, %ds
	movl %esi, %es
	movl %esi, %ss
	popq %rax		/* return address */
	pushq %rdi
	pushq %rax
	lretq

/* The exception entry stubs: push a dummy error code when the CPU does not,
 * then the vector, save the GPRs and call ag_exception(frame). If it returns
 * (an exception fixup), restore and iretq. */
.macro EXC_NOERR vec
exc_stub_\vec:
	pushq $0
	pushq $\vec
	jmp exc_common
.endm
.macro EXC_ERR vec
exc_stub_\vec:
	pushq $\vec
	jmp exc_common
.endm

	EXC_NOERR 0
	EXC_NOERR 1
	EXC_NOERR 2
	EXC_NOERR 3
	EXC_NOERR 4
	EXC_NOERR 5
	EXC_NOERR 6
	EXC_NOERR 7
	EXC_ERR 8
	EXC_NOERR 9
	EXC_ERR 10
	EXC_ERR 11
	EXC_ERR 12
	EXC_ERR 13
	EXC_ERR 14
	EXC_NOERR 15
	EXC_NOERR 16
	EXC_ERR 17
	EXC_NOERR 18
	EXC_NOERR 19
	EXC_NOERR 20
	EXC_ERR 21
	EXC_NOERR 22
	EXC_NOERR 23
	EXC_NOERR 24
	EXC_NOERR 25
	EXC_NOERR 26
	EXC_NOERR 27
	EXC_NOERR 28
	EXC_ERR 29
	EXC_ERR 30
	EXC_NOERR 31

exc_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	cld
	call ag_exception
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

	.section .rodata
	.balign 8
	.globl ag_exception_stubs
ag_exception_stubs:
	.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad exc_stub_\vec
	.endr

	.data
	.globl boot_tsc_entry, boot_start_info, ag_gdt
	.balign 8
boot_tsc_entry:
	.quad 0
boot_start_info:
	.long 0
	.balign 16
/* null, 64-bit code, data, TSS (16 bytes, filled by ag_cpu_init) */
ag_gdt:
	.quad 0
	.quad 0x00af9a000000ffff
	.quad 0x00cf92000000ffff
	.quad 0, 0
ag_gdt_end:
boot_gdt_ptr32:
	.word ag_gdt_end - ag_gdt - 1
	.long ag_gdt

/* Early identity map: 4 GiB with 2 MiB pages. PML4 8 KiB aligned (PVM reads
 * CR3 bit 12 as "user half of a kernel/user pair"). Every entry has U set
 * (7 = P|RW|U, 0x87 = P|RW|U|PS): PVM runs guest CPL 0 in hardware ring 3 and
 * a supervisor-only page refaults forever once the guest runs natively. */
	.section .data.pagetables, "aw"
	.balign 8192
boot_pml4:
	.quad boot_pdpt + 7
	.fill 511, 8, 0
boot_pdpt:
	.quad boot_pd + 0x0000 + 7
	.quad boot_pd + 0x1000 + 7
	.quad boot_pd + 0x2000 + 7
	.quad boot_pd + 0x3000 + 7
	.fill 508, 8, 0
boot_pd:
	.set pd_index, 0
	.rept 2048
	.quad (pd_index << 21) | 0x87
	.set pd_index, pd_index + 1
	.endr

	.section .stack, "aw", @nobits
	.balign 16
	.globl boot_stack_top
	.space BOOT_STACK_SIZE
boot_stack_top:
/* IST1: #DF, NMI, #MC run here, so a broken RSP still gets reported */
	.globl ag_ist1_top
	.space IST_STACK_SIZE
ag_ist1_top:
/* TSS.RSP0: where the CPU switches on an exception from CPL 3 (PVM needs it
 * even though the agent itself never leaves CPL 0) */
	.globl ag_rsp0_top
	.space IST_STACK_SIZE
ag_rsp0_top:
	.section .note.GNU-stack, "", @progbits
