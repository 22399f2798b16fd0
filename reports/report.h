/*
 * `virttax report`: one model (results + decomposition + calibration ladder),
 * several formats, one file per format with an ops table (fio's output
 * formats): report_md.c, report_html.c, report_csv.c, report_json.c.
 *
 * Why a shared model: every format must show the same numbers, each with its
 * unit, sample count and spread; building them once keeps the formats thin.
 */
#ifndef VIRTTAX_REPORTS_REPORT_H
#define VIRTTAX_REPORTS_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#define REPORT_MAX_SOURCES 16

struct report_ctx {
	size_t n;
	const char *paths[REPORT_MAX_SOURCES];
	json_t *results[REPORT_MAX_SOURCES]; /* summaries recomputed when missing */
	json_t *decomp[REPORT_MAX_SOURCES];  /* decompose_results() of each */
	json_t *calib;			     /* --calibration, else the first embedded one */
	json_t *ladder;			     /* calib_read_ladder(calib) */
	json_t *validation;		     /* validation rows of all sources */
	json_t *sharing;		     /* decompose_sharing() over all sources */
};

struct report_ops {
	const char *name; /* --format value */
	const char *help;
	int (*render)(FILE *out, const struct report_ctx *ctx);
};

extern const struct report_ops report_md, report_html, report_csv, report_json;
extern const struct report_ops *const report_formats[];
const struct report_ops *report_find(const char *name);

/* Load sources and build the model. 0, or -errno with a message naming the input. */
int report_ctx_load(struct report_ctx *ctx, const char *const *paths, size_t n,
		    const char *calib_path, char *err, size_t errlen);
void report_ctx_release(struct report_ctx *ctx);

/* ---- helpers shared by the formats ---- */
/* "12.3" with about 4 significant digits; "n/a" for NAN */
const char *report_num(double v, char *buf, size_t len);
/* "12.3 [11.9, 12.8]" from a STATS object or a value/ci95 pair */
const char *report_val_ci(double v, json_t *ci, char *buf, size_t len);
double report_d(json_t *o, const char *key);
/* One exit-storm validation row as text cells, shared by the Markdown and HTML
 * tables so both show the same columns. */
#define REPORT_VALIDATION_COLS 18
extern const char *const report_validation_headers[REPORT_VALIDATION_COLS];
void report_validation_cells(json_t *v, char cells[REPORT_VALIDATION_COLS][96]);
/* The curve point of an entry with xk/xu/x: "wss=16 KiB" (bytes made human), else "-" */
const char *report_x_label(json_t *e, char *buf, size_t len);
const char *report_s(json_t *o, const char *key);
/* A compact label for a component value: "3.1% [2.0, 4.2]" or "n/a" */
const char *report_comp(json_t *comp, char *buf, size_t len);
/* The component named `name` of a decomposition entry */
json_t *report_component(json_t *entry, const char *name);
/* Does any source hold a curve metric (xk set)? Calls fn for each (workload, metric name). */
typedef void (*report_curve_fn)(const struct report_ctx *ctx, size_t src, json_t *wl,
				const char *metric, void *arg);
void report_for_each_curve(const struct report_ctx *ctx, report_curve_fn fn, void *arg);
/* reports/report_components.c: I/O crossings, memory pressure, co-tenant and
 * VMM footprint tables */
void report_components(FILE *out, const struct report_ctx *ctx, bool html);

#endif
