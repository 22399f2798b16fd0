/*
 * Subcommands of the virttax CLI, one file each (git/perf builtin-*.c style).
 * harness/main.c dispatches on argv[1] through a table of these.
 * Each returns the process exit status (see README "Exit codes").
 */
#ifndef VIRTTAX_CMDS_H
#define VIRTTAX_CMDS_H

#include <stdbool.h>

int cmd_run(int argc, char **argv);	  /* harness/cmd_run.c */
int cmd_calibrate(int argc, char **argv); /* harness/cmd_calibrate.c */
int cmd_list(int argc, char **argv);	  /* harness/cmd_list.c */
int cmd_footprint(int argc, char **argv); /* harness/cmd_footprint.c: vmm-footprint */
int cmd_validate(int argc, char **argv);  /* harness/cmd_validate.c: known answers */
/* harness/cmd_run.c: `virttax run` with `cmd` as the prefix of its messages
 * (`virttax footprint` is a run of the vmm-footprint experiment) */
int run_main(int argc, char **argv, const char *cmd);
int cmd_baseline(int argc, char **argv); /* harness/cmd_baseline.c: hosted workload runner */
int cmd_doctor(int argc, char **argv);	 /* harness/cmd_doctor.c */
int cmd_report(int argc, char **argv);	 /* harness/cmd_report.c */
int cmd_compare(int argc, char **argv);	 /* harness/cmd_compare.c */
int cmd_gate(int argc, char **argv);	 /* harness/cmd_compare.c: CI gate */

/* virttax exit codes */
#define VTX_EXIT_OK 0
#define VTX_EXIT_FAILED 1 /* a run or a workload failed; gate: a regression or another cause */
#define VTX_EXIT_USAGE 2  /* bad input: flags, files, workload names, keys */
#define VTX_EXIT_HOST 3	  /* host problem: no /dev/kvm, cannot pin, out of memory */
#define VTX_EXIT_INCONCLUSIVE 4 /* gate: nothing failed, but some judged row is undecided */

#endif
