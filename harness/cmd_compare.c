/*
 * `virttax compare A B` and `virttax gate --baseline A --candidate B`.
 *
 * Why two commands over one engine (reports/compare.c): compare is for people
 * (a table, optional JSON), gate is for CI (an exit status that fails the
 * build, JUnit XML, a Markdown PR comment). Both apply the same rule: a change
 * counts only when p < 0.01 and it exceeds the noise threshold.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cmds.h"
#include "core/results.h"
#include "reports/compare.h"
#include "reports/compare_fmt.h"
#include "core/outfile.h"
#include "reports/rdata.h"

struct cmp_opts {
	const char *a, *b, *json, *junit, *markdown;
	double noise;
};

static int parse_noise(const char *cmd, const char *arg, double *out)
{
	char *end;
	double v = strtod(arg, &end);
	if (!*arg || *end || !(v >= 0 && v < 1000)) {
		fprintf(stderr, "virttax %s: --noise '%s': expected a percentage 0..1000, e.g. 5\n",
			cmd, arg);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static void compare_usage(FILE *out)
{
	fprintf(out,
		"usage: virttax compare A B [--noise PCT] [--json FILE]\n"
		"Compares two runs (run directories or results.json files) per workload, metric,\n"
		"curve point and VM series: A and B medians, ratio B/A with a bootstrap 95%% CI,\n"
		"p-value of a permutation test, and a verdict (regression / improvement / no\n"
		"change), significant only when p < 0.01 and the time-equivalent change exceeds\n"
		"--noise. Rows of kind 'vm' compare the VM-side values, rows of kind 'overhead'\n"
		"the per-pair VM/bare time ratio.\n\n"
		"  --noise PCT   noise threshold in percent (default %.0f)\n"
		"  --json FILE   also write the comparison as JSON ('-' for stdout)\n\n"
		"exit status: 0 compared; 2 bad input (unreadable file, nothing in common)\n",
		COMPARE_DEFAULT_NOISE_PCT);
}

static void gate_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: virttax gate --baseline A --candidate B [--noise PCT] [--junit FILE]\n"
	    "                    [--markdown FILE]\n"
	    "CI gate: the comparison of `virttax compare A B`, and an exit status.\n\n"
	    "  --baseline A     run directory or results.json of the reference\n"
	    "  --candidate B    run directory or results.json to judge\n"
	    "  --noise PCT      noise threshold in percent (default %.0f)\n"
	    "  --junit FILE     JUnit XML: one testcase per workload/metric/series/kind, a\n"
	    "                   <failure> for each regression\n"
	    "  --markdown FILE  Markdown summary for a pull-request comment\n\n"
	    "exit status: 0 nothing regressed; 1 something regressed (each named on stderr);\n"
	    "             2 bad input (flags, unreadable or foreign files, nothing in common)\n",
	    COMPARE_DEFAULT_NOISE_PCT);
}

enum { OPT_NOISE = 256, OPT_JSON, OPT_JUNIT, OPT_MARKDOWN, OPT_BASELINE, OPT_CANDIDATE };

static const struct option cmp_long[] = {
    {"noise", required_argument, 0, OPT_NOISE},
    {"json", required_argument, 0, OPT_JSON},
    {"junit", required_argument, 0, OPT_JUNIT},
    {"markdown", required_argument, 0, OPT_MARKDOWN},
    {"baseline", required_argument, 0, OPT_BASELINE},
    {"candidate", required_argument, 0, OPT_CANDIDATE},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

/* 0 ok, 1 help printed, -EINVAL bad flags (message printed) */
static int parse(const char *cmd, int argc, char **argv, struct cmp_opts *o)
{
	bool gate = !strcmp(cmd, "gate");
	memset(o, 0, sizeof(*o));
	o->noise = COMPARE_DEFAULT_NOISE_PCT;
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+h", cmp_long, NULL)) != -1) {
		switch (c) {
		case 'h':
			gate ? gate_usage(stdout) : compare_usage(stdout);
			return 1;
		case OPT_NOISE:
			if (parse_noise(cmd, optarg, &o->noise))
				return -EINVAL;
			break;
		case OPT_JSON:
			o->json = optarg;
			break;
		case OPT_JUNIT:
			o->junit = optarg;
			break;
		case OPT_MARKDOWN:
			o->markdown = optarg;
			break;
		case OPT_BASELINE:
			o->a = optarg;
			break;
		case OPT_CANDIDATE:
			o->b = optarg;
			break;
		default:
			fprintf(stderr,
				"virttax %s: %s: unknown option or missing value (see virttax "
				"%s --help)\n",
				cmd, argv[optind - 1], cmd);
			return -EINVAL;
		}
	}
	bool misplaced = gate ? (o->json != NULL) : (o->junit || o->markdown || o->a || o->b);
	if (!gate && argc - optind == 2) {
		o->a = argv[optind];
		o->b = argv[optind + 1];
	} else if (!gate || optind < argc) {
		misplaced = true;
	}
	if (misplaced || !o->a || !o->b) {
		fprintf(stderr,
			gate ? "virttax gate: expected --baseline A --candidate B (see virttax "
			       "gate --help)\n"
			     : "virttax compare: expected two runs A B (see virttax compare "
			       "--help)\n");
		return -EINVAL;
	}
	return 0;
}

/* Load both and compare: the comparison, or NULL after printing why (bad input). */
static json_t *load_and_compare(const char *cmd, const struct cmp_opts *o)
{
	char err[600];
	json_t *a, *b, *cmp = NULL;
	if (results_load(o->a, &a, err, sizeof(err))) {
		fprintf(stderr, "virttax %s: %s\n", cmd, err);
		return NULL;
	}
	if (results_load(o->b, &b, err, sizeof(err))) {
		fprintf(stderr, "virttax %s: %s\n", cmd, err);
		json_decref(a);
		return NULL;
	}
	const char *name[2] = {o->a, o->b};
	json_t *src[2] = {a, b}, *partial = json_array();
	for (int i = 0; i < 2; i++) {
		char why[400];
		if (results_partial(src[i], why, sizeof(why))) {
			fprintf(stderr, "virttax %s: %s: %s\n", cmd, name[i], why);
			json_array_append_new(
			    partial, json_pack("{s:s,s:s}", "source", name[i], "note", why));
		}
	}
	cmp = compare_results(a, b, o->noise, err, sizeof(err));
	if (cmp)
		json_object_set_new(cmp, "partial", json_incref(partial));
	json_decref(partial);
	if (!cmp)
		fprintf(stderr, "virttax %s: %s vs %s: %s\n", cmd, o->a, o->b, err);
	else
		json_object_set_new(cmp, "baseline", json_string(o->a)),
		    json_object_set_new(cmp, "candidate", json_string(o->b));
	json_decref(a);
	json_decref(b);
	return cmp;
}

static int write_out(const char *cmd, const char *what, const char *path, outfile_fn fn,
		     json_t *cmp)
{
	int rc = path ? outfile_write(path, fn, cmp) : 0;
	if (rc)
		fprintf(stderr, "virttax %s: cannot write %s %s: %s (check the path)\n", cmd, what,
			path, strerror(-rc));
	return rc;
}

int cmd_compare(int argc, char **argv)
{
	struct cmp_opts o;
	int rc = parse("compare", argc, argv, &o);
	if (rc)
		return rc > 0 ? VTX_EXIT_OK : VTX_EXIT_USAGE;
	json_t *cmp = load_and_compare("compare", &o);
	if (!cmp)
		return VTX_EXIT_USAGE;
	/* `--json -`: the document owns stdout, the table goes to stderr */
	compare_print_table(o.json && outfile_is_stdout(o.json) ? stderr : stdout, cmp);
	rc = write_out("compare", "JSON", o.json, compare_write_json, cmp);
	json_decref(cmp);
	return rc ? VTX_EXIT_USAGE : VTX_EXIT_OK;
}

int cmd_gate(int argc, char **argv)
{
	struct cmp_opts o;
	int rc = parse("gate", argc, argv, &o);
	if (rc)
		return rc > 0 ? VTX_EXIT_OK : VTX_EXIT_USAGE;
	json_t *cmp = load_and_compare("gate", &o);
	if (!cmp)
		return VTX_EXIT_USAGE;
	bool doc_on_stdout = (o.junit && outfile_is_stdout(o.junit)) ||
			     (o.markdown && outfile_is_stdout(o.markdown));
	compare_print_table(doc_on_stdout ? stderr : stdout, cmp);
	if (write_out("gate", "JUnit XML", o.junit, compare_write_junit, cmp) ||
	    write_out("gate", "Markdown", o.markdown, compare_write_markdown, cmp)) {
		json_decref(cmp);
		return VTX_EXIT_USAGE;
	}
	json_int_t reg = json_integer_value(json_object_get(cmp, "regressions"));
	compare_list_regressions(stderr, cmp);
	fprintf(stderr, "virttax gate: %s (%lld regression%s, noise %.3g%%, p < %.2g)\n",
		reg ? "FAIL" : "pass", (long long)reg, reg == 1 ? "" : "s", o.noise, COMPARE_ALPHA);
	json_decref(cmp);
	return reg ? VTX_EXIT_FAILED : VTX_EXIT_OK;
}
