/*
 * Atomic report files (see outfile.h).
 */
#include "reports/outfile.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

int outfile_write(const char *path, outfile_fn fn, void *arg)
{
	if (!path || !strcmp(path, "-")) {
		int rc = fn(stdout, arg);
		return rc ? rc : (fflush(stdout) ? -errno : 0);
	}
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	int rc = fn(f, arg);
	if (!rc && (fflush(f) || fsync(fileno(f))))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}
