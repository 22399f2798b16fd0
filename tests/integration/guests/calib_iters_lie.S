/*
 * Hostile test guest for `virttax calibrate`: whatever group it is booted
 * for, it claims a calibration round of 2^63-1 iterations (the value that
 * reached an undefined float-to-integer conversion in the harness), then
 * done status 0 and exit value 0. Every VM group must fail with the
 * one-line protocol error naming "iters"; the host side is unaffected.
 */
#include "pvh_note.h"
PRINT_OUT_AND_EXIT

	.section .rodata
out:	.ascii "@@VTX1@@ {\"t\":\"hello\",\"proto\":1,\"side\":\"vm\",\"tsc_khz\":2000000,"
	.ascii "\"pagesize\":\"2m\"}\n"
	.ascii "@@VTX1@@ {\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"how\":\"lie\","
	.ascii "\"iters\":9223372036854775807,\"ticks\":[1]}\n"
	.ascii "@@VTX1@@ {\"t\":\"done\",\"status\":0}\n"
out_end:
