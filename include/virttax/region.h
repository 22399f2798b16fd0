/*
 * Timed-region markers: the guest agent tells vmm-lite where each timed
 * interval of a workload starts and ends, so the VMM can account exactly the
 * exits, KVM statistics and vCPU-thread scheduling inside it.
 *
 * Why a device and not a log line: the VMM must snapshot its counters at the
 * moment the guest crosses the boundary, and only a VM exit stops the guest
 * there. One `outl` per marker, outside the measured interval (the workload
 * reads the TSC after the begin marker and before the end marker), carries
 * the guest-physical address of a small descriptor in guest RAM; the VMM
 * reads and checks it (the guest is untrusted: docs/VMM-LITE.md "Timed
 * regions"). The hosted runner implements the same wl_env hook with its own
 * thread's counters (harness/hosted_region.c), so both sides are accounted
 * the same way.
 */
#ifndef VIRTTAX_REGION_H
#define VIRTTAX_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VTX_REGION_PORT 0x4e0	     /* 4 ports; inl(+0) = VTX_REGION_MAGIC */
#define VTX_REGION_MAGIC 0x52585456u /* "VTXR" */
#define VTX_REGION_BEGIN 1u
#define VTX_REGION_END 2u
#define VTX_REGION_LABEL_MAX 48		 /* bytes, including the NUL */
#define VTX_REGION_NULL_LABEL "vtx.null" /* empty regions: the marker's own footprint */
#define VTX_REGION_NULL_COUNT 3		 /* how many the runtimes send before a workload */

/* What `outl(VTX_REGION_PORT, gpa)` points at: 64 bytes, 64-byte aligned, below 4 GiB. */
struct vtx_region_marker {
	uint32_t magic;			  /* VTX_REGION_MAGIC */
	uint32_t edge;			  /* VTX_REGION_BEGIN | VTX_REGION_END */
	uint64_t seq;			  /* +1 per marker sent by this vCPU, from 1 */
	char label[VTX_REGION_LABEL_MAX]; /* NUL-terminated */
};
_Static_assert(sizeof(struct vtx_region_marker) == 64, "marker ABI is 64 bytes");

static inline bool vtx_region_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '@' || c == '=' || c == '+' || c == '-';
}

/* true if label[0..cap) holds a NUL-terminated label of 1..VTX_REGION_LABEL_MAX-1
 * allowed characters. Reads at most min(cap, VTX_REGION_LABEL_MAX) bytes. */
static inline bool vtx_region_label_ok(const char *label, size_t cap)
{
	if (cap > VTX_REGION_LABEL_MAX)
		cap = VTX_REGION_LABEL_MAX;
	for (size_t i = 0; i < cap; i++) {
		if (!label[i])
			return i > 0;
		if (!vtx_region_label_char(label[i]))
			return false;
	}
	return false;
}

#endif
