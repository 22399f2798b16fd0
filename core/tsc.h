/*
 * The host's TSC: reading it, and measuring its frequency.
 *
 * Why in core/: the session passes the measured rate to every guest
 * (tsc_khz=), the bare-metal runner times workloads with it, the environment
 * report prints it and the footprint experiment converts the agent's entry
 * TSC with it. One measurement routine for all of them, below every layer.
 */
#ifndef VIRTTAX_CORE_TSC_H
#define VIRTTAX_CORE_TSC_H

#include <stdint.h>

/* lfence; rdtsc (QEMU's default CPU model has no RDTSCP). */
static inline uint64_t tsc_read(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/* Measure the TSC frequency against CLOCK_MONOTONIC_RAW over `window_ms`
 * milliseconds (50-100 is plenty: the error is ~100 ns / window). Nothing is
 * cached. 0 or -errno (-EINVAL for a zero window, -EIO when the TSC did not
 * advance across the window). */
int tsc_measure_hz(unsigned window_ms, uint64_t *hz);

#endif
