/*
 * vmm-lite: a minimal KVM VMM that boots one PVH ELF and measures the run.
 *
 * Why: the virttax suite needs a VMM whose every exit and every line of
 * userspace handling is accounted for, to decompose virtualization overhead;
 * QEMU is the full-featured peer. This file is only the CLI: parse options,
 * read the ELF, create and run the VM, write --stats-json, map the outcome to
 * the exit codes documented in --help and docs/INTERFACES.md section 4.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm-lite/sandbox.h"
#include "vmm-lite/vmm.h"

#define MAX_KERNEL_BYTES (256u << 20)

static int read_file(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > MAX_KERNEL_BYTES) {
		snprintf(err, errlen, "--kernel %s: %s", path,
			 fd < 0 ? strerror(errno) : "not a regular file of at most 256 MiB");
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	*buf = malloc((size_t)st.st_size + 1);
	while (*buf && got < (size_t)st.st_size) {
		ssize_t r = read(fd, *buf + got, (size_t)st.st_size - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!*buf || got != (size_t)st.st_size) {
		snprintf(err, errlen, "--kernel %s: read failed", path);
		free(*buf);
		return -EIO;
	}
	*len = got;
	return 0;
}

/* Frees *elf once the image is in guest RAM: a VMM's footprint is what it
 * keeps per VM (docs/QEMU.md, `virttax footprint`). */
static int boot(const struct vmm_options *o, uint8_t **elf, size_t len)
{
	/* large (~760 KiB, mostly per-vCPU exit tables): static, so its zero
	 * pages stay untouched until used; vm_create() relies on that */
	static struct vm vm;
	char err[512] = "";
	int r, status;

	r = vm_create(&vm, o, *elf, len, err, sizeof(err));
	free(*elf);
	*elf = NULL;
	if (r) {
		fprintf(stderr, "vmm-lite: %s\n", err);
		vm_destroy(&vm);
		return (r == -ENOEXEC || r == -E2BIG) ? VMM_EXIT_USAGE : VMM_EXIT_HOST;
	}
	if (vm_run(&vm, err, sizeof(err)))
		fprintf(stderr, "vmm-lite: %s\n", err);
	else if (vm.stop != STOP_GUEST_EXIT && vm.stop != STOP_SHUTDOWN)
		fprintf(stderr, "vmm-lite: %s: %s\n", stop_kind_name(vm.stop), vm.reason);
	status = vm.exit_status;
	if (o->stats_json) {
		json_t *j = vm_stats_to_json(&vm);

		r = write_json_atomic(o->stats_json, j);
		json_decref(j);
		if (r) {
			fprintf(stderr, "vmm-lite: --stats-json %s: cannot write: %s\n",
				o->stats_json, strerror(-r));
			if (status == VMM_EXIT_CLEAN || (status & 1))
				status = VMM_EXIT_HOST;
		}
	}
	vm_destroy(&vm);
	return status;
}

int main(int argc, char **argv)
{
	struct vmm_options o;
	char err[512];
	uint8_t *elf = NULL;
	size_t len = 0;
	int r;

	r = vmm_parse_options(argc, argv, &o, err, sizeof(err));
	if (r == 1) {
		vmm_print_help(stdout);
		return 0;
	}
	if (r) {
		fprintf(stderr, "vmm-lite: %s\n", err);
		return VMM_EXIT_USAGE;
	}
	if (o.control_fd >= 0 && fcntl(o.control_fd, F_GETFD) < 0) {
		fprintf(stderr, "vmm-lite: --control-fd %d is not an open file descriptor\n",
			o.control_fd);
		return VMM_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN); /* a closed stdout or control fd must not kill the run */
	if (sandbox_init(!o.no_seccomp, err, sizeof(err))) {
		fprintf(stderr, "vmm-lite: %s\n", err);
		return VMM_EXIT_HOST;
	}
	if (read_file(o.kernel, &elf, &len, err, sizeof(err))) {
		fprintf(stderr, "vmm-lite: %s\n", err);
		return VMM_EXIT_USAGE;
	}
	r = boot(&o, &elf, len);
	free(elf);
	return r;
}
