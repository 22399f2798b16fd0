/*
 * Progress lines (see progress.h for why).
 */
#include "harness/progress.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void progress_duration(double s, char *buf, size_t len)
{
	if (!(s >= 0))
		snprintf(buf, len, "?");
	else if (s < 60)
		snprintf(buf, len, "%.1f s", s);
	else if (s < 3600)
		snprintf(buf, len, "%d:%02d", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, len, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
}

void progress_init(struct progress *p, FILE *out, bool quiet)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->quiet = quiet;
	p->tty = isatty(fileno(out));
	p->t0_ns = now_ns();
}

void progress_add_total(struct progress *p, unsigned runs)
{
	p->total += runs;
}

void progress_adjust_total(struct progress *p, long delta)
{
	long t = (long)p->total + delta;
	p->total = t < (long)p->done ? p->done : (unsigned)t;
}

/* "elapsed 0:12 ETA 0:40": the ETA from the mean wall time of finished runs */
static void times(const struct progress *p, char *buf, size_t len)
{
	char el[32], eta[32];
	double elapsed = (double)(now_ns() - p->t0_ns) / 1e9;
	progress_duration(elapsed, el, sizeof(el));
	if (p->done && p->total > p->done)
		progress_duration((double)p->run_ns / 1e9 / p->done * (p->total - p->done), eta,
				  sizeof(eta));
	else
		snprintf(eta, sizeof(eta), p->done ? "0 s" : "?");
	snprintf(buf, len, "elapsed %s ETA %s", el, eta);
}

void progress_end(struct progress *p)
{
	if (p->line_open)
		fputs("\r\033[K", p->out);
	p->line_open = false;
	fflush(p->out);
}

void progress_run(struct progress *p, const char *workload, const char *series, unsigned rep,
		  bool warmup)
{
	snprintf(p->what, sizeof(p->what), "%s %s %s %u", workload, series,
		 warmup ? "warmup" : "rep", rep);
	if (p->quiet || !p->tty)
		return;
	char t[80];
	times(p, t, sizeof(t));
	fprintf(p->out, "\r\033[K[%u/%u] %s  %s", p->done + 1, p->total, p->what, t);
	p->line_open = true;
	fflush(p->out);
}

void progress_done(struct progress *p, const char *status, double wall_s, const char *reason)
{
	p->done++;
	p->run_ns += (uint64_t)(wall_s * 1e9);
	if (p->quiet)
		return;
	bool ok = !strcmp(status, "ok");
	if (p->tty && ok) /* the next run's line replaces it */
		return;
	char t[80];
	times(p, t, sizeof(t));
	progress_end(p);
	fprintf(p->out, "[%u/%u] %s: %s (%.2f s)%s%s  %s\n", p->done, p->total, p->what, status,
		wall_s, reason && *reason ? ": " : "", reason ? reason : "", t);
	fflush(p->out);
}

void progress_note(struct progress *p, const char *fmt, ...)
{
	if (p->quiet)
		return;
	progress_end(p);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(p->out, fmt, ap);
	va_end(ap);
	fputc('\n', p->out);
	fflush(p->out);
}
