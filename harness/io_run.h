/*
 * `virttax run --io-technique LIST` (harness/io_run.c): the I/O technique
 * table, a path of its own next to the A/B loop of cmd_run.c.
 */
#ifndef VIRTTAX_HARNESS_IO_RUN_H
#define VIRTTAX_HARNESS_IO_RUN_H

#include <stdbool.h>

bool io_run_wanted(int argc, char **argv);
int cmd_io_run(int argc, char **argv);

#endif
