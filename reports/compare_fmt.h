/*
 * Output formats of `virttax compare` and `virttax gate`: a terminal table,
 * JUnit XML for CI systems and a Markdown summary for a PR comment, all from
 * the object compare_results() returns (with compare_check()'s "problems",
 * and "baseline", "candidate", "gate_host", "gate_timestamp",
 * "candidate_wall_s" set by the command). The JUnit follows the schema in
 * tests/data/junit.xsd: the text of a failure is in its message and its body.
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
/* One line per cause on `out`: each judged regression ("regression: NAME: ...")
 * and each problem of compare_check() ("missing: ...", "parameters: ...",
 * "allowed parameters: ..." for the opted-out ones). */
void compare_list_causes(FILE *out, json_t *cmp);
/* "pass", "FAIL" (a regression or a problem not allowed) or "INCONCLUSIVE"
 * (only inconclusive rows) after compare_check(). */
const char *compare_gate_verdict(json_t *cmp);
/* XML-escape s into out (at most len bytes, always terminated). */
void compare_xml_escape(const char *s, char *out, size_t len);

#endif
