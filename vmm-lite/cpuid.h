/*
 * The CPUID of a vmm-lite vCPU (cpuid.c).
 */
#ifndef VIRTTAX_VMM_LITE_CPUID_H
#define VIRTTAX_VMM_LITE_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#define CPUID_KVM_SIGNATURE 0x40000000u
#define CPUID_TIMING_LEAF 0x40000010u  /* EAX TSC kHz, EBX LAPIC timer kHz */
#define CPUID_LAPIC_TIMER_KHZ 1000000u /* KVM's LAPIC runs its timer at 1 GHz */
#define CPUID_EXTRA_ENTRIES 2	       /* room cpuid_apply may need beyond KVM's list */

struct cpuid_policy {
	uint32_t vcpu_index;
	uint32_t tsc_khz;  /* KVM_GET_TSC_KHZ of the vCPU; 0: unknown, no timing leaf */
	bool tsc_deadline; /* KVM_CAP_TSC_DEADLINE_TIMER: offer the TSC-deadline timer */
};

/* Turn KVM's supported CPUID into this vCPU's, in place; c has room for `cap`
 * entries. 0, or -E2BIG when a leaf does not fit. */
int cpuid_apply(struct kvm_cpuid2 *c, uint32_t cap, const struct cpuid_policy *p);
/* The TSC rate KVM gives a new vCPU here (KVM_GET_TSC_KHZ), or -errno. */
int kvm_vcpu_tsc_khz(void);
/* The entry for function/index, NULL when absent. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index);

#endif
