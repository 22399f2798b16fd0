/*
 * bench/dispatch: what vmm-lite adds in user space to one port-I/O exit.
 *
 * Why: on this host an exit costs ~25 us and anything vmm-lite does per exit
 * disappears in the noise of an end-to-end comparison; on bare-metal KVM an
 * exit to user space costs ~1-2 us and a few hundred ns of bookkeeping would
 * show. So the per-exit path is timed on its own: vcpu_dispatch() (exactly
 * what vmm-lite's vCPU loop runs between two KVM_RUNs) on a fake kvm_run
 * holding an `outl` to the calibration port 0x4f0, with the devices a VM has
 * registered in the order vm.c registers them, counted only (the default) and
 * with --exit-timing. The floor's loop does one compare of the exit reason and
 * one of the port (floor/kvm_floor.c); an empty loop is the baseline.
 *
 * usage: build/bench/dispatch [ROUNDS] [OPS_PER_ROUND] [MODE]
 *        (default 11, 1000000, all; MODE 0..3 runs one mode, e.g. under
 *        `valgrind --tool=callgrind` to count instructions per exit)
 * Prints ns per exit, median over rounds [distribution-free CI of the median]
 * (core/stats.c), and the baseline.
 */
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/stats.h"
#include "virttax/protocol.h"
#include "virttax/wl_ops.h"
#include "vmm-lite/vmm.h"

#define RUN_SIZE 8192
#define MAX_ROUNDS 64

static struct vm vm; /* large: static, as in main.c */
static struct vmm_options opt;

static struct vcpu *setup(void)
{
	struct vcpu *v = &vm.vcpus[0];
	struct kvm_run *run = calloc(1, RUN_SIZE);

	if (!run)
		return NULL;
	vm.opt = &opt;
	vm.vm_fd = vm.kvm_fd = -1;
	vm.nvcpus = 1;
	v->vm = &vm;
	v->fd = -1;
	v->run = run;
	v->run_size = RUN_SIZE;
	/* the devices of vm_setup_devices(), in its order: the bus scans them */
	uart_init(&vm.com1, VTX_COM1_PORT, STDOUT_FILENO);
	debug_exit_init(&vm.dbg_exit, VTX_EXIT_PORT, &vm);
	bus_register(&vm.pio, &vm.com1.dev);
	bus_register(&vm.pio, &vm.dbg_exit.dev);
	vm.calib.pio_efd = vm.calib.mmio_efd = -1;
	calib_pio_init(&vm);
	calib_mmio_init(&vm);
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = KVM_EXIT_IO_OUT;
	run->io.size = 4;
	run->io.port = VTX_CALIB_PIO_PORT;
	run->io.count = 1;
	run->io.data_offset = RUN_SIZE - 64;
	return v;
}

/* the floor's dispatch: re-enter while it is an I/O exit to the pio port */
static __attribute__((noinline)) int floor_dispatch(const struct kvm_run *run)
{
	return run->exit_reason == KVM_EXIT_IO && run->io.port == VTX_CALIB_PIO_PORT;
}

enum mode { EMPTY, FLOOR, COUNTED, TIMED, NMODES };
static const char *const mode_names[NMODES] = {"empty loop (baseline)", "kvm-floor's dispatch",
					       "vmm-lite, counted (default)",
					       "vmm-lite, --exit-timing on"};

static double round_ns(struct vcpu *v, enum mode m, long ops)
{
	volatile int sink = 0;
	uint64_t t0 = now_ns();

	for (long i = 0; i < ops; i++) {
		switch (m) {
		case EMPTY:
			sink = sink + 1;
			break;
		case FLOOR:
			sink = sink + floor_dispatch(v->run);
			break;
		case COUNTED:
			vcpu_dispatch(v, 0);
			break;
		case TIMED:
			vcpu_dispatch(v, now_ns()); /* the loop reads the clock after KVM_RUN */
			break;
		default:
			break;
		}
	}
	return (double)(now_ns() - t0) / (double)ops;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 11;
	long ops = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
	int only = argc > 3 ? (int)strtol(argv[3], NULL, 10) : -1;
	double ns[NMODES][MAX_ROUNDS];
	struct vcpu *v = setup();

	if (rounds < 3 || rounds > MAX_ROUNDS || ops < 1000 || only < -1 || only >= NMODES) {
		fprintf(stderr,
			"usage: dispatch [ROUNDS 3..%d] [OPS_PER_ROUND >= 1000] [MODE 0..%d]\n",
			MAX_ROUNDS, NMODES - 1);
		return 2;
	}
	if (!v)
		return 3;
	for (long r = 0; r < rounds; r++) /* interleaved, so drift hits every mode */
		for (int m = 0; m < NMODES; m++) {
			opt.exit_timing = m == TIMED;
			ns[m][r] = only < 0 || m == only ? round_ns(v, (enum mode)m, ops) : 0;
		}
	printf("ns per port-I/O exit in user space, %ld rounds of %ld, median [95%% CI]:\n", rounds,
	       ops);
	for (int m = 0; m < NMODES; m++) {
		struct stats_summary s;

		if (only >= 0 && m != only)
			continue;
		if (stats_summarize(ns[m], (size_t)rounds, &s))
			return 3;
		printf("  %-30s %7.2f [%.2f, %.2f] ns (coverage %.3f)\n", mode_names[m], s.median,
		       s.ci_lo, s.ci_hi, s.ci_level);
	}
	const struct exit_bucket *b = exit_stats_find(&v->exits, "io:0x4f0");
	printf("exits counted under io:%#x: %llu (every dispatch of the vmm-lite modes)\n",
	       VTX_CALIB_PIO_PORT, b ? (unsigned long long)b->count : 0ULL);
	return 0;
}
