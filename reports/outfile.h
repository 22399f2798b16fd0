/*
 * Writing a report file atomically (temp file in the same directory, fsync,
 * rename), or to stdout for "-"/NULL.
 *
 * Why: a CI system that reads a half-written JUnit file or a report viewer
 * that opens a truncated HTML page is worse than no file at all.
 */
#ifndef VIRTTAX_REPORTS_OUTFILE_H
#define VIRTTAX_REPORTS_OUTFILE_H

#include <stdio.h>

typedef int (*outfile_fn)(FILE *out, void *arg);

/* 0 or -errno (of the write or of fn) */
int outfile_write(const char *path, outfile_fn fn, void *arg);

#endif
