/*
 * The hang fuzz_virtio_mmio_blk found (issue 16 campaign): with the used ring
 * placed on the avail ring, every completion wrote used->idx over avail->idx,
 * which stayed ahead of the device's position, and the vCPU thread served
 * the queue for ever. virtq_enable now refuses rings that overlap, and a
 * serving round is bounded by a budget of pops.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "vmm-lite/virtio.h"

#define MEM 0x10000
#define QSZ 8

static uint8_t mem[MEM];
static struct vq_flat flat = {.buf = mem, .size = MEM};

static int enable(struct virtq *q, uint16_t size, uint64_t d, uint64_t a, uint64_t u)
{
	memset(q, 0, sizeof(*q));
	q->mem = (struct vq_mem){.translate = vq_flat_translate, .ctx = &flat};
	q->size = size;
	q->desc_gpa = d;
	q->avail_gpa = a;
	q->used_gpa = u;
	return virtq_enable(q);
}

Test(virtq_rings, overlapping_rings_are_refused)
{
	struct virtq q;

	cr_assert_eq(enable(&q, QSZ, 0x1000, 0x2000, 0x2000), -EINVAL, "used on avail");
	cr_assert_eq(enable(&q, QSZ, 0x1000, 0x2000, 0x2010), -EINVAL, "used inside avail");
	cr_assert_eq(enable(&q, QSZ, 0x1000, 0x1070, 0x3000), -EINVAL, "avail in desc");
	cr_assert_eq(enable(&q, QSZ, 0x1000, 0x3000, 0x1040), -EINVAL, "used in desc");
	cr_assert_eq(enable(&q, 1024, 0x1000, 0x4ff8, 0x6000), -EINVAL, "desc end on avail");
	cr_assert_null(q.desc);
	cr_assert_not(q.ready);
	/* touching but disjoint: fine */
	cr_assert_eq(enable(&q, QSZ, 0x1000, 0x1080, 0x1080 + 6 + 2 * QSZ + 2), 0);
	cr_assert(q.ready);
}

Test(virtq_rings, a_budget_ends_a_serving_round)
{
	struct virtq q;
	struct vq_req r;
	const char *why;
	uint16_t idx = 5;

	memset(mem, 0, sizeof(mem));
	cr_assert_eq(enable(&q, QSZ, 0x1000, 0x2000, 0x3000), 0);
	memcpy(mem + 0x2002, &idx, 2); /* five zero-length chains at head 0 */
	virtq_budget(&q, 3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(virtq_pop(&q, &r, &why), VQ_GOT);
	cr_assert_eq(virtq_pop(&q, &r, &why), VQ_EMPTY, "past the budget");
	cr_assert(virtq_budget_spent(&q));
	cr_assert(virtq_has_avail(&q), "the rest is still there for the next round");
	virtq_budget(&q, 0); /* no limit */
	cr_assert_not(virtq_budget_spent(&q));
	cr_assert_eq(virtq_pop(&q, &r, &why), VQ_GOT);
	cr_assert_eq(virtq_pop(&q, &r, &why), VQ_GOT);
	cr_assert_eq(virtq_pop(&q, &r, &why), VQ_EMPTY);
}
