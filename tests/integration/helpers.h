/*
 * Helpers shared by the integration tests (tests/build.mk links every .c
 * file of tests/integration into one binary, so helpers.c comes along).
 *
 * Why one place: finding the build directory, running a command for its exit
 * status and booting the agent under vmm-lite were copied into several test
 * files; a fix to one copy (a bigger buffer, a skip reason) now reaches all.
 */
#ifndef VIRTTAX_TESTS_INTEGRATION_HELPERS_H
#define VIRTTAX_TESTS_INTEGRATION_HELPERS_H

#include <stddef.h>

/* VTX_BUILD, else the directory above this binary (BUILD/tests/integration-tests) */
const char *itest_build_dir(void);
/* system(cmd): the command's exit status, -1 when it did not exit */
int itest_run_cmd(const char *cmd);
/* Boot BUILD/guest-agent.elf under BUILD/vmm-lite (64 MiB, 60 s timeout) with
 * this command line and vCPU count; its stdout+stderr (free it) and the
 * pclose() status. NULL when VTX_BUILD is unset or /dev/kvm is not usable. */
char *itest_run_agent(const char *cmdline, int vcpus, int *status);
/* The same with extra vmm-lite options (e.g. "--irqchip full") */
char *itest_run_agent_opts(const char *vmm_opts, const char *cmdline, int vcpus, int *status);
/* Probe the environment, not the code under test: run a shell command (stderr
 * included); 0 when it exits 0, else -1 with its first output line in `why`
 * (the reason a test gives when it skips). */
int itest_env_probe(const char *cmd, char *why, size_t len);

#endif
