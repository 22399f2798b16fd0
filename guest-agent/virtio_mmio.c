/*
 * virtio-mmio (version 2) discovery and one split virtqueue, driver side.
 *
 * Why: the agent's disk must work under vmm-lite and QEMU microvm alike, so
 * it finds its devices the way Linux does on microvm: from
 * `virtio_mmio.device=SIZE@ADDR:IRQ` tokens on the command line. Completions
 * are polled from the used ring (interrupts are not wired up in the agent,
 * see docs/IO.md); notifications honour the device's suppression (event-idx
 * avail_event), which is what lets the `poll` technique run with no kicks.
 */
#include "guest-agent/agent.h"
#include "guest-agent/virtio.h"

#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEV_FEATURES 0x010
#define R_DEV_FEATURES_SEL 0x014
#define R_DRV_FEATURES 0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_DRIVER_LO 0x090
#define R_DRIVER_HI 0x094
#define R_DEVICE_LO 0x0a0
#define R_DEVICE_HI 0x0a4
#define R_CONFIG 0x100
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define F_VERSION_1 (1ull << 32)
#define F_EVENT_IDX (1ull << 29)

void *memset(void *s, int c, size_t n);

static uint32_t rd(struct ag_vdev *d, uint32_t off)
{
	return *(volatile uint32_t *)(d->regs + off);
}

static void wr(struct ag_vdev *d, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(d->regs + off) = v;
}

uint32_t ag_virtio_cfg32(struct ag_vdev *d, uint32_t off)
{
	return rd(d, R_CONFIG + off);
}

static int parse_hex(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;
	if ((*p)[0] == '0' && ((*p)[1] == 'x' || (*p)[1] == 'X'))
		*p += 2;
	for (;; (*p)++, n++) {
		char c = **p;
		unsigned dgt;
		if (c >= '0' && c <= '9')
			dgt = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			dgt = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			dgt = (unsigned)(c - 'A' + 10);
		else
			break;
		if (v >> 60)
			return -AG_EINVAL;
		v = v * 16 + dgt;
	}
	*out = v;
	return n ? 0 : -AG_EINVAL;
}

static int parse_dec(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;
	for (; **p >= '0' && **p <= '9' && v < (1ull << 40); (*p)++, n++)
		v = v * 10 + (uint64_t)(**p - '0');
	*out = v;
	return n ? 0 : -AG_EINVAL;
}

/* "virtio_mmio.device=<size>[KMG]@<addr>:<irq>" starting at p (after '=') */
static int parse_device(const char *p, uint64_t *base, uint64_t *size, uint32_t *irq)
{
	uint64_t v;
	if (parse_dec(&p, size))
		return -AG_EINVAL;
	if (*p == 'K' || *p == 'k')
		*size <<= 10, p++;
	if (*p++ != '@' || parse_hex(&p, base) || *p++ != ':' || parse_dec(&p, &v))
		return -AG_EINVAL;
	*irq = (uint32_t)v;
	return *size >= 0x100 && *size <= 0x1000 && !(*base & 0xff) ? 0 : -AG_EINVAL;
}

static bool at_token(const char *line, const char *p)
{
	return p == line || p[-1] == ' ' || p[-1] == '\t';
}

static void *zalloc(uint64_t bytes)
{
	uint64_t p = ag_arena_alloc(ag_memory_arena(), bytes, 4096);
	if (p)
		memset((void *)p, 0, bytes);
	return (void *)p;
}

static int setup_queue(struct ag_vdev *d, struct ag_vq *q, uint16_t qi, uint16_t qsize)
{
	wr(d, R_QUEUE_SEL, qi);
	uint32_t max = rd(d, R_QUEUE_NUM_MAX);
	if (max == 0 || rd(d, R_QUEUE_READY))
		return -AG_EIO;
	uint16_t n = qsize;
	while (n > max)
		n >>= 1;
	q->size = n;
	q->desc = zalloc(16ull * n);
	q->avail = zalloc(6 + 2ull * n);
	q->used = zalloc(6 + 8ull * n);
	if (!q->desc || !q->avail || !q->used)
		return -AG_ENOMEM;
	for (uint16_t i = 0; i < n; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	q->free_head = 0;
	q->nfree = n;
	q->event_idx = d->features & F_EVENT_IDX;
	q->avail[0] = 1;	  /* VRING_AVAIL_F_NO_INTERRUPT: we poll */
	q->avail[2 + n] = 0x8000; /* used_event far ahead: same, with event-idx */
	wr(d, R_QUEUE_NUM, n);
	wr(d, R_DESC_LO, (uint32_t)(uint64_t)q->desc);
	wr(d, R_DESC_HI, (uint32_t)((uint64_t)q->desc >> 32));
	wr(d, R_DRIVER_LO, (uint32_t)(uint64_t)q->avail);
	wr(d, R_DRIVER_HI, (uint32_t)((uint64_t)q->avail >> 32));
	wr(d, R_DEVICE_LO, (uint32_t)(uint64_t)q->used);
	wr(d, R_DEVICE_HI, (uint32_t)((uint64_t)q->used >> 32));
	wr(d, R_QUEUE_READY, 1);
	return rd(d, R_QUEUE_READY) ? 0 : -AG_EIO;
}

static int bring_up(struct ag_vdev *d, uint64_t want, uint16_t qsize, unsigned nq)
{
	wr(d, R_STATUS, 0);
	wr(d, R_STATUS, S_ACK);
	wr(d, R_STATUS, S_ACK | S_DRIVER);
	wr(d, R_DEV_FEATURES_SEL, 0);
	uint64_t f = rd(d, R_DEV_FEATURES);
	wr(d, R_DEV_FEATURES_SEL, 1);
	f |= (uint64_t)rd(d, R_DEV_FEATURES) << 32;
	if (!(f & F_VERSION_1))
		return -AG_EIO; /* legacy devices are not supported */
	d->features = f & (want | F_VERSION_1);
	wr(d, R_DRV_FEATURES_SEL, 0);
	wr(d, R_DRV_FEATURES, (uint32_t)d->features);
	wr(d, R_DRV_FEATURES_SEL, 1);
	wr(d, R_DRV_FEATURES, (uint32_t)(d->features >> 32));
	wr(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(rd(d, R_STATUS) & S_FEATURES_OK))
		return -AG_EIO;
	int rc = setup_queue(d, &d->vq, 0, qsize);
	if (!rc && nq > 1)
		rc = setup_queue(d, &d->vq1, 1, qsize);
	if (rc)
		return rc;
	wr(d, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return 0;
}

int ag_virtio_probe(uint32_t device_id, uint64_t want_features, uint16_t qsize, struct ag_vdev *d)
{
	return ag_virtio_probe_nq(device_id, want_features, qsize, 1, d);
}

int ag_virtio_probe_nq(uint32_t device_id, uint64_t want_features, uint16_t qsize, unsigned nq,
		       struct ag_vdev *d)
{
	static const char key[] = "virtio_mmio.device=";
	const char *line = ag_cmdline_raw();
	for (const char *p = line; *p; p++) {
		uint64_t base, size;
		uint32_t irq;
		size_t k = 0;
		while (key[k] && p[k] == key[k])
			k++;
		if (key[k] || !at_token(line, p) || parse_device(p + k, &base, &size, &irq))
			continue;
		if (ag_paging_map_mmio(base, size))
			return -AG_ENOMEM;
		*d = (struct ag_vdev){.regs = (volatile uint8_t *)base, .base = base, .irq = irq};
		if (rd(d, R_MAGIC) != 0x74726976 || rd(d, R_VERSION) != 2 ||
		    rd(d, R_DEVICE_ID) != device_id)
			continue;
		d->device_id = device_id;
		return bring_up(d, want_features, qsize, nq);
	}
	return -AG_EINVAL;
}

/* vring_need_event(): did the new entries pass the device's avail_event? */
static bool need_kick(const struct ag_vq *q, uint16_t old, uint16_t new)
{
	if (!q->event_idx)
		return !(*(volatile uint16_t *)q->used & 1); /* VRING_USED_F_NO_NOTIFY */
	uint16_t ev = *(volatile uint16_t *)(q->used + 4 + 8u * q->size);
	return (uint16_t)(new - ev - 1) < (uint16_t)(new - old);
}

void ag_virtio_publish(struct ag_vdev *d, uint16_t head)
{
	ag_virtq_publish(d, &d->vq, 0, head);
}

int ag_virtio_used(struct ag_vdev *d, uint32_t *id, uint32_t *len)
{
	return ag_virtq_used(&d->vq, id, len);
}

void ag_virtq_publish(struct ag_vdev *d, struct ag_vq *q, uint16_t qi, uint16_t head)
{
	uint16_t old = q->avail_idx;
	q->avail[2 + (old & (q->size - 1))] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->avail[1] = ++q->avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* avail idx before avail_event */
	if (need_kick(q, old, q->avail_idx)) {
		d->kicks++;
		wr(d, R_QUEUE_NOTIFY, qi);
	}
}

int ag_virtq_used(struct ag_vq *q, uint32_t *id, uint32_t *len)
{
	uint16_t idx = *(volatile uint16_t *)(q->used + 2);
	if (idx == q->last_used)
		return 0;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	volatile uint8_t *e = q->used + 4 + 8u * (q->last_used & (q->size - 1));
	*id = *(volatile uint32_t *)e;
	*len = *(volatile uint32_t *)(e + 4);
	q->last_used++;
	if (q->event_idx) /* we poll: ask for no interrupts until far ahead */
		q->avail[2 + q->size] = (uint16_t)(q->last_used + 0x8000);
	return 1;
}
