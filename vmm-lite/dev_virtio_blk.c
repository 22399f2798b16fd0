/*
 * virtio-blk (virtio 1.2 section 5.2) over a host file, preadv/pwritev.
 *
 * Why this shape: the request is the guest's chain mapped in place (header,
 * data, status), so the data moves with one preadv/pwritev straight between
 * the file and guest RAM. Everything in the header is guest input: the sector
 * range is checked against the disk size, the data length must be whole
 * sectors, and a chain without room for the status byte is failed at the
 * ring level (used length 0). io_uring is not used (see docs/IO.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "vmm-lite/virtio.h"

#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_FLUSH 9
#define SECTOR 512
#define HDR 16

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static void blk_config(struct virtio_mmio *t, uint64_t off, uint8_t *data, uint32_t len)
{
	struct blk_backend *b = t->priv;
	uint8_t cfg[24] = {0};
	uint64_t sectors = b->size / SECTOR;
	uint32_t seg_max = VIRTQ_MAX_SEGS - 2;

	memcpy(cfg, &sectors, 8);      /* capacity */
	memcpy(cfg + 12, &seg_max, 4); /* seg_max */
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, len < sizeof(cfg) - off ? len : sizeof(cfg) - off);
}

/* iovecs over the data part: skip `skip` bytes of direction `write`, take `len` */
static int data_iov(const struct vq_req *r, bool write, size_t skip, size_t len, struct iovec *iov)
{
	int n = 0;

	for (uint32_t i = 0; i < r->nseg && len; i++) {
		const struct vq_seg *s = &r->seg[i];
		size_t take;

		if (s->write != write)
			continue;
		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		take = s->len - skip < len ? s->len - skip : len;
		iov[n++] = (struct iovec){.iov_base = s->base + skip, .iov_len = take};
		len -= take;
		skip = 0;
	}
	return n;
}

static int rw(struct blk_backend *b, bool write, const struct iovec *iov, int n, uint64_t off,
	      size_t len)
{
	while (len) {
		ssize_t r =
		    write ? pwritev(b->fd, iov, n, (off_t)off) : preadv(b->fd, iov, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EIO;
		if ((size_t)r == len)
			return 0;
		return -EIO; /* short transfer: report it rather than resubmit a partial iovec */
	}
	return 0;
}

/* Returns the status byte; *written = data bytes put into guest buffers. */
static uint8_t do_request(struct blk_backend *b, const struct vq_req *r, const struct blk_hdr *h,
			  uint32_t *written)
{
	static __thread struct iovec iov[VIRTQ_MAX_SEGS];
	size_t len;
	int n;

	*written = 0;
	switch (h->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool wr = h->type == VIRTIO_BLK_T_OUT;

		len = wr ? r->out_bytes - HDR : r->in_bytes - 1;
		if (len % SECTOR || h->sector > b->size / SECTOR ||
		    len > b->size - h->sector * SECTOR)
			return VIRTIO_BLK_S_IOERR;
		n = data_iov(r, !wr, wr ? HDR : 0, len, iov); /* a read fills writable segments */
		if (len && rw(b, wr, iov, n, h->sector * SECTOR, len))
			return VIRTIO_BLK_S_IOERR;
		*written = wr ? 0 : (uint32_t)len;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_FLUSH:
		return fdatasync(b->fd) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		char id[20] = "virttax-blk";

		len = r->in_bytes - 1 < sizeof(id) ? r->in_bytes - 1 : sizeof(id);
		*written = (uint32_t)vq_copy_to(r, 0, id, len);
		return VIRTIO_BLK_S_OK;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void serve_one(struct virtio_mmio *t, struct virtq *q, struct vq_req *r)
{
	struct blk_backend *b = t->priv;
	struct blk_hdr h;
	uint32_t written;
	uint8_t st;
	uint64_t t0 = mono_ns();

	IO_ADD(t->stats->requests, 1);
	/* header in the readable part, status byte = last writable byte */
	if (r->out_bytes < HDR || r->in_bytes < 1 || !r->seg[r->nseg - 1].write ||
	    vq_copy_from(r, 0, &h, sizeof(h)) != sizeof(h)) {
		IO_ADD(t->stats->errors, 1);
		virtio_mmio_complete(t, q, r->head, 0);
		return;
	}
	st = do_request(b, r, &h, &written);
	if (st != VIRTIO_BLK_S_OK)
		IO_ADD(t->stats->errors, 1);
	else
		IO_ADD(t->stats->bytes, written ? written : r->out_bytes - HDR);
	r->seg[r->nseg - 1].base[r->seg[r->nseg - 1].len - 1] = st;
	IO_ADD(t->stats->handler_ns, mono_ns() - t0);
	virtio_mmio_complete(t, q, r->head, written + 1);
}

static void blk_process(struct virtio_mmio *t, struct virtq *q)
{
	static __thread struct vq_req r;
	const char *why;
	int got;

	while ((got = virtq_pop(q, &r, &why)) != VQ_EMPTY) {
		if (got == VQ_GOT) {
			serve_one(t, q, &r);
			continue;
		}
		IO_ADD(t->stats->requests, 1);
		IO_ADD(t->stats->errors, 1);
		guest_err(&t->errlog, mono_ns(), "bad request failed: %s", why);
		if (got == VQ_BAD_CHAIN)
			virtio_mmio_complete(t, q, r.head, 0);
	}
}

const struct virtio_dev_ops virtio_blk_ops = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_FLUSH),
    .config_read = blk_config,
    .process = blk_process,
};
