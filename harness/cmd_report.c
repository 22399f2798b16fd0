/*
 * `virttax report DIR [DIR...] [--format md|html|csv|json] [-o FILE]
 *                  [--calibration FILE]`
 *
 * Why a thin command: the model and the formats live in reports/ (one file
 * per format); this only parses flags, loads the runs and writes the file
 * atomically. Several DIRs make one report, e.g. an exit-storm sweep of k.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "harness/cmds.h"
#include "core/outfile.h"
#include "reports/report.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: virttax report DIR [DIR...] [--format FMT] [-o FILE] [--calibration FILE]\n"
		"Renders one report from one or more runs (run directories or results.json\n"
		"files): per-workload tables (unit, n, 95%% CI for every number), the overhead\n"
		"decomposition (docs/METHOD.md), exit-storm validation, mem-chase curves and\n"
		"the isolation-boundary ladder.\n\n"
		"  --format FMT        ");
	for (const struct report_ops *const *f = report_formats; *f; f++)
		fprintf(out, "%s%s", (*f)->name, f[1] ? "|" : " (default md)\n");
	for (const struct report_ops *const *f = report_formats; *f; f++)
		fprintf(out, "                        %-5s %s\n", (*f)->name, (*f)->help);
	fprintf(out,
		"  -o, --output FILE   write here (atomically) instead of stdout\n"
		"  --calibration FILE  calibration.json (default: the one embedded in the run)\n\n"
		"exit status: 0 written; 2 bad input (flags, unreadable or foreign files);\n"
		"             3 cannot write the output\n");
}

static const struct option opts[] = {
    {"format", required_argument, 0, 'f'},
    {"output", required_argument, 0, 'o'},
    {"calibration", required_argument, 0, 'c'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static int render(FILE *out, void *arg)
{
	void **a = arg;
	const struct report_ops *fmt = a[0];
	return fmt->render(out, a[1]);
}

int cmd_report(int argc, char **argv)
{
	const char *format = "md", *output = NULL, *calib = NULL;
	int c;
	optind = 0;
	opterr = 0;
	/* options and runs in any order (getopt permutes; "--" ends the options) */
	while ((c = getopt_long(argc, argv, "ho:f:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return VTX_EXIT_OK;
		case 'f':
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'c':
			calib = optarg;
			break;
		default:
			fprintf(stderr,
				"virttax report: %s: unknown option or missing value (see "
				"virttax report --help)\n",
				argv[optind - 1]);
			return VTX_EXIT_USAGE;
		}
	}
	const char *paths[REPORT_MAX_SOURCES];
	size_t n = 0;
	for (int i = optind; i < argc; i++) {
		if (n == REPORT_MAX_SOURCES) {
			fprintf(stderr, "virttax report: at most %d runs in one report\n",
				REPORT_MAX_SOURCES);
			return VTX_EXIT_USAGE;
		}
		paths[n++] = argv[i];
	}
	const struct report_ops *fmt = report_find(format);
	if (!fmt) {
		fprintf(stderr, "virttax report: --format '%s': unknown (md, html, csv or json)\n",
			format);
		return VTX_EXIT_USAGE;
	}
	if (!n) {
		fprintf(stderr,
			"virttax report: expected a run directory or results.json (see virttax "
			"report --help)\n");
		return VTX_EXIT_USAGE;
	}
	struct report_ctx ctx;
	char err[600];
	if (report_ctx_load(&ctx, paths, n, calib, err, sizeof(err))) {
		fprintf(stderr, "virttax report: %s\n", err);
		return VTX_EXIT_USAGE;
	}
	void *arg[2] = {(void *)fmt, &ctx};
	int rc = outfile_write(output, render, arg);
	report_ctx_release(&ctx);
	if (rc) {
		fprintf(stderr, "virttax report: cannot write %s: %s (check -o)\n",
			output ? output : "stdout", strerror(-rc));
		return VTX_EXIT_HOST;
	}
	return VTX_EXIT_OK;
}
