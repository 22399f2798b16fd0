/*
 * Host TSC frequency, measured against CLOCK_MONOTONIC_RAW.
 *
 * Why measure: the kernel does not export its calibrated tsc_khz to user
 * space on this platform, and the value must not be assumed. Every sample
 * brackets rdtsc between two clock reads and keeps the tightest bracket, so
 * a preemption during a read cannot skew the result.
 */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "core/tsc.h"

#define TSC_SAMPLE_TRIES 16

static uint64_t clock_raw_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One (ns, tsc) pair: the tsc read with the smallest clock bracket. */
static void tsc_sample(uint64_t *ns, uint64_t *tsc)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < TSC_SAMPLE_TRIES; i++) {
		uint64_t a = clock_raw_ns();
		uint64_t t = tsc_read();
		uint64_t b = clock_raw_ns();
		if (b - a < best) {
			best = b - a;
			*ns = a + (b - a) / 2;
			*tsc = t;
		}
	}
}

int tsc_measure_hz(unsigned window_ms, uint64_t *hz)
{
	if (window_ms == 0)
		return -EINVAL;
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC_RAW, &ts))
		return -errno;
	uint64_t ns0, tsc0, ns1, tsc1;
	tsc_sample(&ns0, &tsc0);
	struct timespec nap = {.tv_sec = window_ms / 1000,
			       .tv_nsec = (window_ms % 1000) * 1000000L};
	while (nanosleep(&nap, &nap) && errno == EINTR)
		;
	tsc_sample(&ns1, &tsc1);
	if (ns1 <= ns0 || tsc1 <= tsc0)
		return -EIO; /* TSC not monotonic across the window */
	*hz = (uint64_t)((double)(tsc1 - tsc0) * 1e9 / (double)(ns1 - ns0) + 0.5);
	return 0;
}
