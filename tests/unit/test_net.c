/*
 * Unit tests of virtio-net's frame handling (vmm-lite/dev_virtio_net.c) on
 * chains popped from a hostile ring: a frame longer than the rx buffer, a
 * zero-length chain, a tx chain with no whole header, a tx chain with a
 * writable part, an rx chain with a readable part, an oversize tx frame.
 * Each must be refused without touching memory outside the chain.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "vmm-lite/virtio.h"

#define MEM 0x30000
#define QSZ 8
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define DATA 0x4000

static uint8_t mem[MEM];
static struct vq_flat flat = {.buf = mem, .size = MEM};
static struct virtq q;
static struct vq_req req;
static struct iovec iov[VIRTQ_MAX_SEGS];

static void setup(void)
{
	memset(mem, 0, sizeof(mem));
	memset(&q, 0, sizeof(q));
	q.mem = (struct vq_mem){.translate = vq_flat_translate, .ctx = &flat};
	q.size = QSZ;
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	cr_assert_eq(virtq_enable(&q), 0);
}

static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = mem + DESC + 16u * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static int post_pop(uint16_t head)
{
	const char *why;
	uint16_t idx;
	memcpy(&idx, mem + AVAIL + 2, 2);
	memcpy(mem + AVAIL + 4 + 2 * (idx % QSZ), &head, 2);
	idx++;
	memcpy(mem + AVAIL + 2, &idx, 2);
	return virtq_pop(&q, &req, &why);
}

TestSuite(net, .init = setup);

Test(net, tx_frame_is_mapped_after_the_header)
{
	size_t len;
	/* header split over two descriptors, frame in a third */
	desc(0, DATA, 8, VIRTQ_DESC_F_NEXT, 1);
	desc(1, DATA + 8, 10, VIRTQ_DESC_F_NEXT, 2); /* 4 header bytes + 6 frame bytes */
	desc(2, DATA + 0x100, 58, 0, 0);
	cr_assert_eq(post_pop(0), VQ_GOT);
	int n = net_tx_iov(&req, iov, VIRTQ_MAX_SEGS, &len);
	cr_assert_eq(n, 2);
	cr_assert_eq(len, 64);
	cr_assert_eq((uint8_t *)iov[0].iov_base, mem + DATA + 12);
	cr_assert_eq(iov[0].iov_len, 6);
	cr_assert_eq(iov[1].iov_len, 58);
}

Test(net, tx_without_a_whole_header_is_refused)
{
	size_t len;
	desc(0, DATA, VIRTIO_NET_HDR_LEN, 0, 0); /* header only: empty frame */
	cr_assert_eq(post_pop(0), VQ_GOT);
	cr_assert_eq(net_tx_iov(&req, iov, VIRTQ_MAX_SEGS, &len), -EINVAL);
	desc(1, DATA, 5, 0, 0);
	cr_assert_eq(post_pop(1), VQ_GOT);
	cr_assert_eq(net_tx_iov(&req, iov, VIRTQ_MAX_SEGS, &len), -EINVAL);
}

Test(net, zero_length_chain_is_refused_both_ways)
{
	size_t len;
	uint32_t used = 7;
	uint8_t frame[64] = {1};
	desc(0, DATA, 0, 0, 0);
	cr_assert_eq(post_pop(0), VQ_GOT);
	cr_assert_eq(req.nseg, 0);
	cr_assert_eq(net_tx_iov(&req, iov, VIRTQ_MAX_SEGS, &len), -EINVAL);
	cr_assert_eq(net_rx_fill(&req, frame, sizeof(frame), &used), -EMSGSIZE);
	cr_assert_eq(used, 0);
}

Test(net, tx_with_a_writable_part_is_refused)
{
	size_t len;
	desc(0, DATA, 100, VIRTQ_DESC_F_NEXT, 1);
	desc(1, DATA + 0x100, 4, VIRTQ_DESC_F_WRITE, 0);
	cr_assert_eq(post_pop(0), VQ_GOT);
	cr_assert_eq(net_tx_iov(&req, iov, VIRTQ_MAX_SEGS, &len), -EINVAL);
}

Test(net, oversize_tx_frame_is_refused)
{
	size_t len;
	desc(0, DATA, VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME + 1, 0, 0);
	cr_assert_eq(post_pop(0), VQ_GOT);
	cr_assert_eq(net_tx_iov(&req, iov, VIRTQ_MAX_SEGS, &len), -EINVAL);
}

Test(net, rx_frame_longer_than_the_buffer_is_dropped_untouched)
{
	static uint8_t frame[1500];
	uint32_t used = 7;
	memset(frame, 0xab, sizeof(frame));
	memset(mem + DATA, 0x5a, 0x800);
	desc(0, DATA, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(1, DATA + 512, 512, VIRTQ_DESC_F_WRITE, 0); /* 1024 bytes < 12 + 1500 */
	cr_assert_eq(post_pop(0), VQ_GOT);
	cr_assert_eq(net_rx_fill(&req, frame, sizeof(frame), &used), -EMSGSIZE);
	cr_assert_eq(used, 0);
	for (int i = 0; i < 0x800; i++)
		cr_assert_eq(mem[DATA + i], 0x5a, "byte %d written", i);
}

Test(net, rx_frame_fills_header_and_frame_across_descriptors)
{
	uint8_t frame[100];
	uint32_t used;
	uint16_t nbuf;
	for (int i = 0; i < 100; i++)
		frame[i] = (uint8_t)i;
	memset(mem + DATA, 0x5a, 0x800);
	desc(0, DATA, 20, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(1, DATA + 0x400, 200, VIRTQ_DESC_F_WRITE, 0);
	cr_assert_eq(post_pop(0), VQ_GOT);
	cr_assert_eq(net_rx_fill(&req, frame, sizeof(frame), &used), 112);
	cr_assert_eq(used, 112);
	memcpy(&nbuf, mem + DATA + 10, 2);
	cr_assert_eq(nbuf, 1);		 /* num_buffers */
	cr_assert_eq(mem[DATA + 0], 0);	 /* flags */
	cr_assert_eq(mem[DATA + 12], 0); /* frame[0] */
	cr_assert_eq(mem[DATA + 19], 7);
	cr_assert_eq(mem[DATA + 0x400], 8); /* continues in the second descriptor */
	cr_assert_eq(mem[DATA + 0x400 + 91], 99);
	cr_assert_eq(mem[DATA + 0x400 + 92], 0x5a); /* nothing past the frame */
}

Test(net, rx_chain_with_a_readable_part_is_refused)
{
	uint8_t frame[64] = {0};
	uint32_t used;
	desc(0, DATA, 64, VIRTQ_DESC_F_NEXT, 1);
	desc(1, DATA + 0x100, 2000, VIRTQ_DESC_F_WRITE, 0);
	cr_assert_eq(post_pop(0), VQ_GOT);
	cr_assert_eq(net_rx_fill(&req, frame, sizeof(frame), &used), -EINVAL);
}

Test(net, rx_buffer_outside_memory_fails_at_the_ring)
{
	const char *why;
	desc(0, MEM - 16, 4096, VIRTQ_DESC_F_WRITE, 0);
	uint16_t idx = 1, head = 0;
	memcpy(mem + AVAIL + 4, &head, 2);
	memcpy(mem + AVAIL + 2, &idx, 2);
	cr_assert_eq(virtq_pop(&q, &req, &why), VQ_BAD_CHAIN);
	cr_assert_not_null(why);
}

Test(net, tap_spec_is_validated)
{
	struct net_backend n;
	char err[256];
	cr_assert_eq(net_backend_open(&n, "tapx", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "tap=NAME"));
	cr_assert_eq(net_backend_open(&n, "tap=", err, sizeof(err)), -EINVAL);
	cr_assert_eq(net_backend_open(&n, "tap=0123456789abcdefXYZ", err, sizeof(err)), -EINVAL);
	cr_assert_eq(net_backend_open(&n, "tap=a/b", err, sizeof(err)), -EINVAL);
}
