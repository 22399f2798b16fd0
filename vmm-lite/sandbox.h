/*
 * vmm-lite's seccomp sandbox (sandbox.c) and its test-only escape device.
 *
 * Why a header of its own: the filter is installed by three kinds of thread
 * (main, vCPU, device I/O) in three files that other work also edits; they
 * only need sandbox_enter(). docs/VMM-LITE.md ("Sandbox") lists the rules.
 */
#ifndef VMM_LITE_SANDBOX_H
#define VMM_LITE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

enum sandbox_role {
	SANDBOX_MAIN, /* control fd, watchdog, stats: after the vCPU threads exist */
	SANDBOX_VCPU, /* KVM_RUN and every device handled on an exit */
	SANDBOX_IO,   /* virtio backend threads (virtio-eventfd, poll, tap rx) */
	SANDBOX_NROLES,
};

/* Process-wide set-up, once, before any thread enters the sandbox: the
 * SIGSYS handler that names a forbidden call and ends the run (exit
 * VMM_EXIT_SANDBOX). enabled=false (--no-seccomp): sandbox_enter does nothing. */
int sandbox_init(bool enabled, char *err, size_t errlen);
bool sandbox_enabled(void);
/* Install the allow-list of `role` on the calling thread only (no TSYNC);
 * `name` ("vcpu0", "virtio-blk io") is what the SIGSYS message calls it.
 * 0, or a negative errno with the reason in err. */
int sandbox_enter(enum sandbox_role role, const char *name, char *err, size_t errlen);
const char *sandbox_role_name(enum sandbox_role role);

/* --test-escape FILE (hidden test knob, docs/VMM-LITE.md): a port-I/O device
 * at SANDBOX_ESCAPE_PORT whose write handler creates FILE, i.e. a device bug
 * that hands the guest a host file-creation primitive. With the sandbox on,
 * the vCPU thread's openat is outside its allow-list and the run ends. */
#define SANDBOX_ESCAPE_PORT 0x5e0
struct vm;
int sandbox_escape_device(struct vm *vm, const char *path);

#endif
