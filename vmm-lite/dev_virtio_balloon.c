/*
 * virtio-balloon (virtio 1.2 section 5.5), minimal: inflateq, deflateq and the
 * config fields num_pages (the target, in 4 KiB pages) and actual. No stats
 * queue, no free-page hinting, no feature bits.
 *
 * Why: `mem-pressure` needs a way to take memory from a running guest that is
 * the VM's own mechanism, not the host's cgroup: the guest gives pages back
 * (it can no longer use them) and the host releases their backing with
 * MADV_DONTNEED. Everything the guest posts is untrusted: each PFN is checked
 * to be a whole 4 KiB page of guest RAM (a memmap RAM entry that is mapped),
 * a bad PFN fails that entry only, and a page already inflated is counted as
 * a duplicate rather than released again. The host time spent releasing and
 * how much of it was resident (mincore, just before) are measured, because
 * releasing pages the guest never touched frees nothing.
 * The device runs on the virtio-user path (kicks are MMIO exits served on the
 * vCPU thread): inflation is a one-off at guest start, not a data path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm-lite/virtio.h"

#define PFN_BATCH 256 /* PFNs copied out of a chain at a time */

struct balloon {
	struct virtio_mmio t;
	struct io_stats st; /* the transport's exits (not part of the "io" object) */
	struct balloon_core core;
	uint32_t num_pages, actual;
	uint64_t actual_writes, requests, bad_requests;
};

int balloon_core_init(struct balloon_core *c, const struct guest_layout *l, void *ram)
{
	memset(c, 0, sizeof(*c));
	c->layout = l;
	c->ram = ram;
	c->map_pages = (l->low_ram_bytes + l->high_ram_bytes) / BALLOON_PAGE;
	c->inflated_map = calloc((c->map_pages + 7) / 8 + 1, 1);
	return c->inflated_map ? 0 : -ENOMEM;
}

void balloon_core_free(struct balloon_core *c)
{
	free(c->inflated_map);
	c->inflated_map = NULL;
}

/* host page index of a guest PFN, or -EFAULT when it is not a whole RAM page */
static int64_t page_index(const struct balloon_core *c, uint32_t pfn)
{
	uint64_t gpa = (uint64_t)pfn * BALLOON_PAGE;
	uint8_t *hva;
	uint64_t i;

	if (!layout_is_ram(c->layout, gpa, BALLOON_PAGE))
		return -EFAULT;
	hva = layout_gpa_to_hva(c->layout, c->ram, gpa, BALLOON_PAGE);
	if (!hva)
		return -EFAULT;
	i = (uint64_t)(hva - (uint8_t *)c->ram) / BALLOON_PAGE;
	return i < c->map_pages ? (int64_t)i : -EFAULT;
}

static bool test_bit(const uint8_t *m, uint64_t i)
{
	return m[i / 8] & (1u << (i % 8));
}

static void set_bit(uint8_t *m, uint64_t i, bool v)
{
	if (v)
		m[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		m[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

int balloon_inflate_pfn(struct balloon_core *c, uint32_t pfn)
{
	int64_t i = page_index(c, pfn);
	uint8_t *hva, res = 0;
	uint64_t t0;

	c->inflate_pfns++;
	if (i < 0) {
		c->bad_pfns++;
		return -EFAULT;
	}
	if (test_bit(c->inflated_map, (uint64_t)i)) {
		c->duplicate_pfns++;
		return -EEXIST;
	}
	hva = (uint8_t *)c->ram + (uint64_t)i * BALLOON_PAGE;
	t0 = now_ns();
	if (!mincore(hva, BALLOON_PAGE, &res) && (res & 1))
		c->resident_bytes += BALLOON_PAGE;
	if (madvise(hva, BALLOON_PAGE, MADV_DONTNEED)) {
		c->release_ns += now_ns() - t0;
		c->release_errors++;
		return -EIO;
	}
	c->release_ns += now_ns() - t0;
	c->released_bytes += BALLOON_PAGE;
	set_bit(c->inflated_map, (uint64_t)i, true);
	c->inflated++;
	return 0;
}

int balloon_deflate_pfn(struct balloon_core *c, uint32_t pfn)
{
	int64_t i = page_index(c, pfn);

	c->deflate_pfns++;
	if (i < 0) {
		c->bad_pfns++;
		return -EFAULT;
	}
	if (!test_bit(c->inflated_map, (uint64_t)i))
		return -ENOENT;
	set_bit(c->inflated_map, (uint64_t)i, false);
	c->inflated--;
	c->deflated++;
	return 0;
}

/* config: le32 num_pages, le32 actual (the two hint fields read as 0) */
static void balloon_config_read(struct virtio_mmio *t, uint64_t off, uint8_t *data, uint32_t len)
{
	struct balloon *b = t->priv;
	uint8_t cfg[16] = {0};

	memcpy(cfg, &b->num_pages, 4);
	memcpy(cfg + 4, &b->actual, 4);
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, len < sizeof(cfg) - off ? len : sizeof(cfg) - off);
}

/* only `actual` is driver-writable, as one aligned 32-bit store */
static void balloon_config_write(struct virtio_mmio *t, uint64_t off, const uint8_t *data,
				 uint32_t len)
{
	struct balloon *b = t->priv;

	if (off != 4 || len != 4)
		return;
	memcpy(&b->actual, data, 4);
	b->actual_writes++;
}

static void serve_pfns(struct balloon *b, const struct vq_req *r, bool inflate)
{
	uint32_t pfns[PFN_BATCH];
	uint64_t n = r->out_bytes / 4, done = 0;

	while (done < n) {
		size_t k = n - done < PFN_BATCH ? (size_t)(n - done) : PFN_BATCH;

		k = vq_copy_from(r, done * 4, pfns, k * 4) / 4;
		if (!k)
			break;
		for (size_t i = 0; i < k; i++) {
			if (inflate)
				balloon_inflate_pfn(&b->core, pfns[i]);
			else
				balloon_deflate_pfn(&b->core, pfns[i]);
		}
		done += k;
	}
}

static void balloon_process(struct virtio_mmio *t, struct virtq *q)
{
	struct balloon *b = t->priv;
	bool inflate = q == &t->vq[BALLOON_INFLATEQ];
	struct vq_req *r = malloc(sizeof(*r));
	const char *why;
	int got;

	if (!r)
		return;
	while ((got = virtq_pop(q, r, &why)) != VQ_EMPTY) {
		if (got == VQ_BAD_HEAD) {
			b->bad_requests++;
			continue;
		}
		if (got == VQ_BAD_CHAIN || r->in_bytes || (r->out_bytes & 3))
			b->bad_requests++; /* a writable part or a partial PFN: refused whole */
		else {
			b->requests++;
			serve_pfns(b, r, inflate);
		}
		virtio_mmio_complete(t, q, r->head, 0);
	}
	free(r);
}

static const struct virtio_dev_ops virtio_balloon_ops = {
    .name = "virtio-balloon",
    .device_id = VIRTIO_ID_BALLOON,
    .features = 0,
    .config_read = balloon_config_read,
    .config_write = balloon_config_write,
    .process = balloon_process,
    .nqueues = 2,
};

int balloon_setup(struct vm *vm, uint32_t index, uint64_t target_bytes, struct balloon **out,
		  char *err, size_t errlen)
{
	struct balloon *b;
	int r;

	*out = NULL;
	if (target_bytes == 0 || target_bytes >= vm->layout.ram_bytes ||
	    target_bytes / BALLOON_PAGE > UINT32_MAX) {
		snprintf(err, errlen, "--balloon %llu MiB: must be at least 1 and below --mem",
			 (unsigned long long)(target_bytes >> 20));
		return -EINVAL;
	}
	if (!(b = calloc(1, sizeof(*b))))
		return -ENOMEM;
	*out = b;
	b->t.ioeventfd = b->t.irqfd = -1; /* balloon_destroy before virtio_mmio_init closes none */
	b->num_pages = (uint32_t)(target_bytes / BALLOON_PAGE);
	if ((r = balloon_core_init(&b->core, &vm->layout, vm->mem.ram)))
		return r;
	/* virtio-user always: no backend thread, kicks served on the vCPU thread */
	return virtio_mmio_init(&b->t, vm, index, &virtio_balloon_ops, b, IO_TECH_VIRTIO_USER,
				&b->st, err, errlen);
}

int balloon_cmdline(const struct balloon *b, char *buf, size_t len)
{
	return virtio_mmio_cmdline(&b->t, buf, len);
}

void balloon_destroy(struct balloon *b)
{
	if (!b)
		return;
	virtio_mmio_destroy(&b->t);
	balloon_core_free(&b->core);
	free(b);
}

const struct guest_errlog *balloon_errlog(const struct balloon *b)
{
	return b ? &b->t.errlog : NULL;
}

json_t *balloon_to_json(const struct balloon *b)
{
	const struct balloon_core *c;

	if (!b)
		return json_null();
	c = &b->core;
	json_t *j = json_pack(
	    "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "target_pages", (json_int_t)b->num_pages,
	    "actual_pages", (json_int_t)b->actual, "inflated_pages", (json_int_t)c->inflated,
	    "deflated_pages", (json_int_t)c->deflated, "released_bytes",
	    (json_int_t)c->released_bytes, "resident_released_bytes", (json_int_t)c->resident_bytes,
	    "bad_pfns", (json_int_t)c->bad_pfns, "duplicate_pfns", (json_int_t)c->duplicate_pfns);
	json_object_set_new(j, "inflate_pfns", json_integer((json_int_t)c->inflate_pfns));
	json_object_set_new(j, "deflate_pfns", json_integer((json_int_t)c->deflate_pfns));
	json_object_set_new(j, "release_errors", json_integer((json_int_t)c->release_errors));
	json_object_set_new(j, "release_ns", json_integer((json_int_t)c->release_ns));
	json_object_set_new(j, "requests", json_integer((json_int_t)b->requests));
	json_object_set_new(j, "bad_requests", json_integer((json_int_t)b->bad_requests));
	json_object_set_new(j, "actual_writes", json_integer((json_int_t)b->actual_writes));
	json_object_set_new(j, "exits", json_integer((json_int_t)b->st.exits));
	json_object_set_new(j, "page_bytes", json_integer(BALLOON_PAGE));
	json_object_set_new(j, "unit_time", json_string("ns"));
	return j;
}
