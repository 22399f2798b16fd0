/*
 * Unit tests of vmm-lite's seccomp allow-lists (vmm-lite/sandbox.c).
 *
 * Each sandbox case forks a child that installs one role's filter and then
 * makes one system call: a forbidden call must end the child with exit 69 and
 * the one-line message, before it had any effect (the file is not created);
 * the calls the role needs must still work. With --no-seccomp the same call
 * succeeds, so the checks can fail.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmm-lite/sandbox.h"
#include "vmm-lite/virtio.h"
#include "vmm-lite/vmm.h"

enum probe {
	P_CREATE_FILE, /* openat(O_CREAT) */
	P_SOCKET,
	P_EXECVE,
	P_FORK,
	P_MMAP_EXEC,
	P_MADV_HUGEPAGE,
	P_IOCTL_CREATE_VM,
	P_ALLOWED_VCPU, /* what a vCPU thread does on its data path */
	P_ALLOWED_IO,	/* what an I/O thread does */
	P_ALLOWED_MAIN, /* what the main thread does after the guest stopped */
};

static char path[64];

static int do_probe(enum probe p)
{
	switch (p) {
	case P_CREATE_FILE:
		return open(path, O_WRONLY | O_CREAT, 0600) >= 0 ? 0 : 3;
	case P_SOCKET:
		return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 3;
	case P_EXECVE:
		execl("/bin/true", "true", (char *)NULL);
		return 3;
	case P_FORK: {
		pid_t c = fork();
		if (c == 0)
			_exit(0);
		return c > 0 ? 0 : 3;
	}
	case P_MMAP_EXEC:
		return mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			    0) != MAP_FAILED
			   ? 0
			   : 3;
	case P_MADV_HUGEPAGE: {
		void *m = malloc(1 << 21);
		return madvise((void *)(((uintptr_t)m + 4095) & ~4095UL), 4096, MADV_HUGEPAGE) ? 3
											       : 0;
	}
	case P_IOCTL_CREATE_VM:
		return ioctl(0, KVM_CREATE_VM, 0) ? 0 : 0; /* any result: the call was made */
	default:
		return 3;
	}
}

/* the data paths: file, pipe, anonymous memory, locks, clocks */
static int allowed_ops(enum probe p, int fd)
{
	struct iovec iov = {.iov_base = (char[512]){0}, .iov_len = 512};
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	struct timespec ts;
	uint8_t *big = malloc(8 << 20); /* mmap'd by malloc */
	uint8_t *page;

	if (!big || pread(fd, iov.iov_base, 512, 0) != 512)
		return 10;
	page = (uint8_t *)(((uintptr_t)big + 4095) & ~4095UL);
	page[0] = 1;
	if (madvise(page, 4096, MADV_DONTNEED) || page[0] != 0)
		return 11;
	free(big);
	pthread_mutex_lock(&mu);
	pthread_mutex_unlock(&mu);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (write(STDERR_FILENO, "", 0) < 0)
		return 12;
	if (p != P_ALLOWED_MAIN &&
	    (preadv(fd, &iov, 1, 512) != 512 || pwritev(fd, &iov, 1, 1024) != 512 ||
	     fdatasync(fd) || writev(fd, &iov, 1) != 512))
		return 13;
	if (p == P_ALLOWED_MAIN) {
		FILE *f = fopen("/proc/self/status", "r");
		if (!f || fclose(f))
			return 14;
	}
	return 0;
}

struct outcome {
	int status; /* exit status, 128+signal */
	char err[512];
};

static struct outcome run(enum sandbox_role role, enum probe p, bool enabled)
{
	struct outcome o = {0};
	char tmpl[] = "/tmp/vtx-sandbox-err-XXXXXX", dtmpl[] = "/tmp/vtx-sandbox-disk-XXXXXX";
	int efd = mkstemp(tmpl), dfd = mkstemp(dtmpl), ws;
	char buf[4096] = {0};
	pid_t pid;

	cr_assert_geq(efd, 0);
	cr_assert_geq(dfd, 0);
	cr_assert_eq(write(dfd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	unlink(tmpl);
	unlink(dtmpl);
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char err[256];
		char name[32];

		dup2(efd, STDERR_FILENO);
		snprintf(name, sizeof(name), "test-%s", sandbox_role_name(role));
		if (sandbox_init(enabled, err, sizeof(err)) ||
		    sandbox_enter(role, name, err, sizeof(err))) {
			fprintf(stderr, "setup: %s\n", err);
			_exit(99);
		}
		_exit(p >= P_ALLOWED_VCPU ? allowed_ops(p, dfd) : do_probe(p));
	}
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	o.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	cr_assert_geq(pread(efd, o.err, sizeof(o.err) - 1, 0), 0);
	close(efd);
	close(dfd);
	return o;
}

static void setup(void)
{
	snprintf(path, sizeof(path), "/tmp/vtx-sandbox-escape-%d", (int)getpid());
	unlink(path);
}

static void teardown(void)
{
	unlink(path);
}

TestSuite(vmm_sandbox, .init = setup, .fini = teardown, .timeout = 30);

static void expect_forbidden(enum sandbox_role role, enum probe p, const char *call)
{
	struct outcome o = run(role, p, true);
	char want[96];

	cr_assert_eq(o.status, VMM_EXIT_SANDBOX, "%s thread: %s allowed (status %d): %s",
		     sandbox_role_name(role), call, o.status, o.err);
	snprintf(want, sizeof(want), "vmm-lite: seccomp: thread 'test-%s' made system call %s (",
		 sandbox_role_name(role), call);
	cr_assert(strstr(o.err, want), "want '%s' in: %s", want, o.err);
	cr_assert(strstr(o.err, "exit 69; --no-seccomp to debug)\n"), "%s", o.err);
	cr_assert_eq(strchr(o.err, '\n') - o.err + 1, (long)strlen(o.err), "one line: %s", o.err);
}

Test(vmm_sandbox, guest_facing_threads_cannot_create_files)
{
	struct stat st;

	expect_forbidden(SANDBOX_VCPU, P_CREATE_FILE, "openat");
	expect_forbidden(SANDBOX_IO, P_CREATE_FILE, "openat");
	cr_assert_neq(stat(path, &st), 0, "the forbidden openat took effect");
	/* the same call without the sandbox works: the check above can fail */
	cr_assert_eq(run(SANDBOX_VCPU, P_CREATE_FILE, false).status, 0);
	cr_assert_eq(stat(path, &st), 0);
}

Test(vmm_sandbox, no_thread_may_exec_fork_or_open_sockets)
{
	for (int role = 0; role < SANDBOX_NROLES; role++) {
		expect_forbidden((enum sandbox_role)role, P_SOCKET, "socket");
		expect_forbidden((enum sandbox_role)role, P_EXECVE, "execve");
		expect_forbidden((enum sandbox_role)role, P_FORK, "clone");
	}
	cr_assert_eq(run(SANDBOX_IO, P_SOCKET, false).status, 0);
}

Test(vmm_sandbox, arguments_are_checked)
{
	for (int role = 0; role < SANDBOX_NROLES; role++) {
		expect_forbidden((enum sandbox_role)role, P_MMAP_EXEC, "mmap");
		expect_forbidden((enum sandbox_role)role, P_MADV_HUGEPAGE, "madvise");
		expect_forbidden((enum sandbox_role)role, P_IOCTL_CREATE_VM, "ioctl");
	}
	cr_assert_eq(run(SANDBOX_VCPU, P_MMAP_EXEC, false).status, 0);
}

Test(vmm_sandbox, legitimate_paths_still_work)
{
	struct outcome o;

#ifdef __SANITIZE_ADDRESS__
	cr_skip_test("the ASan runtime makes system calls vmm-lite does not (madvise advice, "
		     "leak checks): checked by the plain unit-test build");
#endif
	o = run(SANDBOX_VCPU, P_ALLOWED_VCPU, true);
	cr_assert_eq(o.status, 0, "vCPU: %d %s", o.status, o.err);
	o = run(SANDBOX_IO, P_ALLOWED_IO, true);
	cr_assert_eq(o.status, 0, "I/O: %d %s", o.status, o.err);
	o = run(SANDBOX_MAIN, P_ALLOWED_MAIN, true);
	cr_assert_eq(o.status, 0, "main: %d %s", o.status, o.err);
}
