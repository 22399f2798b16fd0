/*
 * The I/O experiments' shared parts (see exp_io.h for why).
 */
#include "harness/exp_io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/runner.h"

size_t io_series(struct session *s, bool nic, const char *native_why, struct series *out,
		 size_t max)
{
	const struct plan *p = s->plan;
	static const char *const def[] = {IO_DEFAULT_TECHNIQUE};
	const char *const *tech = p->ntechniques ? p->techniques : def;
	size_t ntech = p->ntechniques ? p->ntechniques : 1, n = 0;
	struct series *bare = &out[n++];
	*bare = (struct series){.name = "bare", .side = "bare", .backing = p->backings[0]};
	if (native_why && *native_why)
		snprintf(bare->unavailable, sizeof(bare->unavailable), "%s", native_why);
	for (size_t v = 0; v < p->nvmms; v++)
		for (size_t t = 0; t < ntech && n < max; t++) {
			struct series *x = &out[n++];
			const struct vmm_ops *o = vmm_find(p->vmms[v]);
			*x = (struct series){.side = "vm",
					     .vmm = p->vmms[v],
					     .backing = p->backings[0],
					     .pagesize = p->pagesizes[0],
					     .io_technique = tech[t],
					     .mem_bytes =
						 p->given & PLAN_F_MEM ? 0 : IO_DEFAULT_MEM};
			snprintf(x->name, sizeof(x->name), "%s[io=%s]",
				 p->nvmms > 1 ? p->vmms[v] : "vm", tech[t]);
			snprintf(x->baseline, sizeof(x->baseline), "bare");
			char why[200] = "";
			if (!o->io_probe)
				snprintf(why, sizeof(why), "unavailable: %s has no I/O devices",
					 o->name);
			else
				o->io_probe(tech[t], nic, why, sizeof(why));
			if (why[0])
				snprintf(x->unavailable, sizeof(x->unavailable), "%s", why);
		}
	return n;
}

static double jnum(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* exits the VMM handled in user space for this device: MMIO, or its ports */
static double device_exit_ns(json_t *exits, unsigned lo, unsigned hi)
{
	const char *k;
	json_t *v;
	double ns = 0;
	json_object_foreach(exits, k, v)
	{
		char *end;
		unsigned long port = strncmp(k, "io:0x", 5) ? 0 : strtoul(k + 5, &end, 16);
		if (!strcmp(k, "mmio") || (port && port >= lo && port <= hi && !*end))
			ns += jnum(v, "total_ns");
	}
	return ns;
}

static void metric(struct run_result *res, const char *m, const char *unit, const char *per,
		   double v)
{
	char u[48];
	snprintf(u, sizeof(u), "%s/%s", unit, per);
	if (isfinite(v))
		json_array_append_new(
		    res->proto.metrics,
		    json_pack("{s:s,s:s,s:s,s:f}", "m", m, "u", u, "better", "lower", "v", v));
}

void io_add_metrics(struct run_result *res, const char *unit, unsigned port_lo, unsigned port_hi)
{
	json_t *io = json_object_get(res->vmm_stats, "io");
	double req = jnum(io, "requests");
	if (res->status != RUN_OK || !(req > 0))
		return;
	metric(res, "exits_per_io", "exits", unit, jnum(io, "exits") / req);
	metric(res, "notifications_per_io", "notifications", unit, jnum(io, "notifications") / req);
	metric(res, "interrupts_per_io", "interrupts", unit, jnum(io, "interrupts") / req);
	metric(res, "vmm_cpu_per_io", "ns", unit,
	       (jnum(io, "backend_cpu_ns") +
		device_exit_ns(json_object_get(res->vmm_stats, "exits"), port_lo, port_hi)) /
		   req);
}

static json_t *entry(json_t *wl, const char *series, const char *metric)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(wl, "summary"), i, e)
	{
		const char *m = json_string_value(json_object_get(e, "metric"));
		const char *s = json_string_value(json_object_get(e, "series"));
		if (m && s && !strcmp(m, metric) && !strcmp(s, series))
			return e;
	}
	return NULL;
}

static double med(json_t *e, const char *side)
{
	json_t *v = json_object_get(json_object_get(e, side), "median");
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* "12.3 [11.0..13.1]" medians [min..max] of one side of a summary entry */
static void spread(json_t *e, const char *side, char *buf, size_t len)
{
	json_t *o = json_object_get(e, side);
	if (!json_integer_value(json_object_get(o, "n"))) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, "%.4g [%.4g..%.4g]", med(e, side),
		 json_number_value(json_object_get(o, "min")),
		 json_number_value(json_object_get(o, "max")));
}

static void io_workload(FILE *out, json_t *wl, const char *native_label)
{
	bool net = !strncmp(json_string_value(json_object_get(wl, "name")), "net-", 4);
	const char *thr =
	    net ? (strcmp(json_string_value(json_object_get(wl, "name")), "net-rr") ? "gbps"
										    : "tps")
		: "throughput";
	const char *lat = net ? "rtt_p50" : "lat_p50";
	size_t i;
	json_t *ser;
	int no_counters = 0;
	fprintf(out, "\n%s (medians [min..max], n per row; an I/O is one %s)\n",
		json_string_value(json_object_get(wl, "name")), net ? "frame" : "request");
	fprintf(out, "%-24s %-26s %9s %9s %9s %9s %9s %9s %10s %3s\n", "series", thr, "vs native",
		"p50 us", "latency x", "exits/IO", "notif/IO", "irq/IO", "VMM us/IO", "n");
	json_array_foreach(json_object_get(wl, "series"), i, ser)
	{
		const char *name = json_string_value(json_object_get(ser, "series"));
		bool vm = !strcmp(json_string_value(json_object_get(ser, "side")), "vm");
		const char *label = vm ? name : native_label;
		if (json_is_string(json_object_get(ser, "reason"))) {
			fprintf(out, "%-24s %s\n", label,
				json_string_value(json_object_get(ser, "reason")));
			continue;
		}
		/* the bare side's values sit in every VM series' entries */
		json_t *e = NULL, *l = NULL;
		size_t k;
		json_t *other;
		json_array_foreach(json_object_get(wl, "series"), k, other)
		{
			const char *o = json_string_value(json_object_get(other, "series"));
			if (!e && (vm ? !strcmp(o, name)
				      : !strcmp(json_string_value(json_object_get(other, "side")),
						"vm"))) {
				e = entry(wl, o, thr);
				l = entry(wl, o, lat);
			}
		}
		const char *side = vm ? "vm" : "bare";
		char t[48], pct[16] = "100%", lx[16] = "1.0x", c[4][16] = {"-", "-", "-", "-"};
		spread(e, side, t, sizeof(t));
		if (vm && med(e, "bare") > 0)
			snprintf(pct, sizeof(pct), "%.1f%%", 100 * med(e, "vm") / med(e, "bare"));
		else if (vm)
			snprintf(pct, sizeof(pct), "-");
		if (vm && med(l, "bare") > 0)
			snprintf(lx, sizeof(lx), "%.1fx", med(l, "vm") / med(l, "bare"));
		else if (vm)
			snprintf(lx, sizeof(lx), "-");
		static const char *const per[] = {"exits_per_io", "notifications_per_io",
						  "interrupts_per_io", "vmm_cpu_per_io"};
		for (int m = 0; vm && m < 4; m++) {
			double v = med(entry(wl, name, per[m]), "vm");
			if (isfinite(v))
				snprintf(c[m], sizeof(c[m]), m == 3 ? "%.2f" : "%.3g",
					 m == 3 ? v / 1e3 : v);
		}
		char p50[16] = "-";
		if (isfinite(med(l, side)))
			snprintf(p50, sizeof(p50), "%.1f", med(l, side));
		if (vm && !entry(wl, name, per[0]))
			no_counters++;
		fprintf(
		    out, "%-24s %-26s %9s %9s %9s %9s %9s %9s %10s %3lld\n", label, t, pct, p50, lx,
		    c[0], c[1], c[2], c[3],
		    (long long)json_integer_value(json_object_get(json_object_get(e, side), "n")));
	}
	if (no_counters)
		fprintf(out,
			"per-I/O exits, notifications, interrupts and VMM CPU: unavailable for "
			"%d series: their VMM keeps no per-device counters (QEMU)\n",
			no_counters);
}

void io_print(FILE *out, json_t *results, const char *exp, const char *native_label)
{
	size_t i;
	json_t *wl;
	json_array_foreach(json_object_get(results, "workloads"), i, wl)
	{
		const char *e = json_string_value(json_object_get(wl, "experiment"));
		if (e && !strcmp(e, exp))
			io_workload(out, wl, native_label);
	}
}
