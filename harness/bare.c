/*
 * The bare-metal side of a pair: `virttax baseline` (this same binary) as a
 * measured child, through the same spawn/handshake/protocol code as a VMM.
 *
 * Why a child and not a function call: the baseline must be pinned, have its
 * own address space and page backing, and be observed by the collectors
 * exactly like a VMM process, so that the only difference left is the VM.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness/child.h"
#include "harness/cmds.h"

#define BARE_MAX_ARGS 80

static void bare_verdict(const struct child *c, unsigned timeout_s, struct run_result *res)
{
	res->status = RUN_OK;
	if (c->timed_out) {
		res->status = RUN_TIMEOUT;
		snprintf(res->reason, sizeof(res->reason),
			 "baseline did not exit within %u s; killed",
			 timeout_s + CHILD_KILL_GRACE_S);
	} else if (res->term_signal) {
		res->status = RUN_CRASH;
		snprintf(res->reason, sizeof(res->reason), "killed by signal %d (%s)",
			 res->term_signal, strsignal(res->term_signal));
	} else if (child_protocol_verdict(res)) {
		/* reason filled in */
	} else if (res->exit_code != 0) {
		res->status = RUN_FAILED;
		snprintf(res->reason, sizeof(res->reason), "baseline exit status %d: %.200s",
			 res->exit_code, res->stderr_tail);
	} else if (c->harness_error[0]) {
		snprintf(res->reason, sizeof(res->reason), "%s", c->harness_error);
	}
}

/* --stats-json: the baseline's timed regions and memory coverage (INTERFACES.md §5) */
static void load_bare_stats(const char *path, struct run_result *res)
{
	json_error_t err;
	res->bare_stats = json_load_file(path, 0, &err);
	unlink(path);
}

int bare_run(const struct run_spec *spec, struct run_result *res)
{
	static unsigned seq;
	char self[PATH_MAX], cpu[16], fd[16], wl[128], stats[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = 0;
	struct child c;
	int rc = child_init(&c, CT_BARE);
	if (rc)
		return rc;
	snprintf(cpu, sizeof(cpu), "%d", spec->cpu);
	snprintf(fd, sizeof(fd), "%d", c.ctl_child);
	snprintf(wl, sizeof(wl), "workload=%s", spec->workload);
	const char *argv[BARE_MAX_ARGS] = {self,	"baseline",    "--pin",	       cpu,
					   "--backing", spec->backing, "--control-fd", fd};
	size_t argc = 8;
	if (spec->cpu_list) { /* threads placed like the vCPUs (harness/hosted_smp.c) */
		argv[2] = spec->cpu_list[0] ? "--thread-pin" : "--backing";
		argv[3] = spec->cpu_list[0] ? spec->cpu_list : spec->backing;
	}
	if (spec->netns) { /* the network workloads' side of the veth pair */
		argv[argc++] = "--netns";
		argv[argc++] = spec->netns;
		argv[argc++] = "--net-dev";
		argv[argc++] = spec->net_dev;
	}
	if (spec->scratch_dir) {
		snprintf(stats, sizeof(stats), "%s/bare-stats-%d-%u.json", spec->scratch_dir,
			 (int)getpid(), seq++);
		argv[argc++] = "--stats-json";
		argv[argc++] = stats;
	}
	argv[argc++] = wl;
	for (size_t i = 0; i < spec->nwl_args && argc < BARE_MAX_ARGS - 1; i++)
		argv[argc++] = spec->wl_args[i];
	argv[argc] = NULL;
	c.cgroup_procs = spec->cgroup_procs;
	c.no_collectors = spec->no_collectors;
	rc = child_run(&c, (char *const *)argv, spec->timeout_s, res);
	if (spec->scratch_dir)
		load_bare_stats(stats, res);
	if (rc)
		return rc;
	bare_verdict(&c, spec->timeout_s, res);
	child_check_hello(res, "bare", strcmp(spec->backing, "4k") ? "2m" : "4k");
	return 0;
}
