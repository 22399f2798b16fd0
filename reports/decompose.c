/*
 * Overhead decomposition (see decompose.h for why; docs/METHOD.md for the method).
 */
#include "reports/decompose.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "core/calib_read.h"
#include "reports/rdata.h"

#define MAXP 1024 /* pairs */
#define MAXK 16	  /* exit kinds */

struct dec_kind {
	const char *kind;
	char reasons[160]; /* exit reasons that map here */
	const char *source;
	const char *unpriceable; /* no calibration kind produces it: why (never priced) */
	bool priced;
	struct calib_cost cost; /* back-to-back */
	bool has_sp;		/* a spacing curve: cost depends on the compute between exits */
	struct calib_spacing sp;
	char why[200];
};

/* Per-pair inputs of one (workload, series, metric). Fractions of bare time. */
struct dec {
	size_t n, nk;
	long rep[MAXP];
	double bare[MAXP], vm[MAXP], ovh[MAXP], tbare[MAXP], sched[MAXP], trans[MAXP];
	double excluded[MAXP];	   /* exits not charged (serial protocol, exit port) */
	double counts[MAXP][MAXK]; /* exits of kind k in pair i */
	/* spacing-aware cost of kind k in pair i at its mean gap (bare ns / exits) */
	double gap[MAXP][MAXK], sp_ns[MAXP][MAXK], sp_se[MAXP][MAXK];
	struct dec_kind kinds[MAXK];
	/* in-run cost: the VM run's own selfcal_exit_ns (exit-storm), ns per exit
	 * of kind inrun_kind; have_inrun when every pair has it */
	double inrun[MAXP];
	int inrun_kind;
	bool have_inrun;
	bool have_time, have_sched, have_trans;
	bool regions;	   /* every pair has the metric's timed region on both sides */
	bool whole_run;	   /* exit counts cover the whole VM run: mediation is an upper bound */
	bool shortest;	   /* the regions' shortest interval was used (a best-of metric) */
	bool no_trans;	   /* gathering a translation reference: no translation of its own */
	double core[MAXP]; /* ovh - mediation - scheduling, point estimate (translation A/B) */
	/* regions: CPU-time overhead (vCPU thread's minus the bare thread's CPU
	 * time / bare time), the VM's wait share, and whether either interval's
	 * run + wait exceeded its wall time (schedstat is updated at context
	 * switches: a sub-tick interval with a switch around it) */
	double cpu[MAXP], vm_wait_share[MAXP];
	bool unresolved[MAXP];
	char time_why[200], sched_why[200], trans_why[300], trans_note[400], sched_note[512];
	char region_label[64];
};

static void residual_cause(const struct dec *d, double residual, json_t *detail);

/* cost models of the mediation; the component uses the best available one */
enum med_model { MED_B2B, MED_SPACING, MED_INRUN };

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* ---- mediation: exit counts per calibration kind ---- */

static int kind_slot(struct dec *d, const char *kind, const char *reason, const char *source)
{
	for (size_t k = 0; k < d->nk; k++)
		if (!strcmp(d->kinds[k].kind, kind)) {
			if (reason && !strstr(d->kinds[k].reasons, reason)) {
				size_t l = strlen(d->kinds[k].reasons);
				snprintf(d->kinds[k].reasons + l, sizeof(d->kinds[k].reasons) - l,
					 "%s%s", l ? "," : "", reason);
			}
			return (int)k;
		}
	if (d->nk == MAXK)
		return -1;
	struct dec_kind *k = &d->kinds[d->nk];
	memset(k, 0, sizeof(*k));
	k->kind = kind;
	k->source = source;
	snprintf(k->reasons, sizeof(k->reasons), "%s", reason ? reason : "");
	return (int)d->nk++;
}

static void add_exits(struct dec *d, size_t i, const char *kind, const char *reason,
		      const char *source, const char *unpriceable, double n)
{
	if (!(n > 0))
		return;
	int k = kind_slot(d, kind, reason, source);
	if (k < 0)
		return;
	if (unpriceable)
		d->kinds[k].unpriceable = unpriceable;
	d->counts[i][k] += n;
}

static double fnum(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : 0;
}

#define REGION_SRC "timed region (the exits inside the workload's measured interval)"

/* Exits of the VM run's timed region by category (docs/METHOD.md): the VMM's
 * userspace exits by key, then the exits KVM handled itself, split by the KVM
 * stat that names their category, each capped by what is left: host
 * interrupts, halts, hypercalls, MMIO and port I/O completed in the kernel,
 * shadow-MMU page faults, instruction emulations. What is left has no
 * category a calibration kind produces: counted, never priced. */
static void count_exits_region(struct dec *d, size_t i, json_t *region,
			       const struct rdata_interval *iv)
{
	json_t *kv = json_object_get(iv->fields, "kvm_vcpu"), *c;
	/* userspace exits are per label: per interval when the shortest one is used */
	double per = iv->shortest ? 1.0 / fnum(region, "n") : 1.0, user = 0, uio = 0, ummio = 0;
	const char *key;
	json_object_foreach(json_object_get(region, "exits"), key, c)
	{
		char why[160];
		double n = json_number_value(c) * per;
		const char *kind = calib_read_exit_kind(key, why, sizeof(why));
		bool io = !strncmp(key, "io:", 3);
		if (!kind && io)
			kind = "pio"; /* serial output inside the region is a real port exit */
		user += n, uio += io ? n : 0, ummio += !strcmp(key, "mmio") ? n : 0;
		add_exits(d, i, kind ? kind : key, key, REGION_SRC,
			  kind ? NULL : "no calibration kind for this exit reason", n);
	}
	double other = fnum(region, "exits_other") * per;
	user += other;
	add_exits(d, i, "userspace-other", "exits_other", REGION_SRC,
		  "exit keys past the region's 16: reason unknown", other);
	double left = fnum(kv, "exits") - user;
	double emul = fnum(kv, "insn_emulation") - uio - ummio; /* beyond the port/MMIO exits */
	double kmmio = fmax(fnum(kv, "mmio_exits"), fnum(kv, "pf_emulate")) - ummio;
	const struct {
		const char *kind, *stat;
		double n;
	} cat[] = {
	    {"host-irq", "irq_exits", fnum(kv, "irq_exits")},
	    {"hlt-timer", "halt_exits", fnum(kv, "halt_exits")},
	    {"hypercall", "hypercalls", fnum(kv, "hypercalls")},
	    {"mmio-ioeventfd", "mmio_exits|pf_emulate", kmmio},
	    {"page-fault", "pf_fixed", fnum(kv, "pf_fixed")},
	    {"pio-ioeventfd", "io_exits", fnum(kv, "io_exits") - uio},
	    {"priv-insn", "insn_emulation", emul - fmax(kmmio, 0)},
	};
	for (size_t k = 0; k < sizeof(cat) / sizeof(cat[0]) && left > 0; k++) {
		double n = fmin(fmax(cat[k].n, 0), left);
		add_exits(d, i, cat[k].kind, cat[k].stat, REGION_SRC, NULL, n);
		left -= n;
	}
	add_exits(d, i, "kernel-other", "exits", REGION_SRC,
		  "KVM-handled exits of no category a calibration kind produces", left);
}

static double kvm_vcpu_exits(json_t *vmm_stats)
{
	json_t *vcpus = json_object_get(json_object_get(vmm_stats, "kvm_stats"), "vcpus"), *v;
	size_t i;
	double sum = 0;
	bool any = false;
	json_array_foreach(vcpus, i, v)
	{
		json_t *e =
		    json_object_get(json_object_get(json_object_get(v, "stats"), "exits"), "delta");
		if (json_is_number(e))
			sum += json_number_value(e), any = true;
	}
	return any ? sum : NAN;
}

static void count_exits_vmm(struct dec *d, size_t i, json_t *run)
{
	json_t *vs = json_object_get(run, "vmm_stats"), *e;
	const char *reason;
	double user = 0;
	json_object_foreach(json_object_get(vs, "exits"), reason, e)
	{
		char why[160];
		double c = json_number_value(json_object_get(e, "count"));
		user += c;
		const char *kind = calib_read_exit_kind(reason, why, sizeof(why));
		if (!kind) {
			d->excluded[i] += c;
			continue;
		}
		int k = kind_slot(d, kind, reason, "vmm_stats.exits (whole run)");
		if (k >= 0)
			d->counts[i][k] += c;
	}
	double kvm = kvm_vcpu_exits(vs);
	if (isfinite(kvm) && kvm > user) /* never priced with another kind's cost */
		add_exits(d, i, "kernel-handled", "exits",
			  "KVM 'exits' stat minus userspace exits (whole run)",
			  "whole-run KVM exits have no category without the timed-region "
			  "accounting (vmm-lite); under QEMU none are counted per reason",
			  kvm - user);
	d->whole_run = true;
}

/* exit-storm style workloads report the exits of their timed region themselves */
static bool count_exits_metric(struct dec *d, size_t i, json_t *run, json_t *wl, int *slot)
{
	json_t *key = json_pack("{s:s}", "m", "exits");
	json_t *m = rdata_find_metric(run, key);
	json_decref(key);
	const char *kind =
	    json_string_value(json_object_get(json_object_get(wl, "params"), "kind"));
	if (!m || !kind)
		return false;
	int k = kind_slot(d, calib_read_storm_kind(kind), kind,
			  "workload metric 'exits' (timed region only)");
	if (k >= 0)
		d->counts[i][k] += json_number_value(json_object_get(m, "v"));
	*slot = k;
	return true;
}

/* the VM run's self-calibrated ns per exit (exit-storm's selfcal_exit_ns), NAN if none */
/* The VM run's own cost per exit (exit-storm's self-calibration, before its
 * timed region). From the self-calibration's timed region when the run has
 * one: the vCPU thread's CPU time per exit counted there, which leaves out
 * the run-queue waits a loaded host puts into the stopwatch (they belong to
 * scheduling, and would be counted twice); else selfcal_exit_ns. NAN if none. */
static double inrun_cost(json_t *run)
{
	json_t *key = json_pack("{s:s}", "m", "selfcal_exit_ns");
	json_t *m = rdata_find_metric(run, key), *g = m ? rdata_region(run, key) : NULL, *c;
	json_decref(key);
	const char *k;
	double exits = 0, cpu = g ? fnum(g, "run_ns") : 0;
	json_object_foreach(json_object_get(g, "exits"), k, c) exits += json_number_value(c);
	if (g && !strcmp(str(g, "label"), "selfcal_exit_ns") && exits > 0 && cpu > 0)
		return cpu / exits;
	double v = m ? rdata_to_ns(json_number_value(json_object_get(m, "v")), str(m, "u")) : NAN;
	return isfinite(v) && v > 0 ? v : NAN;
}

static double cost_se(const struct calib_cost *c)
{
	return (c->ci_hi - c->ci_lo) / (2 * 1.96);
}

/* Spacing-aware cost per pair: the curve at the mean compute gap between two
 * exits of the kind, taken as bare time / exits (docs/METHOD.md: the gap is
 * guest compute, which runs at bare speed, and this keeps the gap independent
 * of the cost being modelled). Kinds without a curve keep the back-to-back cost. */
static void price_kinds(struct dec *d, json_t *calib)
{
	for (size_t k = 0; k < d->nk; k++) {
		struct dec_kind *dk = &d->kinds[k];
		if (dk->unpriceable) {
			dk->priced = false;
			snprintf(dk->why, sizeof(dk->why), "%s", dk->unpriceable);
		} else if (!strcmp(dk->kind, "page-fault")) {
			dk->priced = !calib_read_difference(calib, "pt-churn", "pt-rewrite",
							    &dk->cost, dk->why, sizeof(dk->why));
		} else {
			dk->priced = !calib_read_lookup(calib, dk->kind, &dk->cost, dk->why,
							sizeof(dk->why));
		}
		dk->has_sp = dk->priced && !calib_read_spacing(calib, dk->kind, &dk->sp);
		for (size_t i = 0; i < d->n; i++) {
			struct calib_cost c = dk->cost;
			d->gap[i][k] = d->counts[i][k] > 0 ? d->tbare[i] / d->counts[i][k] : NAN;
			if (dk->has_sp && isfinite(d->gap[i][k]))
				calib_spacing_at(&dk->sp, d->gap[i][k], &c);
			d->sp_ns[i][k] = c.ns;
			d->sp_se[i][k] = cost_se(&c);
		}
	}
}

/* ---- scheduling: run-queue delay beyond the bare thread's, and steal ---- */

/* Run-queue wait per ns of CPU time of the threads that ran the workload
 * (sched collector; for a VM without it, vmm-lite's own thread stats). Both
 * windows cover the whole run, so the rate, not the total, is compared: the
 * timed region is assumed to wait at the run's average rate. */
static double sched_rate(json_t *run, bool *steal_avail, double *steal_rate, char *why, size_t len,
			 bool *collector)
{
	json_t *s = json_object_get(json_object_get(run, "collectors"), "sched");
	json_t *t;
	size_t i;
	double wait = 0, cpu = 0;
	json_array_foreach(json_object_get(s, "threads"), i, t)
	{
		json_t *w = json_object_get(t, "wait_ns"), *r = json_object_get(t, "run_ns");
		if (json_is_number(w) && json_is_number(r))
			wait += json_number_value(w), cpu += json_number_value(r);
	}
	*collector = cpu > 0;
	if (!(cpu > 0)) {
		wait = 0;
		json_array_foreach(json_object_get(json_object_get(run, "vmm_stats"), "threads"), i,
				   t)
		{
			json_t *w = json_object_get(t, "wait_ns"),
			       *r = json_object_get(t, "run_ns");
			if (json_is_number(w) && json_is_number(r))
				wait += json_number_value(w), cpu += json_number_value(r);
		}
	}
	json_t *st = json_object_get(s, "steal");
	*steal_avail = json_is_true(json_object_get(st, "available"));
	*steal_rate =
	    *steal_avail && cpu > 0 ? json_number_value(json_object_get(st, "steal_ns")) / cpu : 0;
	if (!*steal_avail && why && len)
		snprintf(why, len, "%s",
			 json_is_string(json_object_get(st, "reason"))
			     ? str(st, "reason")
			     : "unavailable: no steal time recorded");
	return cpu > 0 ? wait / cpu : NAN;
}

/* ---- translation: the same rep's VM run with 2 MiB guest pages ---- */

static const char *perf_reason(json_t *run)
{
	json_t *p = json_object_get(json_object_get(run, "collectors"), "perf");
	if (!p)
		return "no perf collector in the results";
	if (json_is_false(json_object_get(p, "available")))
		return json_is_string(json_object_get(p, "reason")) ? str(p, "reason")
								    : "perf unavailable";
	return NULL;
}

/* The reference of a translation A/B for series ser: the VM series of the
 * same VMM with 2 MiB guest pages on THP (huge host pages), else NULL. */
static json_t *translation_ref(json_t *runs, json_t *series, json_t *ser)
{
	json_t *s, *first = NULL;
	size_t i;
	const char *vmm = NULL;
	json_array_foreach(runs, i, first) if (!strcmp(str(first, "series"), str(ser, "series")))
	{
		vmm = str(first, "vmm");
		break;
	}
	json_array_foreach(series, i, s)
	{
		json_t *c = json_object_get(s, "config"), *r;
		size_t j;
		if (s == ser || strcmp(str(c, "pagesize"), "2m") ||
		    strcmp(str(c, "backing"), "thp"))
			continue;
		json_array_foreach(runs, j, r) if (!strcmp(str(r, "series"), str(s, "series")))
		{
			if (!vmm || !strcmp(str(r, "vmm"), vmm))
				return s;
			break;
		}
	}
	return NULL;
}

static void gather(struct dec *d, json_t *wl, json_t *series, json_t *ser, json_t *key,
		   json_t *calib);

/* Translation of a VM series against its reference (2 MiB guest pages on THP,
 * the same VMM): per rep, (overhead - mediation - scheduling) of this series
 * minus the same of the reference, each against its own bare series (4 KiB
 * host backing pairs with bare on 4 KiB pages, THP with THP), so neither a
 * mediation or scheduling difference nor the bare side's own page size is
 * counted as translation (docs/METHOD.md). */
static void translation(struct dec *d, json_t *wl, json_t *series, json_t *ser, json_t *key,
			json_t *calib)
{
	json_t *runs = json_object_get(wl, "runs"), *cfg = json_object_get(ser, "config");
	json_t *first = d->n ? rdata_run(runs, str(ser, "series"), d->rep[0]) : NULL;
	const char *pr = first ? perf_reason(first) : NULL;
	snprintf(d->trans_note, sizeof(d->trans_note),
		 "A/B against 2 MiB guest pages on THP (same VMM), each series minus its own "
		 "mediation and scheduling; PMU page-walk cycles: %s",
		 pr ? pr : "recorded by perf but not used yet");
	if (!strcmp(str(cfg, "pagesize"), "2m") && !strcmp(str(cfg, "backing"), "thp")) {
		snprintf(d->trans_why, sizeof(d->trans_why),
			 "this series is the reference (2 MiB guest pages on THP): 0 by "
			 "construction; walk costs that remain are in the residual");
		return;
	}
	json_t *ref = translation_ref(runs, series, ser);
	if (!ref) {
		snprintf(d->trans_why, sizeof(d->trans_why),
			 "needs a reference series with 2 MiB guest pages on THP (--pagesize "
			 "4k,2m and/or --backing 4k,thp)");
		return;
	}
	if (!d->have_time || !d->have_sched) {
		snprintf(d->trans_why, sizeof(d->trans_why),
			 "this series' mediation or scheduling is not available, so its "
			 "translation cannot be separated from them");
		return;
	}
	struct dec *r = malloc(sizeof(*r));
	if (!r)
		return;
	r->no_trans = true;
	gather(r, wl, series, ref, key, calib);
	size_t have = 0;
	for (size_t i = 0; i < d->n; i++) {
		d->trans[i] = NAN;
		for (size_t j = 0; j < r->n && r->have_time && r->have_sched; j++)
			if (r->rep[j] == d->rep[i] && isfinite(r->core[j]) &&
			    isfinite(d->core[i])) {
				d->trans[i] = d->core[i] - r->core[j];
				have++;
				break;
			}
	}
	if (have < d->n)
		snprintf(d->trans_why, sizeof(d->trans_why),
			 "the reference series %s lacks %zu of %zu reps, or its mediation or "
			 "scheduling",
			 str(ref, "series"), d->n - have, d->n);
	else
		d->have_trans = true;
	snprintf(d->trans_note + strlen(d->trans_note),
		 sizeof(d->trans_note) - strlen(d->trans_note), "; reference: %s",
		 str(ref, "series"));
	free(r);
}

/* ---- gather the per-pair inputs ---- */

/* Both runs of every pair have the metric's timed region (docs/INTERFACES.md
 * section 2): then every component is a fraction of the bare region's time. */
static bool pairs_have_regions(struct dec *d, json_t *runs, const char *bs, const char *vs,
			       json_t *key)
{
	for (size_t i = 0; i < d->n; i++) {
		json_t *rb = rdata_run(runs, bs, d->rep[i]), *rv = rdata_run(runs, vs, d->rep[i]);
		json_t *gb = rdata_region(rb, key), *gv = rdata_region(rv, key);
		struct rdata_interval ib, iv;
		if (!gb || !gv || rdata_region_interval(gb, &ib) ||
		    rdata_region_interval(gv, &iv) || !(ib.wall_ns > 0) ||
		    strcmp(str(gb, "label"), str(gv, "label")))
			return false;
		if (i == 0)
			snprintf(d->region_label, sizeof(d->region_label), "%s", str(gb, "label"));
		d->shortest = ib.shortest;
	}
	return d->n > 0;
}

/* The region path of pair i: bare region time, exits inside it, and the
 * run-queue wait and steal (time on neither a CPU nor a run queue) of the
 * VM's vCPU thread beyond the bare thread's inside it. */
static void gather_region_pair(struct dec *d, size_t i, json_t *rb, json_t *rv, json_t *key)
{
	json_t *gb = rdata_region(rb, key), *gv = rdata_region(rv, key);
	struct rdata_interval ib, iv;
	rdata_region_interval(gb, &ib);
	rdata_region_interval(gv, &iv);
	d->tbare[i] = ib.wall_ns;
	count_exits_region(d, i, gv, &iv);
	double steal_b = ib.wall_ns - ib.run_ns - ib.wait_ns,
	       steal_v = iv.wall_ns - iv.run_ns - iv.wait_ns;
	d->sched[i] = ((iv.wait_ns - ib.wait_ns) + (steal_v - steal_b)) / ib.wall_ns;
	d->cpu[i] = (iv.run_ns - ib.run_ns) / ib.wall_ns;
	d->vm_wait_share[i] = iv.wall_ns > 0 ? iv.wait_ns / iv.wall_ns : NAN;
	d->unresolved[i] = ib.run_ns + ib.wait_ns > ib.wall_ns * DECOMPOSE_UNRESOLVED_FACTOR ||
			   iv.run_ns + iv.wait_ns > iv.wall_ns * DECOMPOSE_UNRESOLVED_FACTOR;
}

static void gather_whole_run_pair(struct dec *d, size_t i, json_t *rb, json_t *rv, json_t *wl,
				  int *slot)
{
	if (!count_exits_metric(d, i, rv, wl, slot))
		count_exits_vmm(d, i, rv);
	bool sa_b, sa_v;
	double st_b, st_v;
	char why[200] = "";
	bool cb, cv;
	double wb = sched_rate(rb, &sa_b, &st_b, NULL, 0, &cb);
	double wv = sched_rate(rv, &sa_v, &st_v, why, sizeof(why), &cv);
	if (!isfinite(wb) || !isfinite(wv)) {
		if (d->have_sched)
			snprintf(
			    d->sched_why, sizeof(d->sched_why),
			    "no run-queue wait and CPU time (sched collector) for rep %ld (%s)",
			    d->rep[i], !isfinite(wb) ? "bare run" : "VM run");
		d->have_sched = false;
	}
	d->sched[i] = wv - wb + (sa_v ? st_v : 0);
	if (i == 0)
		snprintf(d->sched_note, sizeof(d->sched_note),
			 "no timed regions: run-queue wait per ns of CPU time of the vCPU "
			 "thread(s) minus the bare thread's, assumed to hold in the timed region; "
			 "source: %s; steal: %.100s",
			 cv && cb
			     ? "sched collector, window ready..stopped (the workload run, boot "
			       "and teardown excluded)"
			     : "vmm-lite thread stats (whole VMM life)",
			 sa_v ? "included" : why);
}

static double mediation_at(const struct dec *d, size_t i, const double *z, enum med_model m);
static enum med_model chosen_model(const struct dec *d);

static void gather(struct dec *d, json_t *wl, json_t *series, json_t *ser, json_t *key,
		   json_t *calib)
{
	json_t *runs = json_object_get(wl, "runs");
	const char *bs = str(ser, "baseline_series"), *vs = str(ser, "series");
	bool lower = rdata_lower_is_better(key), no_trans = d->no_trans;
	memset(d, 0, sizeof(*d));
	d->no_trans = no_trans;
	d->n = rdata_pairs(runs, bs, vs, key, d->bare, d->vm, d->rep, MAXP);
	bool is_time = !strcmp(str(key, "m"), "time") && isfinite(rdata_to_ns(1, str(key, "u")));
	d->regions = pairs_have_regions(d, runs, bs, vs, key);
	d->have_time = d->regions || is_time;
	if (!d->have_time)
		snprintf(d->time_why, sizeof(d->time_why),
			 "needs the metric's timed region on both sides, or a whole-run time "
			 "metric ('time' in ns/us/ms/s), to turn exits and waits into a fraction "
			 "of the run; this metric is '%s' (%s)",
			 str(key, "m"), str(key, "u"));
	d->have_sched = true;
	d->inrun_kind = -1;
	d->have_inrun = d->n > 0;
	const char *storm =
	    json_string_value(json_object_get(json_object_get(wl, "params"), "kind"));
	for (size_t i = 0; i < d->n; i++) {
		json_t *rb = rdata_run(runs, bs, d->rep[i]), *rv = rdata_run(runs, vs, d->rep[i]);
		d->ovh[i] = stats_overhead_pct(d->bare[i], d->vm[i], lower) / 100.0;
		d->tbare[i] = is_time ? rdata_to_ns(d->bare[i], str(key, "u")) : NAN;
		int slot = -1;
		if (d->regions) {
			gather_region_pair(d, i, rb, rv, key);
			if (storm) /* exit-storm: its kind's slot, for the in-run cost */
				for (size_t k = 0; k < d->nk; k++)
					if (!strcmp(d->kinds[k].kind, calib_read_storm_kind(storm)))
						slot = (int)k;
		} else {
			gather_whole_run_pair(d, i, rb, rv, wl, &slot);
		}
		d->inrun[i] = inrun_cost(rv);
		if (slot < 0 || !isfinite(d->inrun[i]) ||
		    (d->inrun_kind >= 0 && d->inrun_kind != slot))
			d->have_inrun = false;
		d->inrun_kind = slot;
	}
	if (d->regions)
		snprintf(d->sched_note, sizeof(d->sched_note),
			 "inside the timed region '%s'%s: run-queue wait of the vCPU thread minus "
			 "the bare thread's, plus the difference of their time on neither a CPU "
			 "nor a run queue (steal by an outer hypervisor), / bare region time",
			 d->region_label,
			 d->shortest ? " (its shortest interval: a best-of metric)" : "");
	price_kinds(d, calib);
	double z0[MAXK] = {0};
	for (size_t i = 0; i < d->n; i++)
		d->core[i] = d->have_time && d->have_sched
				 ? d->ovh[i] - mediation_at(d, i, z0, chosen_model(d)) - d->sched[i]
				 : NAN;
	if (!d->no_trans)
		translation(d, wl, series, ser, key, calib);
}

/* ---- estimates: medians and a joint bootstrap ---- */

struct est {
	double measured, med, sched, trans, residual, med_b2b, med_sp, med_inrun;
};

static bool any_spacing(const struct dec *d)
{
	for (size_t k = 0; k < d->nk; k++)
		if (d->kinds[k].has_sp)
			return true;
	return false;
}

static enum med_model chosen_model(const struct dec *d)
{
	return d->have_inrun ? MED_INRUN : any_spacing(d) ? MED_SPACING : MED_B2B;
}

static const char *model_name(enum med_model m)
{
	return m == MED_INRUN ? "in-run" : m == MED_SPACING ? "spacing-aware" : "back-to-back";
}

static double median_of(double *v, size_t n)
{
	return stats_median(v, n);
}

/* mediation fraction of pair i; z[k]: the calibration draw of kind k in
 * standard errors (0 for the point estimate). In-run: the in-run kind at the
 * pair's own measured cost (no draw: its spread between VM boots is in the
 * bootstrap over pairs), other kinds spacing-aware. */
static double mediation_at(const struct dec *d, size_t i, const double *z, enum med_model m)
{
	double ns = 0;
	for (size_t k = 0; k < d->nk; k++) {
		const struct dec_kind *dk = &d->kinds[k];
		bool inrun = m == MED_INRUN && (int)k == d->inrun_kind;
		if (!dk->priced && !inrun)
			continue;
		double c = inrun	  ? d->inrun[i]
			   : m != MED_B2B ? d->sp_ns[i][k] + z[k] * d->sp_se[i][k]
					  : dk->cost.ns + z[k] * cost_se(&dk->cost);
		ns += d->counts[i][k] * c;
	}
	return ns / d->tbare[i];
}

static void estimate(const struct dec *d, const size_t *idx, const double *z, double *buf,
		     struct est *e)
{
	size_t n = d->n;
	for (size_t j = 0; j < n; j++)
		buf[j] = d->ovh[idx[j]];
	e->measured = median_of(buf, n);
	e->med = e->sched = e->trans = e->med_b2b = e->med_sp = e->med_inrun = 0;
	if (d->have_time) {
		double *out[] = {&e->med_b2b, &e->med_sp, &e->med_inrun};
		for (int m = MED_B2B; m <= MED_INRUN; m++) {
			if (m == MED_INRUN && !d->have_inrun)
				continue;
			for (size_t j = 0; j < n; j++)
				buf[j] = mediation_at(d, idx[j], z, (enum med_model)m);
			*out[m] = median_of(buf, n);
		}
		e->med = *out[chosen_model(d)];
	}
	if (d->have_sched) {
		for (size_t j = 0; j < n; j++)
			buf[j] = d->sched[idx[j]];
		e->sched = median_of(buf, n);
	}
	if (d->have_trans) {
		for (size_t j = 0; j < n; j++)
			buf[j] = d->trans[idx[j]];
		e->trans = median_of(buf, n);
	}
	/* the residual of each pair, then its median: under a loaded host the
	 * scheduling component swings from pair to pair, and medians of
	 * different quantities do not add up */
	for (size_t j = 0; j < n; j++) {
		size_t i = idx[j];
		buf[j] = d->ovh[i] - (d->have_time ? mediation_at(d, i, z, chosen_model(d)) : 0) -
			 (d->have_sched ? d->sched[i] : 0) - (d->have_trans ? d->trans[i] : 0);
	}
	e->residual = median_of(buf, n);
}

#define NCOMP                                                                                      \
	8 /* measured, mediation, scheduling, translation, residual, back-to-back,                 \
	     spacing-aware, in-run */
struct ci {
	double lo[NCOMP], hi[NCOMP];
};

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void bootstrap(const struct dec *d, struct ci *ci)
{
	size_t n = d->n, idx[MAXP];
	double z[MAXK], buf[MAXP];
	double *reps = malloc(NCOMP * DECOMPOSE_ITERS * sizeof(double));
	if (!reps)
		return;
	uint64_t rng = DECOMPOSE_SEED;
	for (size_t b = 0; b < DECOMPOSE_ITERS; b++) {
		for (size_t j = 0; j < n; j++)
			idx[j] = (size_t)(stats_rand(&rng) % n);
		for (size_t k = 0; k < d->nk; k++)
			z[k] = stats_normal(&rng); /* one draw per kind: shared by all pairs */
		struct est e;
		estimate(d, idx, z, buf, &e);
		double v[NCOMP] = {e.measured, e.med,	  e.sched,  e.trans,
				   e.residual, e.med_b2b, e.med_sp, e.med_inrun};
		for (int c = 0; c < NCOMP; c++)
			reps[c * DECOMPOSE_ITERS + b] = v[c];
	}
	for (int c = 0; c < NCOMP; c++) {
		double *r = reps + c * DECOMPOSE_ITERS;
		qsort(r, DECOMPOSE_ITERS, sizeof(double), cmpd);
		ci->lo[c] = r[(size_t)(0.025 * (DECOMPOSE_ITERS - 1))];
		ci->hi[c] = r[(size_t)ceil(0.975 * (DECOMPOSE_ITERS - 1))];
	}
	free(reps);
}

/* ---- JSON ---- */

static json_t *comp(const char *name, bool avail, double v, double lo, double hi,
		    const char *reason, const char *note)
{
	return json_pack("{s:s,s:b,s:o,s:[o,o],s:o,s:o,s:o}", "name", name, "available", avail,
			 "value_pct", avail ? num(v * 100) : json_null(), "ci95_pct",
			 avail ? num(lo * 100) : json_null(), avail ? num(hi * 100) : json_null(),
			 "reason", reason && *reason ? json_string(reason) : json_null(), "note",
			 note && *note ? json_string(note) : json_null(), "detail", json_object());
}

static json_t *mediation_detail(const struct dec *d)
{
	json_t *kinds = json_array();
	double buf[MAXP], ex[MAXP];
	for (size_t k = 0; k < d->nk; k++) {
		const struct dec_kind *dk = &d->kinds[k];
		for (size_t i = 0; i < d->n; i++)
			buf[i] = d->counts[i][k];
		json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:s,s:b}", "kind", dk->kind, "exit_reasons",
				      dk->reasons, "source", dk->source, "count_median",
				      num(stats_median(buf, d->n)), "count_unit",
				      d->regions ? "exits per timed interval" : "exits per run",
				      "priced", dk->priced);
		if (dk->priced)
			json_object_set_new(o, "cost_ns",
					    json_pack("{s:f,s:[f,f],s:I}", "median", dk->cost.ns,
						      "ci95", dk->cost.ci_lo, dk->cost.ci_hi, "n",
						      (json_int_t)dk->cost.n));
		if (dk->has_sp) {
			double g[MAXP], c[MAXP];
			size_t ng = 0;
			for (size_t i = 0; i < d->n; i++)
				if (isfinite(d->gap[i][k]))
					g[ng] = d->gap[i][k], c[ng++] = d->sp_ns[i][k];
			json_object_set_new(
			    o, "spacing",
			    json_pack(
				"{s:o,s:o,s:I,s:s}", "gap_ns_median",
				num(ng ? stats_median(g, ng) : NAN), "cost_ns_median",
				num(ng ? stats_median(c, ng) : NAN), "curve_points",
				(json_int_t)dk->sp.n, "gap_basis",
				"bare time / exits of this kind; cost interpolated on the "
				"calibration's spacing curve (log gap, linear cost, clamped)"));
		}
		if (!dk->priced)
			json_object_set_new(o, "reason", json_string(dk->why));
		json_array_append_new(kinds, o);
	}
	for (size_t i = 0; i < d->n; i++)
		ex[i] = d->excluded[i];
	return json_pack("{s:o,s:o,s:s}", "kinds", kinds, "excluded_exits_median",
			 num(d->n ? stats_median(ex, d->n) : NAN), "excluded_why",
			 "serial protocol output and the exit port: outside the timed region");
}

static void mediation_status(const struct dec *d, char *why, size_t len, char *note, size_t nlen,
			     bool *avail)
{
	size_t unpriced = 0;
	*avail = d->have_time;
	why[0] = note[0] = 0;
	if (!d->have_time) {
		snprintf(why, len, "%s", d->time_why);
		return;
	}
	if (d->whole_run)
		snprintf(note, nlen,
			 "upper bound: exits counted over the whole VM run (boot and "
			 "protocol output included), not in the timed region");
	for (size_t k = 0; k < d->nk; k++)
		if (!d->kinds[k].priced) {
			size_t l = strlen(note);
			double c[MAXP];
			for (size_t i = 0; i < d->n; i++)
				c[i] = d->counts[i][k];
			snprintf(note + l, nlen - l, "%snot priced: %s, %.6g exits (%s)",
				 l ? "; " : "", d->kinds[k].kind, stats_median(c, d->n),
				 d->kinds[k].why);
			unpriced++;
		}
	if (d->nk && unpriced == d->nk && !d->have_inrun) {
		*avail = false;
		snprintf(why, len, "no exit kind has a calibrated cost: %.500s", note);
	}
}

static json_t *model_json(bool avail, double v, const struct ci *ci, int c)
{
	return json_pack("{s:o,s:[o,o]}", "value_pct", avail ? num(v * 100) : json_null(),
			 "ci95_pct", avail ? num(ci->lo[c] * 100) : json_null(),
			 avail ? num(ci->hi[c] * 100) : json_null());
}

/* The measured overhead: the one paired estimator of core/stats.c (the
 * summary's), with its order-statistic interval and that interval's level. */
static json_t *measured_json(const struct dec *d, json_t *key)
{
	struct stats_overhead o;
	bool ok = d->n > 0 &&
		  !stats_overhead_paired(d->bare, d->vm, d->n, rdata_lower_is_better(key), &o);
	json_t *m =
	    comp("measured", ok, ok ? o.value / 100 : NAN, ok ? o.ci_lo / 100 : NAN,
		 ok ? o.ci_hi / 100 : NAN, NULL,
		 "time-equivalent overhead: median over pairs of the time ratio, minus 1, "
		 "with the order-statistic interval of that median (stats_overhead_paired)");
	json_object_set_new(m, "ci_level", ok ? json_real(o.ci_level) : json_null());
	json_object_set_new(m, "underpowered", json_boolean(!ok || o.underpowered));
	return m;
}

static json_t *entry_json(const struct dec *d, json_t *wl, json_t *ser, json_t *key)
{
	size_t idx[MAXP];
	double z[MAXK] = {0}, buf[MAXP];
	for (size_t i = 0; i < d->n; i++)
		idx[i] = i;
	struct est e;
	struct ci ci;
	estimate(d, idx, z, buf, &e);
	bootstrap(d, &ci);
	char why[600], note[600];
	bool mavail;
	mediation_status(d, why, sizeof(why), note, sizeof(note), &mavail);
	json_t *xk = json_object_get(key, "xk");
	bool curve = json_is_string(xk);
	json_t *comps = json_array();
	bool sp = any_spacing(d);
	json_t *m = comp("mediation", mavail, e.med, ci.lo[1], ci.hi[1], why, note);
	json_t *det = mediation_detail(d);
	json_object_set_new(det, "model", json_string(model_name(chosen_model(d))));
	json_object_set_new(det, "back_to_back", model_json(mavail, e.med_b2b, &ci, 5));
	json_object_set_new(det, "spacing_aware", model_json(mavail && sp, e.med_sp, &ci, 6));
	json_t *ir = model_json(mavail && d->have_inrun, e.med_inrun, &ci, 7);
	if (d->have_inrun) {
		json_object_set_new(ir, "cost_ns_median", num(stats_median(d->inrun, d->n)));
		json_object_set_new(ir, "kind", json_string(d->kinds[d->inrun_kind].kind));
		json_object_set_new(
		    ir, "source",
		    json_string("exit-storm's self-calibration of each VM run "
				"(back-to-back exits in the same VM, before the "
				"timed region): the vCPU thread's CPU time per exit in "
				"its timed region 'selfcal_exit_ns' when recorded (no "
				"run-queue waits), else the metric selfcal_exit_ns"));
	}
	json_object_set_new(det, "in_run", ir);
	json_object_set_new(m, "detail", det);
	json_array_append_new(comps, m);
	json_array_append_new(comps, comp("translation", d->have_trans, e.trans, ci.lo[3], ci.hi[3],
					  d->trans_why, d->trans_note));
	json_array_append_new(comps, comp("scheduling", d->have_sched, e.sched, ci.lo[2], ci.hi[2],
					  d->sched_why, d->sched_note));
	json_t *res = comp("residual", true, e.residual, ci.lo[4], ci.hi[4], NULL,
			   "measured minus the sum of the available components");
	if (d->regions)
		residual_cause(d, e.residual, json_object_get(res, "detail"));
	json_array_append_new(comps, res);
	return json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:I,s:o,s:o}", "workload",
			 json_object_get(wl, "name"), "series", json_object_get(ser, "series"),
			 "vm_config", json_object_get(ser, "config"), "metric",
			 json_object_get(key, "m"), "unit", json_object_get(key, "u"), "better",
			 json_object_get(key, "better"), "xk", curve ? xk : json_null(), "xu",
			 curve ? json_object_get(key, "xu") : json_null(), "x",
			 curve ? json_object_get(key, "x") : json_null(), "pairs", (json_int_t)d->n,
			 "measured", measured_json(d, key), "components", comps);
}

/* What the residual is made of, measured pair by pair inside the timed
 * intervals (docs/METHOD.md "Residuals"): the CPU time of the vCPU thread
 * beyond the bare thread's that exits and translation do not explain, the
 * rest (wall time outside the threads' CPU and wait accounting), how many
 * pairs had an interval the scheduler's accounting cannot resolve, and,
 * beyond +-DECOMPOSE_RESIDUAL_PP points, which of these is the cause. */
static void residual_cause(const struct dec *d, double residual, json_t *detail)
{
	double cpu[MAXP], rest[MAXP], share[MAXP], z0[MAXK] = {0};
	size_t nun = 0, nsh = 0;
	for (size_t i = 0; i < d->n; i++) {
		double med = d->have_time ? mediation_at(d, i, z0, chosen_model(d)) : 0;
		double res = d->ovh[i] - med - (d->have_sched ? d->sched[i] : 0) -
			     (d->have_trans ? d->trans[i] : 0);
		cpu[i] = d->cpu[i] - med - (d->have_trans ? d->trans[i] : 0);
		rest[i] = res - cpu[i];
		nun += d->unresolved[i];
		if (isfinite(d->vm_wait_share[i]))
			share[nsh++] = d->vm_wait_share[i];
	}
	double c = stats_median(cpu, d->n) * 100, r = stats_median(rest, d->n) * 100;
	double w = nsh ? stats_median(share, nsh) * 100 : NAN;
	char cause[400] = "";
	/* a part names the cause when it carries at least half of the residual, in
	 * its direction */
	double res = fabs(residual * 100), sgn = residual < 0 ? -1 : 1;
	if (res > DECOMPOSE_RESIDUAL_PP) {
		if (nun * 4 >= d->n)
			snprintf(
			    cause, sizeof(cause),
			    "unresolved accounting: in %zu of %zu pairs a timed interval's run + "
			    "wait exceeded its wall time (a context switch inside a marker's "
			    "snapshot; vmm-lite retries such snapshots since 2026-12-03), so "
			    "those pairs' waits are miscounted (CPU-time part %+.1f pp)",
			    nun, d->n, c);
		else if (c * sgn >= res / 2 && c * sgn >= r * sgn)
			snprintf(
			    cause, sizeof(cause),
			    "CPU time: the vCPU thread's CPU time differed from the bare thread's "
			    "by %+.1f pp of bare time beyond what exits and translation explain "
			    "(not waits): unmodelled (cache/TLB effects of exits, "
			    "microarchitecture, or, on a loaded host, other CPUs' pressure on the "
			    "shared cache and memory bandwidth during one side's runs)",
			    c);
		else if (r * sgn >= res / 2)
			snprintf(
			    cause, sizeof(cause),
			    "timing outside the CPU accounting: %+.1f pp of the pairs' wall time "
			    "is neither CPU time nor run-queue wait (the VM waited %.0f%% of its "
			    "interval); CPU-time part %+.1f pp",
			    r, w, c);
		else
			snprintf(
			    cause, sizeof(cause),
			    "pair-to-pair spread: neither part carries it in the median (CPU-time "
			    "part %+.1f pp, the rest %+.1f pp, over %zu pairs): the pairs "
			    "disagree; measure more pairs",
			    c, r, d->n);
	}
	json_object_set_new(detail, "cpu_pct", num(c));
	json_object_set_new(detail, "rest_pct", num(r));
	json_object_set_new(detail, "unresolved_pairs", json_integer((json_int_t)nun));
	json_object_set_new(detail, "vm_wait_share_pct", num(w));
	json_object_set_new(detail, "cause", cause[0] ? json_string(cause) : json_null());
}

/* Which metrics to decompose: the whole-run time when there is one, else all. */
static json_t *selected_keys(json_t *runs)
{
	json_t *keys = rdata_metric_keys(runs), *k, *out = json_array();
	size_t i;
	json_array_foreach(keys, i, k)
	{
		if (!strcmp(str(k, "m"), "time") && !json_is_string(json_object_get(k, "xk"))) {
			json_array_append(out, k);
			json_decref(keys);
			return out;
		}
	}
	json_array_foreach(keys, i, k)
	{
		/* counters the workload reports about itself are not performance metrics */
		if (!strcmp(str(k, "u"), "count"))
			continue;
		json_array_append(out, k);
	}
	json_decref(keys);
	return out;
}

/* predicted_<sfx>_pct, _ci95, error_<sfx>_pct, within_tol_<sfx> of one cost model
 * (null / false when the model is not available) */
static void validation_model(json_t *row, json_t *model, const char *sfx, double mv)
{
	char k[4][48];
	json_t *v = json_object_get(model, "value_pct");
	double pv = json_is_number(v) ? json_number_value(v) : NAN, err = (pv - mv) / mv * 100;
	snprintf(k[0], sizeof(k[0]), "predicted_%s_pct", sfx);
	snprintf(k[1], sizeof(k[1]), "predicted_%s_ci95", sfx);
	snprintf(k[2], sizeof(k[2]), "error_%s_pct", sfx);
	snprintf(k[3], sizeof(k[3]), "within_tol_%s", sfx);
	json_object_set_new(row, k[0], num(pv));
	json_object_set(row, k[1],
			json_is_number(v) ? json_object_get(model, "ci95_pct") : json_null());
	json_object_set_new(row, k[2], num(err));
	json_object_set_new(
	    row, k[3], json_boolean(isfinite(err) && fabs(err) <= DECOMPOSE_VALIDATION_TOL_PCT));
}

/* The VMM's count of the storm's exits inside the timed region against the
 * agent's own count (workload metric 'exits'), pair by pair; and whether the
 * prediction's CI meets the measured CI widened by the tolerance (the point
 * verdict within_tol ignores both spreads). */
static void storm_cross_check(json_t *row, json_t *wl, json_t *entry, const struct dec *d,
			      json_t *med, json_t *meas)
{
	json_t *key = json_pack("{s:s}", "m", "exits");
	double agent[MAXP], vmm[MAXP];
	size_t n = 0;
	bool agree = d->regions && d->inrun_kind >= 0;
	for (size_t i = 0; i < d->n && d->regions && d->inrun_kind >= 0; i++) {
		json_t *rv =
		    rdata_run(json_object_get(wl, "runs"), str(entry, "series"), d->rep[i]);
		json_t *m = rv ? rdata_find_metric(rv, key) : NULL;
		if (!m)
			continue;
		agent[n] = json_number_value(json_object_get(m, "v"));
		vmm[n] = d->counts[i][d->inrun_kind];
		agree = agree && agent[n] == vmm[n];
		n++;
	}
	json_decref(key);
	json_object_set_new(row, "exits_agent_median",
			    n ? num(stats_median(agent, n)) : json_null());
	json_object_set_new(row, "exits_vmm_median", n ? num(stats_median(vmm, n)) : json_null());
	json_object_set_new(row, "exits_agree",
			    n && d->regions ? json_boolean(agree) : json_null());
	json_t *pc = json_object_get(med, "ci95_pct"), *mc = json_object_get(meas, "ci95_pct");
	double plo = json_number_value(json_array_get(pc, 0)),
	       phi = json_number_value(json_array_get(pc, 1)),
	       mlo = json_number_value(json_array_get(mc, 0)),
	       mhi = json_number_value(json_array_get(mc, 1)),
	       t = DECOMPOSE_VALIDATION_TOL_PCT / 100;
	json_object_set_new(row, "within_tol_ci",
			    json_boolean(json_is_array(pc) && json_is_array(mc) &&
					 plo <= mhi * (1 + t) && phi >= mlo * (1 - t)));
}

static json_t *validation_row(json_t *wl, json_t *entry, const struct dec *d)
{
	json_t *params = json_object_get(wl, "params");
	json_t *comps = json_object_get(entry, "components");
	json_t *med = json_array_get(comps, 0), *res = json_array_get(comps, 3);
	json_t *meas = json_object_get(entry, "measured");
	if (!json_is_true(json_object_get(med, "available")))
		return NULL;
	/* what mediation must explain: the measured overhead minus the pair's
	 * scheduling (on a loaded host the run-queue wait inside the storm's
	 * region is often larger than its exits' cost) */
	double mv = json_number_value(json_object_get(meas, "value_pct")), ms[MAXP];
	for (size_t i = 0; d->have_sched && i < d->n; i++)
		ms[i] = (d->ovh[i] - d->sched[i]) * 100;
	if (d->have_sched && d->n)
		mv = stats_median(ms, d->n);
	double pv = json_number_value(json_object_get(med, "value_pct"));
	/* the guest's own stopwatch around the exits, as a fraction of bare time */
	double g[MAXP];
	size_t ng = 0;
	json_t *key = json_pack("{s:s}", "m", "exit_time");
	for (size_t i = 0; i < d->n; i++) {
		json_t *rv =
		    rdata_run(json_object_get(wl, "runs"), str(entry, "series"), d->rep[i]);
		json_t *m = rv ? rdata_find_metric(rv, key) : NULL;
		if (m)
			g[ng++] =
			    rdata_to_ns(json_number_value(json_object_get(m, "v")), str(m, "u")) /
			    d->tbare[i] * 100;
	}
	json_decref(key);
	double err = (pv - mv) / mv * 100;
	json_t *det = json_object_get(med, "detail");
	double gap = NAN;
	json_t *k0 = json_array_get(json_object_get(det, "kinds"), 0);
	if (json_is_object(json_object_get(k0, "spacing")))
		gap = json_number_value(
		    json_object_get(json_object_get(k0, "spacing"), "gap_ns_median"));
	else if (d->n && d->nk && d->counts[0][0] > 0) {
		double gg[MAXP];
		for (size_t i = 0; i < d->n; i++)
			gg[i] = d->counts[i][0] > 0 ? d->tbare[i] / d->counts[i][0] : NAN;
		gap = stats_median(gg, d->n);
	}
	json_t *extra = json_pack("{s:O,s:o}", "model", json_object_get(det, "model"), "gap_us",
				  num(gap / 1e3));
	validation_model(extra, json_object_get(det, "back_to_back"), "b2b", mv);
	validation_model(extra, json_object_get(det, "spacing_aware"), "sp", mv);
	json_t *ir = json_object_get(det, "in_run");
	validation_model(extra, ir, "inrun", mv);
	json_object_set(extra, "selfcal_exit_ns",
			json_is_number(json_object_get(ir, "cost_ns_median"))
			    ? json_object_get(ir, "cost_ns_median")
			    : json_null());
	json_t *row =
	    json_pack("{s:O,s:O,s:O,s:O,s:O,s:I,s:f,s:O,s:f,s:O,s:O,s:O,s:o,s:b,s:o}", "workload",
		      json_object_get(wl, "name"), "series", json_object_get(entry, "series"), "k",
		      json_object_get(params, "k"), "kind", json_object_get(params, "kind"),
		      "exits", json_object_get(params, "exits"), "pairs", (json_int_t)d->n,
		      "measured_pct", mv, "measured_ci95", json_object_get(meas, "ci95_pct"),
		      "predicted_pct", pv, "predicted_ci95", json_object_get(med, "ci95_pct"),
		      "residual_pct", json_object_get(res, "value_pct"), "residual_ci95",
		      json_object_get(res, "ci95_pct"), "error_pct", num(err), "within_tol",
		      isfinite(err) && fabs(err) <= DECOMPOSE_VALIDATION_TOL_PCT,
		      "guest_exit_time_pct", ng ? num(stats_median(g, ng)) : json_null());
	if (row)
		json_object_update(row, extra);
	json_decref(extra);
	storm_cross_check(row, wl, entry, d, med, meas);
	json_object_set_new(
	    row, "compared_with",
	    json_string(d->have_sched ? "measured minus scheduling, per pair" : "measured"));
	json_object_set_new(row, "measured_minus_scheduling_pct",
			    d->have_sched ? num(mv) : json_null());
	return row;
}

static void decompose_workload(json_t *wl, json_t *calib, struct dec *d, json_t *entries,
			       json_t *validation)
{
	json_t *runs = json_object_get(wl, "runs");
	json_t *series = rdata_vm_series(runs), *keys = selected_keys(runs), *ser, *key;
	size_t i, j;
	bool storm = !strcmp(str(wl, "name"), "exit-storm");
	json_array_foreach(series, i, ser) json_array_foreach(keys, j, key)
	{
		gather(d, wl, series, ser, key, calib);
		if (d->n == 0)
			continue;
		json_t *e = entry_json(d, wl, ser, key);
		json_array_append_new(entries, e);
		json_t *v = storm ? validation_row(wl, e, d) : NULL;
		if (v)
			json_array_append_new(validation, v);
	}
	json_decref(series);
	json_decref(keys);
}

json_t *decompose_results(json_t *results, json_t *calib)
{
	if (!calib)
		calib = json_object_get(results, "calibration");
	struct dec *d = malloc(sizeof(*d));
	if (!d)
		return NULL;
	json_t *entries = json_array(), *validation = json_array(), *wl;
	size_t i;
	json_array_foreach(json_object_get(results, "workloads"), i, wl)
	    decompose_workload(wl, calib, d, entries, validation);
	free(d);
	return json_pack(
	    "{s:o,s:o,s:s,s:s,s:o,s:o}", "io", decompose_io(results, calib), "memory_pressure",
	    decompose_mem_pressure(results), "method",
	    "per pair: overhead = time-equivalent (VM-bare)/bare; mediation = sum over exit kinds "
	    "of exits x calibrated ns / bare time (spacing-aware: the cost at the mean compute gap "
	    "between exits, bare time / exits, on the calibration's spacing curve; back-to-back "
	    "cost for kinds without one; exit-storm runs with selfcal_exit_ns: that VM run's own "
	    "in-run cost per exit, since exit cost varies per VM boot); translation = overhead(4k "
	    "guest pages) - "
	    "overhead(2m) of the same rep; scheduling = (vCPU run-queue wait - bare wait + steal) "
	    "/ bare time; value = median over pairs, residual = measured - sum; 95% CI: "
	    "bootstrap over pairs (2000 resamples, fixed seed) with calibrated costs drawn from "
	    "their CIs. See docs/METHOD.md.",
	    "calibration_source",
	    calib ? "calibration object" : "none (mediation cannot be priced)", "entries", entries,
	    "validation", validation);
}
