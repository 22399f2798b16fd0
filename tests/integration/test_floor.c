/*
 * Integration tests of kvm-floor (docs/FLOOR.md) and of the experiments that
 * measure it beside the VMMs: its records, bad input, the --control-fd
 * handshake; `virttax footprint --quick` with the floor row and each VMM's
 * ratio to it; `virttax calibrate --quick --vmm vmm-lite,qemu` with both
 * VMMs' exit kinds (QEMU's user-space port, MMIO and MSR, its virtio-rng
 * ioeventfd) and the ratios. Skipped without /dev/kvm (and QEMU for the last).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "virttax/protocol.h"

static void need_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR);
	if (fd < 0)
		cr_skip_test("/dev/kvm not usable here");
	close(fd);
}

/* the first record of type t in the output, or NULL (new ref) */
static json_t *record(const char *out, const char *t, const char *metric)
{
	const size_t pl = strlen(VTX_PROTO_PREFIX);
	for (const char *l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, VTX_PROTO_PREFIX, pl))
			continue;
		json_t *r = json_loadb(l + pl, strcspn(l + pl, "\n"), 0, NULL);
		const char *rt = json_string_value(json_object_get(r, "t"));
		const char *m = json_string_value(json_object_get(r, "m"));
		if (rt && !strcmp(rt, t) && (!metric || (m && !strcmp(m, metric))))
			return r;
		json_decref(r);
	}
	return NULL;
}

static char *capture(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	for (size_t n; (n = fread(buf + len, 1, cap - len - 1, p)) > 0;)
		len += n;
	buf[len] = 0;
	*status = pclose(p);
	return buf;
}

Test(floor, prints_its_measurements_as_records, .timeout = 60)
{
	need_kvm();
	char cmd[PATH_MAX];
	int st;
	snprintf(cmd, sizeof(cmd), "%s/kvm-floor --rounds 5 --goal-us 500 --mem-mib 64",
		 itest_build_dir());
	char *out = capture(cmd, &st);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: %s", st, out);
	json_t *hello = record(out, "hello", NULL), *cal = record(out, "calib", NULL);
	json_t *pio = record(out, "metric", "pio_exit"), *done = record(out, "done", NULL);
	cr_assert_not_null(hello, "%s", out);
	cr_assert_str_eq(json_string_value(json_object_get(hello, "side")), "floor");
	cr_assert_gt(json_integer_value(json_object_get(hello, "tsc_entry")), 0);
	cr_assert_gt(json_integer_value(json_object_get(hello, "tsc_khz")), 0);
	cr_assert_eq(json_integer_value(json_object_get(hello, "mem_bytes")), 64ll << 20);
	cr_assert_str_eq(json_string_value(json_object_get(cal, "kind")), "pio");
	cr_assert_gt(json_integer_value(json_object_get(cal, "iters")), 0);
	json_t *ticks = json_object_get(cal, "ticks");
	cr_assert_eq(json_array_size(ticks), 5);
	for (size_t i = 0; i < 5; i++)
		cr_assert_gt(json_integer_value(json_array_get(ticks, i)), 0);
	double v = json_number_value(json_object_get(pio, "v"));
	json_t *ci = json_object_get(pio, "ci95");
	cr_assert_eq(json_integer_value(json_object_get(pio, "n")), 5);
	cr_assert(v > 0 && json_number_value(json_array_get(ci, 0)) <= v &&
		      v <= json_number_value(json_array_get(ci, 1)),
		  "pio_exit %f outside its CI", v);
	json_t *entry = record(out, "metric", "main_to_entry"),
	       *vc = record(out, "metric", "vm_create");
	cr_assert_gt(json_number_value(json_object_get(entry, "v")), 0);
	cr_assert_gt(json_number_value(json_object_get(vc, "v")), 0);
	cr_assert_lt(json_number_value(json_object_get(vc, "v")),
		     json_number_value(json_object_get(entry, "v")),
		     "creating the VM is part of main() to the first instruction");
	cr_assert_eq(json_integer_value(json_object_get(done, "status")), 0);
	json_decref(hello), json_decref(cal), json_decref(pio), json_decref(done);
	json_decref(entry), json_decref(vc);
	free(out);
}

Test(floor, bad_input_exits_64_with_one_line)
{
	char cmd[PATH_MAX];
	int st;
	const char *bad[] = {"--rounds 0", "--rounds 509", "--mem-mib x",
			     "--bogus",	   "extra",	   "--control-fd 99"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s/kvm-floor %s 2>&1", itest_build_dir(), bad[i]);
		char *out = capture(cmd, &st);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 64, "%s: status %d", bad[i], st);
		cr_assert(!strncmp(out, "kvm-floor: ", 11) &&
			      strchr(out, '\n') == out + strlen(out) - 1,
			  "%s: one line: %s", bad[i], out);
		free(out);
	}
}

/* vmm-lite's handshake: ready with the vCPU's tid before the guest, stopped
 * before teardown, each waiting for a byte */
Test(floor, control_fd_handshake, .timeout = 60)
{
	need_kvm();
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char bin[PATH_MAX], fd[16];
		snprintf(bin, sizeof(bin), "%s/kvm-floor", itest_build_dir());
		snprintf(fd, sizeof(fd), "%d", sv[1]);
		close(sv[0]);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execl(bin, bin, "--rounds", "1", "--goal-us", "1", "--control-fd", fd,
		      (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	char line[256];
	ssize_t n = read(sv[0], line, sizeof(line) - 1);
	cr_assert_gt(n, 0);
	line[n] = 0;
	char want[64];
	snprintf(want, sizeof(want), "\"pid\":%d,\"vcpu_tids\":[%d]", (int)pid, (int)pid);
	cr_assert(strstr(line, "{\"event\":\"ready\"") && strstr(line, want), "%s", line);
	cr_assert_eq(write(sv[0], "g", 1), 1);
	n = read(sv[0], line, sizeof(line) - 1);
	cr_assert_gt(n, 0);
	line[n] = 0;
	cr_assert(strstr(line, "{\"event\":\"stopped\",\"status\":0}"), "%s", line);
	cr_assert_eq(write(sv[0], "g", 1), 1);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	close(sv[0]);
}

static json_t *load(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);
	cr_assert_not_null(j, "%s: %s", path, e.text);
	return j;
}

Test(floor, footprint_has_the_floor_row_and_ratios_to_it, .timeout = 300)
{
	need_kvm();
	char dir[] = "/tmp/vtx-fpfloor-XXXXXX", cmd[PATH_MAX * 2];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "%s/virttax footprint --quick --vmm vmm-lite --out %s 2>&1",
		 itest_build_dir(), dir);
	int st;
	char *out = capture(cmd, &st);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: %s", st, out);
	cr_assert(strstr(out, "kvm-floor"), "%s", out);
	cr_assert(strstr(out, "vmm-lite/floor"), "%s", out);
	snprintf(cmd, sizeof(cmd), "%s/results.json", dir);
	json_t *r = load(cmd);
	json_t *cfg =
	    json_array_get(json_object_get(json_object_get(r, "footprint"), "configs"), 0);
	json_t *fl = json_object_get(json_object_get(cfg, "vmms"), "kvm-floor");
	cr_assert_eq(
	    json_integer_value(json_object_get(json_object_get(fl, "spawn_to_entry_ms"), "n")), 3,
	    "%s", out);
	cr_assert_gt(
	    json_number_value(json_object_get(json_object_get(fl, "overhead_rss_kib"), "median")),
	    0);
	cr_assert_eq(
	    json_integer_value(json_object_get(json_object_get(fl, "boot_to_hello_ms"), "n")), 0,
	    "the floor has no hello line");
	json_t *ratio = json_object_get(json_object_get(cfg, "ratio_to_floor"), "vmm-lite");
	for (int i = 0; i < 3; i++) {
		static const char *const m[] = {"spawn_to_entry_ms", "overhead_rss_kib",
						"overhead_pss_kib"};
		json_t *x = json_object_get(ratio, m[i]);
		double v = json_number_value(json_object_get(x, "value"));
		json_t *ci = json_object_get(x, "ci");
		cr_assert(v > 0 && json_number_value(json_array_get(ci, 0)) <= v &&
			      v <= json_number_value(json_array_get(ci, 1)),
			  "%s ratio %f outside its CI", m[i], v);
	}
	json_decref(r);
	free(out);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	itest_run_cmd(cmd);
}

/* QEMU's exit costs beside vmm-lite's: its own user-space port, MMIO and MSR
 * and its virtio-rng's ioeventfd; never vmm-lite's calibration devices */
Test(floor, calibrate_two_vmms_and_the_floor, .timeout = 300)
{
	need_kvm();
	if (itest_run_cmd("command -v qemu-system-x86_64 >/dev/null 2>&1"))
		cr_skip_test("no qemu-system-x86_64");
	char dir[] = "/tmp/vtx-cal2-XXXXXX", cmd[PATH_MAX * 2];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "%s/virttax calibrate --quick --vmm vmm-lite,qemu --out %s/cal.json 2>&1",
		 itest_build_dir(), dir);
	int st;
	char *out = capture(cmd, &st);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: %s", st, out);
	cr_assert(strstr(out, "qemu/vmm-lite"), "%s", out);
	snprintf(cmd, sizeof(cmd), "%s/cal.json", dir);
	json_t *c = load(cmd);
	json_t *lite = json_object_get(json_object_get(c, "vmms"), "vmm-lite");
	json_t *qemu = json_object_get(json_object_get(c, "vmms"), "qemu");
	cr_assert(json_equal(lite, json_object_get(c, "vm")), "\"vm\" is the first VMM's side");
	static const char *const both[] = {
	    "pio", "mmio", "mmio-ioeventfd", "cpuid", "msr-kernel-read", "msr-user-read"};
	for (size_t i = 0; i < sizeof(both) / sizeof(both[0]); i++) {
		json_t *l = json_object_get(lite, both[i]), *q = json_object_get(qemu, both[i]);
		cr_assert(json_is_true(json_object_get(l, "available")), "vmm-lite %s", both[i]);
		cr_assert(json_is_true(json_object_get(q, "available")), "qemu %s: %s", both[i],
			  json_string_value(json_object_get(q, "reason")));
		cr_assert_gt(json_number_value(json_object_get(q, "ns")), 0);
	}
	const char *how = json_string_value(json_object_get(json_object_get(qemu, "pio"), "how"));
	cr_assert(how && strstr(how, "claimed by no device"), "QEMU's pio is no vmm-lite device");
	how = json_string_value(json_object_get(json_object_get(qemu, "msr-user-read"), "how"));
	cr_assert(how && strstr(how, "0x35"), "%s", how);
	how = json_string_value(json_object_get(json_object_get(qemu, "mmio-ioeventfd"), "how"));
	cr_assert(how && strstr(how, "virtio-rng"), "%s", how);
	static const char *const lite_only[] = {"pio-ioeventfd", "msr-user-write"};
	for (size_t i = 0; i < 2; i++) {
		json_t *q = json_object_get(qemu, lite_only[i]);
		cr_assert(json_is_false(json_object_get(q, "available")), "qemu %s", lite_only[i]);
		cr_assert(strlen(json_string_value(json_object_get(q, "reason"))) > 10);
	}
	cr_assert(json_is_true(
	    json_object_get(json_object_get(json_object_get(c, "floor"), "pio"), "available")));
	json_t *ratios = json_object_get(c, "ratios");
	cr_assert_gt(json_number_value(json_object_get(
			 json_object_get(
			     json_object_get(json_object_get(ratios, "to_floor"), "qemu"), "pio"),
			 "value")),
		     0);
	cr_assert_gt(json_number_value(json_object_get(
			 json_object_get(
			     json_object_get(json_object_get(ratios, "to_first"), "qemu"), "cpuid"),
			 "value")),
		     0);
	json_decref(c);
	free(out);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	itest_run_cmd(cmd);
}
