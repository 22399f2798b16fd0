/*
 * A CPU hog with a known share of one CPU: the scheduling perturbation of
 * `virttax validate` (harness/exp_validate.c, docs/METHOD.md "Validation by
 * known answers").
 *
 * Why a bandwidth-capped cgroup: a plain hog's share of a CPU depends on what
 * else runs there (measured on the shared dev host: an RT hog meant to take
 * 30% took 4-23% of the vCPU's interval). The CFS bandwidth limit (cgroup v2
 * cpu.max, v1 cpu.cfs_quota_us) caps the hog's group to exactly QUOTA of
 * every PERIOD, and the largest weight (256x a nice-0 task's in v1, 100x in
 * v2: more than any shield, harness/exp_validate.c, even two of them and
 * another hog) means nothing at normal priority keeps it from its quota: it takes QUOTA/PERIOD of
 * the CPU's wall time whatever else runs. Every other task on that CPU, the vCPU included, waits in
 * the run queue meanwhile, which is what the scheduling component measures. The check that the
 * share was really taken is the group's own count: throttled in (nearly) every period means the hog
 * always wanted more than its quota and got all of it.
 */
#include "harness/cpuhog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* "key value" of DIR/cpu.stat, 0 when absent */
static uint64_t cpu_stat(const char *dir, const char *key)
{
	char path[PATH_MAX + 16], line[128];
	uint64_t v = 0;
	size_t n = strlen(key);
	snprintf(path, sizeof(path), "%s/cpu.stat", dir);
	FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ' ')
			sscanf(line + n + 1, "%" SCNu64, &v);
	if (f)
		fclose(f);
	return v;
}

/* v2 cpu.max + cpu.weight (a nice-0 task: 100, at most 10000), v1 cfs quota +
 * cpu.shares (a nice-0 task: 1024, at most 262144): `times` a nice-0 task */
static int set_limits(const struct memcg *g, unsigned times, unsigned quota_us, unsigned period_us)
{
	char v[64];
	int rc = 0;
	if (g->iface == MEMCG_V2) {
		snprintf(v, sizeof(v), "%u %u", quota_us, period_us);
		if (quota_us)
			rc = cgroup_write(g->dir, "cpu.max", v);
		snprintf(v, sizeof(v), "%u", times * 100 > 10000 ? 10000 : times * 100);
		return rc ? rc : cgroup_write(g->dir, "cpu.weight", v);
	}
	if (quota_us) {
		snprintf(v, sizeof(v), "%u", period_us);
		rc = cgroup_write(g->dir, "cpu.cfs_period_us", v);
		snprintf(v, sizeof(v), "%u", quota_us);
		rc = rc ? rc : cgroup_write(g->dir, "cpu.cfs_quota_us", v);
	}
	snprintf(v, sizeof(v), "%u", times * 1024 > 262144 ? 262144 : times * 1024);
	return rc ? rc : cgroup_write(g->dir, "cpu.shares", v);
}

int cpugroup_create(struct memcg *g, const char *name, unsigned times, unsigned quota_us,
		    unsigned period_us, char *why, size_t len)
{
	struct memcg_host host;
	int rc;
	memset(g, 0, sizeof(*g));
	if ((rc =
		 cgroup_probe("cpu", &host, "/proc/self/mountinfo", "/proc/self/cgroup", why, len)))
		return rc;
	g->iface = host.iface;
	snprintf(g->dir, sizeof(g->dir), "%s/%s-%d", host.parent, name, (int)getpid());
	snprintf(g->procs, sizeof(g->procs), "%s/cgroup.procs", g->dir);
	if (mkdir(g->dir, 0755) && errno != EEXIST) {
		rc = -errno;
		snprintf(why, len, "mkdir %.200s: %s", g->dir, strerror(-rc));
		g->dir[0] = 0;
		return rc;
	}
	if ((rc = set_limits(g, times, quota_us, period_us))) {
		snprintf(why, len, "cannot set the weight and bandwidth limit in %.200s: %s",
			 g->dir, strerror(-rc));
		memcg_destroy(g);
	}
	return rc;
}

static __attribute__((noreturn)) void spin(pid_t parent, int cpu, int go)
{
	cpu_set_t set;
	char c;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) || read(go, &c, 1) != 1)
		_exit(1);
	for (volatile uint64_t x = 0;; x++)
		;
}

int cpuhog_start(struct cpuhog *h, int cpu, unsigned quota_us, unsigned period_us, char *why,
		 size_t len)
{
	int go[2], rc;
	char pid[32];
	memset(h, 0, sizeof(*h));
	h->pid = -1;
	h->quota_us = quota_us;
	h->period_us = period_us;
	if ((rc = cpugroup_create(&h->g, "virttax-hog", CPUHOG_TIMES, quota_us, period_us, why,
				  len)))
		return rc;
	if (pipe2(go, O_CLOEXEC)) {
		rc = -errno;
		snprintf(why, len, "pipe: %s", strerror(-rc));
		memcg_destroy(&h->g);
		return rc;
	}
	pid_t parent = getpid();
	h->pid = fork();
	if (h->pid == 0) {
		close(go[1]);
		spin(parent, cpu, go[0]);
	}
	close(go[0]);
	rc = h->pid < 0 ? -errno : 0;
	snprintf(pid, sizeof(pid), "%d", (int)h->pid);
	if (!rc && (rc = cgroup_write(h->g.dir, "cgroup.procs", pid)))
		snprintf(why, len, "cannot move the hog into %.200s: %s", h->g.dir, strerror(-rc));
	h->periods0 = cpu_stat(h->g.dir, "nr_periods");
	h->throttled0 = cpu_stat(h->g.dir, "nr_throttled");
	if (!rc && write(go[1], "g", 1) != 1)
		rc = -EIO;
	close(go[1]);
	if (rc)
		cpuhog_stop(h, NULL);
	return rc;
}

void cpuhog_stop(struct cpuhog *h, struct cpuhog_stat *st)
{
	if (st) {
		char path[64];
		unsigned long long run = 0;
		snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)h->pid);
		FILE *f = h->pid > 0 ? fopen(path, "re") : NULL;
		if (f && fscanf(f, "%llu", &run) != 1)
			run = 0;
		if (f)
			fclose(f);
		*st = (struct cpuhog_stat){
		    .periods = cpu_stat(h->g.dir, "nr_periods") - h->periods0,
		    .throttled = cpu_stat(h->g.dir, "nr_throttled") - h->throttled0,
		    .run_ns = run};
	}
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	h->pid = -1;
	memcg_destroy(&h->g);
}
