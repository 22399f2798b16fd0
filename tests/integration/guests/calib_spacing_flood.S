/*
 * Hostile test guest for `virttax calibrate`: in every group it is booted
 * for it prints one ok record for kind pio and 63 spacing records of pio
 * (two such groups overflowed a 64-slot stack array in the harness), a
 * metric, then done status 0 and exit value 0. Every VM group must fail with the one-line
 * reason "calib records: kind pio would have 63 spacing points, at most 16".
 */
#include "pvh_note.h"
PRINT_OUT_AND_EXIT

	.section .rodata
out:	.ascii "@@VTX1@@ {\"t\":\"hello\",\"proto\":1,\"side\":\"vm\",\"tsc_khz\":2000000,"
	.ascii "\"pagesize\":\"2m\"}\n"
	.ascii "@@VTX1@@ {\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"how\":\"outl\","
	.ascii "\"iters\":64,\"ticks\":[2580572,2554570,2596592]}\n"
	.rept 63
	.ascii "@@VTX1@@ {\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"iters\":16,"
	.ascii "\"ticks\":[852542,840620,806406],\"spacing\":true,\"gap_units\":0,"
	.ascii "\"base_ticks\":[250,188,270]}\n"
	.endr
	/* a run that is otherwise fine: the spacing bound must be what fails it */
	.ascii "@@VTX1@@ {\"t\":\"metric\",\"wl\":\"calib\",\"m\":\"kinds\",\"u\":\"count\","
	.ascii "\"better\":\"higher\",\"v\":1}\n"
	.ascii "@@VTX1@@ {\"t\":\"done\",\"status\":0}\n"
out_end:
