/*
 * VMM driver for kvm-floor (docs/FLOOR.md): the least KVM VMM this host can
 * run, measured beside the real VMMs by `virttax footprint` and `virttax
 * calibrate` so that their boot, memory and exit costs come as ratios to the
 * physical floor, in the same run.
 *
 * Why a driver: kvm-floor speaks vmm-lite's --control-fd handshake and prints
 * the agent's protocol records (hello with tsc_entry, calib kind pio, done),
 * so the spawn, the footprint at "stopped" and the parsing are the same code
 * as for vmm-lite (harness/child.c). It runs no workload: `noop` boots its
 * guest for a couple of exits (footprint), `calib` times its port-I/O rounds
 * with the calibration's goal_ms= and rounds=; anything else is refused as
 * unavailable. It is not offered to `virttax run --vmm`.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/proc.h"
#include "harness/child.h"

#define FLOOR_EXIT_USAGE 64
#define FLOOR_EXIT_HOST 65
#define FLOOR_EXIT_CRASH 66

static int floor_probe(char *why, size_t len)
{
	char bin[PATH_MAX];
	int rc = proc_locate("VIRTTAX_KVM_FLOOR", "kvm-floor", bin, sizeof(bin));
	if (rc || access(bin, X_OK))
		return snprintf(why, len,
				"kvm-floor not found or not executable%s%s: build it (make) or "
				"set VIRTTAX_KVM_FLOOR",
				rc ? "" : " at ", rc ? "" : bin),
		       -ENOENT;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return snprintf(why, len, "unavailable: cannot open /dev/kvm: %s", strerror(errno)),
		       -errno;
	close(fd);
	return 0;
}

/* the value of workload parameter `key` (NULL when absent) */
static const char *wl_arg(const struct run_spec *spec, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < spec->nwl_args; i++)
		if (!strncmp(spec->wl_args[i], key, kl) && spec->wl_args[i][kl] == '=')
			return spec->wl_args[i] + kl + 1;
	return NULL;
}

/* `kinds` names pio (a comma-separated list, or all) */
static bool wants_pio(const char *kinds)
{
	if (!kinds || !strcmp(kinds, "all"))
		return true;
	for (const char *p = kinds; (p = strstr(p, "pio")); p += 3)
		if ((p == kinds || p[-1] == ',') && (p[3] == 0 || p[3] == ','))
			return true;
	return false;
}

/* kvm-floor's --rounds/--goal-us for the run; 0, or -ENOTSUP with the reason */
static int floor_rounds(const struct run_spec *spec, char *rounds, char *goal, size_t len,
			char *why, size_t wlen)
{
	if (!strcmp(spec->workload, "noop")) { /* boot only: the least guest work */
		snprintf(rounds, len, "1");
		snprintf(goal, len, "1");
		return 0;
	}
	if (strcmp(spec->workload, "calib") || !wants_pio(wl_arg(spec, "kinds")))
		return snprintf(why, wlen,
				"unavailable: kvm-floor runs no workload (%s): only its own "
				"guest, for the footprint and the pio calibration kind",
				spec->workload),
		       -ENOTSUP;
	const char *g = wl_arg(spec, "goal_ms"), *r = wl_arg(spec, "rounds");
	snprintf(rounds, len, "%s", r ? r : "11");
	snprintf(goal, len, "%ld", (g ? strtol(g, NULL, 10) : 20) * 1000);
	return 0;
}

static void floor_verdict(const struct child *c, const struct run_spec *spec,
			  struct run_result *res)
{
	res->status = RUN_OK;
	if (c->timed_out) {
		res->status = RUN_TIMEOUT;
		snprintf(res->reason, sizeof(res->reason), "kvm-floor ran longer than %u s; killed",
			 spec->timeout_s + CHILD_KILL_GRACE_S);
	} else if (res->term_signal) {
		res->status = RUN_CRASH;
		snprintf(res->reason, sizeof(res->reason), "kvm-floor killed by signal %d",
			 res->term_signal);
	} else if (res->exit_code) {
		size_t n = strcspn(res->stderr_tail, "\n");
		res->status = res->exit_code == FLOOR_EXIT_CRASH ? RUN_CRASH : RUN_FAILED;
		res->fatal = res->exit_code == FLOOR_EXIT_USAGE	 ? RUN_FATAL_USAGE
			     : res->exit_code == FLOOR_EXIT_HOST ? RUN_FATAL_HOST
								 : RUN_FATAL_NONE;
		snprintf(res->reason, sizeof(res->reason), "kvm-floor exit %d: %.*s",
			 res->exit_code, (int)n, res->stderr_tail);
	} else if (!child_protocol_verdict(res)) {
		child_check_hello(res, "floor", NULL);
	}
}

static int floor_run(const struct run_spec *spec, struct run_result *res)
{
	char bin[PATH_MAX], mem[24], cpu[16], fd[16], rounds[24], goal[24];
	if (floor_rounds(spec, rounds, goal, sizeof(rounds), res->reason, sizeof(res->reason))) {
		res->status = RUN_FAILED;
		return 0;
	}
	int rc = proc_locate("VIRTTAX_KVM_FLOOR", "kvm-floor", bin, sizeof(bin));
	if (rc)
		return rc;
	struct child c;
	if ((rc = child_init(&c, CT_VM)))
		return rc;
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)(spec->mem_bytes >> 20));
	snprintf(cpu, sizeof(cpu), "%d", spec->cpu);
	snprintf(fd, sizeof(fd), "%d", c.ctl_child);
	c.vmm_name = "kvm-floor";
	c.footprint_bytes = spec->footprint ? spec->mem_bytes : 0;
	c.no_collectors = spec->no_collectors;
	c.cgroup_procs = spec->cgroup_procs;
	const char *argv[] = {bin,    "--mem-mib", mem,	 "--pin",	 cpu, "--rounds",
			      rounds, "--goal-us", goal, "--control-fd", fd,  NULL};
	if (spec->cpu < 0) /* unpinned: drop "--pin CPU" */
		memmove(&argv[3], &argv[5], sizeof(argv) - 5 * sizeof(argv[0]));
	rc = child_run(&c, (char *const *)argv, spec->timeout_s, res);
	if (!rc)
		floor_verdict(&c, spec, res);
	return rc;
}

static int floor_io_probe(const char *technique, bool nic, char *why, size_t len)
{
	(void)technique, (void)nic;
	return snprintf(why, len, "unavailable: kvm-floor has no devices"), -ENOTSUP;
}

static int floor_balloon_probe(char *why, size_t len)
{
	return snprintf(why, len, "unavailable: kvm-floor has no devices"), -ENOTSUP;
}

const struct vmm_ops vmm_floor = {
    .name = "kvm-floor",
    .probe = floor_probe,
    .run = floor_run,
    .io_probe = floor_io_probe,
    .balloon_probe = floor_balloon_probe,
};
