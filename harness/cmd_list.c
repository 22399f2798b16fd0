/*
 * `virttax list`: the workloads and their parameters, straight from
 * workload_table, so the help can never disagree with what `run` accepts.
 */
#include <stdio.h>
#include <string.h>

#include "harness/cmds.h"
#include "virttax/workload.h"

static void list_usage(FILE *out)
{
	fprintf(out, "usage: virttax list\n"
		     "Lists every workload with its parameters (key, default, help) and the\n"
		     "quick-mode overrides used by `virttax run --quick`.\n"
		     "Set a parameter with `virttax run --set [WORKLOAD.]KEY=VALUE`.\n\n"
		     "exit status: 0 ok; 2 bad arguments\n");
}

static void list_one(const struct workload_ops *w)
{
	printf("%s\n    %s\n", w->name, w->help);
	for (const struct wl_param *p = w->params; p && p->key; p++)
		printf("    %-10s default %-12s %s\n", p->key, p->def, p->help);
	if (w->quick_params && *w->quick_params)
		printf("    --quick: %s\n", w->quick_params);
	if (w->vcpus > 1)
		printf("    needs: %u vCPUs/threads%s%s%s, each on its own CPU by default\n",
		       w->vcpus, w->vcpus_param ? " (or its " : "",
		       w->vcpus_param ? w->vcpus_param : "", w->vcpus_param ? " parameter)" : "");
	if (w->needs & WL_NEEDS_DISK)
		printf("    needs: a disk (experiment io-blk: --io-technique, --direct)\n");
	if (w->needs & WL_NEEDS_NIC)
		printf("    needs: a NIC on a tap (experiment io-net: --io-technique)\n");
	if (w->needs & WL_TAKES_MEM_PRESSURE)
		printf("    takes: --mem-limit SIZE, --balloon MIB (experiment mem-pressure)\n");
}

int cmd_list(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		list_usage(stdout);
		return VTX_EXIT_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "virttax list: unexpected argument '%s' (it takes none)\n",
			argv[1]);
		return VTX_EXIT_USAGE;
	}
	for (const struct workload_ops *const *w = workload_table; *w; w++) {
		list_one(*w);
		if (w[1])
			putchar('\n');
	}
	return VTX_EXIT_OK;
}
