/*
 * Live probes of this machine for the environment report: /dev/kvm (open +
 * ioctls), the hardware PMU (perf_event_open of cycles), the TSC rate
 * (measured against CLOCK_MONOTONIC_RAW) and whether a guest runs natively
 * (a ~60 ms vmm-lite boot of the agent with workload=noop).
 *
 * Why separate: these touch the real kernel and only make sense when the
 * report's root is "/"; with a fake sysfs root environment.c skips them and
 * says "not probed: fake root".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "collectors/internal.h"
#include "core/proc.h"
#include "core/tsc.h"

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
	int rc = tsc_measure_hz(50, &hz);
	if (rc)
		return json_pack("{s:s}", "error", strerror(-rc));
	return json_pack("{s:I,s:s,s:s}", "measured_hz", (json_int_t)hz, "unit", "Hz", "method",
			 "rdtsc against CLOCK_MONOTONIC_RAW over 50 ms");
}

static json_t *emu_unavailable(const char *why)
{
	return json_pack("{s:b,s:s}", "available", 0, "reason", why);
}

static json_t *emulation_verdict(const char *stats, int status)
{
	char why[200];
	json_t *doc = json_load_file(stats, 0, NULL);
	json_t *emu = json_object_get(doc, "emulation");
	if (!json_is_object(emu)) {
		snprintf(why, sizeof(why), "unavailable: vmm-lite wrote no stats (exit status %d)",
			 status < 128 ? status : -1);
		json_decref(doc);
		return emu_unavailable(why);
	}
	json_t *j = json_pack("{s:b,s:O,s:O,s:O,s:s}", "available", 1, "native",
			      json_object_get(emu, "native"), "insn_emulation_delta",
			      json_object_get(emu, "insn_emulation_delta"), "reason",
			      json_object_get(emu, "reason"), "method",
			      "vmm-lite boots the guest agent with workload=noop");
	json_decref(doc);
	return j ? j : emu_unavailable("unavailable: vmm-lite stats lack emulation fields");
}

json_t *env_probe_emulation(void)
{
	char vmm[PATH_MAX], agent[PATH_MAX], dir[] = "/tmp/vtx-emuprobe-XXXXXX", stats[64];
	if (proc_find_sibling("vmm-lite", vmm, sizeof(vmm)) ||
	    proc_find_sibling("guest-agent.elf", agent, sizeof(agent)))
		return emu_unavailable("unavailable: vmm-lite or guest-agent.elf not found next to "
				       "this binary");
	if (access("/dev/kvm", R_OK | W_OK))
		return emu_unavailable("unavailable: /dev/kvm not accessible");
	if (!mkdtemp(dir))
		return emu_unavailable("unavailable: mkdtemp failed");
	snprintf(stats, sizeof(stats), "%s/stats.json", dir);
	char *argv[] = {vmm,   "--kernel",  agent, "--cmdline",	   "workload=noop", "--mem",
			"64M", "--timeout", "10",  "--stats-json", stats,	    NULL};
	char err[200];
	int status = proc_run(argv, false, NULL, err, sizeof(err));
	json_t *j = status < 0 ? emu_unavailable("unavailable: could not start vmm-lite")
			       : emulation_verdict(stats, status);
	unlink(stats);
	rmdir(dir);
	return j;
}
