/* clang-format off */
/* (included from assembly: clang-format would break the directives) */
/*
 * Shared bits of the vmm-lite test guests: the PVH entry note and port I/O
 * numbers. Why: every test guest must be PVH-bootable exactly like the agent.
 */
#define COM1 0x3f8
#define EXIT_PORT 0xf4
#define HVM_START_MAGIC 0x336ec578
/* The protocol guests' program: print [out, out_end) on COM1 with one rep
 * outsb, write 0 to the exit port (status 1). */
#define PRINT_OUT_AND_EXIT \
	.text; .code32; .globl _start; \
_start:	movw $COM1, %dx; movl $out, %esi; movl $(out_end - out), %ecx; rep outsb; \
	xorl %eax, %eax; outb %al, $EXIT_PORT; hlt

	.section .note.Xen, "a", @note
	.balign 4
	.long 4			/* namesz */
	.long 8			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad _start
