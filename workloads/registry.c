/*
 * The workload table. Adding a workload: one file in workloads/ with a
 * `const struct workload_ops wl_NAME`, one extern and one entry here.
 */
#include "virttax/workload.h"

extern const struct workload_ops wl_noop;

const struct workload_ops *const workload_table[] = {
	&wl_noop,
	NULL,
};

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

const struct workload_ops *workload_find(const char *name)
{
	for (const struct workload_ops *const *w = workload_table; *w; w++)
		if (str_eq((*w)->name, name))
			return *w;
	return 0;
}
