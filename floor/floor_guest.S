/*
 * The guest of kvm-floor: 64-bit code copied to GPA 0x1000 and entered there
 * directly (no 16/32-bit boot stage, paging already on).
 *
 * Why so little: this guest defines the physical floor of a KVM VMM on the
 * host, so it does only what is measured. Its first instruction reads the TSC
 * (the "first guest instruction" of process start-up). Then it times rounds
 * of back-to-back `outl` to FLOOR_PIO_PORT, each round bracketed by
 * `lfence; rdtsc`, exactly as the guest agent's pio calibration does
 * (guest-agent/calib_asm.S, docs/CALIBRATION.md): the op count doubles from 1
 * until one round lasts at least the goal, then `rounds` rounds are kept.
 * The results go to the data page; one `outb` to port 0xf4 ends the run.
 * The code is position independent; the data page is at a fixed GPA.
 */
#include "floor/floor.h"

	.section .rodata.floor_guest, "a"
	.code64
	.globl floor_guest_start, floor_guest_end
floor_guest_start:
	rdtsc					/* the first guest instruction */
	shlq $32, %rdx
	orq %rdx, %rax
	movq %rax, FLOOR_D_ENTRY_TSC
	movl $1, %edi				/* ops per round */
grow:
	call time_round
	cmpq FLOOR_D_GOAL_TICKS, %rax
	jae sized
	cmpq FLOOR_D_MAX_ITERS, %rdi
	jae sized
	shlq $1, %rdi
	jmp grow
sized:
	movq %rdi, FLOOR_D_ITERS
	xorl %ebx, %ebx
rounds:
	call time_round
	movq %rax, FLOOR_D_TICKS(, %rbx, 8)
	incl %ebx
	cmpl FLOOR_D_ROUNDS, %ebx
	jb rounds
	movl $FLOOR_DONE_PORT, %edx
	xorl %eax, %eax
	outb %al, %dx				/* done: the host leaves its loop */
1:	hlt
	jmp 1b

/* %rdi ops -> %rax TSC ticks; clobbers rcx, rdx, r8 */
time_round:
	lfence
	rdtsc
	shlq $32, %rdx
	orq %rdx, %rax
	movq %rax, %r8
	movq %rdi, %rcx
	movl $FLOOR_PIO_PORT, %edx
	xorl %eax, %eax
2:	outl %eax, %dx
	decq %rcx
	jnz 2b
	lfence
	rdtsc
	shlq $32, %rdx
	orq %rdx, %rax
	subq %r8, %rax
	ret
floor_guest_end:

	.section .note.GNU-stack, "", @progbits
