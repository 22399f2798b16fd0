/*
 * `virttax calibrate`: measure what each isolation boundary costs on this
 * machine and write calibration.json (docs/CALIBRATION.md).
 *
 * Why a subcommand of its own: the costs feed every decomposition
 * (mediation = exits x cost), so they are measured once, kept in a file, and
 * reused (`virttax run --calibration FILE`); `virttax run` without a file
 * calls the same procedure (harness/calib.c) first.
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
#include "core/tsc.h"
#include "harness/calib_run.h"
#include "harness/cmds.h"
#include "harness/hosted.h"
#include "harness/plan.h"
#include "harness/vmm.h"

static void calibrate_usage(FILE *f)
{
	fprintf(f,
		"usage: virttax calibrate [--out FILE] [--vmm NAME] [--pin CPU] [--quick]\n"
		"Measure the cost per operation of every VM exit kind (guest agent in the VMM)\n"
		"and of the host's isolation boundaries (function call ... process round trip),\n"
		"each with its median, 95%% CI and number of rounds; write calibration.json.\n\n"
		"  --out FILE   where to write (atomically) (default calibration.json)\n"
		"  --vmm NAME   VMM to boot the agent in (default vmm-lite)\n"
		"  --pin CPU    CPU for the guest's vCPU and the host runner (default: the last)\n"
		"  --quick      5 ms rounds x 7 instead of 20 ms x 11 (~3 s instead of ~10 s)\n\n"
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

/* Shared with `virttax run`: probe, TSC, scratch dir, calibrate. */
int calibrate_now(const char *vmm_name, int cpu, bool quick, const char *scratch,
		  unsigned long tsc_khz, json_t **out)
{
	char err[600];
	struct calib_opts o = {.vmm = vmm_name,
			       .cpu = cpu,
			       .quick = quick,
			       .tsc_khz = tsc_khz,
			       .scratch_dir = scratch};
	int rc = calibrate(&o, out, err, sizeof(err));
	if (rc)
		fprintf(stderr, "virttax: calibration failed: %s\n", err);
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
	const struct vmm_ops *vmm = vmm_find(a.vmm);
	char why[400];
	if (!vmm) {
		fprintf(stderr, "virttax calibrate: --vmm '%s': unknown VMM (try vmm-lite)\n",
			a.vmm);
		return VTX_EXIT_USAGE;
	}
	if ((rc = vmm->probe(why, sizeof(why)))) {
		fprintf(stderr, "virttax calibrate: %s\n", why);
		return rc == -ENOENT ? VTX_EXIT_USAGE : VTX_EXIT_HOST;
	}
	if (a.cpu < 0 && (a.cpu = plan_default_cpu()) < 0)
		a.cpu = 0;
	uint64_t hz;
	if ((rc = tsc_measure_hz(100, &hz))) {
		fprintf(stderr, "virttax calibrate: cannot measure the TSC: %s\n", strerror(-rc));
		return VTX_EXIT_HOST;
	}
	const char *tmp = getenv("TMPDIR");
	char scratch[PATH_MAX];
	snprintf(scratch, sizeof(scratch), "%s/virttax-cal-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(scratch)) {
		fprintf(stderr, "virttax calibrate: mkdtemp %s: %s (set TMPDIR)\n", scratch,
			strerror(errno));
		return VTX_EXIT_HOST;
	}
	json_t *cal = NULL;
	rc = calibrate_now(vmm->name, a.cpu, a.quick, scratch, (unsigned long)((hz + 500) / 1000),
			   &cal);
	rmdir(scratch);
	if (rc)
		return VTX_EXIT_HOST;
	if ((rc = calib_write(a.out, cal))) {
		fprintf(stderr, "virttax calibrate: cannot write %s: %s (check --out)\n", a.out,
			strerror(-rc));
		json_decref(cal);
		return VTX_EXIT_HOST;
	}
	FILE *human =
	    outfile_is_stdout(a.out) ? stderr : stdout; /* `--out -`: the file owns stdout */
	calib_print(human, cal);
	fprintf(human, "\ncalibration: %s\n", a.out);
	json_decref(cal);
	return VTX_EXIT_OK;
}
