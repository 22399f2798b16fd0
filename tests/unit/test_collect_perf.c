/*
 * Unit tests of perf event naming (libpfm4), multiplex scaling and the
 * hardware-PMU probe. Only deterministic facts are asserted: software events
 * always encode; generic "perf::cycles" encodes as PERF_TYPE_HARDWARE
 * whether or not a PMU exists (opening it is what fails without one).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collectors/internal.h"

static void expect_sw(const char *name, unsigned long long config)
{
	struct perf_event_attr a;
	char why[160] = "";
	cr_assert_eq(perfev_encode(name, &a, why, sizeof(why)), 0, "%s: %s", name, why);
	cr_assert_eq(a.type, PERF_TYPE_SOFTWARE, "%s type %u", name, a.type);
	cr_assert_eq(a.config, config, "%s config %llu", name, (unsigned long long)a.config);
	cr_assert_eq(a.size, sizeof(a));
}

Test(collect_perf, software_events_encode)
{
	expect_sw("perf::task-clock", PERF_COUNT_SW_TASK_CLOCK);
	expect_sw("perf::context-switches", PERF_COUNT_SW_CONTEXT_SWITCHES);
	expect_sw("perf::cpu-migrations", PERF_COUNT_SW_CPU_MIGRATIONS);
	expect_sw("perf::page-faults", PERF_COUNT_SW_PAGE_FAULTS);
	expect_sw("perf::major-faults", PERF_COUNT_SW_PAGE_FAULTS_MAJ);
}

Test(collect_perf, generic_hardware_names)
{
	struct perf_event_attr a;
	char why[160];
	cr_assert_eq(perfev_encode("perf::cycles", &a, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(a.type, PERF_TYPE_HARDWARE);
	cr_assert_eq(a.config, PERF_COUNT_HW_CPU_CYCLES);
	cr_assert_eq(perfev_encode("perf::instructions", &a, why, sizeof(why)), 0);
	cr_assert_eq(a.config, PERF_COUNT_HW_INSTRUCTIONS);
	cr_assert_eq(perfev_encode("perf::dTLB-load-misses", &a, why, sizeof(why)), 0);
	cr_assert_eq(a.type, PERF_TYPE_HW_CACHE);
	/* cache id | op << 8 | result << 16 */
	cr_assert_eq(a.config, PERF_COUNT_HW_CACHE_DTLB | (PERF_COUNT_HW_CACHE_OP_READ << 8) |
				   (PERF_COUNT_HW_CACHE_RESULT_MISS << 16));
}

Test(collect_perf, unknown_name_fails_with_reason)
{
	struct perf_event_attr a;
	char why[160] = "";
	cr_assert_eq(perfev_encode("no_such_event_xyz", &a, why, sizeof(why)), -ENOENT);
	cr_assert(strstr(why, "no_such_event_xyz"), "%s", why);
	cr_assert_lt(perfev_encode("perf::task-clock:bogusmod=3", &a, why, sizeof(why)), 0);
}

Test(collect_perf, scale)
{
	bool mux;
	cr_assert_float_eq(perfev_scale(1000, 100, 100, &mux), 1000.0, 1e-9);
	cr_assert_not(mux);
	cr_assert_float_eq(perfev_scale(1000, 200, 50, &mux), 4000.0, 1e-9);
	cr_assert(mux);
	cr_assert_float_eq(perfev_scale(0, 200, 0, &mux), 0.0, 1e-9); /* never scheduled */
	cr_assert(mux);
	cr_assert_float_eq(perfev_scale(7, 0, 0, &mux), 7.0, 1e-9); /* never enabled */
	cr_assert_not(mux);
}

Test(collect_perf, hw_probe_reason_is_consistent)
{
	char why[160] = "";
	int rc = perfev_hw_probe(why, sizeof(why));
	if (rc == 0)
		return; /* a PMU: nothing more to assert */
	cr_assert(!strncmp(why, "unavailable: ", 13), "%s", why);
	if (rc == -ENOENT || rc == -EOPNOTSUPP)
		cr_assert_str_eq(why, "unavailable: no hardware PMU (cycles not supported)");
}

/* CPUID leaf 0 (EBX, ECX, EDX) as recorded on an Intel and an AMD host */
#define INTEL_LEAF0 0x756e6547, 0x6c65746e, 0x49656e69 /* kvm-supported-intel-pvm.txt */
#define AMD_LEAF0 0x68747541, 0x444d4163, 0x69746e65   /* kvm-supported-amd-svm.txt */

static size_t count(const char *const *n)
{
	size_t i = 0;
	while (n[i])
		i++;
	return i;
}

Test(collect_perf, walk_names_chosen_by_cpu_vendor)
{
	const char *const *intel = perfev_walk_names(x86_vendor_from_cpuid(INTEL_LEAF0));
	const char *const *amd = perfev_walk_names(x86_vendor_from_cpuid(AMD_LEAF0));
	cr_assert_str_eq(intel[0], "DTLB_LOAD_MISSES:WALK_ACTIVE");
	cr_assert_eq(count(intel), 2);
	cr_assert_str_eq(amd[0], "LS_TABLEWALKER:DSIDE");
	cr_assert_eq(count(amd), 2);
	for (size_t i = 0; intel[i]; i++) /* no vendor's name is tried on the other */
		cr_assert(!strstr(intel[i], "TABLEWALKER"), "%s", intel[i]);
	for (size_t i = 0; amd[i]; i++)
		cr_assert(!strstr(amd[i], "DTLB_"), "%s", amd[i]);
	cr_assert_eq(count(perfev_walk_names(X86_VENDOR_OTHER)), 0);
	cr_assert_eq(perfev_walk_names(X86_VENDOR_HYGON), amd, "Hygon is Zen");
}

Test(collect_perf, host_vendor_is_this_cpus)
{
	char line[256], vendor[64] = "";
	FILE *f = fopen("/proc/cpuinfo", "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) && !vendor[0])
		sscanf(line, "vendor_id : %63s", vendor);
	fclose(f);
	cr_assert_eq(perfev_host_vendor(), x86_vendor_from_name(vendor), "cpuinfo says %s", vendor);
}
