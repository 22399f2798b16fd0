/*
 * The measured inner kernels of the workloads, exposed for unit tests.
 *
 * Why: tests must check that the kernels compute the right thing (a single
 * chase cycle, correct STREAM arrays, deterministic chains) without running
 * the time-bounded workload around them. Freestanding like the workloads.
 */
#ifndef VIRTTAX_WL_KERNELS_H
#define VIRTTAX_WL_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* cpu_int.c: n dependent integer steps from state x; i runs first..first+n-1 */
uint64_t wl_cpu_int_block(uint64_t x, uint64_t first, uint64_t n);

/* cpu_fp.c: n steps of CPU_FP_CHAINS independent chains x = x*a + b */
#define CPU_FP_CHAINS 4
#define CPU_FP_FLOPS_PER_ITER (2 * CPU_FP_CHAINS)
void wl_cpu_fp_block(double x[CPU_FP_CHAINS], uint64_t n);

/* mem_chase.c: link `lines` cache lines at `base` into one random cycle
 * (Sattolo); the first 8 bytes of each line point to the next line. */
#define CHASE_LINE 64
void wl_chase_build(void *base, size_t lines, uint64_t seed);
/* Follow `steps` pointers from p; returns where it ended. */
void *wl_chase_walk(void *p, uint64_t steps);

/* mem_stream.c: the four STREAM kernels over n doubles */
void wl_stream_copy(double *restrict c, const double *restrict a, size_t n);
void wl_stream_scale(double *restrict b, const double *restrict c, double s, size_t n);
void wl_stream_add(double *restrict c, const double *restrict a, const double *restrict b,
		   size_t n);
void wl_stream_triad(double *restrict a, const double *restrict b, const double *restrict c,
		     double s, size_t n);

#endif
