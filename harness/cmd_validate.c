/*
 * `virttax validate [--quick] [--json FILE] [--reps N] [--pin CPU] [--out DIR]`:
 * `virttax run --workloads validate` (harness/exp_validate.c) with its own
 * output directory, and the validation rows written to FILE as well.
 *
 * Why a command of its own: the known-answer test of the decomposition is
 * what a user runs to know whether to believe it on this machine; its
 * verdicts belong in one small JSON a CI job can read.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/outfile.h"
#include "harness/cmds.h"

#define VAL_MAX_ARGS 128

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: virttax validate [--quick] [--json FILE] [--reps N] [--pin CPU] [--out DIR]\n"
	    "  known-answer tests of the decomposition (docs/METHOD.md): per component a\n"
	    "  perturbation of known size on a real workload, injected vs attributed:\n"
	    "  mediation (vmm-lite --inject-exit-delay-us on exit-storm; cpu-int and\n"
	    "  mem-chase say why it cannot reach them), scheduling (a CPU hog on the vCPU's\n"
	    "  CPU during cpu-int), translation (mem-chase >= 64 MiB: host backing 4k vs THP,\n"
	    "  guest pages 4K vs 2M), and the residual of each unperturbed run.\n"
	    "  --json FILE  the rows {component, workload, injected_pct, attributed_pct,\n"
	    "               error_pct, ci, within_tol, available, reason} also go here\n"
	    "  --quick      smaller workloads, 8 rounds (default 12)\n"
	    "  also: --reps N, --pin CPU, --out DIR (default out/validate-DATE), --seed N,\n"
	    "        --quiet, --dry-run, --calibration FILE (as for virttax run)\n"
	    "exit: 0 ok (rows may still be outside their tolerance: see within_tol),\n"
	    "      1 a run failed, 2 bad input, 3 host problem, 130 interrupted\n");
}

static int dump(FILE *out, void *arg)
{
	return json_dumpf(arg, out, JSON_INDENT(1)) ? -1 : 0;
}

static int write_rows(const char *dir, const char *json)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/results.json", dir);
	json_t *r = json_load_file(path, 0, NULL);
	json_t *v = json_object_get(json_object_get(r, "validation"), "rows");
	if (!json_is_array(v)) {
		fprintf(stderr, "virttax validate: %s has no validation rows\n", path);
		json_decref(r);
		return VTX_EXIT_HOST;
	}
	json_t *doc = json_pack("{s:O,s:s}", "rows", v, "results", path);
	int rc = outfile_write(json, dump, doc);
	json_decref(doc);
	json_decref(r);
	if (rc) {
		fprintf(stderr, "virttax validate: --json %s: cannot write\n", json);
		return VTX_EXIT_HOST;
	}
	return VTX_EXIT_OK;
}

int cmd_validate(int argc, char **argv)
{
	char *args[VAL_MAX_ARGS], out[64];
	const char *json = NULL, *dir = NULL;
	int n = 0;
	if (argc >= VAL_MAX_ARGS - 6) {
		fprintf(stderr, "virttax validate: too many arguments\n");
		return VTX_EXIT_USAGE;
	}
	args[n++] = argv[0];
	args[n++] = "--workloads";
	args[n++] = "validate";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return VTX_EXIT_OK;
		}
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "--workloads")) {
			if (i + 1 >= argc || !argv[i + 1][0]) {
				fprintf(stderr, "virttax validate: %s needs a value (see --help)\n",
					argv[i]);
				return VTX_EXIT_USAGE;
			}
			if (!strcmp(argv[i], "--workloads")) {
				fprintf(stderr, "virttax validate: --workloads: the workloads are "
						"validate's own (see --help)\n");
				return VTX_EXIT_USAGE;
			}
			json = argv[++i];
			continue;
		}
		if (!strcmp(argv[i], "--out") && i + 1 < argc)
			dir = argv[i + 1];
		else if (!strncmp(argv[i], "--out=", 6))
			dir = argv[i] + 6;
		args[n++] = argv[i];
	}
	if (!dir) {
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(out, sizeof(out), "out/validate-%Y%m%d-%H%M%S", &tm);
		args[n++] = "--out";
		args[n++] = out;
		dir = out;
	}
	args[n] = NULL;
	int rc = run_main(n, args, "virttax validate");
	if (json && (rc == VTX_EXIT_OK || rc == VTX_EXIT_FAILED)) {
		int w = write_rows(dir, json);
		if (w)
			return w;
	}
	return rc;
}
