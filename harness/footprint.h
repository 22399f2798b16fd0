/*
 * A VMM's own memory cost: RSS and PSS of the VMM process minus the guest RAM
 * it touched, from /proc/PID/smaps_rollup and /proc/PID/smaps.
 *
 * Why subtract by mapping: what a VMM costs per VM is everything it keeps
 * besides the guest's memory (its binary, libraries, heap, thread stacks,
 * device state). The guest RAM is one anonymous mapping of (at least) the
 * guest's size; its Rss/Pss is the guest's, not the VMM's. Parsers are pure
 * functions over the file text so that tests can feed canned files.
 */
#ifndef VIRTTAX_HARNESS_FOOTPRINT_H
#define VIRTTAX_HARNESS_FOOTPRINT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct fp_mem {
	uint64_t rss_kib, pss_kib;
};

struct fp_mapping {
	uint64_t start, end; /* [start, end) */
	struct fp_mem mem;
};

/* "Rss:" and "Pss:" of a smaps_rollup text. 0, or -EINVAL when either is missing. */
int footprint_parse_rollup(const char *text, struct fp_mem *out);
/* The guest RAM mapping in a smaps text: the smallest mapping of at least
 * guest_bytes (ties: the one with more Rss). 0, -ENOENT when there is none,
 * -EINVAL on a malformed header. */
int footprint_parse_smaps(const char *text, uint64_t guest_bytes, struct fp_mapping *out);
/* Both files of a live process, as
 * {"rss_kib","pss_kib","guest_rss_kib","guest_pss_kib","overhead_rss_kib",
 *  "overhead_pss_kib","guest_mapping_bytes"}. 0 or -errno. */
int footprint_measure(pid_t pid, uint64_t guest_bytes, json_t **out);

/* The `virttax footprint` table from footprint.json's "configs" array: each
 * number as median ±95% CI half-width with n; ratio rows with their CIs. */
void footprint_print_table(FILE *f, json_t *configs);

#endif
