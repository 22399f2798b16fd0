/*
 * Bump allocation over the guest's RAM ranges.
 *
 * Why: workloads ask for large blocks (mem-chase: up to 1 GiB) and release
 * everything when they return; the agent also needs page-table pages. A bump
 * pointer over the usable RAM ranges (from the PVH memmap, above the agent
 * image) does both with no metadata, and a mark/reset pair frees a whole
 * workload's memory at once. Pure arithmetic on addresses: also compiled
 * hosted by tests/integration/test_agent_arena.c.
 */
#include "guest-agent/agent.h"

int ag_arena_add(struct ag_arena *a, uint64_t start, uint64_t end, uint64_t floor)
{
	if (start < floor)
		start = floor;
	if (end <= start)
		return 0;
	if (a->nranges && start < a->ranges[a->nranges - 1].end)
		return -AG_EINVAL;
	if (a->nranges == AG_MAX_RANGES)
		return -AG_E2BIG;
	a->ranges[a->nranges].start = start;
	a->ranges[a->nranges].end = end;
	if (a->nranges == 0) {
		a->cur = 0;
		a->next = start;
	}
	a->nranges++;
	return 0;
}

static uint64_t align_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

uint64_t ag_arena_alloc(struct ag_arena *a, uint64_t bytes, uint64_t align)
{
	if (bytes == 0 || align == 0 || (align & (align - 1)))
		return 0;
	for (size_t i = a->cur; i < a->nranges; i++) {
		uint64_t from = i == a->cur ? a->next : a->ranges[i].start;
		uint64_t p = align_up(from, align);
		if (p < from || p > a->ranges[i].end || a->ranges[i].end - p < bytes)
			continue;
		a->cur = i;
		a->next = p + bytes;
		return p;
	}
	return 0;
}

struct ag_arena_mark ag_arena_mark(const struct ag_arena *a)
{
	return (struct ag_arena_mark){a->cur, a->next};
}

void ag_arena_reset(struct ag_arena *a, struct ag_arena_mark m)
{
	a->cur = m.cur;
	a->next = m.next;
}

uint64_t ag_arena_free_bytes(const struct ag_arena *a)
{
	uint64_t sum = 0;
	for (size_t i = a->cur; i < a->nranges; i++)
		sum += a->ranges[i].end - (i == a->cur ? a->next : a->ranges[i].start);
	return sum;
}
