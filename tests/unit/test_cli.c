/*
 * Unit tests of `virttax run` argument handling (harness/plan.c) and of the
 * bad-input contract of cmd_run/cmd_list: exit 2, nothing written.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/cmds.h"
#include "harness/plan.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof(a[0])) - 1)

static char err[400];

static int parse(struct plan *p, int argc, char **argv)
{
	err[0] = 0;
	return plan_parse(p, argc, argv, err, sizeof(err));
}

static const char *value_of(const struct plan_workload *w, const char *key)
{
	for (size_t i = 0; i < w->nparams; i++)
		if (!strcmp(w->ops->params[i].key, key))
			return w->values[i];
	return NULL;
}

Test(cli, defaults)
{
	struct plan p;
	char *argv[] = {"run", NULL};
	cr_assert_eq(parse(&p, ARGC(argv), argv), 0, "%s", err);
	cr_assert_eq(p.nwl, 4);
	cr_assert_str_eq(p.wl[0].ops->name, "cpu-int");
	cr_assert_str_eq(p.wl[3].ops->name, "mem-stream");
	cr_assert_eq(p.reps, PLAN_DEFAULT_REPS);
	cr_assert_eq(p.warmup, PLAN_DEFAULT_WARMUP);
	cr_assert_eq(p.mem_bytes, 2ull << 30);
	cr_assert_str_eq(p.backings[0], "thp");
	cr_assert_str_eq(p.pagesizes[0], "2m");
	cr_assert_eq(p.cpu, plan_default_cpu());
	cr_assert(!strncmp(p.out_dir, "out/run-", 8), "%s", p.out_dir);
	cr_assert_eq(p.wl[0].nargs, 0, "defaults are not passed to the child");
	plan_release(&p);
}

Test(cli, quick_and_set)
{
	struct plan p;
	char *argv[] = {"run",	  "--quick", "--workloads", "noop,mem-chase",
			"--set",  "iters=7", "--set",	    "mem-chase.max=1M",
			"--reps", "5",	     NULL};
	cr_assert_eq(parse(&p, ARGC(argv), argv), 0, "%s", err);
	cr_assert_eq(p.reps, 5, "explicit --reps wins over --quick");
	cr_assert_eq(p.warmup, PLAN_QUICK_WARMUP);
	cr_assert_str_eq(value_of(&p.wl[0], "iters"), "7");
	cr_assert_str_eq(value_of(&p.wl[1], "max"), "1M", "--set beats quick_params");
	cr_assert_str_eq(value_of(&p.wl[1], "step"), "4", "quick_params applied");
	cr_assert_str_eq(value_of(&p.wl[1], "seed"), "1", "default kept");
	bool found = false;
	for (size_t i = 0; i < p.wl[1].nargs; i++)
		found = found || !strcmp(p.wl[1].args[i], "max=1M");
	cr_assert(found, "child args carry max=1M");
	plan_release(&p);
}

Test(cli, lists)
{
	struct plan p;
	char *argv[] = {"run",	  "--pagesize",	 "4k,2m", "--backing",
			"4k,thp", "--workloads", "noop",  NULL};
	cr_assert_eq(parse(&p, ARGC(argv), argv), 0, "%s", err);
	cr_assert_eq(p.npagesizes, 2);
	cr_assert_eq(p.nbackings, 2);
	cr_assert_str_eq(plan_bare_backing("hugetlb-2m"), "thp");
	cr_assert_str_eq(plan_bare_backing("4k"), "4k");
	json_t *j = plan_to_json(&p);
	cr_assert_eq(json_array_size(json_object_get(j, "pagesize")), 2);
	cr_assert_str_eq(
	    json_string_value(json_object_get(
		json_object_get(json_object_get(j, "workload_params"), "noop"), "iters")),
	    "1000");
	json_decref(j);
	plan_release(&p);
}

struct bad_case {
	char *args[6];
	const char *needle; /* the message must name the input */
};

Test(cli, bad_input_rejected_with_message)
{
	static const struct bad_case cases[] = {
	    {{"run", "--workloads", "nope"}, "nope"},
	    {{"run", "--workloads", "noop", "--set", "zz=1"}, "zz"},
	    {{"run", "--workloads", "noop", "--set", "iters=abc"}, "abc"},
	    {{"run", "--workloads", "noop", "--set", "cpu-int.iters=1"}, "cpu-int.iters"},
	    {{"run", "--reps", "0"}, "--reps"},
	    {{"run", "--reps", "x"}, "--reps"},
	    {{"run", "--warmup", "-1"}, "--warmup"},
	    {{"run", "--mem", "0"}, "--mem"},
	    {{"run", "--mem", "1000"}, "--mem"},
	    {{"run", "--backing", "2m"}, "2m"},
	    {{"run", "--pagesize", "1g"}, "1g"},
	    {{"run", "--pin", "99999"}, "--pin"},
	    {{"run", "--vmm", "bochs"}, "bochs"},
	    {{"run", "--bogus"}, "--bogus"},
	    {{"run", "stray"}, "stray"},
	    {{"run", "--workloads", "noop,noop"}, "twice"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct plan p;
		int argc = 0;
		while (cases[i].args[argc])
			argc++;
		cr_assert_eq(parse(&p, argc, (char **)cases[i].args), -EINVAL, "case %zu accepted",
			     i);
		cr_assert(strstr(err, cases[i].needle), "case %zu: '%s' lacks '%s'", i, err,
			  cases[i].needle);
		cr_assert_null(strchr(err, '\n'), "one line");
		plan_release(&p);
	}
}

Test(cli, cmd_run_bad_input_exits_2_and_writes_nothing, .init = cr_redirect_stderr)
{
	char dir[] = "/tmp/vtx-cli-XXXXXX", out[300], path[320];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(path, sizeof(path), "%s/results.json", out);
	char *a1[] = {"run", "--workloads", "nope", "--out", out, NULL};
	cr_assert_eq(cmd_run(ARGC(a1), a1), VTX_EXIT_USAGE);
	char *a2[] = {"run", "--workloads", "noop", "--set", "nokey=1", "--out", out, NULL};
	cr_assert_eq(cmd_run(ARGC(a2), a2), VTX_EXIT_USAGE);
	cr_assert_neq(access(path, F_OK), 0, "no results.json on bad input");
	cr_assert_neq(access(out, F_OK), 0, "not even the directory");
	rmdir(dir);
}

Test(cli, help_and_list, .init = cr_redirect_stdout)
{
	char *h[] = {"run", "--help", NULL};
	cr_assert_eq(cmd_run(ARGC(h), h), VTX_EXIT_OK);
	char *l[] = {"list", NULL};
	cr_assert_eq(cmd_list(ARGC(l), l), VTX_EXIT_OK);
	char *lb[] = {"list", "extra", NULL};
	cr_assert_eq(cmd_list(ARGC(lb), lb), VTX_EXIT_USAGE);
	fflush(stdout);
	cr_assert_stdout_neq_str("");
}
