/*
 * Taking one "--flag VALUE" / "--flag=VALUE" out of an argument vector.
 *
 * Why: some flags of `virttax run` (--calibration, --mem-limit, --balloon)
 * are consumed by a mode before the common option parser sees argv; they all
 * need the same removal, in one place.
 */
#ifndef VIRTTAX_HARNESS_ARGV_H
#define VIRTTAX_HARNESS_ARGV_H

/*
 * Removes every occurrence of `flag` (and its value) before a "--".
 * Returns 1 when absent, 0 when found: *val is the last value, or NULL when
 * the last occurrence had none ("--flag" at the end of argv).
 */
int argv_take_value(int *argc, char **argv, const char *flag, const char **val);

#endif
