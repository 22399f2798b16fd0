/*
 * vmm-lite's I/O path: split virtqueues, the virtio-mmio transport, the
 * virtio-blk and ATA-PIO disks, and the I/O techniques that connect them.
 *
 * Why a header of its own: the virtqueue code is pure (guest memory comes in
 * through a translate callback) so the unit tests and the libFuzzer target
 * (tests/fuzz/fuzz_virtq.c) drive it on a plain buffer; the devices and the
 * technique plumbing (ioeventfd, irqfd, poll thread) are kept out of vmm.h so
 * that the core VMM stays readable. Everything a guest writes is untrusted.
 */
#ifndef VMM_LITE_VIRTIO_H
#define VMM_LITE_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* ---- split virtqueue (virtq.c), virtio 1.2 section 2.7 ---- */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTQ_MAX_SIZE 1024	   /* largest queue we offer (QueueNumMax) */
#define VIRTQ_MAX_SEGS 256	   /* descriptors in one chain, direct + indirect */
#define VIRTQ_MAX_TOTAL (8u << 20) /* bytes one request may describe */

/* Guest memory as the virtqueue sees it: a host pointer for [gpa, gpa+len)
 * only when the whole range is guest RAM, else NULL. */
struct vq_mem {
	void *(*translate)(void *ctx, uint64_t gpa, uint64_t len);
	void *ctx;
};
/* a flat buffer at GPA 0 (tests, fuzzer) */
struct vq_flat {
	uint8_t *buf;
	uint64_t size;
};
void *vq_flat_translate(void *ctx, uint64_t gpa, uint64_t len);

struct virtq {
	uint16_t size; /* QueueNum: power of two, 1..VIRTQ_MAX_SIZE */
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx, indirect; /* negotiated features */
	struct vq_mem mem;
	uint64_t max_total; /* per-request byte cap, 0: VIRTQ_MAX_TOTAL */
	/* device state */
	uint16_t last_avail; /* next avail ring slot to consume */
	uint16_t used_idx;   /* our copy of used->idx */
	uint16_t signalled_used;
	bool signalled_valid;
	uint64_t errors; /* bad chains seen */
	/* host pointers, valid once virtq_enable() succeeded */
	uint8_t *desc, *avail, *used;
};

struct vq_seg {
	uint8_t *base; /* host pointer, bounds-checked */
	uint32_t len;
	bool write; /* device writes (driver "in" buffer) */
};
struct vq_req {
	uint16_t head;
	uint32_t nseg;
	uint32_t nout; /* device-readable segments come first */
	uint64_t out_bytes, in_bytes;
	struct vq_seg seg[VIRTQ_MAX_SEGS];
};

enum vq_pop_result {
	VQ_EMPTY = 0,
	VQ_GOT = 1,
	VQ_BAD_CHAIN = 2, /* r->head is valid: complete it with virtq_push(len 0) */
	VQ_BAD_HEAD = 3,  /* the avail entry itself is out of range: dropped */
};

/* Check and map the three rings; -EINVAL for a bad size, address, or alignment. */
int virtq_enable(struct virtq *q);
void virtq_reset(struct virtq *q);
/* Take the next available chain. Never reads outside guest RAM, never loops.
 * Returns enum vq_pop_result, with `why` naming the problem for BAD_*. */
int virtq_pop(struct virtq *q, struct vq_req *r, const char **why);
/* Put `head` in the used ring with `len` written bytes. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* After pushes: must the driver be interrupted? (flags or used_event) */
bool virtq_should_notify(struct virtq *q);
/* Driver-notification suppression: ask for kicks (true) or not. */
void virtq_set_notify(struct virtq *q, bool want_kicks);
bool virtq_has_avail(const struct virtq *q);
/* Copy helpers over a chain's segments (bounded by the segments). */
size_t vq_copy_from(const struct vq_req *r, size_t off, void *dst, size_t len);
size_t vq_copy_to(const struct vq_req *r, size_t off, const void *src, size_t len);

#endif
