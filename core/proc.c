/*
 * Locating our binaries and spawning children (see proc.h for why).
 *
 * Between fork and exec only async-signal-safe calls are made: the harness
 * has threads (the network reflector) while it starts children.
 */
#include "core/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

volatile sig_atomic_t proc_stop_signal;

int proc_self_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= len - 1)
		return -ENAMETOOLONG;
	buf[n] = 0;
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = 0;
	return 0;
}

int proc_find_sibling(const char *name, char *out, size_t len)
{
	char dir[PATH_MAX], up[PATH_MAX + 8];
	int rc = proc_self_dir(dir, sizeof(dir));
	if (rc)
		return rc;
	if ((size_t)snprintf(up, sizeof(up), "%s/../%s", dir, name) >= sizeof(up) ||
	    (size_t)snprintf(out, len, "%s/%s", dir, name) >= len)
		return -ENAMETOOLONG;
	if (access(out, R_OK) == 0)
		return 0;
	if (access(up, R_OK) || (size_t)snprintf(out, len, "%s", up) >= len) {
		snprintf(out, len, "%s/%s", dir, name); /* the first candidate */
		return -ENOENT;
	}
	return 0;
}

int proc_locate(const char *env, const char *file, char *out, size_t len)
{
	const char *over = env ? getenv(env) : NULL;
	if (over && *over)
		return (size_t)snprintf(out, len, "%s", over) >= len ? -ENAMETOOLONG : 0;
	int rc = proc_find_sibling(file, out, len);
	return rc == -ENOENT ? 0 : rc;
}

/* In the forked child: join a cgroup before exec, so that everything the
 * child allocates is charged to it. Async-signal-safe calls only. */
static int join_cgroup(const char *procs)
{
	char buf[24];
	size_t n = sizeof(buf);
	for (unsigned long v = (unsigned long)getpid(); n == sizeof(buf) || v; v /= 10)
		buf[--n] = (char)('0' + v % 10);
	int fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, buf + n, sizeof(buf) - n);
	close(fd);
	return w == (ssize_t)(sizeof(buf) - n) ? 0 : -1;
}

static void redirect(int fd, int target, int flags)
{
	if (fd < 0)
		fd = open("/dev/null", flags);
	if (fd >= 0 && fd != target)
		dup2(fd, target);
}

static _Noreturn void exec_child(char *const argv[], const struct proc_io *io)
{
	redirect(-1, STDIN_FILENO, O_RDONLY);
	redirect(io->out_fd, STDOUT_FILENO, O_WRONLY);
	redirect(io->err_fd, STDERR_FILENO, O_WRONLY);
	if (io->keep_fd >= 0) {
		int fl = fcntl(io->keep_fd, F_GETFD);
		if (fl >= 0)
			fcntl(io->keep_fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	if (io->cgroup_procs && join_cgroup(io->cgroup_procs)) {
		dprintf(STDERR_FILENO, "cannot join cgroup %s: %s\n", io->cgroup_procs,
			strerror(errno));
		_exit(126);
	}
	if (io->search_path)
		execvp(argv[0], argv);
	else
		execv(argv[0], argv);
	dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int proc_spawn(char *const argv[], const struct proc_io *io, pid_t *pid)
{
	*pid = fork();
	if (*pid < 0)
		return -errno;
	if (*pid == 0)
		exec_child(argv, io);
	return 0;
}

struct capture {
	char *buf;
	size_t len, cap;
};

/* 1 at EOF or error, 0 otherwise; keeps at most cap-1 bytes (cap 0: grows) */
static int drain(int fd, struct capture *c, bool grow)
{
	char tmp[8192];
	ssize_t n = read(fd, tmp, sizeof(tmp));
	if (n < 0)
		return errno != EINTR && errno != EAGAIN;
	if (n == 0)
		return 1;
	if (grow && c->buf && c->len + (size_t)n + 1 > c->cap) {
		size_t cap = c->cap;
		while (c->len + (size_t)n + 1 > cap)
			cap *= 2;
		char *p = realloc(c->buf, cap);
		if (!p) {
			free(c->buf);
			c->buf = NULL;
		} else {
			c->buf = p;
			c->cap = cap;
		}
	}
	if (!c->buf)
		return 0;
	size_t room = c->cap - 1 - c->len, k = (size_t)n < room ? (size_t)n : room;
	memcpy(c->buf + c->len, tmp, k);
	c->len += k;
	c->buf[c->len] = 0;
	return 0;
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

int proc_run(char *const argv[], bool search_path, char **out, char *err, size_t errlen)
{
	int po[2] = {-1, -1}, pe[2] = {-1, -1};
	char ebuf[512] = "";
	struct capture co = {.cap = 1 << 16}, ce = {.buf = ebuf, .cap = sizeof(ebuf)};
	pid_t pid;
	if (out)
		*out = NULL;
	if (pipe2(pe, O_CLOEXEC) || (out && pipe2(po, O_CLOEXEC))) {
		int rc = -errno;
		close_pair(pe);
		snprintf(err, errlen, "%s: pipe: %s", argv[0], strerror(-rc));
		return rc;
	}
	struct proc_io io = {
	    .out_fd = po[1], .err_fd = pe[1], .keep_fd = -1, .search_path = search_path};
	int rc = proc_spawn(argv, &io, &pid);
	close(pe[1]);
	if (out)
		close(po[1]);
	if (rc) {
		close(pe[0]);
		if (out)
			close(po[0]);
		snprintf(err, errlen, "%s: %s", argv[0], strerror(-rc));
		return rc;
	}
	if (out && !(co.buf = malloc(co.cap)))
		co.cap = 0;
	if (co.buf)
		co.buf[0] = 0;
	bool out_eof = !out, err_eof = false;
	while (!out_eof || !err_eof) {
		struct pollfd pf[2] = {{.fd = out_eof ? -1 : po[0], .events = POLLIN},
				       {.fd = err_eof ? -1 : pe[0], .events = POLLIN}};
		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			out_eof = drain(po[0], &co, true);
		if (pf[1].revents)
			err_eof = drain(pe[0], &ce, false);
	}
	close(pe[0]);
	if (out)
		close(po[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (out)
		*out = co.buf;
	if (rc && err && errlen) {
		ebuf[strcspn(ebuf, "\n")] = 0;
		snprintf(err, errlen, "%s %s: %s", argv[0], argv[1] ? argv[1] : "",
			 ebuf[0] ? ebuf : "failed");
	}
	return rc;
}

int proc_file_id(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "rbe");
	if (!f)
		return -errno;
	uint64_t h = 0xcbf29ce484222325ull;
	unsigned char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		for (size_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ull;
	int rc = ferror(f) ? -EIO : 0;
	fclose(f);
	if (!rc)
		snprintf(out, len, "fnv1a64:%016llx", (unsigned long long)h);
	return rc;
}
