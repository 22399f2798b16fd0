/*
 * A seccomp allow-list per thread (libseccomp), as Firecracker does.
 *
 * Why: the guest is untrusted and every device handler is code it drives. If
 * one of them has a bug, what a guest can make vmm-lite do is bounded by the
 * system calls its thread may still make. Each thread installs its own filter
 * once its set-up is done (files, KVM objects, eventfds and threads all exist
 * by then), so the lists are short: a vCPU thread runs KVM_RUN and the device
 * handlers (disk pread/pwrite/preadv/pwritev, tap read/writev, balloon
 * madvise, irq injection); an I/O thread polls its eventfd and tap and serves
 * queues; the main thread waits, reads stats and, after the guest stopped,
 * writes --stats-json. No thread may exec, fork, open a socket, ptrace, map
 * executable memory or issue an ioctl that is not on its list.
 * The default action is SECCOMP_RET_TRAP: the SIGSYS handler writes one line
 * naming the thread and the call and ends the process with VMM_EXIT_SANDBOX
 * (69), before the call has had any effect. `--no-seccomp` turns it off for
 * debugging (strace, gdb). The rule table below is the whole policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm-lite/sandbox.h"
#include "vmm-lite/vmm.h"

#define M_MAIN (1u << SANDBOX_MAIN)
#define M_VCPU (1u << SANDBOX_VCPU)
#define M_IO (1u << SANDBOX_IO)
#define M_ALL (M_MAIN | M_VCPU | M_IO)

enum arg_check {
	ANY,	  /* any arguments */
	IOCTL_IS, /* ioctl request (arg 1, low 32 bits) == value */
	NO_EXEC,  /* mmap/mprotect: PROT_EXEC (arg 2) clear */
	ARG2_IS,  /* arg 2 == value (madvise advice) */
};

struct rule {
	int nr;
	unsigned roles;
	enum arg_check check;
	unsigned long value;
	const char *why;
};

/* clang-format off */
static const struct rule rules[] = {
	/* every thread: memory (malloc arenas, thread stacks), locks, time, exit */
	{SCMP_SYS(read), M_ALL, ANY, 0, "control fd, tap rx, eventfds, /proc"},
	{SCMP_SYS(write), M_ALL, ANY, 0, "serial out, stderr, control fd, tap tx, irqfd"},
	{SCMP_SYS(futex), M_ALL, ANY, 0, "mutexes, condition variables, join"},
	{SCMP_SYS(clock_gettime), M_ALL, ANY, 0, "timestamps (vDSO fallback)"},
	{SCMP_SYS(clock_nanosleep), M_ALL, ANY, 0, "sleeps"},
	{SCMP_SYS(nanosleep), M_ALL, ANY, 0, "sleeps"},
	{SCMP_SYS(sched_yield), M_ALL, ANY, 0, "spin back-off"},
	{SCMP_SYS(gettid), M_ALL, ANY, 0, "thread ids"},
	{SCMP_SYS(getpid), M_ALL, ANY, 0, "pthread_kill"},
	{SCMP_SYS(tgkill), M_ALL, ANY, 0, "vCPU kicks (SIGUSR1)"},
	{SCMP_SYS(rt_sigreturn), M_ALL, ANY, 0, "return from the kick handler"},
	{SCMP_SYS(rt_sigprocmask), M_ALL, ANY, 0, "glibc thread exit"},
	{SCMP_SYS(restart_syscall), M_ALL, ANY, 0, "interrupted sleeps"},
	{SCMP_SYS(brk), M_ALL, ANY, 0, "malloc"},
	{SCMP_SYS(mmap), M_ALL, NO_EXEC, 0, "malloc (never executable)"},
	{SCMP_SYS(mprotect), M_ALL, NO_EXEC, 0, "malloc arenas (never executable)"},
	{SCMP_SYS(munmap), M_ALL, ANY, 0, "free"},
	{SCMP_SYS(madvise), M_ALL, ARG2_IS, MADV_DONTNEED, "balloon pages, freed stacks"},
	{SCMP_SYS(rseq), M_ALL, ANY, 0, "glibc thread exit"},
	{SCMP_SYS(exit), M_ALL, ANY, 0, "thread exit"},
	{SCMP_SYS(exit_group), M_ALL, ANY, 0, "process exit"},
	/* device data paths (vCPU thread under virtio-user/emulated, I/O thread otherwise) */
	{SCMP_SYS(pread64), M_ALL, ANY, 0, "ATA-PIO reads, KVM binary stats"},
	{SCMP_SYS(pwrite64), M_VCPU | M_IO, ANY, 0, "ATA-PIO writes"},
	{SCMP_SYS(preadv), M_VCPU | M_IO, ANY, 0, "virtio-blk reads"},
	{SCMP_SYS(pwritev), M_VCPU | M_IO, ANY, 0, "virtio-blk writes"},
	{SCMP_SYS(fdatasync), M_VCPU | M_IO, ANY, 0, "flush requests"},
	{SCMP_SYS(writev), M_VCPU | M_IO, ANY, 0, "virtio-net tx"},
	{SCMP_SYS(mincore), M_VCPU, ANY, 0, "balloon: was the page resident"},
	{SCMP_SYS(getrusage), M_VCPU, ANY, 0, "timed-region markers: context switches"},
	{SCMP_SYS(poll), M_IO, ANY, 0, "I/O thread waits on its eventfd and tap"},
	{SCMP_SYS(ppoll), M_IO, ANY, 0, "I/O thread waits on its eventfd and tap"},
	/* ioctls, one request at a time */
	{SCMP_SYS(ioctl), M_VCPU, IOCTL_IS, KVM_RUN, "run the vCPU"},
	{SCMP_SYS(ioctl), M_VCPU, IOCTL_IS, KVM_GET_REGS, "crash reports, idle probe"},
	{SCMP_SYS(ioctl), M_VCPU, IOCTL_IS, KVM_GET_MP_STATE, "idle probe"},
	{SCMP_SYS(ioctl), M_VCPU, IOCTL_IS, KVM_GET_MSRS, "idle probe: PVM VIF page"},
	{SCMP_SYS(ioctl), M_VCPU | M_IO, IOCTL_IS, KVM_IRQ_LINE, "virtio interrupts"},
	/* main thread only: once the guest stopped, the results go to files */
	{SCMP_SYS(openat), M_MAIN, ANY, 0, "--stats-json, /proc/self/task/TID/{schedstat,status}"},
	{SCMP_SYS(close), M_MAIN, ANY, 0, "teardown"},
	{SCMP_SYS(fstat), M_MAIN, ANY, 0, "stdio"},
	{SCMP_SYS(newfstatat), M_MAIN, ANY, 0, "stdio"},
	{SCMP_SYS(lseek), M_MAIN, ANY, 0, "stdio"},
	{SCMP_SYS(rename), M_MAIN, ANY, 0, "--stats-json: temp file renamed into place"},
	{SCMP_SYS(unlink), M_MAIN, ANY, 0, "--stats-json: temp file removed on error"},
};
/* clang-format on */

static const char *const role_names[SANDBOX_NROLES] = {
    [SANDBOX_MAIN] = "main",
    [SANDBOX_VCPU] = "vCPU",
    [SANDBOX_IO] = "I/O",
};

static bool sandbox_on;
#define NAMES_MAX 512
static char *syscall_names[NAMES_MAX]; /* resolved before any filter: the handler only reads */
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
		    nr >= 0 && nr < NAMES_MAX && syscall_names[nr] ? syscall_names[nr] : "?");
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
	for (int nr = 0; nr < NAMES_MAX; nr++)
		if (!syscall_names[nr])
			syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL)) {
		snprintf(err, errlen, "seccomp: sigaction(SIGSYS): %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct rule *r)
{
	switch (r->check) {
	case IOCTL_IS:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, r->value));
	case NO_EXEC:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case ARG2_IS:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_A2(SCMP_CMP_EQ, r->value));
	default:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 0);
	}
}

int sandbox_enter(enum sandbox_role role, const char *name, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int r = 0;

	if (!sandbox_on)
		return 0;
	if ((unsigned)role >= SANDBOX_NROLES) {
		snprintf(err, errlen, "seccomp: unknown thread role %d", (int)role);
		return -EINVAL;
	}
	snprintf(thread_name, sizeof(thread_name), "%s", name ? name : role_names[role]);
	if (!(ctx = seccomp_init(SCMP_ACT_TRAP))) {
		snprintf(err, errlen, "seccomp: cannot create the %s thread's filter", name);
		return -ENOMEM;
	}
	for (size_t i = 0; !r && i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].roles & (1u << role))
			r = add_rule(ctx, &rules[i]);
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r)
		snprintf(err, errlen, "seccomp: cannot install the %s thread's filter: %s",
			 thread_name, strerror(-r));
	return r;
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
