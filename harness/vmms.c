/*
 * The VMM driver table: one entry per harness/vmm_*.c. Adding a VMM is one
 * driver file and one entry here.
 */
#include <string.h>

#include "harness/vmm.h"

const struct vmm_ops *const vmm_table[] = {&vmm_vmmlite, &vmm_qemu, NULL};

/* measured beside the VMMs (footprint, calibrate), never a --vmm choice */
static const struct vmm_ops *const reference_table[] = {&vmm_floor, NULL};

static const struct vmm_ops *find_in(const struct vmm_ops *const *table, const char *name)
{
	for (const struct vmm_ops *const *v = table; *v; v++)
		if (!strcmp((*v)->name, name))
			return *v;
	return NULL;
}

const struct vmm_ops *vmm_find(const char *name)
{
	return find_in(vmm_table, name);
}

const struct vmm_ops *vmm_find_any(const char *name)
{
	const struct vmm_ops *v = find_in(vmm_table, name);
	return v ? v : find_in(reference_table, name);
}
