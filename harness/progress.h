/*
 * Progress on stderr, like hyperfine and fio: `[k/N] workload series rep
 * elapsed ETA`, one updating line on a terminal, one line per finished run
 * otherwise (CI logs); notes (calibrating, unavailable series) on lines of
 * their own; nothing with --quiet. stdout stays for tables and documents.
 */
#ifndef VIRTTAX_HARNESS_PROGRESS_H
#define VIRTTAX_HARNESS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
	FILE *out;
	bool quiet, tty;
	unsigned total, done;
	uint64_t t0_ns, run_ns; /* session start; sum of finished runs' wall time */
	bool line_open;		/* tty: an updating line is on screen */
	char what[160];		/* the run in flight */
};

void progress_init(struct progress *p, FILE *out, bool quiet);
void progress_add_total(struct progress *p, unsigned runs);
/* A planned total turned out different (series found unavailable late). */
void progress_adjust_total(struct progress *p, long delta);
/* A run starts (tty: the updating line shows it). */
void progress_run(struct progress *p, const char *workload, const char *series, unsigned rep,
		  bool warmup);
/* It finished: status and wall seconds, the reason when not ok. */
void progress_done(struct progress *p, const char *status, double wall_s, const char *reason);
/* A line of its own. */
void progress_note(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends an updating line. */
void progress_end(struct progress *p);
/* "1:05", "12.3 s" */
void progress_duration(double s, char *buf, size_t len);

#endif
