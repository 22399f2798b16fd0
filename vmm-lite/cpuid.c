/*
 * The CPUID a vCPU sees: KVM's supported CPUID (KVM_GET_SUPPORTED_CPUID) plus
 * what only the VMM can say.
 *
 * Why: KVM reports what it can virtualize, not a finished CPU. The VMM must
 * add the hypervisor bit, the TSC-deadline timer (KVM emulates it whenever
 * KVM_CAP_TSC_DEADLINE_TIMER is present, but never lists it as supported) and
 * the TSC frequency: AMD has no leaf 0x15/0x16, so on AMD-V (and on VT-x
 * parts without a crystal leaf) a guest has no way to know its TSC rate
 * unless the VMM publishes it. vmm-lite uses the hypervisor timing leaf
 * 0x40000010 (EAX TSC kHz, EBX LAPIC timer kHz) that QEMU's
 * vmware-cpuid-freq and VMware also offer, with KVM_GET_TSC_KHZ's value.
 * cpuid_apply is pure: the unit tests feed it recorded KVM CPUID lists.
 * kvm_vcpu_tsc_khz tells other VMMs' drivers (QEMU's tsc-frequency=) the
 * same rate.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm-lite/cpuid.h"

#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_ECX_HYPERVISOR (1u << 31)

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		bool indexed = e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		if (e->function == function && (!indexed || e->index == index))
			return e;
	}
	return NULL;
}

static struct kvm_cpuid_entry2 *cpuid_add(struct kvm_cpuid2 *c, uint32_t cap, uint32_t function)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(c, function, 0);
	if (e)
		return e;
	if (c->nent >= cap)
		return NULL;
	e = &c->entries[c->nent++];
	memset(e, 0, sizeof(*e));
	e->function = function;
	return e;
}

/* 0x40000000 names KVM and reaches the timing leaf; 0x40000010 says the rates. */
static int add_timing_leaf(struct kvm_cpuid2 *c, uint32_t cap, uint32_t tsc_khz)
{
	struct kvm_cpuid_entry2 *sig = cpuid_find(c, CPUID_KVM_SIGNATURE, 0);
	if (!sig) {
		if (!(sig = cpuid_add(c, cap, CPUID_KVM_SIGNATURE)))
			return -E2BIG;
		memcpy(&sig->ebx, "KVMK", 4);
		memcpy(&sig->ecx, "VMKV", 4);
		memcpy(&sig->edx, "M\0\0\0", 4);
	}
	if (sig->eax < CPUID_TIMING_LEAF)
		sig->eax = CPUID_TIMING_LEAF;
	struct kvm_cpuid_entry2 *t = cpuid_add(c, cap, CPUID_TIMING_LEAF);
	if (!t)
		return -E2BIG;
	t->eax = tsc_khz;
	t->ebx = CPUID_LAPIC_TIMER_KHZ;
	t->ecx = t->edx = 0;
	return 0;
}

int cpuid_apply(struct kvm_cpuid2 *c, uint32_t cap, const struct cpuid_policy *p)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 1) {
			e->ebx =
			    (e->ebx & 0x00ffffff) | (p->vcpu_index << 24); /* initial APIC ID */
			e->ecx |= CPUID1_ECX_HYPERVISOR;
			if (p->tsc_deadline)
				e->ecx |= CPUID1_ECX_TSC_DEADLINE;
		}
		if (e->function == 0xb || e->function == 0x1f) /* x2APIC ID */
			e->edx = p->vcpu_index;
	}
	return p->tsc_khz ? add_timing_leaf(c, cap, p->tsc_khz) : 0;
}

int kvm_vcpu_tsc_khz(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm = -1, vcpu = -1, khz;
	if (kvm < 0)
		return -errno;
	do
		vm = ioctl(kvm, KVM_CREATE_VM, 0);
	while (vm < 0 && errno == EINTR);
	if (vm >= 0)
		vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	khz = vcpu >= 0 ? ioctl(vcpu, KVM_GET_TSC_KHZ, 0) : -1;
	khz = khz > 0 ? khz : -(errno ? errno : EIO);
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	close(kvm);
	return khz;
}
