/*
 * Integration tests of virtio-balloon (vmm-lite --balloon MIB) with the real
 * guest agent: the agent inflates to the target before the workload, the
 * VMM releases every page (stats "balloon"), and the workload can no longer
 * use the ballooned memory (a working set that fits without the balloon
 * does not fit with it).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/helpers.h"

static char dir[128];

static void need_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR);
	if (fd < 0)
		cr_skip_test("no /dev/kvm");
	close(fd);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/var/tmp/vtx-balloon-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return;
}

TestSuite(balloon_vm, .init = setup, .fini = teardown, .timeout = 120);

/* vmm-lite's exit status; *stats the stats JSON (NULL when not written), *out its stdout */
static int boot(const char *extra, const char *wl, json_t **stats, char *out, size_t outlen)
{
	char cmd[1024], path[200];
	const char *b = itest_build_dir();
	snprintf(path, sizeof(path), "%s/stats.json", dir);
	unlink(path);
	snprintf(cmd, sizeof(cmd),
		 "%s/vmm-lite --kernel %s/guest-agent.elf --mem 128M --timeout 60 %s "
		 "--cmdline 'workload=mem-pressure %s' --stats-json %s >%s/out 2>&1",
		 b, b, extra, wl, path, dir);
	int st = system(cmd);
	*stats = json_load_file(path, 0, NULL);
	snprintf(cmd, sizeof(cmd), "%s/out", dir);
	FILE *f = fopen(cmd, "r");
	size_t n = f ? fread(out, 1, outlen - 1, f) : 0;
	out[n] = 0;
	if (f)
		fclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static json_int_t bal(json_t *stats, const char *key)
{
	json_t *v = json_object_get(json_object_get(stats, "balloon"), key);
	cr_assert(json_is_integer(v), "balloon.%s missing", key);
	return json_integer_value(v);
}

Test(balloon_vm, inflates_to_target_and_releases_64m)
{
	need_kvm();
	json_t *st;
	static char out[65536];
	int rc = boot("--balloon 64", "wss=1M passes=2", &st, out, sizeof(out));
	cr_assert_eq(rc, 1, "guest exit 0 expected (vmm-lite status 1), got %d: %s", rc, out);
	cr_assert_not_null(st);
	cr_assert_eq(bal(st, "target_pages"), 16384);
	cr_assert_eq(bal(st, "inflated_pages"), 16384);
	cr_assert_eq(bal(st, "actual_pages"), 16384, "the driver wrote actual");
	cr_assert_eq(bal(st, "released_bytes"), 64ll << 20);
	cr_assert_eq(bal(st, "bad_pfns"), 0);
	cr_assert_eq(bal(st, "duplicate_pfns"), 0);
	cr_assert_eq(bal(st, "requests"), 64, "batches of 256 PFNs");
	cr_assert_gt(bal(st, "release_ns"), 0);
	cr_assert(json_is_null(json_object_get(st, "io")), "a balloon alone is not an I/O device");
	cr_assert_not_null(strstr(out, "balloon: inflated 16384 pages"));
	json_decref(st);
}

Test(balloon_vm, no_balloon_no_device)
{
	need_kvm();
	json_t *st;
	static char out[65536];
	cr_assert_eq(boot("", "wss=1M passes=2", &st, out, sizeof(out)), 1, "%s", out);
	cr_assert(json_is_null(json_object_get(st, "balloon")));
	cr_assert_null(strstr(out, "balloon:"));
	json_decref(st);
}

/* 96M fits in a 128M guest; with 64M ballooned out it does not */
Test(balloon_vm, guest_cannot_use_ballooned_pages)
{
	need_kvm();
	json_t *st;
	static char out[65536];
	cr_assert_eq(boot("", "wss=96M passes=2", &st, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "\"t\":\"done\",\"status\":0"), "%s", out);
	json_decref(st);
	int rc = boot("--balloon 64", "wss=96M passes=2", &st, out, sizeof(out));
	cr_assert_eq(rc, 3, "guest exit 1 (workload failed) expected, got %d", rc);
	cr_assert_not_null(strstr(out, "cannot allocate a working set"), "%s", out);
	cr_assert_eq(bal(st, "inflated_pages"), 16384);
	json_decref(st);
}

Test(balloon_vm, target_not_below_mem_is_bad_input)
{
	need_kvm();
	json_t *st;
	static char out[65536];
	cr_assert_eq(boot("--balloon 128", "wss=1M", &st, out, sizeof(out)), 64);
	cr_assert_not_null(strstr(out, "--balloon 128 MiB"), "%s", out);
	json_decref(st);
}

/* virttax run --balloon: the VM side gets the balloon and its stats, bare does not */
Test(balloon_vm, harness_passes_balloon_to_vm_side_only)
{
	need_kvm();
	char cmd[1024], path[200];
	const char *b = itest_build_dir();
	snprintf(cmd, sizeof(cmd),
		 "%s/virttax run --workloads mem-pressure --balloon 64 --set wss=1M --set passes=2 "
		 "--reps 1 --warmup 0 --mem 256M --out %s/res >%s/out 2>&1",
		 b, dir, dir);
	int rc = itest_run_cmd(cmd);
	if (rc == 3)
		cr_skip_test("no memory cgroup controller here (exit 3)");
	cr_assert_eq(rc, 0, "virttax run exit %d", rc);
	snprintf(path, sizeof(path), "%s/res/results.json", dir);
	json_t *r = json_load_file(path, 0, NULL);
	cr_assert_not_null(r);
	cr_assert_eq(
	    json_integer_value(json_object_get(json_object_get(r, "mem_pressure"), "balloon_mib")),
	    64);
	json_t *runs = json_object_get(json_array_get(json_object_get(r, "workloads"), 0), "runs");
	size_t i, nvm = 0, nbare = 0;
	json_t *run;
	json_array_foreach(runs, i, run)
	{
		const char *side = json_string_value(json_object_get(run, "side"));
		json_t *bal = json_object_get(run, "balloon");
		if (side && !strcmp(side, "vm")) {
			nvm++;
			cr_assert_str_eq(json_string_value(json_object_get(run, "series")),
					 "vm[balloon=64M]");
			cr_assert_eq(json_integer_value(json_object_get(bal, "inflated_pages")),
				     16384);
		} else {
			nbare++;
			cr_assert_null(bal, "the bare side has no balloon");
		}
	}
	cr_assert_eq(nvm, 1);
	cr_assert_eq(nbare, 1);
	json_decref(r);
}
