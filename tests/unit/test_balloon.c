/*
 * Unit tests of virtio-balloon's inflate/deflate PFN handling
 * (vmm-lite/dev_virtio_balloon.c) against hostile PFNs: outside RAM, in the
 * reserved boot/VIF page and the legacy hole, huge values, duplicates. Each
 * bad PFN fails alone; a good one is released (reads back as zero) without
 * touching its neighbours.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm-lite/virtio.h"

#define RAM (32ull << 20)

static struct guest_layout l;
static uint8_t *ram;
static struct balloon_core c;

static void setup(void)
{
	cr_assert_eq(layout_build(&l, RAM, 1), 0);
	ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(ram, MAP_FAILED);
	cr_assert_eq(balloon_core_init(&c, &l, ram), 0);
}

static void teardown(void)
{
	balloon_core_free(&c);
	munmap(ram, RAM);
}

TestSuite(balloon, .init = setup, .fini = teardown);

static uint32_t pfn_of(uint64_t gpa)
{
	return (uint32_t)(gpa / BALLOON_PAGE);
}

Test(balloon, good_pfn_is_released_and_neighbours_kept)
{
	uint64_t gpa = 8ull << 20;
	memset(ram + gpa - BALLOON_PAGE, 0xab, 3 * BALLOON_PAGE);
	cr_assert_eq(balloon_inflate_pfn(&c, pfn_of(gpa)), 0);
	cr_assert_eq(c.inflated, 1);
	cr_assert_eq(c.released_bytes, BALLOON_PAGE);
	cr_assert_eq(c.resident_bytes, BALLOON_PAGE, "the page was touched: resident before");
	for (uint32_t i = 0; i < BALLOON_PAGE; i++)
		cr_assert_eq(ram[gpa + i], 0, "released page reads back as zero");
	cr_assert_eq(ram[gpa - 1], 0xab);
	cr_assert_eq(ram[gpa + BALLOON_PAGE], 0xab);
	cr_assert_eq(c.bad_pfns, 0);
}

Test(balloon, untouched_page_released_but_not_resident)
{
	cr_assert_eq(balloon_inflate_pfn(&c, pfn_of(16ull << 20)), 0);
	cr_assert_eq(c.released_bytes, BALLOON_PAGE);
	cr_assert_eq(c.resident_bytes, 0);
}

Test(balloon, hostile_pfns_fail_alone)
{
	const uint32_t bad[] = {
	    pfn_of(RAM),	     /* first page past RAM */
	    pfn_of(RAM) + 12345,     /* further out */
	    UINT32_MAX,		     /* 16 TiB */
	    pfn_of(0xfeb00000ull),   /* the virtio-mmio window */
	    pfn_of(GPA_START_INFO),  /* reserved: start info / VIF pages */
	    pfn_of(GPA_LEGACY_HOLE), /* reserved: 640K-1M */
	    pfn_of(1ull << 32),	     /* 4 GiB: no high RAM with 32M */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(balloon_inflate_pfn(&c, bad[i]), -EFAULT, "pfn %#x", bad[i]);
	cr_assert_eq(c.bad_pfns, sizeof(bad) / sizeof(bad[0]));
	cr_assert_eq(c.inflated, 0);
	cr_assert_eq(c.released_bytes, 0);
	/* the device still serves a good PFN after them */
	cr_assert_eq(balloon_inflate_pfn(&c, pfn_of(RAM) - 1), 0, "last page of RAM is good");
	cr_assert_eq(c.inflated, 1);
	cr_assert_eq(c.inflate_pfns, sizeof(bad) / sizeof(bad[0]) + 1);
}

Test(balloon, duplicates_are_not_released_twice)
{
	uint32_t p = pfn_of(4ull << 20);
	cr_assert_eq(balloon_inflate_pfn(&c, p), 0);
	cr_assert_eq(balloon_inflate_pfn(&c, p), -EEXIST);
	cr_assert_eq(balloon_inflate_pfn(&c, p), -EEXIST);
	cr_assert_eq(c.inflated, 1);
	cr_assert_eq(c.duplicate_pfns, 2);
	cr_assert_eq(c.released_bytes, BALLOON_PAGE);
	cr_assert_eq(c.bad_pfns, 0);
}

Test(balloon, deflate_only_what_was_inflated)
{
	uint32_t p = pfn_of(4ull << 20);
	cr_assert_eq(balloon_deflate_pfn(&c, p), -ENOENT);
	cr_assert_eq(balloon_deflate_pfn(&c, UINT32_MAX), -EFAULT);
	cr_assert_eq(balloon_inflate_pfn(&c, p), 0);
	cr_assert_eq(balloon_deflate_pfn(&c, p), 0);
	cr_assert_eq(c.inflated, 0);
	cr_assert_eq(c.deflated, 1);
	cr_assert_eq(balloon_inflate_pfn(&c, p), 0, "a deflated page may be inflated again");
	cr_assert_eq(c.released_bytes, 2 * BALLOON_PAGE);
	cr_assert_eq(c.bad_pfns, 1);
}
