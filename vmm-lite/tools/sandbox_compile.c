/*
 * Build-time compiler of vmm-lite's seccomp policy (run by vmm-lite/build.mk):
 * the rule table below is the whole policy; libseccomp turns each thread
 * role's rules into a classic BPF program, and this program prints them, with
 * the system call names the SIGSYS message uses, as C source that is compiled
 * into vmm-lite ($(BUILD)/gen/vmm-lite/sandbox_bpf.c, vmm-lite/sandbox_bpf.h).
 *
 * Why at build time, as Firecracker's seccompiler does: compiling the filters
 * and resolving ~500 names at run time cost ~0.6 ms of CPU on every start,
 * a third of the whole start-up of a VM on this host (docs/VMM-LITE.md
 * "Start-up"). The programs are the same libseccomp would load at run time
 * on this architecture; vmm-lite only installs them (sandbox.c).
 *
 * Policy (why each thread may do what, from the design of sandbox.c): the
 * guest is untrusted and every device handler is code it drives; a vCPU
 * thread runs KVM_RUN and the device handlers (disk pread/pwrite/preadv/
 * pwritev, tap read/writev, balloon madvise, irq injection); an I/O thread
 * polls its eventfd and tap and serves queues; the main thread waits, reads
 * stats and, after the guest stopped, writes --stats-json. No thread may
 * exec, fork, open a socket, ptrace, map executable memory or issue an ioctl
 * that is not on its list. The default action is SECCOMP_RET_TRAP.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm-lite/sandbox_bpf.h"

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

static const char *const role_ids[SANDBOX_NROLES] = {
    [SANDBOX_MAIN] = "SANDBOX_MAIN",
    [SANDBOX_VCPU] = "SANDBOX_VCPU",
    [SANDBOX_IO] = "SANDBOX_IO",
};

/* one role's program as a C array named <role>_bpf; 0 or a negative errno */
static int print_role(enum sandbox_role role, unsigned *len)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	struct sock_filter insn;
	int r = ctx ? 0 : -ENOMEM, fd = -1;
	FILE *f = NULL;

	for (size_t i = 0; !r && i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].roles & (1u << role))
			r = add_rule(ctx, &rules[i]);
	if (!r && ((fd = memfd_create("sandbox-bpf", 0)) < 0 || !(f = fdopen(fd, "r"))))
		r = -errno;
	if (!r)
		r = seccomp_export_bpf(ctx, fd);
	if (ctx)
		seccomp_release(ctx);
	if (r) {
		if (f)
			fclose(f);
		else if (fd >= 0)
			close(fd);
		return r;
	}
	rewind(f);
	printf("static const struct sock_filter role%d_bpf[] = {\n", (int)role);
	for (*len = 0; fread(&insn, sizeof(insn), 1, f) == 1; ++*len)
		printf("\t{0x%04x, %u, %u, 0x%08x},\n", insn.code, insn.jt, insn.jf, insn.k);
	printf("};\n\n");
	fclose(f);
	return *len ? 0 : -EIO;
}

int main(void)
{
	unsigned len[SANDBOX_NROLES];
	int r;

	printf("/* Generated by vmm-lite/tools/sandbox_compile.c (libseccomp %u.%u.%u) at build "
	       "time: do not edit. */\n#include \"vmm-lite/sandbox_bpf.h\"\n\n",
	       SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
	for (int role = 0; role < SANDBOX_NROLES; role++)
		if ((r = print_role((enum sandbox_role)role, &len[role]))) {
			fprintf(stderr, "sandbox_compile: role %s: %s\n", role_ids[role],
				strerror(-r));
			return 1;
		}
	printf("const struct sandbox_bpf sandbox_bpf[SANDBOX_NROLES] = {\n");
	for (int role = 0; role < SANDBOX_NROLES; role++)
		printf("\t[%s] = {role%d_bpf, %u},\n", role_ids[role], role, len[role]);
	printf("};\n\nconst char *const sandbox_syscall_names[SANDBOX_NAMES_MAX] = {\n");
	for (int nr = 0; nr < SANDBOX_NAMES_MAX; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (name)
			printf("\t[%d] = \"%s\",\n", nr, name);
		free(name);
	}
	printf("};\n");
	return fflush(stdout) ? 1 : 0;
}
