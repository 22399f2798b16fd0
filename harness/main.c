/*
 * virttax: entry point and subcommand table (git/perf builtin style).
 *
 * Why a table: each subcommand lives in its own harness/cmd_*.c and is
 * reachable, documented and listed from exactly one place.
 */
#include <stdio.h>
#include <string.h>

#include "harness/cmds.h"
#include "core/results.h"

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static int cmd_help(int argc, char **argv);

static const struct subcommand subcommands[] = {
    {"run", cmd_run, "measure workloads on bare metal and in a VM, write results.json"},
    {"calibrate", cmd_calibrate, "measure exit costs and the isolation-boundary ladder"},
    {"footprint", cmd_footprint, "per-VM cost of each VMM: boot-to-ready time, memory overhead"},
    {"validate", cmd_validate, "known-answer tests of the decomposition (injected vs attributed)"},
    {"list", cmd_list, "list workloads and their parameters"},
    {"baseline", cmd_baseline, "run one workload as a host process (used by run)"},
    {"doctor", cmd_doctor, "check this host: KVM flavour, collectors, topology"},
    {"report", cmd_report, "render runs as Markdown, HTML (SVG charts), CSV or JSON"},
    {"compare", cmd_compare, "A/B comparison of two runs with CIs, p-values and verdicts"},
    {"gate", cmd_gate, "CI gate: exit 1 when the candidate regressed (JUnit, Markdown)"},
    {"help", cmd_help, "this text; `virttax help CMD` for a subcommand's flags"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: virttax [--version] [--help] COMMAND [ARGS]\n\ncommands:\n");
	for (const struct subcommand *c = subcommands; c->name; c++)
		fprintf(out, "  %-9s %s\n", c->name, c->help);
	fprintf(
	    out,
	    "\n`virttax COMMAND --help` documents every flag of COMMAND.\n"
	    "exit status: %d ok; %d a run or workload failed (recorded); %d bad input\n"
	    "             (flags, files, workload names, keys; nothing written); %d host problem\n"
	    "             (no /dev/kvm, cannot pin, out of memory)\n",
	    VTX_EXIT_OK, VTX_EXIT_FAILED, VTX_EXIT_USAGE, VTX_EXIT_HOST);
}

static const struct subcommand *find(const char *name)
{
	for (const struct subcommand *c = subcommands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "help")) {
		usage(stdout);
		return VTX_EXIT_OK;
	}
	const struct subcommand *c = find(argv[1]);
	if (!c) {
		fprintf(stderr, "virttax help: unknown command '%s' (see virttax --help)\n",
			argv[1]);
		return VTX_EXIT_USAGE;
	}
	char *sub[] = {argv[1], "--help", NULL};
	return c->fn(2, sub);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return VTX_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return VTX_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("virttax %s\n", VIRTTAX_VERSION);
		return VTX_EXIT_OK;
	}
	const struct subcommand *c = find(argv[1]);
	if (!c) {
		fprintf(stderr, "virttax: unknown command '%s' (see virttax --help)\n", argv[1]);
		return VTX_EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
