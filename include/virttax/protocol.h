/*
 * The guest-to-host line protocol (the "ucall" of virttax).
 *
 * Why: the same workload code runs as a host process (bare metal) and inside
 * the guest agent. Both report through ONE text protocol so that the harness
 * parses bare-metal and VM output with the same code, and so that anything else
 * a guest prints (boot chatter, garbage) can never be mistaken for a result.
 *
 * Format: every record is one line
 *
 *     VTX_PROTO_PREFIX <one JSON object> '\n'
 *
 * The prefix starts at column 0. Lines without the prefix are free-form log
 * output (forwarded, never parsed). A line with the prefix whose JSON does not
 * parse, or lacks "t", is a protocol error and fails the run.
 *
 * Records ("t" is the record type):
 *   {"t":"hello","proto":1,"side":"vm"|"bare","tsc_khz":N,"tsc_src":"cmdline|pvm-msr|cpuid|pit|host",
 *    "tsc_entry":N,"pagesize":"4k"|"2m","mem_bytes":N,"pvm_vif":0|1}
 *      first record; tsc_entry is the TSC read at the agent's first instruction
 *      (host side: at runner start)
 *   {"t":"param","k":"KEY","v":"VALUE"}            one per effective parameter
 *   {"t":"metric","wl":"NAME","m":"METRIC","u":"UNIT","better":"lower"|"higher",
 *    "v":NUMBER[,"xk":"X_NAME","xu":"X_UNIT","x":NUMBER]}
 *      one measured value; x* present when the metric is a curve point
 *      (e.g. mem-chase: m="latency", xk="wss", xu="B", x=16384)
 *   {"t":"log","msg":"..."}                        diagnostics worth keeping
 *   {"t":"error","wl":"NAME","msg":"..."}         the workload failed (bad key, no memory, ...)
 *   {"t":"exception","vec":N,"rip":N,"err":N,"cr2":N}   guest CPU exception
 *   {"t":"calib","kind":"pio","ok":true,"how":"...","iters":N,"ticks":[T1,...,Tr]}
 *   {"t":"calib","kind":"ipi","ok":false,"reason":"..."}
 *      one calibrated kind (workload calib): TSC ticks of each round of `iters`
 *      operations; the harness computes ns/op, median and CI (docs/CALIBRATION.md)
 *   {"t":"done","status":N}                        last record; status 0 = ok
 */
#ifndef VIRTTAX_PROTOCOL_H
#define VIRTTAX_PROTOCOL_H

#define VTX_PROTO_PREFIX "@@VTX1@@ "
#define VTX_PROTO_VERSION 1

/* Guest exit status written to the isa-debug-exit port (0xf4).
 * QEMU and vmm-lite turn value v into process status (v << 1) | 1. */
#define VTX_EXIT_PORT 0xf4
#define VTX_GUEST_OK 0		/* -> process status 1 */
#define VTX_GUEST_WL_FAILED 1	/* workload reported an error -> 3 */
#define VTX_GUEST_BAD_CMDLINE 2 /* -> 5 */
#define VTX_GUEST_EXCEPTION 3	/* CPU exception -> 7 */
#define VTX_GUEST_PANIC 4	/* agent internal error -> 9 */

/* COM1 */
#define VTX_COM1_PORT 0x3f8

/* PVM (kvm_pvm) paravirtual MSRs, see ../shared/PLATFORM.md */
#define PVM_MSR_VIF 0x4b564d10	     /* GPA of zeroed 4K page | 1 */
#define PVM_MSR_SIGNATURE 0x4b564d11 /* reads 0x4d5650 "PVM" */
#define PVM_MSR_TSC_KHZ 0x4b564d13   /* TSC rate in kHz */
#define PVM_SIGNATURE 0x4d5650

#endif
