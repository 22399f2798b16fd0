/*
 * virtio-net driver of the agent (no offloads), and wl_net_get() for the
 * network workloads.
 *
 * Why this shape: like the blk driver it polls (no interrupts are wired up,
 * docs/IO.md), so a technique's cost shows up only as the exits it causes.
 * Queue 0 (rx) holds RX_BUFS buffers of one descriptor each, big enough for a
 * 64 KiB frame plus the 12-byte virtio_net_hdr_v1; a consumed buffer is
 * reposted when the workload releases it. The device asks for rx kicks only
 * when it has run out of buffers, so a steady exchange costs one kick per
 * transmitted frame. Queue 1 (tx) has TX_BUFS slots; a frame is copied into
 * a free slot behind a zeroed header and published, and completed slots are
 * reclaimed on the next send. Slot i always uses descriptor i.
 */
#include "guest-agent/agent.h"
#include "guest-agent/virtio.h"
#include "virttax/wl_net.h"

#define VIRTIO_ID_NET 1
#define F_MAC (1ull << 5)
#define F_EVENT_IDX (1ull << 29)
#define D_WRITE 2
#define QSIZE 64
#define RX_BUFS 32
#define TX_BUFS 32
#define NET_HDR 12
#define BUF_BYTES (NET_HDR + VTX_NET_MAX_FRAME + 4096) /* 4 KiB slack, page multiple */

void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

struct vnet {
	struct wl_net pub;
	struct ag_vdev dev;
	uint8_t *rx[RX_BUFS], *tx[TX_BUFS];
	uint16_t tx_free[TX_BUFS], ntx_free;
	int held; /* rx buffer lent to the workload, -1: none */
};

static struct vnet vn;
static struct wl_net *probed;
static bool probe_done;

static void rx_post(struct vnet *v, uint16_t i)
{
	struct ag_vq *q = &v->dev.vq;
	q->desc[i].addr = (uint64_t)v->rx[i];
	q->desc[i].len = NET_HDR + VTX_NET_MAX_FRAME;
	q->desc[i].flags = D_WRITE;
	ag_virtq_publish(&v->dev, q, 0, i);
}

static void tx_reclaim(struct vnet *v)
{
	uint32_t id, len;
	while (ag_virtq_used(&v->dev.vq1, &id, &len))
		if (id < TX_BUFS && v->ntx_free < TX_BUFS)
			v->tx_free[v->ntx_free++] = (uint16_t)id;
}

static int vnet_send(struct wl_net *n, const void *frame, uint32_t len)
{
	struct vnet *v = n->priv;
	struct ag_vq *q = &v->dev.vq1;
	if (len < VTX_NET_HDR || len > VTX_NET_MAX_FRAME)
		return -AG_EINVAL;
	tx_reclaim(v);
	if (!v->ntx_free)
		return -11; /* -EAGAIN */
	uint16_t i = v->tx_free[--v->ntx_free];
	memset(v->tx[i], 0, NET_HDR);
	memcpy(v->tx[i] + NET_HDR, frame, len);
	q->desc[i].addr = (uint64_t)v->tx[i];
	q->desc[i].len = NET_HDR + len;
	q->desc[i].flags = 0;
	ag_virtq_publish(&v->dev, q, 1, i);
	return 0;
}

static void vnet_release(struct wl_net *n)
{
	struct vnet *v = n->priv;
	if (v->held >= 0)
		rx_post(v, (uint16_t)v->held);
	v->held = -1;
}

static int vnet_recv(struct wl_net *n, const uint8_t **frame, uint32_t *len)
{
	struct vnet *v = n->priv;
	uint32_t id, used;
	vnet_release(n);
	while (ag_virtq_used(&v->dev.vq, &id, &used)) {
		if (id >= RX_BUFS)
			continue; /* not ours: a broken device; the buffer is lost */
		if (used <= NET_HDR || used > NET_HDR + VTX_NET_MAX_FRAME) {
			rx_post(v, (uint16_t)id); /* dropped by the device (too big) */
			continue;
		}
		v->held = (int)id;
		*frame = v->rx[id] + NET_HDR;
		*len = used - NET_HDR;
		return 1;
	}
	return 0;
}

static struct wl_net *vnet_probe(void)
{
	if (ag_virtio_probe_nq(VIRTIO_ID_NET, F_MAC | F_EVENT_IDX, QSIZE, 2, &vn.dev))
		return NULL;
	if (vn.dev.vq.size < RX_BUFS || vn.dev.vq1.size < TX_BUFS)
		return NULL;
	for (int i = 0; i < RX_BUFS; i++)
		if (!(vn.rx[i] = (uint8_t *)ag_arena_alloc(ag_memory_arena(), BUF_BYTES, 4096)))
			return NULL;
	for (int i = 0; i < TX_BUFS; i++) {
		if (!(vn.tx[i] = (uint8_t *)ag_arena_alloc(ag_memory_arena(), BUF_BYTES, 4096)))
			return NULL;
		vn.tx_free[i] = (uint16_t)(TX_BUFS - 1 - i);
	}
	vn.ntx_free = TX_BUFS;
	vn.held = -1;
	uint32_t lo = ag_virtio_cfg32(&vn.dev, 0), hi = ag_virtio_cfg32(&vn.dev, 4);
	vn.pub = (struct wl_net){.driver = "virtio-net",
				 .max_frame = VTX_NET_MAX_FRAME,
				 .send = vnet_send,
				 .recv = vnet_recv,
				 .release = vnet_release,
				 .priv = &vn};
	for (int i = 0; i < 6; i++)
		vn.pub.mac[i] = (uint8_t)((i < 4 ? lo >> (8 * i) : hi >> (8 * (i - 4))) & 0xff);
	for (uint16_t i = 0; i < RX_BUFS; i++)
		rx_post(&vn, i);
	return &vn.pub;
}

/* Probed inside the (single) workload of a boot: its buffers come from the
 * workload's arena, like the blk driver's rings (docs/IO.md). */
struct wl_net *wl_net_get(void)
{
	if (!probe_done) {
		probe_done = true;
		probed = vnet_probe();
		if (!probed) /* no virtio-net announced: the emulated NIC? */
			probed = ag_legacy_nic_probe();
	}
	return probed;
}
