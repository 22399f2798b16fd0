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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm-lite/sandbox.h"
#include "vmm-lite/vmm.h"

#define MAX_KERNEL_BYTES (256u << 20)

/*
 * Maps the kernel image read-only: the loader copies its PT_LOAD segments into
 * guest RAM once, so reading the whole file (debug sections included) into a
 * heap buffer only added a copy and ~120 page faults (0.5 ms here) to the
 * start-up (docs/VMM-LITE.md "Start-up"). *len == 0 maps nothing.
 */
static int map_file(const char *path, const uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *p = NULL;

	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > MAX_KERNEL_BYTES) {
		snprintf(err, errlen, "--kernel %s: %s", path,
			 fd < 0 ? strerror(errno) : "not a regular file of at most 256 MiB");
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	*len = (size_t)st.st_size;
	if (*len)
		p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "--kernel %s: cannot map it: %s", path, strerror(errno));
		return -EIO;
	}
	*buf = *len ? p : (const uint8_t *)"";
	return 0;
}

/* Unmaps the image once it is in guest RAM: a VMM's footprint is what it
 * keeps per VM (docs/QEMU.md, `virttax footprint`). */
/* large (~760 KiB, mostly per-vCPU exit tables): static, so its zero pages
 * stay untouched until used; vm_create() relies on that */
static struct vm vm;

static int boot(const struct vmm_options *o, const uint8_t *elf, size_t len)
{
	char err[512] = "";
	int r, status;

	r = vm_create(&vm, o, elf, len, err, sizeof(err));
	if (len)
		munmap((void *)elf, len);
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
	const uint8_t *elf = NULL;
	size_t len = 0;
	int r;

	vm_startup_mark(&vm, SU_MAIN);
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
	vm_startup_mark(&vm, SU_OPTIONS);
	if (map_file(o.kernel, &elf, &len, err, sizeof(err))) {
		fprintf(stderr, "vmm-lite: %s\n", err);
		return VMM_EXIT_USAGE;
	}
	vm_startup_mark(&vm, SU_IMAGE);
	r = boot(&o, elf, len);
	return r;
}
