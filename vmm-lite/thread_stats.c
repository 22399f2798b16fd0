/*
 * Scheduler statistics of the vCPU threads (/proc/self/task/TID/...).
 *
 * Why: time a vCPU thread spent waiting for a host CPU, and how often it was
 * switched out, is overhead the guest cannot see. Read while the threads are
 * parked after the run; the parser is pure so it is unit tested.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vmm-lite/vmm.h"

static int status_field(const char *status, const char *key, uint64_t *out)
{
	const char *p = status;
	size_t klen = strlen(key);

	while (p && *p) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':')
			return sscanf(p + klen + 1, "%" SCNu64, out) == 1 ? 0 : -EINVAL;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENOENT;
}

int thread_stats_parse(const char *schedstat, const char *status, struct thread_stats *t)
{
	memset(t, 0, sizeof(*t));
	if (sscanf(schedstat, "%" SCNu64 " %" SCNu64 " %" SCNu64, &t->run_ns, &t->wait_ns,
		   &t->timeslices) != 3)
		return -EINVAL;
	if (status_field(status, "voluntary_ctxt_switches", &t->vol_ctxsw) ||
	    status_field(status, "nonvoluntary_ctxt_switches", &t->invol_ctxsw))
		return -EINVAL;
	return 0;
}

static int read_small_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

int thread_stats_read(pid_t tid, struct thread_stats *t)
{
	char path[64], sched[256], status[4096];
	int r;

	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)tid);
	if ((r = read_small_file(path, sched, sizeof(sched))))
		return r;
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	if ((r = read_small_file(path, status, sizeof(status))))
		return r;
	return thread_stats_parse(sched, status, t);
}
