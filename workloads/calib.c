/*
 * calib: per-operation cost of every isolation boundary this side can cross,
 * in the style of kvm-unit-tests x86/vmexit.c.
 *
 * Why: overhead decomposition multiplies exit counts by calibrated costs, so
 * the costs must be measured on this machine, the same way on both sides. For
 * each kind the iteration count doubles until one round takes at least
 * goal_ms (so timer resolution and loop overhead vanish), then `rounds`
 * rounds of that many operations are timed. The raw TSC ticks of each round
 * go out in a {"t":"calib"} record; the harness (harness/calib.c) turns them
 * into a median, a 95% CI and ns/cycles per operation. Kinds the runtime
 * cannot do here are reported with the runtime's reason, never estimated.
 *
 * The two kinds that need no runtime help (function call, indirect call) are
 * measured here, identically on both sides: the bottom rungs of the ladder.
 *
 * Spacing: back-to-back exits keep the exit path (kernel, KVM, VMM) hot in
 * the caches and predictors; a workload that computes between exits meets a
 * colder path. For the `spacing=` kinds, every op is preceded by `gap` units
 * of exit-storm's own compute (wl_cpu_int_block, called the same way), and
 * rounds of [gap + op] are interleaved with rounds of [gap alone] (order
 * alternating, to cancel drift): cost(gap) = (exit round - base round) / n.
 */
#include "virttax/wl_ops.h"
#include "virttax/workload.h"
#include "workloads/wl_errno.h"
#include "workloads/wl_kernels.h"
#include "workloads/wl_util.h"

#define CALIB_MAX_ITERS (1ull << 32)
#define WHY_LEN 160

static const struct wl_param calib_params[] = {
    {"kinds", "all", "comma-separated kinds (see docs/CALIBRATION.md) or all"},
    {"goal_ms", "20", "minimum duration of one timed round, ms (1..1000)"},
    {"rounds", "10", "timed rounds per kind (3..24)"},
    {"max_ms", "60000", "time bound for the whole calibration, ms"},
    {"spacing", "pio,mmio,cpuid", "kinds also measured with compute between ops, or none"},
    {"gaps", "0,1000,3000,10000,30000,100000",
     "compute units (exit-storm's k) before each op in the spacing rounds (<= 8 values)"},
    {0, 0, 0},
};

enum { KIND_CALL = WL_OP_COUNT, KIND_INDIRECT, KIND_COUNT };

/* host-irq waits for the host's interrupts (a timer tick every 1-10 ms): its
 * rounds are a fixed number of them, not sized to goal_ms by doubling */
#define CALIB_HOST_IRQ_PER_ROUND 8

static const char *kind_name(unsigned k)
{
	if (k == KIND_CALL)
		return "function-call";
	if (k == KIND_INDIRECT)
		return "indirect-call";
	return wl_op_name(k);
}

__attribute__((noinline)) static void calib_callee(void)
{
	__asm__ volatile("" ::: "memory");
}
static void (*volatile calib_indirect)(void) = calib_callee;

static uint64_t time_calls(uint64_t n, bool indirect)
{
	void (*f)(void) = calib_indirect;
	uint64_t t0 = wl_rdtsc();
	if (indirect)
		for (uint64_t i = 0; i < n; i++) {
			f();
			__asm__ volatile("" : "+r"(f));
		}
	else
		for (uint64_t i = 0; i < n; i++)
			calib_callee();
	return wl_rdtsc() - t0;
}

struct calib_ctx {
	struct wl_env *env;
	uint64_t goal, deadline;
	uint32_t rounds;
};

static int measure(struct wl_env *env, unsigned k, uint64_t n, uint64_t *ticks)
{
	if (k == KIND_CALL || k == KIND_INDIRECT) {
		*ticks = time_calls(n, k == KIND_INDIRECT);
		return 0;
	}
	return env->op(env, k, n, ticks);
}

static bool selected(const char *kinds, const char *name)
{
	if (wl_streq(kinds, "all"))
		return true;
	size_t len = wl_strlen(name);
	for (const char *p = kinds; *p;) {
		const char *e = p;
		while (*e && *e != ',')
			e++;
		if ((size_t)(e - p) == len) {
			size_t i = 0;
			while (i < len && p[i] == name[i])
				i++;
			if (i == len)
				return true;
		}
		p = *e ? e + 1 : e;
	}
	return false;
}

static void report_unavailable(struct calib_ctx *c, unsigned k, const char *why)
{
	struct wl_calib rec = {.kind = kind_name(k), .reason = why};
	c->env->emit_calib(c->env, &rec);
}

/* Double n until one round reaches the goal (vmexit.c), then time the rounds. */
static void calibrate_kind(struct calib_ctx *c, unsigned k, const char *how)
{
	struct wl_calib rec = {.kind = kind_name(k), .how = how};
	char why[WHY_LEN] = "";
	uint64_t n = k == WL_OP_HOST_IRQ ? CALIB_HOST_IRQ_PER_ROUND : 1, t = 0;
	int rc = 0;
	while (k != WL_OP_HOST_IRQ) {
		if ((rc = measure(c->env, k, n, &t)))
			break;
		if (t >= c->goal || n >= CALIB_MAX_ITERS)
			break;
		if (wl_rdtsc() > c->deadline) {
			report_unavailable(c, k, "skipped: max_ms reached before this kind");
			return;
		}
		uint64_t next = t ? n * (c->goal / t + 1) : n * 16;
		n = next > n * 16 ? n * 16 : (next < n * 2 ? n * 2 : next);
	}
	/* the timed rounds as one region "calib.KIND": what one operation of the
	 * kind makes the VMM and KVM count (exits per category, docs/CALIBRATION.md) */
	char label[WL_REGION_LABEL_MAX] = "calib.";
	wl_strcat(label, sizeof(label), rec.kind);
	wl_region_begin(c->env, label);
	for (uint32_t r = 0; !rc && r < c->rounds; r++) {
		if ((rc = measure(c->env, k, n, &rec.ticks[r])))
			break;
		rec.nrounds++;
		if (rec.nrounds >= 3 && wl_rdtsc() > c->deadline)
			break; /* fewer rounds, the harness reports n */
	}
	wl_region_end(c->env, label);
	if (rc) {
		wl_strcat(why, sizeof(why), "the operation failed after a good probe: errno ");
		wl_strcat_u64(why, sizeof(why), (uint64_t)-rc);
		report_unavailable(c, k, why);
		return;
	}
	rec.iters = n;
	c->env->emit_calib(c->env, &rec);
}

/* ---- spacing: cost per op with `gap` compute units before each ---- */

#define SPACING_MAX_GAPS 8
static volatile uint64_t spacing_sink;

static uint64_t spacing_round(struct wl_env *env, unsigned k, uint64_t gap, uint64_t n,
			      bool with_op, int *rc)
{
	uint64_t x = spacing_sink, t, t0 = wl_rdtsc();
	for (uint64_t i = 0; i < n && !*rc; i++) {
		x = wl_cpu_int_block(x, i * gap, gap);
		if (with_op)
			*rc = env->op(env, k, 1, &t);
	}
	uint64_t dt = wl_rdtsc() - t0;
	spacing_sink = x;
	return dt;
}

static void spacing_kind_gap(struct calib_ctx *c, unsigned k, uint64_t gap)
{
	struct wl_calib rec = {.kind = kind_name(k), .spacing = true, .gap_units = gap};
	uint64_t n = 1, t;
	int rc = 0;
	for (;;) { /* size the exit round to the goal, as calibrate_kind does */
		t = spacing_round(c->env, k, gap, n, true, &rc);
		if (rc || t >= c->goal || n >= CALIB_MAX_ITERS || wl_rdtsc() > c->deadline)
			break;
		uint64_t next = t ? n * (c->goal / t + 1) : n * 16;
		n = next > n * 16 ? n * 16 : (next < n * 2 ? n * 2 : next);
	}
	for (uint32_t r = 0; !rc && r < c->rounds; r++) {
		bool base_first = !(r & 1);
		if (base_first)
			rec.base_ticks[r] = spacing_round(c->env, k, gap, n, false, &rc);
		rec.ticks[r] = spacing_round(c->env, k, gap, n, true, &rc);
		if (!base_first)
			rec.base_ticks[r] = spacing_round(c->env, k, gap, n, false, &rc);
		if (!rc)
			rec.nrounds++;
		if (rec.nrounds >= 3 && wl_rdtsc() > c->deadline)
			break;
	}
	if (rc || rec.nrounds < 3)
		return; /* the kind's own record already says whether it works */
	rec.iters = n;
	c->env->emit_calib(c->env, &rec);
}

/* Spacing records for the selected kinds of `spacing=` that probed fine. */
static int calib_spacing(struct calib_ctx *c, const char *kinds)
{
	const char *sp = c->env->param(c->env, "spacing"), *g = c->env->param(c->env, "gaps");
	uint64_t gaps[SPACING_MAX_GAPS];
	unsigned ng = 0;
	if (!sp || !g || wl_streq(sp, "none") || !c->env->op || !c->env->op_probe)
		return 0;
	while (*g) {
		uint64_t v = 0;
		const char *p = g;
		while (*g >= '0' && *g <= '9')
			v = v * 10 + (uint64_t)(*g++ - '0');
		if (g == p || ng == SPACING_MAX_GAPS || (*g && *g != ',') || v > 100000000) {
			c->env->log(c->env, "calib: gaps= must be <= 8 comma-separated integers "
					    "(compute units, <= 100000000)");
			return -WL_EINVAL;
		}
		gaps[ng++] = v;
		if (*g)
			g++;
	}
	for (unsigned k = 0; k < WL_OP_COUNT; k++) {
		char why[WHY_LEN];
		if (!selected(kinds, kind_name(k)) || !selected(sp, kind_name(k)) ||
		    c->env->op_probe(c->env, k, why, sizeof(why)))
			continue;
		for (unsigned i = 0; i < ng && wl_rdtsc() < c->deadline; i++)
			spacing_kind_gap(c, k, gaps[i]);
	}
	return 0;
}

static int calib_params_get(struct wl_env *env, uint64_t *goal_ms, uint64_t *rounds,
			    uint64_t *max_ms)
{
	int rc;
	if ((rc = wl_param_u64(env, "goal_ms", goal_ms)) ||
	    (rc = wl_param_u64(env, "rounds", rounds)) ||
	    (rc = wl_param_u64(env, "max_ms", max_ms)))
		return rc;
	if (*goal_ms < 1 || *goal_ms > 1000 || *rounds < 3 || *rounds > WL_CALIB_MAX_ROUNDS) {
		env->log(env, "calib: goal_ms must be 1..1000 and rounds 3..24");
		return -WL_EINVAL;
	}
	return 0;
}

static int calib_run(struct wl_env *env)
{
	uint64_t goal_ms, rounds, max_ms;
	int rc = calib_params_get(env, &goal_ms, &rounds, &max_ms);
	if (rc)
		return rc;
	if (!env->emit_calib) {
		env->log(env, "calib: this runtime cannot report calib records");
		return -WL_EINVAL;
	}
	const char *kinds = env->param(env, "kinds");
	unsigned nsel = 0;
	struct calib_ctx c = {.env = env,
			      .goal = wl_ms_to_ticks(env, goal_ms),
			      .deadline = wl_rdtsc() + wl_ms_to_ticks(env, max_ms),
			      .rounds = (uint32_t)rounds};
	for (unsigned k = 0; k < KIND_COUNT; k++) {
		char why[WHY_LEN] = "";
		if (!selected(kinds, kind_name(k)))
			continue;
		nsel++;
		if (k == KIND_CALL || k == KIND_INDIRECT)
			calibrate_kind(&c, k,
				       k == KIND_CALL ? "call of an empty noinline function"
						      : "call through a volatile pointer");
		else if (!env->op || !env->op_probe)
			report_unavailable(&c, k, "this runtime has no platform operations");
		else if (env->op_probe(env, k, why, sizeof(why)))
			report_unavailable(&c, k, why[0] ? why : "unavailable");
		else
			calibrate_kind(&c, k, why);
	}
	if (!nsel) {
		env->log(env, "calib: kinds= names no known kind (see docs/CALIBRATION.md)");
		return -WL_EINVAL;
	}
	return calib_spacing(&c, kinds);
}

const struct workload_ops wl_calib = {
    .name = "calib",
    .help = "cost per operation of each VM exit kind and isolation boundary (calibration)",
    .params = calib_params,
    .quick_params = "goal_ms=5 rounds=7",
    .run = calib_run,
    .est_ms = 3000,
    .est_quick_ms = 1000,
};
