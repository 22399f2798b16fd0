/*
 * Command-line parsing of vmm-lite.
 *
 * Why a library file: the size, CPU-list and backing parsers decide what is
 * a usage error (exit 64), so they are unit tested without running a VM.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm-lite/vmm.h"

int parse_mem_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	default:
		break;
	}
	if (shift && (*end == 'i' || *end == 'I'))
		end++;
	if (shift && (*end == 'b' || *end == 'B'))
		end++;
	if (*end || v == 0 || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_cpu_list(const char *s, int *cpus, uint32_t max, uint32_t *n)
{
	const char *p = s;

	*n = 0;
	if (!s || !*s)
		return -EINVAL;
	for (;;) {
		char *end;
		long v;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || v < 0 || v >= 4096 || *n >= max)
			return -EINVAL;
		cpus[(*n)++] = (int)v;
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -EINVAL;
		p = end + 1;
	}
}

static const char *const backing_names[] = {
    [BACKING_4K] = "4k",
    [BACKING_THP] = "thp",
    [BACKING_HUGETLB_2M] = "hugetlb-2m",
    [BACKING_HUGETLB_1G] = "hugetlb-1g",
};

int parse_backing(const char *s, enum backing *out)
{
	for (unsigned i = 0; i < sizeof(backing_names) / sizeof(backing_names[0]); i++) {
		if (s && strcmp(s, backing_names[i]) == 0) {
			*out = (enum backing)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *backing_name(enum backing b)
{
	return (unsigned)b < sizeof(backing_names) / sizeof(backing_names[0]) ? backing_names[b]
									      : "?";
}

void vmm_print_help(FILE *f)
{
	fprintf(
	    f,
	    "usage: vmm-lite --kernel ELF [options]\n"
	    "Boot a PVH ELF kernel (e.g. the virttax guest agent) in a minimal KVM VM.\n"
	    "\n"
	    "  --kernel ELF       ELF64 x86-64 image with a PVH note (XEN_ELFNOTE_PHYS32_ENTRY)\n"
	    "  --cmdline STR      guest command line (hvm_start_info.cmdline_paddr), max %llu "
	    "bytes\n"
	    "  --mem SIZE         guest RAM: bytes or K/M/G suffix (binary), >= 16M, multiple\n"
	    "                     of 4K; above 3G RAM continues at 4 GiB (default 512M)\n"
	    "  --vcpus N          number of vCPUs, 1..%d (default 1); vCPU 0 boots, the others\n"
	    "                     wait for INIT/SIPI\n"
	    "  --backing KIND     guest RAM backing: 4k (MADV_NOHUGEPAGE), thp (MADV_HUGEPAGE),\n"
	    "                     hugetlb-2m, hugetlb-1g (need reserved huge pages) (default 4k)\n"
	    "  --pin CPU[,CPU..]  pin vCPU i to the i-th CPU of the list (cycling)\n"
	    "  --timeout SEC      watchdog: stop the guest after SEC seconds, 0 = never\n"
	    "                     (default %d)\n"
	    "  --stats-json FILE  write exits, KVM stats, thread stats and status as JSON\n"
	    "                     (atomically, temp file + rename)\n"
	    "  --control-fd FD    harness handshake (docs/INTERFACES.md section 4): write\n"
	    "                     'ready' and wait for a byte before the first KVM_RUN, write\n"
	    "                     'stopped' and wait for a byte before teardown\n"
	    "  --blk FILE[,direct] a disk backed by FILE (preadv/pwritev; direct: O_DIRECT):\n"
	    "                     virtio-blk on virtio-mmio 0xfeb00000 IRQ 5, announced as\n"
	    "                     virtio_mmio.device=512@0xfeb00000:5 on the guest command\n"
	    "                     line, or an ATA-PIO disk at 0x1f0 with --io-technique emulated\n"
	    "  --net tap=NAME     virtio-net (MAC, no offloads) over tap NAME (opened with\n"
	    "                     IFF_TAP|IFF_NO_PI; created if missing) on the next virtio-mmio\n"
	    "                     transport, announced on the command line like --blk, or a\n"
	    "                     legacy NIC at ports 0x300-0x31f with --io-technique emulated\n"
	    "  --io-technique T   emulated | virtio-user (default) | virtio-eventfd | poll |\n"
	    "                     vhost | passthrough (the last two are probed: exit 65 with\n"
	    "                     'unavailable: <reason>' where they cannot run; docs/IO.md)\n"
	    "  --balloon MIB      virtio-balloon (inflate/deflate queues, no stats) on the next\n"
	    "                     virtio-mmio transport with an initial target of MIB MiB;\n"
	    "                     inflated pages are released with MADV_DONTNEED\n"
	    "  --inject-exit-delay-us N  test knob: busy-wait N us in the handling of every\n"
	    "                     exit that reaches user space (I/O, MMIO, MSR), a real and\n"
	    "                     controlled regression for `virttax gate` tests (default 0)\n"
	    "  --inject-steal-pct P  test knob: every 4 ms of a vCPU thread's CPU time a timer\n"
	    "                     signal takes the vCPU out of the guest and vmm-lite holds it\n"
	    "                     until P%% of the thread's CPU time was held (0..50, default 0):\n"
	    "                     the guest loses P%% of its CPU time whatever it runs and\n"
	    "                     whatever the host runs, a P/(100-P) slowdown (bench/\n"
	    "                     gate-power.py's known slowdown)\n"
	    "  --irqchip KIND     split (default): only the local APIC is in the kernel\n"
	    "                     (timer, IPIs, INIT/SIPI), as on a microVM without legacy\n"
	    "                     chips; full: KVM's PIC, IOAPIC and PIT (ports 0x40-0x43,\n"
	    "                     0x61) too, which cost ~3 ms more to create and ~20 ms more\n"
	    "                     to destroy here (docs/VMM-LITE.md \"Start-up\")\n"
	    "  --exit-timing on|off  time vmm-lite's handling of every exit (total_ns and a\n"
	    "                     log2 histogram per exit kind in --stats-json; two clock\n"
	    "                     reads per exit); default on with --blk or --net (the I/O\n"
	    "                     experiments read the device exits' time), off otherwise:\n"
	    "                     exits are then only counted\n"
	    "  --no-seccomp       do not install the per-thread seccomp allow-lists (for\n"
	    "                     strace/gdb; docs/VMM-LITE.md \"Sandbox\")\n"
	    "  --help             this text\n"
	    "\n"
	    "Guest COM1 (0x3f8) output goes to stdout byte for byte.\n"
	    "Exit status:\n"
	    "  (v<<1)|1  the guest wrote v to port 0xf4 (QEMU isa-debug-exit compatible)\n"
	    "  0         clean guest shutdown: every vCPU halted with interrupts off\n"
	    "            (or waits for SIPI), or a shutdown/reset system event\n"
	    "  64        bad input: usage, missing or malformed ELF, no PVH note, bad size\n"
	    "  65        host problem: no /dev/kvm, backing unavailable, ioctl failure\n"
	    "  66        guest crashed: triple fault, internal/emulation error, failed entry\n"
	    "  67        watchdog timeout (--timeout)\n"
	    "  68        run invalid: the guest was emulated instead of running natively\n"
	    "            (PVM: more than %d emulated instructions beyond its I/O exits)\n"
	    "  69        sandbox: a vmm-lite thread made a system call outside its seccomp\n"
	    "            allow-list (a device bug reached by the guest); named on stderr\n",
	    CMDLINE_MAX - 1, VMM_MAX_VCPUS, VMM_DEFAULT_TIMEOUT_S, EMUL_EXCESS_LIMIT);
}

enum {
	OPT_KERNEL = 256,
	OPT_CMDLINE,
	OPT_MEM,
	OPT_VCPUS,
	OPT_BACKING,
	OPT_PIN,
	OPT_TIMEOUT,
	OPT_STATS,
	OPT_CONTROL,
	OPT_BLK,
	OPT_IO_TECH,
	OPT_NET,
	OPT_EXIT_DELAY,
	OPT_STEAL,
	OPT_BALLOON,
	OPT_NO_SECCOMP,
	OPT_IRQCHIP,
	OPT_EXIT_TIMING,
	OPT_TEST_ESCAPE,
	OPT_HELP
};

static const struct option long_opts[] = {
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"cmdline", required_argument, NULL, OPT_CMDLINE},
    {"mem", required_argument, NULL, OPT_MEM},
    {"vcpus", required_argument, NULL, OPT_VCPUS},
    {"backing", required_argument, NULL, OPT_BACKING},
    {"pin", required_argument, NULL, OPT_PIN},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"stats-json", required_argument, NULL, OPT_STATS},
    {"control-fd", required_argument, NULL, OPT_CONTROL},
    {"blk", required_argument, NULL, OPT_BLK},
    {"io-technique", required_argument, NULL, OPT_IO_TECH},
    {"net", required_argument, NULL, OPT_NET},
    {"inject-exit-delay-us", required_argument, NULL, OPT_EXIT_DELAY},
    {"inject-steal-pct", required_argument, NULL, OPT_STEAL},
    {"balloon", required_argument, NULL, OPT_BALLOON},
    {"no-seccomp", no_argument, NULL, OPT_NO_SECCOMP},
    {"irqchip", required_argument, NULL, OPT_IRQCHIP},
    {"exit-timing", required_argument, NULL, OPT_EXIT_TIMING},
    {"test-escape", required_argument, NULL, OPT_TEST_ESCAPE}, /* hidden: sandbox test */
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

#define USAGE(...)                                                                                 \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		return -EINVAL;                                                                    \
	} while (0)

static int apply_option(struct vmm_options *o, int c, const char *arg, bool *timing_set, char *err,
			size_t errlen)
{
	unsigned long v;

	switch (c) {
	case OPT_KERNEL:
		o->kernel = arg;
		break;
	case OPT_CMDLINE:
		o->cmdline = arg;
		break;
	case OPT_MEM:
		if (parse_mem_size(arg, &o->mem_bytes) || o->mem_bytes < VMM_MIN_MEM ||
		    (o->mem_bytes & 0xfff))
			USAGE("--mem '%s': expected a size >= 16M and a multiple of 4K, e.g. 512M "
			      "or 1G",
			      arg);
		break;
	case OPT_VCPUS:
		if (parse_uint(arg, VMM_MAX_VCPUS, &v) || v == 0)
			USAGE("--vcpus '%s': expected a number from 1 to %d", arg, VMM_MAX_VCPUS);
		o->nvcpus = (uint32_t)v;
		break;
	case OPT_BACKING:
		if (parse_backing(arg, &o->backing))
			USAGE("--backing '%s': expected 4k, thp, hugetlb-2m or hugetlb-1g", arg);
		break;
	case OPT_PIN:
		if (parse_cpu_list(arg, o->pin, sizeof(o->pin) / sizeof(o->pin[0]), &o->npin))
			USAGE("--pin '%s': expected a comma-separated CPU list, e.g. 0,1", arg);
		break;
	case OPT_TIMEOUT:
		if (parse_uint(arg, 7 * 24 * 3600, &v))
			USAGE("--timeout '%s': expected whole seconds (0 = no watchdog)", arg);
		o->timeout_s = (uint32_t)v;
		break;
	case OPT_STATS:
		o->stats_json = arg;
		break;
	case OPT_CONTROL:
		if (parse_uint(arg, INT_MAX, &v))
			USAGE("--control-fd '%s': expected an open file descriptor number", arg);
		o->control_fd = (int)v;
		break;
	case OPT_BLK:
		o->blk = arg;
		break;
	case OPT_NET:
		if (strncmp(arg, "tap=", 4) || !arg[4])
			USAGE("--net '%s': expected tap=NAME", arg);
		o->net = arg;
		break;
	case OPT_IO_TECH:
		if (strcmp(arg, "emulated") && strcmp(arg, "virtio-user") &&
		    strcmp(arg, "virtio-eventfd") && strcmp(arg, "poll") && strcmp(arg, "vhost") &&
		    strcmp(arg, "passthrough"))
			USAGE(
			    "--io-technique '%s': expected emulated, virtio-user, virtio-eventfd, "
			    "poll, vhost or passthrough",
			    arg);
		o->io_technique = arg;
		break;
	case OPT_EXIT_DELAY:
		if (parse_uint(arg, 1000000, &v))
			USAGE("--inject-exit-delay-us '%s': expected whole microseconds 0..1000000",
			      arg);
		o->exit_delay_us = (uint32_t)v;
		break;
	case OPT_STEAL:
		if (parse_uint(arg, 50, &v))
			USAGE("--inject-steal-pct '%s': expected whole percent 0..50", arg);
		o->steal_pct = (uint32_t)v;
		break;
	case OPT_BALLOON:
		if (parse_uint(arg, 1ul << 20, &v) || v == 0)
			USAGE("--balloon '%s': expected a target in MiB, 1 or more (below --mem)",
			      arg);
		o->balloon_mib = v;
		break;
	case OPT_EXIT_TIMING:
		if (strcmp(arg, "on") && strcmp(arg, "off"))
			USAGE("--exit-timing '%s': expected on or off", arg);
		o->exit_timing = !strcmp(arg, "on");
		*timing_set = true;
		break;
	case OPT_IRQCHIP:
		if (strcmp(arg, "split") && strcmp(arg, "full"))
			USAGE("--irqchip '%s': expected split or full", arg);
		o->irqchip_full = !strcmp(arg, "full");
		break;
	case OPT_NO_SECCOMP:
		o->no_seccomp = true;
		break;
	case OPT_TEST_ESCAPE:
		o->test_escape = arg;
		break;
	case OPT_HELP:
		return 1;
	default:
		USAGE("unknown option; see vmm-lite --help");
	}
	return 0;
}

int vmm_parse_options(int argc, char **argv, struct vmm_options *o, char *err, size_t errlen)
{
	int c, r;
	bool timing_set = false;

	memset(o, 0, sizeof(*o));
	o->mem_bytes = VMM_DEFAULT_MEM;
	o->nvcpus = 1;
	o->backing = BACKING_4K;
	o->timeout_s = VMM_DEFAULT_TIMEOUT_S;
	o->control_fd = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			USAGE("bad option '%s'; see vmm-lite --help",
			      argv[optind - 1] ? argv[optind - 1] : "?");
		if ((r = apply_option(o, c, optarg, &timing_set, err, errlen)))
			return r;
	}
	if (optind < argc)
		USAGE("unexpected argument '%s'; see vmm-lite --help", argv[optind]);
	if (!o->kernel)
		USAGE("missing --kernel ELF; see vmm-lite --help");
	if (!timing_set) /* `virttax run`'s I/O experiments read the device exits' time */
		o->exit_timing = o->blk || o->net;
	return 0;
}
