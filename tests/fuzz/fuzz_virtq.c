/*
 * libFuzzer target for the split virtqueue (vmm-lite/virtq.c).
 *
 * Why: the rings are written by an untrusted guest. The fuzzer fills a small
 * guest memory with arbitrary bytes (descriptor table, avail ring, indirect
 * tables, lengths up to 4 GiB) and lets the device side pop, copy and push
 * until the ring is drained; ASan/UBSan catch any read or write outside the
 * buffer, and the step bound catches a walk that does not terminate.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm-lite/virtio.h"

#define MEM 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t mem[MEM];
	static struct vq_req req;
	struct vq_flat flat = {.buf = mem, .size = MEM};
	struct virtq q = {.mem = {.translate = vq_flat_translate, .ctx = &flat}};
	uint8_t scratch[64];
	const char *why;

	if (size < 8)
		return 0;
	/* header: queue size, ring addresses, features */
	q.size = (uint16_t)(1u << (data[0] % 6)); /* 1..32 */
	q.desc_gpa = (uint64_t)(data[1] % 32) * 256;
	q.avail_gpa = (uint64_t)(data[2] % 64) * 128 + (data[5] & 2);
	q.used_gpa = (uint64_t)(data[3] % 64) * 128;
	q.indirect = data[4] & 1;
	q.event_idx = data[4] & 2;
	q.max_total = (data[4] & 4) ? 4096 : 0;
	memset(mem, 0, sizeof(mem));
	memcpy(mem, data + 8, size - 8 < MEM ? size - 8 : MEM);
	if (virtq_enable(&q))
		return 0;
	for (int steps = 0; steps < 64; steps++) {
		int r = virtq_pop(&q, &req, &why);

		if (r == VQ_EMPTY)
			break;
		if (r == VQ_GOT) {
			if (req.nseg > VIRTQ_MAX_SEGS ||
			    req.out_bytes + req.in_bytes > VIRTQ_MAX_TOTAL)
				abort();
			vq_copy_from(&req, 0, scratch, sizeof(scratch));
			vq_copy_to(&req, 1, scratch, sizeof(scratch));
			virtq_push(&q, req.head, (uint32_t)req.in_bytes);
		} else if (r == VQ_BAD_CHAIN) {
			if (!why)
				abort();
			virtq_push(&q, req.head, 0);
		}
		virtq_should_notify(&q);
		virtq_set_notify(&q, data[6] & 1);
	}
	return 0;
}
