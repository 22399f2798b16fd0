/*
 * sched-spinlock: N CPUs (guest: vCPUs, host: threads) contend one ticket
 * spinlock around a short critical section for `ms` milliseconds.
 *
 * Why: a ticket lock is FIFO, so when the CPU whose turn it is (or the
 * holder) is preempted by the host scheduler, every other waiter spins for
 * the rest of a timeslice: lock-holder (and lock-waiter) preemption. With
 * vCPUs/threads overcommitted on one CPU the worst wait explodes from
 * microseconds to milliseconds and throughput collapses; pinning each to its
 * own CPU removes it. Reported: acquisitions per second and the wait
 * distribution (ticket taken -> lock held).
 */
#include "workloads/wl_sched.h"
#include "workloads/wl_errno.h"

#define MAX_CPUS 8

static const struct wl_param spin_params[] = {
    {"cpus", "2", "contending CPUs (guest vCPUs / host threads), 2..8, at most what exists"},
    {"ms", "500", "run time, ms"},
    {"cs_iters", "100", "dependent multiply-adds inside the critical section"},
    {"samples", "200000", "wait samples kept per CPU (the rest only counted in max)"},
    {"max_ms", "10000", "time bound, ms"},
    {0, 0, 0},
};

struct spin_cpu {
	struct spin_shared *sh;
	uint64_t *waits; /* ticks */
	size_t nwaits, cap;
	uint64_t acq, max_wait, sink;
} __attribute__((aligned(64)));

struct spin_shared {
	struct wl_ticket_lock lock __attribute__((aligned(64)));
	volatile uint64_t counter;
	volatile uint32_t go, stop, ready;
	uint64_t cs_iters;
};

static void spin_loop(void *arg)
{
	struct spin_cpu *c = arg;
	struct spin_shared *sh = c->sh;
	__atomic_fetch_add(&sh->ready, 1, __ATOMIC_ACQ_REL);
	while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
	uint64_t x = c->acq + 1;
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		uint64_t t0 = wl_rdtsc();
		wl_ticket_acquire(&sh->lock);
		uint64_t w = wl_rdtsc() - t0;
		x = wl_spin_work(sh->cs_iters, x + sh->counter);
		sh->counter++;
		wl_ticket_release(&sh->lock);
		c->acq++;
		if (w > c->max_wait)
			c->max_wait = w;
		if (c->nwaits < c->cap)
			c->waits[c->nwaits++] = w;
	}
	c->sink = x;
}

static int spin_params_get(struct wl_env *env, uint64_t *cpus, uint64_t *ms, uint64_t *cs,
			   uint64_t *samples)
{
	uint64_t max_ms;
	int rc;
	if ((rc = wl_param_u64(env, "cpus", cpus)) || (rc = wl_param_u64(env, "ms", ms)) ||
	    (rc = wl_param_u64(env, "cs_iters", cs)) ||
	    (rc = wl_param_u64(env, "samples", samples)) ||
	    (rc = wl_param_u64(env, "max_ms", &max_ms)))
		return rc;
	if (*cpus < 2 || *cpus > MAX_CPUS || !*ms || *samples < 16 || *samples > 10000000 ||
	    *cs > 1000000) {
		env->log(env, "sched-spinlock: cpus must be 2..8, ms > 0, samples 16..1e7, "
			      "cs_iters <= 1e6");
		return -WL_EINVAL;
	}
	if (*ms > max_ms) {
		env->log(env, "sched-spinlock: ms capped at max_ms");
		*ms = max_ms;
	}
	return 0;
}

static int spin_start(struct wl_env *env, struct spin_cpu *c, uint64_t cpus)
{
	unsigned have = env->ncpus ? env->ncpus(env) : 1;
	if (have < cpus) {
		env->log(env, have < 2 ? "sched-spinlock: unavailable: only one CPU can run "
					 "workload code here (give the VM --vcpus 2)"
				       : "sched-spinlock: fewer CPUs online than cpus=");
		return -WL_ENOTSUP;
	}
	for (unsigned i = 1; i < cpus; i++) {
		int rc = env->cpu_run(env, i, spin_loop, &c[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int spin_run(struct wl_env *env)
{
	uint64_t cpus, ms, cs, samples;
	int rc = spin_params_get(env, &cpus, &ms, &cs, &samples);
	if (rc)
		return rc;
	struct spin_shared *sh = env->alloc(env, sizeof(*sh), 64);
	struct spin_cpu *c = env->alloc(env, sizeof(*c) * cpus, 64);
	uint64_t *buf = env->alloc(env, cpus * samples * sizeof(uint64_t), 0);
	if (!sh || !c || !buf) {
		env->log(env, "sched-spinlock: no memory for the wait samples");
		return -WL_ENOMEM;
	}
	*sh = (struct spin_shared){.cs_iters = cs};
	for (unsigned i = 0; i < cpus; i++)
		c[i] = (struct spin_cpu){.sh = sh, .waits = buf + i * samples, .cap = samples};
	if ((rc = spin_start(env, c, cpus)))
		return rc;
	while (__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE) < cpus - 1)
		__asm__ volatile("pause");
	wl_region_begin(env, "run");
	uint64_t t0 = wl_rdtsc(), dur = ms * (env->tsc_hz / 1000);
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	/* CPU 0 contends too and watches the clock */
	sh->ready++;
	struct spin_cpu *me = &c[0];
	uint64_t x = 1;
	while (wl_rdtsc() - t0 < dur) {
		uint64_t a = wl_rdtsc();
		wl_ticket_acquire(&sh->lock);
		uint64_t w = wl_rdtsc() - a;
		x = wl_spin_work(cs, x + sh->counter);
		sh->counter++;
		wl_ticket_release(&sh->lock);
		me->acq++;
		if (w > me->max_wait)
			me->max_wait = w;
		if (me->nwaits < me->cap)
			me->waits[me->nwaits++] = w;
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 1; i < cpus; i++)
		env->cpu_join(env, i);
	uint64_t t1 = wl_rdtsc();
	wl_region_end(env, "run");
	me->sink = x;
	/* gather: compact all samples into buf, converting ticks -> ns */
	uint64_t acq = 0, worst = 0, n = 0;
	for (unsigned i = 0; i < cpus; i++) {
		acq += c[i].acq;
		if (c[i].max_wait > worst)
			worst = c[i].max_wait;
		for (size_t k = 0; k < c[i].nwaits; k++)
			buf[n++] = (uint64_t)wl_ticks_to_ns(env, c[i].waits[k]);
	}
	if (sh->counter != acq) {
		env->log(env, "sched-spinlock: counter != acquisitions: the lock is broken");
		return -WL_EIO;
	}
	double secs = wl_ticks_to_ns(env, t1 - t0) / 1e9;
	struct wl_dist d;
	wl_dist_compute(buf, n, &d);
	env->emit(env, "throughput", "acq/s", false, (double)acq / secs, 0, 0, 0);
	env->emit(env, "worst_wait", "ns", true, wl_ticks_to_ns(env, worst), 0, 0, 0);
	env->emit(env, "acquisitions", "count", false, (double)acq, 0, 0, 0);
	wl_dist_emit(env, "wait", "ns", &d);
	return 0;
}

const struct workload_ops wl_sched_spinlock = {
    .name = "sched-spinlock",
    .help = "N CPUs contend a ticket spinlock: throughput and worst wait (lock-holder "
	    "preemption)",
    .params = spin_params,
    .quick_params = "ms=300",
    .run = spin_run,
    .vcpus = 2,
    .vcpus_param = "cpus",
};
