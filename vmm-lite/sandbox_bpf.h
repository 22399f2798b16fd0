/*
 * The seccomp programs vmm-lite installs, compiled at build time from the
 * policy in vmm-lite/tools/sandbox_compile.c into
 * $(BUILD)/gen/vmm-lite/sandbox_bpf.c (see there for why).
 */
#ifndef VMM_LITE_SANDBOX_BPF_H
#define VMM_LITE_SANDBOX_BPF_H

#include <linux/filter.h>

#include "vmm-lite/sandbox.h"

struct sandbox_bpf {
	const struct sock_filter *filter;
	unsigned short len;
};
extern const struct sandbox_bpf sandbox_bpf[SANDBOX_NROLES];

/* system call names by number, for the SIGSYS message; NULL where unknown */
#define SANDBOX_NAMES_MAX 512
extern const char *const sandbox_syscall_names[SANDBOX_NAMES_MAX];

#endif
