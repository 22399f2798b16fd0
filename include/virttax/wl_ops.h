/*
 * Platform primitives a workload may ask its runtime for (struct wl_env.op):
 * the operations whose cost differs between a host process and a guest, and
 * the calibration record that reports their cost.
 *
 * Why: workloads are freestanding and built twice, so they cannot issue a
 * port write, a system call or a CR3 switch themselves. The runtime does it:
 * the guest agent (guest-agent/calib_*.c) implements VM exits, guest ring-3
 * round trips, CR3 switches and page-table rewrites; the host runner
 * (harness/hosted_ops.c) implements getpid, futex and pipe round trips and
 * mmap/munmap churn. An operation the runtime cannot do is probed and
 * reported as unavailable with a reason, never faked.
 *
 * Timing is done by the runtime around its own tight loop (TSC ticks, lfence;
 * rdtsc), so no indirect call or bookkeeping is inside the measured interval
 * except for one loop branch per operation.
 */
#ifndef VIRTTAX_WL_OPS_H
#define VIRTTAX_WL_OPS_H

#include <stdbool.h>
#include <stdint.h>

enum wl_op {
	/* VM exits (guest only) */
	WL_OP_CPUID,	     /* cpuid leaf 0 */
	WL_OP_HYPERCALL,     /* vmcall/vmmcall; on PVM the in-kernel int $0x1b hypercall */
	WL_OP_PIO,	     /* outl to VTX_CALIB_PIO_PORT, handled by the VMM in userspace */
	WL_OP_PIO_KERNEL,    /* outl to VTX_CALIB_PIO_KERNEL_PORT: KVM ioeventfd */
	WL_OP_MMIO,	     /* 32-bit store to VTX_CALIB_MMIO_GPA, VMM userspace */
	WL_OP_MMIO_KERNEL,   /* 32-bit store to VTX_CALIB_MMIO_KERNEL_GPA: ioeventfd */
	WL_OP_MSR_KERNEL_RD, /* rdmsr of an MSR KVM handles in the kernel */
	WL_OP_MSR_KERNEL_WR, /* wrmsr of the same */
	WL_OP_MSR_USER_RD,   /* rdmsr VTX_CALIB_USER_MSR: KVM_X86_SET_MSR_FILTER -> VMM */
	WL_OP_MSR_USER_WR,   /* wrmsr of the same */
	WL_OP_HLT_TIMER,     /* hlt, woken by a LAPIC TSC-deadline interrupt armed just before */
	WL_OP_SELF_IPI,	     /* ICR self-IPI, delivered and EOI'd */
	WL_OP_IPI,	     /* IPI ping-pong with another vCPU */
	WL_OP_TIMER_LATENCY, /* ticks from a TSC deadline to its interrupt handler */
	/* isolation boundaries and mediation (both sides) */
	WL_OP_SYSCALL,	   /* guest: kernel->user->syscall->kernel; host: syscall(getpid) */
	WL_OP_THREAD_WAKE, /* host: futex ping-pong between two threads (one round trip) */
	WL_OP_PROCESS_RT,  /* host: pipe ping-pong between two processes (one round trip) */
	WL_OP_CTX_SWITCH,  /* guest: CR3 to a 2nd address space and back; host: = PROCESS_RT */
	WL_OP_PT_CHURN,	   /* guest: rewrite a PTE, invlpg, touch; host: mmap+touch+munmap */
	/* exit categories of their own (docs/CALIBRATION.md "Exit categories") */
	WL_OP_HOST_IRQ,	  /* both: a host interrupt landing on running code, seen as a TSC
			   * gap in a tight loop; one op = one gap (ticks: the sum of n gaps) */
	WL_OP_PT_REWRITE, /* guest: rewrite a PTE and invlpg, no access (pt-churn minus its fault)
			   */
	WL_OP_PRIV_INSN,  /* guest: mov from CR0 (trapped and emulated under PVM) */
	WL_OP_COUNT
};

/* Names used on the command line (kinds=, kind=) and in calibration.json. */
static inline const char *wl_op_name(unsigned op)
{
	static const char *const names[WL_OP_COUNT] = {
	    [WL_OP_CPUID] = "cpuid",
	    [WL_OP_HYPERCALL] = "hypercall",
	    [WL_OP_PIO] = "pio",
	    [WL_OP_PIO_KERNEL] = "pio-ioeventfd",
	    [WL_OP_MMIO] = "mmio",
	    [WL_OP_MMIO_KERNEL] = "mmio-ioeventfd",
	    [WL_OP_MSR_KERNEL_RD] = "msr-kernel-read",
	    [WL_OP_MSR_KERNEL_WR] = "msr-kernel-write",
	    [WL_OP_MSR_USER_RD] = "msr-user-read",
	    [WL_OP_MSR_USER_WR] = "msr-user-write",
	    [WL_OP_HLT_TIMER] = "hlt-timer",
	    [WL_OP_SELF_IPI] = "self-ipi",
	    [WL_OP_IPI] = "ipi",
	    [WL_OP_TIMER_LATENCY] = "timer-latency",
	    [WL_OP_SYSCALL] = "syscall",
	    [WL_OP_THREAD_WAKE] = "thread-wake",
	    [WL_OP_PROCESS_RT] = "process-roundtrip",
	    [WL_OP_CTX_SWITCH] = "ctx-switch",
	    [WL_OP_PT_CHURN] = "pt-churn",
	    [WL_OP_HOST_IRQ] = "host-irq",
	    [WL_OP_PT_REWRITE] = "pt-rewrite",
	    [WL_OP_PRIV_INSN] = "priv-insn",
	};
	return op < WL_OP_COUNT ? names[op] : "?";
}

/* The test devices vmm-lite provides for the calibration (docs/CALIBRATION.md) */
#define VTX_CALIB_PIO_PORT 0x4f0	/* 4 ports: user-space handled; inl(+0) = magic */
#define VTX_CALIB_PIO_STATUS 0x4f4	/* inl: VTX_CALIB_F_* of what the VMM set up */
#define VTX_CALIB_PIO_KERNEL_PORT 0x4f8 /* 4 ports: KVM ioeventfd (writes of 4 bytes) */
#define VTX_CALIB_MAGIC 0x43585456u	/* "VTXC" */
#define VTX_CALIB_MMIO_GPA 0xd0000000ull
#define VTX_CALIB_MMIO_KERNEL_GPA 0xd0001000ull
#define VTX_CALIB_USER_MSR 0x4b564e00u /* filtered to userspace by vmm-lite */
/* host-irq: a gap between two TSC reads of a tight loop longer than MIN_NS is
 * an interrupt; longer than MAX_NS the code was descheduled (scheduling, not
 * the interrupt's cost) and the gap is not counted. */
#define WL_HOST_IRQ_MIN_NS 500
#define WL_HOST_IRQ_MAX_NS 500000
#define WL_HOST_IRQ_PROBE_MS 100 /* no gap in this long: unavailable (tickless CPU) */
/* the bound of one op call: 50 ms per gap (a 20 Hz tick at worst) + 100 ms */
#define WL_HOST_IRQ_DEADLINE(t0, n, tsc_hz) ((t0) + ((n)*50 + 100) * ((tsc_hz) / 1000))
#define VTX_CALIB_F_PIO_IOEVENTFD 0x1
#define VTX_CALIB_F_MMIO_IOEVENTFD 0x2
#define VTX_CALIB_F_USER_MSR 0x4
/* inb(VTX_CALIB_PIO_STATUS + 1 + i): errno of feature bit i (0 = set up) */

/* What a workload reports for one calibrated kind ({"t":"calib"} record). */
#define WL_CALIB_MAX_ROUNDS 24
struct wl_calib {
	const char *kind;
	const char *reason; /* NULL when available */
	const char *how;    /* the mechanism measured, e.g. "outl 0x4f0", or NULL */
	uint64_t iters;	    /* operations per round */
	uint32_t nrounds;
	uint64_t ticks[WL_CALIB_MAX_ROUNDS]; /* TSC ticks of each round */
	/* A spacing record (docs/CALIBRATION.md): every op preceded by gap_units
	 * of exit-storm's compute; base_ticks are the interleaved rounds of the
	 * same compute without the op. */
	bool spacing;
	uint64_t gap_units;
	uint64_t base_ticks[WL_CALIB_MAX_ROUNDS];
};

#endif
