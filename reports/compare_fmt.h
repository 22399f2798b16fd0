/*
 * Output formats of `virttax compare` and `virttax gate`: a terminal table,
 * JUnit XML for CI systems and a Markdown summary for a PR comment, all from
 * the object compare_results() returns.
 *
 * Why separate from compare.c: the statistics are pure and unit tested on
 * their own; the formats only print them (fio-style: one place per format).
 */
#ifndef VIRTTAX_REPORTS_COMPARE_FMT_H
#define VIRTTAX_REPORTS_COMPARE_FMT_H

#include <jansson.h>
#include <stdio.h>

int compare_print_table(FILE *out, void *cmp);	  /* json_t *cmp */
int compare_write_junit(FILE *out, void *cmp);	  /* json_t *cmp */
int compare_write_markdown(FILE *out, void *cmp); /* json_t *cmp */
int compare_write_json(FILE *out, void *cmp);	  /* json_t *cmp */
/* One line per regression on `out`: "regression: WL METRIC SERIES KIND: +12.3% (p=...)". */
void compare_list_regressions(FILE *out, json_t *cmp);
/* XML-escape s into out (at most len bytes, always terminated). */
void compare_xml_escape(const char *s, char *out, size_t len);

#endif
