/*
 * blk-seq, blk-rand: block I/O through the VM's disk (wl_blk.h).
 *
 * Why: the I/O technique table (docs/IO.md) compares throughput, IOPS and
 * latency of one fixed request stream across techniques. The stream is
 * closed-loop: qd requests of bs bytes stay in flight (a completed one is
 * replaced at once) for ms milliseconds, sequential or uniformly random over
 * the first `span` bytes. Latency is submit-to-reap per request. The hosted
 * build has no disk (the bare-metal baseline is fio, run by the harness), so
 * there run() says so and fails.
 */
#include "virttax/wl_blk.h"
#include "virttax/workload.h"
#include "workloads/wl_util.h"

#define EINVAL_ 22
#define ENODEV_ 19
#define EIO_ 5
#define MAX_QD 32
#define MAX_SAMPLES 262144

__attribute__((weak)) struct wl_blk *wl_blk_get(void)
{
	return 0;
}

static const struct wl_param blk_params[] = {
    {"rw", "read", "read or write"},
    {"bs", "4096", "request size in bytes, 4K..1M, a multiple of 512"},
    {"qd", "1", "requests in flight, 1..32"},
    {"ms", "2000", "measured duration in milliseconds"},
    {"span", "0", "bytes of the disk to use (0: all of it)"},
    {0, 0, 0},
};

struct blk_run {
	struct wl_env *env;
	struct wl_blk *b;
	bool write, rnd;
	uint64_t bs, qd, span, nblocks, next_seq, rng;
	uint64_t *lat; /* ticks, one per completed request */
	uint64_t nlat, errors;
	uint64_t t_sub[MAX_QD];
	uint8_t *buf[MAX_QD];
};

static void sift(uint64_t *a, uint64_t n, uint64_t i)
{
	for (;;) {
		uint64_t m = i, l = 2 * i + 1, r = l + 1;
		if (l < n && a[l] > a[m])
			m = l;
		if (r < n && a[r] > a[m])
			m = r;
		if (m == i)
			return;
		uint64_t t = a[i];
		a[i] = a[m];
		a[m] = t;
		i = m;
	}
}

static void heapsort_u64(uint64_t *a, uint64_t n)
{
	for (uint64_t i = n / 2; i-- > 0;)
		sift(a, n, i);
	for (uint64_t k = n; k-- > 1;) {
		uint64_t t = a[0];
		a[0] = a[k];
		a[k] = t;
		sift(a, k, 0);
	}
}

static uint64_t next_off(struct blk_run *r)
{
	uint64_t blk = r->rnd ? wl_xorshift64(&r->rng) % r->nblocks : r->next_seq++ % r->nblocks;
	return blk * r->bs;
}

static int submit(struct blk_run *r, uint32_t tag)
{
	r->t_sub[tag] = wl_rdtsc();
	return r->b->submit(r->b, tag, r->write, next_off(r), r->buf[tag], (uint32_t)r->bs);
}

static int params(struct blk_run *r, struct wl_env *env)
{
	const char *rw = env->param(env, "rw");
	int rc;
	if ((rc = wl_param_u64(env, "bs", &r->bs)) || (rc = wl_param_u64(env, "qd", &r->qd)) ||
	    (rc = wl_param_u64(env, "span", &r->span)))
		return rc;
	if (!rw || (!wl_streq(rw, "read") && !wl_streq(rw, "write"))) {
		env->log(env, "rw must be read or write");
		return -EINVAL_;
	}
	r->write = wl_streq(rw, "write");
	if (r->bs < 4096 || r->bs > (1u << 20) || r->bs % 512 || r->qd < 1 || r->qd > MAX_QD) {
		env->log(env, "bs must be 4096..1048576 (multiple of 512), qd 1..32");
		return -EINVAL_;
	}
	return 0;
}

static int setup(struct blk_run *r, struct wl_env *env)
{
	r->b = wl_blk_get();
	if (!r->b) {
		env->log(env, "no disk: blk-* run in a VM with a --blk disk; the bare-metal "
			      "baseline is fio (virttax run --io-technique)");
		return -ENODEV_;
	}
	if (r->bs > r->b->max_bytes)
		return -EINVAL_;
	if (r->qd > r->b->max_inflight)
		r->qd = r->b->max_inflight;
	uint64_t span = r->span && r->span < r->b->capacity ? r->span : r->b->capacity;
	r->nblocks = span / r->bs;
	if (!r->nblocks)
		return -EINVAL_;
	for (uint64_t i = 0; i < r->qd; i++)
		if (!(r->buf[i] = env->alloc(env, r->bs, 4096)))
			return -12;
	r->lat = env->alloc(env, MAX_SAMPLES * sizeof(uint64_t), 4096);
	return r->lat ? 0 : -12;
}

/* closed loop for `ticks`: keep qd in flight, then drain */
static int loop(struct blk_run *r, uint64_t ticks, uint64_t *t_end)
{
	uint64_t t0 = wl_rdtsc(), inflight = 0;
	bool stop = false;
	int rc;
	for (uint32_t t = 0; t < r->qd; t++, inflight++)
		if ((rc = submit(r, t)))
			return rc;
	while (inflight) {
		uint32_t tag;
		int st;
		if (!r->b->reap(r->b, &tag, &st)) {
			__asm__ volatile("pause");
			continue;
		}
		uint64_t now = wl_rdtsc();
		inflight--;
		if (st || tag >= r->qd)
			r->errors++;
		else if (r->nlat < MAX_SAMPLES)
			r->lat[r->nlat++] = now - r->t_sub[tag];
		stop = stop || now - t0 >= ticks || r->nlat >= MAX_SAMPLES;
		if (!stop && tag < r->qd) {
			if ((rc = submit(r, tag)))
				return rc;
			inflight++;
		}
	}
	*t_end = wl_rdtsc() - t0;
	return 0;
}

static void report(struct blk_run *r, struct wl_env *env, uint64_t ticks)
{
	double secs = wl_ticks_to_ns(env, ticks) / 1e9;
	heapsort_u64(r->lat, r->nlat);
	double p50 = wl_ticks_to_ns(env, r->lat[r->nlat / 2]) / 1e3;
	double p99 = wl_ticks_to_ns(env, r->lat[(r->nlat * 99) / 100]) / 1e3;
	env->emit(env, "throughput", "MB/s", false, (double)(r->nlat * r->bs) / secs / 1e6, 0, 0,
		  0);
	env->emit(env, "iops", "IO/s", false, (double)r->nlat / secs, 0, 0, 0);
	env->emit(env, "lat_p50", "us", true, p50, 0, 0, 0);
	env->emit(env, "lat_p99", "us", true, p99, 0, 0, 0);
	env->emit(env, "requests", "count", false, (double)r->nlat, 0, 0, 0);
}

static int blk_run_common(struct wl_env *env, bool rnd)
{
	static struct blk_run r;
	uint64_t ms, ticks;
	int rc;
	r = (struct blk_run){.env = env, .rnd = rnd, .rng = 0x9e3779b97f4a7c15ull};
	if ((rc = params(&r, env)) || (rc = wl_param_u64(env, "ms", &ms)) || (rc = setup(&r, env)))
		return rc;
	wl_region_begin(env, "run");
	rc = loop(&r, ms * (env->tsc_hz / 1000), &ticks);
	wl_region_end(env, "run");
	if (rc)
		return rc;
	if (r.errors || !r.nlat) {
		env->log(env, "disk requests failed");
		return -EIO_;
	}
	report(&r, env, ticks);
	return 0;
}

static int blk_seq_run(struct wl_env *env)
{
	return blk_run_common(env, false);
}

static int blk_rand_run(struct wl_env *env)
{
	return blk_run_common(env, true);
}

const struct workload_ops wl_blk_seq = {
    .name = "blk-seq",
    .help = "sequential disk I/O through the VM's disk (VM only; host baseline: fio)",
    .params = blk_params,
    .quick_params = "ms=500",
    .run = blk_seq_run,
    .needs = WL_NEEDS_DISK,
};

const struct workload_ops wl_blk_rand = {
    .name = "blk-rand",
    .help = "random disk I/O through the VM's disk (VM only; host baseline: fio)",
    .params = blk_params,
    .quick_params = "ms=500",
    .run = blk_rand_run,
    .needs = WL_NEEDS_DISK,
};
