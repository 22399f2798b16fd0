/*
 * `virttax footprint` (also `virttax run --workloads vmm-footprint`): what a
 * VMM costs per VM before the guest does anything: boot-to-ready time and
 * memory overhead, for each VMM, for 1 vCPU / 128 MiB and 2 vCPUs / 1 GiB.
 *
 * Why a harness-side measurement and not a guest workload: both numbers are
 * about the VMM process (when the agent's first line appears, what the
 * process holds besides guest RAM), so they are read from outside while the
 * VMM is alive: at vmm-lite's "stopped" handshake, and while the agent holds
 * under QEMU (harness/footprint.c, child.c). Runs are interleaved across VMMs
 * (A B A B ...) like `virttax run`; every number has a median, its spread
 * and n; ratios vmm-lite/QEMU come with a bootstrap CI.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness/cmds.h"
#include "core/outfile.h"
#include "core/tsc.h"
#include "harness/footprint.h"
#include "harness/hosted.h"
#include "harness/plan.h"
#include "core/results.h"
#include "core/stats.h"
#include "harness/vmm.h"

#define FP_MAX_VMMS 4
#define FP_MAX_REPS 1000
#define FP_DEFAULT_REPS 10
#define FP_TIMEOUT_S 60

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

struct fp_args {
	char vmm_list[128];
	const char *vmms[FP_MAX_VMMS];
	size_t nvmms;
	unsigned reps;
	int cpu;
	char out[PATH_MAX];
};

struct fp_ctx {
	const struct fp_args *a;
	const struct vmm_ops *vmm[FP_MAX_VMMS];
	char why[FP_MAX_VMMS][400]; /* non-empty: this VMM is unavailable */
	unsigned long tsc_khz;
	char scratch[PATH_MAX];
	/* samples[vmm][config][metric][rep], NAN when missing */
	double (*samples)[NCONFIGS][NMETRICS][FP_MAX_REPS];
	json_t *runs;
	size_t failed;
};

bool footprint_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--workloads") && i + 1 < argc)
			a = argv[++i];
		else if (!strncmp(a, "--workloads=", 12))
			a += 12;
		else
			continue;
		if (strstr(a, "vmm-footprint"))
			return true;
	}
	return false;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: virttax footprint [--vmm LIST] [--reps N] [--pin CPU] [--out DIR]\n"
		"  per-VM cost of each VMM: boot-to-ready (spawn to the agent's hello line, and\n"
		"  spawn to the agent's first instruction by TSC) and memory overhead (RSS and\n"
		"  PSS of the VMM process minus its guest RAM mapping), for 1 vCPU / 128 MiB\n"
		"  and 2 vCPUs / 1 GiB; also `virttax run --workloads vmm-footprint`.\n"
		"  --vmm LIST   comma-separated (default vmm-lite,qemu)\n"
		"  --reps N     repetitions per VMM and configuration (default 10)\n"
		"  --pin CPU    CPU for the vCPU threads (default: the last allowed CPU)\n"
		"  --out DIR    where footprint.json goes (default out/footprint-DATE)\n"
		"  --quick      3 repetitions (the --warmup of `virttax run` is ignored)\n"
		"exit: 0 ok, 1 a run failed, 2 bad input, 3 host problem\n");
}

static int split_vmms(struct fp_args *a, const char *list, char *err, size_t len)
{
	snprintf(a->vmm_list, sizeof(a->vmm_list), "%s", list);
	char *save = NULL;
	a->nvmms = 0;
	for (char *t = strtok_r(a->vmm_list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!vmm_find(t))
			return snprintf(err, len,
					"--vmm '%s': unknown VMM (available: vmm-lite, qemu)", t),
			       -EINVAL;
		if (a->nvmms == FP_MAX_VMMS)
			return snprintf(err, len, "--vmm: at most %d VMMs", FP_MAX_VMMS), -EINVAL;
		a->vmms[a->nvmms++] = t;
	}
	return a->nvmms ? 0 : (snprintf(err, len, "--vmm: empty list"), -EINVAL);
}

static int parse_args(struct fp_args *a, int argc, char **argv, char *err, size_t len)
{
	static const struct option opts[] = {{"vmm", required_argument, 0, 'v'},
					     {"reps", required_argument, 0, 'r'},
					     {"pin", required_argument, 0, 'p'},
					     {"out", required_argument, 0, 'o'},
					     {"workloads", required_argument, 0, 'w'},
					     {"help", no_argument, 0, 'h'},
					     {"quick", no_argument, 0, 'q'},
					     {"warmup", required_argument, 0, 'W'},
					     {0, 0, 0, 0}};
	const char *vmm = "vmm-lite,qemu";
	char *end;
	memset(a, 0, sizeof(*a));
	a->reps = FP_DEFAULT_REPS;
	a->cpu = plan_default_cpu();
	optind = 0;
	opterr = 0;
	for (int c; (c = getopt_long(argc, argv, "+h", opts, NULL)) != -1;) {
		switch (c) {
		case 'h':
			return usage(stdout), 1;
		case 'v':
			vmm = optarg;
			break;
		case 'r':
			a->reps = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !*optarg || a->reps < 1 || a->reps > FP_MAX_REPS)
				return snprintf(err, len, "--reps '%s': expected 1..%d", optarg,
						FP_MAX_REPS),
				       -EINVAL;
			break;
		case 'p':
			a->cpu = (int)strtol(optarg, &end, 10);
			if (*end || !*optarg || a->cpu < 0 || a->cpu >= CPU_SETSIZE)
				return snprintf(err, len, "--pin '%s': expected a CPU number",
						optarg),
				       -EINVAL;
			break;
		case 'q': /* as in `virttax run`: fewer repetitions */
			a->reps = 3;
			break;
		case 'W': /* accepted from `virttax run`; every boot is measured */
			break;
		case 'o':
			snprintf(a->out, sizeof(a->out), "%s", optarg);
			break;
		case 'w':
			if (strcmp(optarg, "vmm-footprint"))
				return snprintf(err, len,
						"--workloads %s: vmm-footprint runs alone (run the "
						"others in another `virttax run`)",
						optarg),
				       -EINVAL;
			break;
		default:
			return snprintf(err, len,
					"%s: unknown option or missing value (see --help)",
					argv[optind - 1]),
			       -EINVAL;
		}
	}
	if (optind < argc)
		return snprintf(err, len, "unexpected argument '%s'", argv[optind]), -EINVAL;
	if (a->cpu < 0)
		return snprintf(err, len, "cannot find a CPU to pin to"), -EINVAL;
	if (!a->out[0]) {
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(a->out, sizeof(a->out), "out/footprint-%Y%m%d-%H%M%S", &tm);
	}
	return split_vmms(a, vmm, err, len);
}

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

static void record(struct fp_ctx *x, size_t v, size_t k, unsigned rep, struct run_result *res)
{
	double m[NMETRICS] = {NAN, NAN, NAN, NAN};
	bool ok = res->status == RUN_OK && res->footprint && res->hello_ns;
	if (ok) {
		m[0] = (double)res->hello_ns / 1e6;
		m[1] = entry_ms(res, x->tsc_khz);
		m[2] = fp_num(res->footprint, "overhead_rss_kib");
		m[3] = fp_num(res->footprint, "overhead_pss_kib");
	} else if (res->status == RUN_OK) {
		snprintf(res->reason, sizeof(res->reason), "%s",
			 res->footprint ? "no hello record" : "footprint not measured");
	}
	if (!ok)
		x->failed++;
	for (size_t i = 0; i < NMETRICS; i++)
		x->samples[v][k][i][rep] = m[i];
	json_t *r = json_pack("{s:s,s:s,s:i,s:s,s:s,s:O*}", "vmm", x->vmm[v]->name, "config",
			      configs[k].label, "rep", (int)rep, "status",
			      ok ? "ok" : run_status_name(res->status), "reason", res->reason,
			      "footprint", res->footprint);
	for (size_t i = 0; i < NMETRICS; i++)
		json_object_set_new(r, metric_names[i],
				    isnan(m[i]) ? json_null() : json_real(m[i]));
	json_array_append_new(x->runs, r);
	fprintf(stderr, "virttax: vmm-footprint %-9s %-17s rep %2u: %s", x->vmm[v]->name,
		configs[k].label, rep, ok ? "ok" : run_status_name(res->status));
	if (ok)
		fprintf(stderr, " (boot %.1f ms, RSS overhead %.0f KiB, PSS overhead %.0f KiB)\n",
			m[0], m[2], m[3]);
	else
		fprintf(stderr, ": %s\n", res->reason);
}

static int one(struct fp_ctx *x, size_t v, size_t k, unsigned rep)
{
	static const char *const args[] = {"iters=1000"};
	struct run_spec spec = {.workload = "noop",
				.wl_args = args,
				.nwl_args = 1,
				.cpu = x->a->cpu,
				.backing = "thp",
				.pagesize = "2m",
				.mem_bytes = configs[k].mem_bytes,
				.timeout_s = FP_TIMEOUT_S,
				.tsc_khz = x->tsc_khz,
				.scratch_dir = x->scratch,
				.vcpus = configs[k].vcpus,
				.footprint = true};
	struct run_result res;
	run_result_init(&res);
	int rc = x->vmm[v]->run(&spec, &res);
	if (!rc && res.fatal)
		rc = -EIO;
	if (rc)
		fprintf(stderr, "virttax footprint: %s: %s\n", x->vmm[v]->name,
			res.reason[0] ? res.reason : strerror(-rc));
	else
		record(x, v, k, rep, &res);
	run_result_release(&res);
	return rc;
}

static json_t *summary_json(const double *s, size_t n, const char *unit)
{
	double v[FP_MAX_REPS];
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(s[i]))
			v[m++] = s[i];
	struct stats_summary st;
	if (!m || stats_summarize(v, m, &st))
		return json_pack("{s:s,s:i}", "unit", unit, "n", 0);
	return json_pack("{s:s,s:i,s:f,s:f,s:f,s:f,s:[f,f],s:f}", "unit", unit, "n", (int)m,
			 "median", st.median, "min", st.min, "max", st.max, "mad", stats_mad(v, m),
			 "ci95", st.ci_lo, st.ci_hi, "ci_level", st.ci_level);
}

/* median(a)/median(b) with a bootstrap CI over the non-missing samples */
static json_t *ratio_json(const double *a, const double *b, size_t n)
{
	double x[FP_MAX_REPS], y[FP_MAX_REPS];
	size_t na = 0, nb = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isnan(a[i]))
			x[na++] = a[i];
		if (!isnan(b[i]))
			y[nb++] = b[i];
	}
	struct stats_ratio r;
	if (!na || !nb || /* median(b)/median(a): a = QEMU, b = vmm-lite */
	    stats_bootstrap_ratio(y, nb, x, na, STATS_BOOTSTRAP_ITERS, STATS_BOOTSTRAP_SEED, &r))
		return json_null();
	return json_pack("{s:f,s:[f,f],s:i,s:i}", "value", r.value, "ci95", r.ci_lo, r.ci_hi,
			 "n_vmmlite", (int)na, "n_qemu", (int)nb);
}

static size_t vmm_index(const struct fp_ctx *x, const char *name)
{
	for (size_t v = 0; v < x->a->nvmms; v++)
		if (x->vmm[v] && !strcmp(x->vmm[v]->name, name) && !x->why[v][0])
			return v;
	return SIZE_MAX;
}

static json_t *config_json(struct fp_ctx *x, size_t k)
{
	json_t *per = json_object();
	for (size_t v = 0; v < x->a->nvmms; v++) {
		json_t *o = x->why[v][0]
				? json_pack("{s:b,s:s}", "available", 0, "reason", x->why[v])
				: json_object();
		if (!x->why[v][0])
			for (size_t i = 0; i < NMETRICS; i++)
				json_object_set_new(
				    o, metric_names[i],
				    summary_json(x->samples[v][k][i], x->a->reps, metric_units[i]));
		json_object_set_new(per, x->vmm[v]->name, o);
	}
	json_t *ratios = json_object();
	size_t l = vmm_index(x, "vmm-lite"), q = vmm_index(x, "qemu");
	for (size_t i = 0; l != SIZE_MAX && q != SIZE_MAX && i < NMETRICS; i++)
		json_object_set_new(
		    ratios, metric_names[i],
		    ratio_json(x->samples[l][k][i], x->samples[q][k][i], x->a->reps));
	return json_pack("{s:s,s:i,s:I,s:o,s:o}", "config", configs[k].label, "vcpus",
			 (int)configs[k].vcpus, "mem_bytes", (json_int_t)configs[k].mem_bytes,
			 "vmms", per, "ratio_vmmlite_over_qemu", ratios);
}

/* "14.5 ±1.2": the median and the half-width of its 95% CI ("n=0" when none);
 * " (n=K)" is appended when K differs from the row's n */
static void cell(char *buf, size_t len, json_t *m, int prec, json_int_t row_n)
{
	json_t *ci = json_object_get(m, "ci95");
	json_int_t n = json_integer_value(json_object_get(m, "n"));
	if (!n || !json_is_number(json_object_get(m, "median"))) {
		snprintf(buf, len, "n=0");
		return;
	}
	double half =
	    (json_number_value(json_array_get(ci, 1)) - json_number_value(json_array_get(ci, 0))) /
	    2.0;
	int o = snprintf(buf, len, "%.*f \u00b1%.*f", prec,
			 json_number_value(json_object_get(m, "median")), prec, half);
	if (n != row_n && o > 0 && (size_t)o < len)
		snprintf(buf + o, len - (size_t)o, " (n=%lld)", (long long)n);
}

/* "0.812 [0.790, 0.835]": a ratio with its bootstrap 95% CI */
static void ratio_cell(char *buf, size_t len, json_t *r)
{
	json_t *ci = json_object_get(r, "ci95");
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
	fprintf(f, "%-18s %-10s %-22s %-22s %-22s %-22s %s\n", "config", "vmm", "boot->hello ms",
		"spawn->entry ms", "RSS overhead KiB", "PSS overhead KiB", "n");
	json_array_foreach(configs_json, i, cfg)
	{
		const char *name, *label = json_string_value(json_object_get(cfg, "config"));
		json_t *o;
		json_object_foreach(json_object_get(cfg, "vmms"), name, o)
		{
			if (json_object_get(o, "reason")) {
				fprintf(f, "%-18s %-10s unavailable: %s\n", label, name,
					json_string_value(json_object_get(o, "reason")));
				continue;
			}
			json_int_t n = json_integer_value(
			    json_object_get(json_object_get(o, metric_names[0]), "n"));
			char c[NMETRICS][64];
			for (size_t k = 0; k < NMETRICS; k++)
				cell(c[k], sizeof(c[k]), json_object_get(o, metric_names[k]),
				     k < 2 ? 1 : 0, n);
			fprintf(f, "%-18s %-10s", label, name);
			for (size_t k = 0; k < NMETRICS; k++) /* "±" is two bytes, one column */
				fprintf(f, " %-*s", strstr(c[k], "\u00b1") ? 23 : 22, c[k]);
			fprintf(f, " %lld\n", (long long)n);
		}
		json_t *r = json_object_get(cfg, "ratio_vmmlite_over_qemu");
		if (!json_object_size(r))
			continue;
		json_t *b = json_object_get(r, metric_names[0]);
		char c[NMETRICS][64];
		for (size_t k = 0; k < NMETRICS; k++)
			ratio_cell(c[k], sizeof(c[k]), json_object_get(r, metric_names[k]));
		fprintf(f, "%-18s %-10s %-22s %-22s %-22s %-22s %lld+%lld\n", "", "ratio", c[0],
			c[1], c[2], c[3],
			(long long)json_integer_value(json_object_get(b, "n_vmmlite")),
			(long long)json_integer_value(json_object_get(b, "n_qemu")));
	}
	fprintf(f, "median \u00b1 half-width of its 95%% CI, n = reps with a value; ratio rows: "
		   "vmm-lite/qemu medians [bootstrap 95%% CI], n = vmm-lite+qemu "
		   "(footprint.json: min, max, MAD)\n");
}

static int prepare(struct fp_ctx *x)
{
	size_t usable = 0;
	for (size_t v = 0; v < x->a->nvmms; v++) {
		x->vmm[v] = vmm_find(x->a->vmms[v]);
		if (x->vmm[v]->probe(x->why[v], sizeof(x->why[v])) == 0)
			x->why[v][0] = 0, usable++;
		else
			fprintf(stderr, "virttax footprint: %s: %s\n", x->vmm[v]->name, x->why[v]);
	}
	if (!usable)
		return VTX_EXIT_HOST;
	uint64_t hz;
	if (tsc_measure_hz(100, &hz)) {
		fprintf(stderr, "virttax footprint: cannot measure the TSC frequency\n");
		return VTX_EXIT_HOST;
	}
	x->tsc_khz = (unsigned long)((hz + 500) / 1000);
	const char *tmp = getenv("TMPDIR");
	snprintf(x->scratch, sizeof(x->scratch), "%s/virttax-fp-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(x->scratch)) {
		fprintf(stderr, "virttax footprint: mkdtemp %s: %s (set TMPDIR)\n", x->scratch,
			strerror(errno));
		return VTX_EXIT_HOST;
	}
	return VTX_EXIT_OK;
}

static int measure(struct fp_ctx *x)
{
	for (unsigned rep = 0; rep < x->a->reps; rep++)
		for (size_t k = 0; k < NCONFIGS; k++)
			for (size_t v = 0; v < x->a->nvmms; v++)
				if (!x->why[v][0] && one(x, v, k, rep))
					return VTX_EXIT_HOST;
	return VTX_EXIT_OK;
}

static int write_out(struct fp_ctx *x)
{
	json_t *cfgs = json_array();
	for (size_t k = 0; k < NCONFIGS; k++)
		json_array_append_new(cfgs, config_json(x, k));
	json_t *doc = json_pack("{s:s,s:s,s:i,s:i,s:I,s:o,s:o}", "tool", "virttax " VIRTTAX_VERSION,
				"workload", "vmm-footprint", "reps", (int)x->a->reps, "pin",
				x->a->cpu, "tsc_khz", (json_int_t)x->tsc_khz, "configs", cfgs,
				"runs", json_incref(x->runs));
	char path[PATH_MAX + 32];
	int rc = outfile_mkdirs(x->a->out);
	snprintf(path, sizeof(path), "%s/footprint.json", x->a->out);
	if (!rc)
		rc = results_write_atomic(path, doc);
	if (rc)
		fprintf(stderr, "virttax footprint: cannot write %s: %s (check --out)\n", path,
			strerror(-rc));
	else {
		footprint_print_table(stdout, cfgs);
		printf("\nresults: %s (%zu run%s not ok)\n", path, x->failed,
		       x->failed == 1 ? "" : "s");
	}
	json_decref(doc);
	return rc ? VTX_EXIT_HOST : x->failed ? VTX_EXIT_FAILED : VTX_EXIT_OK;
}

int cmd_footprint(int argc, char **argv)
{
	struct fp_args a;
	char err[300];
	int rc = parse_args(&a, argc, argv, err, sizeof(err));
	if (rc) {
		if (rc < 0)
			fprintf(stderr, "virttax footprint: %s\n", err);
		return rc < 0 ? VTX_EXIT_USAGE : VTX_EXIT_OK;
	}
	struct fp_ctx x = {.a = &a, .runs = json_array()};
	x.samples = calloc(1, sizeof(*x.samples) * FP_MAX_VMMS);
	rc = x.samples ? prepare(&x) : VTX_EXIT_HOST;
	if (rc == VTX_EXIT_OK)
		rc = measure(&x);
	if (rc == VTX_EXIT_OK)
		rc = write_out(&x);
	if (x.scratch[0])
		rmdir(x.scratch);
	json_decref(x.runs);
	free(x.samples);
	return rc;
}
