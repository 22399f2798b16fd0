/*
 * Boots the guest agent under QEMU (-M microvm, PVH) and checks what it says.
 *
 * Why: the agent is the measuring instrument inside every VM run; these tests
 * prove, on the real hypervisor, that it boots, speaks the protocol, runs a
 * workload, reports exceptions and rejects bad command lines with the
 * documented exit statuses. Skipped when QEMU or /dev/kvm is missing.
 * QEMU's CPU carries the TSC rate (tsc-frequency=, as harness/vmm_qemu.c
 * passes it): on AMD-V the agent has no other source under microvm.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "virttax/protocol.h"
#include "vmm-lite/cpuid.h"

#define QEMU "/usr/bin/qemu-system-x86_64"
#define RUN_TIMEOUT_MS 60000
#define OUT_MAX (1 << 20)

extern char **environ;

struct qemu_run {
	char out[OUT_MAX];
	size_t len;
	int status;	 /* process exit status, -1 when killed */
	json_t *records; /* array of the parsed records, in order */
};

static void skip_unless_qemu_kvm(void)
{
	if (access(QEMU, X_OK) != 0)
		cr_skip_test("%s not installed", QEMU);
	int fd = open("/dev/kvm", O_RDWR);
	if (fd < 0)
		cr_skip_test("/dev/kvm not usable: %s", strerror(errno));
	close(fd);
}

static const char *agent_elf(void)
{
	static char path[4096];
	const char *b = getenv("VTX_BUILD");
	snprintf(path, sizeof(path), "%s/guest-agent.elf", b && *b ? b : "build");
	cr_assert(access(path, R_OK) == 0, "agent ELF %s missing (set VTX_BUILD)", path);
	return path;
}

/* On the PVM host the agent must register VIF itself under QEMU. */
static const char *vif_option(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0 ? " pvm.vif=1" : "";
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void read_until_eof(struct qemu_run *r, int fd, pid_t pid)
{
	int64_t deadline = now_ms() + RUN_TIMEOUT_MS;
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		ssize_t n = read(fd, r->out + r->len, OUT_MAX - 1 - r->len);
		if (n <= 0)
			break;
		r->len += (size_t)n;
	}
	r->out[r->len] = 0;
}

/* Lines may hold NUL bytes (the garbage selftest): split by length. */
static void parse_records(struct qemu_run *r)
{
	const size_t plen = strlen(VTX_PROTO_PREFIX);
	r->records = json_array();
	size_t pos = 0;
	while (pos < r->len) {
		char *line = r->out + pos;
		char *nl = memchr(line, '\n', r->len - pos);
		size_t n = nl ? (size_t)(nl - line) : r->len - pos;
		if (n >= plen && memcmp(line, VTX_PROTO_PREFIX, plen) == 0) {
			json_error_t e;
			json_t *j = json_loadb(line + plen, n - plen, 0, &e);
			json_array_append_new(r->records, j ? j : json_string("<invalid>"));
		}
		pos += n + 1;
	}
}

static struct qemu_run *run_agent(const char *mem, const char *cmdline)
{
	struct qemu_run *r = calloc(1, sizeof(*r));
	char append[1024], cpu[96];
	snprintf(append, sizeof(append), "%s%s", cmdline, vif_option());
	int khz = kvm_vcpu_tsc_khz();
	cr_assert_gt(khz, 0, "KVM_GET_TSC_KHZ: %s", strerror(-khz));
	snprintf(cpu, sizeof(cpu), "qemu64,tsc-frequency=%d000", khz);
	char *argv[] = {QEMU,
			"-M",
			"microvm,x-option-roms=off,pit=off,pic=off,isa-serial=on,rtc=off",
			"-nodefaults",
			"-no-user-config",
			"-nographic",
			"-serial",
			"stdio",
			"-device",
			"isa-debug-exit,iobase=0xf4,iosize=0x04",
			"-enable-kvm",
			"-cpu",
			cpu,
			"-m",
			(char *)mem,
			"-kernel",
			(char *)agent_elf(),
			"-append",
			append,
			NULL};
	int pfd[2];
	cr_assert(pipe(pfd) == 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0); /* CPUID warnings */
	pid_t pid;
	cr_assert(posix_spawn(&pid, QEMU, &fa, NULL, argv, environ) == 0);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	read_until_eof(r, pfd[0], pid);
	close(pfd[0]);
	int ws;
	cr_assert(waitpid(pid, &ws, 0) == pid);
	r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	parse_records(r);
	return r;
}

static void free_run(struct qemu_run *r)
{
	json_decref(r->records);
	free(r);
}

/* The first record of type t, NULL when none. */
static json_t *record(const struct qemu_run *r, const char *t)
{
	size_t i;
	json_t *j;
	json_array_foreach(r->records, i, j)
	{
		const char *rt = json_string_value(json_object_get(j, "t"));
		if (rt && strcmp(rt, t) == 0)
			return j;
	}
	return NULL;
}

static json_int_t int_field(json_t *rec, const char *key)
{
	json_t *v = json_object_get(rec, key);
	cr_assert(json_is_integer(v), "field %s missing or not an integer", key);
	return json_integer_value(v);
}

static void assert_all_records_valid(const struct qemu_run *r)
{
	size_t i;
	json_t *j;
	json_array_foreach(r->records, i, j)
	    cr_assert(json_is_object(j), "record %zu is not valid JSON; output:\n%s", i, r->out);
}

Test(agent_qemu, noop_runs_and_reports)
{
	skip_unless_qemu_kvm();
	struct qemu_run *r = run_agent("256M", "workload=noop iters=100000");
	cr_assert_eq(r->status, 1, "exit status %d; output:\n%s", r->status, r->out);
	assert_all_records_valid(r);
	json_t *hello = json_array_get(r->records, 0);
	cr_assert_str_eq(json_string_value(json_object_get(hello, "t")), "hello");
	cr_assert_eq(int_field(hello, "proto"), 1);
	cr_assert_str_eq(json_string_value(json_object_get(hello, "side")), "vm");
	cr_assert_gt(int_field(hello, "tsc_khz"), 100000);
	cr_assert_gt(int_field(hello, "tsc_entry"), 0);
	cr_assert_gt(int_field(hello, "mem_bytes"), 200 << 20);
	cr_assert_leq(int_field(hello, "mem_bytes"), 256 << 20);
	if (*vif_option())
		cr_assert_eq(int_field(hello, "pvm_vif"), 1);
	json_t *param = record(r, "param");
	cr_assert_not_null(param);
	cr_assert_str_eq(json_string_value(json_object_get(param, "v")), "100000");
	json_t *metric = record(r, "metric");
	cr_assert_not_null(metric, "no metric; output:\n%s", r->out);
	cr_assert_str_eq(json_string_value(json_object_get(metric, "wl")), "noop");
	cr_assert_gt(json_number_value(json_object_get(metric, "v")), 0.0);
	cr_assert_eq(int_field(record(r, "done"), "status"), 0);
	free_run(r);
}

Test(agent_qemu, fault_selftest_reports_page_fault)
{
	skip_unless_qemu_kvm();
	struct qemu_run *r = run_agent("256M", "vtx.selftest=fault");
	cr_assert_eq(r->status, 7, "exit status %d; output:\n%s", r->status, r->out);
	json_t *exc = record(r, "exception");
	cr_assert_not_null(exc, "no exception record; output:\n%s", r->out);
	cr_assert_eq(int_field(exc, "vec"), 14);
	cr_assert_geq(int_field(exc, "cr2"), (json_int_t)256 << 20);
	cr_assert_gt(int_field(exc, "rip"), 0x100000);
	cr_assert_eq(int_field(record(r, "done"), "status"), 3);
	free_run(r);
}

Test(agent_qemu, unknown_workload_is_bad_cmdline)
{
	skip_unless_qemu_kvm();
	struct qemu_run *r = run_agent("256M", "workload=no-such-workload");
	cr_assert_eq(r->status, 5, "exit status %d; output:\n%s", r->status, r->out);
	cr_assert_not_null(record(r, "error"));
	cr_assert_null(record(r, "metric"));
	cr_assert_eq(int_field(record(r, "done"), "status"), 2);
	free_run(r);
}

Test(agent_qemu, unknown_key_is_bad_cmdline)
{
	skip_unless_qemu_kvm();
	struct qemu_run *r = run_agent("256M", "workload=noop no_such_key=1");
	cr_assert_eq(r->status, 5, "exit status %d; output:\n%s", r->status, r->out);
	const char *msg = json_string_value(json_object_get(record(r, "error"), "msg"));
	cr_assert(msg && strstr(msg, "no_such_key"), "error names the key: %s", msg);
	free_run(r);
}

Test(agent_qemu, loader_tokens_are_ignored)
{
	skip_unless_qemu_kvm();
	struct qemu_run *r =
	    run_agent("256M", "console=ttyS0 workload=noop virtio_mmio.device=512@0xfeb00e00:12");
	cr_assert_eq(r->status, 1, "exit status %d; output:\n%s", r->status, r->out);
	free_run(r);
}

static void check_pagesize(const char *ps)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "workload=mem-chase min=64M max=64M accesses=10000 pagesize=%s",
		 ps);
	struct qemu_run *r = run_agent("1G", cmd);
	cr_assert_eq(r->status, 1, "exit status %d; output:\n%s", r->status, r->out);
	json_t *hello = record(r, "hello");
	cr_assert_str_eq(json_string_value(json_object_get(hello, "pagesize")), ps);
	json_t *m = record(r, "metric");
	cr_assert_not_null(m, "no metric; output:\n%s", r->out);
	cr_assert_eq(json_number_value(json_object_get(m, "x")), 64.0 * 1024 * 1024);
	cr_assert_gt(json_number_value(json_object_get(m, "v")), 0.0);
	free_run(r);
}

Test(agent_qemu, identity_map_4k)
{
	skip_unless_qemu_kvm();
	check_pagesize("4k");
}

Test(agent_qemu, identity_map_2m)
{
	skip_unless_qemu_kvm();
	check_pagesize("2m");
}

Test(agent_qemu, bad_pagesize_is_bad_cmdline)
{
	skip_unless_qemu_kvm();
	struct qemu_run *r = run_agent("256M", "workload=noop pagesize=1g");
	cr_assert_eq(r->status, 5, "exit status %d; output:\n%s", r->status, r->out);
	free_run(r);
}

Test(agent_qemu, garbage_selftest_has_no_valid_record_but_exits_ok)
{
	skip_unless_qemu_kvm();
	struct qemu_run *r = run_agent("256M", "vtx.selftest=garbage");
	cr_assert_eq(r->status, 1, "exit status %d", r->status);
	assert_all_records_valid(r);
	cr_assert_eq(json_array_size(r->records), 2, "only hello and done are records");
	cr_assert(memchr(r->out, 0, r->len) != NULL, "NUL bytes were sent");
	free_run(r);
}

Test(agent_qemu, badproto_selftest_sends_invalid_json)
{
	skip_unless_qemu_kvm();
	struct qemu_run *r = run_agent("256M", "vtx.selftest=badproto");
	cr_assert_eq(r->status, 1, "exit status %d", r->status);
	cr_assert_str_eq(json_string_value(json_array_get(r->records, 1)), "<invalid>");
	cr_assert_eq(int_field(record(r, "done"), "status"), 0);
	free_run(r);
}
