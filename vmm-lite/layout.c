/*
 * The guest-physical memory map of a vmm-lite guest.
 *
 * Why: the loader, the VM setup and the start_info memmap must agree on one
 * layout, and it must be testable without KVM. Low 4 GiB keep the PC shape
 * (legacy hole at 640 KiB, nothing above 3 GiB so the LAPIC/IOAPIC/TSS pages
 * near 4 GiB stay free); RAM beyond 3 GiB is placed above 4 GiB, as QEMU does.
 * The boot info area and the per-vCPU PVM VIF pages are marked reserved.
 */
#include <errno.h>
#include <string.h>

#include "vmm-lite/vmm.h"

uint64_t layout_vif_gpa(uint32_t vcpu)
{
	return GPA_VIF_BASE + (uint64_t)vcpu * 0x1000;
}

static void add_region(struct guest_layout *l, uint64_t addr, uint64_t size, uint32_t type)
{
	if (size == 0 || l->nmap >= LAYOUT_MAX_ENTRIES)
		return;
	l->map[l->nmap++] = (struct mem_region){.addr = addr, .size = size, .type = type};
}

int layout_build(struct guest_layout *l, uint64_t ram_bytes, uint32_t nvcpus)
{
	uint64_t vif_end = layout_vif_gpa(nvcpus);

	if (ram_bytes < VMM_MIN_MEM || nvcpus == 0 || nvcpus > VMM_MAX_VCPUS ||
	    vif_end > GPA_LEGACY_HOLE)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->ram_bytes = ram_bytes;
	l->nvcpus = nvcpus;
	l->low_ram_bytes = ram_bytes < GPA_PCI_HOLE ? ram_bytes : GPA_PCI_HOLE;
	l->high_ram_bytes = ram_bytes - l->low_ram_bytes;

	add_region(l, 0, GPA_START_INFO, E820_RAM);
	add_region(l, GPA_START_INFO, vif_end - GPA_START_INFO, E820_RESERVED);
	add_region(l, vif_end, GPA_LEGACY_HOLE - vif_end, E820_RAM);
	add_region(l, GPA_LEGACY_HOLE, GPA_LOW_RAM_END - GPA_LEGACY_HOLE, E820_RESERVED);
	add_region(l, GPA_LOW_RAM_END, l->low_ram_bytes - GPA_LOW_RAM_END, E820_RAM);
	add_region(l, GPA_4G, l->high_ram_bytes, E820_RAM);
	return 0;
}

void *layout_gpa_to_hva(const struct guest_layout *l, void *ram, uint64_t gpa, uint64_t len)
{
	uint8_t *base = ram;

	if (len > l->ram_bytes)
		return NULL;
	if (gpa <= l->low_ram_bytes && len <= l->low_ram_bytes - gpa)
		return base + gpa;
	if (gpa >= GPA_4G && gpa - GPA_4G <= l->high_ram_bytes &&
	    len <= l->high_ram_bytes - (gpa - GPA_4G))
		return base + l->low_ram_bytes + (gpa - GPA_4G);
	return NULL;
}

bool layout_is_ram(const struct guest_layout *l, uint64_t gpa, uint64_t len)
{
	for (uint32_t i = 0; i < l->nmap; i++) {
		const struct mem_region *r = &l->map[i];

		if (r->type == E820_RAM && gpa >= r->addr && gpa - r->addr <= r->size &&
		    len <= r->size - (gpa - r->addr))
			return true;
	}
	return false;
}
