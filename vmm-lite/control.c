/*
 * The --control-fd handshake with the harness (docs/INTERFACES.md section 4).
 *
 * Why: collectors must attach to the vCPU threads before the guest runs and
 * read them after it stops while the threads still exist. vmm-lite announces
 * each point with one JSON line and blocks for one byte; EOF means "go on".
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm-lite/vmm.h"

int control_send(int fd, const char *line)
{
	size_t n = strlen(line);

	while (n) {
		ssize_t w = write(fd, line, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		line += w;
		n -= (size_t)w;
	}
	return 0;
}

int control_wait(int fd)
{
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r >= 0)
			return 0; /* a byte or EOF: go on */
		if (errno != EINTR)
			return -errno;
	}
}
