/*
 * The human-readable summary table printed by `virttax run`.
 *
 * Why from results.json and not from in-memory state: what is printed is then
 * exactly what was saved, and the table can be re-printed from any file.
 */
#ifndef VIRTTAX_REPORTS_TABLE_H
#define VIRTTAX_REPORTS_TABLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Prints the summary of every workload, then every run that was not ok. */
void table_print(FILE *out, json_t *results);
/* Only the workloads of one experiment (results.json "experiment"; absent: "ab"). */
void table_print_experiment(FILE *out, json_t *results, const char *experiment);
/* A view of results holding only those workloads (new ref). */
json_t *table_select(json_t *results, const char *experiment);
/* reports/table_vmms.c: bare | each VMM | each overhead, when the ab workloads
 * of results hold several VMMs */
void table_vmms_print(FILE *out, json_t *results);

/* A grid of text cells printed with aligned columns (left, then right-aligned
 * from column right_from), headers first. */
#define TABLE_CELL 96
#define TABLE_GRID_MAX_COLS 12
struct table_grid {
	int ncols, right_from;
	const char *const *headers;
	char (*cell)[TABLE_CELL]; /* nrows x ncols */
	size_t nrows, cap;
};
/* A new zeroed row (ncols cells), NULL when out of memory. */
char (*table_grid_row(struct table_grid *g))[TABLE_CELL];
void table_grid_print(FILE *out, const struct table_grid *g);
void table_grid_free(struct table_grid *g);
/* "latency @ 16 KiB" for an entry with metric/xu/x */
void table_metric_label(json_t *e, char *buf, size_t len);
/* reports/table_decompose.c: the decomposition of the ab workloads, one row per
 * workload, VM series and metric, after the overhead table of `virttax run` */
void table_decompose_print(FILE *out, json_t *results);

/* "16 KiB", "1.5 GiB", "512 B" */
void table_human_bytes(double bytes, char *buf, size_t len);
/* A value with a sensible number of digits for its magnitude */
void table_number(double v, char *buf, size_t len);

#endif
