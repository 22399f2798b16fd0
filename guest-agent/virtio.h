/*
 * The agent's I/O drivers: virtio-mmio discovery, a split virtqueue driver,
 * virtio-blk, the ATA-PIO disk, and the virtq-bad selftest.
 *
 * Why a header of its own: the drivers are self-contained (files
 * guest-agent/virtio_*.c, ata_pio.c) and hook into the agent through three
 * functions only: the raw command line (for virtio_mmio.device=), an MMIO
 * mapping, and wl_blk_get() (include/virttax/wl_blk.h).
 */
#ifndef VIRTTAX_GUEST_VIRTIO_H
#define VIRTTAX_GUEST_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "virttax/wl_blk.h"

/* main.c: the unparsed command line; paging.c: map [pa, pa+len) uncached */
const char *ag_cmdline_raw(void);
int ag_paging_map_mmio(uint64_t pa, uint64_t len);

struct ag_vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct ag_vq {
	uint16_t size;
	volatile struct ag_vring_desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
	volatile uint8_t *used;	  /* flags, idx, {id,len}[size], avail_event */
	uint16_t avail_idx, last_used, kicked_idx;
	bool event_idx;
	uint16_t free_head, nfree;
};

struct ag_vdev {
	volatile uint8_t *regs;
	uint64_t base;
	uint32_t irq, device_id;
	uint64_t features; /* negotiated */
	struct ag_vq vq;   /* queue 0 */
	struct ag_vq vq1;  /* queue 1 of a two-queue device (virtio-net tx) */
	uint64_t kicks;
};

/* virtio_mmio.c: find the transport of `device_id` announced on the command
 * line and bring it up with one queue of up to `qsize` entries. */
int ag_virtio_probe(uint32_t device_id, uint64_t want_features, uint16_t qsize, struct ag_vdev *d);
uint32_t ag_virtio_cfg32(struct ag_vdev *d, uint32_t off);
/* The same with `nq` (1 or 2) queues: queue 1 in d->vq1. */
int ag_virtio_probe_nq(uint32_t device_id, uint64_t want_features, uint16_t qsize, unsigned nq,
		       struct ag_vdev *d);
/* Publish avail entries added since the last call; kick when the device asks. */
void ag_virtio_publish(struct ag_vdev *d, uint16_t head);
/* Next used element: 1 and id/len, 0 when none. */
int ag_virtio_used(struct ag_vdev *d, uint32_t *id, uint32_t *len);
/* Per queue (index qi = 0 or 1) */
void ag_virtq_publish(struct ag_vdev *d, struct ag_vq *q, uint16_t qi, uint16_t head);
int ag_virtq_used(struct ag_vq *q, uint32_t *id, uint32_t *len);

/* ata_pio.c */
struct wl_blk *ag_ata_probe(void);
/* legacy_nic.c: the emulated NIC at ports 0x300-0x31f, NULL when absent */
struct wl_net;
struct wl_net *ag_legacy_nic_probe(void);

/* virtio_balloon.c: inflate to the device's target before the workload runs
 * (0 also when no balloon is announced) */
int ag_balloon_inflate(uint64_t tsc_hz);

/* virtio_blk.c: vtx.selftest=virtq-bad */
__attribute__((noreturn)) void ag_selftest_virtq_bad(void);

#endif
