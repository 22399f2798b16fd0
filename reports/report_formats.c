/*
 * The report format table: one entry per file report_FORMAT.c (fio's output
 * formats). Adding a format is one file and one entry here.
 *
 * Why a file of its own: the formats call the model's helpers in report.c;
 * keeping the table apart keeps that a one-way dependency.
 */
#include <string.h>

#include "reports/report.h"

const struct report_ops *const report_formats[] = {&report_md, &report_html, &report_csv,
						   &report_json, NULL};

const struct report_ops *report_find(const char *name)
{
	for (const struct report_ops *const *f = report_formats; *f; f++)
		if (!strcmp((*f)->name, name))
			return *f;
	return NULL;
}
