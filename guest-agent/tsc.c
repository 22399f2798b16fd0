/*
 * The TSC frequency, from the best source available.
 *
 * Why: workloads convert TSC ticks to time with env->tsc_hz, so a wrong
 * frequency silently scales every result. Order: the host's measurement on
 * the command line (tsc_khz=, cross-checked against PVM's MSR), PVM's MSR,
 * CPUID (0x15 crystal ratio, the hypervisor timing leaf 0x40000010, 0x16
 * base frequency), and last a calibration against PIT channel 2.
 * vtx.tsc=SOURCE makes the agent use that one source only (or fail), so
 * tests can prove each fallback works where users need it: vmm-lite's
 * timing leaf and its PIT on VT-x/AMD-V, QEMU's tsc-frequency leaf.
 */
#include "guest-agent/agent.h"
#include "virttax/protocol.h"

#define PIT_HZ 1193182ull
#define PIT_CAL_MS 50 /* per window: the 16-bit count holds up to 54.9 ms */
#define PIT_TRIES 10
#define PIT_PORT_CH2 0x42
#define PIT_PORT_CMD 0x43
#define PORT_B 0x61
#define PIT_TIMEOUT_TICKS 2000000000ull
#define KHZ_MIN 100000ull   /* 100 MHz */
#define KHZ_MAX 20000000ull /* 20 GHz */

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	uint32_t r[4];
	ag_cpuid(leaf, 0, r);
	*a = r[0], *b = r[1], *c = r[2], *d = r[3];
}

static uint64_t khz_from_cpuid(void)
{
	uint32_t a, b, c, d, max;
	cpuid(0, &max, &b, &c, &d);
	if (max >= 0x15) {
		cpuid(0x15, &a, &b, &c, &d);
		if (a && b && c)
			return (uint64_t)c * b / a / 1000;
	}
	cpuid(1, &a, &b, &c, &d);
	if (c & (1u << 31)) { /* hypervisor present */
		uint32_t hmax;
		cpuid(0x40000000, &hmax, &b, &c, &d);
		if (hmax >= 0x40000010 && hmax < 0x40000100) {
			cpuid(0x40000010, &a, &b, &c, &d);
			if (a)
				return a;
		}
	}
	if (max >= 0x16) {
		cpuid(0x16, &a, &b, &c, &d);
		if (a)
			return (uint64_t)a * 1000;
	}
	return 0;
}

/* One window of PIT channel 2 in mode 0: the TSC ticks it took, bracketed.
 * Each port access is a VM exit whose return the host may delay, so the
 * start is known within [*lo0, *hi0] and the end within the last two polls.
 * 0 when the gate never opened (no port 0x61) or OUT never rose. */
static uint64_t pit_window(uint64_t count, uint64_t *uncertainty)
{
	uint8_t b = ag_inb(PORT_B);
	if (b == 0xff)
		return 0;				/* no port 0x61: no PIT */
	ag_outb(PORT_B, (uint8_t)((b & ~0x02) | 0x01)); /* gate on, speaker off */
	ag_outb(PIT_PORT_CMD, 0xb0);			/* ch2, lo/hi, mode 0 */
	ag_outb(PIT_PORT_CH2, (uint8_t)count);
	uint64_t lo0 = ag_rdtsc();
	ag_outb(PIT_PORT_CH2, (uint8_t)(count >> 8)); /* the count starts here */
	uint64_t hi0 = ag_rdtsc(), last = hi0, now = hi0;
	while (!(ag_inb(PORT_B) & 0x20)) {
		last = now;
		now = ag_rdtsc();
		if (now - lo0 > PIT_TIMEOUT_TICKS)
			return 0;
	}
	now = ag_rdtsc();
	*uncertainty = (hi0 - lo0) + (now - last);
	return (last + now) / 2 - (lo0 + hi0) / 2;
}

/* The best of up to PIT_TRIES windows: the one whose edges are known most
 * tightly (a host that descheduled the vCPU during a poll only widens that
 * window). No answer when even the best is known only within 2 % (the
 * midpoint within 1 %; a port exit costs 25 us on PVM, up to 300 us under
 * emulation): on a host that busy, a wrong rate would scale every result. */
static uint64_t khz_from_pit(void)
{
	uint64_t count = PIT_HZ * PIT_CAL_MS / 1000, best = 0, best_u = UINT64_MAX;
	for (int i = 0; i < PIT_TRIES; i++) {
		uint64_t u = 0, t = pit_window(count, &u);
		if (!t)
			return 0;
		if (u < best_u)
			best = t, best_u = u;
		if (best_u * 500 < best) /* edges known within 0.2 %: the midpoint within 0.1 % */
			break;
	}
	return best_u * 50 < best ? best * PIT_HZ / count / 1000 : 0;
}

static bool plausible(uint64_t khz)
{
	return khz >= KHZ_MIN && khz <= KHZ_MAX;
}

static uint64_t khz_from_pvm(bool pvm)
{
	uint64_t khz = 0;
	if (!pvm || ag_rdmsr_safe(PVM_MSR_TSC_KHZ, &khz))
		return 0;
	return khz;
}

static uint64_t khz_from_cmdline(uint64_t cmdline_khz, bool pvm)
{
	(void)pvm;
	return cmdline_khz;
}

static uint64_t khz_from_cpuid_src(uint64_t cmdline_khz, bool pvm)
{
	(void)cmdline_khz, (void)pvm;
	return khz_from_cpuid();
}

static uint64_t khz_from_pit_src(uint64_t cmdline_khz, bool pvm)
{
	(void)cmdline_khz, (void)pvm;
	return khz_from_pit();
}

static uint64_t khz_from_pvm_src(uint64_t cmdline_khz, bool pvm)
{
	(void)cmdline_khz;
	return khz_from_pvm(pvm);
}

/* in order of preference; the names are the hello record's tsc_src */
static const struct {
	const char *name;
	uint64_t (*khz)(uint64_t cmdline_khz, bool pvm);
} sources[] = {
    {"cmdline", khz_from_cmdline},
    {"pvm-msr", khz_from_pvm_src},
    {"cpuid", khz_from_cpuid_src},
    {"pit", khz_from_pit_src},
};

int ag_tsc_init(uint64_t cmdline_khz, bool pvm, const char *only, struct ag_tsc *out)
{
	uint64_t pvm_khz = khz_from_pvm(pvm);
	for (unsigned i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		if (only && !ag_streq(only, "auto") && !ag_streq(only, sources[i].name))
			continue;
		uint64_t khz = sources[i].khz(cmdline_khz, pvm);
		/* the host's figure is taken as given; the guest's own must be plausible */
		if (i == 0 ? khz != 0 : plausible(khz)) {
			*out = (struct ag_tsc){khz, sources[i].name, pvm_khz};
			return 0;
		}
	}
	return -AG_EIO;
}
