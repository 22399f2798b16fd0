/*
 * vCPUs: creation, PVH boot state, and the per-vCPU thread with its run loop.
 *
 * Why: one host thread per vCPU (so pinning, scheduler statistics and perf
 * attach per vCPU), each owning its exit accounting so the hot path takes no
 * lock. vCPU 0 starts at the PVH entry; the others are created and block in
 * KVM_RUN inside the in-kernel LAPIC until INIT/SIPI. Stopping is a kick:
 * kvm_run->immediate_exit plus a signal, so a vCPU in or about to enter
 * KVM_RUN returns with EINTR.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm-lite/cpuid.h"
#include "vmm-lite/sandbox.h"
#include "vmm-lite/vmm.h"

#define X86_CR0_PE 0x1
#define X86_CR0_ET 0x10
#define X86_EFLAGS_IF 0x200
#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

/* KVM's supported CPUID with this vCPU's APIC ID, the hypervisor bit, the
 * TSC-deadline timer and the TSC rate (vmm-lite/cpuid.c) */
static int set_cpuid(struct vcpu *v, const struct kvm_cpuid2 *supported, char *err, size_t errlen)
{
	uint32_t cap = supported->nent + CPUID_EXTRA_ENTRIES;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + cap * sizeof(c->entries[0]));
	int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
	struct cpuid_policy p = {
	    .vcpu_index = v->index,
	    .tsc_khz = khz > 0 ? (uint32_t)khz : 0,
	    .tsc_deadline =
		ioctl(v->vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0,
	};
	int r;

	if (!c)
		return -ENOMEM;
	memcpy(c, supported, sizeof(*supported) + supported->nent * sizeof(supported->entries[0]));
	if ((r = cpuid_apply(c, cap, &p)))
		snprintf(err, errlen, "building the CPUID of vCPU %u: %s", v->index, strerror(-r));
	else if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
		r = -errno;
		snprintf(err, errlen, "KVM_SET_CPUID2 on vCPU %u: %s", v->index, strerror(errno));
	}
	free(c);
	return r;
}

/* The guest's TSC reads the host's. On VT-x/AMD-V KVM gives a new vCPU an
 * offset so that its TSC starts near 0 (PVM's guest reads the host's TSC
 * anyway); with offset 0 every TSC the agent reports (the hello's tsc_entry,
 * region markers) is on the host's time line, as the harness's spawn-to-entry
 * time needs. A KVM without KVM_VCPU_TSC_OFFSET (before Linux 5.16) keeps its
 * offset: the harness then finds such a TSC implausible and reports no value. */
static int tsc_on_host_timeline(struct vcpu *v, char *err, size_t errlen)
{
	uint64_t offset = 0;
	struct kvm_device_attr a = {
	    .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET, .addr = (uintptr_t)&offset};

	if (ioctl(v->fd, KVM_HAS_DEVICE_ATTR, &a) < 0)
		return 0;
	if (ioctl(v->fd, KVM_SET_DEVICE_ATTR, &a) < 0) {
		int e = errno;
		snprintf(err, errlen, "setting vCPU %u's TSC offset to 0: %s", v->index,
			 strerror(e));
		return -e;
	}
	return 0;
}

int vcpu_create(struct vm *vm, uint32_t index, char *err, size_t errlen)
{
	struct vcpu *v = &vm->vcpus[index];
	int mmap_size, r;

	v->vm = vm;
	v->index = index;
	v->kstats.fd = -1;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "KVM_CREATE_VCPU %u: %s", index, strerror(errno));
		return r;
	}
	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run)) {
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -EIO;
	}
	v->run_size = (size_t)mmap_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		r = -errno;
		v->run = NULL;
		snprintf(err, errlen, "mmap of kvm_run for vCPU %u: %s", index, strerror(-r));
		return r;
	}
	if ((r = set_cpuid(v, vm->cpuid, err, errlen)) ||
	    (r = tsc_on_host_timeline(v, err, errlen)))
		return r;
	if (vm->pvm && (r = pvm_register_vif(v, layout_vif_gpa(index)))) {
		snprintf(err, errlen, "registering the PVM VIF page (MSR %#x) on vCPU %u: %s",
			 0x4b564d10, index, strerror(-r));
		return r;
	}
	v->kstats.fd = ioctl(v->fd, KVM_GET_STATS_FD, 0);
	return 0; /* no stats fd: reported as empty stats, not an error */
}

static struct kvm_segment flat_segment(uint16_t sel, uint8_t type)
{
	return (struct kvm_segment){.base = 0,
				    .limit = 0xffffffff,
				    .selector = sel,
				    .type = type,
				    .present = 1,
				    .dpl = 0,
				    .db = 1,
				    .s = 1,
				    .l = 0,
				    .g = 1};
}

/* PVH: 32-bit protected mode, paging off, flat 4 GiB segments, EBX = start_info */
int vcpu_setup_boot(struct vcpu *v, uint32_t entry, uint32_t start_info, char *err, size_t errlen)
{
	struct kvm_sregs s;
	struct kvm_regs regs = {.rip = entry, .rbx = start_info, .rflags = 0x2};

	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		snprintf(err, errlen, "KVM_GET_SREGS: %s", strerror(errno));
		return -errno;
	}
	s.cs = flat_segment(SEL_CODE, 0xb);				/* execute/read, accessed */
	s.ds = s.es = s.fs = s.gs = s.ss = flat_segment(SEL_DATA, 0x3); /* read/write, accessed */
	s.tr = (struct kvm_segment){.selector = SEL_TSS, .limit = 0x67, .type = 0xb, .present = 1};
	s.cr0 = X86_CR0_PE | X86_CR0_ET;
	s.cr3 = 0;
	s.cr4 = 0;
	s.efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0) {
		snprintf(err, errlen, "KVM_SET_SREGS: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0) {
		snprintf(err, errlen, "KVM_SET_REGS: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (v->run)
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (v->thread_started)
		pthread_kill(v->thread, SIGUSR1);
}

static uint64_t vcpu_rip(struct vcpu *v)
{
	struct kvm_regs regs;

	return ioctl(v->fd, KVM_GET_REGS, &regs) < 0 ? 0 : regs.rip;
}

static void crash(struct vcpu *v, const char *what)
{
	char reason[240];

	snprintf(reason, sizeof(reason), "vCPU %u: %s (rip %#" PRIx64 ")", v->index, what,
		 vcpu_rip(v));
	vm_request_stop(v->vm, STOP_CRASH, VMM_EXIT_CRASH, 0, reason);
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t size = run->io.size, count = run->io.count;
	uint64_t off = run->io.data_offset;
	uint8_t *data = (uint8_t *)run;

	if ((size != 1 && size != 2 && size != 4) || count == 0 || off > v->run_size ||
	    (uint64_t)size * count > v->run_size - off) {
		crash(v, "malformed port I/O exit (size/count out of bounds)");
		return;
	}
	for (uint32_t i = 0; i < count && !v->vm->stopping; i++)
		bus_access(&v->vm->pio, run->io.port, data + off + (uint64_t)i * size, size,
			   run->io.direction == KVM_EXIT_IO_OUT);
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (run->mmio.len == 0 || run->mmio.len > sizeof(run->mmio.data)) {
		crash(v, "malformed MMIO exit (length out of bounds)");
		return;
	}
	bus_access(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
		   run->mmio.is_write);
}

static void handle_system_event(struct vcpu *v)
{
	char reason[96];

	snprintf(reason, sizeof(reason), "vCPU %u: system event %u", v->index,
		 v->run->system_event.type);
	if (v->run->system_event.type == KVM_SYSTEM_EVENT_CRASH)
		vm_request_stop(v->vm, STOP_CRASH, VMM_EXIT_CRASH, 0, reason);
	else
		vm_request_stop(v->vm, STOP_SHUTDOWN, VMM_EXIT_CLEAN, 0, reason);
}

static void handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char what[160];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(v);
		break;
	case KVM_EXIT_MMIO:
		handle_mmio(v);
		break;
	case KVM_EXIT_HLT:
		vm_request_stop(v->vm, STOP_SHUTDOWN, VMM_EXIT_CLEAN, 0,
				"guest halted (KVM_EXIT_HLT)");
		break;
	case KVM_EXIT_SHUTDOWN:
		crash(v, "triple fault (KVM_EXIT_SHUTDOWN)");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(
		    what, sizeof(what), "KVM internal error, suberror %u%s", run->internal.suberror,
		    run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? " (emulation failure)"
									   : "");
		crash(v, what);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed, hardware reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		crash(v, what);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(v);
		break;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		calib_msr_exit(v);
		break;
	case KVM_EXIT_INTR:
	case KVM_EXIT_IOAPIC_EOI: /* split irqchip: no user-space IOAPIC to tell */
		break;
	default:
		snprintf(what, sizeof(what), "unhandled exit reason %u", run->exit_reason);
		crash(v, what);
		break;
	}
}

/*
 * run.c asks whether this vCPU is idle for good: halted with interrupts off
 * (a clean end of a guest, exit 0) or an AP still waiting for INIT/SIPI.
 * "Interrupts off" is RFLAGS.IF clear and, on PVM with a VIF page registered,
 * the page's if_ byte clear too (docs/PVM-INTERRUPTS.md: that byte is the
 * flag a native PVM guest uses; sti/cli do not change it).
 * immediate_exit is cleared before the caller re-checks vm->stopping, so a
 * concurrent stop request is never lost.
 */
static void answer_idle_probe(struct vcpu *v)
{
	struct kvm_mp_state mp = {0};
	struct kvm_regs regs = {0};
	bool idle = false;

	__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) == 0 && ioctl(v->fd, KVM_GET_REGS, &regs) == 0) {
		/* on PVM either flag may let an interrupt end the hlt: a guest is
		 * ended as idle only when neither does (never while it may be woken) */
		bool intr_on = (regs.rflags & X86_EFLAGS_IF) || (v->vm->pvm && pvm_vif_if(v) == 1);
		idle = (mp.mp_state == KVM_MP_STATE_HALTED && !intr_on) ||
		       mp.mp_state == KVM_MP_STATE_UNINITIALIZED ||
		       mp.mp_state == KVM_MP_STATE_INIT_RECEIVED;
	}
	pthread_mutex_lock(&v->vm->lock);
	v->probe_idle = idle;
	v->probe_state = 2;
	pthread_cond_broadcast(&v->vm->cond);
	pthread_mutex_unlock(&v->vm->lock);
}

/* --inject-exit-delay-us: a real, controlled regression of every exit that
 * reaches user space (I/O, MMIO, MSR), for testing `virttax gate`. */
static void inject_exit_delay(struct vcpu *v)
{
	uint32_t r = v->run->exit_reason, us = v->vm->opt->exit_delay_us;
	if (!us || (r != KVM_EXIT_IO && r != KVM_EXIT_MMIO && r != KVM_EXIT_X86_RDMSR &&
		    r != KVM_EXIT_X86_WRMSR))
		return;
	uint64_t end = now_ns() + (uint64_t)us * 1000;
	while (now_ns() < end)
		;
}

void vcpu_dispatch(struct vcpu *v, uint64_t t0)
{
	struct kvm_run *run = v->run;
	uint32_t reason = run->exit_reason;
	struct exit_bucket *b =
	    exit_stats_bucket_fast(&v->exits, reason, reason == KVM_EXIT_IO ? run->io.port : 0);

	handle_exit(v);
	inject_exit_delay(v);
	if (!b)
		v->exits.dropped++;
	else if (b->count++, t0)
		exit_bucket_time(b, now_ns() - t0);
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --inject-steal-pct: after a kick, spin until the held share of this
 * thread's CPU time since the timer was armed reaches P% (run.c
 * vm_steal_start): a debt, so a late or early timer tick changes when the
 * guest loses the time, not how much */
static void steal_hold(struct vcpu *v)
{
	uint32_t pct = __atomic_load_n(&v->vm->steal_pct, __ATOMIC_ACQUIRE);

	if (!pct)
		return;
	uint64_t start = thread_cpu_ns(), now = start;
	while ((v->steal_held_ns + (now - start)) * 100 < (now - v->steal_cpu0_ns) * pct)
		now = thread_cpu_ns();
	v->steal_held_ns += now - start;
}

/* KVM_RUN, then dispatch: the clock is read only with --exit-timing */
static void run_loop(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool timed = vm->opt->exit_timing;

	while (!vm->stopping) {
		int r = ioctl(v->fd, KVM_RUN, 0);
		uint64_t t0 = timed ? now_ns() : 0;

		if (r < 0) {
			char reason[96];

			if (errno == EINTR || errno == EAGAIN) {
				/* a kick (or a stray signal): re-check stopping */
				steal_hold(v);
				if (__atomic_load_n(&v->probe_state, __ATOMIC_SEQ_CST) == 1)
					answer_idle_probe(v);
				continue;
			}
			snprintf(reason, sizeof(reason), "KVM_RUN on vCPU %u: %s", v->index,
				 strerror(errno));
			vm_request_stop(vm, STOP_HOST_ERROR, VMM_EXIT_HOST, 0, reason);
			break;
		}
		vcpu_dispatch(v, t0);
	}
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	char name[16], err[160];

	snprintf(name, sizeof(name), "vcpu%u", v->index);
	/* Started before the VM exists (vm_start_threads), and sandboxed at
	 * once: this thread makes no set-up call of its own (the main thread
	 * creates every KVM object and file it will use), and installing a
	 * filter takes ~0.1 ms of kernel time here, which then overlaps with
	 * the main thread's set-up instead of following it. */
	if (sandbox_enter(SANDBOX_VCPU, name, err, sizeof(err)))
		vm_request_stop(vm, STOP_HOST_ERROR, VMM_EXIT_HOST, 0, err);
	pthread_mutex_lock(&vm->lock);
	v->tid = gettid();
	while (!vm->created && !vm->stopping)
		pthread_cond_wait(&vm->cond, &vm->lock);
	vm->nready++;
	pthread_cond_broadcast(&vm->cond);
	while (!vm->go && !vm->stopping)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);

	if (vm->go && v->index == 0)
		vm_startup_mark(vm, SU_FIRST_RUN);
	if (vm->go)
		run_loop(v);

	/* parked: alive until the harness has read our counters */
	pthread_mutex_lock(&vm->lock);
	vm->nparked++;
	pthread_cond_broadcast(&vm->cond);
	while (!vm->release)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

void vcpu_destroy(struct vcpu *v)
{
	kvm_stats_free(&v->kstats);
	if (v->run)
		munmap(v->run, v->run_size);
	v->run = NULL;
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
}
