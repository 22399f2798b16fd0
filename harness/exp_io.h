/*
 * What the two I/O experiments share (harness/exp_io.c): their series (the
 * native baseline plus one VM series per VMM and --io-technique, probed, each
 * unavailable with its reason where it cannot run), the per-I/O counters a
 * VM run adds as metrics (exits, notifications and interrupts per I/O, VMM
 * CPU per I/O, from the VMM's "io" stats), and the technique table.
 *
 * Why metrics: as metric records of the run they get medians, CIs and
 * overheads from the one summary, and report, compare and gate read them
 * like any other metric.
 */
#ifndef VIRTTAX_HARNESS_EXP_IO_H
#define VIRTTAX_HARNESS_EXP_IO_H

#include <stdbool.h>
#include <stdio.h>

#include "harness/experiment.h"

#define IO_DEFAULT_TECHNIQUE "virtio-eventfd"
#define IO_DEFAULT_MEM (512ull << 20)

/* native + each VMM x technique; nic: probe the NIC path, else the disk */
size_t io_series(struct session *s, bool nic, const char *native_why, struct series *out,
		 size_t max);
/* Adds exits/notifications/interrupts/VMM CPU per I/O ("frame" for a NIC)
 * from res->vmm_stats "io" to res's metrics; port_lo..port_hi are the
 * emulated device's ports whose exits the VMM handles (their time counts as
 * VMM CPU). Nothing when the VMM keeps no per-device counters. */
void io_add_metrics(struct run_result *res, const char *unit, unsigned port_lo, unsigned port_hi);
/* The technique table of experiment `exp` from results.json. */
void io_print(FILE *out, json_t *results, const char *exp, const char *native_label);

#endif
