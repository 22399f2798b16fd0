/*
 * Timed-region markers (include/virttax/region.h): the guest side of
 * wl_env.region.
 *
 * Why: the VMM can only count what happened inside a workload's timed
 * interval if it is told, at the moment it happens, where the interval
 * starts and ends; a port write is the one thing that stops the guest right
 * there. The descriptor lives in the agent's own memory (identity mapped, so
 * its address is its guest-physical address, below 4 GiB); one `outl` per
 * marker hands the VMM that address. The device is probed once (vmm-lite
 * answers a magic value, QEMU has no such port and reads all-ones), so under
 * another VMM the hook is simply absent. Markers are sent from the workload's
 * main CPU only.
 */
#include "guest-agent/agent.h"
#include "virttax/region.h"

static struct vtx_region_marker marker __attribute__((aligned(64)));
static uint64_t marker_seq;

static void region_send(struct wl_env *env, unsigned edge, const char *label)
{
	(void)env;
	marker.magic = VTX_REGION_MAGIC;
	marker.edge = edge;
	marker.seq = ++marker_seq;
	size_t i = 0;
	for (; label[i] && i + 1 < sizeof(marker.label); i++)
		marker.label[i] = label[i];
	for (; i < sizeof(marker.label); i++)
		marker.label[i] = 0;
	__asm__ volatile("" ::: "memory"); /* the descriptor is complete before the exit */
	ag_outl(VTX_REGION_PORT, (uint32_t)(uintptr_t)&marker);
}

void ag_region_install(struct wl_env *env)
{
	if ((uintptr_t)&marker >= (1ull << 32) || ag_inl(VTX_REGION_PORT) != VTX_REGION_MAGIC)
		return;
	env->region = region_send;
	for (int i = 0; i < VTX_REGION_NULL_COUNT; i++) {
		region_send(env, VTX_REGION_BEGIN, VTX_REGION_NULL_LABEL);
		region_send(env, VTX_REGION_END, VTX_REGION_NULL_LABEL);
	}
}
