/*
 * Hostile guests (tests/integration/guests/, one .S each): a guest may only fail its
 * own run. vmm-lite side: a guest that drives a device path into a host
 * operation outside the seccomp allow-list ends the run (exit 69) before the
 * operation happens; a guest that floods a device with bad register writes
 * and posts descriptors outside its memory gets each bad request failed, a
 * bounded number of stderr lines, and a device that still serves the next
 * good request. Harness side (the guest is the VM side's agent through
 * VIRTTAX_AGENT): a flood of records past the parser's 4 MiB fails its run
 * and virttax stays under 64 MiB; calibration records that lie about their
 * iterations or flood spacing points fail their group with one line; a guest
 * that never exits is ended by the watchdog; each time the bare runs and the
 * other groups are unaffected.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
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
	char path[200];
	snprintf(dir, sizeof(dir), "/var/tmp/vtx-hostile-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	/* a calibration without kinds: `run` must not calibrate with a hostile guest */
	snprintf(path, sizeof(path), "%s/cal.json", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"version\":1,\"bare\":{},\"vm\":{},\"ladder\":[]}\n", f);
	fclose(f);
}

static void teardown(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return;
}

TestSuite(hostile_vmm, .init = setup, .fini = teardown, .timeout = 120);

struct vmm_result {
	int status;
	char out[4096], err[16384];
	json_t *stats;
	double secs;
};

static void slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;
	buf[n] = 0;
	if (f)
		fclose(f);
}

/* vmm-lite --kernel GUEST ARGS; stdout, stderr and the stats JSON kept */
static void vmm(struct vmm_result *r, const char *guest, const char *args)
{
	char cmd[2048], path[256];
	const char *b = itest_build_dir();
	struct timespec t0, t1;

	snprintf(cmd, sizeof(cmd),
		 "%s/vmm-lite --kernel %s/tests/guests/%s.elf --timeout 60 %s --stats-json "
		 "%s/stats.json >%s/out 2>%s/err",
		 b, b, guest, args, dir, dir, dir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r->status = itest_run_cmd(cmd);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	snprintf(path, sizeof(path), "%s/out", dir);
	slurp(path, r->out, sizeof(r->out));
	snprintf(path, sizeof(path), "%s/err", dir);
	slurp(path, r->err, sizeof(r->err));
	snprintf(path, sizeof(path), "%s/stats.json", dir);
	r->stats = json_load_file(path, 0, NULL);
	unlink(path);
}

static int count_lines_with(const char *s, const char *what)
{
	int n = 0;
	for (const char *line = s; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (memmem(line, len, what, strlen(what)))
			n++;
		line = end ? end + 1 : NULL;
	}
	return n;
}

/* The escape guest writes the port of the test-only device whose handler
 * creates a host file: the vCPU thread's openat is outside its allow-list. */
Test(hostile_vmm, forbidden_host_operation_ends_the_run_before_it_happens)
{
	static struct vmm_result r;
	char file[200], args[300];
	struct stat st;

	need_kvm();
	snprintf(file, sizeof(file), "%s/escaped", dir);
	snprintf(args, sizeof(args), "--test-escape %s", file);
	vmm(&r, "escape", args);
	cr_assert_eq(r.status, 69, "status %d, stderr: %s", r.status, r.err);
	cr_assert(strstr(r.err, "vmm-lite: seccomp: thread 'vcpu0' made system call openat (257), "
				"which its allow-list forbids"),
		  "%s", r.err);
	cr_assert_neq(stat(file, &st), 0, "the forbidden openat created %s", file);
	cr_assert_null(strstr(r.out, "survived"), "the guest kept running: %s", r.out);
	cr_assert_null(r.stats, "a killed run wrote --stats-json");

	/* the same guest without the sandbox: the host file appears, the guest
	 * goes on, so the assertions above can fail */
	snprintf(args, sizeof(args), "--test-escape %s --no-seccomp", file);
	vmm(&r, "escape", args);
	cr_assert_eq(r.status, 1, "status %d, stderr: %s", r.status, r.err);
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_str_eq(r.out, "survived\n");
	json_decref(r.stats);
}

/* Bad QUEUE_READY flood, then chains pointing outside RAM, then a good
 * request: every bad one failed alone, the good one served, stderr bounded. */
Test(hostile_vmm, device_error_flood_and_descriptors_outside_memory)
{
	static struct vmm_result r;
	char disk[200], args[300];
	const int flood = 5000, bad_requests = 6;

	need_kvm();
	snprintf(disk, sizeof(disk), "%s/disk.img", dir);
	int fd = open(disk, O_RDWR | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	snprintf(args, sizeof(args), "--mem 64M --blk %s --io-technique virtio-user", disk);
	vmm(&r, "virtio_hostile", args);
	cr_assert_eq(r.status, 1, "status %d (guest step %#x), stderr: %s", r.status, r.status >> 1,
		     r.err);
	cr_assert_str_eq(r.out, "served: virttax-blk\n");
	json_t *ge = json_object_get(json_object_get(r.stats, "guest_errors"), "virtio-blk");
	cr_assert_eq(json_integer_value(json_object_get(ge, "count")), flood + bad_requests);
	long long printed = json_integer_value(json_object_get(ge, "printed"));
	/* a burst of 10, then one per second of the run */
	cr_assert_leq(printed, 10 + (long long)r.secs + 1);
	cr_assert_geq(printed, 10);
	cr_assert_eq(json_integer_value(json_object_get(ge, "suppressed")),
		     flood + bad_requests - printed);
	cr_assert_eq(count_lines_with(r.err, "vmm-lite: virtio-blk: "), printed + 1, "%s", r.err);
	char want[96];
	snprintf(want, sizeof(want), "virtio-blk: %lld more guest errors not printed (%d in all",
		 flood + bad_requests - printed, flood + bad_requests);
	cr_assert(strstr(r.err, want), "%s", r.err);
	json_t *io = json_object_get(r.stats, "io");
	cr_assert_eq(json_integer_value(json_object_get(io, "errors")), bad_requests);
	cr_assert_eq(json_integer_value(json_object_get(io, "bytes")), 20);
	json_decref(r.stats);
}

/* ---- through `virttax run`: the hostile guest is the VM side's agent ---- */

TestSuite(hostile_run, .init = setup, .fini = teardown, .timeout = 300);

/* `VIRTTAX_AGENT=GUEST virttax run ARGS --calibration DIR/cal.json --out DIR/out`:
 * exit status, results.json */
static int virttax_with_guest(const char *guest, const char *args, json_t **results)
{
	char cmd[2048], path[256];
	const char *b = itest_build_dir();

	snprintf(cmd, sizeof(cmd),
		 "VIRTTAX_AGENT=%s/tests/guests/%s.elf %s/virttax run %s --calibration %s/cal.json "
		 "--out %s/out >%s/log 2>&1",
		 b, guest, b, args, dir, dir, dir);
	int st = itest_run_cmd(cmd);
	snprintf(path, sizeof(path), "%s/out/results.json", dir);
	*results = json_load_file(path, 0, NULL);
	return st;
}

/* `VIRTTAX_AGENT=GUEST virttax calibrate --quick`: exit status, the file */
static int calibrate_with_guest(const char *guest, json_t **cal)
{
	char cmd[2048], path[256];
	const char *b = itest_build_dir();

	snprintf(path, sizeof(path), "%s/calibration.json", dir);
	snprintf(cmd, sizeof(cmd),
		 "VIRTTAX_AGENT=%s/tests/guests/%s.elf %s/virttax calibrate --quick --out %s "
		 ">%s/log 2>&1",
		 b, guest, b, path, dir);
	int st = itest_run_cmd(cmd);
	*cal = json_load_file(path, 0, NULL);
	return st;
}

/* Every VM kind unavailable with `why` in its reason, the host kinds measured. */
static void check_vm_groups_failed(json_t *cal, const char *why)
{
	const char *kind;
	json_t *k;
	size_t nvm = 0, nbare = 0;

	cr_assert_not_null(cal, "no calibration.json: see %s/log", dir);
	json_object_foreach(json_object_get(cal, "vm"), kind, k)
	{
		const char *r = json_string_value(json_object_get(k, "reason"));
		cr_assert(json_is_false(json_object_get(k, "available")), "vm %s available", kind);
		cr_assert(r && strstr(r, why), "vm %s: %s", kind, r);
		cr_assert_null(strchr(r, '\n'), "vm %s: reason of more than one line", kind);
		nvm++;
	}
	json_object_foreach(json_object_get(cal, "bare"), kind, k) nbare +=
	    json_is_true(json_object_get(k, "available"));
	cr_assert_gt(nvm, 10);
	cr_assert_gt(nbare, 3, "the host side must not be affected");
}

/* the run of `side` in the first workload (warm-ups excluded) */
static json_t *run_of(json_t *results, const char *side)
{
	json_t *runs = json_object_get(json_array_get(json_object_get(results, "workloads"), 0),
				       "runs"),
	       *r;
	size_t i;
	json_array_foreach(
	    runs, i, r) if (!strcmp(json_string_value(json_object_get(r, "side")), side)) return r;
	return NULL;
}

Test(hostile_run, sandbox_violation_fails_only_the_vm_run)
{
	char args[512], file[200];
	json_t *res;
	struct stat st;

	need_kvm();
	snprintf(file, sizeof(file), "%s/escaped", dir);
	snprintf(args, sizeof(args),
		 "--workloads noop --reps 1 --warmup 0 --vmm-arg=--test-escape=%s", file);
	cr_assert_eq(virttax_with_guest("escape", args, &res), 1, "see %s/log", dir);
	cr_assert_not_null(res);
	cr_assert_str_eq(json_string_value(json_object_get(run_of(res, "bare"), "status")), "ok");
	json_t *vm = run_of(res, "vm");
	cr_assert_str_eq(json_string_value(json_object_get(vm, "status")), "crash");
	const char *why = json_string_value(json_object_get(vm, "reason"));
	cr_assert(why && strstr(why, "vmm-lite exit 69: vmm-lite: seccomp: thread 'vcpu0' made "
				     "system call openat (257)"),
		  "%s", why);
	cr_assert_neq(stat(file, &st), 0);
	json_decref(res);
}

/* 4.06 MiB of {"t":"exception","a":[{},{},...]} lines (~70 s of port I/O):
 * the old parser kept ~75x that in parsed JSON. Now the run fails with one
 * line at 4 MiB, and the peak RSS of virttax and every child stays < 64 MiB. */
Test(hostile_run, record_flood_fails_its_run_and_memory_stays_bounded, .timeout = 600)
{
	json_t *res;
	struct rusage ru;

	need_kvm();
	cr_assert_eq(virttax_with_guest("proto_flood_4m",
					"--workloads noop --reps 1 --warmup 0 --timeout 500", &res),
		     1, "see %s/log", dir);
	cr_assert_not_null(res);
	cr_assert_str_eq(json_string_value(json_object_get(run_of(res, "bare"), "status")), "ok");
	json_t *vm = run_of(res, "vm");
	cr_assert_str_eq(json_string_value(json_object_get(vm, "status")), "failed");
	const char *why = json_string_value(json_object_get(vm, "reason"));
	cr_assert(why && !strncmp(why, "protocol error: line ", 21) &&
		      strstr(why, "more than 4194304 bytes of records (a flood)"),
		  "%s", why);
	json_t *proto = json_object_get(vm, "protocol");
	cr_assert_leq(json_array_size(json_object_get(proto, "messages")), 200);
	cr_assert_gt(json_integer_value(json_object_get(proto, "messages_dropped")), 0);
	cr_assert_gt(json_integer_value(json_object_get(proto, "record_bytes")), 4 << 20);
	/* the largest of virttax, vmm-lite, the baseline and sh: KiB */
	cr_assert_eq(getrusage(RUSAGE_CHILDREN, &ru), 0);
	cr_assert_lt(ru.ru_maxrss, 64 * 1024, "peak RSS %ld KiB", ru.ru_maxrss);
	json_decref(res);
}

/* iters = 2^63-1 in every VM group: each fails with the protocol error */
Test(hostile_run, calibration_iterations_lie_fails_its_groups)
{
	json_t *cal;

	need_kvm();
	cr_assert_eq(calibrate_with_guest("calib_iters_lie", &cal), 0, "see %s/log", dir);
	check_vm_groups_failed(cal, "protocol error: line 2: calib record: \"iters\" must be an "
				    "integer from 1 to 2^40");
	json_decref(cal);
}

/* 1 + 63 spacing records of pio in every VM group (two overflowed the stack) */
Test(hostile_run, calibration_spacing_flood_fails_its_groups)
{
	json_t *cal;

	need_kvm();
	cr_assert_eq(calibrate_with_guest("calib_spacing_flood", &cal), 0, "see %s/log", dir);
	check_vm_groups_failed(cal,
			       "calib records: kind pio would have 63 spacing points, at most 16");
	json_decref(cal);
}

/* a guest that loops without exiting: the watchdog ends each of its runs */
Test(hostile_run, guest_that_never_exits_times_out_alone)
{
	json_t *res, *r;
	size_t i, nvm = 0, nbare = 0;

	need_kvm();
	cr_assert_eq(
	    virttax_with_guest("hang", "--workloads noop --reps 2 --warmup 0 --timeout 2", &res), 1,
	    "see %s/log", dir);
	cr_assert_not_null(res);
	json_array_foreach(
	    json_object_get(json_array_get(json_object_get(res, "workloads"), 0), "runs"), i, r)
	{
		const char *side = json_string_value(json_object_get(r, "side"));
		const char *st = json_string_value(json_object_get(r, "status"));
		if (!strcmp(side, "vm")) {
			cr_assert_str_eq(st, "timeout", "%s",
					 json_string_value(json_object_get(r, "reason")));
			nvm++;
		} else {
			cr_assert_str_eq(st, "ok");
			nbare++;
		}
	}
	cr_assert_eq(nvm, 2);
	cr_assert_eq(nbare, 2);
	json_decref(res);
}
