/*
 * bench/ctxsw_perf: what perf software events on a thread add to each of its
 * context switches (docs/CALIBRATION.md "The host ladder against independent
 * tools").
 *
 * Why: the harness's perf collector attaches task-clock, context-switches,
 * cpu-migrations, page-faults and major-faults (inherit off) to the measured
 * thread; perf runs its sched-out/sched-in hooks for them at every context
 * switch. A 1-byte pipe ping-pong between two processes on one CPU (the
 * calibration's process-roundtrip, the mechanism of `perf bench sched pipe`)
 * switches twice per round trip, so it shows the cost directly. Rounds
 * alternate without and with the events (opened before, closed after the
 * round), so a loaded machine hits both alike; the difference is paired.
 *
 * usage: taskset -c CPU build/bench/ctxsw_perf [ROUNDS] [ROUND_TRIPS] [NEVENTS]
 *        (default 41, 3000, 5)
 * Prints ns per round trip without and with the events and the paired
 * difference: medians [distribution-free 95% CI] (core/stats.c).
 */
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/stats.h"

#define MAX_ROUNDS 201

static const unsigned long sw_events[] = {PERF_COUNT_SW_TASK_CLOCK, PERF_COUNT_SW_CONTEXT_SWITCHES,
					  PERF_COUNT_SW_CPU_MIGRATIONS, PERF_COUNT_SW_PAGE_FAULTS,
					  PERF_COUNT_SW_PAGE_FAULTS_MAJ};

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int open_events(int *fds, int n)
{
	for (int e = 0; e < n; e++) {
		struct perf_event_attr a;
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.type = PERF_TYPE_SOFTWARE;
		a.config = sw_events[e];
		a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
		fds[e] = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
		if (fds[e] < 0) {
			perror("perf_event_open");
			return -1;
		}
	}
	return 0;
}

/* ns per round trip of `loops` 1-byte ping-pongs */
static double ping(int to, int from, int loops)
{
	char c = 'x';
	double t0 = now_ns();
	for (int i = 0; i < loops; i++)
		if (write(to, &c, 1) != 1 || read(from, &c, 1) != 1)
			return -1;
	return (now_ns() - t0) / loops;
}

static void print(const char *what, const double *x, int n)
{
	struct stats_summary s;
	if (stats_summarize(x, (size_t)n, &s))
		return;
	printf("  %-34s %8.0f [%.0f, %.0f] ns\n", what, s.median, s.ci_lo, s.ci_hi);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 41, loops = argc > 2 ? atoi(argv[2]) : 3000;
	int nev = argc > 3 ? atoi(argv[3]) : 5, a[2], b[2], fds[5];
	static double plain[MAX_ROUNDS], with[MAX_ROUNDS], diff[MAX_ROUNDS];
	if (rounds < 3 || rounds > MAX_ROUNDS || loops < 1 || nev < 1 || nev > 5) {
		fprintf(stderr, "usage: ctxsw_perf [ROUNDS 3..%d] [ROUND_TRIPS] [NEVENTS 1..5]\n",
			MAX_ROUNDS);
		return 2;
	}
	if (pipe(a) || pipe(b))
		return 1;
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) { /* echo one byte back until EOF */
		char c;
		close(a[1]);
		close(b[0]);
		while (read(a[0], &c, 1) == 1 && write(b[1], &c, 1) == 1)
			;
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < 2; k++) {
			bool events = (r + k) & 1; /* alternate which comes first */
			if (events && open_events(fds, nev))
				return 1;
			double ns = ping(a[1], b[0], loops);
			if (events)
				for (int e = 0; e < nev; e++)
					close(fds[e]);
			(events ? with : plain)[r] = ns;
		}
		diff[r] = with[r] - plain[r];
	}
	close(a[1]);
	waitpid(pid, NULL, 0);
	printf("pipe round trip between two processes, %d rounds of %d, median [95%% CI]:\n",
	       rounds, loops);
	print("no perf events", plain, rounds);
	char what[64];
	snprintf(what, sizeof(what), "%d software events on the thread", nev);
	print(what, with, rounds);
	print("paired difference", diff, rounds);
	return 0;
}
