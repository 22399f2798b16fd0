/*
 * Unit tests of the kvm-floor driver (harness/vmm_floor.c): what it refuses
 * before spawning anything, and that it is a reference, not a --vmm choice.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "harness/vmm.h"

static struct run_result refused(const char *workload, const char *const *args, size_t nargs)
{
	struct run_spec spec = {.workload = workload,
				.wl_args = args,
				.nwl_args = nargs,
				.cpu = -1,
				.mem_bytes = 128ull << 20,
				.timeout_s = 10};
	struct run_result res;
	run_result_init(&res);
	cr_assert_eq(vmm_floor.run(&spec, &res), 0);
	return res;
}

Test(vmm_floor, runs_no_workload)
{
	struct run_result res = refused("cpu-int", NULL, 0);
	cr_assert_eq(res.status, RUN_FAILED);
	cr_assert(!strncmp(res.reason, "unavailable: kvm-floor runs no workload (cpu-int)", 49),
		  "%s", res.reason);
	run_result_release(&res);
}

Test(vmm_floor, calibrates_pio_only)
{
	static const char *const cpuid[] = {"kinds=cpuid,mmio", "goal_ms=5"};
	struct run_result res = refused("calib", cpuid, 2);
	cr_assert_eq(res.status, RUN_FAILED);
	cr_assert(strstr(res.reason, "unavailable:"), "%s", res.reason);
	run_result_release(&res);
	/* "pio-ioeventfd" is not "pio" */
	static const char *const ioev[] = {"kinds=pio-ioeventfd"};
	res = refused("calib", ioev, 1);
	cr_assert_eq(res.status, RUN_FAILED, "%s", res.reason);
	run_result_release(&res);
}

Test(vmm_floor, a_reference_not_a_choice)
{
	char why[160];
	cr_assert_null(vmm_find(VMM_FLOOR_NAME), "--vmm kvm-floor is not offered");
	cr_assert_eq(vmm_find_any(VMM_FLOOR_NAME), &vmm_floor);
	cr_assert_eq(vmm_find_any("vmm-lite"), &vmm_vmmlite);
	cr_assert_eq(vmm_floor.io_probe("virtio-user", false, why, sizeof(why)), -ENOTSUP);
	cr_assert(!strncmp(why, "unavailable: ", 13), "%s", why);
	cr_assert_eq(vmm_floor.balloon_probe(why, sizeof(why)), -ENOTSUP);
}
