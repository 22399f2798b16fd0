/*
 * The calibration procedure (harness/calib_run.c); the file format is
 * core/calib.h.
 */
#ifndef VIRTTAX_HARNESS_CALIB_RUN_H
#define VIRTTAX_HARNESS_CALIB_RUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The whole procedure (harness/cmd_calibrate.c): boots the agent, runs the host side. */
struct calib_opts {
	const char *vmm;
	int cpu;
	bool quick;
	unsigned long tsc_khz;
	const char *scratch_dir;
};
/* 0 and *out (new ref), or -errno with a one-line reason in err. */
int calibrate(const struct calib_opts *o, json_t **out, char *err, size_t len);

/* harness/cmd_calibrate.c: shared with `virttax run`; prints its own error. */
int calibrate_now(const char *vmm_name, int cpu, bool quick, const char *scratch,
		  unsigned long tsc_khz, json_t **out);
/* `virttax run --calibration FILE` (or =FILE): consumed here, removed from argv
 * before the plan parser sees it. -EINVAL when FILE is missing. */
int calib_take_flag(int *argc, char **argv, const char **path);
#endif
