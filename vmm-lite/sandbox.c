/*
 * A seccomp allow-list per thread, as Firecracker does.
 *
 * Why: the guest is untrusted and every device handler is code it drives. If
 * one of them has a bug, what a guest can make vmm-lite do is bounded by the
 * system calls its thread may still make. Each thread installs its own filter
 * once its set-up is done (files, KVM objects, eventfds and threads all exist
 * by then), so the lists are short: a vCPU thread runs KVM_RUN and the device
 * handlers; an I/O thread polls its eventfd and tap and serves queues; the
 * main thread waits, reads stats and, after the guest stopped, writes
 * --stats-json. The policy (which calls, which arguments) is the rule table of
 * vmm-lite/tools/sandbox_compile.c, compiled into BPF at build time: here the
 * programs are only installed, which takes microseconds.
 * The default action is SECCOMP_RET_TRAP: the SIGSYS handler writes one line
 * naming the thread and the call and ends the process with VMM_EXIT_SANDBOX
 * (69), before the call has had any effect. `--no-seccomp` turns it off for
 * debugging (strace, gdb).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm-lite/sandbox.h"
#include "vmm-lite/sandbox_bpf.h"
#include "vmm-lite/vmm.h"

static const char *const role_names[SANDBOX_NROLES] = {
    [SANDBOX_MAIN] = "main",
    [SANDBOX_VCPU] = "vCPU",
    [SANDBOX_IO] = "I/O",
};

static bool sandbox_on;
static __thread char thread_name[32];

const char *sandbox_role_name(enum sandbox_role role)
{
	return (unsigned)role < SANDBOX_NROLES ? role_names[role] : "?";
}

bool sandbox_enabled(void)
{
	return sandbox_on;
}

/* async-signal-safe formatting for the SIGSYS handler */
static size_t put_str(char *buf, size_t pos, size_t cap, const char *s)
{
	while (s && *s && pos + 1 < cap)
		buf[pos++] = *s++;
	return pos;
}

static size_t put_uint(char *buf, size_t pos, size_t cap, unsigned long v)
{
	char tmp[24];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < sizeof(tmp));
	while (n && pos + 1 < cap)
		buf[pos++] = tmp[--n];
	return pos;
}

static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	char msg[320];
	size_t n = 0, cap = sizeof(msg);
	int nr = si->si_syscall;

	(void)sig, (void)uctx;
	n = put_str(msg, n, cap, "vmm-lite: seccomp: thread '");
	n = put_str(msg, n, cap, thread_name[0] ? thread_name : "?");
	n = put_str(msg, n, cap, "' made system call ");
	n = put_str(msg, n, cap,
		    nr >= 0 && nr < SANDBOX_NAMES_MAX && sandbox_syscall_names[nr]
			? sandbox_syscall_names[nr]
			: "?");
	n = put_str(msg, n, cap, " (");
	n = put_uint(msg, n, cap, (unsigned long)(unsigned)nr);
	n = put_str(msg, n, cap,
		    "), which its allow-list forbids: run ended before the call took effect "
		    "(exit 69; --no-seccomp to debug)\n");
	if (write(STDERR_FILENO, msg, n) < 0)
		msg[0] = 0;
	/* the raw call: a sanitizer's _exit interceptor would make more calls */
	syscall(SYS_exit_group, VMM_EXIT_SANDBOX);
}

int sandbox_init(bool enabled, char *err, size_t errlen)
{
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};

	sandbox_on = enabled;
	if (!enabled)
		return 0;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL)) {
		snprintf(err, errlen, "seccomp: sigaction(SIGSYS): %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int sandbox_enter(enum sandbox_role role, const char *name, char *err, size_t errlen)
{
	struct sock_fprog prog;

	if (!sandbox_on)
		return 0;
	if ((unsigned)role >= SANDBOX_NROLES) {
		snprintf(err, errlen, "seccomp: unknown thread role %d", (int)role);
		return -EINVAL;
	}
	snprintf(thread_name, sizeof(thread_name), "%s", name ? name : role_names[role]);
	prog = (struct sock_fprog){.len = sandbox_bpf[role].len,
				   .filter = (struct sock_filter *)sandbox_bpf[role].filter};
	/* what libseccomp's seccomp_load() does with its defaults: no_new_privs,
	 * then the filter on this thread only (no TSYNC) */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
		int e = errno;

		snprintf(err, errlen, "seccomp: cannot install the %s thread's filter: %s",
			 thread_name, strerror(e));
		return -e;
	}
	return 0;
}

/* ---- the test-only escape device (--test-escape FILE) ---- */

static const char *escape_path;

static void escape_write(struct bus_dev *d, uint64_t off, const uint8_t *data, uint32_t len)
{
	int fd;
	ssize_t w;

	(void)d, (void)off, (void)data, (void)len;
	/* the "bug": a guest write makes the VMM create a host file */
	fd = open(escape_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	w = write(fd, "escaped\n", 8);
	(void)w;
	close(fd);
}

static const struct bus_dev_ops escape_ops = {.name = "test-escape", .write = escape_write};

int sandbox_escape_device(struct vm *vm, const char *path)
{
	static struct bus_dev dev;

	escape_path = path;
	dev = (struct bus_dev){.ops = &escape_ops, .base = SANDBOX_ESCAPE_PORT, .len = 1};
	return bus_register(&vm->pio, &dev);
}
