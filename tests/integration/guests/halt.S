/*
 * Test guest: prints "halting\n" and halts with interrupts off, the classic
 * clean end of a guest without an exit port: vmm-lite exits 0 (kind
 * "shutdown"). With "sti" first (file halt_sti.S) it must keep waiting.
 */
#include "pvh_note.h"
	.text
	.code32
	.globl _start
_start:
	movw $COM1, %dx
	movl $msg, %esi
1:	lodsb
	testb %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:
#ifdef HALT_STI
	sti
#else
	cli
#endif
	hlt
	jmp 2b

	.section .rodata
msg:	.asciz "halting\n"
