/*
 * Integration tests of `virttax run`: boots real VMs through vmm-lite with the
 * real guest agent, checks results.json, and checks that bad input exits 2
 * without writing anything. Skipped when /dev/kvm is missing.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static char tmp_dir[PATH_MAX];

static void setup(void)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/vtx-itest-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp_dir));
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	cr_assert_eq(system(cmd), 0);
}

static void need_kvm(void)
{
	if (access("/dev/kvm", R_OK | W_OK))
		cr_skip_test("/dev/kvm not usable here");
}

/* Runs `[env] BUILD/virttax args`, output to a log in tmp_dir; returns the exit status. */
static int virttax(const char *env, const char *args)
{
	char cmd[PATH_MAX * 3 + 256];
	snprintf(cmd, sizeof(cmd), "%s '%s/virttax' %s >>'%s/log' 2>&1", env ? env : "",
		 itest_build_dir(), args, tmp_dir);
	int st = system(cmd);
	cr_assert(WIFEXITED(st), "%s did not exit normally", cmd);
	return WEXITSTATUS(st);
}

static json_t *load_results(const char *out)
{
	char path[PATH_MAX + 32];
	json_error_t err;
	snprintf(path, sizeof(path), "%s/results.json", out);
	json_t *r = json_load_file(path, 0, &err);
	cr_assert_not_null(r, "%s: %s", path, err.text);
	return r;
}

static bool exists(const char *dir, const char *file)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

static size_t count_runs(json_t *runs, const char *side)
{
	size_t i, n = 0;
	json_t *r;
	json_array_foreach(runs, i, r)
	{
		if (strcmp(json_string_value(json_object_get(r, "side")), side))
			continue;
		cr_assert(json_is_false(json_object_get(r, "warmup")));
		cr_assert_str_eq(json_string_value(json_object_get(r, "status")), "ok",
				 "%s run: %s", side,
				 json_string_value(json_object_get(r, "reason")));
		n++;
	}
	return n;
}

/* the first run of `side` (the order of a round is random) */
static json_t *run_of(json_t *runs, const char *side)
{
	size_t i;
	json_t *r;
	json_array_foreach(
	    runs, i, r) if (!strcmp(json_string_value(json_object_get(r, "side")), side)) return r;
	cr_assert_fail("no %s run", side);
	return NULL;
}

Test(run, noop_two_reps, .init = setup, .fini = teardown, .timeout = 120)
{
	need_kvm();
	char args[PATH_MAX + 128], out[PATH_MAX + 8];
	snprintf(out, sizeof(out), "%s/out", tmp_dir);
	snprintf(args, sizeof(args), "run --workloads noop --reps 2 --warmup 0 --out '%s'", out);
	cr_assert_eq(virttax(NULL, args), 0, "see %s/log", tmp_dir);
	json_t *r = load_results(out);
	cr_assert_eq(json_integer_value(json_object_get(r, "schema_version")), 3);
	cr_assert(json_is_true(json_object_get(r, "complete")));
	cr_assert_str_eq(json_string_value(json_object_get(r, "schema")), "virttax-results");
	json_t *wl = json_array_get(json_object_get(r, "workloads"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(wl, "name")), "noop");
	json_t *runs = json_object_get(wl, "runs");
	cr_assert_eq(count_runs(runs, "bare"), 2);
	cr_assert_eq(count_runs(runs, "vm"), 2);
	json_t *s = json_array_get(json_object_get(wl, "summary"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(s, "metric")), "tsc_read");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(s, "bare"), "n")), 2);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(s, "vm"), "n")), 2);
	cr_assert_gt(json_number_value(json_object_get(json_object_get(s, "vm"), "median")), 0);
	cr_assert_eq(
	    json_integer_value(json_object_get(json_object_get(s, "overhead_pct"), "pairs")), 2);
	json_t *vm_run = run_of(runs, "vm");
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(vm_run, "vmm_stats"), "vmm")),
	    "vmm-lite");
	cr_assert(json_integer_value(json_object_get(json_object_get(vm_run, "hello"), "tsc_khz")) >
		  0);
	json_decref(r);
}

Test(run, pagesize_matrix_gives_two_series, .init = setup, .fini = teardown, .timeout = 120)
{
	need_kvm();
	char args[PATH_MAX + 128], out[PATH_MAX + 8];
	snprintf(out, sizeof(out), "%s/out", tmp_dir);
	snprintf(args, sizeof(args),
		 "run --workloads noop --pagesize 4k,2m --reps 1 --warmup 0 --out '%s'", out);
	cr_assert_eq(virttax(NULL, args), 0, "see %s/log", tmp_dir);
	json_t *r = load_results(out);
	json_t *sum =
	    json_object_get(json_array_get(json_object_get(r, "workloads"), 0), "summary");
	cr_assert_eq(json_array_size(sum), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(sum, 0), "series")),
			 "vm[pagesize=4k]");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(sum, 1), "series")),
			 "vm[pagesize=2m]");
	json_decref(r);
}

Test(run, bad_input_exits_2_without_results, .init = setup, .fini = teardown, .timeout = 60)
{
	char args[PATH_MAX + 128], out[PATH_MAX + 8];
	snprintf(out, sizeof(out), "%s/out", tmp_dir);
	snprintf(args, sizeof(args), "run --workloads no-such --out '%s'", out);
	cr_assert_eq(virttax(NULL, args), 2);
	cr_assert_not(exists(out, "results.json"));
	snprintf(args, sizeof(args), "run --workloads noop --set no_such_key=1 --out '%s'", out);
	cr_assert_eq(virttax(NULL, args), 2);
	snprintf(args, sizeof(args), "run --workloads noop --mem 0 --out '%s'", out);
	cr_assert_eq(virttax(NULL, args), 2);
	snprintf(args, sizeof(args), "run --workloads noop --reps 0 --out '%s'", out);
	cr_assert_eq(virttax(NULL, args), 2);
	cr_assert_not(exists(out, "results.json"));
}

Test(run, agent_without_pvh_note_exits_2, .init = setup, .fini = teardown, .timeout = 60)
{
	need_kvm();
	char args[PATH_MAX + 128], out[PATH_MAX + 8];
	snprintf(out, sizeof(out), "%s/out", tmp_dir);
	snprintf(args, sizeof(args), "run --workloads noop --reps 1 --warmup 0 --out '%s'", out);
	/* the virttax binary itself: a valid ELF, but not a PVH kernel */
	char env[PATH_MAX + 32];
	snprintf(env, sizeof(env), "VIRTTAX_AGENT='%s/virttax'", itest_build_dir());
	cr_assert_eq(virttax(env, args), 2);
	cr_assert_not(exists(out, "results.json"));
	snprintf(env, sizeof(env), "VIRTTAX_VMM_LITE=/nonexistent/vmm-lite");
	cr_assert_eq(virttax(env, args), 2);
	cr_assert_not(exists(out, "results.json"));
}

Test(run, vm_timeout_is_recorded_not_dropped, .init = setup, .fini = teardown, .timeout = 120)
{
	need_kvm();
	char args[PATH_MAX + 160], out[PATH_MAX + 8];
	snprintf(out, sizeof(out), "%s/out", tmp_dir);
	/* The VM is made slow by the VMM, not by the amount of work, so the outcome does not
	 * depend on how fast or how loaded the machine is: 20 ms busy-waited in every exit that
	 * reaches vmm-lite (the agent's ~600 UART exits: ~12 s) against a 1 s watchdog, while
	 * bare metal's ~30 ms of cpu-int has until 1 + 5 s. */
	snprintf(args, sizeof(args),
		 "run --workloads cpu-int --set iters=10000000 --reps 1 --warmup 0 --timeout 1 "
		 "--vmm-arg=--inject-exit-delay-us=20000 --out '%s'",
		 out);
	cr_assert_eq(virttax(NULL, args), 1, "a failed run exits 1: see %s/log", tmp_dir);
	json_t *r = load_results(out);
	json_t *wl = json_array_get(json_object_get(r, "workloads"), 0);
	json_t *runs = json_object_get(wl, "runs");
	cr_assert_eq(json_array_size(runs), 2);
	/* the bare run has 1 + 5 s for ~30 ms of CPU time: it may time out only on a host
	 * loaded beyond any measurement; either way it is recorded */
	const char *bare_status =
	    json_string_value(json_object_get(run_of(runs, "bare"), "status"));
	cr_assert(!strcmp(bare_status, "ok") || !strcmp(bare_status, "timeout"), "bare: %s",
		  bare_status);
	json_t *vm = run_of(runs, "vm");
	cr_assert_str_eq(json_string_value(json_object_get(vm, "status")), "timeout", "%s",
			 json_string_value(json_object_get(vm, "reason")));
	cr_assert_not_null(json_string_value(json_object_get(vm, "reason")));
	json_t *s = json_array_get(json_object_get(wl, "summary"), 0);
	if (!strcmp(bare_status, "ok")) { /* a summary needs one ok run with metrics */
		cr_assert_eq(json_integer_value(json_object_get(json_object_get(s, "vm"), "n")), 0);
		cr_assert_eq(
		    json_integer_value(json_object_get(json_object_get(s, "failed_runs"), "vm")),
		    1);
	} else {
		cr_assert_eq(json_array_size(json_object_get(wl, "summary")), 0);
	}
	json_decref(r);
}
