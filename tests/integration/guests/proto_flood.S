/*
 * Hostile test guest: a hello record, then 16 MiB of records of the shape
 * that made the harness keep ~1.2 GiB, 4096 lines of exactly 4096 bytes:
 *   @@VTX1@@ {"t":"exception","a":[{},{},...]}
 * then done status 0 and exit value 0 (status 1). The harness must fail the
 * run with a protocol error (more than 4 MiB of records) and stay small.
 * Printed with `rep outsb` over 64 KiB blocks (16 lines) so that the guest,
 * emulated in 32-bit mode on PVM, stays below vmm-lite's emulation limit.
 * Every byte is a port-I/O exit (~17 us here, the whole flood ~5 minutes):
 * proto_flood_4m.S is the same guest with 65 blocks (4.06 MiB, just past
 * the parser's limit) for the integration test; this one is for
 * bench/hostile-flood.sh.
 */
#include "pvh_note.h"
#ifndef FLOOD_BLOCKS
#define FLOOD_BLOCKS 256 /* x 64 KiB */
#endif
	.text
	.code32
	.globl _start
_start:
	movw $COM1, %dx
	movl $hello, %esi
	movl $(hello_end - hello), %ecx
	rep outsb
	movl $FLOOD_BLOCKS, %edi
1:	movl $block, %esi
	movl $(block_end - block), %ecx
	rep outsb
	decl %edi
	jnz 1b
	movl $done, %esi
	movl $(done_end - done), %ecx
	rep outsb
	xorl %eax, %eax
	outb %al, $EXIT_PORT
	hlt

	.section .rodata
hello:	.ascii "@@VTX1@@ {\"t\":\"hello\",\"proto\":1,\"side\":\"vm\",\"tsc_khz\":2000000,"
	.ascii "\"pagesize\":\"2m\"}\n"
hello_end:
done:	.ascii "@@VTX1@@ {\"t\":\"done\",\"status\":0}\n"
done_end:
	/* one line: 9 + 22 + 2 + 1353 * 3 + 1 + 2 + 1 = 4096 bytes */
	.macro line
	.ascii "@@VTX1@@ {\"t\":\"exception\",\"a\":[{}"
	.rept 1353
	.ascii ",{}"
	.endr
	.ascii " ]}\n"
	.endm
block:
	.rept 16
	line
	.endr
block_end:
