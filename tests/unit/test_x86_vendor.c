/*
 * Unit tests of the vendor-specific choices (include/virttax/x86_vendor.h)
 * on data recorded on real hosts: CPUID leaf 0 from the KVM CPUID
 * recordings in tests/data/cpuid/ and vendor_id from the fake machines'
 * /proc/cpuinfo (tests/data/sysfs-*). VT-x cannot be emulated here, so
 * this is where the Intel paths are proven: vmcall, kvm_intel, ept.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "virttax/x86_vendor.h"

/* CPUID leaf 0 (function 0, index 0) of a recording */
static enum x86_vendor recorded_vendor(const char *file)
{
	char path[256], line[256];
	unsigned fn, idx, flags, a, b, c, d;
	snprintf(path, sizeof(path), "tests/data/cpuid/%s", file);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s missing: run from the repo root", path);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%x %x %x %x %x %x %x", &fn, &idx, &flags, &a, &b, &c, &d) == 7 &&
		    fn == 0) {
			fclose(f);
			return x86_vendor_from_cpuid(b, c, d);
		}
	fclose(f);
	cr_assert_fail("%s has no leaf 0", path);
	return X86_VENDOR_OTHER;
}

/* vendor_id of the first processor in a fake machine's /proc/cpuinfo */
static enum x86_vendor cpuinfo_vendor(const char *tree)
{
	char path[256], line[256], v[64] = "";
	snprintf(path, sizeof(path), "tests/data/%s/proc/cpuinfo", tree);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s missing", path);
	while (!v[0] && fgets(line, sizeof(line), f))
		sscanf(line, "vendor_id : %63s", v);
	fclose(f);
	return x86_vendor_from_name(v);
}

/* what each recorded host must lead to */
static const struct {
	const char *cpuid_file, *sysfs_tree;
	enum x86_vendor vendor;
	bool vmmcall;
	const char *module, *tdp_param, *name;
} recorded[] = {
    {"kvm-supported-intel-pvm.txt", "sysfs-vmx", X86_VENDOR_INTEL, false, "kvm_intel", "ept",
     "GenuineIntel"},
    {"kvm-supported-amd-svm.txt", "sysfs-svm", X86_VENDOR_AMD, true, "kvm_amd", "npt",
     "AuthenticAMD"},
};

static void check_recorded(size_t i)
{
	enum x86_vendor v = recorded_vendor(recorded[i].cpuid_file);
	cr_assert_eq(v, recorded[i].vendor, "%s", recorded[i].cpuid_file);
	cr_assert_eq(cpuinfo_vendor(recorded[i].sysfs_tree), v, "%s", recorded[i].sysfs_tree);
	cr_assert_eq(x86_vendor_uses_vmmcall(v), recorded[i].vmmcall, "%s", recorded[i].name);
	cr_assert_str_eq(x86_vendor_kvm_module(v), recorded[i].module);
	cr_assert_str_eq(x86_vendor_tdp_param(v), recorded[i].tdp_param);
	cr_assert_str_eq(x86_vendor_name(v), recorded[i].name);
}

Test(x86_vendor, intel_recordings_choose_vmcall_kvm_intel_ept)
{
	check_recorded(0);
}

Test(x86_vendor, amd_recordings_choose_vmmcall_kvm_amd_npt)
{
	check_recorded(1);
}

Test(x86_vendor, hygon_is_amd_v_and_others_are_unknown)
{
	enum x86_vendor h = x86_vendor_from_name("HygonGenuine");
	cr_assert_eq(h, X86_VENDOR_HYGON);
	cr_assert(x86_vendor_uses_vmmcall(h));
	cr_assert_eq(x86_vendor_from_name("CentaurHauls"), X86_VENDOR_OTHER);
	char longer[16] = "GenuineIntelX", shorter[16] = "GenuineInte";
	cr_assert_eq(x86_vendor_from_name(longer), X86_VENDOR_OTHER, "13 characters");
	cr_assert_eq(x86_vendor_from_name(shorter), X86_VENDOR_OTHER, "11 characters");
	cr_assert_eq(x86_vendor_from_name(NULL), X86_VENDOR_OTHER);
	cr_assert_eq(x86_vendor_from_cpuid(0, 0, 0), X86_VENDOR_OTHER);
	cr_assert_not(x86_vendor_uses_vmmcall(X86_VENDOR_OTHER), "unknown: KVM's default vmcall");
	cr_assert_null(x86_vendor_kvm_module(X86_VENDOR_OTHER));
	cr_assert_null(x86_vendor_tdp_param(X86_VENDOR_OTHER));
	/* EBX, EDX, ECX order: swapping ECX and EDX is not Intel */
	cr_assert_eq(x86_vendor_from_cpuid(0x756e6547, 0x49656e69, 0x6c65746e), X86_VENDOR_OTHER);
}
