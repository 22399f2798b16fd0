/*
 * Hostile test guest: drives the host operation that vmm-lite's hidden
 * --test-escape FILE device performs on a port write (it creates FILE, the
 * stand-in for a device bug that hands a guest a host primitive), then
 * prints "survived\n" and writes 0 to the exit port (status 1). Under the
 * seccomp sandbox the vCPU thread's openat is forbidden: vmm-lite must end
 * with exit 69 before FILE exists and before "survived" is printed.
 */
#include "pvh_note.h"
#define ESCAPE_PORT 0x5e0
	.text
	.code32
	.globl _start
_start:
	movw $ESCAPE_PORT, %dx
	movb $1, %al
	outb %al, %dx
	movw $COM1, %dx
	movl $msg, %esi
1:	lodsb
	testb %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:	xorl %eax, %eax
	outb %al, $EXIT_PORT
	hlt

	.section .rodata
msg:	.asciz "survived\n"
