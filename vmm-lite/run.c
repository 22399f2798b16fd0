/*
 * One run of the VM: start the vCPU threads, handshake, watchdog, stop, park.
 *
 * Why a file of its own: the order of events here is a contract with the
 * harness (docs/INTERFACES.md section 4): threads exist -> "ready" -> wait ->
 * KVM stats "before" -> KVM_RUN ... guest stops -> KVM stats "after" and the
 * emulation verdict -> "stopped" -> wait -> thread stats (still parked) ->
 * join.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm-lite/sandbox.h"
#include "vmm-lite/vmm.h"

static void kick_handler(int sig)
{
	(void)sig; /* only there to interrupt KVM_RUN */
}

static int install_kick_handler(void)
{
	struct sigaction sa = {.sa_handler = kick_handler}; /* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR1, &sa, NULL) ? -errno : 0;
}

/*
 * The vCPU threads start before the KVM set-up (vcpu_thread() waits for
 * vm->created), each created on its --pin CPU: creating and scheduling a
 * thread and installing its seccomp filter then overlap with the set-up,
 * most of which waits in the kernel, instead of following it (on this host,
 * loaded, a thread started after the set-up took 0.15-4 ms to report back).
 * The CPU is set in the thread's attributes, so glibc applies it before the
 * thread first runs: pinning a thread that already runs waits until the
 * migration is done (docs/VMM-LITE.md "Start-up and exit cost").
 */
int vm_start_threads(struct vm *vm, char *err, size_t errlen)
{
	const struct vmm_options *o = vm->opt;
	int r = install_kick_handler();

	if (r) {
		snprintf(err, errlen, "sigaction(SIGUSR1): %s", strerror(-r));
		return r;
	}
	for (uint32_t i = 0; i < o->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int cpu = o->npin ? o->pin[i % o->npin] : -1;
		pthread_attr_t attr;
		cpu_set_t set;

		v->vm = vm;
		v->index = i;
		pthread_attr_init(&attr);
		CPU_ZERO(&set);
		if (cpu >= 0) {
			CPU_SET(cpu, &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
		r = pthread_create(&v->thread, &attr, vcpu_thread, v);
		pthread_attr_destroy(&attr);
		if (r && cpu >= 0) {
			snprintf(err, errlen, "cannot pin vCPU %u to CPU %d: %s (check --pin)", i,
				 cpu, strerror(r));
			return -r;
		}
		if (r) {
			snprintf(err, errlen, "cannot create vCPU thread %u: %s", i, strerror(r));
			return -r;
		}
		v->thread_started = true;
	}
	return 0;
}

/* every vCPU thread reported its tid and entered its sandbox (or the run stops) */
static void wait_threads_ready(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	while (vm->nready < vm->nvcpus && !vm->stopping)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
}

static int send_ready(struct vm *vm)
{
	char line[64 + VMM_MAX_VCPUS * 12];
	int n = snprintf(line, sizeof(line), "{\"event\":\"ready\",\"pid\":%d,\"vcpu_tids\":[",
			 (int)getpid());

	for (uint32_t i = 0; i < vm->nvcpus; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%d", i ? "," : "",
			      (int)vm->vcpus[i].tid);
	snprintf(line + n, sizeof(line) - (size_t)n, "]}\n");
	return control_send(vm->opt->control_fd, line);
}

static void snapshot_kvm_stats(struct vm *vm, bool after)
{
	if (vm->vm_kstats.fd >= 0 && kvm_stats_snapshot(&vm->vm_kstats, after))
		fprintf(stderr, "vmm-lite: warning: cannot read the VM's KVM stats\n");
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		struct kvm_stats_snap *s = &vm->vcpus[i].kstats;

		if (s->fd >= 0 && kvm_stats_snapshot(s, after))
			fprintf(stderr, "vmm-lite: warning: cannot read vCPU %u KVM stats\n", i);
	}
}

static void timed_wait(struct vm *vm, uint64_t until_ns)
{
	struct timespec ts = {.tv_sec = (time_t)(until_ns / 1000000000ULL),
			      .tv_nsec = (long)(until_ns % 1000000000ULL)};

	pthread_cond_timedwait(&vm->cond, &vm->lock, &ts); /* CLOCK_MONOTONIC, see vm_create */
}

/* true if no vCPU had a single VM exit since the previous poll: a running
 * vCPU exits at least on every host timer tick. */
static bool vcpus_quiet(struct vm *vm)
{
	bool quiet = true;

	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		struct kvm_stats_snap s = {.fd = v->kstats.fd};
		const struct kvm_stat *st;

		if (s.fd < 0 || kvm_stats_snapshot(&s, false) ||
		    !(st = kvm_stats_find(&s, "exits"))) {
			free(s.stats);
			return false;
		}
		if (!v->have_last_exits || st->before != v->last_exits)
			quiet = false;
		v->last_exits = st->before;
		v->have_last_exits = true;
		free(s.stats);
	}
	return quiet;
}

/* Called with vm->lock held. Kick every vCPU out of KVM_RUN and ask it for its
 * MP state; if all are halted with IF=0 (or wait for SIPI) the guest is done. */
static void probe_idle(struct vm *vm)
{
	uint64_t until = now_ns() + IDLE_POLL_NS / 2;
	uint32_t answered = 0, idle = 0;

	for (uint32_t i = 0; i < vm->nvcpus; i++)
		vm->vcpus[i].probe_state = 1;
	pthread_mutex_unlock(&vm->lock);
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&vm->lock);
	while (!vm->stopping && now_ns() < until) {
		answered = idle = 0;
		for (uint32_t i = 0; i < vm->nvcpus; i++) {
			answered += vm->vcpus[i].probe_state == 2;
			idle += vm->vcpus[i].probe_state == 2 && vm->vcpus[i].probe_idle;
		}
		if (answered == vm->nvcpus)
			break;
		timed_wait(vm, until);
	}
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		vm->vcpus[i].probe_state = 0;
	if (answered == vm->nvcpus && idle == vm->nvcpus && !vm->stopping) {
		pthread_mutex_unlock(&vm->lock);
		vm_request_stop(vm, STOP_SHUTDOWN, VMM_EXIT_CLEAN, 0,
				"guest halted with interrupts off (all vCPUs idle)");
		pthread_mutex_lock(&vm->lock);
	}
}

/* Wait until every vCPU thread left its run loop. Every IDLE_POLL_NS look for
 * a guest that halted for good; at the deadline the watchdog fires once. */
static void wait_parked(struct vm *vm)
{
	uint64_t deadline =
	    vm->opt->timeout_s ? vm->t_start_ns + vm->opt->timeout_s * 1000000000ULL : UINT64_MAX;

	pthread_mutex_lock(&vm->lock);
	while (vm->nparked < vm->nvcpus) {
		uint64_t now = now_ns(), next = now + IDLE_POLL_NS;

		if (vm->stop != STOP_NONE) {
			pthread_cond_wait(&vm->cond, &vm->lock);
			continue;
		}
		if (now >= deadline) {
			char reason[96];

			snprintf(reason, sizeof(reason), "watchdog: guest still running after %u s",
				 vm->opt->timeout_s);
			pthread_mutex_unlock(&vm->lock);
			vm_request_stop(vm, STOP_TIMEOUT, VMM_EXIT_TIMEOUT, 0, reason);
			pthread_mutex_lock(&vm->lock);
			continue;
		}
		timed_wait(vm, next < deadline ? next : deadline);
		if (vm->stop == STOP_NONE && now_ns() >= next && now_ns() < deadline) {
			bool quiet;

			pthread_mutex_unlock(&vm->lock);
			quiet = vcpus_quiet(vm);
			pthread_mutex_lock(&vm->lock);
			if (quiet && vm->stop == STOP_NONE)
				probe_idle(vm);
		}
	}
	pthread_mutex_unlock(&vm->lock);
}

static uint64_t io_exit_count(struct vm *vm)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		const struct exit_stats *s = &vm->vcpus[i].exits;

		for (uint32_t k = 0; k < s->n; k++)
			if (strncmp(s->b[k].key, "io:", 3) == 0 || strcmp(s->b[k].key, "mmio") == 0)
				n += s->b[k].count;
	}
	return n;
}

/* A run that ended normally but was emulated is invalid (exit 68). */
static void emulation_verdict(struct vm *vm)
{
	vm->insn_emulation_delta = 0;
	vm->insn_emulation_known = false;
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		const struct kvm_stat *st = kvm_stats_find(&vm->vcpus[i].kstats, "insn_emulation");

		if (st) {
			vm->insn_emulation_known = true;
			vm->insn_emulation_delta += st->after - st->before;
		}
	}
	if (!vm->insn_emulation_known) { /* stats JSON: native null, verdict unknown */
		vm->native = false;
		snprintf(vm->emu_reason, sizeof(vm->emu_reason),
			 "unknown: no insn_emulation vCPU stat on this host, native execution "
			 "cannot be checked");
		return;
	}
	/* user MSR exits and what the guest declared trapping on purpose
	 * (calibration, docs/CALIBRATION.md) are expected emulations too */
	vm->native = emulation_is_native(
	    vm->insn_emulation_delta, io_exit_count(vm) + vm->calib.declared + vm->calib.msr_exits,
	    vm->emu_reason, sizeof(vm->emu_reason));
	if (!vm->native && (vm->stop == STOP_GUEST_EXIT || vm->stop == STOP_SHUTDOWN)) {
		vm->stop = STOP_INVALID;
		vm->exit_status = VMM_EXIT_INVALID;
		snprintf(vm->reason, sizeof(vm->reason), "%s", vm->emu_reason);
	}
}

void vm_release_threads(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->release = true;
	vm->stopping = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	for (uint32_t i = 0; i < VMM_MAX_VCPUS; i++) {
		if (vm->vcpus[i].thread_started) {
			vcpu_kick(&vm->vcpus[i]);
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].thread_started = false;
		}
	}
}

static void read_thread_stats(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->tstats_ok = thread_stats_read(v->tid, &v->tstats) == 0;
	}
}

static int run_guest(struct vm *vm, char *err, size_t errlen)
{
	char line[96];
	int cfd = vm->opt->control_fd, r;

	if ((r = sandbox_enter(SANDBOX_MAIN, "main", err, errlen)))
		return r;
	if (cfd >= 0 && (r = send_ready(vm)) == 0)
		r = control_wait(cfd);
	if (r) {
		snprintf(err, errlen, "--control-fd %d: %s", cfd, strerror(-r));
		return r;
	}
	vm_startup_mark(vm, SU_READY);
	snapshot_kvm_stats(vm, false);
	if (vm->region && region_start(vm)) /* markers then count as snapshot_failed */
		fprintf(stderr, "vmm-lite: warning: timed-region accounting unavailable\n");
	vm_startup_mark(vm, SU_SNAPSHOT);
	pthread_mutex_lock(&vm->lock);
	vm->t_start_ns = now_ns();
	vm->go = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);

	wait_parked(vm);
	uart_flush(&vm->com1);
	snapshot_kvm_stats(vm, true);
	emulation_verdict(vm);
	if (cfd >= 0) {
		snprintf(line, sizeof(line), "{\"event\":\"stopped\",\"status\":%d}\n",
			 vm->exit_status);
		if (control_send(cfd, line) == 0)
			control_wait(cfd);
	}
	read_thread_stats(vm);
	return 0;
}

/*
 * --inject-steal-pct: a known slowdown for testing the gate (bench/
 * gate-power.py). A POSIX timer on each vCPU thread's CPU-time clock sends
 * the kick signal every VMM_STEAL_PERIOD_NS of that thread's CPU time, which
 * takes the vCPU out of KVM_RUN; the vCPU thread then spins until P% of all
 * the CPU time it used since the timer was armed was spent holding (vcpu.c),
 * so the guest gets at most (100-P)% of its thread's CPU time whatever it
 * runs and whatever else the host runs: a P/(100-P) slowdown (plus the
 * kicks' own exits). The clock is the thread's CPU time, not the wall clock:
 * a hold of P% of every wall-clock period took P% of the wall time, a larger
 * share of the CPU time a loaded host gives the thread (at half a CPU, 5%
 * became an 11% slowdown). Created here because the vCPU threads' ids are
 * known and the main thread is not sandboxed yet; left armed until exit
 * (parked threads just return to their wait).
 */
int vm_steal_start(struct vm *vm, char *err, size_t errlen)
{
	if (!vm->opt->steal_pct)
		return 0;
	struct itimerspec its = {
	    .it_interval = {.tv_nsec = (long)VMM_STEAL_PERIOD_NS},
	    .it_value = {.tv_nsec = (long)VMM_STEAL_PERIOD_NS},
	};
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1};
		struct timespec ts;
		clockid_t clk;
		timer_t t;
		int e = pthread_getcpuclockid(v->thread, &clk);

		sev._sigev_un._tid = v->tid;
		if (!e && (clock_gettime(clk, &ts) || timer_create(clk, &sev, &t) ||
			   timer_settime(t, 0, &its, NULL)))
			e = errno;
		if (e) {
			snprintf(err, errlen, "--inject-steal-pct: CPU-time timer for vCPU %u: %s",
				 i, strerror(e));
			return -e;
		}
		v->steal_cpu0_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	__atomic_store_n(&vm->steal_pct, vm->opt->steal_pct, __ATOMIC_RELEASE);
	return 0;
}

int vm_run(struct vm *vm, char *err, size_t errlen)
{
	int r;

	wait_threads_ready(vm);
	vm_startup_mark(vm, SU_THREADS);
	r = vm_steal_start(vm, err, errlen);
	if (!r)
		r = run_guest(vm, err, errlen);
	if (r)
		vm_request_stop(vm, STOP_HOST_ERROR, VMM_EXIT_HOST, 0, err);
	vm_release_threads(vm);
	return r;
}
