/*
 * Integration test helpers (see helpers.h for why).
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *itest_build_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("VTX_BUILD");
	if (env && *env) {
		snprintf(dir, sizeof(dir), "%s", env);
		return dir;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	cr_assert_gt(n, 0);
	self[n] = 0;
	snprintf(dir, sizeof(dir), "%s", dirname(dirname(self)));
	return dir;
}

int itest_run_cmd(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *itest_run_agent(const char *cmdline, int vcpus, int *status)
{
	return itest_run_agent_opts("", cmdline, vcpus, status);
}

char *itest_run_agent_opts(const char *vmm_opts, const char *cmdline, int vcpus, int *status)
{
	const char *b = getenv("VTX_BUILD");
	if (!b || access("/dev/kvm", R_OK | W_OK))
		return NULL;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "%s/vmm-lite %s --kernel %s/guest-agent.elf --vcpus %d --mem 64M --timeout 60 "
		 "--cmdline '%s' 2>&1",
		 b, vmm_opts, b, vcpus, cmdline);
	FILE *f = popen(cmd, "r");
	cr_assert(f);
	size_t cap = 1 << 20, n = 0;
	char *out = calloc(1, cap);
	cr_assert(out);
	size_t r;
	while ((r = fread(out + n, 1, cap - 1 - n, f)) > 0)
		n += r;
	*status = pclose(f);
	return out;
}

int itest_env_probe(const char *cmd, char *why, size_t len)
{
	char full[2048], line[512] = "";
	snprintf(full, sizeof(full), "(%s) 2>&1", cmd);
	FILE *f = popen(full, "r");
	cr_assert(f, "popen %s", cmd);
	while (!line[0] && fgets(line, sizeof(line), f))
		line[strcspn(line, "\n")] = 0;
	while (fgets(full, sizeof(full), f))
		; /* drain, so the command is not killed by SIGPIPE */
	int st = pclose(f);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	snprintf(why, len, "%s", line[0] ? line : "probe failed without a message");
	return -1;
}
