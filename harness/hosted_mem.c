/*
 * Workload memory for the hosted runner.
 *
 * Why: inside the guest the agent's memory is mapped before the workload
 * starts, so the bare-metal side must not pay first-touch page faults inside
 * the timed loops either; and the page size backing the data (4 KiB or THP)
 * is the variable the mem-* workloads are sensitive to, so it is chosen
 * explicitly and the huge-page share actually obtained is read back.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness/hosted.h"
#include "vmm-lite/vmm.h"

#define HOSTED_PAGE 4096ul
#define HOSTED_HUGE (2ul << 20)

int hosted_backing_parse(const char *s, enum hosted_backing *out)
{
	if (!strcmp(s, "4k"))
		*out = HOSTED_BACKING_4K;
	else if (!strcmp(s, "thp"))
		*out = HOSTED_BACKING_THP;
	else
		return -EINVAL;
	return 0;
}

const char *hosted_backing_pagesize(enum hosted_backing b)
{
	return b == HOSTED_BACKING_THP ? "2m" : "4k";
}

void hosted_mem_init(struct hosted_mem *m, enum hosted_backing b)
{
	memset(m, 0, sizeof(*m));
	m->backing = b;
}

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* mmap len bytes aligned to a (a power of two), trimming the slack. */
static void *map_aligned(size_t len, size_t a)
{
	size_t map_len = len + a;
	char *raw = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	char *start = (char *)round_up((uintptr_t)raw, a);
	if (start > raw)
		munmap(raw, (size_t)(start - raw));
	size_t tail = (size_t)(raw + map_len - (start + len));
	if (tail)
		munmap(start + len, tail);
	return start;
}

void *hosted_mem_alloc(struct hosted_mem *m, size_t bytes, size_t align)
{
	if (m->nmaps == HOSTED_MAX_MAPPINGS || bytes == 0 || (align & (align - 1)))
		return NULL;
	size_t unit = m->backing == HOSTED_BACKING_THP ? HOSTED_HUGE : HOSTED_PAGE;
	size_t a = align > unit ? align : unit;
	size_t len = round_up(bytes, unit);
	if (len < bytes || len > SIZE_MAX - a)
		return NULL;
	char *p = map_aligned(len, a);
	if (!p)
		return NULL;
	/* MADV_HUGEPAGE fails only when THP is compiled out; the huge share
	 * read back below then says 0 and the caller reports it. */
	(void)madvise(p, len, m->backing == HOSTED_BACKING_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	for (size_t off = 0; off < len; off += HOSTED_PAGE)
		((volatile char *)p)[off] = 0;
	m->maps[m->nmaps].addr = p;
	m->maps[m->nmaps].len = len;
	m->nmaps++;
	m->bytes += len;
	long long huge = hosted_mem_huge_bytes(p, len);
	if (huge > 0)
		m->huge_bytes += (size_t)huge;
	return p;
}

void hosted_mem_release(struct hosted_mem *m)
{
	for (size_t i = 0; i < m->nmaps; i++)
		munmap(m->maps[i].addr, m->maps[i].len);
	m->nmaps = 0;
	m->bytes = m->huge_bytes = 0;
}

/* AnonHugePages of [addr, addr+len) (vmm-lite's smaps reader, one implementation). */
long long hosted_mem_huge_bytes(const void *addr, size_t len)
{
	struct smaps_range r;
	int rc = smaps_range(addr, len, &r);
	return rc ? rc : (long long)r.anon_huge_bytes;
}
