/*
 * Unit tests of vmm-lite's CPUID policy (vmm-lite/cpuid.c) on KVM supported
 * CPUID lists recorded on real hosts (tests/data/cpuid/, recorded with
 * dump_kvm_cpuid.c): the hypervisor bit, the TSC-deadline timer exactly when
 * KVM has it, per-vCPU APIC IDs, and the timing leaf 0x40000010 with the TSC
 * rate, added once and reachable from 0x40000000.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm-lite/cpuid.h"

static struct kvm_cpuid2 *load(const char *name, uint32_t extra)
{
	char path[256], line[256];
	snprintf(path, sizeof(path), "tests/data/cpuid/%s", name);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s missing: run from the repo root", path);
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (256 + extra) * sizeof(c->entries[0]));
	cr_assert_not_null(c);
	while (fgets(line, sizeof(line), f)) {
		struct kvm_cpuid_entry2 *e = &c->entries[c->nent];
		if (line[0] == '#')
			continue;
		cr_assert_eq(sscanf(line, "%x %x %x %x %x %x %x", &e->function, &e->index,
				    &e->flags, &e->eax, &e->ebx, &e->ecx, &e->edx),
			     7, "bad line in %s: %s", path, line);
		cr_assert_lt(++c->nent, 256u);
	}
	fclose(f);
	return c;
}

static uint32_t count_fn(struct kvm_cpuid2 *c, uint32_t fn)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->nent; i++)
		n += c->entries[i].function == fn;
	return n;
}

static void check_policy(const char *file)
{
	struct kvm_cpuid2 *c = load(file, CPUID_EXTRA_ENTRIES);
	uint32_t cap = c->nent + CPUID_EXTRA_ENTRIES;
	struct cpuid_policy p = {.vcpu_index = 3, .tsc_khz = 2596123, .tsc_deadline = true};
	cr_assert_eq(cpuid_apply(c, cap, &p), 0);
	struct kvm_cpuid_entry2 *l1 = cpuid_find(c, 1, 0);
	cr_assert_not_null(l1);
	cr_assert(l1->ecx & (1u << 31), "hypervisor bit");
	cr_assert(l1->ecx & (1u << 24), "TSC-deadline bit");
	cr_assert_eq(l1->ebx >> 24, 3u, "initial APIC ID");
	struct kvm_cpuid_entry2 *sig = cpuid_find(c, CPUID_KVM_SIGNATURE, 0);
	cr_assert_not_null(sig);
	cr_assert_geq(sig->eax, CPUID_TIMING_LEAF, "0x40000000 must reach the timing leaf");
	cr_assert_eq(memcmp(&sig->ebx, "KVMK", 4), 0);
	struct kvm_cpuid_entry2 *t = cpuid_find(c, CPUID_TIMING_LEAF, 0);
	cr_assert_not_null(t);
	cr_assert_eq(t->eax, 2596123u);
	cr_assert_eq(t->ebx, 1000000u, "KVM's LAPIC timer runs at 1 GHz");
	/* again, as for the next vCPU: nothing is added twice */
	uint32_t n = c->nent;
	p.vcpu_index = 4;
	cr_assert_eq(cpuid_apply(c, cap, &p), 0);
	cr_assert_eq(c->nent, n);
	cr_assert_eq(count_fn(c, CPUID_TIMING_LEAF), 1u);
	cr_assert_eq(cpuid_find(c, 1, 0)->ebx >> 24, 4u);
	free(c);
}

Test(vmm_cpuid, intel_pvm_recording)
{
	check_policy("kvm-supported-intel-pvm.txt");
}

Test(vmm_cpuid, amd_svm_recording)
{
	check_policy("kvm-supported-amd-svm.txt");
}

Test(vmm_cpuid, amd_has_no_crystal_leaf_so_the_vmm_must_say_the_rate)
{
	struct kvm_cpuid2 *c = load("kvm-supported-amd-svm.txt", 0);
	cr_assert_null(cpuid_find(c, 0x15, 0), "AMD: no TSC/crystal leaf");
	cr_assert_null(cpuid_find(c, CPUID_TIMING_LEAF, 0), "KVM itself offers no timing leaf");
	cr_assert_eq(cpuid_find(c, 1, 0)->ecx & (1u << 24), 0u,
		     "KVM never lists TSC-deadline as supported: the VMM must add it");
	free(c);
}

Test(vmm_cpuid, no_rate_no_timing_leaf_and_no_deadline_without_the_cap)
{
	struct kvm_cpuid2 *c = load("kvm-supported-amd-svm.txt", CPUID_EXTRA_ENTRIES);
	uint32_t n = c->nent;
	struct cpuid_policy p = {.vcpu_index = 0, .tsc_khz = 0, .tsc_deadline = false};
	cr_assert_eq(cpuid_apply(c, n + CPUID_EXTRA_ENTRIES, &p), 0);
	cr_assert_eq(c->nent, n);
	cr_assert_null(cpuid_find(c, CPUID_TIMING_LEAF, 0));
	cr_assert_eq(cpuid_find(c, 1, 0)->ecx & (1u << 24), 0u);
	cr_assert(cpuid_find(c, 1, 0)->ecx & (1u << 31));
	free(c);
}

Test(vmm_cpuid, missing_signature_leaf_is_added_and_full_list_is_an_error)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 4 * sizeof(c->entries[0]));
	c->nent = 1;
	c->entries[0] = (struct kvm_cpuid_entry2){.function = 1};
	struct cpuid_policy p = {.vcpu_index = 1, .tsc_khz = 1000000};
	cr_assert_eq(cpuid_apply(c, 2, &p), -E2BIG, "no room for two leaves");
	c->nent = 1;
	cr_assert_eq(cpuid_apply(c, 3, &p), 0);
	cr_assert_eq(c->nent, 3u);
	struct kvm_cpuid_entry2 *sig = cpuid_find(c, CPUID_KVM_SIGNATURE, 0);
	cr_assert_not_null(sig);
	cr_assert_eq(memcmp(&sig->ebx, "KVMKVMKVM\0\0\0", 12), 0);
	cr_assert_eq(sig->eax, CPUID_TIMING_LEAF);
	cr_assert_eq(cpuid_find(c, CPUID_TIMING_LEAF, 0)->eax, 1000000u);
	free(c);
}

Test(vmm_cpuid, x2apic_id_leaves_follow_the_vcpu)
{
	struct kvm_cpuid2 *c = load("kvm-supported-intel-pvm.txt", CPUID_EXTRA_ENTRIES);
	struct cpuid_policy p = {.vcpu_index = 2};
	cr_assert_eq(cpuid_apply(c, c->nent + CPUID_EXTRA_ENTRIES, &p), 0);
	uint32_t seen = 0;
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0xb || c->entries[i].function == 0x1f) {
			cr_assert_eq(c->entries[i].edx, 2u);
			seen++;
		}
	cr_assert_gt(seen, 0u, "the Intel recording has leaf 0xb");
	free(c);
}
