/*
 * A cache/TLB thrasher process as the noisy neighbour of `virttax run
 * --co-tenant same-core|smt-sibling|other-core|off`.
 *
 * Why a process the harness owns: the neighbour must be started before and
 * stopped after the measured runs, placed by the topology collector's plan
 * (collectors/topology.c) relative to the workload's CPU, and be identical
 * for bare-metal and VM runs, because what it measures is a sharing cost
 * (caches, TLB, core time), not a virtualization cost. It writes random cache
 * lines of random 4 KiB pages (no THP: every access risks a TLB miss) of a
 * buffer larger than the last-level cache, forever, until killed; it dies with
 * the harness (PR_SET_PDEATHSIG).
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collectors/collector.h"
#include "harness/cotenant.h"

int cotenant_mode_check(const char *mode)
{
	static const char *const ok[] = {"same-core", "smt-sibling", "other-core", "off"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (mode && !strcmp(mode, ok[i]))
			return 0;
	return -EINVAL;
}

int cotenant_place(const char *mode, int workload_cpu, int *cpu, char *why, size_t len)
{
	if (!strcmp(mode, "same-core")) {
		*cpu = workload_cpu;
		return 0;
	}
	struct topology *t;
	int rc = topology_load(&t, NULL);
	if (rc) {
		snprintf(why, len, "cannot read the topology (hwloc): %s", strerror(-rc));
		return rc;
	}
	rc = topology_pick_neighbor(t, workload_cpu,
				    !strcmp(mode, "smt-sibling") ? NEIGHBOR_SMT_SIBLING
								 : NEIGHBOR_OTHER_CORE,
				    cpu, why, len);
	topology_free(t);
	return rc;
}

static void thrash(size_t bytes)
{
	uint8_t *buf =
	    mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		_exit(1);
	madvise(buf, bytes, MADV_NOHUGEPAGE);
	memset(buf, 1, bytes);
	uint64_t x = 88172645463325252ull, lines = bytes / 64;
	for (;;) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[(x % lines) * 64]++;
	}
}

int cotenant_start(int cpu, size_t bytes, pid_t *pid)
{
	pid_t parent = getpid();
	pid_t p = fork();
	if (p < 0)
		return -errno;
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			_exit(1);
		thrash(bytes);
	}
	*pid = p;
	return 0;
}

void cotenant_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}
