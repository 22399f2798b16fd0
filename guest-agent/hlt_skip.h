/*
 * AG_HLT_SKIP: the first lines of every interrupt handler of the agent.
 *
 * Why: the agent waits for an interrupt with `sti; hlt` (or, on PVM, the VIF
 * byte and `hlt`), all through the one hlt at ag_hlt_insn (irq.c). Real
 * hardware holds interrupts off for one instruction after sti, so an
 * interrupt arrives during the hlt and ends it. QEMU's TCG emulation of
 * AMD-V ignores that shadow on VMRUN (PLATFORM.md section 4): the interrupt
 * is taken before the hlt, which then sleeps with nothing left to wake it.
 * A handler whose return address is that hlt steps over it (hlt is one
 * byte), so the wait sees its interrupt either way. OFF is the offset of the
 * saved RIP from %rsp at the point of use; %rax must already be saved.
 * Usable from .S files (AG_HLT_SKIP) and C top-level asm (AG_HLT_SKIP_STR).
 */
#ifndef VIRTTAX_GUEST_AGENT_HLT_SKIP_H
#define VIRTTAX_GUEST_AGENT_HLT_SKIP_H

/* assembler text, kept from clang-format */
/* clang-format off */
#define AG_HLT_SKIP(off)                                                       \
	leaq ag_hlt_insn(%rip), %rax;                                          \
	cmpq %rax, off(%rsp);                                                  \
	jne 9f;                                                                \
	incq off(%rsp);                                                        \
	9:
/* clang-format on */

#define AG_HLT_SKIP_STR(off)                                                                       \
	"  leaq ag_hlt_insn(%rip), %rax\n"                                                         \
	"  cmpq %rax, " #off "(%rsp)\n"                                                            \
	"  jne 9f\n"                                                                               \
	"  incq " #off "(%rsp)\n"                                                                  \
	"9:\n"

#endif
