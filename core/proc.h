/*
 * Process helpers: where our own binaries are, and the one spawner.
 *
 * Why in core/: the VMM drivers, the bare-metal runner, the environment probe
 * and the I/O fixtures all start programs. A child that must join a memory
 * cgroup before exec, keep a control socket open, or have its stdout read
 * while its stderr is drained, is started the same way everywhere, by
 * proc_spawn(); proc_run() is the run-to-completion form for tools (fio,
 * ip, iperf3). Measured children are observed by harness/child.c on top.
 */
#ifndef VIRTTAX_CORE_PROC_H
#define VIRTTAX_CORE_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Set (to the signal number) by the harness's SIGINT/SIGTERM handler: every
 * loop that waits for a child kills it and returns, nothing new starts. */
extern volatile sig_atomic_t proc_stop_signal;

/* Directory of /proc/self/exe. 0 or -errno. */
int proc_self_dir(char *buf, size_t len);
/* `name` next to this binary, or one level up (the test binaries live in
 * BUILD/tests/); 0 when readable there, -ENOENT (out = the first candidate). */
int proc_find_sibling(const char *name, char *out, size_t len);
/* A file we ship: $env when set (not checked), else proc_find_sibling(file)'s
 * path whether it exists or not (the caller probes it and names the fix).
 * 0 or -errno (-ENAMETOOLONG, /proc/self/exe unreadable). */
int proc_locate(const char *env, const char *file, char *out, size_t len);

/* "fnv1a64:0123456789abcdef", the FNV-1a hash of the file's bytes: which build
 * of a binary ran (not a security check). 0 or -errno. */
int proc_file_id(const char *path, char *out, size_t len);

struct proc_io {
	int out_fd;		  /* the child's stdout; -1: /dev/null */
	int err_fd;		  /* the child's stderr; -1: /dev/null */
	int keep_fd;		  /* stays open across exec (FD_CLOEXEC cleared); -1: none */
	const char *cgroup_procs; /* non-NULL: the child writes its pid here before exec
				     and exits 126 when it cannot */
	bool search_path;	  /* argv[0] is looked up in PATH */
};
/* fork + exec with stdin from /dev/null. 0 and *pid, or -errno when it could
 * not fork. When exec fails the child exits 127 with the reason on stderr. */
int proc_spawn(char *const argv[], const struct proc_io *io, pid_t *pid);

/* Runs argv to completion. stdout into *out (malloc'd, NUL-terminated) when
 * out != NULL, else discarded; when it exits non-zero, "argv0 argv1: first
 * stderr line" into err. Returns the exit status (0..255, 128 + signal when
 * killed), or -errno when it could not start (err says why). */
int proc_run(char *const argv[], bool search_path, char **out, char *err, size_t errlen);

#endif
