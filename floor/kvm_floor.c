/*
 * kvm-floor: the physical floor of a KVM VMM on this host.
 *
 * Why: a VMM bundled by a measurement suite must add nothing measurable, and
 * the only way to show that on the user's machine is to measure, in the same
 * run, what the least possible VMM costs: process start to the first guest
 * instruction, VM creation and teardown, and one KVM_RUN round trip for a
 * port-I/O exit handled in user space. This program is that least VMM: one
 * memslot, one vCPU entered directly in 64-bit mode (floor_guest.S), no
 * devices, no threads, no in-kernel irqchip, and a run loop that only checks
 * the exit reason and the port before re-entering. Everything it needs beyond
 * that is what any VMM needs on the host: CPUID (long mode is refused without
 * it on VT-x/AMD-V) and, on the PVM flavour of KVM, the VIF page that lets the
 * guest run natively (PLATFORM.md section 1). `virttax footprint` and
 * `virttax calibrate` run it beside each VMM and report ratios to it
 * (docs/FLOOR.md).
 *
 * Output: protocol records (include/virttax/protocol.h) on stdout, so the
 * harness reads the floor with the parser it uses for the guest agent: hello
 * (tsc_entry = host TSC at the first guest instruction), a calib record of
 * kind pio with the raw ticks of every round, metric records, done.
 * Nothing is printed before the guest ran, so output never delays it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/kvm.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "floor/floor.h"
#include "core/stats.h"
#include "virttax/protocol.h"

#define FLOOR_EXIT_USAGE 64 /* the exit codes of vmm-lite (docs/INTERFACES.md) */
#define FLOOR_EXIT_HOST 65
#define FLOOR_EXIT_CRASH 66

#define PTE_P 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_U 0x4ULL /* PVM runs CPL 0 in ring 3: supervisor-only pages refault forever */
#define PTE_PS 0x80ULL
#define CR0_PE 0x1ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

extern const uint8_t floor_guest_start[], floor_guest_end[];

struct floor_opts {
	uint64_t mem_bytes;
	unsigned rounds;
	unsigned goal_us;
	int cpu;	/* -1: not pinned */
	int control_fd; /* -1: none */
};

struct floor_vm {
	int kvm_fd, vm_fd, vcpu_fd;
	uint8_t *ram;
	struct kvm_run *run;
	size_t run_size;
	uint32_t tsc_khz;
	bool pvm;
};

/* what one run measured; TSC values are host TSC */
struct floor_result {
	uint64_t main_tsc, open_tsc, ready_tsc, stop_tsc, teardown_end_tsc;
	uint64_t entry_tsc;
	uint64_t iters, ticks[FLOOR_MAX_ROUNDS];
	unsigned rounds;
	uint64_t exits; /* KVM_RUN returns, the done exit included */
};

static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kvm-floor [--mem-mib N] [--rounds N] [--goal-us N] [--pin CPU]\n"
		"                 [--control-fd FD]\n"
		"The least KVM VMM: one memslot, one vCPU started in 64-bit mode, no devices;\n"
		"its guest times rounds of port-I/O exits handled in user space.\n"
		"  --mem-mib N      guest RAM in MiB (default 128; untouched but 9 pages)\n"
		"  --rounds N       timed rounds of back-to-back exits, 1..%d (default 11)\n"
		"  --goal-us N      the op count doubles until a round lasts N us (default 20000)\n"
		"  --pin CPU        run the vCPU on this CPU (sched_setaffinity after the set-up)\n"
		"  --control-fd FD  vmm-lite's handshake (docs/INTERFACES.md section 4): 'ready'\n"
		"                   and a byte before the first KVM_RUN, 'stopped' and a byte\n"
		"                   before teardown\n"
		"Output: protocol records (hello with tsc_entry, calib kind pio, metrics, done).\n"
		"Exit: 0 ok, 64 bad input, 65 host problem, 66 the guest did not finish.\n",
		FLOOR_MAX_ROUNDS);
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end || *out < min || *out > max ? -EINVAL : 0;
}

/* 0, 1 for --help, or -EINVAL with the message printed */
static int parse_opts(int argc, char **argv, struct floor_opts *o)
{
	static const struct option opts[] = {{"mem-mib", required_argument, 0, 'm'},
					     {"rounds", required_argument, 0, 'r'},
					     {"goal-us", required_argument, 0, 'g'},
					     {"pin", required_argument, 0, 'p'},
					     {"control-fd", required_argument, 0, 'c'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	unsigned long v;

	*o = (struct floor_opts){
	    .mem_bytes = 128ULL << 20, .rounds = 11, .goal_us = 20000, .cpu = -1, .control_fd = -1};
	opterr = 0;
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		const char *what = NULL;

		switch (c) {
		case 'm':
			if (parse_uint(optarg, 1, 1UL << 20, &v))
				what = "--mem-mib: expected MiB, 1..1048576";
			o->mem_bytes = (uint64_t)v << 20;
			break;
		case 'r':
			if (parse_uint(optarg, 1, FLOOR_MAX_ROUNDS, &v))
				what = "--rounds: expected 1..508";
			o->rounds = (unsigned)v;
			break;
		case 'g':
			if (parse_uint(optarg, 1, 10000000, &v))
				what = "--goal-us: expected 1..10000000";
			o->goal_us = (unsigned)v;
			break;
		case 'p':
			if (parse_uint(optarg, 0, CPU_SETSIZE - 1, &v))
				what = "--pin: expected a CPU number";
			o->cpu = (int)v;
			break;
		case 'c':
			if (parse_uint(optarg, 0, INT_MAX, &v) || fcntl((int)v, F_GETFD) < 0)
				what = "--control-fd: expected an open file descriptor";
			o->control_fd = (int)v;
			break;
		case 'h':
			return 1;
		default:
			what = "unknown option or missing value (see --help)";
		}
		if (what) {
			fprintf(stderr, "kvm-floor: %s\n", what);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kvm-floor: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

#define FAIL(what)                                                                                 \
	do {                                                                                       \
		int e_ = errno ? errno : EIO;                                                      \
		fprintf(stderr, "kvm-floor: %s: %s\n", what, strerror(e_));                        \
		return -e_;                                                                        \
	} while (0)

/* identity-map the first 2 MiB with one large page; copy the guest; parameters */
static void write_guest(uint8_t *ram, const struct floor_opts *o, uint32_t tsc_khz)
{
	uint64_t *pml4 = (uint64_t *)(ram + FLOOR_GPA_PML4);
	uint64_t *pdpt = (uint64_t *)(ram + FLOOR_GPA_PDPT);
	uint64_t *pd = (uint64_t *)(ram + FLOOR_GPA_PD);
	uint64_t *d = (uint64_t *)(ram + FLOOR_GPA_DATA);

	pml4[0] = FLOOR_GPA_PDPT | PTE_P | PTE_RW | PTE_U;
	pdpt[0] = FLOOR_GPA_PD | PTE_P | PTE_RW | PTE_U;
	pd[0] = 0 | PTE_P | PTE_RW | PTE_U | PTE_PS;
	memcpy(ram + FLOOR_GPA_CODE, floor_guest_start,
	       (size_t)(floor_guest_end - floor_guest_start));
	d[(FLOOR_D_GOAL_TICKS - FLOOR_GPA_DATA) / 8] = (uint64_t)o->goal_us * tsc_khz / 1000;
	d[(FLOOR_D_MAX_ITERS - FLOOR_GPA_DATA) / 8] = 1ULL << 30;
	d[(FLOOR_D_ROUNDS - FLOOR_GPA_DATA) / 8] = o->rounds;
}

/* long mode needs a CPUID with LM on VT-x/AMD-V: pass KVM's supported one */
static int set_cpuid(struct floor_vm *vm)
{
	for (uint32_t nent = 64; nent <= 1024; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		int r;

		if (!c)
			return -ENOMEM;
		c->nent = nent;
		r = ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c);
		if (r == 0)
			r = ioctl(vm->vcpu_fd, KVM_SET_CPUID2, c);
		free(c);
		if (r == 0)
			return 0;
		if (errno != E2BIG)
			FAIL("KVM_GET_SUPPORTED_CPUID/KVM_SET_CPUID2");
	}
	FAIL("KVM_GET_SUPPORTED_CPUID");
}

static int set_long_mode(struct floor_vm *vm)
{
	struct kvm_sregs s;
	struct kvm_regs regs = {.rip = FLOOR_GPA_CODE, .rsp = FLOOR_GPA_STACK_TOP, .rflags = 0x2};
	struct kvm_segment code = {.limit = 0xffffffff,
				   .selector = 0x8,
				   .type = 0xb,
				   .present = 1,
				   .s = 1,
				   .l = 1,
				   .g = 1};
	struct kvm_segment data = {.limit = 0xffffffff,
				   .selector = 0x10,
				   .type = 0x3,
				   .present = 1,
				   .db = 1,
				   .s = 1,
				   .g = 1};

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		FAIL("KVM_GET_SREGS");
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	s.cr3 = FLOOR_GPA_PML4;
	s.cr4 = CR4_PAE;
	s.efer = EFER_LME | EFER_LMA;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &s) < 0)
		FAIL("KVM_SET_SREGS (64-bit mode)");
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		FAIL("KVM_SET_REGS");
	return 0;
}

/* PVM: register the zeroed VIF page, or the guest is emulated instruction by instruction */
static int pvm_setup(struct floor_vm *vm)
{
	struct stat st;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs = {.hdr = {.nmsrs = 1}, .e = {.index = PVM_MSR_VIF, .data = FLOOR_GPA_VIF | 1}};

	vm->pvm = stat("/sys/module/kvm_pvm", &st) == 0;
	if (vm->pvm && ioctl(vm->vcpu_fd, KVM_SET_MSRS, &msrs) != 1)
		FAIL("KVM_SET_MSRS (PVM VIF page, MSR 0x4b564d10)");
	return 0;
}

static int create_vm(struct floor_vm *vm, const struct floor_opts *o)
{
	struct kvm_userspace_memory_region slot = {.memory_size = o->mem_bytes};
	int mmap_size, khz;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		FAIL("cannot open /dev/kvm");
	do
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0)
		FAIL("KVM_CREATE_VM");
	vm->ram = mmap(NULL, o->mem_bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		FAIL("mmap of guest RAM");
	}
	slot.userspace_addr = (uintptr_t)vm->ram;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		FAIL("KVM_SET_USER_MEMORY_REGION");
	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		FAIL("KVM_CREATE_VCPU");
	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run))
		FAIL("KVM_GET_VCPU_MMAP_SIZE");
	vm->run_size = (size_t)mmap_size;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		vm->run = NULL;
		FAIL("mmap of kvm_run");
	}
	khz = ioctl(vm->vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0)
		FAIL("KVM_GET_TSC_KHZ");
	vm->tsc_khz = (uint32_t)khz;
	int r = set_cpuid(vm);
	if (!r)
		r = set_long_mode(vm);
	if (!r)
		r = pvm_setup(vm);
	if (!r)
		write_guest(vm->ram, o, vm->tsc_khz);
	return r;
}

/* The measured loop: re-enter on every exit to the pio port, nothing else. */
static int run_guest(struct floor_vm *vm, struct floor_result *res)
{
	struct kvm_run *run = vm->run;
	uint64_t exits = 0;

	for (;;) {
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			FAIL("KVM_RUN");
		}
		exits++;
		if (run->exit_reason != KVM_EXIT_IO || run->io.port != FLOOR_PIO_PORT)
			break;
	}
	res->exits = exits;
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != FLOOR_DONE_PORT) {
		fprintf(stderr,
			"kvm-floor: the guest stopped with exit reason %u (port %#x), "
			"not at the done port\n",
			run->exit_reason, run->exit_reason == KVM_EXIT_IO ? run->io.port : 0);
		return -EFAULT;
	}
	return 0;
}

/* Guest TSC -> host TSC: subtract KVM's TSC offset of the vCPU (0 where the
 * attribute does not exist: there the guest reads the host's TSC). */
static uint64_t host_tsc_of(const struct floor_vm *vm, uint64_t guest_tsc)
{
	uint64_t offset = 0;
	struct kvm_device_attr a = {
	    .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET, .addr = (uintptr_t)&offset};

	if (ioctl(vm->vcpu_fd, KVM_GET_DEVICE_ATTR, &a) < 0)
		offset = 0;
	return guest_tsc - offset;
}

static void read_results(const struct floor_vm *vm, const struct floor_opts *o,
			 struct floor_result *res)
{
	const uint64_t *d = (const uint64_t *)(vm->ram + FLOOR_GPA_DATA);

	res->entry_tsc = host_tsc_of(vm, d[(FLOOR_D_ENTRY_TSC - FLOOR_GPA_DATA) / 8]);
	res->iters = d[(FLOOR_D_ITERS - FLOOR_GPA_DATA) / 8];
	res->rounds = o->rounds;
	memcpy(res->ticks, &d[(FLOOR_D_TICKS - FLOOR_GPA_DATA) / 8], o->rounds * sizeof(uint64_t));
}

static void destroy_vm(struct floor_vm *vm, size_t mem_bytes)
{
	if (vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->ram)
		munmap(vm->ram, mem_bytes);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
}

/* vmm-lite's --control-fd handshake: one line, then wait for a byte or EOF */
static int handshake(int fd, const char *line)
{
	char c;
	ssize_t r;

	if (fd < 0)
		return 0;
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		FAIL("--control-fd: write");
	do
		r = read(fd, &c, 1);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		FAIL("--control-fd: read");
	return 0;
}

static double ticks_ns(uint64_t ticks, uint32_t khz)
{
	return (double)ticks * 1e6 / (double)khz;
}

static void metric(const char *m, const char *u, double v)
{
	printf(VTX_PROTO_PREFIX "{\"t\":\"metric\",\"wl\":\"floor\",\"m\":\"%s\",\"u\":\"%s\","
				"\"better\":\"lower\",\"v\":%.1f}\n",
	       m, u, v);
}

static void print_results(const struct floor_vm *vm, const struct floor_opts *o,
			  const struct floor_result *res)
{
	double ns[FLOOR_MAX_ROUNDS];
	struct stats_summary s;
	uint32_t khz = vm->tsc_khz;

	printf(VTX_PROTO_PREFIX "{\"t\":\"hello\",\"proto\":%d,\"side\":\"floor\",\"tsc_khz\":%u,"
				"\"tsc_src\":\"kvm\",\"tsc_entry\":%" PRIu64
				",\"mem_bytes\":%" PRIu64 ",\"pvm_vif\":%d}\n",
	       VTX_PROTO_VERSION, khz, res->entry_tsc, o->mem_bytes, vm->pvm ? 1 : 0);
	printf(VTX_PROTO_PREFIX "{\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"how\":\"outl to "
				"port 0x%x, KVM_EXIT_IO re-entered by kvm-floor's loop\","
				"\"iters\":%" PRIu64 ",\"ticks\":[",
	       FLOOR_PIO_PORT, res->iters);
	for (unsigned i = 0; i < res->rounds; i++) {
		printf("%s%" PRIu64, i ? "," : "", res->ticks[i]);
		ns[i] = ticks_ns(res->ticks[i], khz) / (double)res->iters;
	}
	printf("]}\n");
	if (stats_summarize(ns, res->rounds, &s) == 0)
		printf(VTX_PROTO_PREFIX
		       "{\"t\":\"metric\",\"wl\":\"floor\",\"m\":\"pio_exit\","
		       "\"u\":\"ns\",\"better\":\"lower\",\"v\":%.1f,\"n\":%zu,"
		       "\"ci95\":[%.1f,%.1f],\"ci_coverage\":%.4f,\"iters\":%" PRIu64 "}\n",
		       s.median, s.n, s.ci_lo, s.ci_hi, s.ci_level, res->iters);
	metric("main_to_entry", "ns",
	       res->entry_tsc > res->main_tsc ? ticks_ns(res->entry_tsc - res->main_tsc, khz) : 0);
	metric("vm_create", "ns", ticks_ns(res->ready_tsc - res->open_tsc, khz));
	metric("teardown", "ns", ticks_ns(res->teardown_end_tsc - res->stop_tsc, khz));
	printf(VTX_PROTO_PREFIX "{\"t\":\"done\",\"status\":0}\n");
}

static int pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		FAIL("--pin: sched_setaffinity");
	return 0;
}

int main(int argc, char **argv)
{
	static struct floor_result res; /* 4 KiB of ticks: not on the stack */
	struct floor_vm vm = {.kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1};
	struct floor_opts o;
	char line[96];
	int r;

	res.main_tsc = rdtsc_ordered();
	r = parse_opts(argc, argv, &o);
	if (r) {
		if (r == 1)
			usage(stdout);
		return r == 1 ? 0 : FLOOR_EXIT_USAGE;
	}
	res.open_tsc = rdtsc_ordered();
	r = create_vm(&vm, &o);
	res.ready_tsc = rdtsc_ordered();
	/* the vCPU runs on --pin, the set-up wherever the scheduler put it: as
	 * vmm-lite pins its vCPU threads and not its main thread */
	if (!r && pin(o.cpu))
		r = -EINVAL;
	snprintf(line, sizeof(line), "{\"event\":\"ready\",\"pid\":%d,\"vcpu_tids\":[%d]}\n",
		 (int)getpid(), (int)getpid());
	if (!r)
		r = handshake(o.control_fd, line);
	if (!r)
		r = run_guest(&vm, &res);
	res.stop_tsc = rdtsc_ordered();
	if (!r) {
		read_results(&vm, &o, &res);
		r = handshake(o.control_fd, "{\"event\":\"stopped\",\"status\":0}\n");
		res.stop_tsc = rdtsc_ordered();
	}
	destroy_vm(&vm, o.mem_bytes);
	res.teardown_end_tsc = rdtsc_ordered();
	if (r)
		return r == -EFAULT   ? FLOOR_EXIT_CRASH
		       : r == -EINVAL ? FLOOR_EXIT_USAGE
				      : FLOOR_EXIT_HOST;
	print_results(&vm, &o, &res);
	return fflush(stdout) ? FLOOR_EXIT_HOST : 0;
}
