/*
 * net-rr, net-stream: raw Ethernet exchanges with the harness's reflector
 * (include/virttax/wl_net.h).
 *
 * Why raw frames and a reflector: the I/O technique table wants the cost of
 * moving a frame between the guest and the host, not of a TCP stack, and the
 * same code must run in the VM (virtio-net over a tap) and on bare metal (an
 * AF_PACKET socket on one end of a veth pair), so both sides implement
 * struct wl_net and the workload only sees frames.
 * net-rr: closed loop, one ECHO frame of `size` bytes in flight; each round
 * trip is timed (p50/p99) and transactions/s reported. A frame not answered
 * within 1 s counts as lost. net-stream: SINK frames of `size` bytes as fast
 * as the tx ring takes them for `ms`, bracketed by REPORT frames; the
 * reflector's count of what arrived gives Gbit/s and packets/s (frames lost
 * on the way are not counted as throughput).
 */
#include "virttax/wl_net.h"
#include "virttax/workload.h"
#include "workloads/wl_util.h"

#define EINVAL_ 22
#define ENODEV_ 19
#define EIO_ 5
#define ETIMEDOUT_ 110
#define EAGAIN_ 11
#define MAX_SAMPLES 262144

struct wl_net *wl_net_hosted;

__attribute__((weak)) struct wl_net *wl_net_get(void)
{
	return wl_net_hosted;
}

static const struct wl_param rr_params[] = {
    {"size", "64", "frame size in bytes, Ethernet header included, 64..65535"},
    {"ms", "2000", "measured duration in milliseconds"},
    {"count", "0", "stop after this many transactions (0: run for ms)"},
    {0, 0, 0},
};

static const struct wl_param stream_params[] = {
    {"size", "1514", "frame size in bytes, Ethernet header included, 64..65535"},
    {"ms", "2000", "measured duration in milliseconds"},
    {0, 0, 0},
};

struct net_run {
	struct wl_env *env;
	struct wl_net *n;
	uint64_t size;
	uint8_t *frame;
	uint64_t lost;
};

static void put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* dst broadcast (the reflector answers to our source MAC), src ours */
static void build(struct net_run *r, uint32_t op, uint64_t seq, uint64_t len)
{
	uint8_t *f = r->frame;
	for (int i = 0; i < 6; i++) {
		f[i] = 0xff;
		f[6 + i] = r->n->mac[i];
	}
	put16be(f + 12, VTX_NET_ETHERTYPE);
	put_le(f + 14, VTX_NET_MAGIC, 4);
	put_le(f + 18, op, 4);
	put_le(f + 22, seq, 8);
	for (uint64_t i = 30; i < len; i++)
		f[i] = (uint8_t)i;
}

static int send_frame(struct net_run *r, uint64_t len, uint64_t deadline)
{
	int rc;
	while ((rc = r->n->send(r->n, r->frame, (uint32_t)len)) == -EAGAIN_)
		if (wl_rdtsc() > deadline)
			return -ETIMEDOUT_;
	return rc;
}

/* Wait for the answer (op, seq): 1 got it (REPORT values in frames, bytes), 0 timed out. */
static int wait_reply(struct net_run *r, uint32_t op, uint64_t seq, uint64_t deadline,
		      uint64_t *frames, uint64_t *bytes)
{
	const uint8_t *f;
	uint32_t len;
	for (;;) {
		if (!r->n->recv(r->n, &f, &len)) {
			if (wl_rdtsc() > deadline)
				return 0;
			__asm__ volatile("pause");
			continue;
		}
		bool ok = len >= 46 && f[12] == (VTX_NET_ETHERTYPE >> 8) &&
			  f[13] == (VTX_NET_ETHERTYPE & 0xff) &&
			  get_le(f + 14, 4) == VTX_NET_MAGIC && get_le(f + 18, 4) == op &&
			  get_le(f + 22, 8) == seq;
		if (ok && frames) {
			*frames = get_le(f + 30, 8);
			*bytes = get_le(f + 38, 8);
		}
		r->n->release(r->n);
		if (ok)
			return 1;
	}
}

static void sort_u64(uint64_t *a, uint64_t n) /* shell sort: no recursion, no libc */
{
	for (uint64_t gap = n / 2; gap; gap /= 2)
		for (uint64_t i = gap; i < n; i++)
			for (uint64_t j = i; j >= gap && a[j - gap] > a[j]; j -= gap) {
				uint64_t t = a[j];
				a[j] = a[j - gap];
				a[j - gap] = t;
			}
}

static int setup(struct net_run *r, struct wl_env *env)
{
	int rc;
	if ((rc = wl_param_u64(env, "size", &r->size)))
		return rc;
	r->n = wl_net_get();
	if (!r->n) {
		env->log(env,
			 "no network interface: net-* run in a VM with vmm-lite --net tap=NAME, "
			 "or in the harness's veth baseline (virttax run --io-technique)");
		return -ENODEV_;
	}
	if (r->size < VTX_NET_MIN_FRAME || r->size > VTX_NET_MAX_FRAME ||
	    r->size > r->n->max_frame) {
		env->log(env, "size must be 64..65535 bytes (and fit the interface)");
		return -EINVAL_;
	}
	r->frame = env->alloc(env, VTX_NET_MAX_FRAME, 4096);
	return r->frame ? 0 : -12;
}

static int net_rr_run(struct wl_env *env)
{
	static struct net_run r;
	uint64_t ms, count, n = 0, *lat;
	int rc;
	r = (struct net_run){.env = env};
	if ((rc = wl_param_u64(env, "ms", &ms)) || (rc = wl_param_u64(env, "count", &count)) ||
	    (rc = setup(&r, env)))
		return rc;
	if (!(lat = env->alloc(env, MAX_SAMPLES * sizeof(uint64_t), 4096)))
		return -12;
	wl_region_begin(env, "run"); /* an error return leaves it open: not reported */
	uint64_t sec = env->tsc_hz, t0 = wl_rdtsc(), end = t0 + ms * (env->tsc_hz / 1000);
	for (uint64_t seq = 1; n < MAX_SAMPLES && (count ? n < count : wl_rdtsc() < end); seq++) {
		build(&r, VTX_NET_ECHO, seq, r.size);
		uint64_t ts = wl_rdtsc();
		if ((rc = send_frame(&r, r.size, ts + sec)))
			return rc;
		if (!wait_reply(&r, VTX_NET_ECHO, seq, ts + sec, 0, 0)) {
			if (++r.lost > 3) {
				env->log(env,
					 "no answer from the reflector for 4 frames (is it running "
					 "on the tap?)");
				return -ETIMEDOUT_;
			}
			continue;
		}
		lat[n++] = wl_rdtsc() - ts;
	}
	uint64_t total = wl_rdtsc() - t0;
	wl_region_end(env, "run");
	if (!n)
		return -EIO_;
	sort_u64(lat, n);
	double secs = wl_ticks_to_ns(env, total) / 1e9;
	env->emit(env, "tps", "transactions/s", false, (double)n / secs, 0, 0, 0);
	env->emit(env, "rtt_p50", "us", true, wl_ticks_to_ns(env, lat[n / 2]) / 1e3, 0, 0, 0);
	env->emit(env, "rtt_p99", "us", true, wl_ticks_to_ns(env, lat[(n * 99) / 100]) / 1e3, 0, 0,
		  0);
	env->emit(env, "gbps", "Gbit/s", false, (double)n * 2 * (double)r.size * 8 / secs / 1e9, 0,
		  0, 0);
	env->emit(env, "transactions", "count", false, (double)n, 0, 0, 0);
	env->emit(env, "lost", "count", true, (double)r.lost, 0, 0, 0);
	return 0;
}

/* REPORT round trip: the reflector's sink counters since the previous one */
static int report(struct net_run *r, uint64_t seq, uint64_t *frames, uint64_t *bytes)
{
	uint64_t sec = r->env->tsc_hz;
	for (int tries = 0; tries < 4; tries++) {
		build(r, VTX_NET_REPORT, seq, 64);
		uint64_t ts = wl_rdtsc();
		int rc = send_frame(r, 64, ts + sec);
		if (rc)
			return rc;
		if (wait_reply(r, VTX_NET_REPORT, seq, ts + sec, frames, bytes))
			return 0;
	}
	r->env->log(r->env, "no REPORT answer from the reflector");
	return -ETIMEDOUT_;
}

static int net_stream_run(struct wl_env *env)
{
	static struct net_run r;
	uint64_t ms, sent = 0, frames, bytes;
	int rc;
	r = (struct net_run){.env = env};
	if ((rc = wl_param_u64(env, "ms", &ms)) || (rc = setup(&r, env)) ||
	    (rc = report(&r, 1, &frames, &bytes))) /* resets the reflector's counters */
		return rc;
	build(&r, VTX_NET_SINK, 0, r.size);
	wl_region_begin(env, "run"); /* an error return leaves it open: not reported */
	uint64_t t0 = wl_rdtsc(), end = t0 + ms * (env->tsc_hz / 1000);
	while (wl_rdtsc() < end) {
		rc = r.n->send(r.n, r.frame, (uint32_t)r.size);
		if (rc == -EAGAIN_)
			continue;
		if (rc)
			return rc;
		sent++;
	}
	if ((rc = report(&r, 2, &frames, &bytes)))
		return rc;
	double secs = wl_ticks_to_ns(env, wl_rdtsc() - t0) / 1e9;
	wl_region_end(env, "run");
	if (!frames)
		return -EIO_;
	env->emit(env, "gbps", "Gbit/s", false, (double)bytes * 8 / secs / 1e9, 0, 0, 0);
	env->emit(env, "pps", "packets/s", false, (double)frames / secs, 0, 0, 0);
	env->emit(env, "frames", "count", false, (double)frames, 0, 0, 0);
	env->emit(env, "lost", "count", true, (double)(sent > frames ? sent - frames : 0), 0, 0, 0);
	return 0;
}

const struct workload_ops wl_net_rr = {
    .name = "net-rr",
    .help = "raw-Ethernet request/response round trips with the harness's reflector (VM: "
	    "--net tap; host baseline: veth in network namespaces)",
    .params = rr_params,
    .quick_params = "ms=500",
    .run = net_rr_run,
    .needs = WL_NEEDS_NIC,
};

const struct workload_ops wl_net_stream = {
    .name = "net-stream",
    .help = "raw-Ethernet one-way stream to the harness's reflector (Gbit/s, packets/s)",
    .params = stream_params,
    .quick_params = "ms=500",
    .run = net_stream_run,
    .needs = WL_NEEDS_NIC,
};
