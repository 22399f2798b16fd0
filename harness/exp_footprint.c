/*
 * Experiment `vmm-footprint` (`virttax footprint`, `virttax run --workloads
 * vmm-footprint`): what a VMM costs per VM before the guest does anything:
 * boot-to-ready time and memory overhead, for each VMM, for 1 vCPU / 128 MiB
 * and 2 vCPUs / 1 GiB.
 *
 * Why a harness-side measurement and not a guest workload: both numbers are
 * about the VMM process (when the agent's first line appears, what the
 * process holds besides guest RAM), so they are read from outside while the
 * VMM is alive: at vmm-lite's "stopped" handshake, and while the agent holds
 * under QEMU (harness/footprint.c, child.c). The series of a round run in a
 * counterbalanced order like every experiment; every number has a median,
 * its interval and n; ratios come with the interval of a ratio of two
 * samples (Hodges-Lehmann, Mann-Whitney), each at its real level. Adding a
 * VMM is a VMM driver: its series come for free.
 * kvm-floor (docs/FLOOR.md), the least VMM this host can run, is measured in
 * every configuration beside the VMMs (one vCPU, the configuration's RAM), and
 * each VMM's spawn->entry and memory come as a ratio to it too: the physical
 * floor of the same run, not a number from elsewhere.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/results.h"
#include "core/stats.h"
#include "harness/experiment.h"
#include "harness/footprint.h"
#include "harness/runner.h"

#define FP_MAX_REPS 1000
#define FP_TIMEOUT_S 60
#define FP_WORKLOAD "vmm-footprint"
#define FP_DEFAULT_VMMS "vmm-lite,qemu"
#define FP_MAX_VMMS 4

struct fp_config {
	unsigned vcpus;
	uint64_t mem_bytes;
	const char *label;
};

static const struct fp_config configs[] = {
    {1, 128ull << 20, "1 vCPU / 128 MiB"},
    {2, 1024ull << 20, "2 vCPUs / 1 GiB"},
};
#define NCONFIGS (sizeof(configs) / sizeof(configs[0]))

/* the per-run numbers, in this order everywhere */
static const char *const metric_names[] = {"boot_to_hello_ms", "spawn_to_entry_ms",
					   "overhead_rss_kib", "overhead_pss_kib"};
static const char *const metric_units[] = {"ms", "ms", "KiB", "KiB"};
#define NMETRICS 4

/* spawn-relative TSC of the agent's first instruction; NAN when not plausible */
static double entry_ms(const struct run_result *res, unsigned long tsc_khz)
{
	json_t *e = json_object_get(res->proto.hello, "tsc_entry");
	if (!json_is_integer(e) || !tsc_khz)
		return NAN;
	uint64_t t = (uint64_t)json_integer_value(e);
	if (t < res->spawn_tsc)
		return NAN; /* the guest's TSC is not the host's (an offset): unusable */
	double ms = (double)(t - res->spawn_tsc) / (double)tsc_khz;
	return ms * 1e6 <= (double)res->hello_ns ? ms : NAN;
}

static double fp_num(const json_t *fp, const char *key)
{
	json_t *v = json_object_get(fp, key);
	return json_is_integer(v) ? (double)json_integer_value(v) : NAN;
}

static json_t *summary_json(const double *v, size_t m, const char *unit)
{
	struct stats_summary st;
	if (!m || stats_summarize(v, m, &st))
		return json_pack("{s:s,s:i}", "unit", unit, "n", 0);
	return json_pack("{s:s,s:i,s:f,s:f,s:f,s:f,s:[f,f],s:f,s:b}", "unit", unit, "n", (int)m,
			 "median", st.median, "min", st.min, "max", st.max, "mad", stats_mad(v, m),
			 "ci", st.ci_lo, st.ci_hi, "ci_level", st.ci_level, "underpowered",
			 st.underpowered);
}

/* The ratio b/a of two independent samples (core/stats.c: Hodges-Lehmann with
 * the Mann-Whitney interval at its real level), with the two sample sizes
 * under the names given; null when there is none. */
static json_t *ratio_of(const double *b, size_t nb, const double *a, size_t na, const char *nb_name,
			const char *na_name)
{
	struct stats_shift r;
	if (!na || !nb || stats_ratio_shift(a, na, b, nb, STATS_CI_NOMINAL, &r))
		return json_null();
	return json_pack("{s:f,s:[f,f],s:f,s:b,s:i,s:i}", "value", r.ratio, "ci", r.lo, r.hi,
			 "ci_level", r.level, "underpowered", r.underpowered, nb_name, (int)nb,
			 na_name, (int)na);
}

/* vmm-lite / QEMU */
static json_t *ratio_json(const double *lite, size_t na, const double *qemu, size_t nb)
{
	return ratio_of(lite, na, qemu, nb, "n_vmmlite", "n_qemu");
}

/* a VMM / the floor */
static json_t *floor_ratio_json(const double *vmm, size_t nv, const double *fl, size_t nf)
{
	return ratio_of(vmm, nv, fl, nf, "n_vmm", "n_floor");
}

/* the floor has no agent, so no hello line: its boot ends at its first instruction */
static bool floor_metric(size_t m)
{
	return m != 0;
}

/* "14.5 [13.3, 15.7]": the median and its interval ("n=0" when none);
 * " (n=K)" is appended when K differs from the row's n */
static void cell(char *buf, size_t len, json_t *m, int prec, json_int_t row_n)
{
	json_t *ci = json_object_get(m, "ci");
	json_int_t n = json_integer_value(json_object_get(m, "n"));
	if (!n || !json_is_number(json_object_get(m, "median"))) {
		snprintf(buf, len, "n=0");
		return;
	}
	int o = snprintf(buf, len, "%.*f [%.*f, %.*f]", prec,
			 json_number_value(json_object_get(m, "median")), prec,
			 json_number_value(json_array_get(ci, 0)), prec,
			 json_number_value(json_array_get(ci, 1)));
	if (n != row_n && o > 0 && (size_t)o < len)
		snprintf(buf + o, len - (size_t)o, " (n=%lld)", (long long)n);
}

/* "97.9%" or "75.0% underpowered": the level of a row's interval */
static void level_cell(char *buf, size_t len, json_t *m)
{
	json_t *l = json_object_get(m, "ci_level");
	if (!json_is_number(l))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%%s", json_number_value(l) * 100,
			 json_is_true(json_object_get(m, "underpowered")) ? " underpowered" : "");
}

/* "0.812 [0.790, 0.835]": a ratio with its interval */
static void ratio_cell(char *buf, size_t len, json_t *r)
{
	json_t *ci = json_object_get(r, "ci");
	if (!json_is_object(r))
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.3f [%.3f, %.3f]",
			 json_number_value(json_object_get(r, "value")),
			 json_number_value(json_array_get(ci, 0)),
			 json_number_value(json_array_get(ci, 1)));
}

void footprint_print_table(FILE *f, json_t *configs_json)
{
	size_t i;
	json_t *cfg;
	fprintf(f, "%-18s %-14s %-22s %-22s %-22s %-22s %s\n", "config", "vmm", "boot->hello ms",
		"spawn->entry ms", "RSS overhead KiB", "PSS overhead KiB", "n  CI level");
	json_array_foreach(configs_json, i, cfg)
	{
		const char *name, *label = json_string_value(json_object_get(cfg, "config"));
		json_t *o;
		json_object_foreach(json_object_get(cfg, "vmms"), name, o)
		{
			if (json_object_get(o, "reason")) {
				fprintf(f, "%-18s %-14s unavailable: %s\n", label, name,
					json_string_value(json_object_get(o, "reason")));
				continue;
			}
			/* the row's n: the boot's, or the entry's for the floor (no hello) */
			json_int_t n = json_integer_value(
			    json_object_get(json_object_get(o, metric_names[0]), "n"));
			if (!n)
				n = json_integer_value(
				    json_object_get(json_object_get(o, metric_names[1]), "n"));
			char c[NMETRICS][64];
			for (size_t k = 0; k < NMETRICS; k++)
				if (!strcmp(name, VMM_FLOOR_NAME) && !floor_metric(k))
					snprintf(c[k], sizeof(c[k]), "-");
				else
					cell(c[k], sizeof(c[k]),
					     json_object_get(o, metric_names[k]), k < 2 ? 1 : 0, n);
			char lev[32];
			level_cell(
			    lev, sizeof(lev),
			    json_object_get(o, metric_names[strcmp(name, VMM_FLOOR_NAME) ? 0 : 1]));
			fprintf(f, "%-18s %-14s", label, name);
			for (size_t k = 0; k < NMETRICS; k++)
				fprintf(f, " %-22s", c[k]);
			fprintf(f, " %lld  %s\n", (long long)n, lev);
		}
		json_t *fr;
		json_object_foreach(json_object_get(cfg, "ratio_to_floor"), name, fr)
		{
			char c[NMETRICS][64], who[32];
			for (size_t k = 0; k < NMETRICS; k++)
				if (floor_metric(k))
					ratio_cell(c[k], sizeof(c[k]),
						   json_object_get(fr, metric_names[k]));
				else
					snprintf(c[k], sizeof(c[k]), "-");
			json_t *b = json_object_get(fr, metric_names[1]);
			char lev[32];
			level_cell(lev, sizeof(lev), b);
			snprintf(who, sizeof(who), "%s/floor", name);
			fprintf(f, "%-18s %-14s %-22s %-22s %-22s %-22s %lld+%lld  %s\n", "", who,
				c[0], c[1], c[2], c[3],
				(long long)json_integer_value(json_object_get(b, "n_vmm")),
				(long long)json_integer_value(json_object_get(b, "n_floor")), lev);
		}
		json_t *r = json_object_get(cfg, "ratio_vmmlite_over_qemu");
		if (!json_object_size(r))
			continue;
		json_t *b = json_object_get(r, metric_names[0]);
		char c[NMETRICS][64];
		for (size_t k = 0; k < NMETRICS; k++)
			ratio_cell(c[k], sizeof(c[k]), json_object_get(r, metric_names[k]));
		char lev[32];
		level_cell(lev, sizeof(lev), b);
		fprintf(f, "%-18s %-14s %-22s %-22s %-22s %-22s %lld+%lld  %s\n", "",
			"vmm-lite/qemu", c[0], c[1], c[2], c[3],
			(long long)json_integer_value(json_object_get(b, "n_vmmlite")),
			(long long)json_integer_value(json_object_get(b, "n_qemu")), lev);
	}
	fprintf(f, "median [order-statistic CI of the median], n = reps with a value; ratio rows: "
		   "Hodges-Lehmann ratio [Mann-Whitney CI], n = numerator+denominator reps; CI "
		   "level: the real coverage of the row's first interval at its n (nominal 95%%); "
		   "kvm-floor: the "
		   "least VMM here (docs/FLOOR.md), one vCPU, no agent, so no hello line "
		   "(results.json \"footprint\": min, max, MAD)\n");
}

/* The VMMs: --vmm when given, else every VMM this build knows of. */
static size_t fp_vmms(const struct plan *p, const char **out)
{
	static const char *const defaults[] = {"vmm-lite", "qemu"};
	if (p->given & PLAN_F_VMM) {
		for (size_t i = 0; i < p->nvmms && i < FP_MAX_VMMS; i++)
			out[i] = p->vmms[i];
		return p->nvmms < FP_MAX_VMMS ? p->nvmms : FP_MAX_VMMS;
	}
	for (size_t i = 0; i < 2; i++)
		out[i] = defaults[i];
	return 2;
}

static bool fp_claims(const struct plan *p, const struct plan_workload *w)
{
	(void)p;
	return !strcmp(w->name, FP_WORKLOAD);
}

static int fp_validate(const struct plan *p, char *err, size_t len)
{
	for (size_t i = 0; i < p->nwl; i++)
		if (p->wl[i].ops)
			return snprintf(err, len,
					"--workloads %s: vmm-footprint runs alone (run the others "
					"in another `virttax run`)",
					p->wl[i].name),
			       -EINVAL;
	return 0;
}

/* one series per VMM and configuration; a VMM that fails its probe is unavailable */
static size_t fp_series(struct session *s, const struct plan_workload *w, struct series *out,
			size_t max)
{
	(void)w;
	const char *vmms[FP_MAX_VMMS];
	size_t nv = fp_vmms(s->plan, vmms), n = 0;
	for (size_t k = 0; k < NCONFIGS; k++)
		for (size_t v = 0; v <= nv && n < max; v++) {
			struct series *x = &out[n++];
			const char *vmm = v ? vmms[v - 1] : VMM_FLOOR_NAME; /* the floor first */
			*x = (struct series){.side = "vm",
					     .vmm = vmm,
					     .backing = "thp",
					     .pagesize = "2m",
					     .vcpus = v ? configs[k].vcpus : 1,
					     .mem_bytes = configs[k].mem_bytes,
					     .index = (int)k};
			snprintf(x->name, sizeof(x->name), "%s[%s]", vmm, configs[k].label);
			const struct vmm_ops *o = vmm_find_any(vmm);
			char why[200];
			if (o->probe(why, sizeof(why)))
				snprintf(x->unavailable, sizeof(x->unavailable), "%s%s",
					 strncmp(why, "unavailable: ", 13) ? "unavailable: " : "",
					 why);
		}
	return n;
}

static void add_metric(struct run_result *res, const char *m, const char *u, double v)
{
	if (!isnan(v))
		json_array_append_new(
		    res->proto.metrics,
		    json_pack("{s:s,s:s,s:s,s:f}", "m", m, "u", u, "better", "lower", "v", v));
}

static int fp_rep(struct session *s, const struct plan_workload *w, const struct series *ser,
		  const struct run_meta *m, json_t **record)
{
	static char iters[] = "iters=1000";
	struct plan_workload noop = {.name = "noop", .args = {iters}, .nargs = 1};
	struct run_spec spec;
	runner_spec(s, &noop, ser, &spec);
	spec.timeout_s = FP_TIMEOUT_S;
	spec.footprint = true;
	spec.cpu_list = NULL;
	spec.vmm_args = NULL, spec.nvmm_args = 0;
	struct run_result res;
	run_result_init(&res);
	int rc = runner_check(s, w, ser, runner_exec(s, &spec, ser->vmm, &res), &res);
	if (rc) {
		run_result_release(&res);
		return rc;
	}
	bool ok = res.status == RUN_OK && res.footprint && res.hello_ns;
	json_array_clear(res.proto.metrics); /* noop's own number is not what is measured here */
	if (ok) {
		if (strcmp(ser->vmm, VMM_FLOOR_NAME)) /* the floor's hello comes at its end */
			add_metric(&res, metric_names[0], metric_units[0],
				   (double)res.hello_ns / 1e6);
		add_metric(&res, metric_names[1], metric_units[1], entry_ms(&res, s->tsc_khz));
		add_metric(&res, metric_names[2], metric_units[2],
			   fp_num(res.footprint, "overhead_rss_kib"));
		add_metric(&res, metric_names[3], metric_units[3],
			   fp_num(res.footprint, "overhead_pss_kib"));
	} else if (res.status == RUN_OK) {
		res.status = RUN_FAILED;
		snprintf(res.reason, sizeof(res.reason), "%s",
			 res.footprint ? "no hello record" : "footprint not measured");
	}
	*record = results_run_record(m, &res);
	if (!strcmp(ser->vmm, VMM_FLOOR_NAME)) /* a reference, not a VMM under test */
		json_object_set_new(*record, "reference", json_true());
	json_object_set_new(*record, "footprint",
			    res.footprint ? json_incref(res.footprint) : json_null());
	json_object_set_new(*record, "footprint_config",
			    json_pack("{s:s,s:i,s:I}", "label", configs[ser->index].label, "vcpus",
				      (int)configs[ser->index].vcpus, "mem_bytes",
				      (json_int_t)configs[ser->index].mem_bytes));
	run_result_release(&res);
	return 0;
}

/* counted ok values of metric `name` of series `series` */
static size_t values(json_t *runs, const char *series, const char *name, double *out)
{
	size_t n = 0, i, j;
	json_t *r, *mm;
	json_array_foreach(runs, i, r)
	{
		const char *ser = json_string_value(json_object_get(r, "series"));
		if (!ser || strcmp(ser, series) || json_is_true(json_object_get(r, "warmup")) ||
		    strcmp(json_string_value(json_object_get(r, "status")), "ok"))
			continue;
		json_array_foreach(
		    json_object_get(r, "metrics"), j,
		    mm) if (!strcmp(json_string_value(json_object_get(mm, "m")), name) &&
			    n < FP_MAX_REPS) out[n++] = json_number_value(json_object_get(mm, "v"));
	}
	return n;
}

static json_t *config_json(json_t *wl, size_t k)
{
	json_t *per = json_object(), *ratios = json_object(), *to_floor = json_object(), *ser;
	json_t *runs = json_object_get(wl, "runs");
	size_t i, nvm = 0;
	static double a[FP_MAX_REPS], b[FP_MAX_REPS];
	const char *lite = NULL, *qemu = NULL, *floor = NULL, *vm_series[FP_MAX_VMMS + 1],
		   *vm_names[FP_MAX_VMMS + 1];
	json_array_foreach(json_object_get(wl, "series"), i, ser)
	{
		const char *name = json_string_value(json_object_get(ser, "series"));
		const char *vmm = json_string_value(json_object_get(ser, "vmm"));
		if (!strstr(name, configs[k].label))
			continue;
		if (json_is_string(json_object_get(ser, "reason"))) {
			json_object_set_new(per, vmm,
					    json_pack("{s:b,s:O}", "available", 0, "reason",
						      json_object_get(ser, "reason")));
			continue;
		}
		json_t *o = json_object();
		for (size_t m = 0; m < NMETRICS; m++) {
			size_t n = values(runs, name, metric_names[m], a);
			json_object_set_new(o, metric_names[m],
					    summary_json(a, n, metric_units[m]));
		}
		json_object_set_new(per, vmm, o);
		if (!strcmp(vmm, "vmm-lite"))
			lite = name;
		if (!strcmp(vmm, "qemu"))
			qemu = name;
		if (!strcmp(vmm, VMM_FLOOR_NAME))
			floor = name;
		else if (nvm <= FP_MAX_VMMS)
			vm_series[nvm] = name, vm_names[nvm++] = vmm;
	}
	for (size_t v = 0; floor && v < nvm; v++) {
		json_t *r = json_object();
		for (size_t m = 0; m < NMETRICS; m++) {
			if (!floor_metric(m))
				continue;
			size_t nv = values(runs, vm_series[v], metric_names[m], a);
			size_t nf = values(runs, floor, metric_names[m], b);
			json_object_set_new(r, metric_names[m], floor_ratio_json(a, nv, b, nf));
		}
		json_object_set_new(to_floor, vm_names[v], r);
	}
	for (size_t m = 0; lite && qemu && m < NMETRICS; m++) {
		size_t na = values(runs, lite, metric_names[m], a);
		size_t nb = values(runs, qemu, metric_names[m], b);
		json_object_set_new(ratios, metric_names[m], ratio_json(a, na, b, nb));
	}
	return json_pack("{s:s,s:i,s:I,s:o,s:o,s:o}", "config", configs[k].label, "vcpus",
			 (int)configs[k].vcpus, "mem_bytes", (json_int_t)configs[k].mem_bytes,
			 "vmms", per, "ratio_to_floor", to_floor, "ratio_vmmlite_over_qemu",
			 ratios);
}

static void fp_workload_end(struct session *s, const struct plan_workload *w, json_t *wl)
{
	(void)w;
	json_t *cfgs = json_array();
	for (size_t k = 0; k < NCONFIGS; k++)
		json_array_append_new(cfgs, config_json(wl, k));
	json_object_set_new(
	    s->results, "footprint",
	    json_pack("{s:o,s:s,s:s}", "configs", cfgs, "metrics",
		      "boot_to_hello_ms: spawn to the agent's hello line; spawn_to_entry_ms: "
		      "spawn to the agent's first instruction (host TSC); overhead_rss_kib, "
		      "overhead_pss_kib: the VMM process minus its guest RAM mapping",
		      "ratio",
		      "ratio_to_floor: each VMM / kvm-floor (docs/FLOOR.md), "
		      "ratio_vmmlite_over_qemu: vmm-lite/qemu; Hodges-Lehmann ratios with the "
		      "Mann-Whitney interval and its real level (ci_level)"));
}

void footprint_print(FILE *out, json_t *results)
{
	json_t *fp = json_object_get(results, "footprint");
	if (fp)
		footprint_print_table(out, json_object_get(fp, "configs"));
}

static double fp_estimate_ms(const struct session *s, const struct plan_workload *w,
			     const struct series *ser)
{
	(void)s, (void)w;
	return ser->vmm && !strcmp(ser->vmm, "qemu") ? 600 : 250;
}

const struct experiment_ops exp_footprint = {
    .name = "vmm-footprint",
    .help = "per-VM cost of each VMM: boot-to-ready time and memory overhead",
    .flags = PLAN_F_VMMS,
    .reps = 10,
    .quick_reps = 3,
    .no_warmup = true,
    .probes_vmms = true,
    .claims = fp_claims,
    .validate = fp_validate,
    .series = fp_series,
    .rep = fp_rep,
    .workload_end = fp_workload_end,
    .print = footprint_print,
    .estimate_ms = fp_estimate_ms,
};
