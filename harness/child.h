/*
 * One measured child process: spawn, --control-fd handshake, collectors,
 * protocol parsing, watchdog, reap.
 *
 * Why: bare-metal runs (`virttax baseline`) and VM runs (`vmm-lite`) differ
 * only in their command line and in how their exit status is read. Sharing
 * everything else guarantees both sides are observed identically.
 */
#ifndef VIRTTAX_HARNESS_CHILD_H
#define VIRTTAX_HARNESS_CHILD_H

#include <stdbool.h>

#include "collectors/collector.h"
#include "harness/vmm.h"

#define CHILD_KILL_GRACE_S 5 /* past the child's own watchdog */
#define CHILD_MAX_TIDS 64
#define CHILD_STOP_POLL_MS 100 /* how often the loop looks at core/proc.h's stop flag */

struct child {
	int ctl_parent, ctl_child; /* socketpair: parent end, child end (--control-fd) */
	/* collector target description (filled by the caller before child_run) */
	enum collector_target_kind kind;
	const char *vmm_stats_json;
	const char *vmm_name;
	/* optional driver hooks (QEMU has no --control-fd: it drives the same
	 * life cycle over QMP). on_spawn runs right after fork, on_done once when
	 * the protocol's done record arrived; both may kill c->pid on failure. */
	int (*on_spawn)(struct child *c, struct run_result *res);
	void (*on_done)(struct child *c, struct run_result *res);
	void (*on_hello)(struct child *c, struct run_result *res); /* once, at the hello record */
	void *drv;		  /* the driver's private state for the hooks */
	uint64_t footprint_bytes; /* nonzero: measure the footprint at "stopped" (guest RAM size) */
	bool no_collectors;	  /* run_spec.no_collectors: attach nothing to the child */
	const char *cgroup_procs; /* non-NULL: the child writes its pid here before exec
				     (harness/memcg.c); it exits 126 when it cannot */
	/* what happened */
	bool timed_out;
	bool stopped_by_request; /* killed because the harness was asked to stop */
	bool got_ready, got_stopped;
	int stopped_status;
	char harness_error[160]; /* a harness-side problem (collectors, control fd) */
	/* private */
	pid_t pid;
	pid_t tids[CHILD_MAX_TIDS];
	size_t ntids;
	struct collector_target target;
	struct collector_set cset;
	bool cset_open;
	char ctl_buf[1024];
	size_t ctl_len;
	bool done_fired;
	struct run_result *res;
	uint64_t t0;
};

/* Creates the control socketpair; ctl_child is the number to pass as --control-fd. */
int child_init(struct child *c, enum collector_target_kind kind);
/* Runs argv[0] (a path) to completion; fills res (wall_ns, exit_code,
 * term_signal, proto, collectors, stderr_tail). Returns 0 or -errno when the
 * child could not be started. Always closes the control socketpair. */
int child_run(struct child *c, char *const argv[], unsigned timeout_s, struct run_result *res);

/* For on_spawn hooks: the workload threads are known; opens and starts the
 * collectors exactly like a "ready" control event (without the release byte). */
void child_ready(struct child *c, const pid_t *tids, size_t ntids);
/* For on_done hooks: the guest stopped, threads alive; stops the collectors
 * and, when footprint_bytes is set, measures the footprint into res. */
void child_stopped(struct child *c, int status);

/* Shared verdict from the protocol alone (done status, error records,
 * protocol errors, missing results). Returns true and fills status/reason
 * when the protocol says the run failed. */
bool child_protocol_verdict(struct run_result *res);

/* An ok run whose hello contradicts what was asked (wrong side, other page
 * size) measured something else: mark it failed. pagesize NULL = not checked. */
void child_check_hello(struct run_result *res, const char *side, const char *pagesize);

/* "workload=NAME k=v ..." of a run spec, the start of every VMM's guest
 * command line; returns the length written (truncated at len). */
size_t child_workload_cmdline(const struct run_spec *spec, char *buf, size_t len);

/* The probe steps every VM driver shares: the guest agent at `agent` is
 * readable and /dev/kvm opens. 0, or -errno with the reason and fix in why. */
int child_probe_agent_kvm(const char *agent, char *why, size_t len);

#endif
