/*
 * A block device as the I/O workloads (blk-seq, blk-rand) see it.
 *
 * Why a separate header and not a wl_env member: only the guest agent has a
 * disk driver (virtio-blk or ATA-PIO); the hosted build has none and its
 * baseline is fio, run by the harness. workloads/blk_io.c defines a weak
 * wl_blk_get() returning NULL; the agent's guest-agent/virtio_blk.c defines
 * the real one.
 */
#ifndef VIRTTAX_WL_BLK_H
#define VIRTTAX_WL_BLK_H

#include <stdbool.h>
#include <stdint.h>

struct wl_blk {
	const char *driver;    /* "virtio-blk", "ata-pio" */
	uint64_t capacity;     /* bytes */
	uint32_t max_inflight; /* requests that may be outstanding at once */
	uint32_t max_bytes;    /* largest single request */
	/* Queue one request; buf must be identity-mapped guest RAM. 0 or -errno
	 * (-EAGAIN: no room, reap first). */
	int (*submit)(struct wl_blk *b, uint32_t tag, bool write, uint64_t off, void *buf,
		      uint32_t len);
	/* One completed request: 1 and *tag, *status (0 ok, else -errno), 0 when none yet. */
	int (*reap)(struct wl_blk *b, uint32_t *tag, int *status);
	void *priv;
};

/* The VM's disk, probed once; NULL when there is none (or on the host). */
struct wl_blk *wl_blk_get(void);

#endif
