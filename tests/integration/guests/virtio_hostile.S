/*
 * Hostile test guest for virtio-blk on virtio-mmio transport 0 (vmm-lite
 * --blk FILE --mem 64M, io technique virtio-user): it floods the device with
 * FLOOD bad QUEUE_READY writes (rings outside RAM), resets it, then posts
 * chains that point outside its memory (past the end of RAM, straddling it,
 * a 4 GiB length, a descriptor loop, an avail entry out of range, a GET_ID
 * whose writable buffer is outside RAM), and finally one good GET_ID request.
 * Each bad chain must be completed with length 0 (the bad avail entry is
 * dropped) and the good request served: "served: virttax-blk" on COM1, then
 * exit value 0 (status 1). Failures write their step to the exit port:
 * 0x31 no transport, 0x32 not a block device, 0x33 FEATURES_OK refused,
 * 0x34 a flooded queue became ready, 0x35 the good queue did not,
 * 0x40+n bad chain n not completed as expected, 0x50 good request failed.
 */
#include "pvh_note.h"
#define MMIO 0xfeb00000
#define R_MAGIC 0x000
#define R_DEVICE_ID 0x008
#define R_DRV_FEATURES 0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_DRIVER_LO 0x090
#define R_DRIVER_HI 0x094
#define R_DEVICE_LO 0x0a0
#define R_DEVICE_HI 0x0a4
#define FLOOD 5000
#define QSIZE 8
#define DESC 0x200000
#define AVAIL 0x201000
#define USED 0x202000
#define HDR 0x203000
#define BUF 0x203100
#define STAT 0x203200
#define OUTSIDE 0x7fff0000	/* far past the 64 MiB of RAM */
#define RAM_END 0x4000000
#define F_NEXT 1
#define F_WRITE 2

	.text
	.code32
	.globl _start
_start:
	movl $0x80000, %esp
	movb $0x31, %bl
	cmpl $0x74726976, MMIO + R_MAGIC
	jne fail
	movb $0x32, %bl
	cmpl $2, MMIO + R_DEVICE_ID
	jne fail
	call negotiate

	/* the flood: every write is refused (rings outside RAM) */
	movl $0, MMIO + R_QUEUE_SEL
	movl $QSIZE, MMIO + R_QUEUE_NUM
	movl $0xfff00000, MMIO + R_DESC_LO
	movl $0, MMIO + R_DESC_HI
	movl $AVAIL, MMIO + R_DRIVER_LO
	movl $0, MMIO + R_DRIVER_HI
	movl $USED, MMIO + R_DEVICE_LO
	movl $0, MMIO + R_DEVICE_HI
	movl $FLOOD, %ecx
1:	movl $1, MMIO + R_QUEUE_READY
	loop 1b
	movb $0x34, %bl
	cmpl $0, MMIO + R_QUEUE_READY
	jne fail

	/* a driver that behaves: reset, renegotiate, a queue in RAM */
	call negotiate
	movl $0, MMIO + R_QUEUE_SEL
	movl $QSIZE, MMIO + R_QUEUE_NUM
	movl $DESC, MMIO + R_DESC_LO
	movl $0, MMIO + R_DESC_HI
	movl $AVAIL, MMIO + R_DRIVER_LO
	movl $0, MMIO + R_DRIVER_HI
	movl $USED, MMIO + R_DEVICE_LO
	movl $0, MMIO + R_DEVICE_HI
	movl $1, MMIO + R_QUEUE_READY
	movb $0x35, %bl
	cmpl $1, MMIO + R_QUEUE_READY
	jne fail
	movl $15, MMIO + R_STATUS	/* ACK | DRIVER | FEATURES_OK | DRIVER_OK */
	movl $8, HDR			/* VIRTIO_BLK_T_GET_ID */

	/* 1: one descriptor far outside RAM */
	movl $OUTSIDE, %eax
	movl $16, %ecx
	xorl %edx, %edx
	call set_desc0
	movb $0x41, %bl
	call post0_expect_zero
	/* 2: straddles the end of RAM */
	movl $(RAM_END - 8), %eax
	movl $16, %ecx
	xorl %edx, %edx
	call set_desc0
	movb $0x42, %bl
	call post0_expect_zero
	/* 3: 4 GiB long */
	movl $HDR, %eax
	movl $0xffffffff, %ecx
	xorl %edx, %edx
	call set_desc0
	movb $0x43, %bl
	call post0_expect_zero
	/* 4: a loop (NEXT to itself) */
	movl $HDR, %eax
	movl $16, %ecx
	movl $F_NEXT, %edx		/* next = 0 */
	call set_desc0
	movb $0x44, %bl
	call post0_expect_zero
	/* 5: an avail entry (head 200) out of range: dropped, no used entry */
	movl $200, %eax
	call post
	movb $0x45, %bl
	cmpw used_want, %ax
	jne fail
	/* 6: GET_ID into a writable buffer outside RAM */
	call getid_chain
	movl $OUTSIDE, DESC + 16
	movb $0x46, %bl
	call post0_expect_zero

	/* the good request: the device still serves */
	call getid_chain
	xorl %eax, %eax
	call post
	incw used_want
	movb $0x50, %bl
	cmpw used_want, %ax
	jne fail
	cmpb $0, STAT
	jne fail
	cmpl $0x74726976, BUF		/* "virt" */
	jne fail
	movw $COM1, %dx
	movl $served, %esi
	call puts
	movl $BUF, %esi
	call puts
	movb $'\n', %al
	outb %al, %dx
	xorl %eax, %eax
	outb %al, $EXIT_PORT
	hlt

fail:
	movb %bl, %al
	outb %al, $EXIT_PORT
	hlt

/* reset, ACK | DRIVER, VERSION_1 only, FEATURES_OK (must stick) */
negotiate:
	movl $0, MMIO + R_STATUS
	movl $3, MMIO + R_STATUS
	movl $1, MMIO + R_DRV_FEATURES_SEL
	movl $1, MMIO + R_DRV_FEATURES
	movl $0, MMIO + R_DRV_FEATURES_SEL
	movl $0, MMIO + R_DRV_FEATURES
	movl $11, MMIO + R_STATUS
	movb $0x33, %bl
	testl $8, MMIO + R_STATUS
	jz fail
	ret

/* desc[0] = {addr %eax, len %ecx, flags %dx, next 0} */
set_desc0:
	movl %eax, DESC
	movl $0, DESC + 4
	movl %ecx, DESC + 8
	movw %dx, DESC + 12
	movw $0, DESC + 14
	ret

/* desc 0: header (readable) -> 1: 20-byte buffer (writable) -> 2: status */
getid_chain:
	movl $HDR, DESC
	movl $0, DESC + 4
	movl $16, DESC + 8
	movw $F_NEXT, DESC + 12
	movw $1, DESC + 14
	movl $BUF, DESC + 16
	movl $0, DESC + 20
	movl $20, DESC + 24
	movw $(F_NEXT | F_WRITE), DESC + 28
	movw $2, DESC + 30
	movl $STAT, DESC + 32
	movl $0, DESC + 36
	movl $1, DESC + 40
	movw $F_WRITE, DESC + 44
	movw $0, DESC + 46
	movb $0xff, STAT
	ret

/* make head %eax available, kick; returns used->idx in %ax */
post:
	movzwl avail_idx, %ecx
	andl $(QSIZE - 1), %ecx
	movw %ax, AVAIL + 4(,%ecx,2)
	incw avail_idx
	movw avail_idx, %ax
	movw %ax, AVAIL + 2
	movl $0, MMIO + R_QUEUE_NOTIFY
	movw USED + 2, %ax
	ret

/* post head 0; the used entry must be {id 0, len 0} (else exit %bl) */
post0_expect_zero:
	xorl %eax, %eax
	call post
	incw used_want
	cmpw used_want, %ax
	jne fail
	movzwl %ax, %ecx
	decl %ecx
	andl $(QSIZE - 1), %ecx
	cmpl $0, USED + 4(,%ecx,8)	/* id */
	jne fail
	cmpl $0, USED + 8(,%ecx,8)	/* len */
	jne fail
	ret

/* print the NUL-terminated string at %esi (at most 20 bytes) on port %dx */
puts:
	movl $20, %ecx
1:	lodsb
	testb %al, %al
	jz 2f
	outb %al, %dx
	loop 1b
2:	ret

	.data
avail_idx:	.word 0
used_want:	.word 0
	.section .rodata
served:	.asciz "served: "
