/*
 * The decomposition's components that are not shares of one VM-vs-bare pair:
 * I/O boundary crossings, memory pressure and co-tenant sharing (method:
 * docs/METHOD.md).
 *
 * Why separate from decompose.c: each needs other runs than the pair. I/O
 * prices the VMM's per-I/O counters (vmm_stats "io") with calibrated exit
 * costs; memory pressure compares a side under a cgroup limit with the same
 * side unlimited (`virttax run --mem-limit`); co-tenant compares a results
 * file made with --co-tenant with one made without, per side, and is labelled
 * a sharing cost, because it applies to bare metal as much as to the VM. None
 * of them is added into the pair's residual arithmetic.
 */
#include "reports/decompose.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/stats.h"
#include "core/calib_read.h"
#include "reports/rdata.h"

#define XMAX 1024

static const char *s_(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static json_t *nm(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static bool counted_ok(json_t *run)
{
	return !json_is_true(json_object_get(run, "warmup")) && !strcmp(s_(run, "status"), "ok");
}

static double time_ns(json_t *run)
{
	json_t *key = json_pack("{s:s}", "m", "time");
	json_t *m = rdata_find_metric(run, key);
	json_decref(key);
	return m ? rdata_to_ns(json_number_value(json_object_get(m, "v")), s_(m, "u")) : NAN;
}

static double med(double *v, size_t n)
{
	return n ? stats_median(v, n) : NAN;
}

/* ---- I/O boundary crossings ---- */

/* Which calibrated crossing a technique's notifications pay. */
static const char *io_kind(const char *tech, bool *per_notif)
{
	*per_notif = false;
	if (!strcmp(tech, "emulated"))
		return "pio";
	if (!strcmp(tech, "virtio-user"))
		return "mmio";
	if (!strcmp(tech, "virtio-eventfd")) {
		*per_notif = true; /* ioeventfd: completed in the kernel, no userspace exit */
		return "mmio-ioeventfd";
	}
	return NULL; /* poll: no notifications by design */
}

static json_t *io_row(json_t *wl, const char *series, json_t *calib)
{
	double ex[XMAX], nt[XMAX], irq[XMAX], cpu[XMAX];
	size_t n = 0, i;
	const char *tech = NULL;
	json_t *run;
	json_array_foreach(json_object_get(wl, "runs"), i, run)
	{
		json_t *io = json_object_get(json_object_get(run, "vmm_stats"), "io");
		double req = json_number_value(json_object_get(io, "requests"));
		if (strcmp(s_(run, "series"), series) || !counted_ok(run) || !(req > 0) ||
		    n == XMAX)
			continue;
		tech = s_(io, "technique");
		ex[n] = json_number_value(json_object_get(io, "exits")) / req;
		nt[n] = json_number_value(json_object_get(io, "notifications")) / req;
		irq[n] = json_number_value(json_object_get(io, "interrupts")) / req;
		cpu[n] = json_number_value(json_object_get(io, "backend_cpu_ns")) / req;
		n++;
	}
	if (!n)
		return NULL;
	bool per_notif;
	const char *kind = io_kind(tech, &per_notif);
	struct calib_cost c = {0};
	char why[200] = "";
	double per_io = per_notif ? med(nt, n) : med(ex, n);
	double cross = NAN, lo = NAN, hi = NAN;
	if (!kind) {
		cross = lo = hi = 0;
		snprintf(why, sizeof(why), "technique '%s' sends no notifications", tech);
	} else if (!calib_read_lookup(calib, kind, &c, why, sizeof(why))) {
		cross = per_io * c.ns, lo = per_io * c.ci_lo, hi = per_io * c.ci_hi;
		why[0] = 0;
	}
	return json_pack(
	    "{s:O,s:s,s:s,s:s?,s:I,s:o,s:o,s:o,s:o,s:o,s:[o,o],s:o,s:s,s:s}", "workload",
	    json_object_get(wl, "name"), "series", series, "technique", tech, "kind", kind, "runs",
	    (json_int_t)n, "exits_per_io", nm(med(ex, n)), "notifications_per_io", nm(med(nt, n)),
	    "interrupts_per_io", nm(med(irq, n)), "backend_cpu_ns_per_io", nm(med(cpu, n)),
	    "crossing_ns_per_io", nm(cross), "crossing_ci95", nm(lo), nm(hi), "reason",
	    why[0] ? json_string(why) : json_null(), "unit", "per I/O request; ns", "note",
	    "crossings = (exits, or ioeventfd notifications for virtio-eventfd) per I/O x "
	    "calibrated cost of that kind; interrupt injection and backend CPU are "
	    "reported, not priced; part of mediation, not added to it again");
}

json_t *decompose_io(json_t *results, json_t *calib)
{
	json_t *rows = json_array(), *wl, *ser;
	size_t i, j;
	json_array_foreach(json_object_get(results, "workloads"), i, wl)
	{
		json_t *series = rdata_vm_series(json_object_get(wl, "runs"));
		json_array_foreach(series, j, ser)
		{
			json_t *r = io_row(wl, s_(ser, "series"), calib);
			if (r)
				json_array_append_new(rows, r);
		}
		json_decref(series);
	}
	return rows;
}

/* ---- memory pressure: limited vs unlimited, per side ---- */

static json_t *memcg_stat(json_t *run, const char *grp, const char *key)
{
	return json_object_get(
	    json_object_get(json_object_get(json_object_get(run, "memcg"), "delta"), grp), key);
}

static json_t *pressure_row(json_t *wl, const char *side, const char *limit_text)
{
	char lim[96];
	snprintf(lim, sizeof(lim), "%s[mem-limit=%s]", side, limit_text);
	json_t *runs = json_object_get(wl, "runs"), *run;
	double slow[XMAX], majf[XMAX], refault[XMAX];
	size_t n = 0, nm_ = 0, tried = 0, i;
	json_int_t kills = 0;
	const char *first_reason = NULL;
	json_array_foreach(runs, i, run)
	{
		if (strcmp(s_(run, "series"), lim) || json_is_true(json_object_get(run, "warmup")))
			continue;
		tried++;
		kills += json_integer_value(memcg_stat(run, "events", "oom_kill"));
		if (!counted_ok(run)) {
			if (!first_reason)
				first_reason = s_(run, "reason");
			continue;
		}
		json_t *mf = memcg_stat(run, "stat", "pgmajfault");
		json_t *rf = memcg_stat(run, "stat", "workingset_refault_anon");
		json_t *rff = memcg_stat(run, "stat", "workingset_refault_file");
		if (json_is_integer(mf) && nm_ < XMAX) {
			majf[nm_] = (double)json_integer_value(mf);
			refault[nm_++] = (double)(json_integer_value(rf) + json_integer_value(rff));
		}
		json_t *u = rdata_run(runs, side, json_integer_value(json_object_get(run, "rep")));
		double tl = time_ns(run), tu = u && counted_ok(u) ? time_ns(u) : NAN;
		if (isfinite(tl) && isfinite(tu) && tu > 0 && n < XMAX)
			slow[n++] = (tl / tu - 1) * 100;
	}
	if (!tried)
		return NULL;
	double lo = NAN, hi = NAN;
	if (n) {
		struct stats_summary sm;
		if (!stats_summarize(slow, n, &sm))
			lo = sm.ci_lo, hi = sm.ci_hi;
	}
	char why[400] = "";
	if (!n)
		snprintf(why, sizeof(why), "no ok run under the limit (%zu tried)%s%s", tried,
			 first_reason ? ": " : "", first_reason ? first_reason : "");
	return json_pack(
	    "{s:O,s:s,s:s,s:I,s:I,s:o,s:[o,o],s:o,s:o,s:I,s:o,s:s}", "workload",
	    json_object_get(wl, "name"), "side", side, "series", lim, "runs", (json_int_t)tried,
	    "ok_pairs", (json_int_t)n, "slowdown_pct", nm(med(slow, n)), "slowdown_ci95", nm(lo),
	    nm(hi), "major_faults_median", nm(med(majf, nm_)), "refaults_median",
	    nm(med(refault, nm_)), "oom_kills", kills, "reason",
	    why[0] ? json_string(why) : json_null(), "note",
	    "time under the limit / time unlimited - 1, same side and rep, median over "
	    "reps; major faults and refaults from the run's cgroup (memory.stat delta)");
}

json_t *decompose_mem_pressure(json_t *results)
{
	json_t *mp = json_object_get(results, "mem_pressure"), *rows = json_array(), *wl;
	size_t i;
	if (!mp)
		return rows;
	json_array_foreach(json_object_get(results, "workloads"), i, wl)
	{
		for (int s = 0; s < 2; s++) {
			json_t *r = pressure_row(wl, s ? "vm" : "bare", s_(mp, "limit"));
			if (r)
				json_array_append_new(rows, r);
		}
	}
	return rows;
}

/* ---- co-tenant: with vs without, per side, across two results ---- */

static double side_median(json_t *wl, const char *series, size_t *n)
{
	double t[XMAX];
	size_t i;
	json_t *run;
	*n = 0;
	json_array_foreach(json_object_get(wl, "runs"), i,
			   run) if (!strcmp(s_(run, "series"), series) && counted_ok(run) &&
				    *n < XMAX)
	{
		double v = time_ns(run);
		if (isfinite(v))
			t[(*n)++] = v;
	}
	return med(t, *n);
}

static json_t *find_wl(json_t *results, const char *name)
{
	json_t *wl;
	size_t i;
	json_array_foreach(json_object_get(results, "workloads"), i,
			   wl) if (!strcmp(s_(wl, "name"), name)) return wl;
	return NULL;
}

json_t *decompose_sharing(json_t *const *results, size_t n)
{
	json_t *rows = json_array();
	for (size_t a = 0; a < n; a++) {
		json_t *ct = json_object_get(results[a], "co_tenant"), *wl;
		size_t i;
		if (!ct)
			continue;
		for (size_t b = 0; b < n; b++) {
			if (b == a || json_object_get(results[b], "co_tenant"))
				continue;
			bool matched = false;
			json_array_foreach(json_object_get(results[a], "workloads"), i, wl)
			{
				json_t *off = find_wl(results[b], s_(wl, "name"));
				if (!off)
					continue;
				matched = true;
				for (int s = 0; s < 2; s++) {
					const char *side = s ? "vm" : "bare";
					size_t n_on, n_off;
					double on = side_median(wl, side, &n_on);
					double of = side_median(off, side, &n_off);
					json_array_append_new(
					    rows,
					    json_pack(
						"{s:O,s:s,s:O,s:o,s:o,s:o,s:I,s:I,s:s}", "workload",
						json_object_get(wl, "name"), "side", side, "mode",
						json_object_get(ct, "mode"), "time_with_ns", nm(on),
						"time_without_ns", nm(of), "slowdown_pct",
						nm((on / of - 1) * 100), "n_with", (json_int_t)n_on,
						"n_without", (json_int_t)n_off, "label",
						"sharing cost, not a virtualization cost"));
				}
			}
			if (matched)
				break; /* the first file without a co-tenant that has the workload
					*/
		}
	}
	return rows;
}
