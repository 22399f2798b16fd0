/*
 * Application-processor start: the real-mode trampoline copied below 1 MiB
 * and the 64-bit entry the trampoline jumps to.
 *
 * Why: an AP leaves INIT/SIPI in real mode at CS = vector << 8, IP = 0, like
 * on a PC, under vmm-lite's in-kernel LAPIC and under QEMU alike. On the PVM
 * host all of this is emulated instruction by instruction (the AP has no VIF
 * page registered yet, or real mode), so the path is kept to ~25
 * instructions: load a GDT, enter protected mode, PAE + the BSP's CR3 + LME +
 * paging, far jump to ap_start64 in the image. smp.c copies the bytes between
 * ap_tramp_start and ap_tramp_end to the trampoline page and patches the
 * tr_* fields (absolute addresses) before the SIPI.
 */
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define CR0_BITS ((1 << 31) | (1 << 5) | (1 << 4) | (1 << 1) | 1)
#define CR4_BITS ((1 << 5) | (1 << 9) | (1 << 10))
#define OFF(x) ((x) - ap_tramp_start)

	.section .rodata
	.globl ap_tramp_start, ap_tramp_end, ap_tr_gdtr, ap_tr_far32, ap_tr_far64, ap_tr_cr3
	.globl ap_tr_gdt, ap_tr_prot32
	.balign 16
	.code16
ap_tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	xorl %ebx, %ebx
	movw %ax, %bx
	shll $4, %ebx			/* %ebx = linear base of the trampoline page */
	lgdtl OFF(ap_tr_gdtr)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl *OFF(ap_tr_far32)
	.code32
ap_tr_prot32:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl $CR4_BITS, %eax
	movl %eax, %cr4
	movl OFF(ap_tr_cr3)(%ebx), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	movl $EFER_LME, %eax
	xorl %edx, %edx
	wrmsr
	movl $CR0_BITS, %eax
	movl %eax, %cr0
	ljmpl *OFF(ap_tr_far64)(%ebx)
	.balign 8
ap_tr_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08 code64 */
	.quad 0x00cf92000000ffff	/* 0x10 data */
	.quad 0x00cf9a000000ffff	/* 0x18 code32 */
ap_tr_gdtr:
	.word 31
	.long 0				/* patched: page + OFF(ap_tr_gdt) */
ap_tr_far32:
	.long 0				/* patched: page + OFF(ap_tr_prot32) */
	.word 0x18
ap_tr_far64:
	.long 0				/* patched: ap_start64 */
	.word 0x08
ap_tr_cr3:
	.long 0				/* patched: the BSP's CR3 (below 4 GiB) */
ap_tramp_end:

/* 64-bit, paging on, the BSP's page tables, interrupts off. Take an index,
 * switch to its stack, call ap_main(index); an index past the table parks. */
	.text
	.code64
	.globl ap_start64
ap_start64:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movl $1, %eax
	lock xaddl %eax, ap_next_index(%rip)
	cmpl ap_max_index(%rip), %eax
	jae 2f
	movl %eax, %edi
	leaq ap_stack_tops(%rip), %rcx
	movq (%rcx,%rax,8), %rsp
	fninit
	call ap_main
2:	cli
	hlt
	jmp 2b
	.section .note.GNU-stack, "", @progbits
