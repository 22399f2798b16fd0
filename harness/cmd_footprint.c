/*
 * `virttax footprint [--vmm LIST] [--reps N] [--pin CPU] [--out DIR] [--quick]`:
 * `virttax run --workloads vmm-footprint` with its own defaults (every VMM,
 * out/footprint-DATE), so the per-VM cost of each VMM lands in the same
 * results.json that report, compare and gate read (harness/exp_footprint.c).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness/cmds.h"
#include "harness/plan.h"

#define FP_MAX_ARGS 128

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: virttax footprint [--vmm LIST] [--reps N] [--pin CPU] [--out DIR] [--quick]\n"
	    "  per-VM cost of each VMM: boot-to-ready (spawn to the agent's hello line, and\n"
	    "  spawn to the agent's first instruction by TSC) and memory overhead (RSS and\n"
	    "  PSS of the VMM process minus its guest RAM mapping), for 1 vCPU / 128 MiB\n"
	    "  and 2 vCPUs / 1 GiB; also `virttax run --workloads vmm-footprint`.\n"
	    "  --vmm LIST   comma-separated (default: every VMM, vmm-lite,qemu; one that\n"
	    "               cannot run here is listed as unavailable with the reason)\n"
	    "  --reps N     rounds, each VMM and configuration once per round in a seeded\n"
	    "               random order (default 10; --quick 3); no warm-up\n"
	    "  --pin CPU    CPU for the vCPU threads (default: the last allowed CPU)\n"
	    "  --out DIR    where results.json goes (default out/footprint-DATE)\n"
	    "  --quick      3 rounds\n"
	    "  also: --seed N, --quiet, --dry-run, --timeout SEC (as for virttax run)\n"
	    "exit: 0 ok, 1 a run failed, 2 bad input, 3 host problem, 130 interrupted\n");
}

int cmd_footprint(int argc, char **argv)
{
	char *args[FP_MAX_ARGS], out[64];
	bool has_out = false, has_wl = false;
	int n = 0;
	if (argc >= FP_MAX_ARGS - 6) {
		fprintf(stderr, "virttax footprint: too many arguments\n");
		return VTX_EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return VTX_EXIT_OK;
		}
		has_out |= !strcmp(argv[i], "--out") || !strncmp(argv[i], "--out=", 6);
		has_wl |= !strcmp(argv[i], "--workloads") || !strncmp(argv[i], "--workloads=", 12);
	}
	args[n++] = argv[0];
	if (!has_wl) {
		args[n++] = "--workloads";
		args[n++] = "vmm-footprint";
	}
	if (!has_out) {
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(out, sizeof(out), "out/footprint-%Y%m%d-%H%M%S", &tm);
		args[n++] = "--out";
		args[n++] = out;
	}
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	return run_main(n, args, "virttax footprint");
}
