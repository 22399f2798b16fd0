/*
 * `virttax run --mem-limit SIZE` (harness/mem_pressure.c): every run in a
 * fresh memory cgroup, unlimited and limited, bare and VM.
 */
#ifndef VIRTTAX_HARNESS_MEM_PRESSURE_H
#define VIRTTAX_HARNESS_MEM_PRESSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool mem_pressure_wanted(int argc, char **argv);
int cmd_mem_pressure(int argc, char **argv);
/* Removes --mem-limit SIZE / --mem-limit=SIZE from argv: 0, 1 when absent,
 * -EINVAL for a missing or bad SIZE (< 1M). */
int mem_pressure_take_flag(int *argc, char **argv, uint64_t *limit, char *text, size_t len);

#endif
