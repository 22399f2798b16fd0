/*
 * Legacy NIC driver of the agent (the `emulated` network technique), a
 * struct wl_net over vmm-lite's register-level NIC at ports 0x300-0x31f
 * (vmm-lite/dev_legacy_nic.c, register map in docs/IO.md).
 *
 * Why: full emulation means every data word crosses to the VMM by its own
 * port I/O, so the driver moves frames one 32-bit `outl`/`inl` at a time,
 * never with string I/O (`rep outsl` could be batched). Found the way the
 * ATA disk is: when no virtio-net is announced on the command line, the ID
 * register is probed (a floating bus reads all-ones). Polled, no interrupts:
 * recv() reads RX_LEN (the device polls the tap on that read), then the
 * frame's words; release() acks it with RX_NEXT. send() writes TX_LEN, the
 * words, and SEND. Per frame: ceil(len/4) data exits plus 2 register exits,
 * plus the idle RX_LEN reads while waiting.
 */
#include "guest-agent/agent.h"
#include "guest-agent/virtio.h"
#include "virttax/wl_net.h"

#define BASE 0x300
#define R_ID 0x00
#define R_TX_LEN 0x08
#define R_TX_DATA 0x0c
#define R_RX_LEN 0x10
#define R_RX_DATA 0x14
#define R_CMD 0x18
#define R_MAC 0x1a
#define MAGIC 0x4e4c5456u
#define CMD_SEND 1
#define CMD_RX_NEXT 2

void *memcpy(void *d, const void *s, size_t n);

struct lnic {
	struct wl_net pub;
	uint8_t *rx; /* VTX_NET_MAX_FRAME rounded up to whole words */
	bool held;
};
static struct lnic ln;

static int lnic_send(struct wl_net *n, const void *frame, uint32_t len)
{
	const uint8_t *p = frame;
	(void)n;
	if (len < VTX_NET_HDR || len > VTX_NET_MAX_FRAME)
		return -AG_EINVAL;
	ag_outl(BASE + R_TX_LEN, len);
	for (uint32_t i = 0; i < len; i += 4) {
		uint32_t w = 0;
		memcpy(&w, p + i, len - i < 4 ? len - i : 4);
		ag_outl(BASE + R_TX_DATA, w);
	}
	ag_outb(BASE + R_CMD, CMD_SEND);
	return 0;
}

static void lnic_release(struct wl_net *n)
{
	struct lnic *l = n->priv;
	if (l->held)
		ag_outb(BASE + R_CMD, CMD_RX_NEXT);
	l->held = false;
}

static int lnic_recv(struct wl_net *n, const uint8_t **frame, uint32_t *len)
{
	struct lnic *l = n->priv;
	lnic_release(n);
	uint32_t k = ag_inl(BASE + R_RX_LEN);
	if (!k)
		return 0;
	if (k > VTX_NET_MAX_FRAME) { /* larger than we take: skip it */
		ag_outb(BASE + R_CMD, CMD_RX_NEXT);
		return 0;
	}
	uint32_t *w = (uint32_t *)l->rx;
	for (uint32_t i = 0; i < (k + 3) / 4; i++)
		w[i] = ag_inl(BASE + R_RX_DATA);
	l->held = true;
	*frame = l->rx;
	*len = k;
	return 1;
}

struct wl_net *ag_legacy_nic_probe(void)
{
	if (ag_inl(BASE + R_ID) != MAGIC)
		return NULL;
	if (!(ln.rx = (uint8_t *)ag_arena_alloc(ag_memory_arena(), VTX_NET_MAX_FRAME + 4, 4096)))
		return NULL;
	ln.held = false;
	ln.pub = (struct wl_net){.driver = "legacy-nic",
				 .max_frame = VTX_NET_MAX_FRAME,
				 .send = lnic_send,
				 .recv = lnic_recv,
				 .release = lnic_release,
				 .priv = &ln};
	for (int i = 0; i < 6; i++)
		ln.pub.mac[i] = ag_inb((uint16_t)(BASE + R_MAC + i));
	return &ln.pub;
}
