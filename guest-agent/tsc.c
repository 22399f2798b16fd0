/*
 * The TSC frequency, from the best source available.
 *
 * Why: workloads convert TSC ticks to time with env->tsc_hz, so a wrong
 * frequency silently scales every result. Order: the host's measurement on
 * the command line (tsc_khz=, cross-checked against PVM's MSR), PVM's MSR,
 * CPUID (0x15 crystal ratio, the hypervisor timing leaf 0x40000010, 0x16
 * base frequency), and last a calibration against PIT channel 2.
 */
#include "guest-agent/agent.h"
#include "virttax/protocol.h"

#define PIT_HZ 1193182ull
#define PIT_CAL_MS 50
#define PIT_PORT_CH2 0x42
#define PIT_PORT_CMD 0x43
#define PORT_B 0x61
#define PIT_TIMEOUT_TICKS 2000000000ull
#define KHZ_MIN 100000ull   /* 100 MHz */
#define KHZ_MAX 20000000ull /* 20 GHz */

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
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

static uint64_t khz_from_pit(void)
{
	uint8_t b = ag_inb(PORT_B);
	if (b == 0xff)
		return 0;				/* no port 0x61: no PIT */
	ag_outb(PORT_B, (uint8_t)((b & ~0x02) | 0x01)); /* gate on, speaker off */
	ag_outb(PIT_PORT_CMD, 0xb0);			/* ch2, lo/hi, mode 0 */
	uint64_t count = PIT_HZ * PIT_CAL_MS / 1000;
	ag_outb(PIT_PORT_CH2, (uint8_t)count);
	ag_outb(PIT_PORT_CH2, (uint8_t)(count >> 8));
	uint64_t t0 = ag_rdtsc(), t1 = t0;
	while (!(ag_inb(PORT_B) & 0x20)) {
		t1 = ag_rdtsc();
		if (t1 - t0 > PIT_TIMEOUT_TICKS)
			return 0;
	}
	t1 = ag_rdtsc();
	return (t1 - t0) * PIT_HZ / count / 1000;
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

int ag_tsc_init(uint64_t cmdline_khz, bool pvm, struct ag_tsc *out)
{
	uint64_t khz;
	out->pvm_khz = khz_from_pvm(pvm);
	if (cmdline_khz) {
		*out = (struct ag_tsc){cmdline_khz, "cmdline", out->pvm_khz};
		return 0;
	}
	if (plausible(out->pvm_khz)) {
		*out = (struct ag_tsc){out->pvm_khz, "pvm-msr", out->pvm_khz};
		return 0;
	}
	khz = khz_from_cpuid();
	if (plausible(khz)) {
		*out = (struct ag_tsc){khz, "cpuid", out->pvm_khz};
		return 0;
	}
	khz = khz_from_pit();
	if (plausible(khz)) {
		*out = (struct ag_tsc){khz, "pit", out->pvm_khz};
		return 0;
	}
	return -AG_EIO;
}
