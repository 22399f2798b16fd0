/*
 * Output files: the one writer every document goes through (results.json,
 * calibration.json, reports, JUnit, ...), and output directories.
 *
 * Why: a CI system that reads a half-written JUnit file or a report viewer
 * that opens a truncated HTML page is worse than no file at all, so a regular
 * file is replaced atomically (temporary file in the same directory, fsync,
 * rename). But a target that exists and is not a regular file is the user's
 * plumbing and must survive: a symlink is written through (its target is
 * replaced atomically when that is a regular file), a FIFO or a device is
 * written in place, never replaced (`report -o /dev/null` as root must not
 * turn /dev/null into a file). "-" is stdout.
 */
#ifndef VIRTTAX_CORE_OUTFILE_H
#define VIRTTAX_CORE_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

typedef int (*outfile_fn)(FILE *out, void *arg);

/* Writes what fn writes to `path` (NULL or "-": stdout). 0 or -errno (of the
 * write or of fn); -EISDIR for a directory. */
int outfile_write(const char *path, outfile_fn fn, void *arg);
/* Is `path` the document on stdout ("-")? Commands then print their human
 * text to stderr. */
bool outfile_is_stdout(const char *path);
/* mkdir -p. 0 or -errno. */
int outfile_mkdirs(const char *path);

#endif
