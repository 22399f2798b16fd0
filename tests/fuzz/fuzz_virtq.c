/*
 * libFuzzer target for the split virtqueue (vmm-lite/virtq.c).
 *
 * Why: the rings are written by an untrusted guest. An input is a 16-byte
 * header (queue size 1..1024, ring addresses, negotiated features, byte cap)
 * followed by the guest memory image: up to MEM bytes, enough for a
 * 1024-entry descriptor table, avail and used rings and indirect tables, so
 * every byte of the ring memory is reachable (run with -max_len=MEM+16).
 * The device side pops, copies and pushes until the ring is drained or 64
 * steps; ASan/UBSan catch any access outside the buffer (guard pages around
 * it), the step bound catches a walk that does not end, and the checks below
 * catch a request larger than the caps. Nothing is kept between inputs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm-lite/virtio.h"

#define MEM (32u << 10)
#define HDR 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *guest_mem(void)
{
	static uint8_t *mem;

	if (!mem) { /* a PROT_NONE page on each side */
		uint8_t *m = mmap(NULL, MEM + 8192, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED || mprotect(m, 4096, PROT_NONE) ||
		    mprotect(m + 4096 + MEM, 4096, PROT_NONE))
			abort();
		mem = m + 4096;
	}
	return mem;
}

static uint64_t addr(const uint8_t *p, unsigned align)
{
	return ((uint64_t)p[0] | (uint64_t)p[1] << 8) % MEM & ~(uint64_t)(align - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vq_req req;
	uint8_t *mem = guest_mem();
	struct vq_flat flat = {.buf = mem, .size = MEM};
	struct virtq q = {.mem = {.translate = vq_flat_translate, .ctx = &flat}};
	uint8_t scratch[64];
	const char *why;

	if (size < HDR)
		return 0;
	q.size = (uint16_t)(1u << (data[0] % 11)); /* 1..1024 */
	q.desc_gpa = addr(data + 1, 16);
	q.avail_gpa = addr(data + 3, 2);
	q.used_gpa = addr(data + 5, 4);
	if (data[7] & 8) /* sometimes misaligned: must be refused */
		q.desc_gpa |= data[7] >> 4;
	q.indirect = data[8] & 1;
	q.event_idx = data[8] & 2;
	q.max_total = (data[8] & 4) ? 4096 : 0;
	memset(mem, 0, MEM);
	memcpy(mem, data + HDR, size - HDR < MEM ? size - HDR : MEM);
	if (virtq_enable(&q))
		return 0;
	for (int steps = 0; steps < 64; steps++) {
		int r = virtq_pop(&q, &req, &why);

		if (r == VQ_EMPTY)
			break;
		if (r == VQ_GOT) {
			if (req.nseg > VIRTQ_MAX_SEGS ||
			    req.out_bytes + req.in_bytes >
				(q.max_total ? q.max_total : VIRTQ_MAX_TOTAL))
				abort();
			vq_copy_from(&req, 0, scratch, sizeof(scratch));
			vq_copy_to(&req, 1, scratch, sizeof(scratch));
			virtq_push(&q, req.head, (uint32_t)req.in_bytes);
		} else if (r == VQ_BAD_CHAIN) {
			if (!why)
				abort();
			virtq_push(&q, req.head, 0);
		} else if (r == VQ_BAD_HEAD && !why) {
			abort();
		}
		virtq_should_notify(&q);
		virtq_set_notify(&q, data[9] & 1);
	}
	return 0;
}
