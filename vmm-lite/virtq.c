/*
 * Split virtqueues (virtio 1.2 section 2.7), device side.
 *
 * Why this is careful: the rings live in guest memory, which the guest may
 * change at any moment and fill with anything. Every descriptor is copied
 * out once before use (no double fetch), every address/length goes through
 * the translate callback (whole range inside RAM or nothing), every index is
 * checked against the queue or indirect-table size, a chain is cut at the
 * queue size (so a loop ends), an indirect table must be a non-empty
 * multiple of 16 bytes and must not nest, and a request may describe at most
 * max_total bytes (a 4 GiB length is refused). A bad chain fails only that
 * request: the caller completes its head with zero bytes and carries on.
 * The three rings must not overlap: with the used ring on the avail ring,
 * every completion moved avail->idx and the device served forever (found by
 * fuzz_virtio_mmio_blk); a budget of pops per notification (virtq_budget)
 * bounds what buffers that cover the rings can still do.
 * Pure code: tests/unit/test_virtq.c and tests/fuzz/fuzz_virtq.c run it on a
 * plain buffer.
 */
#include <errno.h>
#include <string.h>

#include "vmm-lite/virtio.h"

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

void *vq_flat_translate(void *ctx, uint64_t gpa, uint64_t len)
{
	struct vq_flat *f = ctx;

	if (gpa > f->size || len > f->size - gpa)
		return NULL;
	return f->buf + gpa;
}

static void *xlate(const struct virtq *q, uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return NULL;
	return q->mem.translate(q->mem.ctx, gpa, len);
}

static uint64_t avail_bytes(uint16_t n)
{
	return 6 + 2ull * n; /* flags, idx, ring[n], used_event */
}

static uint64_t used_bytes(uint16_t n)
{
	return 6 + 8ull * n; /* flags, idx, ring[n], avail_event */
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int virtq_enable(struct virtq *q)
{
	uint16_t n = q->size;

	q->desc = q->avail = q->used = NULL;
	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return -EINVAL;
	q->desc = xlate(q, q->desc_gpa, 16ull * n);
	q->avail = xlate(q, q->avail_gpa, avail_bytes(n));
	q->used = xlate(q, q->used_gpa, used_bytes(n));
	if (!q->desc || !q->avail || !q->used ||
	    overlap(q->desc_gpa, 16ull * n, q->avail_gpa, avail_bytes(n)) ||
	    overlap(q->desc_gpa, 16ull * n, q->used_gpa, used_bytes(n)) ||
	    overlap(q->avail_gpa, avail_bytes(n), q->used_gpa, used_bytes(n))) {
		q->desc = q->avail = q->used = NULL;
		return -EINVAL; /* outside RAM, or rings on each other */
	}
	q->last_avail = q->used_idx = 0;
	q->signalled_valid = false;
	q->ready = true;
	return 0;
}

void virtq_reset(struct virtq *q)
{
	struct vq_mem mem = q->mem;
	uint64_t cap = q->max_total;

	memset(q, 0, sizeof(*q));
	q->mem = mem;
	q->max_total = cap;
}

static uint16_t load16(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static void store16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}

static uint16_t avail_idx(const struct virtq *q)
{
	return load16(q->avail + 2);
}

bool virtq_has_avail(const struct virtq *q)
{
	return q->ready && q->avail && avail_idx(q) != q->last_avail;
}

/* One descriptor, copied (the guest may rewrite it under us). */
static struct vring_desc read_desc(const uint8_t *table, uint32_t i)
{
	struct vring_desc d;

	memcpy(&d, table + 16ull * i, sizeof(d));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return d;
}

struct walk {
	struct virtq *q;
	struct vq_req *r;
	const char *why;
	uint64_t total, cap;
	bool seen_write;
};

#define BAD(w, msg) ((w)->why = (msg), -EINVAL)

static int add_seg(struct walk *w, const struct vring_desc *d)
{
	bool wr = d->flags & VIRTQ_DESC_F_WRITE;
	uint8_t *p;

	if (!wr && w->seen_write)
		return BAD(w, "device-readable descriptor after a writable one");
	w->seen_write |= wr;
	w->total += d->len;
	if (w->total > w->cap)
		return BAD(w, "chain describes more bytes than a request may");
	if (d->len == 0)
		return 0;
	if (w->r->nseg >= VIRTQ_MAX_SEGS)
		return BAD(w, "too many descriptors in one chain");
	if (!(p = xlate(w->q, d->addr, d->len)))
		return BAD(w, "descriptor outside guest RAM");
	w->r->seg[w->r->nseg++] = (struct vq_seg){.base = p, .len = d->len, .write = wr};
	if (wr)
		w->r->in_bytes += d->len;
	else {
		w->r->out_bytes += d->len;
		w->r->nout++;
	}
	return 0;
}

/* Walk an indirect table: its own index space, no nesting. */
static int walk_indirect(struct walk *w, const struct vring_desc *ind)
{
	uint32_t n, i = 0, steps = 0;
	const uint8_t *table;

	if (!w->q->indirect)
		return BAD(w, "indirect descriptor but VIRTIO_F_INDIRECT_DESC not negotiated");
	if (ind->flags & VIRTQ_DESC_F_NEXT)
		return BAD(w, "indirect descriptor with NEXT set");
	if (ind->len == 0 || (ind->len & 15))
		return BAD(w, "indirect table length not a non-zero multiple of 16");
	n = ind->len / 16;
	if (n > VIRTQ_MAX_SEGS)
		return BAD(w, "indirect table too long");
	if (!(table = xlate(w->q, ind->addr, ind->len)))
		return BAD(w, "indirect table outside guest RAM");
	for (;;) {
		struct vring_desc d = read_desc(table, i);
		int r;

		if (++steps > n)
			return BAD(w, "indirect descriptor loop");
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return BAD(w, "indirect descriptor inside an indirect table");
		if ((r = add_seg(w, &d)))
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return BAD(w, "indirect next index out of range");
		i = d.next;
	}
}

static int walk_chain(struct walk *w, uint16_t head)
{
	struct virtq *q = w->q;
	uint32_t i = head, steps = 0;

	for (;;) {
		struct vring_desc d = read_desc(q->desc, i);
		int r;

		if (++steps > q->size)
			return BAD(w, "descriptor loop (chain longer than the queue)");
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (steps != 1)
				return BAD(w, "indirect descriptor inside a chain");
			return walk_indirect(w, &d);
		}
		if ((r = add_seg(w, &d)))
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= q->size)
			return BAD(w, "next index out of range");
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, struct vq_req *r, const char **why)
{
	struct walk w = {.q = q, .r = r, .cap = q->max_total ? q->max_total : VIRTQ_MAX_TOTAL};
	uint16_t idx, head;

	*why = NULL;
	if (!q->ready || !q->avail || (q->budgeted && !q->budget))
		return VQ_EMPTY;
	idx = avail_idx(q);
	if (idx == q->last_avail)
		return VQ_EMPTY;
	if (q->budgeted)
		q->budget--;
	if ((uint16_t)(idx - q->last_avail) > q->size) {
		/* the driver claims more new entries than the ring holds */
		q->last_avail = idx;
		q->errors++;
		*why = "avail index moved by more than the queue size";
		return VQ_BAD_HEAD;
	}
	head = load16(q->avail + 4 + 2u * (q->last_avail & (q->size - 1)));
	q->last_avail++;
	r->head = head;
	r->nseg = r->nout = 0;
	r->out_bytes = r->in_bytes = 0;
	if (head >= q->size) {
		q->errors++;
		*why = "avail ring entry (head index) out of range";
		return VQ_BAD_HEAD;
	}
	if (walk_chain(&w, head)) {
		q->errors++;
		*why = w.why;
		r->nseg = r->nout = 0;
		r->out_bytes = r->in_bytes = 0;
		return VQ_BAD_CHAIN;
	}
	return VQ_GOT;
}

void virtq_budget(struct virtq *q, uint32_t pops)
{
	q->budgeted = pops != 0;
	q->budget = pops;
}

bool virtq_budget_spent(const struct virtq *q)
{
	return q->budgeted && !q->budget;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	uint8_t *e;

	if (!q->ready || !q->used)
		return;
	e = q->used + 4 + 8u * (q->used_idx & (q->size - 1));
	memcpy(e, &(uint32_t){head}, 4);
	memcpy(e + 4, &len, 4);
	q->used_idx++;
	store16(q->used + 2, q->used_idx); /* release: the element is visible first */
}

bool virtq_should_notify(struct virtq *q)
{
	uint16_t old = q->signalled_used, new = q->used_idx, event;

	if (!q->ready || !q->avail)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* used->idx before flags/used_event */
	if (!q->event_idx)
		return !(load16(q->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	event = load16(q->avail + 4 + 2u * q->size);
	q->signalled_used = new;
	if (!q->signalled_valid) {
		q->signalled_valid = true;
		return true;
	}
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

void virtq_set_notify(struct virtq *q, bool want_kicks)
{
	if (!q->ready || !q->used)
		return;
	if (q->event_idx)
		/* kick when the driver passes last_avail; half a ring away = never */
		store16(q->used + 4 + 8u * q->size,
			(uint16_t)(q->last_avail + (want_kicks ? 0 : 0x8000)));
	else
		store16(q->used, want_kicks ? 0 : VIRTQ_USED_F_NO_NOTIFY);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static size_t copy_segs(const struct vq_req *r, bool write, size_t off, uint8_t *buf, size_t len,
			bool to_guest)
{
	size_t done = 0;

	for (uint32_t i = 0; i < r->nseg && done < len; i++) {
		const struct vq_seg *s = &r->seg[i];
		size_t n;

		if (s->write != write)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off < len - done ? s->len - off : len - done;
		if (to_guest)
			memcpy(s->base + off, buf + done, n);
		else
			memcpy(buf + done, s->base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t vq_copy_from(const struct vq_req *r, size_t off, void *dst, size_t len)
{
	return copy_segs(r, false, off, dst, len, false);
}

size_t vq_copy_to(const struct vq_req *r, size_t off, const void *src, size_t len)
{
	return copy_segs(r, true, off, (uint8_t *)src, len, true);
}
