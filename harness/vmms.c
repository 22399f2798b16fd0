/*
 * The VMM driver table: one entry per harness/vmm_*.c. Adding a VMM is one
 * driver file and one entry here.
 */
#include <string.h>

#include "harness/vmm.h"

const struct vmm_ops *const vmm_table[] = {&vmm_vmmlite, &vmm_qemu, NULL};

const struct vmm_ops *vmm_find(const char *name)
{
	for (const struct vmm_ops *const *v = vmm_table; *v; v++)
		if (!strcmp((*v)->name, name))
			return *v;
	return NULL;
}
