/*
 * `virttax doctor [--json FILE] [--sysfs-root DIR]`: is this machine fit for
 * measuring virtualization overhead, and what to change if not.
 *
 * Why a subcommand: the same environment_collect() that results.json embeds
 * is shown to a person before they spend an hour on runs, with a one-line
 * remedy per problem. Problems are warnings (exit 0); only bad input fails.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectors/internal.h"
#include "core/outfile.h"
#include "core/results.h"
#include "harness/cmds.h"

static void doctor_usage(FILE *out)
{
	fprintf(out,
		"usage: virttax doctor [--json FILE] [--sysfs-root DIR]\n"
		"Describes this machine (CPU, TSC, kernel, KVM flavour and parameters, PMU,\n"
		"THP/hugetlb, cpufreq, SMT, CPUs, devices, load) and lists problems with a\n"
		"remedy each.\n"
		"  --json FILE       also write the description as JSON (atomically)\n"
		"  --sysfs-root DIR  read /proc and /sys under DIR (a fake tree); live probes\n"
		"                    (/dev/kvm ioctls, perf_event_open, TSC) are then skipped\n\n"
		"exit status: 0 (problems are warnings); 2 bad arguments or unwritable FILE\n");
}

static int parse_args(int argc, char **argv, const char **json_path, const char **root)
{
	static const struct option opts[] = {
	    {"json", required_argument, NULL, 'j'},
	    {"sysfs-root", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	optind = 0; /* GNU: full re-initialisation (cmd_doctor may be called twice) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json_path = optarg;
			break;
		case 'r':
			*root = optarg;
			break;
		case 'h':
			return 1;
		default:
			fprintf(stderr, "virttax doctor: bad option '%s'\n", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "virttax doctor: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

int cmd_doctor(int argc, char **argv)
{
	const char *json_path = NULL, *root = "/";
	int rc = parse_args(argc, argv, &json_path, &root);
	if (rc) {
		doctor_usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? VTX_EXIT_OK : VTX_EXIT_USAGE;
	}
	struct stat st;
	if (stat(root, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "virttax doctor: --sysfs-root %s: not a directory\n", root);
		return VTX_EXIT_USAGE;
	}
	json_t *env = environment_collect(root);
	if (!env) {
		fprintf(stderr, "virttax doctor: out of memory describing the machine\n");
		return VTX_EXIT_HOST;
	}
	/* `--json -`: the document owns stdout, the human report goes to stderr */
	FILE *human = json_path && outfile_is_stdout(json_path) ? stderr : stdout;
	environment_print(human, env);
	fflush(human);
	if (json_path && (rc = results_write_atomic(json_path, env))) {
		fprintf(stderr, "virttax doctor: --json %s: %s\n", json_path, strerror(-rc));
		json_decref(env);
		return VTX_EXIT_USAGE;
	}
	json_decref(env);
	return VTX_EXIT_OK;
}
