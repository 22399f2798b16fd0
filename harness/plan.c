/*
 * `virttax run` command line -> validated plan (see plan.h for why).
 */
#include "harness/cotenant.h"
#include "harness/plan.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/autoreps.h"
#include "harness/vmm.h"
#include "vmm-lite/virtio.h"

static const char *const valid_backings[] = {"4k", "thp", "hugetlb-2m", "hugetlb-1g", NULL};
static const char *const valid_pagesizes[] = {"4k", "2m", NULL};

void plan_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: virttax run [options]\n"
	    "Runs each workload on bare metal and in each VM series, both pinned to the same\n"
	    "CPU, every round in a seeded random order, and writes DIR/results.json (each run\n"
	    "also to DIR/runs.jsonl as it ends) plus a summary table; progress on stderr.\n\n"
	    "  --workloads LIST     comma-separated workloads (default: %s; see `virttax list`)\n"
	    "  --reps N             counted bare/VM pairs per workload, 1..10000 (default %d; "
	    "--quick: %d)\n"
	    "  --reps auto          a pilot of 6 pairs measures the spread; it alone sets how\n"
	    "                       many pairs give 95%% overhead intervals of +-PCT "
	    "(--target-ci,\n"
	    "                       default 1), at most --max-reps N (default 30); no stopping\n"
	    "                       on a narrow look (harness/autoreps.c)\n"
	    "  --warmup N           warm-up pairs, recorded as warmup and not counted (default %d; "
	    "--quick: %d)\n"
	    "  --vmm LIST           VMM driver(s): vmm-lite, qemu, or vmm-lite,qemu (each its own\n"
	    "                       series, interleaved with bare metal; default vmm-lite)\n"
	    "  --backing LIST       memory backing, any of 4k,thp,hugetlb-2m,hugetlb-1g (default "
	    "%s);\n"
	    "                       the bare-metal side uses thp for hugetlb-*\n"
	    "  --pagesize LIST      guest page size(s) 4k,2m; each is its own VM series (default "
	    "%s)\n"
	    "  --out DIR            output directory (default out/run-YYYYmmdd-HHMMSS)\n"
	    "  --quick              apply each workload's quick parameters and fewer reps\n"
	    "  --pin CPU            CPU for both sides (default: the last CPU this process may "
	    "use)\n"
	    "  --pin none|dedicated 2 vCPUs / 2 threads: unpinned, or each on its own CPU\n"
	    "  --overcommit         2 vCPUs / 2 threads both pinned to the --pin CPU\n"
	    "  --co-tenant WHERE    same-core|smt-sibling|other-core|off: a cache/TLB thrasher\n"
	    "                       next to the workload for every run (a sharing cost)\n"
	    "  --mem SIZE           guest memory, e.g. 512M, 2G (default %s)\n"
	    "  --timeout SEC        per-run watchdog passed to the VMM (default %d)\n"
	    "  --vmm-arg ARG        pass ARG to the VMM command line verbatim (repeatable), e.g.\n"
	    "                       --vmm-arg=--inject-exit-delay-us=50 (a test regression)\n"
	    "  --set [WL.]KEY=VALUE workload parameter; without WL. it applies to every selected\n"
	    "                       workload that has KEY (repeatable)\n"
	    "  --calibration FILE   exit costs from `virttax calibrate` (default: calibrate "
	    "first,\n"
	    "                       quick with --quick); stored as \"calibration\"\n"
	    "  --seed N             seed of each round's counterbalanced order (default:\n"
	    "                       from the clock; recorded in results.json)\n"
	    "  --quiet              no progress lines on stderr\n"
	    "  --dry-run            print the plan (every child run) and an estimated time;\n"
	    "                       run nothing\n"
	    "  -h, --help           this text\n\n"
	    "The workloads select the experiment (docs/ARCHITECTURE.md); flags that do not\n"
	    "apply to any selected workload are bad input:\n"
	    "  --io-technique LIST  blk-seq, blk-rand (io-blk), net-rr, net-stream (io-net):\n"
	    "                       emulated,virtio-user,virtio-eventfd,poll,vhost,passthrough,\n"
	    "                       one VM series each (default virtio-eventfd); the bare side\n"
	    "                       is fio on the same file (blk-*) or the workload across a\n"
	    "                       veth pair (net-*)\n"
	    "  --direct             blk-*: O_DIRECT on both sides\n"
	    "  --mem-limit SIZE     mem-pressure: every run in its own memory cgroup,\n"
	    "                       unlimited and limited to SIZE\n"
	    "  --balloon MIB        mem-pressure: the VM side (vmm-lite) gets a virtio-balloon\n"
	    "                       inflated to MIB before the workload; bare gets none\n"
	    "  --workloads vmm-footprint  boot-to-ready time and VMM memory overhead\n"
	    "                       (same as `virttax footprint`)\n\n"
	    "exit status: 0 all runs ok; 1 a run failed (recorded in results.json);\n"
	    "             2 bad input (nothing run, no results.json); 3 host problem (e.g. no "
	    "/dev/kvm);\n"
	    "             130 interrupted (SIGINT/SIGTERM: results.json with \"complete\": "
	    "false)\n",
	    PLAN_DEFAULT_WORKLOADS, PLAN_DEFAULT_REPS, PLAN_QUICK_REPS, PLAN_DEFAULT_WARMUP,
	    PLAN_QUICK_WARMUP, PLAN_DEFAULT_BACKING, PLAN_DEFAULT_PAGESIZE, PLAN_DEFAULT_MEM,
	    PLAN_DEFAULT_TIMEOUT_S);
}

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static char *own(struct plan *p, char *s)
{
	if (s && p->nowned < sizeof(p->owned) / sizeof(p->owned[0]))
		p->owned[p->nowned++] = s;
	else if (s) {
		free(s);
		return NULL;
	}
	return s;
}

void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->nowned; i++)
		free(p->owned[i]);
	p->nowned = 0;
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max || s[0] == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

/* Split a comma list into p-owned strings, each checked against `valid`. */
static int split_list(struct plan *p, const char *flag, const char *arg, const char *const *valid,
		      const char **out, size_t max, size_t *n, char *err, size_t len)
{
	char *copy = own(p, strdup(arg)), *save = NULL;
	*n = 0;
	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (valid && !in_list(tok, valid))
			return fail(err, len, "%s %s: unknown value '%s' (see virttax run --help)",
				    flag, arg, tok);
		if (*n == max)
			return fail(err, len, "%s %s: at most %zu values", flag, arg, max);
		for (size_t i = 0; i < *n; i++)
			if (!strcmp(out[i], tok))
				return fail(err, len, "%s %s: '%s' listed twice", flag, arg, tok);
		out[(*n)++] = tok;
	}
	if (*n == 0)
		return fail(err, len, "%s: empty list", flag);
	return 0;
}

static int param_index(const struct workload_ops *ops, const char *key, size_t keylen)
{
	for (int i = 0; ops->params[i].key; i++)
		if (strlen(ops->params[i].key) == keylen &&
		    !strncmp(ops->params[i].key, key, keylen))
			return i;
	return -1;
}

/* A value must fit the agent command line and, when the default is a number, be one. */
static int check_value(const struct workload_ops *ops, int idx, const char *v, char *err,
		       size_t len)
{
	uint64_t n;
	const struct wl_param *wp = &ops->params[idx];
	if (!*v || strpbrk(v, " \t\n\"'="))
		return fail(err, len,
			    "%s.%s='%s': values must be non-empty, without spaces or quotes",
			    ops->name, wp->key, v);
	if (wl_parse_u64(wp->def, &n) == 0 && wl_parse_u64(v, &n) != 0)
		return fail(err, len, "%s.%s='%s': expected a number like the default '%s'",
			    ops->name, wp->key, v, wp->def);
	return 0;
}

/* key=value (key given as a counted string) into workload w */
static int set_param(struct plan *p, struct plan_workload *w, const char *key, size_t keylen,
		     const char *value, char *err, size_t len)
{
	int idx = param_index(w->ops, key, keylen);
	if (idx < 0)
		return fail(err, len, "%s: unknown parameter '%.*s' (see virttax list)",
			    w->ops->name, (int)keylen, key);
	int rc = check_value(w->ops, idx, value, err, len);
	if (rc)
		return rc;
	w->values[idx] = own(p, strdup(value));
	return w->values[idx] ? 0 : -ENOMEM;
}

static int apply_quick(struct plan *p, struct plan_workload *w, char *err, size_t len)
{
	char *copy = own(p, strdup(w->ops->quick_params ? w->ops->quick_params : "")), *save;
	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(t, '=');
		if (!eq)
			return fail(err, len, "%s: malformed quick_params '%s'", w->ops->name, t);
		int rc = set_param(p, w, t, (size_t)(eq - t), eq + 1, err, len);
		if (rc)
			return rc;
	}
	return 0;
}

/* One --set: "WL.KEY=V" targets one workload, "KEY=V" every workload with KEY. */
static int apply_set(struct plan *p, const char *set, char *err, size_t len)
{
	const char *eq = strchr(set, '=');
	if (!eq || eq == set)
		return fail(err, len, "--set '%s': expected KEY=VALUE or WORKLOAD.KEY=VALUE", set);
	const char *dot = memchr(set, '.', (size_t)(eq - set));
	bool applied = false;
	for (size_t i = 0; i < p->nwl; i++) {
		struct plan_workload *w = &p->wl[i];
		const char *key = set;
		if (!w->ops)
			continue;
		if (dot) {
			size_t nl = (size_t)(dot - set);
			if (strlen(w->ops->name) != nl || strncmp(w->ops->name, set, nl))
				continue;
			key = dot + 1;
		} else if (param_index(w->ops, key, (size_t)(eq - key)) < 0) {
			continue;
		}
		int rc = set_param(p, w, key, (size_t)(eq - key), eq + 1, err, len);
		if (rc)
			return rc;
		applied = true;
	}
	if (!applied)
		return fail(
		    err, len,
		    "--set '%s': no selected workload has this parameter (see virttax list)", set);
	return 0;
}

static int build_args(struct plan *p, struct plan_workload *w)
{
	w->nargs = 0;
	for (size_t i = 0; i < w->nparams; i++) {
		const struct wl_param *wp = &w->ops->params[i];
		if (!strcmp(w->values[i], wp->def))
			continue;
		char *a;
		if (asprintf(&a, "%s=%s", wp->key, w->values[i]) < 0)
			return -ENOMEM;
		w->args[w->nargs++] = own(p, a);
	}
	return 0;
}

static int add_workload(struct plan *p, const char *name, bool (*own)(const char *), char *err,
			size_t len)
{
	const struct workload_ops *ops = workload_find(name);
	if (!ops && !(own && own(name)))
		return fail(err, len, "--workloads: unknown workload '%s' (see virttax list)",
			    name);
	for (size_t i = 0; i < p->nwl; i++)
		if (!strcmp(p->wl[i].name, name))
			return fail(err, len, "--workloads: '%s' listed twice", name);
	if (p->nwl == PLAN_MAX_WORKLOADS)
		return fail(err, len, "--workloads: at most %d workloads", PLAN_MAX_WORKLOADS);
	struct plan_workload *w = &p->wl[p->nwl++];
	memset(w, 0, sizeof(*w));
	w->name = name;
	w->ops = ops;
	if (!ops) /* an experiment's own workload: no parameters */
		return 0;
	for (; ops->params[w->nparams].key && w->nparams < PLAN_MAX_PARAMS; w->nparams++)
		w->values[w->nparams] = ops->params[w->nparams].def;
	return p->quick ? apply_quick(p, w, err, len) : 0;
}

static int resolve_workloads(struct plan *p, const char *list, bool (*own)(const char *), char *err,
			     size_t len)
{
	const char *names[PLAN_MAX_WORKLOADS + 1];
	size_t n;
	int rc =
	    split_list(p, "--workloads", list, NULL, names, PLAN_MAX_WORKLOADS + 1, &n, err, len);
	for (size_t i = 0; !rc && i < n; i++)
		rc = add_workload(p, names[i], own, err, len);
	for (size_t i = 0; !rc && i < p->nsets; i++)
		rc = apply_set(p, p->sets[i], err, len);
	for (size_t i = 0; !rc && i < p->nwl; i++)
		rc = build_args(p, &p->wl[i]);
	return rc;
}

int plan_default_cpu(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	for (int cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--)
		if (CPU_ISSET(cpu, &set))
			return cpu;
	return -ENODEV;
}

static int check_cpu(const char *arg, int *cpu, char *err, size_t len)
{
	unsigned long v;
	cpu_set_t set;
	if (parse_uint(arg, 0, CPU_SETSIZE - 1, &v))
		return fail(err, len, "--pin '%s': expected a CPU number", arg);
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && !CPU_ISSET((int)v, &set))
		return fail(err, len, "--pin %s: CPU not online or not allowed for this process",
			    arg);
	*cpu = (int)v;
	return 0;
}

static void default_out_dir(struct plan *p)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(p->out_dir, sizeof(p->out_dir), "out/run-%Y%m%d-%H%M%S", &tm);
}

struct raw_opts {
	const char *workloads, *reps, *warmup, *backing, *pagesize, *pin, *mem, *timeout;
	const char *target_ci, *max_reps;
	const char *techniques, *mem_limit, *balloon, *seed;
};

enum {
	OPT_WORKLOADS = 256,
	OPT_REPS,
	OPT_WARMUP,
	OPT_VMM,
	OPT_BACKING,
	OPT_PAGESIZE,
	OPT_OUT,
	OPT_QUICK,
	OPT_PIN,
	OPT_MEM,
	OPT_SET,
	OPT_TIMEOUT,
	OPT_TARGET_CI,
	OPT_MAX_REPS,
	OPT_VMM_ARG,
	OPT_OVERCOMMIT,
	OPT_CO_TENANT,
	OPT_IO_TECHNIQUE,
	OPT_DIRECT,
	OPT_MEM_LIMIT,
	OPT_BALLOON,
	OPT_CALIBRATION,
	OPT_SEED,
	OPT_QUIET,
	OPT_DRY_RUN,
};

static const struct option long_opts[] = {
    {"workloads", required_argument, 0, OPT_WORKLOADS},
    {"reps", required_argument, 0, OPT_REPS},
    {"warmup", required_argument, 0, OPT_WARMUP},
    {"vmm", required_argument, 0, OPT_VMM},
    {"backing", required_argument, 0, OPT_BACKING},
    {"pagesize", required_argument, 0, OPT_PAGESIZE},
    {"out", required_argument, 0, OPT_OUT},
    {"quick", no_argument, 0, OPT_QUICK},
    {"pin", required_argument, 0, OPT_PIN},
    {"mem", required_argument, 0, OPT_MEM},
    {"set", required_argument, 0, OPT_SET},
    {"timeout", required_argument, 0, OPT_TIMEOUT},
    {"target-ci", required_argument, 0, OPT_TARGET_CI},
    {"max-reps", required_argument, 0, OPT_MAX_REPS},
    {"vmm-arg", required_argument, 0, OPT_VMM_ARG},
    {"overcommit", no_argument, 0, OPT_OVERCOMMIT},
    {"co-tenant", required_argument, 0, OPT_CO_TENANT},
    {"io-technique", required_argument, 0, OPT_IO_TECHNIQUE},
    {"direct", no_argument, 0, OPT_DIRECT},
    {"mem-limit", required_argument, 0, OPT_MEM_LIMIT},
    {"balloon", required_argument, 0, OPT_BALLOON},
    {"calibration", required_argument, 0, OPT_CALIBRATION},
    {"seed", required_argument, 0, OPT_SEED},
    {"quiet", no_argument, 0, OPT_QUIET},
    {"dry-run", no_argument, 0, OPT_DRY_RUN},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static int store_opt(struct plan *p, struct raw_opts *r, int c, char *err, size_t len)
{
	switch (c) {
	case OPT_WORKLOADS:
		r->workloads = optarg;
		break;
	case OPT_REPS:
		r->reps = optarg;
		p->given |= PLAN_F_REPS;
		break;
	case OPT_WARMUP:
		r->warmup = optarg;
		p->given |= PLAN_F_WARMUP;
		break;
	case OPT_VMM:
		p->vmm = optarg;
		p->given |= PLAN_F_VMM;
		break;
	case OPT_BACKING:
		r->backing = optarg;
		break;
	case OPT_PAGESIZE:
		r->pagesize = optarg;
		break;
	case OPT_OUT:
		if (!*optarg || strlen(optarg) >= sizeof(p->out_dir))
			return fail(err, len, "--out '%s': expected a directory path", optarg);
		snprintf(p->out_dir, sizeof(p->out_dir), "%s", optarg);
		break;
	case OPT_QUICK:
		p->quick = true;
		break;
	case OPT_PIN:
		r->pin = optarg;
		break;
	case OPT_MEM:
		r->mem = optarg;
		p->given |= PLAN_F_MEM;
		break;
	case OPT_TIMEOUT:
		r->timeout = optarg;
		break;
	case OPT_SET:
		if (p->nsets == PLAN_MAX_SETS)
			return fail(err, len, "--set: at most %d", PLAN_MAX_SETS);
		p->sets[p->nsets++] = optarg;
		break;
	case OPT_TARGET_CI:
		r->target_ci = optarg;
		p->given |= PLAN_F_REPS_AUTO;
		break;
	case OPT_MAX_REPS:
		r->max_reps = optarg;
		p->given |= PLAN_F_REPS_AUTO;
		break;
	case OPT_VMM_ARG:
		if (p->nvmm_args == PLAN_MAX_VMM_ARGS)
			return fail(err, len, "--vmm-arg: at most %d", PLAN_MAX_VMM_ARGS);
		p->vmm_args[p->nvmm_args++] = optarg;
		break;
	case OPT_OVERCOMMIT:
		p->overcommit = true;
		p->given |= PLAN_F_OVERCOMMIT;
		break;
	case OPT_CO_TENANT:
		if (cotenant_mode_check(optarg))
			return fail(
			    err, len,
			    "--co-tenant '%s': expected same-core|smt-sibling|other-core|off",
			    optarg);
		p->co_tenant = strcmp(optarg, "off") ? optarg : NULL;
		if (p->co_tenant)
			p->given |= PLAN_F_CO_TENANT;
		break;
	case OPT_IO_TECHNIQUE:
		r->techniques = optarg;
		p->given |= PLAN_F_IO_TECHNIQUE;
		break;
	case OPT_DIRECT:
		p->direct = true;
		p->given |= PLAN_F_DIRECT;
		break;
	case OPT_MEM_LIMIT:
		r->mem_limit = optarg;
		p->given |= PLAN_F_MEM_LIMIT;
		break;
	case OPT_BALLOON:
		r->balloon = optarg;
		p->given |= PLAN_F_BALLOON;
		break;
	case OPT_CALIBRATION:
		p->calibration_path = optarg;
		p->given |= PLAN_F_CALIBRATION;
		break;
	case OPT_SEED:
		r->seed = optarg;
		break;
	case OPT_QUIET:
		p->quiet = true;
		break;
	case OPT_DRY_RUN:
		p->dry_run = true;
		break;
	default:
		return fail(err, len, "bad option (see virttax run --help)");
	}
	return 0;
}

static int resolve_auto(struct plan *p, const struct raw_opts *r, char *err, size_t len);
static int resolve_rest(struct plan *p, const struct raw_opts *r, char *err, size_t len);

static int plan_cpu_list(struct plan *p, int rc, char *err, size_t len);
static int resolve_numbers(struct plan *p, const struct raw_opts *r, char *err, size_t len)
{
	unsigned long v;
	p->reps = p->quick ? PLAN_QUICK_REPS : PLAN_DEFAULT_REPS;
	p->warmup = p->quick ? PLAN_QUICK_WARMUP : PLAN_DEFAULT_WARMUP;
	p->timeout_s = PLAN_DEFAULT_TIMEOUT_S;
	if (r->reps && !strcmp(r->reps, "auto"))
		return resolve_auto(p, r, err, len) ? -EINVAL : resolve_rest(p, r, err, len);
	if (r->target_ci || r->max_reps)
		return fail(err, len, "--target-ci and --max-reps need --reps auto");
	if (r->reps && parse_uint(r->reps, 1, 10000, &v))
		return fail(err, len, "--reps '%s': expected an integer 1..10000", r->reps);
	if (r->reps)
		p->reps = (unsigned)v;
	return resolve_rest(p, r, err, len);
}

/* --reps auto: a pilot of AUTOREPS_PILOT pairs sets the total (harness/autoreps.c) */
static int resolve_auto(struct plan *p, const struct raw_opts *r, char *err, size_t len)
{
	unsigned long v;
	char *end;
	p->reps_auto = true;
	p->given |= PLAN_F_REPS_AUTO;
	p->reps = AUTOREPS_MIN;
	p->max_reps = AUTOREPS_DEFAULT_MAX;
	p->target_ci_pct = AUTOREPS_DEFAULT_TARGET_PCT;
	if (r->max_reps && parse_uint(r->max_reps, AUTOREPS_MIN, 10000, &v))
		return fail(err, len, "--max-reps '%s': expected an integer %d..10000", r->max_reps,
			    AUTOREPS_MIN);
	if (r->max_reps)
		p->max_reps = (unsigned)v;
	if (r->target_ci) {
		double t = strtod(r->target_ci, &end);
		if (!*r->target_ci || *end || !(t > 0 && t <= 100))
			return fail(
			    err, len,
			    "--target-ci '%s': expected a percentage > 0 and <= 100, e.g. 1",
			    r->target_ci);
		p->target_ci_pct = t;
	}
	return 0;
}

static int resolve_rest(struct plan *p, const struct raw_opts *r, char *err, size_t len)
{
	unsigned long v;
	uint64_t mem;
	if (r->warmup && parse_uint(r->warmup, 0, 1000, &v))
		return fail(err, len, "--warmup '%s': expected an integer 0..1000", r->warmup);
	if (r->warmup)
		p->warmup = (unsigned)v;
	if (r->timeout && parse_uint(r->timeout, 1, 86400, &v))
		return fail(err, len, "--timeout '%s': expected seconds 1..86400", r->timeout);
	if (r->timeout)
		p->timeout_s = (unsigned)v;
	const char *m = r->mem ? r->mem : PLAN_DEFAULT_MEM;
	if (wl_parse_u64(m, &mem) || mem < (16ull << 20) || mem > (1ull << 40) || mem % 4096)
		return fail(
		    err, len,
		    "--mem '%s': expected a size 16M..1T, a multiple of 4K, e.g. 512M or 2G", m);
	p->mem_bytes = mem;
	if (r->pin && (!strcmp(r->pin, "none") || !strcmp(r->pin, "dedicated"))) {
		p->pin_mode = r->pin;
		p->given |= PLAN_F_PIN_MODE;
	} else if (r->pin)
		return plan_cpu_list(p, check_cpu(r->pin, &p->cpu, err, len), err, len);
	p->cpu = plan_default_cpu();
	if (p->cpu >= 0)
		return plan_cpu_list(p, 0, err, len);
	return p->cpu < 0 ? fail(err, len, "cannot find a CPU to pin to: %s", strerror(-p->cpu))
			  : 0;
}

/* --pin none|dedicated and --overcommit -> two vCPUs/threads and their CPU list. */
static int plan_cpu_list(struct plan *p, int rc, char *err, size_t len)
{
	if (rc || (!p->pin_mode && !p->overcommit))
		return rc;
	p->vcpus = 2;
	p->cpu_list_set = true;
	if (p->overcommit) /* both on the workload CPU: 2 vCPUs on 1 CPU */
		snprintf(p->cpu_list, sizeof(p->cpu_list), "%d,%d", p->cpu, p->cpu);
	else if (!strcmp(p->pin_mode, "none"))
		p->cpu_list[0] = 0;
	else {
		char why[160];
		int other;
		if (cotenant_place("other-core", p->cpu, &other, why, sizeof(why)))
			return fail(err, len, "--pin dedicated: no second CPU: %s", why);
		snprintf(p->cpu_list, sizeof(p->cpu_list), "%d,%d", p->cpu, other);
	}
	return 0;
}

/* --io-technique, --mem-limit, --balloon, --seed */
static int resolve_experiment_flags(struct plan *p, const struct raw_opts *r, char *err, size_t len)
{
	char *end;
	if (r->techniques) {
		int rc = split_list(p, "--io-technique", r->techniques, NULL, p->techniques,
				    PLAN_MAX_TECH, &p->ntechniques, err, len);
		for (size_t i = 0; !rc && i < p->ntechniques; i++) {
			enum io_technique t;
			if (io_technique_parse(p->techniques[i], &t))
				return fail(err, len,
					    "--io-technique '%s': expected emulated, virtio-user, "
					    "virtio-eventfd, poll, vhost or passthrough",
					    p->techniques[i]);
		}
		if (rc)
			return rc;
	}
	if (r->mem_limit &&
	    (wl_parse_u64(r->mem_limit, &p->mem_limit) || p->mem_limit < (1u << 20)))
		return fail(
		    err, len,
		    "--mem-limit '%s': needs a SIZE >= 1M (bytes, K/M/G), e.g. --mem-limit 96M",
		    r->mem_limit);
	if (r->mem_limit)
		snprintf(p->mem_limit_text, sizeof(p->mem_limit_text), "%s", r->mem_limit);
	if (r->balloon) {
		errno = 0;
		p->balloon_mib =
		    *r->balloon >= '0' && *r->balloon <= '9' ? strtoul(r->balloon, &end, 10) : 0;
		if (errno || !p->balloon_mib || *end || p->balloon_mib > (1ul << 20))
			return fail(err, len,
				    "--balloon '%s': needs a target in MiB (1..1048576, below "
				    "--mem), e.g. --balloon 64",
				    r->balloon);
	}
	if (r->seed) {
		errno = 0;
		p->seed = strtoull(r->seed, &end, 0);
		if (errno || !*r->seed || *end || r->seed[0] == '-' || p->seed >> 53)
			return fail(err, len, "--seed '%s': expected an integer 0..2^53-1",
				    r->seed);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		p->seed = (((uint64_t)ts.tv_sec * 1000003u) ^ (uint64_t)ts.tv_nsec ^
			   ((uint64_t)getpid() << 20)) &
			  ((1ull << 48) - 1); /* exact in JSON readers that use doubles */
	}
	return 0;
}

/* A second core for the workloads that need two vCPUs ("cpu,other"), else
 * both on the workload CPU. */
static void auto_cpu_list(struct plan *p)
{
	char why[160];
	int other;
	if (cotenant_place("other-core", p->cpu, &other, why, sizeof(why)))
		other = p->cpu;
	snprintf(p->auto_cpu_list, sizeof(p->auto_cpu_list), "%d,%d", p->cpu, other);
}

static int resolve(struct plan *p, const struct raw_opts *r, bool (*own)(const char *), char *err,
		   size_t len)
{
	int rc = resolve_numbers(p, r, err, len);
	if (!rc)
		rc = resolve_experiment_flags(p, r, err, len);
	if (!rc && p->cpu >= 0)
		auto_cpu_list(p);
	if (!rc)
		rc = split_list(p, "--vmm", p->vmm, NULL, p->vmms, PLAN_MAX_VMMS, &p->nvmms, err,
				len);
	for (size_t i = 0; !rc && i < p->nvmms; i++)
		if (!vmm_find(p->vmms[i]))
			rc = fail(err, len, "--vmm '%s': unknown VMM (available: vmm-lite, qemu)",
				  p->vmms[i]);
	if (!rc)
		rc = split_list(p, "--backing", r->backing ? r->backing : PLAN_DEFAULT_BACKING,
				valid_backings, p->backings, PLAN_MAX_BACKINGS, &p->nbackings, err,
				len);
	if (!rc)
		rc = split_list(p, "--pagesize", r->pagesize ? r->pagesize : PLAN_DEFAULT_PAGESIZE,
				valid_pagesizes, p->pagesizes, PLAN_MAX_PAGESIZES, &p->npagesizes,
				err, len);
	p->translation_series = !r->backing && !r->pagesize;
	if (!rc)
		rc = resolve_workloads(p, r->workloads ? r->workloads : PLAN_DEFAULT_WORKLOADS, own,
				       err, len);
	if (!rc && !p->out_dir[0])
		default_out_dir(p);
	if (p->nbackings > 1)
		p->given |= PLAN_F_BACKINGS;
	if (p->npagesizes > 1)
		p->given |= PLAN_F_PAGESIZES;
	if (p->nvmms > 1)
		p->given |= PLAN_F_VMMS;
	return rc;
}

int plan_parse(struct plan *p, int argc, char **argv, char *err, size_t len)
{
	return plan_parse_with(p, argc, argv, NULL, err, len);
}

int plan_parse_with(struct plan *p, int argc, char **argv, bool (*own)(const char *), char *err,
		    size_t len)
{
	struct raw_opts raw = {0};
	memset(p, 0, sizeof(*p));
	p->vmm = "vmm-lite";
	optind = 0; /* full reinitialisation of GNU getopt (tests parse repeatedly) */
	opterr = 0;
	int c, rc;
	while ((c = getopt_long(argc, argv, "+h", long_opts, NULL)) != -1) {
		if (c == 'h')
			return plan_usage(stdout), 1;
		if (c == '?' || c == ':')
			return fail(err, len,
				    "%s: unknown option or missing value (see virttax run --help)",
				    argv[optind - 1]);
		if ((rc = store_opt(p, &raw, c, err, len)))
			return rc;
	}
	if (optind < argc)
		return fail(err, len, "unexpected argument '%s' (parameters go in --set KEY=VALUE)",
			    argv[optind]);
	return resolve(p, &raw, own, err, len);
}

const char *plan_value(const struct plan_workload *w, const char *key)
{
	for (size_t i = 0; w->ops && i < w->nparams; i++)
		if (!strcmp(w->ops->params[i].key, key))
			return w->values[i];
	return "";
}

unsigned plan_vcpus(const struct plan *p, const struct plan_workload *w, const char **cpu_list)
{
	unsigned need = w->ops && w->ops->vcpus ? w->ops->vcpus : 1;
	uint64_t v;
	if (w->ops && w->ops->vcpus_param &&
	    !wl_parse_u64(plan_value(w, w->ops->vcpus_param), &v) && v > need && v <= 64)
		need = (unsigned)v;
	if (p->cpu_list_set && need > 1) { /* --pin none|dedicated, --overcommit */
		*cpu_list = p->cpu_list;
		return need > p->vcpus ? need : p->vcpus;
	}
	*cpu_list = need > 1 ? p->auto_cpu_list : NULL;
	return need;
}

const char *plan_bare_backing(const char *backing)
{
	return strcmp(backing, "4k") ? "thp" : "4k";
}

json_t *plan_workload_params_json(const struct plan_workload *w)
{
	json_t *o = json_object();
	for (size_t i = 0; i < w->nparams; i++)
		json_object_set_new(o, w->ops->params[i].key, json_string(w->values[i]));
	return o;
}

static json_t *str_array(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *plan_to_json_base(const struct plan *p)
{
	json_t *wls = json_array(), *per = json_object();
	for (size_t i = 0; i < p->nwl; i++) {
		json_array_append_new(wls, json_string(p->wl[i].name));
		json_object_set_new(per, p->wl[i].name, plan_workload_params_json(&p->wl[i]));
	}
	return json_pack("{s:o,s:i,s:i,s:s,s:o,s:o,s:s,s:b,s:i,s:I,s:i,s:o,s:o}", "workloads", wls,
			 "reps", (int)p->reps, "warmup", (int)p->warmup, "vmm", p->vmm, "backing",
			 str_array(p->backings, p->nbackings), "pagesize",
			 str_array(p->pagesizes, p->npagesizes), "out", p->out_dir, "quick",
			 p->quick, "pin", p->cpu, "mem_bytes", (json_int_t)p->mem_bytes,
			 "timeout_s", (int)p->timeout_s, "set", str_array(p->sets, p->nsets),
			 "workload_params", per);
}

json_t *plan_to_json(const struct plan *p)
{
	json_t *o = plan_to_json_base(p);
	json_object_set_new(o, "vmm_args", str_array(p->vmm_args, p->nvmm_args));
	json_object_set_new(o, "placement",
			    json_pack("{s:s?,s:b,s:s,s:s?,s:i}", "pin_mode", p->pin_mode,
				      "overcommit", p->overcommit, "co_tenant",
				      p->co_tenant ? p->co_tenant : "off", "cpu_list",
				      p->cpu_list_set ? p->cpu_list : NULL, "vcpus",
				      (int)(p->vcpus ? p->vcpus : 1)));
	json_object_set_new(o, "io_technique", str_array(p->techniques, p->ntechniques));
	json_object_set_new(o, "direct", json_boolean(p->direct));
	json_object_set_new(o, "mem_limit_bytes",
			    p->mem_limit ? json_integer((json_int_t)p->mem_limit) : json_null());
	json_object_set_new(o, "balloon_mib",
			    p->balloon_mib ? json_integer((json_int_t)p->balloon_mib)
					   : json_null());
	json_object_set_new(o, "calibration_file",
			    p->calibration_path ? json_string(p->calibration_path) : json_null());
	json_object_set_new(o, "seed", json_integer((json_int_t)p->seed));
	if (p->reps_auto)
		json_object_set_new(o, "reps_auto",
				    json_pack("{s:I,s:I,s:f}", "min_reps", (json_int_t)p->reps,
					      "max_reps", (json_int_t)p->max_reps, "target_ci_pct",
					      p->target_ci_pct));
	return o;
}
