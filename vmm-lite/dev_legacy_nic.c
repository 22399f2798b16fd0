/*
 * A legacy-style register-level NIC at ports 0x300-0x31f: the `emulated`
 * network technique.
 *
 * Why: full emulation is the slow end of the I/O table, and for the network
 * that means an NE2000-like card without DMA: the guest programs a length,
 * moves every 32-bit word of the frame with its own `outl`/`inl`, and issues
 * a command, so each word is a port-I/O exit to the VMM. Backed by the same
 * tap as virtio-net (struct net_backend). The rx side is polled, no thread:
 * a STATUS or RX_LEN read that finds nothing pending does a non-blocking
 * read of the tap into a queue of LNIC_RXQ frames held here; the kernel's
 * tap queue holds the rest (and drops, as a wire would).
 * Everything the guest writes is untrusted: a tx length outside
 * [14, VIRTIO_NET_MAX_FRAME], data before a length or past it, or a SEND
 * before the whole frame was written fails that frame only (TX_ERR, counted);
 * rx reads past the frame or with nothing pending return zeros (RX_ERR).
 * Register map: vmm-lite/virtio.h (LNIC_*), docs/IO.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "virttax/wl_net.h"
#include "vmm-lite/virtio.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void put_reg(uint8_t *data, uint32_t len, uint32_t v)
{
	memcpy(data, &v, len < 4 ? len : 4); /* little endian host, as the guest */
}

/* ---- tx ---- */

static void tx_reset(struct legacy_nic *l)
{
	l->tx_len = l->tx_pos = 0;
	l->tx_bad = false;
}

static void tx_start(struct legacy_nic *l, uint32_t len)
{
	tx_reset(l);
	if (len < VTX_NET_HDR || len > VIRTIO_NET_MAX_FRAME)
		l->tx_bad = true; /* fails at SEND; the data words meanwhile are dropped */
	else
		l->tx_len = len;
}

/* a word starting inside the frame is taken (its bytes past the end are
 * padding); one starting at or past the end, or before TX_LEN, fails the frame */
static void tx_data(struct legacy_nic *l, const uint8_t *data, uint32_t len)
{
	uint32_t n;

	if (l->tx_bad)
		return;
	if (l->tx_pos >= l->tx_len) {
		l->tx_bad = true;
		return;
	}
	n = l->tx_len - l->tx_pos < len ? l->tx_len - l->tx_pos : len;
	memcpy(l->tx + l->tx_pos, data, n);
	l->tx_pos += n;
}

static void tx_send(struct legacy_nic *l)
{
	uint64_t t0 = mono_ns();

	IO_ADD(l->stats->requests, 1);
	IO_ADD(l->stats->notifications, 1);
	if (l->tx_bad || !l->tx_len || l->tx_pos < l->tx_len) {
		l->status |= LNIC_ST_TX_ERR;
		l->net->tx_dropped++;
		IO_ADD(l->stats->errors, 1);
	} else if (write(l->net->fd, l->tx, l->tx_len) != (ssize_t)l->tx_len) {
		l->status |= LNIC_ST_TX_ERR; /* tap down or full: lost, as on a wire */
		l->net->tx_dropped++;
		IO_ADD(l->stats->errors, 1);
	} else {
		l->status &= ~(uint32_t)LNIC_ST_TX_ERR;
		l->net->tx_frames++;
		IO_ADD(l->stats->bytes, l->tx_len);
	}
	tx_reset(l);
	IO_ADD(l->stats->handler_ns, mono_ns() - t0);
}

/* ---- rx ---- */

static void rx_fill(struct legacy_nic *l)
{
	while (l->rx_count < LNIC_RXQ) {
		uint32_t slot = (l->rx_head + l->rx_count) % LNIC_RXQ;
		ssize_t k = read(l->net->fd, l->rx[slot], VIRTIO_NET_MAX_FRAME);

		if (k <= 0)
			return; /* EAGAIN: nothing received */
		l->rx_len[slot] = (uint32_t)k;
		l->rx_count++;
	}
}

static uint32_t rx_pending_len(struct legacy_nic *l)
{
	if (!l->rx_count)
		rx_fill(l);
	if (!l->rx_count) {
		l->idle_polls++;
		return 0;
	}
	return l->rx_len[l->rx_head];
}

static void rx_data(struct legacy_nic *l, uint8_t *data, uint32_t len)
{
	uint32_t flen = l->rx_count ? l->rx_len[l->rx_head] : 0, n;

	if (l->rx_pos >= flen) {
		l->status |= LNIC_ST_RX_ERR; /* nothing pending, or past the frame: zeros */
		return;
	}
	n = flen - l->rx_pos < len ? flen - l->rx_pos : len;
	memcpy(data, l->rx[l->rx_head] + l->rx_pos, n);
	l->rx_pos += n;
}

static void rx_next(struct legacy_nic *l)
{
	IO_ADD(l->stats->notifications, 1);
	if (!l->rx_count) {
		l->status |= LNIC_ST_RX_ERR;
		return;
	}
	IO_ADD(l->stats->requests, 1);
	IO_ADD(l->stats->bytes, l->rx_len[l->rx_head]);
	l->net->rx_frames++;
	l->rx_head = (l->rx_head + 1) % LNIC_RXQ;
	l->rx_count--;
	l->rx_pos = 0;
	l->status &= ~(uint32_t)LNIC_ST_RX_ERR;
}

/* ---- the bus ---- */

void legacy_nic_read(struct bus_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
	struct legacy_nic *l = d->priv;

	memset(data, 0, len);
	pthread_mutex_lock(&l->lock);
	if (off == LNIC_ID || off >= LNIC_MAC)
		IO_ADD(l->stats->setup_exits, 1); /* probe: ID and MAC */
	else
		IO_ADD(l->stats->exits, 1);
	switch (off) {
	case LNIC_ID:
		put_reg(data, len, LNIC_MAGIC);
		break;
	case LNIC_STATUS:
		put_reg(data, len,
			l->status | (rx_pending_len(l) ? (uint32_t)LNIC_ST_RX_READY : 0));
		break;
	case LNIC_RX_LEN:
		put_reg(data, len, rx_pending_len(l));
		break;
	case LNIC_RX_DATA:
		rx_data(l, data, len);
		break;
	default:
		if (off >= LNIC_MAC && off < LNIC_LEN) /* the bus keeps off + len <= LNIC_LEN */
			memcpy(data, l->net->mac + (off - LNIC_MAC), len);
	}
	pthread_mutex_unlock(&l->lock);
}

void legacy_nic_write(struct bus_dev *d, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct legacy_nic *l = d->priv;
	uint32_t v = 0;

	memcpy(&v, data, len < 4 ? len : 4);
	pthread_mutex_lock(&l->lock);
	IO_ADD(l->stats->exits, 1);
	switch (off) {
	case LNIC_TX_LEN:
		tx_start(l, len == 4 ? v : 0); /* a narrower write is a bad length */
		break;
	case LNIC_TX_DATA:
		tx_data(l, data, len);
		break;
	case LNIC_CMD:
		if (v == LNIC_CMD_SEND)
			tx_send(l);
		else if (v == LNIC_CMD_RX_NEXT)
			rx_next(l);
		break;
	}
	pthread_mutex_unlock(&l->lock);
}

static const struct bus_dev_ops lnic_ops = {
    .name = "legacy-nic", .read = legacy_nic_read, .write = legacy_nic_write};

int legacy_nic_init(struct legacy_nic *l, struct net_backend *net, struct io_stats *stats)
{
	memset(l, 0, sizeof(*l));
	l->net = net;
	l->stats = stats;
	pthread_mutex_init(&l->lock, NULL);
	l->dev = (struct bus_dev){.ops = &lnic_ops, .base = LNIC_BASE, .len = LNIC_LEN, .priv = l};
	if (!(l->tx = malloc(VIRTIO_NET_MAX_FRAME)))
		return -ENOMEM;
	for (int i = 0; i < LNIC_RXQ; i++)
		if (!(l->rx[i] = malloc(VIRTIO_NET_MAX_FRAME))) {
			legacy_nic_destroy(l);
			return -ENOMEM;
		}
	return 0;
}

void legacy_nic_destroy(struct legacy_nic *l)
{
	free(l->tx);
	l->tx = NULL;
	for (int i = 0; i < LNIC_RXQ; i++) {
		free(l->rx[i]);
		l->rx[i] = NULL;
	}
	pthread_mutex_destroy(&l->lock);
}
