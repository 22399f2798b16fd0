/*
 * Integration tests of build/vmm-lite: boot the tiny PVH test guests
 * (tests/integration/guests/NAME.S, built into $VTX_BUILD/tests/guests) and
 * check exit status, guest serial output, stderr and the --stats-json file.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct result {
	int status; /* exit status, or 128+signal */
	char out[8192];
	size_t nout;
	char err[4096];
	json_t *stats;
	double secs;
};

static const char *build_dir(void)
{
	const char *b = getenv("VTX_BUILD");

	return b && *b ? b : "build";
}

static char *path_of(const char *rel)
{
	static char bufs[4][512];
	static int i;
	char *p = bufs[i++ % 4];

	snprintf(p, 512, "%s/%s", build_dir(), rel);
	return p;
}

static void read_all(int fd, char *buf, size_t cap, size_t *n)
{
	ssize_t r;

	*n = 0;
	while ((r = read(fd, buf + *n, cap - 1 - *n)) > 0)
		*n += (size_t)r;
	buf[*n] = '\0';
}

/* Run vmm-lite with args (NULL-terminated); control socket end becomes fd 3. */
static void run_vmm(struct result *res, int control, const char *const *args)
{
	char stats_path[] = "/tmp/vtx-vmm-stats-XXXXXX", err_path[] = "/tmp/vtx-vmm-err-XXXXXX";
	const char *argv[32] = {path_of("vmm-lite")};
	int n = 1, out[2], efd = mkstemp(err_path), sfd = mkstemp(stats_path), ws;
	struct timespec t0, t1;
	pid_t pid;
	size_t ne;

	cr_assert_geq(efd, 0);
	cr_assert_geq(sfd, 0);
	close(sfd);
	unlink(stats_path);
	for (; args[n - 1]; n++)
		argv[n] = args[n - 1];
	argv[n] = "--stats-json";
	argv[n + 1] = stats_path;
	argv[n + 2] = NULL;
	cr_assert_eq(pipe(out), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(efd, 2);
		if (control >= 0)
			dup2(control, 3);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	read_all(out[0], res->out, sizeof(res->out), &res->nout);
	close(out[0]);
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	res->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	lseek(efd, 0, SEEK_SET);
	read_all(efd, res->err, sizeof(res->err), &ne);
	close(efd);
	unlink(err_path);
	res->stats = json_load_file(stats_path, 0, NULL);
	unlink(stats_path);
}

static json_t *jpath(json_t *j, const char *a, const char *b)
{
	json_t *x = json_object_get(j, a);

	return b ? json_object_get(x, b) : x;
}

static long long exit_count(json_t *stats, const char *key)
{
	return json_integer_value(json_object_get(jpath(stats, "exits", key), "count"));
}

static bool host_is_pvm(void)
{
	struct stat st;

	return stat("/sys/module/kvm_pvm", &st) == 0;
}

static void check_stats_shape(json_t *s, const char *kind)
{
	json_t *vcpus;

	cr_assert_not_null(s, "no stats JSON");
	cr_assert_str_eq(json_string_value(json_object_get(s, "vmm")), "vmm-lite");
	cr_assert_str_eq(json_string_value(jpath(s, "status", "kind")), kind, "reason: %s",
			 json_string_value(jpath(s, "status", "reason")));
	cr_assert(json_is_boolean(jpath(s, "pvm", "detected")));
	cr_assert_eq(json_is_true(jpath(s, "pvm", "detected")), host_is_pvm());
	cr_assert(json_is_integer(jpath(s, "emulation", "insn_emulation_delta")));
	cr_assert_gt(json_integer_value(json_object_get(s, "wall_ns")), 0);
	vcpus = jpath(s, "kvm_stats", "vcpus");
	cr_assert_geq(json_array_size(vcpus), 1);
	cr_assert_gt(json_object_size(jpath(s, "kvm_stats", "vm")), 0);
	cr_assert_gt(json_integer_value(json_object_get(json_array_get(vcpus, 0), "tid")), 0);
	cr_assert_eq(json_array_size(json_object_get(s, "threads")), json_array_size(vcpus));
}

TestSuite(vmm_lite, .timeout = 60);

Test(vmm_lite, hello_cmdline_exit_port)
{
	static struct result r;
	const char *args[] = {"--kernel", path_of("tests/guests/hello.elf"), "--cmdline",
			      "workload=noop a=1", NULL};
	json_t *st;

	run_vmm(&r, -1, args);
	cr_assert_eq(r.status, (0x15 << 1) | 1, "status %d, stderr: %s", r.status, r.err);
	cr_assert_str_eq(r.out, "hello workload=noop a=1\n");
	check_stats_shape(r.stats, "guest-exit");
	cr_assert_eq(json_integer_value(jpath(r.stats, "status", "guest_code")), 0x15);
	cr_assert_eq(exit_count(r.stats, "io:0x3f8"), (long long)strlen(r.out));
	cr_assert_eq(exit_count(r.stats, "io:0xf4"), 1);
	/* exits are counted, not timed, unless asked (--exit-timing) */
	cr_assert(json_is_false(json_object_get(r.stats, "exit_timing")));
	cr_assert_null(json_object_get(jpath(r.stats, "exits", "io:0xf4"), "total_ns"));
	cr_assert(json_is_true(jpath(r.stats, "emulation", "native")));
	cr_assert_gt(json_integer_value(json_object_get(r.stats, "boot_ns")), 0);
	if (host_is_pvm()) {
		st = json_object_get(
		    json_object_get(json_array_get(jpath(r.stats, "kvm_stats", "vcpus"), 0),
				    "stats"),
		    "insn_emulation");
		cr_assert_not_null(st);
		cr_assert_gt(json_integer_value(json_object_get(st, "delta")), 0);
		cr_assert_eq(json_integer_value(jpath(r.stats, "pvm", "vif_gpa")), 0x5000);
	}
	json_decref(r.stats);
}

Test(vmm_lite, garbage_bytes_forwarded_unchanged)
{
	static struct result r;
	const char *args[] = {"--kernel", path_of("tests/guests/garbage.elf"), "--exit-timing",
			      "on", NULL};
	char want[260];
	json_t *uart, *h, *v;
	long long hsum = 0;
	size_t i;

	run_vmm(&r, -1, args);
	cr_assert_eq(r.status, 1, "status %d (guest code %d), stderr: %s", r.status, r.status >> 1,
		     r.err);
	for (int i = 0; i < 256; i++)
		want[i] = (char)i;
	memcpy(want + 256, "END\n", 4);
	cr_assert_eq(r.nout, 260);
	cr_assert_eq(memcmp(r.out, want, 260), 0);
	check_stats_shape(r.stats, "guest-exit");
	cr_assert_eq(json_integer_value(jpath(r.stats, "io_unhandled", "reads")), 1);
	cr_assert_eq(json_integer_value(jpath(r.stats, "io_unhandled", "writes")), 1);
	cr_assert_eq(exit_count(r.stats, "io:0x1234"), 1);
	cr_assert_eq(exit_count(r.stats, "io:0x80"), 1);
	/* --exit-timing on: every exit's handling time is in the histogram */
	cr_assert(json_is_true(json_object_get(r.stats, "exit_timing")));
	uart = jpath(r.stats, "exits", "io:0x3f8");
	cr_assert_gt(json_integer_value(json_object_get(uart, "total_ns")), 0);
	h = json_object_get(uart, "hist_log2_ns");
	json_array_foreach(h, i, v) hsum += json_integer_value(v);
	cr_assert_eq(hsum, exit_count(r.stats, "io:0x3f8"));
	json_decref(r.stats);
}

Test(vmm_lite, crash_exits_66)
{
	static struct result r;
	const char *args[] = {"--kernel", path_of("tests/guests/crash.elf"), NULL};

	run_vmm(&r, -1, args);
	cr_assert_eq(r.status, 66, "status %d, stderr: %s", r.status, r.err);
	cr_assert(strstr(r.err, "vmm-lite: crash:"), "stderr: %s", r.err);
	check_stats_shape(r.stats, "crash");
	cr_assert_gt(strlen(json_string_value(jpath(r.stats, "status", "reason"))), 10);
	json_decref(r.stats);
}

Test(vmm_lite, watchdog_timeout_67)
{
	static struct result r;
	const char *args[] = {
	    "--kernel", path_of("tests/guests/hang.elf"), "--timeout", "1", "--vcpus", "2", NULL};

	run_vmm(&r, -1, args);
	cr_assert_eq(r.status, 67, "status %d, stderr: %s", r.status, r.err);
	cr_assert_geq(r.secs, 0.9);
	cr_assert_lt(r.secs, 10.0);
	check_stats_shape(r.stats, "timeout");
	cr_assert_geq(json_integer_value(json_object_get(r.stats, "wall_ns")), 900000000LL);
	json_decref(r.stats);
}

Test(vmm_lite, emulated_guest_is_invalid)
{
	static struct result r;
	const char *args[] = {"--kernel", path_of("tests/guests/emulated.elf"), NULL};

	run_vmm(&r, -1, args);
	if (!host_is_pvm()) {
		cr_assert_eq(r.status, 1, "status %d, stderr: %s", r.status, r.err);
		json_decref(r.stats);
		return;
	}
	cr_assert_eq(r.status, 68, "status %d, stderr: %s", r.status, r.err);
	check_stats_shape(r.stats, "invalid");
	cr_assert(json_is_false(jpath(r.stats, "emulation", "native")));
	cr_assert_gt(json_integer_value(jpath(r.stats, "emulation", "insn_emulation_delta")),
		     100000);
	cr_assert(strstr(json_string_value(jpath(r.stats, "status", "reason")), "emulated"));
	json_decref(r.stats);
}

Test(vmm_lite, smp_pinned_thp_above_4g)
{
	static struct result r;
	const char *args[] = {"--kernel",  path_of("tests/guests/hello.elf"),
			      "--vcpus",   "2",
			      "--pin",	   "0,1",
			      "--backing", "thp",
			      "--mem",	   "4G",
			      NULL};

	cpu_set_t mine;
	if (sched_getaffinity(0, sizeof(mine), &mine) == 0 &&
	    (!CPU_ISSET(0, &mine) || !CPU_ISSET(1, &mine)))
		cr_skip_test("--pin 0,1 needs CPUs 0 and 1; this process may use %d CPU(s)",
			     CPU_COUNT(&mine));
	run_vmm(&r, -1, args);
	cr_assert_eq(r.status, 43, "status %d, stderr: %s", r.status, r.err);
	check_stats_shape(r.stats, "guest-exit");
	cr_assert_eq(json_array_size(jpath(r.stats, "kvm_stats", "vcpus")), 2);
	cr_assert_str_eq(json_string_value(jpath(r.stats, "config", "backing")), "thp");
	json_decref(r.stats);
}

Test(vmm_lite, bad_input_exits_64)
{
	static struct result r;
	const char *missing[] = {"--kernel", "/nonexistent/k.elf", NULL};
	const char *not_pvh[] = {"--kernel", path_of("vmm-lite"), NULL};
	const char *small[] = {"--kernel", path_of("tests/guests/hello.elf"), "--mem", "8M", NULL};
	const char *junk[] = {"--kernel", path_of("tests/guests/hello.elf"), "--mem", "lots", NULL};
	const char *pin[] = {"--kernel", path_of("tests/guests/hello.elf"), "--pin", "x", NULL};
	const char *const *cases[] = {missing, not_pvh, small, junk, pin};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_vmm(&r, -1, cases[i]);
		cr_assert_eq(r.status, 64, "case %zu: status %d, stderr: %s", i, r.status, r.err);
		cr_assert_eq(strncmp(r.err, "vmm-lite: ", 10), 0, "case %zu: %s", i, r.err);
		cr_assert_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "one line: %s", r.err);
		json_decref(r.stats);
	}
}

Test(vmm_lite, help_documents_flags_and_codes)
{
	static struct result r;
	const char *args[] = {"--help", NULL};
	const char *want[] = {
	    "--kernel",	 "--cmdline",	 "--mem",	 "--vcpus", "--backing",   "--pin",
	    "--timeout", "--stats-json", "--control-fd", "64",	    "65",	   "66",
	    "67",	 "68",		 "(v<<1)|1",	 "69",	    "--no-seccomp"};

	run_vmm(&r, -1, args);
	cr_assert_eq(r.status, 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(strstr(r.out, want[i]), "--help lacks %s", want[i]);
	json_decref(r.stats);
}

static long free_hugepages(const char *size_dir)
{
	char p[160];
	long v = -1;
	FILE *f;

	snprintf(p, sizeof(p), "/sys/kernel/mm/hugepages/%s/free_hugepages", size_dir);
	f = fopen(p, "r");
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

Test(vmm_lite, hugetlb_unavailable_exits_65)
{
	static struct result r;
	const char *two[] = {"--kernel",  path_of("tests/guests/hello.elf"),
			     "--backing", "hugetlb-2m",
			     "--mem",	  "64M",
			     NULL};
	const char *one[] = {
	    "--kernel", path_of("tests/guests/hello.elf"), "--backing", "hugetlb-1g", "--mem", "1G",
	    NULL};

	if (free_hugepages("hugepages-2048kB") < 32) {
		run_vmm(&r, -1, two);
		cr_assert_eq(r.status, 65, "status %d, stderr: %s", r.status, r.err);
		cr_assert(strstr(r.err, "vm.nr_hugepages"), "stderr: %s", r.err);
		json_decref(r.stats);
	}
	if (free_hugepages("hugepages-1048576kB") < 1) {
		run_vmm(&r, -1, one);
		cr_assert_eq(r.status, 65, "status %d, stderr: %s", r.status, r.err);
		cr_assert(strstr(r.err, "hugepagesz=1G"), "stderr: %s", r.err);
		json_decref(r.stats);
	}
}

static json_t *read_event(int fd)
{
	char line[512];
	size_t n = 0;

	while (n < sizeof(line) - 1 && read(fd, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	return json_loads(line, 0, NULL);
}

/* The harness side of the handshake, on a thread (asserts stay on the test
 * thread): ready (threads exist, guest not started), stopped (threads still
 * alive), then teardown. */
struct control_log {
	int fd;
	json_t *ready, *stopped;
	bool tid_alive_at_stop;
};

static void *control_side(void *arg)
{
	struct control_log *c = arg;
	char path[96];
	struct stat st;

	c->ready = read_event(c->fd);
	if (!c->ready)
		return NULL;
	usleep(100000); /* the guest must not run before our byte */
	if (write(c->fd, "g", 1) != 1)
		return NULL;
	c->stopped = read_event(c->fd);
	snprintf(path, sizeof(path), "/proc/%lld/task/%lld",
		 json_integer_value(json_object_get(c->ready, "pid")),
		 json_integer_value(json_array_get(json_object_get(c->ready, "vcpu_tids"), 1)));
	c->tid_alive_at_stop = stat(path, &st) == 0;
	if (write(c->fd, "g", 1) != 1)
		return NULL;
	return NULL;
}

Test(vmm_lite, control_fd_handshake)
{
	static struct result r;
	const char *args[] = {
	    "--kernel", path_of("tests/guests/hello.elf"), "--vcpus", "2", "--control-fd", "3",
	    NULL};
	struct control_log c = {0};
	int sp[2];
	pthread_t t;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	c.fd = sp[0];
	cr_assert_eq(pthread_create(&t, NULL, control_side, &c), 0);
	run_vmm(&r, sp[1], args);
	close(sp[1]);
	pthread_join(t, NULL);
	close(sp[0]);
	cr_assert_not_null(c.ready);
	cr_assert_str_eq(json_string_value(json_object_get(c.ready, "event")), "ready");
	cr_assert_eq(json_array_size(json_object_get(c.ready, "vcpu_tids")), 2);
	cr_assert_gt(json_integer_value(json_object_get(c.ready, "pid")), 0);
	cr_assert_not_null(c.stopped);
	cr_assert_str_eq(json_string_value(json_object_get(c.stopped, "event")), "stopped");
	cr_assert_eq(json_integer_value(json_object_get(c.stopped, "status")), 43);
	cr_assert(c.tid_alive_at_stop, "vCPU thread gone at 'stopped'");
	json_decref(c.ready);
	json_decref(c.stopped);
	cr_assert_eq(r.status, 43, "status %d, stderr: %s", r.status, r.err);
	check_stats_shape(r.stats, "guest-exit");
	/* the guest started after our 100 ms delay, so wall time excludes it */
	cr_assert_lt(json_integer_value(json_object_get(r.stats, "wall_ns")), 100000000LL);
	json_decref(r.stats);
}

Test(vmm_lite, halt_with_interrupts_off_is_clean)
{
	static struct result r;
	const char *args[] = {
	    "--kernel", path_of("tests/guests/halt.elf"), "--vcpus", "2", "--timeout", "20", NULL};

	run_vmm(&r, -1, args);
	cr_assert_eq(r.status, 0, "status %d, stderr: %s", r.status, r.err);
	cr_assert_str_eq(r.out, "halting\n");
	cr_assert_lt(r.secs, 5.0, "idle detection took %.1f s", r.secs);
	check_stats_shape(r.stats, "shutdown");
	json_decref(r.stats);
}

Test(vmm_lite, halt_with_interrupts_on_waits_for_watchdog)
{
	static struct result r;
	const char *args[] = {"--kernel", path_of("tests/guests/halt_sti.elf"), "--timeout", "1",
			      NULL};

	run_vmm(&r, -1, args);
	cr_assert_eq(r.status, 67, "status %d, stderr: %s", r.status, r.err);
	check_stats_shape(r.stats, "timeout");
	json_decref(r.stats);
}

static long long region_err(json_t *regions, const char *name)
{
	return json_integer_value(json_object_get(json_object_get(regions, "errors"), name));
}

static json_t *region_of(json_t *regions, const char *label)
{
	size_t i;
	json_t *e;

	json_array_foreach(
	    json_object_get(regions, "list"), i,
	    e) if (!strcmp(json_string_value(json_object_get(e, "label")), label)) return e;
	return NULL;
}

/* The guest is untrusted: every bad marker is counted, nothing else changes. */
Test(vmm_lite, region_markers_from_a_hostile_guest_are_counted)
{
	static struct result r;
	const char *args[] = {"--kernel", path_of("tests/guests/markers.elf"), NULL};

	run_vmm(&r, -1, args);
	cr_assert_eq(r.status, 1, "status %d (guest code %d), stderr: %s", r.status, r.status >> 1,
		     r.err);
	json_t *g = json_object_get(r.stats, "regions");
	cr_assert_not_null(g);
	cr_assert_eq(json_integer_value(json_object_get(g, "markers")), 150);
	cr_assert_eq(region_err(g, "bad_gpa"), 2);
	cr_assert_eq(region_err(g, "bad_magic"), 1);
	cr_assert_eq(region_err(g, "bad_edge"), 1);
	cr_assert_eq(region_err(g, "bad_label"), 2);
	cr_assert_eq(region_err(g, "bad_sequence"), 1);
	cr_assert_eq(region_err(g, "bad_access"), 1);
	cr_assert_eq(region_err(g, "too_many_labels"), 7);
	cr_assert_eq(region_err(g, "seq_gaps"), 1);
	cr_assert_eq(region_err(g, "unclosed"), 1);
	cr_assert_eq(region_err(g, "snapshot_failed"), 0);
	cr_assert_eq(json_array_size(json_object_get(g, "list")), 64);
	json_t *a = region_of(g, "a");
	cr_assert_not_null(a);
	cr_assert_eq(json_integer_value(json_object_get(a, "n")), 1);
	cr_assert_null(region_of(g, "open"));
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(g, "null"), "n")), 0);
	json_decref(r.stats);
}

static double metric_of(const char *out, const char *m)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "\"m\":\"%s\",", m);
	p = strstr(out, key);
	p = p ? strstr(p, "\"v\":") : NULL;
	return p ? strtod(p + 4, NULL) : -1;
}

/* The agent marks cpu-int's timed interval: vmm-lite accounts exactly that
 * interval (its wall time agrees with the guest's TSC-timed "time"), nets
 * out the marker's own footprint measured by the null regions, and a run
 * with vtx.regions=0 sends no marker at all. */
Test(vmm_lite, agent_regions_account_the_timed_interval)
{
	static struct result r;
	const char *args[] = {"--kernel",  path_of("guest-agent.elf"),
			      "--cmdline", "workload=cpu-int iters=40000000",
			      "--mem",	   "64M",
			      NULL};

	run_vmm(&r, -1, args);
	cr_assert_eq(r.status, 1, "status %d, stderr: %s", r.status, r.err);
	json_t *g = json_object_get(r.stats, "regions"), *run = region_of(g, "run");
	cr_assert_not_null(run, "no region \"run\"");
	cr_assert_eq(json_integer_value(json_object_get(run, "n")), 1);
	cr_assert_eq(json_array_size(json_object_get(g, "list")), 1);
	for (const char *const *e =
		 (const char *const[]){"bad_gpa", "bad_label", "bad_sequence", "seq_gaps",
				       "unclosed", "snapshot_failed", NULL};
	     *e; e++)
		cr_assert_eq(region_err(g, *e), 0, "%s", *e);
	json_t *null = json_object_get(g, "null");
	cr_assert_eq(json_integer_value(json_object_get(null, "n")), 3);
	/* the end marker's own exit is what KVM counted in an empty region */
	cr_assert_geq(
	    json_integer_value(json_object_get(json_object_get(null, "kvm_vcpu"), "exits")), 1);
	double time_ms = metric_of(r.out, "time");
	double wall_ms = (double)json_integer_value(json_object_get(run, "wall_ns")) / 1e6;
	double cpu_ms = (double)json_integer_value(json_object_get(run, "run_ns")) / 1e6;
	cr_assert_gt(time_ms, 1, "no time metric in: %.300s", r.out);
	cr_assert(wall_ms > time_ms * 0.97 - 0.1 && wall_ms < time_ms * 1.03 + 0.1,
		  "region wall %.3f ms vs guest-timed %.3f ms", wall_ms, time_ms);
	cr_assert(cpu_ms <= wall_ms * 1.01 + 0.1, "cpu %.3f ms > wall %.3f ms", cpu_ms, wall_ms);
	/* guest RAM on 4 KiB pages (vmm-lite's default backing): resident, no THP */
	json_t *mem = json_object_get(r.stats, "memory");
	cr_assert_str_eq(json_string_value(json_object_get(mem, "backing")), "4k");
	cr_assert_gt(json_integer_value(json_object_get(mem, "rss_bytes")), 0);
	cr_assert_eq(json_integer_value(json_object_get(mem, "anon_huge_bytes")), 0);
	json_decref(r.stats);

	const char *off[] = {"--kernel",  path_of("guest-agent.elf"),
			     "--cmdline", "workload=cpu-int iters=1000000 vtx.regions=0",
			     "--mem",	  "64M",
			     NULL};
	run_vmm(&r, -1, off);
	cr_assert_eq(r.status, 1, "status %d, stderr: %s", r.status, r.err);
	g = json_object_get(r.stats, "regions");
	cr_assert_eq(json_integer_value(json_object_get(g, "markers")), 0);
	cr_assert_eq(json_array_size(json_object_get(g, "list")), 0);
	json_decref(r.stats);
}

/* Huge-page coverage is measured, not assumed: THP-backed guest RAM that the
 * guest touched shows AnonHugePages and KVM maps it with 2 MiB pages. */
Test(vmm_lite, thp_coverage_of_guest_ram_is_reported)
{
	static struct result r;
	const char *args[] = {"--kernel",  path_of("guest-agent.elf"),
			      "--cmdline", "workload=mem-chase min=32M max=32M accesses=1000",
			      "--mem",	   "256M",
			      "--backing", "thp",
			      NULL};

	run_vmm(&r, -1, args);
	cr_assert_eq(r.status, 1, "status %d, stderr: %s", r.status, r.err);
	json_t *mem = json_object_get(r.stats, "memory");
	long long rss = json_integer_value(json_object_get(mem, "rss_bytes"));
	long long huge = json_integer_value(json_object_get(mem, "anon_huge_bytes"));
	cr_assert_str_eq(json_string_value(json_object_get(mem, "backing")), "thp");
	cr_assert_geq(rss, 32ll << 20, "the 32 MiB working set is resident");
	cr_assert(huge > 0 && huge <= rss, "AnonHugePages %lld of %lld", huge, rss);
	cr_assert_gt(json_integer_value(jpath(mem, "kvm_pages", "2m")), 0);
	json_decref(r.stats);
}

static long long kvm_of(json_t *region, const char *stat)
{
	return json_integer_value(json_object_get(json_object_get(region, "kvm_vcpu"), stat));
}

/* calib's timed rounds are regions "calib.KIND": what one operation of a kind
 * makes vmm-lite and KVM count. Exact for the user-space port (every op is
 * one io:0x4f0 exit); on PVM the PTE rewrite and the access after it are
 * shadow-paging faults (pt-churn = pt-rewrite + one more fault per op). */
Test(vmm_lite, calib_regions_give_each_kinds_exit_footprint)
{
	static struct result r;
	const char *args[] = {"--kernel",
			      path_of("guest-agent.elf"),
			      "--cmdline",
			      "workload=calib kinds=pio,pt-rewrite,pt-churn goal_ms=2 rounds=3 "
			      "spacing=none",
			      "--mem",
			      "64M",
			      NULL};

	run_vmm(&r, -1, args);
	cr_assert_eq(r.status, 1, "status %d, stderr: %s", r.status, r.err);
	json_t *g = json_object_get(r.stats, "regions");
	long long ops[3];
	const char *kinds[] = {"pio", "pt-rewrite", "pt-churn"};
	for (int k = 0; k < 3; k++) { /* ops = iters x rounds from the calib record */
		char key[64];
		snprintf(key, sizeof(key), "\"kind\":\"%s\",\"ok\":true", kinds[k]);
		const char *p = strstr(r.out, key);
		cr_assert_not_null(p, "no calib record for %s", kinds[k]);
		long long iters = strtoll(strstr(p, "\"iters\":") + 8, NULL, 10);
		const char *t = strstr(p, "\"ticks\":[");
		int rounds = 1;
		for (t += 9; *t && *t != ']'; t++)
			rounds += *t == ',';
		ops[k] = iters * rounds;
	}
	json_t *pio = region_of(g, "calib.pio");
	cr_assert_not_null(pio);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(pio, "exits"), "io:0x4f0")),
		     ops[0]);
	cr_assert_geq(kvm_of(pio, "exits"), ops[0]);
	if (host_is_pvm()) {
		json_t *rw = region_of(g, "calib.pt-rewrite"), *ch = region_of(g, "calib.pt-churn");
		cr_assert_geq(kvm_of(rw, "pf_fixed"), ops[1], "a shadow fault per PTE rewrite");
		cr_assert_geq(kvm_of(ch, "pf_fixed"), 2 * ops[2], "and one more for the access");
		cr_assert_lt(kvm_of(rw, "pf_fixed"), 2 * ops[1]);
	}
	json_decref(r.stats);
}
