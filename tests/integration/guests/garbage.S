/*
 * Test guest: writes every byte value 0..255 to COM1 with outb and a rep
 * outsb string, exercises UART registers (DLAB, scratch, LSR), touches ports
 * nobody owns, and exits with 0 (status 1). The exit value encodes failures:
 * 0x21 scratch register did not read back, 0x22 LSR not "empty",
 * 0x23 unhandled port read did not return 0xff.
 */
#include "pvh_note.h"
	.text
	.code32
	.globl _start
_start:
	movw $COM1, %dx
	xorl %eax, %eax
1:	outb %al, %dx
	incb %al
	jnz 1b
	movl $str, %esi
	movl $4, %ecx
	rep outsb
	movw $(COM1 + 7), %dx	/* SCR */
	movb $0x5a, %al
	outb %al, %dx
	inb %dx, %al
	cmpb $0x5a, %al
	movb $0x21, %bl
	jne fail
	movw $(COM1 + 5), %dx	/* LSR */
	inb %dx, %al
	andb $0x60, %al
	cmpb $0x60, %al
	movb $0x22, %bl
	jne fail
	movw $(COM1 + 3), %dx	/* LCR: DLAB on, write divisor, DLAB off */
	movb $0x83, %al
	outb %al, %dx
	movw $COM1, %dx
	movb $0x01, %al		/* DLL: must not be printed */
	outb %al, %dx
	movw $(COM1 + 3), %dx
	movb $0x03, %al
	outb %al, %dx
	movw $0x1234, %dx	/* nobody there */
	outb %al, %dx
	inb $0x80, %al
	cmpb $0xff, %al
	movb $0x23, %bl
	jne fail
	xorl %eax, %eax
	outb %al, $EXIT_PORT
	hlt
fail:
	movb %bl, %al
	outb %al, $EXIT_PORT
	hlt

	.section .rodata
str:	.ascii "END\n"
