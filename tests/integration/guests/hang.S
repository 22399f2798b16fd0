/* Test guest: spins forever; only the --timeout watchdog ends it (exit 67). */
#include "pvh_note.h"
	.text
	.code32
	.globl _start
_start:
	pause
	jmp _start
