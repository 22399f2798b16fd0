/*
 * A recording wl_env for the workload unit tests.
 *
 * Why: the tests run real workloads with tiny parameters and must see every
 * metric and log line they produce, with an allocator that can be told to
 * fail (to check -ENOMEM) and that frees everything afterwards (ASan).
 */
#ifndef VIRTTAX_TEST_WORKLOADS_ENV_H
#define VIRTTAX_TEST_WORKLOADS_ENV_H

#include "virttax/workload.h"
#include "workloads/wl_cmdline.h"

#define TENV_MAX_METRICS 64
#define TENV_MAX_ALLOCS 16
#define TENV_MAX_REGIONS 512

struct tenv_metric {
	char m[32], u[16], xk[16], xu[16];
	bool lower;
	double v, x;
};

struct tenv {
	struct wl_env env;
	struct wl_cmdline cmd;
	struct tenv_metric metrics[TENV_MAX_METRICS];
	size_t nmetrics;
	size_t nlogs;
	char last_log[256];
	void *allocs[TENV_MAX_ALLOCS];
	size_t nallocs;
	bool fail_alloc;
	struct tenv_region {
		unsigned edge;
		char label[WL_REGION_LABEL_MAX + 8];
	} regions[TENV_MAX_REGIONS]; /* every wl_env.region call, in order */
	size_t nregions;
};

/* Resolve "workload=NAME k=v ..." and set up env; returns wl_cmdline_resolve's rc */
int tenv_setup(struct tenv *t, const char *line);
/* Run the resolved workload, then free its memory. */
int tenv_run(struct tenv *t);
const struct tenv_metric *tenv_metric(const struct tenv *t, const char *m);
/* The region calls of the last run: begin/end pairs with one label, never
 * nested, valid labels, each tied to what was emitted ("run", "METRIC",
 * a METRIC_* family, "METRIC@X" for a curve point at x = X, "calib.KIND"),
 * at least one region when a non-count metric was emitted. 0, or -1 and why. */
int tenv_check_regions(const struct tenv *t, char *why, size_t len);

#endif
