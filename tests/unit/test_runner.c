/*
 * Unit tests of the runner's pieces that need no VM: the counterbalanced
 * order, which experiment measures which workload, flags checked against the
 * selected workloads (bad input: one line, exit 2, nothing written), the
 * workloads' declared needs, --dry-run, and the results file's version and
 * completeness checks.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/results.h"
#include "harness/cmds.h"
#include "harness/experiment.h"
#include "harness/runner.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof(a[0])) - 1)

static char err[400];

static int parse(struct plan *p, int argc, char **argv)
{
	err[0] = 0;
	int rc = plan_parse_with(p, argc, argv, experiment_own_workload, err, sizeof(err));
	return rc ? rc : experiment_check_flags(p, err, sizeof(err));
}

Test(runner, order_is_a_seeded_permutation)
{
	size_t a[6], b[6], c[6];
	runner_order(42, 0, 3, 6, a);
	runner_order(42, 0, 3, 6, b);
	cr_assert_arr_eq(a, b, sizeof(a), "same seed, workload and round: same order");
	bool seen[6] = {0};
	for (int i = 0; i < 6; i++) {
		cr_assert_lt(a[i], 6);
		cr_assert_not(seen[a[i]], "%zu twice", a[i]);
		seen[a[i]] = true;
	}
	int differ = 0;
	for (unsigned r = 0; r < 20; r++) {
		runner_order(42, 0, r, 6, c);
		differ += memcmp(a, c, sizeof(a)) != 0;
	}
	cr_assert_geq(differ, 15, "rounds must not repeat one order (%d of 20 differ)", differ);
	runner_order(43, 0, 3, 6, c);
	runner_order(42, 1, 3, 6, b);
	cr_assert(memcmp(a, c, sizeof(a)) || memcmp(a, b, sizeof(a)),
		  "seed and workload change the order");
}

/* Counterbalanced: over many rounds every series runs first about equally often. */
Test(runner, order_is_counterbalanced)
{
	unsigned first[3] = {0}, last[3] = {0};
	const unsigned rounds = 3000;
	for (unsigned r = 0; r < rounds; r++) {
		size_t p[3];
		runner_order(7, 2, r, 3, p);
		first[p[0]]++;
		last[p[2]]++;
	}
	for (int i = 0; i < 3; i++) { /* 1000 expected; 5 sigma of Binomial(3000, 1/3) ~ 130 */
		cr_assert(first[i] > 870 && first[i] < 1130, "series %d first %u times", i,
			  first[i]);
		cr_assert(last[i] > 870 && last[i] < 1130, "series %d last %u times", i, last[i]);
	}
	size_t one;
	runner_order(1, 0, 0, 1, &one);
	cr_assert_eq(one, 0);
}

Test(runner, workloads_select_their_experiment)
{
	struct plan p;
	char *a[] = {"run", "--workloads", "cpu-int,blk-rand,net-rr,mem-pressure", NULL};
	cr_assert_eq(parse(&p, ARGC(a), a), 0, "%s", err);
	cr_assert_str_eq(experiment_for(&p, &p.wl[0])->name, "ab");
	cr_assert_str_eq(experiment_for(&p, &p.wl[1])->name, "io-blk");
	cr_assert_str_eq(experiment_for(&p, &p.wl[2])->name, "io-net");
	cr_assert_str_eq(experiment_for(&p, &p.wl[3])->name, "ab", "no --mem-limit: plain A/B");
	plan_release(&p);
	char *b[] = {"run", "--workloads", "mem-pressure", "--mem-limit", "96M", NULL};
	cr_assert_eq(parse(&p, ARGC(b), b), 0, "%s", err);
	cr_assert_str_eq(experiment_for(&p, &p.wl[0])->name, "mem-pressure");
	plan_release(&p);
	char *c[] = {"run", "--workloads", "vmm-footprint", NULL};
	cr_assert_eq(parse(&p, ARGC(c), c), 0, "%s", err);
	cr_assert_null(p.wl[0].ops);
	cr_assert_str_eq(experiment_for(&p, &p.wl[0])->name, "vmm-footprint");
	plan_release(&p);
	char *d[] = {"run", "--workloads", "vmm-footprint,cpu-int", NULL};
	cr_assert_eq(parse(&p, ARGC(d), d), -EINVAL);
	cr_assert(strstr(err, "vmm-footprint runs alone"), "%s", err);
	plan_release(&p);
	cr_assert(experiment_own_workload("vmm-footprint"));
	cr_assert_not(experiment_own_workload("cpu-int"));
	cr_assert_not(experiment_own_workload("nope"));
}

Test(runner, flags_that_apply_to_no_workload_are_bad_input)
{
	static const struct {
		const char *args, *needle;
	} bad[] = {
	    {"--workloads cpu-int --balloon 64", "--balloon applies to workload mem-pressure"},
	    {"--workloads cpu-int --mem-limit 96M", "--mem-limit applies to workload mem-pressure"},
	    {"--workloads cpu-int --pin dedicated", "--pin none|dedicated applies to workloads"},
	    {"--workloads cpu-int --overcommit", "--overcommit applies to workloads"},
	    {"--workloads cpu-int --io-technique poll", "--io-technique applies to the I/O"},
	    {"--workloads net-rr --direct", "--direct applies to the disk workloads"},
	    {"--workloads blk-rand --reps auto", "--reps auto/--target-ci/--max-reps applies"},
	    {"--workloads blk-rand --co-tenant same-core", "--co-tenant applies"},
	    {"--workloads mem-pressure --mem-limit 96M --co-tenant same-core",
	     "--co-tenant applies to bare-vs-VM workloads"},
	    {"--workloads cpu-int,mem-pressure --mem-limit 96M --co-tenant same-core",
	     "cannot be combined with --co-tenant"},
	    {"--workloads mem-pressure --balloon 64 --vmm qemu", "--balloon is wired for --vmm "
								 "vmm-lite only"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[256], *argv[16];
		int argc = 0;
		snprintf(buf, sizeof(buf), "run %s", bad[i].args);
		for (char *t = strtok(buf, " "); t; t = strtok(NULL, " "))
			argv[argc++] = t;
		argv[argc] = NULL;
		struct plan p;
		cr_assert_eq(parse(&p, argc, argv), -EINVAL, "case %zu accepted", i);
		cr_assert(strstr(err, bad[i].needle), "case %zu: '%s' lacks '%s'", i, err,
			  bad[i].needle);
		cr_assert_null(strchr(err, '\n'), "one line");
		plan_release(&p);
	}
}

Test(runner, flags_that_apply_are_accepted)
{
	static const char *const good[] = {
	    "--workloads sched-ipi --pin dedicated",
	    "--workloads cpu-int,sched-spinlock --overcommit",
	    "--workloads blk-rand --io-technique poll,emulated --direct",
	    "--workloads net-rr,blk-seq --io-technique virtio-user",
	    "--workloads mem-pressure --balloon 64",
	    "--workloads mem-pressure --mem-limit 96M --balloon 64",
	    "--workloads cpu-int --reps auto --co-tenant same-core --backing 4k,thp",
	    "--workloads vmm-footprint --vmm vmm-lite,qemu",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char buf[256], *argv[16];
		int argc = 0;
		snprintf(buf, sizeof(buf), "run %s", good[i]);
		for (char *t = strtok(buf, " "); t; t = strtok(NULL, " "))
			argv[argc++] = t;
		argv[argc] = NULL;
		struct plan p;
		cr_assert_eq(parse(&p, argc, argv), 0, "case %zu: %s", i, err);
		plan_release(&p);
	}
}

static const char *value_of(const struct plan_workload *w, const char *key)
{
	for (size_t i = 0; i < w->nparams; i++)
		if (!strcmp(w->ops->params[i].key, key))
			return w->values[i];
	return NULL;
}

Test(runner, workloads_get_what_they_declare)
{
	struct plan p;
	const char *list;
	char *a[] = {"run",
		     "--workloads",
		     "cpu-int,sched-ipi,sched-spinlock",
		     "--pin",
		     "0",
		     "--set",
		     "sched-spinlock.cpus=3",
		     NULL};
	cr_assert_eq(parse(&p, ARGC(a), a), 0, "%s", err);
	cr_assert_eq(plan_vcpus(&p, &p.wl[0], &list), 1);
	cr_assert_null(list, "one vCPU on --pin");
	cr_assert_eq(plan_vcpus(&p, &p.wl[1], &list), 2, "sched-ipi needs two vCPUs");
	cr_assert_not_null(list);
	cr_assert(!strncmp(list, "0,", 2), "the --pin CPU first: %s", list);
	cr_assert_str_eq(value_of(&p.wl[2], "cpus"), "3");
	cr_assert_eq(plan_vcpus(&p, &p.wl[2], &list), 3, "sched-spinlock: its cpus parameter");
	plan_release(&p);
	char *b[] = {"run", "--workloads", "sched-ipi", "--pin", "none", NULL};
	cr_assert_eq(parse(&p, ARGC(b), b), 0, "%s", err);
	cr_assert_eq(plan_vcpus(&p, &p.wl[0], &list), 2);
	cr_assert_str_eq(list, "", "--pin none: unpinned");
	plan_release(&p);
	cr_assert(workload_find("blk-rand")->needs & WL_NEEDS_DISK);
	cr_assert(workload_find("net-stream")->needs & WL_NEEDS_NIC);
	cr_assert(workload_find("mem-pressure")->needs & WL_TAKES_MEM_PRESSURE);
}

Test(runner, experiment_defaults_unless_given)
{
	struct plan p;
	unsigned w, r;
	char *a[] = {"run", "--workloads", "blk-rand", "--quick", NULL};
	cr_assert_eq(parse(&p, ARGC(a), a), 0, "%s", err);
	runner_rounds(&p, &exp_io_blk, &w, &r);
	cr_assert_eq(w, 0);
	cr_assert_eq(r, 3);
	runner_rounds(&p, &exp_ab, &w, &r);
	cr_assert_eq(w, PLAN_QUICK_WARMUP);
	cr_assert_eq(r, PLAN_QUICK_REPS);
	plan_release(&p);
	char *b[] = {"run", "--workloads", "vmm-footprint", "--reps", "2", "--warmup", "3", NULL};
	cr_assert_eq(parse(&p, ARGC(b), b), 0, "%s", err);
	runner_rounds(&p, &exp_footprint, &w, &r);
	cr_assert_eq(r, 2, "--reps given wins");
	cr_assert_eq(w, 0, "every footprint boot counts");
	plan_release(&p);
}

Test(runner, bad_flag_exits_2_and_writes_nothing, .init = cr_redirect_stderr)
{
	char dir[] = "/tmp/vtx-runner-XXXXXX", out[300];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	char *a[] = {"run", "--quick", "--workloads", "cpu-int", "--balloon",
		     "64",  "--out",   out,	      NULL};
	cr_assert_eq(cmd_run(ARGC(a), a), VTX_EXIT_USAGE);
	cr_assert_neq(access(out, F_OK), 0, "nothing written");
	rmdir(dir);
}

Test(runner, dry_run_prints_the_plan_and_runs_nothing, .init = cr_redirect_stdout)
{
	char dir[] = "/tmp/vtx-runner-XXXXXX", out[300];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	char *a[] = {"run",    "--dry-run", "--quick", "--workloads", "noop,blk-rand",
		     "--seed", "99",	    "--out",   out,	      NULL};
	cr_assert_eq(cmd_run(ARGC(a), a), VTX_EXIT_OK);
	fflush(stdout);
	cr_assert_neq(access(out, F_OK), 0, "a dry run writes nothing");
	rmdir(dir);
	char buf[8192] = "";
	FILE *f = cr_get_redirected_stdout();
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	cr_assert(strstr(buf, "Seed 99"), "%s", buf);
	cr_assert(strstr(buf, "experiment ab"), "%s", buf);
	cr_assert(strstr(buf, "experiment io-blk"), "%s", buf);
	cr_assert(strstr(buf, "vm[io=virtio-eventfd]"), "%s", buf);
	/* noop: bare + vm, 1 warm-up + 3; blk-rand: bare + vm, 0 + 3; calibration 4 */
	cr_assert(strstr(buf, "18 child runs, estimated"), "%s", buf);
}

Test(runner, results_version_is_checked)
{
	char dir[] = "/tmp/vtx-runner-XXXXXX", path[300];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/results.json", dir);
	json_t *root;
	for (int v = 0; v <= 3; v++) {
		json_t *doc = json_pack("{s:s,s:i,s:[]}", "schema", RESULTS_SCHEMA,
					"schema_version", v, "workloads");
		cr_assert_eq(json_dump_file(doc, path, 0), 0);
		json_decref(doc);
		err[0] = 0;
		int rc = results_load(dir, &root, err, sizeof(err));
		if (v >= RESULTS_SCHEMA_VERSION_MIN && v <= RESULTS_SCHEMA_VERSION) {
			cr_assert_eq(rc, 0, "version %d: %s", v, err);
			json_decref(root);
			continue;
		}
		cr_assert_eq(rc, -EINVAL, "version %d read", v);
		cr_assert_null(root);
		cr_assert(strstr(err, "is not one this virttax reads"), "%s", err);
		cr_assert_null(strchr(err, '\n'), "one line");
	}
	unlink(path);
	rmdir(dir);
}

Test(runner, partial_results_say_so)
{
	json_t *done = json_pack("{s:b}", "complete", 1), *old = json_object();
	json_t *part = json_pack("{s:b,s:{s:s,s:i,s:[{s:s},{s:s}]}}", "complete", 0, "stopped",
				 "reason", "SIGINT: the runs that finished are kept", "runs_done",
				 7, "remaining", "workload", "cpu-int", "workload", "mem-chase");
	char why[300];
	cr_assert_not(results_partial(done, why, sizeof(why)));
	cr_assert_not(results_partial(old, why, sizeof(why)), "version 1 files have no flag");
	cr_assert(results_partial(part, why, sizeof(why)));
	cr_assert(strstr(why, "SIGINT"), "%s", why);
	cr_assert(strstr(why, "7 runs kept, 2 left"), "%s", why);
	json_decref(done);
	json_decref(old);
	json_decref(part);
}
