/*
 * The hosted side of wl_env.ncpus/cpu_run/cpu_join (threads) and
 * sleep_probe/sleep_until (clock_nanosleep), for the scheduling workloads.
 *
 * Why: sched-ipi and sched-spinlock are written once against "other CPUs";
 * on the host those are threads, optionally pinned by `virttax baseline
 * --thread-pin LIST` (CPU i of the workload -> LIST[i mod len], the same rule
 * as vmm-lite's --pin for vCPUs), so bare metal and VM get the same placement
 * (dedicated: 0,1; overcommitted: 0,0). The main thread is CPU 0 and is
 * pinned too when a list is given.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "harness/hosted_smp.h"

#define HSMP_MAX 8

static struct {
	int pins[HSMP_MAX];
	unsigned npins;
	unsigned ncpus;
	pthread_t thr[HSMP_MAX];
	bool running[HSMP_MAX];
} hs;

struct hsmp_start {
	unsigned cpu;
	void (*fn)(void *);
	void *arg;
};

int hosted_smp_parse_pins(const char *s, int *pins, unsigned max, unsigned *n)
{
	*n = 0;
	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		char *end;
		errno = 0;
		long v = strtol(s, &end, 10);
		if (errno || end == s || v < 0 || v >= CPU_SETSIZE || *n >= max)
			return -EINVAL;
		pins[(*n)++] = (int)v;
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			return -EINVAL;
		s = end;
	}
	return 0;
}

static int pin_self(unsigned cpu)
{
	if (!hs.npins)
		return 0;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(hs.pins[cpu % hs.npins], &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static unsigned h_ncpus(struct wl_env *env)
{
	(void)env;
	return hs.ncpus;
}

static void *trampoline(void *p)
{
	struct hsmp_start s = *(struct hsmp_start *)p;
	free(p);
	pin_self(s.cpu);
	s.fn(s.arg);
	return NULL;
}

static int h_cpu_run(struct wl_env *env, unsigned cpu, void (*fn)(void *), void *arg)
{
	(void)env;
	if (cpu == 0 || cpu >= hs.ncpus || hs.running[cpu] || !fn)
		return -EINVAL;
	struct hsmp_start *s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct hsmp_start){cpu, fn, arg};
	int rc = pthread_create(&hs.thr[cpu], NULL, trampoline, s);
	if (rc) {
		free(s);
		return -rc;
	}
	hs.running[cpu] = true;
	return 0;
}

static int h_cpu_join(struct wl_env *env, unsigned cpu)
{
	(void)env;
	if (cpu == 0 || cpu >= hs.ncpus || !hs.running[cpu])
		return -EINVAL;
	pthread_join(hs.thr[cpu], NULL);
	hs.running[cpu] = false;
	return 0;
}

static int h_sleep_probe(struct wl_env *env, char *why, size_t len)
{
	(void)env;
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	snprintf(why, len, "clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), timer slack 1 ns");
	return 0;
}

static int h_sleep_until(struct wl_env *env, uint64_t deadline, uint64_t *woke)
{
	struct timespec now;
	uint64_t t = wl_rdtsc();
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t ns =
	    deadline > t ? (uint64_t)((double)(deadline - t) * 1e9 / (double)env->tsc_hz) : 0;
	uint64_t abs = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec + ns;
	struct timespec ts = {.tv_sec = (time_t)(abs / 1000000000ull),
			      .tv_nsec = (long)(abs % 1000000000ull)};
	int rc;
	while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
		;
	*woke = wl_rdtsc();
	return -rc;
}

int hosted_smp_install(struct wl_env *env, const char *pin_list)
{
	memset(&hs, 0, sizeof(hs));
	if (pin_list && hosted_smp_parse_pins(pin_list, hs.pins, HSMP_MAX, &hs.npins))
		return -EINVAL;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	hs.ncpus = hs.npins ? hs.npins : (online > 0 ? (unsigned)online : 1);
	if (hs.ncpus > HSMP_MAX)
		hs.ncpus = HSMP_MAX;
	int rc = pin_self(0);
	if (rc)
		return rc;
	env->ncpus = h_ncpus;
	env->cpu_run = h_cpu_run;
	env->cpu_join = h_cpu_join;
	env->sleep_probe = h_sleep_probe;
	env->sleep_until = h_sleep_until;
	return 0;
}
