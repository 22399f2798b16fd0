/*
 * Test guest: stays in 32-bit mode (always emulated on a PVM host) and runs
 * 150000 loop iterations, then exits with 0. On PVM vmm-lite must flag the
 * run invalid (exit 68); where the guest runs natively it exits 1.
 */
#include "pvh_note.h"
	.text
	.code32
	.globl _start
_start:
	movl $150000, %ecx
1:	decl %ecx
	jnz 1b
	xorl %eax, %eax
	outb %al, $EXIT_PORT
	hlt
