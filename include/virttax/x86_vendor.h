/*
 * The x86 CPU vendor, from CPUID leaf 0 or /proc/cpuinfo's vendor_id, and the
 * vendor-specific choices that follow from it.
 *
 * Why one header for the guest and the host: Intel VT-x and AMD-V differ in
 * a few places virttax must get right without ever running on the other one
 * here (QEMU emulates AMD-V but not VT-x): the hypercall instruction (vmcall
 * vs vmmcall: KVM only patches the wrong one on first use, and then the
 * calibration would time a #UD round trip), the PMU's page-walk event names
 * and the kvm module's parameter names (kvm_intel ept vs kvm_amd npt). Every
 * such choice is a pure function of the vendor here, so unit tests drive it
 * with CPUID values recorded on Intel and AMD hosts. Freestanding: no libc.
 */
#ifndef VIRTTAX_X86_VENDOR_H
#define VIRTTAX_X86_VENDOR_H

#include <stdbool.h>
#include <stdint.h>

enum x86_vendor { X86_VENDOR_OTHER, X86_VENDOR_INTEL, X86_VENDOR_AMD, X86_VENDOR_HYGON };

/* CPUID leaf 0 spells the vendor in EBX, EDX, ECX (that order). */
#define X86_SIG(a, b, c, d)                                                                        \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

static inline enum x86_vendor x86_vendor_from_cpuid(uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	if (ebx == X86_SIG('G', 'e', 'n', 'u') && edx == X86_SIG('i', 'n', 'e', 'I') &&
	    ecx == X86_SIG('n', 't', 'e', 'l'))
		return X86_VENDOR_INTEL;
	if (ebx == X86_SIG('A', 'u', 't', 'h') && edx == X86_SIG('e', 'n', 't', 'i') &&
	    ecx == X86_SIG('c', 'A', 'M', 'D'))
		return X86_VENDOR_AMD;
	if (ebx == X86_SIG('H', 'y', 'g', 'o') && edx == X86_SIG('n', 'G', 'e', 'n') &&
	    ecx == X86_SIG('u', 'i', 'n', 'e'))
		return X86_VENDOR_HYGON;
	return X86_VENDOR_OTHER;
}

/* The same from a 12-character vendor string (cpuinfo's vendor_id). */
static inline enum x86_vendor x86_vendor_from_name(const char *s)
{
	uint32_t w[3] = {0, 0, 0};
	for (int i = 0; i < 12; i++) {
		if (!s || !s[i])
			return X86_VENDOR_OTHER;
		w[i / 4] |= (uint32_t)(uint8_t)s[i] << (8 * (i % 4));
	}
	return s[12] ? X86_VENDOR_OTHER : x86_vendor_from_cpuid(w[0], w[2], w[1]);
}

static inline const char *x86_vendor_name(enum x86_vendor v)
{
	return v == X86_VENDOR_INTEL   ? "GenuineIntel"
	       : v == X86_VENDOR_AMD   ? "AuthenticAMD"
	       : v == X86_VENDOR_HYGON ? "HygonGenuine"
				       : "unknown vendor";
}

/* AMD-V (and Hygon's licensed Zen) hypercalls are vmmcall; VT-x's vmcall. An
 * unknown vendor gets vmcall, what KVM documents as the x86 default. */
static inline bool x86_vendor_uses_vmmcall(enum x86_vendor v)
{
	return v == X86_VENDOR_AMD || v == X86_VENDOR_HYGON;
}

/* The kvm module's name and its two-dimensional paging parameter. */
static inline const char *x86_vendor_kvm_module(enum x86_vendor v)
{
	return v == X86_VENDOR_INTEL ? "kvm_intel" : x86_vendor_uses_vmmcall(v) ? "kvm_amd" : NULL;
}

static inline const char *x86_vendor_tdp_param(enum x86_vendor v)
{
	return v == X86_VENDOR_INTEL ? "ept" : x86_vendor_uses_vmmcall(v) ? "npt" : NULL;
}

#endif
