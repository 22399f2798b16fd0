/*
 * Support for the PVM flavour of KVM (module kvm_pvm).
 *
 * Why: on a PVM host a guest is emulated instruction by instruction until a
 * virtual-interrupt-flag (VIF) page is registered for its vCPU; afterwards
 * 64-bit guest code runs natively (see /work/shared/PLATFORM.md). vmm-lite
 * registers one zeroed page per vCPU before the first KVM_RUN, and afterwards
 * checks the vCPU stat insn_emulation so that an emulated run is never
 * reported as a virtualization measurement.
 *
 * Once the VIF page is registered, the guest's interrupt flag is byte 0 (if_)
 * of that page, not RFLAGS.IF (docs/PVM-INTERRUPTS.md): the idle probe reads
 * it from there.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "virttax/protocol.h"
#include "vmm-lite/vmm.h"

bool pvm_detect(const char *sysfs_root)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/sys/module/kvm_pvm", sysfs_root ? sysfs_root : "");
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int pvm_register_vif(struct vcpu *v, uint64_t gpa)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs = {.hdr = {.nmsrs = 1}, .e = {.index = PVM_MSR_VIF, .data = gpa | 1}};
	int r = ioctl(v->fd, KVM_SET_MSRS, &msrs);

	if (r < 0)
		return -errno;
	return r == 1 ? 0 : -EIO; /* KVM_SET_MSRS returns the number of MSRs set */
}

int pvm_vif_if_byte(const struct guest_layout *l, void *ram, uint64_t msr)
{
	if (!(msr & 1))
		return -ENOENT; /* no VIF page registered */
	/* the guest may have moved it: bounds-check the whole byte in guest RAM */
	const uint8_t *if_ = layout_gpa_to_hva(l, ram, msr & ~0xfffULL, 1);
	if (!if_)
		return -EFAULT;
	return __atomic_load_n(if_, __ATOMIC_ACQUIRE) ? 1 : 0;
}

int pvm_vif_if(struct vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs;
	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = 1;
	msrs.e.index = PVM_MSR_VIF;
	uint64_t msr = layout_vif_gpa(v->index) | 1; /* what vcpu.c registered */
	if (ioctl(v->fd, KVM_GET_MSRS, &msrs) == 1)
		msr = msrs.e.data;
	return pvm_vif_if_byte(&v->vm->layout, v->vm->mem.ram, msr);
}

/*
 * Every port I/O or MMIO access of a natively running PVM guest is trapped
 * and counted as one emulated instruction, and the 32-bit PVH entry code
 * (before the guest reaches long mode) is emulated too: a few hundred
 * instructions. Beyond the I/O exits we allow EMUL_EXCESS_LIMIT; a guest that
 * really runs emulated executes far more (~1.7M instructions per second).
 */
bool emulation_is_native(uint64_t insn_emulation_delta, uint64_t io_exits, char *why, size_t len)
{
	uint64_t excess = insn_emulation_delta > io_exits ? insn_emulation_delta - io_exits : 0;

	if (excess > EMUL_EXCESS_LIMIT) {
		snprintf(why, len,
			 "guest was emulated: insn_emulation grew by %" PRIu64 " (%" PRIu64
			 " beyond %" PRIu64 " I/O exits, limit %d)",
			 insn_emulation_delta, excess, io_exits, EMUL_EXCESS_LIMIT);
		return false;
	}
	snprintf(why, len,
		 "insn_emulation grew by %" PRIu64 " (%" PRIu64 " beyond %" PRIu64
		 " I/O exits, limit %d)",
		 insn_emulation_delta, excess, io_exits, EMUL_EXCESS_LIMIT);
	return true;
}
