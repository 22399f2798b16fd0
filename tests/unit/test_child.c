/*
 * Unit tests of the shared child runner (harness/child.c) and of the vmm-lite
 * driver's verdicts (harness/vmm_vmmlite.c), using small shell scripts that
 * play the child: protocol on stdout, the --control-fd handshake, exit codes,
 * hangs. No KVM needed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/child.h"
#include "virttax/protocol.h"

#define GOOD_OUTPUT                                                                                \
	"echo boot; echo '" VTX_PROTO_PREFIX                                                       \
	"{\"t\":\"hello\",\"proto\":1,\"side\":\"vm\",\"pagesize\":\"2m\"}'; "                     \
	"echo '" VTX_PROTO_PREFIX                                                                  \
	"{\"t\":\"metric\",\"m\":\"t\",\"u\":\"ns\",\"better\":\"lower\",\"v\":5}'; "              \
	"echo '" VTX_PROTO_PREFIX "{\"t\":\"done\",\"status\":0}'; "

static int run_script(const char *script, unsigned timeout_s, struct child *c,
		      struct run_result *res)
{
	char full[2048], fd[16];
	cr_assert_eq(child_init(c, CT_BARE), 0);
	snprintf(fd, sizeof(fd), "%d", c->ctl_child);
	snprintf(full, sizeof(full), "FD=%s; %s", fd, script);
	char *argv[] = {"/bin/bash", "-c", full, NULL};
	run_result_init(res);
	return child_run(c, argv, timeout_s, res);
}

Test(child, handshake_protocol_and_exit)
{
	struct child c;
	struct run_result res;
	int rc =
	    run_script("printf '{\"event\":\"ready\",\"pid\":%d,\"tids\":[%d]}\\n' $$ $$ >&$FD; "
		       "head -c1 <&$FD >/dev/null; " GOOD_OUTPUT
		       "printf '{\"event\":\"stopped\",\"status\":0}\\n' >&$FD; "
		       "head -c1 <&$FD >/dev/null; echo oops >&2; exit 0",
		       10, &c, &res);
	cr_assert_eq(rc, 0);
	cr_assert(c.got_ready);
	cr_assert(c.got_stopped);
	cr_assert_eq(c.ntids, 1);
	cr_assert_eq(res.exit_code, 0);
	cr_assert_eq(json_array_size(res.proto.metrics), 1);
	cr_assert_not(child_protocol_verdict(&res));
	cr_assert_not_null(res.collectors, "collectors opened at ready");
	cr_assert_str_eq(res.stderr_tail, "oops\n");
	cr_assert_gt(res.wall_ns, 0);
	run_result_release(&res);
}

/* calibration runs attach nothing: perf events on a thread slow its context
 * switches (docs/CALIBRATION.md), and costs need no collector */
Test(child, no_collectors_attaches_nothing)
{
	struct child c;
	struct run_result res;
	char full[2048], fd[16];
	cr_assert_eq(child_init(&c, CT_BARE), 0);
	c.no_collectors = true;
	snprintf(fd, sizeof(fd), "%d", c.ctl_child);
	snprintf(full, sizeof(full),
		 "FD=%s; printf '{\"event\":\"ready\",\"pid\":%%d,\"tids\":[%%d]}\\n' $$ $$ "
		 ">&$FD; head -c1 <&$FD >/dev/null; " GOOD_OUTPUT
		 "printf '{\"event\":\"stopped\",\"status\":0}\\n' >&$FD; "
		 "head -c1 <&$FD >/dev/null; exit 0",
		 fd);
	char *argv[] = {"/bin/bash", "-c", full, NULL};
	run_result_init(&res);
	cr_assert_eq(child_run(&c, argv, 10, &res), 0);
	cr_assert(c.got_ready && c.got_stopped);
	cr_assert_eq(json_array_size(res.proto.metrics), 1);
	cr_assert_null(res.collectors, "no collector attached");
	run_result_release(&res);
}

Test(child, hang_is_killed_as_timeout)
{
	struct child c;
	struct run_result res;
	/* timeout 0 s + CHILD_KILL_GRACE_S */
	cr_assert_eq(run_script("exec sleep 60", 0, &c, &res), 0);
	cr_assert(c.timed_out);
	cr_assert_eq(res.term_signal, 9);
	cr_assert_lt(res.wall_ns, (CHILD_KILL_GRACE_S + 3) * 1000000000ull);
	run_result_release(&res);
}

Test(child, protocol_verdicts)
{
	struct child c;
	struct run_result res;
	cr_assert_eq(run_script("echo '" VTX_PROTO_PREFIX "{broken'", 5, &c, &res), 0);
	cr_assert(child_protocol_verdict(&res));
	cr_assert_eq(res.status, RUN_FAILED);
	cr_assert(strstr(res.reason, "protocol error"), "%s", res.reason);
	run_result_release(&res);
	cr_assert_eq(run_script("echo just chatter", 5, &c, &res), 0);
	cr_assert(child_protocol_verdict(&res));
	cr_assert_str_eq(res.reason, "no hello record");
	run_result_release(&res);
}

/* ---- vmm-lite verdicts through a mock vmm-lite ---- */

static char mock_dir[] = "/tmp/vtx-mockvmm-XXXXXX";

/* shell: write JSON (no single quotes in it) to the --stats-json argument */
#define WRITE_STATS(json)                                                                          \
	"S=; for a in \"$@\"; do [ \"$p\" = --stats-json ] && S=$a; p=$a; done; "                  \
	"[ -n \"$S\" ] && echo '" json "' > \"$S\"; "

static void write_mock(const char *body)
{
	char path[128];
	cr_assert_not_null(mkdtemp(mock_dir));
	snprintf(path, sizeof(path), "%s/vmm-lite", mock_dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "#!/bin/bash\n%s\n", body);
	fclose(f);
	chmod(path, 0755);
	setenv("VIRTTAX_VMM_LITE", path, 1);
	setenv("VIRTTAX_AGENT", "/dev/null", 1);
}

static void mock_run(struct run_result *res)
{
	struct run_spec spec = {.workload = "noop",
				.cpu = 0,
				.backing = "thp",
				.pagesize = "2m",
				.mem_bytes = 64 << 20,
				.timeout_s = 10,
				.tsc_khz = 1000000,
				.scratch_dir = mock_dir};
	run_result_init(res);
	cr_assert_eq(vmm_vmmlite.run(&spec, res), 0);
}

static void cleanup_mock(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", mock_dir);
	cr_assert_eq(system(cmd), 0);
}

Test(vmmlite, exit_codes_map_to_status, .fini = cleanup_mock)
{
	static const struct {
		int code;
		enum run_status st;
		enum run_fatal fatal;
	} cases[] = {
	    {64, RUN_FAILED, RUN_FATAL_USAGE}, {65, RUN_FAILED, RUN_FATAL_HOST},
	    {66, RUN_CRASH, RUN_FATAL_NONE},   {67, RUN_TIMEOUT, RUN_FATAL_NONE},
	    {68, RUN_INVALID, RUN_FATAL_NONE}, {7, RUN_CRASH, RUN_FATAL_NONE},
	    {3, RUN_FAILED, RUN_FATAL_NONE},   {1, RUN_OK, RUN_FATAL_NONE},
	};
	write_mock("echo \"$@\" >&2; " WRITE_STATS("{\"emulation\":{\"native\":true}}") GOOD_OUTPUT
		   "exit $MOCK_CODE");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char code[8];
		snprintf(code, sizeof(code), "%d", cases[i].code);
		setenv("MOCK_CODE", code, 1);
		struct run_result res;
		mock_run(&res);
		cr_assert_eq(res.status, cases[i].st, "exit %d: status %s (%s)", cases[i].code,
			     run_status_name(res.status), res.reason);
		cr_assert_eq(res.fatal, cases[i].fatal, "exit %d", cases[i].code);
		cr_assert(
		    strstr(res.stderr_tail, "--cmdline workload=noop pagesize=2m tsc_khz=1000000"),
		    "agent command line: %s", res.stderr_tail);
		run_result_release(&res);
	}
}

/* A run nobody could check for native execution is invalid-unknown, never native. */
static void expect_invalid_unknown(const char *body, const char *why)
{
	write_mock(body);
	struct run_result res;
	mock_run(&res);
	cr_assert_eq(res.status, RUN_INVALID, "%s", res.reason);
	cr_assert(strstr(res.reason, "invalid-unknown") && strstr(res.reason, why), "%s",
		  res.reason);
	run_result_release(&res);
}

Test(vmmlite, no_stats_file_is_invalid_unknown, .fini = cleanup_mock)
{
	expect_invalid_unknown(GOOD_OUTPUT "exit 1", "no stats file");
}

Test(vmmlite, no_insn_emulation_stat_is_invalid_unknown, .fini = cleanup_mock)
{
	expect_invalid_unknown(WRITE_STATS("{\"emulation\":{\"native\":null,\"reason\":"
					   "\"unknown: no insn_emulation vCPU stat\"}}") GOOD_OUTPUT
			       "exit 1",
			       "no insn_emulation");
}

Test(vmmlite, stats_without_verdict_is_invalid_unknown, .fini = cleanup_mock)
{
	expect_invalid_unknown(WRITE_STATS("{\"vmm\":\"vmm-lite\"}") GOOD_OUTPUT "exit 1",
			       "no emulation verdict");
}

Test(vmmlite, stats_json_embedded_and_emulated_is_invalid, .fini = cleanup_mock)
{
	/* write the --stats-json FILE argument like vmm-lite does */
	write_mock(
	    "while [ $# -gt 0 ]; do [ \"$1\" = --stats-json ] && S=$2; shift; done; " GOOD_OUTPUT
	    "echo '{\"vmm\":\"vmm-lite\",\"emulation\":{\"native\":false}}' > $S; exit 1");
	struct run_result res;
	mock_run(&res);
	cr_assert_not_null(res.vmm_stats);
	cr_assert_str_eq(json_string_value(json_object_get(res.vmm_stats, "vmm")), "vmm-lite");
	cr_assert_eq(res.status, RUN_INVALID, "%s", res.reason);
	run_result_release(&res);
}

Test(vmmlite, hello_with_other_pagesize_fails_the_run, .fini = cleanup_mock)
{
	write_mock(GOOD_OUTPUT "exit 1");
	struct run_spec spec = {.workload = "noop",
				.backing = "thp",
				.pagesize = "4k",
				.mem_bytes = 64 << 20,
				.timeout_s = 10,
				.tsc_khz = 1000000,
				.scratch_dir = mock_dir};
	struct run_result res;
	run_result_init(&res);
	cr_assert_eq(vmm_vmmlite.run(&spec, &res), 0);
	cr_assert_eq(res.status, RUN_FAILED);
	cr_assert(strstr(res.reason, "pagesize"), "%s", res.reason);
	run_result_release(&res);
}
