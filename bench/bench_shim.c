/*
 * What the Python benchmark scripts under bench/ need from C: the host TSC
 * (the clock of the guests' tsc_entry) and the project's one statistics
 * library (core/stats.c), loaded with ctypes from build/bench/libbench.so.
 *
 * Why not Python's own: a second implementation of the statistics would be a
 * second answer to the same question, and Python has no TSC.
 */
#include <stdint.h>

uint64_t bench_rdtsc(void);

uint64_t bench_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}
