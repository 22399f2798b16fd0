/*
 * The network rows of `virttax run --io-technique LIST --workloads net-rr|net-stream`.
 *
 * Why a file of its own: the network path needs its own fixtures (a veth
 * pair in two namespaces for the native row, a tap plus the reflector for
 * the VM rows, iperf3 as a TCP reference) and its own metrics (transactions/s
 * and round-trip time for net-rr, Gbit/s and packets/s for net-stream),
 * while the per-technique explanation is the same as for the disk: exits,
 * notifications and interrupts per I/O, where an I/O is one frame moved
 * (a net-rr transaction moves two). Every fixture is removed before
 * returning, on success and on failure (harness/net_env.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness/net_env.h"
#include "virttax/protocol.h"
#include "vmm-lite/virtio.h"

#define NET_MAX_REPS 100

struct net_sample {
	double thr, thr2, p50, p99; /* rr: tps, -, rtt; stream: Gbit/s, pps, -, - */
	double exits, notifs, irqs, vmm_cpu_ns;
	bool ok;
};

struct stat3 {
	double med, lo, hi;
	unsigned n;
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static struct stat3 agg(const struct net_sample *s, unsigned n, size_t off)
{
	double v[NET_MAX_REPS];
	unsigned k = 0;
	for (unsigned i = 0; i < n && k < NET_MAX_REPS; i++)
		if (s[i].ok)
			v[k++] = *(const double *)((const char *)&s[i] + off);
	if (!k)
		return (struct stat3){0};
	qsort(v, k, sizeof(v[0]), cmp_d);
	return (struct stat3){k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2, v[0], v[k - 1], k};
}
#define AGG(s, n, f) agg(s, n, offsetof(struct net_sample, f))

static json_t *stat_json(struct stat3 st, const char *unit)
{
	return json_pack("{s:f,s:f,s:f,s:i,s:s}", "median", st.med, "min", st.lo, "max", st.hi, "n",
			 (int)st.n, "unit", unit);
}

static bool is_rr(const struct io_net_plan *p)
{
	return !strcmp(p->wl, "net-rr");
}

static void from_metrics(const struct io_net_plan *p, json_t *m, struct net_sample *s)
{
	double (*num)(const json_t *) = json_number_value;
	if (is_rr(p)) {
		s->thr = num(json_object_get(m, "tps"));
		s->p50 = num(json_object_get(m, "rtt_p50"));
		s->p99 = num(json_object_get(m, "rtt_p99"));
	} else {
		s->thr = num(json_object_get(m, "gbps"));
		s->thr2 = num(json_object_get(m, "pps"));
	}
	s->ok = s->thr > 0;
}

static json_t *summary(const struct io_net_plan *p, const struct net_sample *s, unsigned n)
{
	json_t *o = json_object();
	if (is_rr(p)) {
		json_object_set_new(o, "tps", stat_json(AGG(s, n, thr), "transactions/s"));
		json_object_set_new(o, "rtt_p50", stat_json(AGG(s, n, p50), "us"));
		json_object_set_new(o, "rtt_p99", stat_json(AGG(s, n, p99), "us"));
	} else {
		json_object_set_new(o, "throughput", stat_json(AGG(s, n, thr), "Gbit/s"));
		json_object_set_new(o, "pps", stat_json(AGG(s, n, thr2), "packets/s"));
	}
	json_object_set_new(o, "exits_per_io", stat_json(AGG(s, n, exits), "exits/frame"));
	json_object_set_new(o, "notifications_per_io",
			    stat_json(AGG(s, n, notifs), "notifications/frame"));
	json_object_set_new(o, "interrupts_per_io", stat_json(AGG(s, n, irqs), "interrupts/frame"));
	json_object_set_new(o, "vmm_cpu_per_io", stat_json(AGG(s, n, vmm_cpu_ns), "ns/frame"));
	return o;
}

static void params(const struct io_net_plan *p, char *buf, size_t len)
{
	snprintf(buf, len, "ms=%s%s%s", p->ms, p->size ? " size=" : "", p->size ? p->size : "");
}

static void header(const struct io_net_plan *p)
{
	printf("\n%s size=%s ms=%s, %u rep(s), medians [min..max]; an I/O is one frame\n", p->wl,
	       p->size ? p->size : "default", p->ms, p->reps);
	if (is_rr(p))
		printf("%-15s %26s %9s %9s %9s %9s %9s %9s %9s %12s\n", "technique",
		       "transactions/s", "vs native", "RTT p50us", "p99 us", "latency x",
		       "exits/IO", "notif/IO", "irq/IO", "VMM CPU us/IO");
	else
		printf("%-15s %26s %9s %12s %9s %9s %9s %12s\n", "technique", "Gbit/s", "vs native",
		       "packets/s", "exits/IO", "notif/IO", "irq/IO", "VMM CPU us/IO");
}

static void row(const struct io_net_plan *p, const char *name, const struct net_sample *s,
		unsigned n, const struct stat3 *nat_thr, const struct stat3 *nat_p50, bool vm)
{
	struct stat3 t = AGG(s, n, thr);
	char thr[48], pct[16] = "100%", lat[16] = "1.0x", ex[4][16];
	if (!t.n) {
		printf("%-15s failed: no successful run (see results.json)\n", name);
		return;
	}
	snprintf(thr, sizeof(thr), is_rr(p) ? "%.0f [%.0f..%.0f]" : "%.3f [%.3f..%.3f]", t.med,
		 t.lo, t.hi);
	if (vm && nat_thr && nat_thr->n && nat_thr->med > 0)
		snprintf(pct, sizeof(pct), "%.1f%%", 100 * t.med / nat_thr->med);
	else if (vm)
		snprintf(pct, sizeof(pct), "-");
	if (vm && nat_p50 && nat_p50->n && nat_p50->med > 0)
		snprintf(lat, sizeof(lat), "%.1fx", AGG(s, n, p50).med / nat_p50->med);
	else if (vm)
		snprintf(lat, sizeof(lat), "-");
	if (vm) {
		snprintf(ex[0], 16, "%.2f", AGG(s, n, exits).med);
		snprintf(ex[1], 16, "%.2f", AGG(s, n, notifs).med);
		snprintf(ex[2], 16, "%.3f", AGG(s, n, irqs).med);
		snprintf(ex[3], 16, "%.2f", AGG(s, n, vmm_cpu_ns).med / 1e3);
	} else
		for (int i = 0; i < 4; i++)
			snprintf(ex[i], 16, "-");
	if (is_rr(p))
		printf("%-15s %26s %9s %9.1f %9.1f %9s %9s %9s %9s %12s\n", name, thr, pct,
		       AGG(s, n, p50).med, AGG(s, n, p99).med, lat, ex[0], ex[1], ex[2], ex[3]);
	else
		printf("%-15s %26s %9s %12.0f %9s %9s %9s %12s\n", name, thr, pct,
		       AGG(s, n, thr2).med, ex[0], ex[1], ex[2], ex[3]);
}

/* metric records of the agent's output -> {"name": value} */
static json_t *parse_metrics(const char *out)
{
	json_t *m = json_object();
	const char *pfx = VTX_PROTO_PREFIX;
	for (const char *l = out; l && *l;) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		if (n > strlen(pfx) && !strncmp(l, pfx, strlen(pfx))) {
			json_t *r = json_loadb(l + strlen(pfx), n - strlen(pfx), 0, NULL);
			const char *t = json_string_value(json_object_get(r, "t"));
			const char *k = json_string_value(json_object_get(r, "m"));
			if (t && k && !strcmp(t, "metric"))
				json_object_set(m, k, json_object_get(r, "v"));
			json_decref(r);
		}
		l = e ? e + 1 : NULL;
	}
	return m;
}

static double jnum(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* an exit key of the emulated NIC's ports, "io:0x300" .. "io:0x31f" */
static bool lnic_port(const char *k)
{
	char *end;
	if (strncmp(k, "io:0x", 5))
		return false;
	unsigned long port = strtoul(k + 5, &end, 16);
	return port >= 0x300 && port < 0x320 && !*end;
}

/* VMM CPU for the device: backend/iothread + userspace handling of MMIO exits
 * (virtio) or of port I/O to the legacy NIC (emulated) */
static double vmm_cpu_ns(json_t *stats)
{
	json_t *io = json_object_get(stats, "io"), *exits = json_object_get(stats, "exits"), *v;
	const char *k;
	double ns = jnum(io, "backend_cpu_ns");
	json_object_foreach(exits, k, v) if (!strcmp(k, "mmio") || lnic_port(k)) ns +=
	    jnum(v, "total_ns");
	return ns;
}

/* One VM run. 0, or -ENODEV with `why` = "unavailable: ..." from vmm-lite. */
static int net_vm_run(const struct io_net_plan *p, const char *tech, const char *tap,
		      struct net_sample *s, json_t **raw, char *why, size_t wlen)
{
	char cmdline[160], net[40], stats[64], cpu[16], ps[96], err[300] = "", *out = NULL;
	params(p, ps, sizeof(ps));
	snprintf(cmdline, sizeof(cmdline), "workload=%s %s", p->wl, ps);
	snprintf(net, sizeof(net), "tap=%s", tap);
	snprintf(stats, sizeof(stats), "/tmp/virttax-net-%d.json", (int)getpid());
	snprintf(cpu, sizeof(cpu), "%d", p->cpu);
	int rc = net_run_cmd((char *[]){(char *)p->vmm, "--kernel", (char *)p->agent, "--cmdline",
					cmdline, "--net", net, "--io-technique", (char *)tech,
					"--pin", cpu, "--mem", "512M", "--timeout", "120",
					"--stats-json", stats, NULL},
			     &out, err, sizeof(err));
	if (rc == 65) { /* vmm-lite: technique unavailable here */
		const char *u = strstr(err, "unavailable:");
		snprintf(why, wlen, "%.180s", u ? u : err);
		free(out);
		unlink(stats);
		return -ENODEV;
	}
	json_t *m = parse_metrics(out ? out : "");
	free(out);
	json_t *st = json_load_file(stats, 0, NULL), *io = json_object_get(st, "io");
	unlink(stats);
	from_metrics(p, m, s);
	double frames = jnum(io, "requests");
	if (frames > 0) {
		s->exits = jnum(io, "exits") / frames;
		s->notifs = jnum(io, "notifications") / frames;
		s->irqs = jnum(io, "interrupts") / frames;
		s->vmm_cpu_ns = vmm_cpu_ns(st) / frames;
	}
	s->ok = s->ok && rc == 1; /* the agent exits with (0<<1)|1 on success */
	*raw = json_pack("{s:o,s:O,s:i}", "metrics", m, "io", io ? io : json_null(), "exit_status",
			 rc);
	json_decref(st);
	return 0;
}

static json_t *native_rows(const struct io_net_plan *p, struct net_sample *nat, json_t *rows)
{
	struct net_veth v;
	char tag[16], err[300] = "", ps[96];
	json_t *runs = json_array();
	snprintf(tag, sizeof(tag), "%d", (int)getpid());
	params(p, ps, sizeof(ps));
	if (net_veth_create(&v, tag, err, sizeof(err))) {
		printf("%-15s failed: veth baseline: %s (needs root / CAP_NET_ADMIN)\n",
		       "native (veth)", err);
		json_array_append_new(rows,
				      json_pack("{s:s,s:s}", "technique", "native", "status", err));
		json_decref(runs);
		return NULL;
	}
	for (unsigned r = 0; r < p->reps; r++) {
		json_t *m = NULL;
		err[0] = 0;
		memset(&nat[r], 0, sizeof(nat[r]));
		if (!net_bare_run(&v, p->wl, ps, &m, err, sizeof(err))) {
			from_metrics(p, m, &nat[r]);
			json_array_append_new(runs, json_pack("{s:o}", "metrics", m));
		} else
			json_array_append_new(runs, json_pack("{s:s}", "error", err));
	}
	row(p, "native (veth)", nat, p->reps, NULL, NULL, false);
	json_array_append_new(
	    rows, json_pack("{s:s,s:s,s:o,s:o}", "technique", "native", "tool",
			    "same workload over AF_PACKET across a veth pair in two network "
			    "namespaces, reflector in the peer namespace",
			    "summary", summary(p, nat, p->reps), "runs", runs));
	/* TCP reference: one iperf3 run as long as one rep */
	double gbps = 0;
	json_t *raw = NULL;
	unsigned secs = (unsigned)(atoi(p->ms) + 999) / 1000;
	err[0] = 0;
	if (net_iperf3(&v, secs ? secs : 1, &gbps, &raw, err, sizeof(err))) {
		printf("%-15s failed: %s\n", "iperf3 (veth)", err);
		json_array_append_new(
		    rows, json_pack("{s:s,s:s}", "technique", "iperf3-reference", "status", err));
	} else {
		printf("%-15s %26.3f Gbit/s TCP across the same veth (reference, 1 run of %us)\n",
		       "iperf3 (veth)", gbps, secs ? secs : 1);
		json_array_append_new(rows, json_pack("{s:s,s:s,s:{s:f,s:s,s:i},s:o}", "technique",
						      "iperf3-reference", "status", "ok",
						      "throughput", "value", gbps, "unit", "Gbit/s",
						      "n", 1, "raw", raw));
	}
	net_veth_remove(&v);
	return rows;
}

json_t *io_net_run(const struct io_net_plan *p)
{
	static struct net_sample nat[NET_MAX_REPS], vm[NET_MAX_REPS];
	char tap[16], err[300] = "";
	struct net_reflector refl;
	json_t *rows = json_array();
	unsigned reps = p->reps < NET_MAX_REPS ? p->reps : NET_MAX_REPS;
	header(p);
	native_rows(p, nat, rows);
	struct stat3 nt = AGG(nat, reps, thr), np = AGG(nat, reps, p50);
	snprintf(tap, sizeof(tap), "vtxtap%d", (int)getpid() % 100000);
	bool have_tap = !net_tap_create(tap, err, sizeof(err));
	if (have_tap && net_reflector_start(&refl, tap, NULL, err, sizeof(err))) {
		net_tap_remove(tap);
		have_tap = false;
	}
	for (size_t t = 0; t < p->ntech; t++) {
		enum io_technique tech;
		char why[200] = "";
		json_t *runs = json_array();
		io_technique_parse(p->tech[t], &tech);
		if (io_technique_probe(tech, NULL, why, sizeof(why)) || !have_tap) {
			if (!why[0])
				snprintf(why, sizeof(why), "failed: tap %s: %.150s", tap, err);
			printf("%-15s %s\n", p->tech[t], why);
			json_array_append_new(
			    rows, json_pack("{s:s,s:s}", "technique", p->tech[t], "status", why));
			json_decref(runs);
			continue;
		}
		bool unavailable = false;
		for (unsigned r = 0; r < reps && !unavailable; r++) {
			json_t *raw = NULL;
			memset(&vm[r], 0, sizeof(vm[r]));
			unavailable = net_vm_run(p, p->tech[t], tap, &vm[r], &raw, why,
						 sizeof(why)) == -ENODEV;
			if (raw)
				json_array_append_new(runs, raw);
		}
		if (unavailable) {
			printf("%-15s %s\n", p->tech[t], why);
			json_array_append_new(
			    rows, json_pack("{s:s,s:s}", "technique", p->tech[t], "status", why));
			json_decref(runs);
			continue;
		}
		row(p, p->tech[t], vm, reps, &nt, &np, true);
		json_array_append_new(rows, json_pack("{s:s,s:s,s:o,s:o}", "technique", p->tech[t],
						      "status", "ok", "summary",
						      summary(p, vm, reps), "runs", runs));
	}
	if (have_tap) {
		net_reflector_stop(&refl);
		net_tap_remove(tap);
	}
	return json_pack("{s:s,s:{s:s,s:s},s:s,s:o}", "workload", p->wl, "params", "size",
			 p->size ? p->size : "default", "ms", p->ms, "io_unit", "frame",
			 "techniques", rows);
}
