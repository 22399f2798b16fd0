/*
 * The noisy neighbour of `virttax run --co-tenant` (harness/cotenant.c).
 */
#ifndef VIRTTAX_HARNESS_COTENANT_H
#define VIRTTAX_HARNESS_COTENANT_H
#include <stddef.h>
#include <sys/types.h>

/* "same-core" | "smt-sibling" | "other-core" | "off"; -EINVAL otherwise. */
int cotenant_mode_check(const char *mode);
/* Pick the CPU for `mode` next to `workload_cpu` (topology collector's plan).
 * 0 and *cpu; -ENOENT with why ("no SMT sibling", ...) when it cannot exist here. */
int cotenant_place(const char *mode, int workload_cpu, int *cpu, char *why, size_t len);
/* Fork the thrasher pinned to `cpu`: random 64-byte writes over `bytes` of
 * 4 KiB pages (cache and TLB pollution) until cotenant_stop(). */
int cotenant_start(int cpu, size_t bytes, pid_t *pid);
void cotenant_stop(pid_t pid);
#endif
