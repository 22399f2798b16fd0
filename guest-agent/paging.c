/*
 * The agent's real identity map: all RAM, with 4 KiB or 2 MiB pages.
 *
 * Why: the static boot map (entry.S) covers only the first 4 GiB with 2 MiB
 * pages and maps holes too. Workloads such as mem-chase measure TLB and
 * page-walk costs, so the page size must be chosen by the run (pagesize=) and
 * only RAM may be mapped (a stray access must fault, not read an MMIO hole).
 * The tables are built here in 64-bit code, which runs natively on PVM; the
 * PML4 is 8 KiB aligned because PVM reads CR3 bit 12 as "user root".
 */
#include "guest-agent/agent.h"
#include "guest-agent/virtio.h"

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
/* PVM runs guest CPL 0 in hardware ring 3 and its shadow MMU keeps the U bit:
 * without U the first native fetch refaults forever (see GUEST-AGENT.md). */
#define PTE_U 0x4ull
#define PTE_PS 0x80ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_ADDR 0x000ffffffffff000ull
#define PAGE_4K 0x1000ull
#define PAGE_2M 0x200000ull
#define PML4_ALIGN 0x2000ull
#define GIB (1ull << 30)

extern char __image_end[];
void *memset(void *s, int c, size_t n);

static uint64_t *pml4;
static uint64_t mapped_end;

static uint64_t *table_alloc(uint64_t align)
{
	uint64_t p = ag_arena_alloc(ag_memory_arena(), PAGE_4K, align);
	if (p)
		memset((void *)p, 0, PAGE_4K);
	return (uint64_t *)p;
}

/* The table that entry `idx` of `t` points to, created when absent. */
static uint64_t *next_table(uint64_t *t, unsigned idx)
{
	if (!(t[idx] & PTE_P)) {
		uint64_t *n = table_alloc(PAGE_4K);
		if (!n)
			return NULL;
		t[idx] = (uint64_t)n | PTE_P | PTE_RW | PTE_U;
	}
	return (uint64_t *)(t[idx] & PTE_ADDR);
}

static int map_page(uint64_t va, uint64_t page)
{
	uint64_t *pdpt = next_table(pml4, (va >> 39) & 511);
	uint64_t *pd = pdpt ? next_table(pdpt, (va >> 30) & 511) : NULL;
	if (!pd)
		return -AG_ENOMEM;
	if (page == PAGE_2M) {
		pd[(va >> 21) & 511] = va | PTE_P | PTE_RW | PTE_U | PTE_PS;
		return 0;
	}
	uint64_t *pt = next_table(pd, (va >> 21) & 511);
	if (!pt)
		return -AG_ENOMEM;
	pt[(va >> 12) & 511] = va | PTE_P | PTE_RW | PTE_U;
	return 0;
}

static int map_range(uint64_t start, uint64_t end, uint64_t page)
{
	start &= ~(page - 1);
	end = (end + page - 1) & ~(page - 1);
	for (uint64_t va = start; va < end; va += page) {
		int rc = map_page(va, page);
		if (rc)
			return rc;
	}
	if (end > mapped_end)
		mapped_end = end;
	return 0;
}

int ag_paging_init(enum ag_pagesize ps)
{
	uint64_t page = ps == AG_PAGE_4K ? PAGE_4K : PAGE_2M;
	pml4 = table_alloc(PML4_ALIGN);
	if (!pml4)
		return -AG_ENOMEM;
	int rc = map_range(0, (uint64_t)__image_end, page);
	for (size_t i = 0; !rc && i < ag_memory_ram_count(); i++) {
		struct ag_range r = ag_memory_ram(i);
		rc = map_range(r.start, r.end, page);
	}
	if (rc)
		return rc;
	__asm__ volatile("mov %0, %%cr3" ::"r"((uint64_t)pml4) : "memory");
	return 0;
}

/* Device registers (virtio-mmio): 4 KiB pages, uncached (PCD|PWT). */
int ag_paging_map_mmio(uint64_t pa, uint64_t len)
{
	for (uint64_t va = pa & ~(PAGE_4K - 1); va < pa + len; va += PAGE_4K) {
		uint64_t *pdpt = next_table(pml4, (va >> 39) & 511);
		uint64_t *pd = pdpt ? next_table(pdpt, (va >> 30) & 511) : NULL;
		if (!pd || (pd[(va >> 21) & 511] & PTE_PS))
			return -AG_ENOMEM; /* a 2 MiB RAM page there: not a device */
		uint64_t *pt = next_table(pd, (va >> 21) & 511);
		if (!pt)
			return -AG_ENOMEM;
		pt[(va >> 12) & 511] = va | PTE_P | PTE_RW | PTE_U | PTE_PCD | PTE_PWT;
		__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
	}
	return 0;
}

uint64_t ag_paging_unmapped_address(void)
{
	return ((mapped_end + GIB - 1) & ~(GIB - 1)) + GIB;
}
