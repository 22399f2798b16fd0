/*
 * Unit tests of the split virtqueue (vmm-lite/virtq.c) against a hostile
 * driver: descriptors outside memory, loops, 4 GiB lengths, indices out of
 * range, nested indirect tables. Each bad request must fail alone and the
 * queue must keep serving the next, good one.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vmm-lite/virtio.h"

#define MEM 0x10000
#define QSZ 8
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define DATA 0x4000

static uint8_t mem[MEM];
static struct vq_flat flat = {.buf = mem, .size = MEM};
static struct virtq q;
static struct vq_req req;

static void setup(void)
{
	memset(mem, 0, sizeof(mem));
	memset(&q, 0, sizeof(q));
	q.mem = (struct vq_mem){.translate = vq_flat_translate, .ctx = &flat};
	q.size = QSZ;
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	q.indirect = true;
	q.event_idx = true;
	cr_assert_eq(virtq_enable(&q), 0);
}

static void desc(uint64_t base, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	uint8_t *d = mem + base + 16u * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void post(uint16_t head)
{
	uint16_t idx;
	memcpy(&idx, mem + AVAIL + 2, 2);
	memcpy(mem + AVAIL + 4 + 2 * (idx % QSZ), &head, 2);
	idx++;
	memcpy(mem + AVAIL + 2, &idx, 2);
}

static uint16_t used_idx(void)
{
	uint16_t v;
	memcpy(&v, mem + USED + 2, 2);
	return v;
}

static int pop(const char **why)
{
	return virtq_pop(&q, &req, why);
}

/* a good 3-descriptor blk-like request: header, data, status */
static void post_good(uint16_t head)
{
	desc(DESC, head, DATA, 16, VIRTQ_DESC_F_NEXT, (uint16_t)((head + 1) % QSZ));
	desc(DESC, (head + 1) % QSZ, DATA + 0x100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE,
	     (uint16_t)((head + 2) % QSZ));
	desc(DESC, (head + 2) % QSZ, DATA + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	post(head);
}

static void assert_good_after(void)
{
	const char *why;
	post_good(4);
	cr_assert_eq(pop(&why), VQ_GOT, "queue no longer serves after a bad request");
	cr_assert_eq(req.head, 4);
	cr_assert_eq(req.nseg, 3);
	cr_assert_eq(req.out_bytes, 16);
	cr_assert_eq(req.in_bytes, 513);
}

Test(virtq, good_chain_and_used_ring, .init = setup)
{
	const char *why;
	cr_assert_eq(pop(&why), VQ_EMPTY);
	post_good(0);
	cr_assert_eq(pop(&why), VQ_GOT);
	cr_assert_eq(req.nout, 1);
	cr_assert_eq(req.seg[0].base, mem + DATA);
	cr_assert(req.seg[1].write);
	virtq_push(&q, req.head, 513);
	cr_assert_eq(used_idx(), 1);
	uint32_t id, len;
	memcpy(&id, mem + USED + 4, 4);
	memcpy(&len, mem + USED + 8, 4);
	cr_assert_eq(id, 0);
	cr_assert_eq(len, 513);
	cr_assert_eq(pop(&why), VQ_EMPTY);
}

Test(virtq, descriptor_outside_memory, .init = setup)
{
	const char *why;
	desc(DESC, 0, MEM - 8, 16, 0, 0); /* straddles the end */
	post(0);
	cr_assert_eq(pop(&why), VQ_BAD_CHAIN);
	cr_assert_str_eq(why, "descriptor outside guest RAM");
	cr_assert_eq(req.head, 0);
	desc(DESC, 0, 0xfffffffffffff000ull, 0x2000, 0, 0); /* wraps around */
	post(0);
	cr_assert_eq(pop(&why), VQ_BAD_CHAIN);
	cr_assert_eq(q.errors, 2);
	assert_good_after();
}

Test(virtq, descriptor_loop, .init = setup)
{
	const char *why;
	desc(DESC, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
	post(0);
	cr_assert_eq(pop(&why), VQ_BAD_CHAIN);
	cr_assert(strstr(why, "loop"), "%s", why);
	desc(DESC, 2, DATA, 16, VIRTQ_DESC_F_NEXT, 2); /* self loop */
	post(2);
	cr_assert_eq(pop(&why), VQ_BAD_CHAIN);
	assert_good_after();
}

Test(virtq, four_gib_length, .init = setup)
{
	const char *why;
	desc(DESC, 0, DATA, 0xffffffffu, VIRTQ_DESC_F_WRITE, 0);
	post(0);
	cr_assert_eq(pop(&why), VQ_BAD_CHAIN);
	cr_assert(strstr(why, "more bytes"), "%s", why);
	/* many medium descriptors whose sum exceeds the cap */
	q.max_total = 1024;
	desc(DESC, 0, DATA, 800, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA, 800, 0, 0);
	post(0);
	cr_assert_eq(pop(&why), VQ_BAD_CHAIN);
	q.max_total = 0;
	assert_good_after();
}

Test(virtq, index_out_of_range, .init = setup)
{
	const char *why;
	post(QSZ); /* head index == size */
	cr_assert_eq(pop(&why), VQ_BAD_HEAD);
	desc(DESC, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 200); /* next out of range */
	post(0);
	cr_assert_eq(pop(&why), VQ_BAD_CHAIN);
	cr_assert(strstr(why, "out of range"), "%s", why);
	assert_good_after();
	/* avail idx jumping by more than the ring holds */
	uint16_t idx = (uint16_t)(q.last_avail + QSZ + 5);
	memcpy(mem + AVAIL + 2, &idx, 2);
	cr_assert_eq(pop(&why), VQ_BAD_HEAD);
	cr_assert_eq(pop(&why), VQ_EMPTY);
}

Test(virtq, indirect_tables, .init = setup)
{
	const char *why;
	uint64_t tbl = 0x5000;
	desc(tbl, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(tbl, 1, DATA + 0x100, 4096, VIRTQ_DESC_F_WRITE, 0);
	desc(DESC, 0, tbl, 32, VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	cr_assert_eq(pop(&why), VQ_GOT, "%s", why ? why : "");
	cr_assert_eq(req.nseg, 2);
	cr_assert_eq(req.in_bytes, 4096);
	/* indirect in indirect */
	desc(tbl, 1, 0x6000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	cr_assert_eq(pop(&why), VQ_BAD_CHAIN);
	cr_assert(strstr(why, "inside an indirect"), "%s", why);
	/* table length not a multiple of 16, and empty */
	desc(DESC, 0, tbl, 24, VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	cr_assert_eq(pop(&why), VQ_BAD_CHAIN);
	desc(DESC, 0, tbl, 0, VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	cr_assert_eq(pop(&why), VQ_BAD_CHAIN);
	/* table outside memory */
	desc(DESC, 0, MEM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	cr_assert_eq(pop(&why), VQ_BAD_CHAIN);
	/* loop inside the table */
	desc(tbl, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(tbl, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
	desc(DESC, 0, tbl, 32, VIRTQ_DESC_F_INDIRECT, 0);
	post(0);
	cr_assert_eq(pop(&why), VQ_BAD_CHAIN);
	/* not negotiated */
	q.indirect = false;
	desc(tbl, 1, DATA, 16, 0, 0);
	post(0);
	cr_assert_eq(pop(&why), VQ_BAD_CHAIN);
	q.indirect = true;
	assert_good_after();
}

Test(virtq, write_then_read_rejected, .init = setup)
{
	const char *why;
	desc(DESC, 0, DATA, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	desc(DESC, 1, DATA, 16, 0, 0);
	post(0);
	cr_assert_eq(pop(&why), VQ_BAD_CHAIN);
	assert_good_after();
}

Test(virtq, enable_checks_rings)
{
	struct virtq b = {.mem = {.translate = vq_flat_translate, .ctx = &flat}};
	b.size = 3; /* not a power of two */
	cr_assert_neq(virtq_enable(&b), 0);
	b.size = 8;
	b.desc_gpa = MEM - 64; /* table runs past the end */
	cr_assert_neq(virtq_enable(&b), 0);
	b.desc_gpa = DESC + 8; /* misaligned */
	cr_assert_neq(virtq_enable(&b), 0);
	b.desc_gpa = DESC;
	b.avail_gpa = AVAIL;
	b.used_gpa = USED;
	cr_assert_eq(virtq_enable(&b), 0);
}

Test(virtq, event_idx_suppression, .init = setup)
{
	const char *why;
	uint16_t ev = 0;
	post_good(0);
	cr_assert_eq(pop(&why), VQ_GOT);
	virtq_push(&q, 0, 1);
	cr_assert(virtq_should_notify(&q)); /* first one always */
	/* driver asks for an interrupt only after used idx passes 5 */
	ev = 5;
	memcpy(mem + AVAIL + 4 + 2 * QSZ, &ev, 2);
	post_good(0);
	cr_assert_eq(pop(&why), VQ_GOT);
	virtq_push(&q, 0, 1);
	cr_assert_not(virtq_should_notify(&q));
	/* avail_event: the device asks for no kicks */
	virtq_set_notify(&q, false);
	memcpy(&ev, mem + USED + 4 + 8 * QSZ, 2);
	cr_assert_eq(ev, (uint16_t)(q.last_avail + 0x8000));
	virtq_set_notify(&q, true);
	memcpy(&ev, mem + USED + 4 + 8 * QSZ, 2);
	cr_assert_eq(ev, q.last_avail);
}
