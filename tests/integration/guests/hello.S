/*
 * Test guest: checks hvm_start_info (magic, memmap), prints
 * "hello <cmdline>\n" on COM1 and writes 0x15 to the exit port
 * (vmm-lite exit status 43). A bad start_info writes 0x3f (status 127).
 */
#include "pvh_note.h"
	.text
	.code32
	.globl _start
_start:
	movl $0x80000, %esp	/* free low RAM */
	cmpl $HVM_START_MAGIC, 0(%ebx)
	jne bad
	cmpl $1, 4(%ebx)	/* version */
	jne bad
	cmpl $0, 48(%ebx)	/* memmap_entries */
	je bad
	movw $COM1, %dx
	movl $msg, %esi
	call puts
	movl 24(%ebx), %esi	/* cmdline_paddr */
	call puts
	movb $'\n', %al
	outb %al, %dx
	movb $0x15, %al
	outb %al, $EXIT_PORT
	hlt
bad:
	movb $0x3f, %al
	outb %al, $EXIT_PORT
	hlt
puts:
	lodsb
	testb %al, %al
	jz 1f
	outb %al, %dx
	jmp puts
1:	ret

	.section .rodata
msg:	.asciz "hello "
