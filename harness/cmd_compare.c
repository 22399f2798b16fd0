/*
 * `virttax compare A B` and `virttax gate --baseline A --candidate B`.
 *
 * Why two commands over one engine (reports/compare.c): compare is for people
 * (a table, optional JSON), gate is for CI (an exit status that fails the
 * build, JUnit XML, a Markdown PR comment). Both apply the same rules
 * (reports/compare.h); the gate fails closed: whatever keeps the comparison
 * from being valid or decided (reports/compare_check.c) is a cause, named,
 * with an explicit opt-out.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/cmds.h"
#include "core/results.h"
#include "reports/compare.h"
#include "reports/compare_fmt.h"
#include "core/outfile.h"
#include "reports/rdata.h"

struct cmp_opts {
	const char *a, *b, *json, *junit, *markdown;
	double noise;
	struct compare_allow allow;
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

/* --allow-param-diff LIST: categories of compare_param_categories or "all" */
static int parse_param_diff(const char *arg, unsigned *bits)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned b = compare_param_category_bit(t);
		if (!b) {
			fprintf(stderr,
				"virttax gate: --allow-param-diff '%s': expected all or a list of",
				t);
			for (size_t i = 0; compare_param_categories[i]; i++)
				fprintf(stderr, " %s", compare_param_categories[i]);
			fprintf(stderr, "\n");
			return -EINVAL;
		}
		*bits |= b;
	}
	return 0;
}

static void compare_usage(FILE *out)
{
	fprintf(out,
		"usage: virttax compare A B [--noise PCT] [--json FILE]\n"
		"Compares two runs (run directories or results.json files) per workload, metric,\n"
		"curve point and VM series: A and B medians, the ratio B/A (Hodges-Lehmann) with\n"
		"its Mann-Whitney interval and that interval's real level, the p-value of the\n"
		"Mann-Whitney test, and a verdict: regression (p < 0.01, slower, and the\n"
		"interval reaches beyond --noise), within noise / no change (the interval stays\n"
		"below --noise), improvement, or inconclusive (too few runs for this spread:\n"
		"the row says how many would do). Rows of kind 'vm' compare the VM-side values,\n"
		"rows of kind 'overhead' the per-pair VM/bare time ratio; rows marked * are the\n"
		"ones `virttax gate` judges. Options may come before or after A and B.\n\n"
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
	    "                    [--markdown FILE] [--json FILE] [--allow-...]\n"
	    "       virttax gate A B [options]\n"
	    "CI gate: the comparison of `virttax compare A B`, failing closed. B passes only\n"
	    "when every judged row of A is decided and none regressed, and the two files\n"
	    "are comparable. Each cause is named on stderr and in the JUnit/Markdown.\n\n"
	    "  --baseline A     run directory or results.json of the reference\n"
	    "  --candidate B    run directory or results.json to judge\n"
	    "  --noise PCT      noise threshold in percent (default %.0f)\n"
	    "  --junit FILE     JUnit XML: a testcase per judged row and per cause\n"
	    "  --markdown FILE  Markdown summary for a pull-request comment\n"
	    "  --json FILE      the comparison and its causes as JSON\n"
	    "Opt-outs (the cause is still named, marked allowed):\n"
	    "  --allow-missing       a workload, metric or series of A without samples in B\n"
	    "  --allow-failed-runs   runs that are not ok (crash, timeout, failed, invalid)\n"
	    "  --allow-partial       a file of an interrupted run (\"complete\": false)\n"
	    "  --allow-inconclusive  rows that cannot be decided with these runs\n"
	    "  --allow-param-diff LIST  parameters that may differ: all, or any of\n"
	    "                        workload,mem,vcpus,pin,backing,pagesize,vmm,vmm-args,\n"
	    "                        vmm-build,io,host,co-tenant (gating a VMM change:\n"
	    "                        vmm-build)\n\n"
	    "exit status: 0 pass; 1 FAIL: a regression, or B is not comparable (missing\n"
	    "             workload/metric, a run not ok, other parameters, partial file);\n"
	    "             2 bad input (flags, unreadable or foreign files, nothing in common);\n"
	    "             4 INCONCLUSIVE: nothing failed, but some judged row cannot be\n"
	    "             decided with these runs (the output says how many runs would do)\n",
	    COMPARE_DEFAULT_NOISE_PCT);
}

enum {
	OPT_NOISE = 256,
	OPT_JSON,
	OPT_JUNIT,
	OPT_MARKDOWN,
	OPT_BASELINE,
	OPT_CANDIDATE,
	OPT_ALLOW_MISSING,
	OPT_ALLOW_FAILED,
	OPT_ALLOW_PARTIAL,
	OPT_ALLOW_INCONCLUSIVE,
	OPT_ALLOW_PARAM_DIFF,
};

static const struct option cmp_long[] = {
    {"noise", required_argument, 0, OPT_NOISE},
    {"json", required_argument, 0, OPT_JSON},
    {"junit", required_argument, 0, OPT_JUNIT},
    {"markdown", required_argument, 0, OPT_MARKDOWN},
    {"baseline", required_argument, 0, OPT_BASELINE},
    {"candidate", required_argument, 0, OPT_CANDIDATE},
    {"allow-missing", no_argument, 0, OPT_ALLOW_MISSING},
    {"allow-failed-runs", no_argument, 0, OPT_ALLOW_FAILED},
    {"allow-partial", no_argument, 0, OPT_ALLOW_PARTIAL},
    {"allow-inconclusive", no_argument, 0, OPT_ALLOW_INCONCLUSIVE},
    {"allow-param-diff", required_argument, 0, OPT_ALLOW_PARAM_DIFF},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static bool gate_only(int c)
{
	return c == OPT_JUNIT || c == OPT_MARKDOWN || c == OPT_BASELINE || c == OPT_CANDIDATE ||
	       c >= OPT_ALLOW_MISSING;
}

/* One option; 0, 1 help printed, -EINVAL (message printed). */
static int option(const char *cmd, int c, struct cmp_opts *o)
{
	bool gate = !strcmp(cmd, "gate");
	if (!gate && gate_only(c)) {
		fprintf(stderr, "virttax compare: --%s is a `virttax gate` option\n",
			cmp_long[c - OPT_NOISE].name);
		return -EINVAL;
	}
	switch (c) {
	case 'h':
		gate ? gate_usage(stdout) : compare_usage(stdout);
		return 1;
	case OPT_NOISE:
		return parse_noise(cmd, optarg, &o->noise);
	case OPT_JSON:
		o->json = optarg;
		return 0;
	case OPT_JUNIT:
		o->junit = optarg;
		return 0;
	case OPT_MARKDOWN:
		o->markdown = optarg;
		return 0;
	case OPT_BASELINE:
		o->a = optarg;
		return 0;
	case OPT_CANDIDATE:
		o->b = optarg;
		return 0;
	case OPT_ALLOW_MISSING:
		o->allow.cause[CAUSE_MISSING] = true;
		return 0;
	case OPT_ALLOW_FAILED:
		o->allow.cause[CAUSE_FAILED_RUNS] = true;
		return 0;
	case OPT_ALLOW_PARTIAL:
		o->allow.cause[CAUSE_PARTIAL] = true;
		return 0;
	case OPT_ALLOW_INCONCLUSIVE:
		o->allow.cause[CAUSE_INCONCLUSIVE] = true;
		return 0;
	case OPT_ALLOW_PARAM_DIFF:
		return parse_param_diff(optarg, &o->allow.params);
	}
	return -EINVAL;
}

/* 0 ok, 1 help printed, -EINVAL bad flags (message printed). Options and the
 * two runs may come in any order (getopt permutes; "--" ends the options). */
static int parse(const char *cmd, int argc, char **argv, struct cmp_opts *o)
{
	bool gate = !strcmp(cmd, "gate");
	memset(o, 0, sizeof(*o));
	o->noise = COMPARE_DEFAULT_NOISE_PCT;
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", cmp_long, NULL)) != -1) {
		if (c == '?' || c == ':') {
			fprintf(stderr,
				"virttax %s: %s: unknown option or missing value (see virttax "
				"%s --help)\n",
				cmd, argv[optind - 1], cmd);
			return -EINVAL;
		}
		int rc = option(cmd, c, o);
		if (rc)
			return rc;
	}
	int npos = argc - optind;
	if (npos == 2 && !o->a && !o->b) {
		o->a = argv[optind];
		o->b = argv[optind + 1];
	} else if (npos != 0) {
		o->a = o->b = NULL;
	}
	if (!o->a || !o->b) {
		fprintf(stderr,
			gate ? "virttax gate: expected --baseline A --candidate B, or A B (see "
			       "virttax gate --help)\n"
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
	cmp = compare_results(a, b, o->noise, err, sizeof(err));
	if (!cmp) {
		fprintf(stderr, "virttax %s: %s vs %s: %s\n", cmd, o->a, o->b, err);
	} else {
		compare_check(cmp, a, b, &o->allow);
		json_object_set_new(cmp, "baseline", json_string(o->a));
		json_object_set_new(cmp, "candidate", json_string(o->b));
		char host[256] = "", ts[32];
		gethostname(host, sizeof(host) - 1);
		time_t now = time(NULL);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", gmtime(&now));
		json_object_set_new(cmp, "gate_host", json_string(host));
		json_object_set_new(cmp, "gate_timestamp", json_string(ts));
	}
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
	FILE *tab = o.json && outfile_is_stdout(o.json) ? stderr : stdout;
	compare_print_table(tab, cmp);
	if (json_array_size(json_object_get(cmp, "problems")))
		fprintf(tab, "\nwhat `virttax gate` would also say:\n");
	compare_list_causes(tab, cmp);
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
			     (o.markdown && outfile_is_stdout(o.markdown)) ||
			     (o.json && outfile_is_stdout(o.json));
	compare_print_table(doc_on_stdout ? stderr : stdout, cmp);
	if (write_out("gate", "JUnit XML", o.junit, compare_write_junit, cmp) ||
	    write_out("gate", "Markdown", o.markdown, compare_write_markdown, cmp) ||
	    write_out("gate", "JSON", o.json, compare_write_json, cmp)) {
		json_decref(cmp);
		return VTX_EXIT_USAGE;
	}
	compare_list_causes(stderr, cmp);
	const char *v = compare_gate_verdict(cmp);
	json_t *need = json_object_get(cmp, "reps_needed");
	fprintf(stderr,
		"virttax gate: %s (%lld regression(s), %lld other cause(s), %lld inconclusive "
		"row(s); noise %.3g%%, p < %.2g)",
		v, (long long)json_integer_value(json_object_get(cmp, "regressions")),
		(long long)json_integer_value(json_object_get(cmp, "failed")),
		(long long)json_integer_value(json_object_get(cmp, "inconclusive_problems")),
		o.noise, COMPARE_ALPHA);
	if (json_is_integer(need) && strcmp(v, "pass"))
		fprintf(stderr, "; to decide every row: about %lld runs per side (--reps %lld)",
			(long long)json_integer_value(need), (long long)json_integer_value(need));
	fputc('\n', stderr);
	json_decref(cmp);
	return !strcmp(v, "FAIL")	    ? VTX_EXIT_FAILED
	       : !strcmp(v, "INCONCLUSIVE") ? VTX_EXIT_INCONCLUSIVE
					    : VTX_EXIT_OK;
}
