/*
 * virtio-blk driver of the agent, and wl_blk_get() for the I/O workloads.
 *
 * Why: blk-seq/blk-rand need several requests in flight with one vCPU, so
 * each request is a 3-descriptor chain (header, data, status) on one queue;
 * submission and completion are separate (submit / reap), completion is
 * polled. The probe order is virtio-blk from the command line, then an
 * ATA-PIO disk at 0x1f0 (the `emulated` technique). The virtq-bad selftest
 * posts hostile chains (descriptor outside RAM, loop, 4 GiB length, nested
 * indirect) and checks that the device fails each and then still serves.
 */
#include "guest-agent/agent.h"
#include "guest-agent/virtio.h"
#include "virttax/protocol.h"

#define VIRTIO_ID_BLOCK 2
#define F_INDIRECT (1ull << 28)
#define F_EVENT_IDX (1ull << 29)
#define D_NEXT 1
#define D_WRITE 2
#define D_INDIRECT 4
#define QSIZE 128
#define MAX_TAGS 64
#define T_IN 0
#define T_OUT 1
#define SECTOR 512

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

struct vblk {
	struct wl_blk pub;
	struct ag_vdev dev;
	struct blk_hdr *hdr;	  /* [MAX_TAGS] */
	volatile uint8_t *status; /* [MAX_TAGS] */
	uint32_t tag_of_head[QSIZE];
};

static struct vblk vb;
static struct wl_blk *probed;
static bool probe_done;

static int desc_alloc(struct ag_vq *q)
{
	if (!q->nfree)
		return -1;
	uint16_t i = q->free_head;
	q->free_head = q->desc[i].next;
	q->nfree--;
	return i;
}

static void chain_free(struct ag_vq *q, uint16_t head)
{
	uint16_t i = head, n = 1;
	while ((q->desc[i].flags & D_NEXT) && n < q->size) {
		i = q->desc[i].next;
		n++;
	}
	q->desc[i].next = q->free_head;
	q->free_head = head;
	q->nfree = (uint16_t)(q->nfree + n);
}

static void set_desc(struct ag_vq *q, int i, uint64_t addr, uint32_t len, uint16_t flags, int next)
{
	q->desc[i].addr = addr;
	q->desc[i].len = len;
	q->desc[i].flags = flags;
	if (next >= 0)
		q->desc[i].next = (uint16_t)next;
}

static int vblk_submit(struct wl_blk *b, uint32_t tag, bool write, uint64_t off, void *buf,
		       uint32_t len)
{
	struct vblk *v = b->priv;
	struct ag_vq *q = &v->dev.vq;
	if (tag >= MAX_TAGS || (off | len) % SECTOR || off + len > b->capacity || !len)
		return -AG_EINVAL;
	if (q->nfree < 3)
		return -11; /* -EAGAIN */
	int h = desc_alloc(q), d = desc_alloc(q), s = desc_alloc(q);
	v->hdr[tag] = (struct blk_hdr){.type = write ? T_OUT : T_IN, .sector = off / SECTOR};
	v->status[tag] = 0xff;
	set_desc(q, h, (uint64_t)&v->hdr[tag], sizeof(struct blk_hdr), D_NEXT, d);
	set_desc(q, d, (uint64_t)buf, len, (uint16_t)(D_NEXT | (write ? 0 : D_WRITE)), s);
	set_desc(q, s, (uint64_t)&v->status[tag], 1, D_WRITE, -1);
	v->tag_of_head[h] = tag;
	ag_virtio_publish(&v->dev, (uint16_t)h);
	return 0;
}

static int vblk_reap(struct wl_blk *b, uint32_t *tag, int *status)
{
	struct vblk *v = b->priv;
	uint32_t id, len;
	if (!ag_virtio_used(&v->dev, &id, &len))
		return 0;
	if (id >= v->dev.vq.size) {
		*tag = 0;
		*status = -AG_EIO;
		return 1;
	}
	*tag = v->tag_of_head[id];
	*status = len >= 1 && v->status[*tag] == 0 ? 0 : -AG_EIO;
	chain_free(&v->dev.vq, (uint16_t)id);
	return 1;
}

static struct wl_blk *vblk_probe(void)
{
	if (ag_virtio_probe(VIRTIO_ID_BLOCK, F_INDIRECT | F_EVENT_IDX, QSIZE, &vb.dev))
		return NULL;
	vb.hdr = (struct blk_hdr *)ag_arena_alloc(ag_memory_arena(),
						  sizeof(struct blk_hdr) * MAX_TAGS, 64);
	vb.status = (volatile uint8_t *)ag_arena_alloc(ag_memory_arena(), MAX_TAGS, 64);
	if (!vb.hdr || !vb.status)
		return NULL;
	uint64_t sectors = ag_virtio_cfg32(&vb.dev, 0) | (uint64_t)ag_virtio_cfg32(&vb.dev, 4)
							     << 32;
	uint32_t inflight = vb.dev.vq.size / 3;
	vb.pub = (struct wl_blk){.driver = "virtio-blk",
				 .capacity = sectors * SECTOR,
				 .max_inflight = inflight < MAX_TAGS ? inflight : MAX_TAGS,
				 .max_bytes = 4u << 20,
				 .submit = vblk_submit,
				 .reap = vblk_reap,
				 .priv = &vb};
	return &vb.pub;
}

/* The arena is reset after each workload; the driver's rings must survive
 * it, so the probe happens once, before the workload's mark (see docs/IO.md). */
struct wl_blk *wl_blk_get(void)
{
	if (!probe_done) {
		probe_done = true;
		probed = vblk_probe();
		if (!probed)
			probed = ag_ata_probe();
	}
	return probed;
}

/* ---- vtx.selftest=virtq-bad ---- */

/* Post a prepared chain at `head`, wait for it, return the used length
 * (0xffffffff when the device never completes it within ~2 s of spinning). */
static uint32_t post_wait(uint16_t head)
{
	ag_virtio_publish(&vb.dev, head);
	uint64_t t0 = ag_rdtsc();
	for (;;) {
		uint32_t id, len;
		if (ag_virtio_used(&vb.dev, &id, &len))
			return id == head ? len : 0xfffffffe;
		if (ag_rdtsc() - t0 > 6000000000ull)
			return 0xffffffff;
		__asm__ volatile("pause");
	}
}

static void check(const char *what, bool ok)
{
	char msg[AG_ERR_MAX] = "virtq-bad: ";
	ag_strlcat(msg, sizeof(msg), what);
	ag_strlcat(msg, sizeof(msg), ok ? ": failed by the device, as it must be" : ": NOT failed");
	ag_log(msg);
	if (!ok) {
		ag_error("", msg);
		ag_finish(VTX_GUEST_PANIC);
	}
}

/* descriptors 0..3 are used by hand here; the free list is not */
static void bad_case(const char *what, uint64_t addr, uint32_t len, uint16_t flags, int loop)
{
	struct ag_vq *q = &vb.dev.vq;
	vb.hdr[0] = (struct blk_hdr){.type = T_IN, .sector = 0};
	vb.status[0] = 0xff;
	set_desc(q, 0, (uint64_t)&vb.hdr[0], 16, D_NEXT, 1);
	set_desc(q, 1, addr, len, (uint16_t)(flags | D_NEXT), loop ? 1 : 2); /* self loop */
	set_desc(q, 2, (uint64_t)&vb.status[0], 1, D_WRITE, -1);
	uint32_t used = post_wait(0);
	check(what, used == 0 && vb.status[0] == 0xff);
}

__attribute__((noreturn)) void ag_selftest_virtq_bad(void)
{
	if (!wl_blk_get() || probed != &vb.pub) {
		ag_error("", "virtq-bad: no virtio-blk device (run with vmm-lite --blk FILE)");
		ag_finish(VTX_GUEST_PANIC);
	}
	struct ag_vq *q = &vb.dev.vq;
	uint64_t buf = ag_arena_alloc(ag_memory_arena(), 8192, 4096);
	uint64_t far = (ag_memory_ram_end() + (1ull << 30)) & ~0xfffull;
	q->nfree = 0; /* the free list is bypassed from here on */
	bad_case("descriptor outside guest RAM", far, 4096, D_WRITE, 0);
	bad_case("descriptor loop", buf, 512, D_WRITE, 1);
	bad_case("4 GiB length", buf, 0xffffffffu, D_WRITE, 0);
	/* indirect table whose entry is itself indirect */
	volatile struct ag_vring_desc *tbl = (volatile struct ag_vring_desc *)(buf + 4096);
	tbl[0] = (struct ag_vring_desc){.addr = buf + 4096, .len = 32, .flags = D_INDIRECT};
	set_desc(q, 3, buf + 4096, 32, D_INDIRECT, -1);
	check("indirect descriptor inside an indirect table", post_wait(3) == 0);
	/* and the device still serves a good request */
	vb.hdr[1] = (struct blk_hdr){.type = T_IN, .sector = 0};
	vb.status[1] = 0xff;
	set_desc(q, 0, (uint64_t)&vb.hdr[1], 16, D_NEXT, 1);
	set_desc(q, 1, buf, 512, D_WRITE | D_NEXT, 2);
	set_desc(q, 2, (uint64_t)&vb.status[1], 1, D_WRITE, -1);
	uint32_t len = post_wait(0);
	if (len != 513 || vb.status[1] != 0) {
		ag_error("", "virtq-bad: a good request after the bad ones failed");
		ag_finish(VTX_GUEST_PANIC);
	}
	ag_log("virtq-bad: a good request after them completed (513 bytes)");
	ag_finish(VTX_GUEST_OK);
}
