/*
 * KVM binary statistics (KVM_GET_STATS_FD) of the VM and each vCPU.
 *
 * Why: exits handled inside the kernel (halts, emulated instructions, page
 * faults, ...) never reach vmm-lite's exit accounting; the binary stats are
 * the kernel's own counters. We snapshot them before the first KVM_RUN and
 * after the guest stops and report before/after/delta with the descriptor's
 * type, unit, base and exponent. The parser is a pure function over the bytes
 * of the stats file so it can be tested with synthetic buffers.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm-lite/vmm.h"

static bool in_buf(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

static uint64_t stat_value(const uint8_t *data, const struct kvm_stat *st)
{
	uint64_t sum = 0, v;

	/* a histogram is reported as its number of samples (sum of buckets) */
	for (uint32_t i = 0; i < st->size; i++) {
		memcpy(&v, data + st->offset + (size_t)i * 8, 8);
		sum += v;
	}
	return sum;
}

static int parse_desc(const uint8_t *buf, size_t len, const struct kvm_stats_header *h, uint32_t i,
		      struct kvm_stat *st)
{
	size_t dsz = sizeof(struct kvm_stats_desc) + h->name_size;
	uint64_t off = h->desc_offset + (uint64_t)i * dsz;
	struct kvm_stats_desc d;
	const char *name;
	size_t nlen;

	if (!in_buf(off, dsz, len))
		return -EINVAL;
	memcpy(&d, buf + off, sizeof(d));
	name = (const char *)buf + off + sizeof(d);
	nlen = strnlen(name, h->name_size);
	if (nlen == 0 || nlen == h->name_size || nlen >= sizeof(st->name))
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	memcpy(st->name, name, nlen);
	st->flags = d.flags;
	st->exponent = d.exponent;
	st->size = d.size;
	st->offset = d.offset;
	if (d.size == 0 || !in_buf((uint64_t)h->data_offset + d.offset, (uint64_t)d.size * 8, len))
		return -EINVAL;
	return 0;
}

int kvm_stats_parse(const uint8_t *buf, size_t len, struct kvm_stats_snap *s, bool after)
{
	struct kvm_stats_header h;
	struct kvm_stat *st;

	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, buf, sizeof(h));
	if (h.num_desc == 0 || h.num_desc > 4096 || h.name_size == 0 || h.name_size > 4096 ||
	    h.data_offset > len)
		return -EINVAL;
	if (after && (!s->stats || s->n != h.num_desc))
		return -EINVAL;
	st = calloc(h.num_desc, sizeof(*st));
	if (!st)
		return -ENOMEM;
	for (uint32_t i = 0; i < h.num_desc; i++) {
		if (parse_desc(buf, len, &h, i, &st[i]) ||
		    (after && strcmp(st[i].name, s->stats[i].name) != 0)) {
			free(st);
			return -EINVAL;
		}
		st[i].before = stat_value(buf + h.data_offset, &st[i]);
	}
	if (after) {
		for (uint32_t i = 0; i < h.num_desc; i++)
			s->stats[i].after = st[i].before;
		free(st);
		return 0;
	}
	free(s->stats);
	s->stats = st;
	s->n = h.num_desc;
	s->data_offset = h.data_offset;
	s->data_len = 0;
	for (uint32_t i = 0; i < s->n; i++)
		if (st[i].offset + (size_t)st[i].size * 8 > s->data_len)
			s->data_len = st[i].offset + (size_t)st[i].size * 8;
	return 0;
}

int kvm_stats_read_values(const struct kvm_stats_snap *s, uint8_t *buf, size_t cap, uint64_t *vals)
{
	ssize_t r;

	if (s->fd < 0 || !s->stats || s->data_len > cap)
		return -EINVAL;
	do
		r = pread(s->fd, buf, s->data_len, (off_t)s->data_offset);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if ((size_t)r != s->data_len)
		return -EIO;
	for (uint32_t i = 0; i < s->n; i++)
		vals[i] = stat_value(buf, &s->stats[i]);
	return 0;
}

bool kvm_stat_is_counter(const struct kvm_stat *st)
{
	uint32_t t = st->flags & KVM_STATS_TYPE_MASK;

	return t == KVM_STATS_TYPE_CUMULATIVE || t == KVM_STATS_TYPE_LINEAR_HIST ||
	       t == KVM_STATS_TYPE_LOG_HIST;
}

int kvm_stats_read_fd(int fd, uint8_t **bufp, size_t *lenp)
{
	size_t cap = 16384, len = 0;
	uint8_t *buf = NULL;

	for (;;) {
		uint8_t *nb = realloc(buf, cap);
		ssize_t r;

		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		r = pread(fd, buf + len, cap - len, (off_t)len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			return -e;
		}
		len += (size_t)r;
		if (r == 0 || len < cap)
			break;
		cap *= 2;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

int kvm_stats_snapshot(struct kvm_stats_snap *s, bool after)
{
	uint8_t *buf;
	size_t len;
	int r = kvm_stats_read_fd(s->fd, &buf, &len);

	if (r)
		return r;
	r = kvm_stats_parse(buf, len, s, after);
	free(buf);
	return r;
}

const struct kvm_stat *kvm_stats_find(const struct kvm_stats_snap *s, const char *name)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (strcmp(s->stats[i].name, name) == 0)
			return &s->stats[i];
	return NULL;
}

static const char *stat_type(uint32_t flags)
{
	switch (flags & KVM_STATS_TYPE_MASK) {
	case KVM_STATS_TYPE_CUMULATIVE:
		return "cumulative";
	case KVM_STATS_TYPE_INSTANT:
		return "instant";
	case KVM_STATS_TYPE_PEAK:
		return "peak";
	case KVM_STATS_TYPE_LINEAR_HIST:
		return "linear-hist";
	case KVM_STATS_TYPE_LOG_HIST:
		return "log-hist";
	default:
		return "unknown";
	}
}

static const char *stat_unit(uint32_t flags)
{
	switch (flags & KVM_STATS_UNIT_MASK) {
	case KVM_STATS_UNIT_NONE:
		return "none";
	case KVM_STATS_UNIT_BYTES:
		return "bytes";
	case KVM_STATS_UNIT_SECONDS:
		return "seconds";
	case KVM_STATS_UNIT_CYCLES:
		return "cycles";
	case KVM_STATS_UNIT_BOOLEAN:
		return "boolean";
	default:
		return "unknown";
	}
}

json_t *kvm_stats_to_json(const struct kvm_stats_snap *s)
{
	json_t *o = json_object();

	for (uint32_t i = 0; i < s->n; i++) {
		const struct kvm_stat *st = &s->stats[i];
		int base = (st->flags & KVM_STATS_BASE_MASK) == KVM_STATS_BASE_POW2 ? 2 : 10;

		json_object_set_new(o, st->name,
				    json_pack("{s:I,s:I,s:I,s:s,s:s,s:i,s:i}", "before",
					      (json_int_t)st->before, "after",
					      (json_int_t)st->after, "delta",
					      (json_int_t)(st->after - st->before), "unit",
					      stat_unit(st->flags), "type", stat_type(st->flags),
					      "base", base, "exponent", (int)st->exponent));
	}
	return o;
}

void kvm_stats_free(struct kvm_stats_snap *s)
{
	free(s->stats);
	s->stats = NULL;
	s->n = 0;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}
