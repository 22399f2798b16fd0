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
#include <stdlib.h>
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

/* Rss and AnonHugePages of the VMAs overlapping [lo, hi) in an smaps text,
 * each capped by the overlap. Pure over the stream (unit tested with
 * fmemopen); the one smaps reader of vmm-lite and the hosted runner. */
int smaps_range_read(FILE *f, uintptr_t lo, uintptr_t hi, struct smaps_range *out)
{
	uintptr_t vs = 0, ve = 0;
	char line[512];

	memset(out, 0, sizeof(*out));
	while (fgets(line, sizeof(line), f)) {
		uintptr_t s, e;
		unsigned long long kb;

		if (line[0] != ' ' && strchr(line, '-') &&
		    sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &s, &e) == 2) {
			vs = s;
			ve = e;
			continue;
		}
		if (ve <= lo || vs >= hi)
			continue;
		uint64_t ovl = (ve < hi ? ve : hi) - (vs > lo ? vs : lo);
		if (sscanf(line, "Rss: %llu kB", &kb) == 1)
			out->rss_bytes += kb * 1024 < ovl ? kb * 1024 : ovl;
		else if (sscanf(line, "AnonHugePages: %llu kB", &kb) == 1)
			out->anon_huge_bytes += kb * 1024 < ovl ? kb * 1024 : ovl;
	}
	return ferror(f) ? -EIO : 0;
}

int smaps_range(const void *addr, size_t len, struct smaps_range *out)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	int r;

	if (!f)
		return -errno;
	r = smaps_range_read(f, (uintptr_t)addr, (uintptr_t)addr + len, out);
	fclose(f);
	return r;
}

json_t *guest_mem_to_json(const struct guest_mem *m, uint64_t ram_bytes,
			  const struct kvm_stats_snap *vm_stats)
{
	struct smaps_range r;
	json_t *j = json_pack("{s:s,s:I}", "backing", backing_name(m->backing), "ram_bytes",
			      (json_int_t)ram_bytes);
	int rc = m->ram ? smaps_range(m->ram, ram_bytes, &r) : -ENOENT;

	if (rc) {
		json_object_set_new(j, "rss_bytes", json_null());
		json_object_set_new(j, "anon_huge_bytes", json_null());
		json_object_set_new(j, "huge_share", json_null());
		json_object_set_new(j, "reason", json_string(strerror(-rc)));
	} else {
		json_object_set_new(j, "rss_bytes", json_integer((json_int_t)r.rss_bytes));
		json_object_set_new(j, "anon_huge_bytes",
				    json_integer((json_int_t)r.anon_huge_bytes));
		json_object_set_new(j, "huge_share",
				    r.rss_bytes
					? json_real((double)r.anon_huge_bytes / (double)r.rss_bytes)
					: json_null());
	}
	json_t *pages = json_object();
	for (const char *const *n = (const char *const[]){"pages_4k", "pages_2m", "pages_1g", NULL};
	     *n; n++) {
		const struct kvm_stat *st = vm_stats ? kvm_stats_find(vm_stats, *n) : NULL;
		json_object_set_new(pages, *n + 6,
				    st ? json_integer((json_int_t)st->after) : json_null());
	}
	json_object_set_new(j, "kvm_pages", pages);
	return j;
}
