/*
 * Test guest: loads an empty IDT and raises #BP; the exception cannot be
 * delivered (#GP, then #DF), so the CPU triple-faults: vmm-lite exits 66.
 */
#include "pvh_note.h"
	.text
	.code32
	.globl _start
_start:
	lidt null_idt
	int3
	movb $0x3e, %al		/* never reached */
	outb %al, $EXIT_PORT
	hlt

	.section .rodata
null_idt:
	.word 0
	.long 0
