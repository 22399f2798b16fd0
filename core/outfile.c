/*
 * The one output-file writer (see outfile.h for why).
 */
#include "core/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool outfile_is_stdout(const char *path)
{
	return !path || !strcmp(path, "-");
}

/* fn into an open stream, flushed; fsync where the target supports it */
static int emit(FILE *f, outfile_fn fn, void *arg, bool sync)
{
	int rc = fn(f, arg);
	if (!rc && fflush(f))
		rc = -errno;
	if (!rc && sync && fsync(fileno(f)) && errno != EINVAL && errno != ENOTSUP)
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	return rc;
}

/* Temp file next to `path`, fsync, rename over it. */
static int replace_atomic(const char *path, outfile_fn fn, void *arg)
{
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	int rc = emit(f, fn, arg, true);
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

/* Open what is there (FIFO, device, a symlink's target) and write into it. */
static int write_in_place(const char *path, int flags, outfile_fn fn, void *arg)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0666);
	if (fd < 0)
		return -errno;
	struct stat st;
	bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (regular && ftruncate(fd, 0)) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return emit(f, fn, arg, regular);
}

int outfile_write(const char *path, outfile_fn fn, void *arg)
{
	if (outfile_is_stdout(path)) {
		int rc = fn(stdout, arg);
		return rc ? rc : (fflush(stdout) ? -errno : 0);
	}
	struct stat lst, st;
	if (lstat(path, &lst)) /* nothing there yet: a new regular file */
		return errno == ENOENT ? replace_atomic(path, fn, arg) : -errno;
	if (S_ISREG(lst.st_mode))
		return replace_atomic(path, fn, arg);
	if (S_ISDIR(lst.st_mode))
		return -EISDIR;
	if (!S_ISLNK(lst.st_mode)) /* FIFO, character or block device, socket */
		return write_in_place(path, 0, fn, arg);
	/* a symlink stays: write through it */
	char *real = realpath(path, NULL);
	if (!real) /* dangling: create its target */
		return errno == ENOENT ? write_in_place(path, O_CREAT, fn, arg) : -errno;
	int rc;
	if (stat(real, &st))
		rc = -errno;
	else if (S_ISDIR(st.st_mode))
		rc = -EISDIR;
	else if (S_ISREG(st.st_mode))
		rc = replace_atomic(real, fn, arg);
	else
		rc = write_in_place(real, 0, fn, arg);
	free(real);
	return rc;
}

int outfile_mkdirs(const char *path)
{
	char buf[PATH_MAX];
	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(buf, 0777) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(buf, 0777) && errno != EEXIST ? -errno : 0;
}
