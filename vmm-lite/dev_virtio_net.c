/*
 * virtio-net (virtio 1.2 section 5.1) over a tap device: no offloads, one
 * rx/tx queue pair, VIRTIO_NET_F_MAC, struct virtio_net_hdr_v1 (12 bytes).
 *
 * Why this shape: the I/O technique table needs a NIC whose data path is the
 * same bounds-checked virtqueue code as virtio-blk, so the techniques differ
 * only in how notifications and completions travel (virtio_mmio.c). tx is a
 * kick-driven queue: each chain is header + frame, written to the tap with
 * one writev straight from guest RAM. rx is device-fed: a frame read from the
 * tap (into a host buffer, since its size is only known after the read) is
 * copied into the next posted buffer; while no buffer is posted the frame is
 * held and the tap is not read, so the kernel queues (and finally drops)
 * frames, as a real NIC would. Everything in a chain is guest input: a tx
 * chain without a whole header, with an empty or oversize frame, or with a
 * writable part is failed (used length 0); an rx buffer too small for the
 * frame gets used length 0 and the frame is dropped and counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "vmm-lite/virtio.h"

/* ---- pure frame handling ---- */

int net_tx_iov(const struct vq_req *r, struct iovec *iov, int maxiov, size_t *len)
{
	size_t skip = VIRTIO_NET_HDR_LEN;
	int n = 0;

	*len = 0;
	if (r->in_bytes || r->nout != r->nseg)
		return -EINVAL; /* tx chains are device-readable only */
	if (r->out_bytes <= VIRTIO_NET_HDR_LEN ||
	    r->out_bytes - VIRTIO_NET_HDR_LEN > VIRTIO_NET_MAX_FRAME)
		return -EINVAL;
	for (uint32_t i = 0; i < r->nseg; i++) {
		const struct vq_seg *s = &r->seg[i];

		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		if (n >= maxiov)
			return -EINVAL;
		iov[n++] = (struct iovec){.iov_base = s->base + skip, .iov_len = s->len - skip};
		*len += s->len - skip;
		skip = 0;
	}
	return n;
}

int net_rx_fill(const struct vq_req *r, const void *frame, size_t len, uint32_t *used)
{
	uint8_t hdr[VIRTIO_NET_HDR_LEN] = {0};
	uint16_t one = 1;

	*used = 0;
	if (r->out_bytes || r->nout)
		return -EINVAL; /* rx buffers are device-writable only */
	if (len > VIRTIO_NET_MAX_FRAME || r->in_bytes < VIRTIO_NET_HDR_LEN ||
	    len > r->in_bytes - VIRTIO_NET_HDR_LEN)
		return -EMSGSIZE;
	memcpy(hdr + 10, &one, 2); /* num_buffers = 1; flags 0, gso_type NONE */
	if (vq_copy_to(r, 0, hdr, sizeof(hdr)) != sizeof(hdr) ||
	    vq_copy_to(r, sizeof(hdr), frame, len) != len)
		return -EMSGSIZE;
	*used = (uint32_t)(sizeof(hdr) + len);
	return (int)*used;
}

/* ---- the tap ---- */

int net_backend_open(struct net_backend *n, const char *spec, char *err, size_t errlen)
{
	struct ifreq ifr = {0};
	const char *name = spec && !strncmp(spec, "tap=", 4) ? spec + 4 : NULL;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (!name || !*name || strlen(name) >= IFNAMSIZ || strchr(name, '/')) {
		snprintf(err, errlen,
			 "--net '%s': expected tap=NAME (an interface name, < %d chars)",
			 spec ? spec : "", IFNAMSIZ);
		return -EINVAL;
	}
	snprintf(n->ifname, sizeof(n->ifname), "%s", name);
	n->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (n->fd < 0) {
		int e = errno;

		snprintf(err, errlen, "--net %s: /dev/net/tun: %s (load the tun module)", spec,
			 strerror(e));
		return -ENODEV;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(n->fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;

		snprintf(err, errlen,
			 "--net %s: TUNSETIFF: %s (needs CAP_NET_ADMIN, or a tap owned by you: "
			 "ip tuntap add dev %s mode tap user $USER)",
			 spec, strerror(e), name);
		net_backend_close(n);
		return e == EPERM ? -EPERM : -ENODEV;
	}
	n->frame = malloc(VIRTIO_NET_MAX_FRAME);
	if (!n->frame) {
		net_backend_close(n);
		return -ENOMEM;
	}
	/* a locally administered unicast MAC, fixed so runs are comparable */
	memcpy(n->mac, (uint8_t[6]){0x52, 0x54, 0x00, 0x76, 0x74, 0x78}, 6);
	return 0;
}

void net_backend_close(struct net_backend *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	free(n->frame);
	n->frame = NULL;
}

/* ---- the device ---- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void net_config(struct virtio_mmio *t, uint64_t off, uint8_t *data, uint32_t len)
{
	struct net_backend *n = t->priv;
	uint8_t cfg[8] = {0}; /* mac[6], status (F_STATUS not offered) */

	memcpy(cfg, n->mac, 6);
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, len < sizeof(cfg) - off ? len : sizeof(cfg) - off);
}

static void fail(struct virtio_mmio *t, struct virtq *q, int got, const struct vq_req *r,
		 const char *dir, const char *why)
{
	IO_ADD(t->stats->requests, 1);
	IO_ADD(t->stats->errors, 1);
	guest_err(&t->errlog, mono_ns(), "%s: bad request failed: %s", dir, why);
	if (got != VQ_BAD_HEAD)
		virtio_mmio_complete(t, q, r->head, 0);
}

static void tx_process(struct virtio_mmio *t, struct virtq *q)
{
	static __thread struct vq_req r;
	static __thread struct iovec iov[VIRTQ_MAX_SEGS];
	struct net_backend *n = t->priv;
	const char *why;
	size_t len;
	int got, niov;

	while ((got = virtq_pop(q, &r, &why)) != VQ_EMPTY) {
		uint64_t t0 = mono_ns();

		if (got != VQ_GOT) {
			fail(t, q, got, &r, "tx", why);
			continue;
		}
		if ((niov = net_tx_iov(&r, iov, VIRTQ_MAX_SEGS, &len)) < 0) {
			fail(t, q, got, &r, "tx",
			     "no header, empty/oversize frame or writable part");
			continue;
		}
		IO_ADD(t->stats->requests, 1);
		if (writev(n->fd, iov, niov) != (ssize_t)len) {
			n->tx_dropped++; /* tap not up or queue full: the frame is lost, as on a
					    wire */
			IO_ADD(t->stats->errors, 1);
		} else {
			n->tx_frames++;
			IO_ADD(t->stats->bytes, len);
		}
		IO_ADD(t->stats->handler_ns, mono_ns() - t0);
		virtio_mmio_complete(t, q, r.head, 0);
	}
}

/* Move received frames into posted rx buffers. A frame that finds no buffer
 * is held (the tap is not read meanwhile) and rx kicks are asked for; while
 * buffers are posted the driver is told not to kick. */
static void rx_deliver(struct virtio_mmio *t, struct virtq *q)
{
	static __thread struct vq_req r;
	struct net_backend *n = t->priv;
	bool kicks = t->tech != IO_TECH_POLL;
	const char *why;
	uint32_t used;
	int got;

	for (;;) {
		uint64_t t0 = mono_ns();

		if (!n->pending) {
			ssize_t k = read(n->fd, n->frame, VIRTIO_NET_MAX_FRAME);

			if (k <= 0)
				break; /* EAGAIN: nothing received */
			n->pending = (size_t)k;
		}
		if (!virtq_has_avail(q)) {
			virtq_set_notify(q, kicks); /* starved: kick us on the next buffer */
			if (!virtq_has_avail(q))
				return;
		}
		if ((got = virtq_pop(q, &r, &why)) == VQ_EMPTY)
			return;
		if (got != VQ_GOT) {
			fail(t, q, got, &r, "rx", why);
			continue; /* the frame stays pending for the next buffer */
		}
		IO_ADD(t->stats->requests, 1);
		if (net_rx_fill(&r, n->frame, n->pending, &used) < 0) {
			n->rx_dropped++;
			IO_ADD(t->stats->errors, 1);
			used = 0;
		} else {
			n->rx_frames++;
			IO_ADD(t->stats->bytes, n->pending);
		}
		n->pending = 0;
		IO_ADD(t->stats->handler_ns, mono_ns() - t0);
		virtio_mmio_complete(t, q, r.head, used);
	}
	virtq_set_notify(q, kicks && !virtq_has_avail(q));
}

static void net_process(struct virtio_mmio *t, struct virtq *q)
{
	if (q == &t->vq[VIRTIO_NET_TXQ])
		tx_process(t, q);
	else
		rx_deliver(t, q);
}

/* wait on the tap only while a received frame has somewhere to go */
static int net_backend_fd(struct virtio_mmio *t)
{
	struct net_backend *n = t->priv;

	return n->pending ? -1 : n->fd;
}

static void net_backend_event(struct virtio_mmio *t)
{
	rx_deliver(t, &t->vq[VIRTIO_NET_RXQ]);
}

const struct virtio_dev_ops virtio_net_ops = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .features = 1ULL << VIRTIO_NET_F_MAC,
    .config_read = net_config,
    .process = net_process,
    .nqueues = 2,
    .device_fed = 1u << VIRTIO_NET_RXQ,
    .backend_fd = net_backend_fd,
    .backend_event = net_backend_event,
};
