/*
 * `virttax calibrate`: measure what each isolation boundary costs on this
 * machine and write calibration.json (docs/CALIBRATION.md).
 *
 * Why a subcommand of its own: the costs feed every decomposition
 * (mediation = exits x cost), so they are measured once, kept in a file, and
 * reused (`virttax run --calibration FILE`); `virttax run` without a file
 * runs the same experiment (harness/exp_calibrate.c) first. A session of its
 * own (probe, TSC, scratch, signals), the one runner, no results.json.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/calib.h"
#include "core/outfile.h"
#include "harness/experiment.h"
#include "harness/session.h"
#include "harness/cmds.h"
#include "harness/hosted.h"
#include "harness/plan.h"
#include "harness/vmm.h"

static void calibrate_usage(FILE *f)
{
	fprintf(f,
		"usage: virttax calibrate [--out FILE] [--vmm LIST] [--pin CPU] [--quick]\n"
		"Measure the cost per operation of every VM exit kind (guest agent in the VMM)\n"
		"and of the host's isolation boundaries (function call ... process round trip),\n"
		"each with its median, 95%% CI and number of rounds; write calibration.json.\n\n"
		"  --out FILE   where to write (atomically) (default calibration.json)\n"
		"  --vmm LIST   VMMs to boot the agent in, comma-separated (default vmm-lite);\n"
		"               the first is the file's \"vm\" side; with several, every one's\n"
		"               kinds and ratios to the first are printed and kept\n"
		"  --pin CPU    CPU for the guest's vCPU and the host runner (default: the last)\n"
		"  --quick      5 ms rounds x 7 instead of 20 ms x 11 (~3 s instead of ~10 s)\n\n"
		"kvm-floor, the least VMM here (docs/FLOOR.md), times the pio kind in the same\n"
		"run: each VMM's exit costs also come as a ratio to it.\n"
		"Kinds the host cannot do are written as available:false with the reason.\n"
		"exit status: 0 written; 2 bad input; 3 host problem (no /dev/kvm, VMM missing,\n"
		"cannot write FILE).\n");
}

struct cal_args {
	const char *out, *vmm;
	int cpu;
	bool quick;
};

static int parse(int argc, char **argv, struct cal_args *a)
{
	static const struct option opts[] = {
	    {"out", required_argument, 0, 'o'}, {"vmm", required_argument, 0, 'v'},
	    {"pin", required_argument, 0, 'p'}, {"quick", no_argument, 0, 'q'},
	    {"help", no_argument, 0, 'h'},	{0, 0, 0, 0}};
	*a = (struct cal_args){.out = "calibration.json", .vmm = "vmm-lite", .cpu = -1};
	optind = 1;
	opterr = 0;
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		char *end;
		switch (c) {
		case 'o':
			a->out = optarg;
			break;
		case 'v':
			a->vmm = optarg;
			break;
		case 'p':
			a->cpu = (int)strtol(optarg, &end, 10);
			if (*end || a->cpu < 0 || a->cpu >= CPU_SETSIZE) {
				fprintf(stderr,
					"virttax calibrate: --pin '%s': expected a CPU number\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'q':
			a->quick = true;
			break;
		case 'h':
			return 1;
		default:
			fprintf(
			    stderr,
			    "virttax calibrate: bad option '%s' (see virttax calibrate --help)\n",
			    argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "virttax calibrate: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* The session's plan from our flags: the VMM, the CPU, quick or not. */
static int calib_plan(const struct cal_args *a, struct plan *p)
{
	char cpu[16], err[300];
	char *argv[12] = {"calibrate", "--workloads", "noop", "--vmm", (char *)a->vmm, "--quiet"};
	int argc = 6;
	if (a->cpu >= 0) {
		snprintf(cpu, sizeof(cpu), "%d", a->cpu);
		argv[argc++] = "--pin";
		argv[argc++] = cpu;
	}
	if (a->quick)
		argv[argc++] = "--quick";
	argv[argc] = NULL;
	int rc = plan_parse(p, argc, argv, err, sizeof(err));
	if (rc)
		fprintf(stderr, "virttax calibrate: %s\n", err);
	p->quiet = false;
	return rc;
}

int cmd_calibrate(int argc, char **argv)
{
	struct cal_args a;
	int rc = parse(argc, argv, &a);
	if (rc) {
		if (rc > 0)
			calibrate_usage(stdout);
		return rc > 0 ? VTX_EXIT_OK : VTX_EXIT_USAGE;
	}
	struct plan *p = calloc(1, sizeof(*p));
	struct session *s = calloc(1, sizeof(*s));
	const struct experiment_ops *wl_exp[] = {&exp_calibrate};
	json_t *cal = NULL;
	if (!p || !s || calib_plan(&a, p)) {
		rc = p && s ? VTX_EXIT_USAGE : VTX_EXIT_HOST;
		goto out;
	}
	if ((rc = session_begin(s, p, wl_exp, "virttax calibrate", false)))
		goto out;
	int mrc = calibrate_measure_vmms(s, (const char *const *)p->vmms, p->nvmms, &cal);
	rc = session_finish(s, NULL, 0);
	if (mrc) {
		rc = mrc == -ECANCELED ? SESSION_EXIT_INTERRUPTED : VTX_EXIT_HOST;
		goto out;
	}
	if ((rc = calib_write(a.out, cal))) {
		fprintf(stderr, "virttax calibrate: cannot write %s: %s (check --out)\n", a.out,
			strerror(-rc));
		rc = VTX_EXIT_HOST;
		goto out;
	}
	FILE *human =
	    outfile_is_stdout(a.out) ? stderr : stdout; /* `--out -`: the file owns stdout */
	calib_print(human, cal);
	calib_print_compare(human, cal);
	fprintf(human, "\ncalibration: %s\n", a.out);
	rc = VTX_EXIT_OK;
out:
	json_decref(cal);
	if (p)
		plan_release(p);
	free(p);
	free(s);
	return rc;
}
