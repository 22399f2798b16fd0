/*
 * The user-space test MSR (VTX_CALIB_USER_MSR): KVM_CAP_X86_USER_SPACE_MSR
 * plus a KVM_X86_SET_MSR_FILTER range that denies it to the kernel, so every
 * rdmsr/wrmsr of it exits to vmm-lite (KVM_EXIT_X86_RDMSR/WRMSR). Also the
 * calibration devices' teardown and stats.
 *
 * Why: the calibration compares an MSR KVM handles in the kernel with one
 * that takes the trip to user space. Every other MSR stays allowed (default
 * allow), so nothing else about the guest changes. Any other MSR exit (there
 * should be none) gets #GP, as KVM would do for an unknown MSR.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "virttax/wl_ops.h"
#include "vmm-lite/vmm.h"

void calib_msr_init(struct vm *vm)
{
	struct calib_devs *c = &vm->calib;
	struct kvm_enable_cap cap = {.cap = KVM_CAP_X86_USER_SPACE_MSR,
				     .args = {KVM_MSR_EXIT_REASON_FILTER}};
	static uint8_t deny[1]; /* bit 0 clear: denied -> user space */
	struct kvm_msr_filter f = {.flags = KVM_MSR_FILTER_DEFAULT_ALLOW};
	f.ranges[0] =
	    (struct kvm_msr_filter_range){.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
					  .nmsrs = 1,
					  .base = VTX_CALIB_USER_MSR,
					  .bitmap = deny};
	c->msr_value = VTX_CALIB_MAGIC;
	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0 ||
	    ioctl(vm->vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0)
		c->err[2] = (uint8_t)errno;
	else
		c->flags |= VTX_CALIB_F_USER_MSR;
}

void calib_msr_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct calib_devs *c = &v->vm->calib;
	__atomic_add_fetch(&c->msr_exits, 1, __ATOMIC_RELAXED);
	run->msr.error = run->msr.index == VTX_CALIB_USER_MSR ? 0 : 1;
	if (run->msr.error)
		return;
	if (run->exit_reason == KVM_EXIT_X86_RDMSR)
		run->msr.data = __atomic_load_n(&c->msr_value, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&c->msr_value, run->msr.data, __ATOMIC_RELAXED);
}

void calib_release(struct vm *vm)
{
	if (vm->calib.pio_efd > 0)
		close(vm->calib.pio_efd);
	if (vm->calib.mmio_efd > 0)
		close(vm->calib.mmio_efd);
	vm->calib.pio_efd = vm->calib.mmio_efd = -1;
}

/* Counts of the in-kernel ioeventfd completions (eventfd counters) and the rest. */
static json_t *efd_count(int fd)
{
	uint64_t v = 0;
	if (fd < 0)
		return json_null();
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		v = 0; /* EAGAIN: none */
	return json_integer((json_int_t)v);
}

json_t *calib_to_json(const struct vm *vm)
{
	const struct calib_devs *c = &vm->calib;
	return json_pack("{s:i,s:o,s:o,s:I,s:I,s:[i,i,i]}", "flags", (int)c->flags,
			 "pio_ioeventfd_writes", efd_count(c->pio_efd), "mmio_ioeventfd_writes",
			 efd_count(c->mmio_efd), "declared_trapped", (json_int_t)c->declared,
			 "user_msr_exits", (json_int_t)c->msr_exits, "errno", c->err[0], c->err[1],
			 c->err[2]);
}
