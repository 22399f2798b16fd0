/*
 * Guest RAM allocation with a selectable page backing.
 *
 * Why: the page size that backs guest RAM changes TLB reach and therefore
 * the measured overhead of memory-bound workloads; the suite compares 4k,
 * THP and hugetlbfs backings. When a backing cannot be had on this host we
 * say exactly what to configure instead of silently falling back.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm-lite/vmm.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << MAP_HUGE_SHIFT)
#endif

#define ALIGN_2M (2ULL << 20)

static long read_sysfs_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int alloc_hugetlb(struct guest_mem *m, uint64_t bytes, bool gig, char *err, size_t errlen)
{
	uint64_t page = gig ? (1ULL << 30) : (2ULL << 20);
	const char *dir = gig ? "/sys/kernel/mm/hugepages/hugepages-1048576kB"
			      : "/sys/kernel/mm/hugepages/hugepages-2048kB";
	const char *how = gig ? "boot with hugepagesz=1G hugepages=N or write N to "
				"/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"
			      : "set vm.nr_hugepages (sysctl -w vm.nr_hugepages=N)";
	char path[256];
	long nfree;
	uint64_t need = (bytes + page - 1) / page;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (gig ? MAP_HUGE_1GB : MAP_HUGE_2MB);

	snprintf(path, sizeof(path), "%s/free_hugepages", dir);
	nfree = read_sysfs_long(path);
	if (nfree < 0) {
		snprintf(err, errlen,
			 "backing %s unavailable: %s missing (kernel without %s pages): %s",
			 gig ? "hugetlb-1g" : "hugetlb-2m", dir, gig ? "1 GiB" : "2 MiB", how);
		return -ENOENT;
	}
	if ((uint64_t)nfree < need) {
		snprintf(err, errlen,
			 "backing %s unavailable: need %" PRIu64 " free huge pages, %ld free: %s",
			 gig ? "hugetlb-1g" : "hugetlb-2m", need, nfree, how);
		return -ENOMEM;
	}
	m->map_bytes = need * page;
	m->map = mmap(NULL, m->map_bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (m->map == MAP_FAILED) {
		int e = errno;

		m->map = NULL;
		snprintf(err, errlen, "backing %s unavailable: mmap: %s: %s",
			 gig ? "hugetlb-1g" : "hugetlb-2m", strerror(e), how);
		return -e;
	}
	m->ram = m->map;
	return 0;
}

/* 4k and THP: anonymous memory, 2 MiB aligned so that THP can back the
 * guest's 2 MiB-aligned GPAs with aligned host huge pages. */
static int alloc_anon(struct guest_mem *m, uint64_t bytes, bool thp, char *err, size_t errlen)
{
	uintptr_t start;

	m->map_bytes = bytes + ALIGN_2M;
	m->map = mmap(NULL, m->map_bytes, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->map == MAP_FAILED) {
		int e = errno;

		m->map = NULL;
		snprintf(err, errlen, "cannot map %" PRIu64 " bytes of guest RAM: %s", bytes,
			 strerror(e));
		return -e;
	}
	start = ((uintptr_t)m->map + ALIGN_2M - 1) & ~(uintptr_t)(ALIGN_2M - 1);
	m->ram = (void *)start;
	if (madvise(m->ram, bytes, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)) {
		int e = errno;

		snprintf(err, errlen, "backing %s unavailable: madvise: %s%s", thp ? "thp" : "4k",
			 strerror(e),
			 thp ? " (enable THP: echo madvise > "
			       "/sys/kernel/mm/transparent_hugepage/enabled)"
			     : "");
		return -e;
	}
	return 0;
}

int guest_mem_alloc(struct guest_mem *m, uint64_t bytes, enum backing b, char *err, size_t errlen)
{
	int r;

	memset(m, 0, sizeof(*m));
	m->backing = b;
	switch (b) {
	case BACKING_HUGETLB_2M:
		r = alloc_hugetlb(m, bytes, false, err, errlen);
		break;
	case BACKING_HUGETLB_1G:
		r = alloc_hugetlb(m, bytes, true, err, errlen);
		break;
	case BACKING_THP:
		r = alloc_anon(m, bytes, true, err, errlen);
		break;
	default:
		r = alloc_anon(m, bytes, false, err, errlen);
		break;
	}
	if (r)
		guest_mem_free(m);
	return r;
}

void guest_mem_free(struct guest_mem *m)
{
	if (m->map)
		munmap(m->map, m->map_bytes);
	m->map = m->ram = NULL;
	m->map_bytes = 0;
}
