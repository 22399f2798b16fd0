/*
 * perf event names -> perf_event_attr through libpfm4, and the helpers the
 * perf collector needs around perf_event_open (hardware probe, scaling).
 *
 * Why libpfm4: event names differ per PMU (Intel DTLB_LOAD_MISSES:WALK_ACTIVE
 * vs AMD table-walker events); libpfm4 knows every vendor's table and
 * resolves a name for the PMU it detects, so the collector names events
 * instead of hard-coding raw encodings. Which names to try is chosen from
 * the CPU vendor (CPUID), so an Intel name is never tried on AMD or the
 * reverse (unit tests use recorded CPUID values of both).
 */
#include <cpuid.h>
#include <errno.h>
#include <perfmon/pfmlib_perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "collectors/internal.h"

int perfev_init(char *why, size_t whylen)
{
	static int state; /* 0 not tried, 1 ok, <0 -errno */
	if (!state) {
		int rc = pfm_initialize();
		state = rc == PFM_SUCCESS ? 1 : -ENOTSUP;
	}
	if (state < 0)
		return coll_fail(why, whylen, -state, "unavailable: libpfm4 pfm_initialize failed");
	return 0;
}

int perfev_encode(const char *name, struct perf_event_attr *attr, char *why, size_t whylen)
{
	pfm_perf_encode_arg_t arg;
	int rc = perfev_init(why, whylen);
	if (rc)
		return rc;
	memset(attr, 0, sizeof(*attr));
	memset(&arg, 0, sizeof(arg));
	arg.attr = attr;
	arg.size = sizeof(arg);
	rc = pfm_get_os_event_encoding(name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
	if (rc != PFM_SUCCESS)
		return coll_fail(why, whylen, rc == PFM_ERR_NOTFOUND ? ENOENT : EINVAL, "%s: %s",
				 name, pfm_strerror(rc));
	attr->size = sizeof(*attr);
	return 0;
}

double perfev_scale(uint64_t value, uint64_t enabled, uint64_t running, bool *multiplexed)
{
	*multiplexed = running < enabled;
	if (!*multiplexed || running == 0)
		return running == 0 && enabled ? 0.0 : (double)value;
	return (double)value * ((double)enabled / (double)running);
}

int perfev_paranoid(void)
{
	int lvl = 2;
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	if (f) {
		if (fscanf(f, "%d", &lvl) != 1)
			lvl = 2;
		fclose(f);
	}
	return lvl;
}

int perfev_hw_probe(char *why, size_t whylen)
{
	struct perf_event_attr a = {
	    .type = PERF_TYPE_HARDWARE,
	    .size = sizeof(a),
	    .config = PERF_COUNT_HW_CPU_CYCLES,
	    .disabled = 1,
	    .exclude_kernel = 1,
	    .exclude_hv = 1,
	};
	int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	int e = errno;
	if (e == ENOENT || e == EOPNOTSUPP || e == ENODEV)
		return coll_fail(why, whylen, e,
				 "unavailable: no hardware PMU (cycles not supported)");
	if (e == EACCES || e == EPERM)
		return coll_fail(why, whylen, e,
				 "unavailable: perf_event_paranoid=%d without root/CAP_PERFMON",
				 perfev_paranoid());
	return coll_fail(why, whylen, e, "unavailable: perf_event_open(cycles): %s", strerror(e));
}

const char *const *perfev_walk_names(enum x86_vendor v)
{
	static const char *const intel[] = {
	    "DTLB_LOAD_MISSES:WALK_ACTIVE",   /* Skylake and later */
	    "DTLB_LOAD_MISSES:WALK_DURATION", /* Haswell/Broadwell */
	    NULL,
	};
	static const char *const amd[] = {
	    "LS_TABLEWALKER:DSIDE", /* Zen 1/2 */
	    "LS_TABLEWALKER",	    /* all table-walker activity */
	    NULL,
	};
	static const char *const none[] = {NULL};
	return v == X86_VENDOR_INTEL ? intel : x86_vendor_uses_vmmcall(v) ? amd : none;
}

enum x86_vendor perfev_host_vendor(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(0, &a, &b, &c, &d))
		return X86_VENDOR_OTHER;
	return x86_vendor_from_cpuid(b, c, d);
}
