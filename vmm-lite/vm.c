/*
 * The VM: KVM setup, guest memory, devices, and the life cycle of one run.
 *
 * Why: this is the part of vmm-lite that is not a device or a parser: open
 * /dev/kvm, create the VM with in-kernel irqchip and PIT, map RAM, load the
 * PVH image, create the vCPUs, then drive the run (control-fd handshake,
 * watchdog, stop, parked threads) in the order INTERFACES.md section 4 fixes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "virttax/protocol.h"
#include "vmm-lite/virtio.h"
#include "vmm-lite/vmm.h"

#define KVM_API_VERSION_EXPECTED 12

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void vm_startup_mark(struct vm *vm, enum startup_phase p)
{
	vm->startup_ns[p] = now_ns();
}

static const char *const stop_kind_names[] = {
    [STOP_NONE] = "none",
    [STOP_GUEST_EXIT] = "guest-exit",
    [STOP_SHUTDOWN] = "shutdown",
    [STOP_TIMEOUT] = "timeout",
    [STOP_CRASH] = "crash",
    [STOP_INVALID] = "invalid",
    [STOP_HOST_ERROR] = "host-error",
};

const char *stop_kind_name(enum stop_kind k)
{
	return (unsigned)k <= STOP_HOST_ERROR ? stop_kind_names[k] : "?";
}

void vm_request_stop(struct vm *vm, enum stop_kind k, int exit_status, uint32_t guest_code,
		     const char *reason)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->stop == STOP_NONE) { /* the first reason wins */
		vm->stop = k;
		vm->exit_status = exit_status;
		vm->guest_code = guest_code;
		snprintf(vm->reason, sizeof(vm->reason), "%s", reason);
		vm->t_stop_ns = now_ns();
	}
	vm->stopping = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
}

#define HOST_ERR(...)                                                                              \
	do {                                                                                       \
		int e_ = errno;                                                                    \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		return e_ ? -e_ : -EIO;                                                            \
	} while (0)

static int kvm_open(struct vm *vm, char *err, size_t errlen)
{
	int ver;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		HOST_ERR("cannot open /dev/kvm: %s (load kvm / kvm_pvm and check permissions)",
			 strerror(errno));
	ver = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION_EXPECTED) {
		snprintf(err, errlen, "KVM API version %d, expected %d", ver,
			 KVM_API_VERSION_EXPECTED);
		return -ENOTSUP;
	}
	do
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0)
		HOST_ERR("KVM_CREATE_VM: %s", strerror(errno));
	return 0;
}

/* Only the local APIC in the kernel (timer, IPIs, INIT/SIPI: all the agent
 * uses), unless --irqchip full asks for KVM's PIC, IOAPIC and PIT as well.
 * Why split by default: the full set registers seven devices and routes,
 * each waiting for an SRCU grace period, and destroying it waits for more:
 * 2.9 vs 0.4 ms to create and 15-27 vs 0.2-4 ms to destroy on this host
 * (docs/VMM-LITE.md "Start-up"). The agent polls its virtio queues and reads
 * the TSC rate from the hypervisor, so nothing it runs needs those chips;
 * device interrupts raised without an IOAPIC find no route and are counted
 * only. A host without KVM_CAP_SPLIT_IRQCHIP gets the full set. The full
 * set's PIT answers the speaker port 0x61 in the kernel too
 * (KVM_PIT_SPEAKER_DUMMY): it gates and reads PIT channel 2, which the
 * agent's last-resort TSC calibration (vtx.tsc=pit) needs. */
static int vm_setup_irqchip(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_enable_cap split = {.cap = KVM_CAP_SPLIT_IRQCHIP, .args = {0}};
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};

	if (!vm->opt->irqchip_full &&
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP) > 0) {
		if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &split) < 0)
			HOST_ERR("KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP): %s", strerror(errno));
		vm->irqchip_split = true;
		return 0;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		HOST_ERR("KVM_CREATE_IRQCHIP: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		HOST_ERR("KVM_CREATE_PIT2: %s", strerror(errno));
	return 0;
}

/* TSS/identity map pages (needed by VMX for real mode; harmless elsewhere)
 * and the interrupt chips. */
static int vm_setup_chips(struct vm *vm, char *err, size_t errlen)
{
	uint64_t idmap = GPA_IDENTITY_MAP;

	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0 && errno != ENOTTY &&
	    errno != EINVAL)
		HOST_ERR("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)GPA_TSS) < 0 && errno != ENOTTY &&
	    errno != EINVAL)
		HOST_ERR("KVM_SET_TSS_ADDR: %s", strerror(errno));
	return vm_setup_irqchip(vm, err, errlen);
}

static int vm_setup_memory(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_userspace_memory_region low = {
	    .slot = 0,
	    .guest_phys_addr = 0,
	    .memory_size = vm->layout.low_ram_bytes,
	    .userspace_addr = (uintptr_t)vm->mem.ram,
	};
	struct kvm_userspace_memory_region high = {
	    .slot = 1,
	    .guest_phys_addr = GPA_4G,
	    .memory_size = vm->layout.high_ram_bytes,
	    .userspace_addr = (uintptr_t)vm->mem.ram + vm->layout.low_ram_bytes,
	};
	int r;

	if ((r = guest_mem_alloc(&vm->mem, vm->layout.ram_bytes, vm->opt->backing, err, errlen)))
		return r;
	vm->layout.ram_zeroed = true; /* a fresh anonymous or hugetlb mapping */
	low.userspace_addr = (uintptr_t)vm->mem.ram;
	high.userspace_addr = (uintptr_t)vm->mem.ram + vm->layout.low_ram_bytes;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &low) < 0)
		HOST_ERR("KVM_SET_USER_MEMORY_REGION (low RAM): %s", strerror(errno));
	if (high.memory_size && ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &high) < 0)
		HOST_ERR("KVM_SET_USER_MEMORY_REGION (RAM above 4 GiB): %s", strerror(errno));
	return 0;
}

static int vm_get_cpuid(struct vm *vm, char *err, size_t errlen)
{
	for (uint32_t nent = 128; nent <= 4096; nent *= 2) {
		vm->cpuid = calloc(1, sizeof(*vm->cpuid) + nent * sizeof(vm->cpuid->entries[0]));
		if (!vm->cpuid)
			return -ENOMEM;
		vm->cpuid->nent = nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid) == 0)
			return 0;
		free(vm->cpuid);
		vm->cpuid = NULL;
		if (errno != E2BIG)
			break;
	}
	HOST_ERR("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
}

/* a "workload=calib" token in the guest command line */
static bool wants_user_msr(const char *cmdline)
{
	for (const char *p = cmdline ? strstr(cmdline, "workload=calib") : NULL; p;
	     p = strstr(p + 1, "workload=calib")) {
		char end = p[sizeof("workload=calib") - 1];
		if ((p == cmdline || p[-1] == ' ') && (end == 0 || end == ' '))
			return true;
	}
	return false;
}

static int vm_setup_devices(struct vm *vm, char *err, size_t errlen)
{
	uart_init(&vm->com1, VTX_COM1_PORT, STDOUT_FILENO);
	debug_exit_init(&vm->dbg_exit, VTX_EXIT_PORT, vm);
	if (bus_register(&vm->pio, &vm->com1.dev) || bus_register(&vm->pio, &vm->dbg_exit.dev)) {
		snprintf(err, errlen, "cannot register the port I/O devices");
		return -EBUSY;
	}
	vm->calib.pio_efd = vm->calib.mmio_efd = -1;
	if (region_init(vm)) { /* timed-region markers (dev_region.c) */
		snprintf(err, errlen, "cannot register the timed-region marker port");
		return -EBUSY;
	}
	calib_pio_init(vm); /* test devices of the calibration (docs/CALIBRATION.md) */
	calib_mmio_init(vm);
	/* KVM_X86_SET_MSR_FILTER waits for an SRCU grace period (15-25 ms measured
	 * on the PVM host, a third of vmm-lite's boot): only the calibration
	 * workload uses the user-space MSR, so other guests do without it. */
	if (wants_user_msr(vm->opt->cmdline))
		calib_msr_init(vm);
	else
		vm->calib.err[2] = EOPNOTSUPP;
	return 0;
}

/* -ENOEXEC / -E2BIG mean bad input (the ELF or the command line) */
static int vm_load_guest(struct vm *vm, const uint8_t *elf, size_t elf_len, char *err,
			 size_t errlen)
{
	char why[384];
	int r = pvh_load_elf(elf, elf_len, &vm->layout, vm->mem.ram, &vm->img, why, sizeof(why));

	if (r) {
		snprintf(err, errlen, "--kernel %s: %s", vm->opt->kernel, why);
		return -ENOEXEC;
	}
	char line[CMDLINE_MAX + 1];
	const char *extra = vm->io ? vm->io->cmdline_extra : "";

	/* devices are announced the way QEMU's microvm does: appended */
	if ((size_t)snprintf(line, sizeof(line), "%s%s%s", vm->opt->cmdline ? vm->opt->cmdline : "",
			     *extra && vm->opt->cmdline ? " " : "", extra) >= sizeof(line)) {
		snprintf(err, errlen, "--cmdline: too long with the device announcements");
		return -E2BIG;
	}
	if (pvh_write_start_info(&vm->layout, vm->mem.ram, line, err, errlen))
		return -E2BIG;
	return 0;
}

/* --blk/--io-technique; a bad --blk is bad input (exit 64) */
static int setup_io(struct vm *vm, char *err, size_t errlen)
{
	int r = vm_io_setup(vm, &vm->io, err, errlen);

	return r == -EINVAL ? -ENOEXEC : r;
}

int vm_create(struct vm *vm, const struct vmm_options *o, const uint8_t *elf, size_t elf_len,
	      char *err, size_t errlen)
{
	int r;

	/* no memset: *vm is zeroed storage (see vmm.h), and touching all of it
	 * would add ~750 KiB to every VM's resident footprint */
	vm->opt = o;
	vm->kvm_fd = vm->vm_fd = vm->vm_kstats.fd = -1;
	for (uint32_t i = 0; i < o->nvcpus && i < VMM_MAX_VCPUS; i++)
		vm->vcpus[i].fd = vm->vcpus[i].kstats.fd = -1;
	pthread_condattr_t ca;

	pthread_mutex_init(&vm->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the watchdog deadline */
	pthread_cond_init(&vm->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((r = layout_build(&vm->layout, o->mem_bytes, o->nvcpus))) {
		snprintf(err, errlen, "bad memory size or vCPU count");
		return -E2BIG;
	}
	vm->pvm = pvm_detect(NULL);
	if ((r = vm_start_threads(vm, err, errlen)))
		return r;
	/* memory before the interrupt chips: each of these ioctls waits for a
	 * grace period of the VM's SRCU, and a memslot installed after the chips
	 * waited for longer (median 7.2 vs 11.7 ms for both on this host, loaded;
	 * docs/VMM-LITE.md "Start-up") */
	if ((r = kvm_open(vm, err, errlen)))
		return r;
	vm_startup_mark(vm, SU_KVM);
	if ((r = vm_setup_memory(vm, err, errlen)))
		return r;
	vm_startup_mark(vm, SU_MEMORY);
	if ((r = vm_setup_chips(vm, err, errlen)))
		return r;
	vm_startup_mark(vm, SU_IRQCHIP);
	if ((r = setup_io(vm, err, errlen)) || (r = vm_load_guest(vm, elf, elf_len, err, errlen)))
		return r;
	vm_startup_mark(vm, SU_GUEST);
	if ((r = vm_setup_devices(vm, err, errlen)))
		return r;
	vm_startup_mark(vm, SU_DEVICES);
	if ((r = vm_get_cpuid(vm, err, errlen)))
		return r;
	for (uint32_t i = 0; i < o->nvcpus; i++) {
		if ((r = vcpu_create(vm, i, err, errlen)))
			return r;
		vm->nvcpus++;
	}
	if ((r = vcpu_setup_boot(&vm->vcpus[0], vm->img.entry, GPA_START_INFO, err, errlen)))
		return r;
	vm->vm_kstats.fd = ioctl(vm->vm_fd, KVM_GET_STATS_FD, 0);
	vm_startup_mark(vm, SU_VCPUS);
	pthread_mutex_lock(&vm->lock);
	vm->created = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

void vm_destroy(struct vm *vm)
{
	vm_release_threads(vm); /* after a failed vm_create; vm_run joined them otherwise */
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	kvm_stats_free(&vm->vm_kstats);
	calib_release(vm);
	region_release(vm);
	vm_io_destroy(vm->io);
	vm->io = NULL;
	if (vm->com1.dev.ops)
		uart_destroy(&vm->com1);
	guest_mem_free(&vm->mem);
	free(vm->cpuid);
	vm->cpuid = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
}
