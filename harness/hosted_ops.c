/*
 * The host side of the platform primitives (include/virttax/wl_ops.h) for
 * `virttax baseline`: the isolation-boundary ladder on the host (getpid,
 * futex ping-pong between two threads, pipe ping-pong between two processes)
 * and the host baselines of the mediation workloads (ctx-switch = the pipe
 * round trip between processes, pt-churn = mmap + touch + munmap).
 *
 * Why: the same calib/sys-call/ctx-switch/pt-churn workload code runs on both
 * sides; only these primitives differ. VM-exit kinds do not exist on the host
 * and say so. Helpers (a thread, a child process) start on first use, on the
 * CPU the runner is pinned to, and stop in hosted_ops_release().
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/hosted.h"
#include "virttax/wl_ops.h"
#include "virttax/workload.h"

static struct {
	pthread_t thr;
	bool thr_on;
	_Atomic uint32_t ftx; /* odd: the helper's turn, even: ours */
	_Atomic bool stop;
	pid_t child;
	int to_child, from_child;
} h = {.child = -1, .to_child = -1, .from_child = -1};

static long futex(_Atomic uint32_t *a, int op, uint32_t v)
{
	return syscall(SYS_futex, (uint32_t *)a, op, v, NULL, NULL, 0);
}

/* Wait until *a != v. */
static void futex_wait_change(_Atomic uint32_t *a, uint32_t v)
{
	while (atomic_load(a) == v)
		futex(a, FUTEX_WAIT_PRIVATE, v);
}

static void *helper_thread(void *arg)
{
	(void)arg;
	uint32_t seen = 0;
	while (!atomic_load(&h.stop)) {
		futex_wait_change(&h.ftx, seen);
		seen = atomic_load(&h.ftx);
		if (!(seen & 1))
			continue;
		seen = atomic_fetch_add(&h.ftx, 1) + 1;
		futex(&h.ftx, FUTEX_WAKE_PRIVATE, 1);
	}
	return NULL;
}

static int start_thread(void)
{
	if (h.thr_on)
		return 0;
	int rc = pthread_create(&h.thr, NULL, helper_thread, NULL);
	if (rc)
		return -rc;
	h.thr_on = true;
	return 0;
}

static int start_child(void)
{
	int a[2], b[2];
	if (h.child > 0)
		return 0;
	if (pipe2(a, O_CLOEXEC) || pipe2(b, O_CLOEXEC))
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) { /* echo one byte back until EOF */
		char c;
		close(a[1]);
		close(b[0]);
		while (read(a[0], &c, 1) == 1 && write(b[1], &c, 1) == 1)
			;
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	h.child = pid;
	h.to_child = a[1];
	h.from_child = b[0];
	return 0;
}

static int host_probe(struct wl_env *env, unsigned op, char *why, size_t len)
{
	int rc = 0;
	const char *how = NULL;
	switch (op) {
	case WL_OP_SYSCALL:
		how = "syscall(SYS_getpid)";
		break;
	case WL_OP_THREAD_WAKE:
		rc = start_thread();
		how = "futex ping-pong between two threads on the runner's CPU set (one op = "
		      "wake the other and be woken back)";
		break;
	case WL_OP_PROCESS_RT:
	case WL_OP_CTX_SWITCH:
		rc = start_child();
		how = "1-byte pipe ping-pong between two processes (one op = there and back)";
		break;
	case WL_OP_PT_CHURN:
		how = "mmap 4 KiB, write it, munmap";
		break;
	case WL_OP_HOST_IRQ: {
		uint64_t sum;
		if (wl_host_irq_gaps(env->tsc_hz, 1,
				     wl_rdtsc() + WL_HOST_IRQ_PROBE_MS * (env->tsc_hz / 1000),
				     &sum)) {
			snprintf(why, len,
				 "no interrupt landed on this CPU within 100 ms (tickless CPU?)");
			return -ENOTSUP;
		}
		how = "TSC gaps of 0.5-500 us in a tight lfence;rdtsc loop: a host interrupt "
		      "(timer tick) taking the CPU away from the process and back";
		break;
	}
	default:
		snprintf(why, len, "not a VM: this kind is a VM exit, the host runs it natively");
		return -ENOTSUP;
	}
	if (rc)
		snprintf(why, len, "cannot start the helper: %s", strerror(-rc));
	else
		snprintf(why, len, "%s", how);
	return rc;
}

static int pipe_rt(uint64_t n)
{
	char c = 'x';
	for (uint64_t i = 0; i < n; i++)
		if (write(h.to_child, &c, 1) != 1 || read(h.from_child, &c, 1) != 1)
			return -EIO;
	return 0;
}

static int churn(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		volatile char *p =
		    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		p[0] = 1;
		munmap((void *)p, 4096);
	}
	return 0;
}

static void thread_rt(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint32_t v = atomic_fetch_add(&h.ftx, 1) + 1; /* odd: helper's turn */
		futex(&h.ftx, FUTEX_WAKE_PRIVATE, 1);
		futex_wait_change(&h.ftx, v);
	}
}

static int host_op(struct wl_env *env, unsigned op, uint64_t n, uint64_t *ticks)
{
	int rc = 0;
	uint64_t t0 = wl_rdtsc();
	switch (op) {
	case WL_OP_HOST_IRQ: /* ticks: the sum of the n gaps, not the loop */
		return wl_host_irq_gaps(env->tsc_hz, n, WL_HOST_IRQ_DEADLINE(t0, n, env->tsc_hz),
					ticks);
	case WL_OP_SYSCALL:
		for (uint64_t i = 0; i < n; i++)
			syscall(SYS_getpid);
		break;
	case WL_OP_THREAD_WAKE:
		if (!h.thr_on)
			return -EINVAL;
		thread_rt(n);
		break;
	case WL_OP_PROCESS_RT:
	case WL_OP_CTX_SWITCH:
		rc = h.child > 0 ? pipe_rt(n) : -EINVAL;
		break;
	case WL_OP_PT_CHURN:
		rc = churn(n);
		break;
	default:
		return -ENOTSUP;
	}
	*ticks = wl_rdtsc() - t0;
	return rc;
}

void hosted_ops_install(struct wl_env *env)
{
	env->op_probe = host_probe;
	env->op = host_op;
}

void hosted_ops_release(void)
{
	if (h.thr_on) {
		atomic_store(&h.stop, true);
		atomic_fetch_add(&h.ftx, 2);
		futex(&h.ftx, FUTEX_WAKE_PRIVATE, 1);
		pthread_join(h.thr, NULL);
		h.thr_on = false;
	}
	if (h.child > 0) {
		close(h.to_child);
		close(h.from_child);
		waitpid(h.child, NULL, 0);
		h.child = -1;
	}
}

/* {"t":"calib",...}: the same record the agent writes (guest-agent/calib_report.c) */
int hosted_proto_calib(FILE *out, const struct wl_calib *c)
{
	json_t *rec = json_pack("{s:s, s:s, s:b}", "t", "calib", "kind", c->kind, "ok", !c->reason);
	if (!rec)
		return -ENOMEM;
	if (c->reason) {
		json_object_set_new(rec, "reason", json_string(c->reason));
		return hosted_proto_write(out, rec);
	}
	json_t *ticks = json_array();
	for (uint32_t i = 0; i < c->nrounds && i < WL_CALIB_MAX_ROUNDS; i++)
		json_array_append_new(ticks, json_integer((json_int_t)c->ticks[i]));
	if (c->how)
		json_object_set_new(rec, "how", json_string(c->how));
	json_object_set_new(rec, "iters", json_integer((json_int_t)c->iters));
	json_object_set_new(rec, "ticks", ticks);
	if (c->spacing) {
		json_t *base = json_array();
		for (uint32_t i = 0; i < c->nrounds && i < WL_CALIB_MAX_ROUNDS; i++)
			json_array_append_new(base, json_integer((json_int_t)c->base_ticks[i]));
		json_object_set_new(rec, "spacing", json_true());
		json_object_set_new(rec, "gap_units", json_integer((json_int_t)c->gap_units));
		json_object_set_new(rec, "base_ticks", base);
	}
	return hosted_proto_write(out, rec);
}
