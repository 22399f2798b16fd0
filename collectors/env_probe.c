/*
 * Live probes of this machine for the environment report: /dev/kvm (open +
 * ioctls), the hardware PMU (perf_event_open of cycles) and the TSC rate
 * (measured against CLOCK_MONOTONIC_RAW).
 *
 * Why separate: these touch the real kernel and only make sense when the
 * report's root is "/"; with a fake sysfs root environment.c skips them and
 * says "not probed: fake root".
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "collectors/internal.h"
#include "harness/hosted.h"

json_t *env_probe_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return json_pack("{s:b,s:s,s:s}", "present", errno != ENOENT, "access",
				 errno == ENOENT ? "none" : "denied", "error", strerror(errno));
	int api = ioctl(fd, KVM_GET_API_VERSION, 0);
	int stats = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD);
	int vcpus = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	close(fd);
	return json_pack("{s:b,s:s,s:i,s:b,s:i}", "present", 1, "access", "rw", "api_version", api,
			 "binary_stats_fd", stats > 0, "max_vcpus", vcpus);
}

json_t *env_probe_pmu(void)
{
	char why[160];
	int rc = perfev_hw_probe(why, sizeof(why));
	if (rc)
		return json_pack("{s:b,s:s,s:s}", "available", 0, "reason", why, "method",
				 "perf_event_open(PERF_COUNT_HW_CPU_CYCLES)");
	return json_pack("{s:b,s:s}", "available", 1, "method",
			 "perf_event_open(PERF_COUNT_HW_CPU_CYCLES)");
}

json_t *env_probe_tsc(void)
{
	uint64_t hz = 0;
	int rc = hosted_tsc_measure(50, &hz);
	if (rc)
		return json_pack("{s:s}", "error", strerror(-rc));
	return json_pack("{s:I,s:s,s:s}", "measured_hz", (json_int_t)hz, "unit", "Hz", "method",
			 "rdtsc against CLOCK_MONOTONIC_RAW over 50 ms");
}
