/*
 * The guest's memory, as the PVH loader describes it.
 *
 * Why: the agent owns all RAM but knows its extent only from hvm_start_info
 * (memmap entries of type 1). This unit copies the command line and the RAM
 * ranges out of the loader's structures (which may live anywhere in RAM and
 * would be overwritten by allocations), then offers the RAM above the agent
 * image as one arena for page tables and workload data.
 */
#include "guest-agent/agent.h"

#define HVM_START_MAGIC 0x336ec578
#define E820_RAM 1

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

extern char __image_end[];

static struct ag_range ram[AG_MAX_RANGES];
static size_t ram_count;
static struct ag_arena arena;

static void copy_cmdline(const struct hvm_start_info *si, char *out, size_t cap)
{
	out[0] = 0;
	if (!si->cmdline_paddr)
		return;
	const char *src = (const char *)si->cmdline_paddr;
	size_t i = 0;
	while (src[i] && i + 1 < cap) {
		out[i] = src[i];
		i++;
	}
	out[i] = 0;
}

static void insert_sorted(uint64_t start, uint64_t end)
{
	size_t i = ram_count++;
	while (i > 0 && ram[i - 1].start > start) {
		ram[i] = ram[i - 1];
		i--;
	}
	ram[i].start = start;
	ram[i].end = end;
}

static int collect_ram(const struct hvm_start_info *si)
{
	const struct hvm_memmap_entry *e = (const struct hvm_memmap_entry *)si->memmap_paddr;
	if (si->version < 1 || !si->memmap_paddr || !si->memmap_entries)
		return -AG_EINVAL;
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		if (e[i].type != E820_RAM || e[i].size == 0)
			continue; /* includes the all-zero terminator */
		if (ram_count == AG_MAX_RANGES)
			return -AG_E2BIG;
		insert_sorted(e[i].addr, e[i].addr + e[i].size);
	}
	return ram_count ? 0 : -AG_EINVAL;
}

int ag_memory_init(uint64_t start_info_gpa, char *cmdline, size_t cmdline_cap)
{
	const struct hvm_start_info *si = (const struct hvm_start_info *)start_info_gpa;
	cmdline[0] = 0;
	if (!si || si->magic != HVM_START_MAGIC)
		return -AG_EINVAL;
	copy_cmdline(si, cmdline, cmdline_cap);
	int rc = collect_ram(si);
	if (rc)
		return rc;
	for (size_t i = 0; i < ram_count; i++) {
		rc = ag_arena_add(&arena, ram[i].start, ram[i].end, (uint64_t)__image_end);
		if (rc)
			return rc;
	}
	return 0;
}

uint64_t ag_memory_ram_bytes(void)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < ram_count; i++)
		sum += ram[i].end - ram[i].start;
	return sum;
}

uint64_t ag_memory_ram_end(void)
{
	return ram_count ? ram[ram_count - 1].end : 0;
}

size_t ag_memory_ram_count(void)
{
	return ram_count;
}

struct ag_range ag_memory_ram(size_t i)
{
	return ram[i];
}

struct ag_arena *ag_memory_arena(void)
{
	return &arena;
}
