/*
 * Test guest: a hostile user of the timed-region marker port 0x4e0
 * (include/virttax/region.h). Sends one good region "a", then descriptors
 * outside RAM, in the reserved boot area, with a bad magic, a bad edge, an
 * unterminated label, a label with a space, an end without a begin, a 1-byte
 * write, 70 more two-region labels (6 past the 64-label table... and the
 * "a" makes it 71 labels: 7 dropped), a sequence gap and a region left open;
 * then exits with 0 (status 1). The test checks every counter vmm-lite
 * reports for it.
 */
#include "pvh_note.h"
#define PORT 0x4e0
#define MAGIC 0x52585456
	.text
	.code32
	.globl _start
_start:
	movw $PORT, %dx
	inl %dx, %eax
	cmpl $MAGIC, %eax
	movb $0x31, %bl
	jne fail
	movl $good_begin, %eax
	outl %eax, %dx
	movl $good_end, %eax
	outl %eax, %dx
	movl $0xfffff000, %eax	/* not RAM */
	outl %eax, %dx
	movl $0x1000, %eax	/* hvm_start_info: reserved, not RAM */
	outl %eax, %dx
	movl $bad_magic, %eax
	outl %eax, %dx
	movl $bad_edge, %eax
	outl %eax, %dx
	movl $unterminated, %eax
	outl %eax, %dx
	movl $space, %eax
	outl %eax, %dx
	movl $stray_end, %eax
	outl %eax, %dx
	outb %al, %dx		/* not an outl: bad_access */
	/* 70 labels "LAA".."LCR", each one begin and one end, seq 4.. */
	xorl %ecx, %ecx
	movl $4, %esi
1:	movl %ecx, %eax
	movb $26, %bl
	divb %bl		/* al = i / 26, ah = i % 26 */
	addb $'A', %al
	addb $'A', %ah
	movb %al, loop_desc + 17
	movb %ah, loop_desc + 18
	movl $1, loop_desc + 4
	movl %esi, loop_desc + 8
	movl $loop_desc, %eax
	outl %eax, %dx
	incl %esi
	movl $2, loop_desc + 4
	movl %esi, loop_desc + 8
	movl $loop_desc, %eax
	outl %eax, %dx
	incl %esi
	incl %ecx
	cmpl $70, %ecx
	jne 1b
	movl $open_begin, %eax	/* seq 1000: a gap; never closed */
	outl %eax, %dx
	xorl %eax, %eax
	outb %al, $EXIT_PORT
	hlt
fail:
	movb %bl, %al
	outb %al, $EXIT_PORT
	hlt

	.data
	.balign 64
good_begin:	.long MAGIC, 1
		.quad 1
		.asciz "a"
	.balign 64
good_end:	.long MAGIC, 2
		.quad 2
		.asciz "a"
	.balign 64
bad_magic:	.long 0x12345678, 1
		.quad 3
		.asciz "b"
	.balign 64
bad_edge:	.long MAGIC, 7
		.quad 3
		.asciz "b"
	.balign 64
unterminated:	.long MAGIC, 1
		.quad 3
		.ascii "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"	/* 48, no NUL */
	.balign 64
space:		.long MAGIC, 1
		.quad 3
		.asciz "a b"
	.balign 64
stray_end:	.long MAGIC, 2
		.quad 3
		.asciz "zz"
	.balign 64
loop_desc:	.long MAGIC, 1
		.quad 0
		.asciz "LAA"
	.balign 64
open_begin:	.long MAGIC, 1
		.quad 1000
		.asciz "open"
	.balign 64
