/*
 * Calibration statistics and calibration.json (see core/calib.h for the
 * contracts, docs/CALIBRATION.md for the schema; the procedure that boots
 * the agent is harness/calib_run.c).
 *
 * Why this way: the guest and the host report raw TSC ticks per round; all
 * arithmetic happens here, once, for both sides. The CI of the median is
 * distribution-free (order statistics) because exit costs are skewed by
 * preemption on a shared host: a mean +- t*s would be pulled by outliers.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/calib.h"
#include "core/results.h"

int calib_record_check(json_t *rec, const char **why)
{
	json_t *ok = json_object_get(rec, "ok"), *ticks = json_object_get(rec, "ticks");
	if (!json_is_string(json_object_get(rec, "kind")) || !json_is_boolean(ok))
		return *why = "calib record without string \"kind\" and boolean \"ok\"", -EINVAL;
	if (!json_is_true(ok))
		return json_is_string(json_object_get(rec, "reason"))
			   ? 0
			   : (*why = "unavailable calib record without \"reason\"", -EINVAL);
	json_t *iters = json_object_get(rec, "iters");
	if (!json_is_integer(iters) || json_integer_value(iters) <= 0 ||
	    json_integer_value(iters) > CALIB_MAX_ITERS)
		return *why = "calib record: \"iters\" must be an integer from 1 to 2^40", -EINVAL;
	if (!json_is_array(ticks) || json_array_size(ticks) < 1 ||
	    json_array_size(ticks) > CALIB_MAX_SAMPLES)
		return *why = "calib record: \"ticks\" must be an array of 1..24 rounds", -EINVAL;
	size_t i;
	json_t *t;
	json_array_foreach(ticks, i,
			   t) if (!json_is_integer(t) || json_integer_value(t) < 0) return *why =
	    "calib record: \"ticks\" must hold non-negative integers",
											   -EINVAL;
	if (!json_is_true(json_object_get(rec, "spacing")))
		return 0;
	json_t *base = json_object_get(rec, "base_ticks"), *gap = json_object_get(rec, "gap_units");
	if (!json_is_integer(gap) || json_integer_value(gap) < 0 || !json_is_array(base) ||
	    json_array_size(base) != json_array_size(ticks))
		return *why = "calib spacing record needs integer \"gap_units\" and \"base_ticks\" "
			      "as long as \"ticks\"",
		       -EINVAL;
	json_array_foreach(base, i,
			   t) if (!json_is_integer(t) || json_integer_value(t) < 0) return *why =
	    "calib record: \"base_ticks\" must hold non-negative integers",
											   -EINVAL;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* P(Binomial(n, 1/2) <= k) */
static double binom_cdf_half(size_t n, size_t k)
{
	double sum = 0, c = pow(0.5, (double)n); /* C(n,0) / 2^n */
	for (size_t i = 0; i <= k && i <= n; i++) {
		sum += c;
		c = c * (double)(n - i) / (double)(i + 1);
	}
	return sum;
}

int calib_stat_compute(const double *x, size_t n, struct calib_stat *out)
{
	if (!n || n > CALIB_MAX_SAMPLES * 8)
		return -EINVAL;
	double s[CALIB_MAX_SAMPLES * 8];
	memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	out->n = n;
	out->median = n & 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
	size_t k = 1; /* 1-based rank of the lower bound */
	for (size_t j = n / 2; j >= 1; j--)
		if (1.0 - 2.0 * binom_cdf_half(n, j - 1) >= 0.95) {
			k = j;
			break;
		}
	out->lo = s[k - 1];
	out->hi = s[n - k];
	out->coverage = 1.0 - 2.0 * binom_cdf_half(n, k - 1);
	return 0;
}

json_t *calib_kind_json(json_t *rec, double tsc_hz)
{
	if (!json_is_true(json_object_get(rec, "ok")))
		return json_pack("{s:b,s:O}", "available", 0, "reason",
				 json_object_get(rec, "reason"));
	json_t *ticks = json_object_get(rec, "ticks");
	json_int_t niters = json_integer_value(json_object_get(rec, "iters")); /* checked */
	double iters = (double)niters;
	double ns[CALIB_MAX_SAMPLES], cyc[CALIB_MAX_SAMPLES];
	size_t n = json_array_size(ticks);
	json_t *samples = json_array();
	for (size_t i = 0; i < n && i < CALIB_MAX_SAMPLES; i++) {
		cyc[i] = (double)json_integer_value(json_array_get(ticks, i)) / iters;
		ns[i] = cyc[i] * 1e9 / tsc_hz;
		json_array_append_new(samples, json_real(ns[i]));
	}
	struct calib_stat s, c;
	calib_stat_compute(ns, n, &s);
	calib_stat_compute(cyc, n, &c);
	json_t *how = json_object_get(rec, "how");
	return json_pack("{s:b,s:s,s:f,s:[f,f],s:f,s:I,s:I,s:I,s:f,s:s,s:o}", "available", 1, "how",
			 json_is_string(how) ? json_string_value(how) : "", "ns", s.median, "ci95",
			 s.lo, s.hi, "ci_coverage", s.coverage, "n", (json_int_t)n, "iters", niters,
			 "ops", niters * (json_int_t)n, "cycles", c.median, "unit",
			 "ns/op (cycles: TSC ticks/op)", "samples_ns", samples);
}

json_t *calib_spacing_json(json_t *rec, double tsc_hz)
{
	json_t *ticks = json_object_get(rec, "ticks"), *base = json_object_get(rec, "base_ticks");
	json_int_t niters = json_integer_value(json_object_get(rec, "iters"));
	double iters = (double)niters;
	double ns[CALIB_MAX_SAMPLES], gap[CALIB_MAX_SAMPLES];
	size_t n = json_array_size(ticks);
	if (!n || n > CALIB_MAX_SAMPLES || json_array_size(base) != n || niters <= 0 ||
	    niters > CALIB_MAX_ITERS)
		return NULL;
	json_t *samples = json_array();
	for (size_t i = 0; i < n; i++) {
		double te = (double)json_integer_value(json_array_get(ticks, i));
		double tb = (double)json_integer_value(json_array_get(base, i));
		ns[i] = (te - tb) / iters * 1e9 / tsc_hz;
		gap[i] = tb / iters * 1e9 / tsc_hz;
		json_array_append_new(samples, json_real(ns[i]));
	}
	struct calib_stat s, g;
	calib_stat_compute(ns, n, &s);
	calib_stat_compute(gap, n, &g);
	return json_pack("{s:I,s:f,s:f,s:[f,f],s:f,s:I,s:I,s:s,s:o}", "gap_units",
			 json_integer_value(json_object_get(rec, "gap_units")), "gap_ns", g.median,
			 "ns", s.median, "ci95", s.lo, s.hi, "ci_coverage", s.coverage, "n",
			 (json_int_t)n, "iters", niters, "unit",
			 "ns/op: (round with the op - interleaved round without) / iters",
			 "samples_ns", samples);
}

static int cmp_gap(const void *a, const void *b)
{
	double x = json_number_value(json_object_get(*(json_t *const *)a, "gap_ns"));
	double y = json_number_value(json_object_get(*(json_t *const *)b, "gap_ns"));
	return x < y ? -1 : x > y;
}

/* Spacing records go into side[kind].spacing, sorted by gap_ns. */
static void add_spacing(json_t *side, json_t *r, double tsc_hz)
{
	json_t *k = json_object_get(side, json_string_value(json_object_get(r, "kind")));
	json_t *pt = calib_spacing_json(r, tsc_hz);
	if (!pt || !json_is_true(json_object_get(k, "available"))) {
		json_decref(pt);
		return;
	}
	json_t *sp = json_object_get(k, "spacing");
	if (!json_is_array(sp)) {
		sp = json_array();
		json_object_set_new(k, "spacing", sp);
	}
	size_t n = json_array_size(sp) + 1;
	json_t *v[CALIB_MAX_SPACING];
	if (n > CALIB_MAX_SPACING) { /* calib_add_records counted: cannot happen */
		json_decref(pt);
		return;
	}
	json_array_append_new(sp, pt);
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(sp, i));
	qsort(v, n, sizeof(v[0]), cmp_gap);
	json_array_clear(sp);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(sp, v[i]);
}

/* Would a kind end up with more than CALIB_MAX_SPACING spacing points? */
static int check_spacing_counts(json_t *side, json_t *recs, char *err, size_t len)
{
	size_t i, j;
	json_t *r, *q;
	json_array_foreach(recs, i, r)
	{
		const char *kind = json_string_value(json_object_get(r, "kind"));
		if (!kind || !json_is_true(json_object_get(r, "spacing")))
			continue;
		size_t n = json_array_size(json_object_get(json_object_get(side, kind), "spacing"));
		json_array_foreach(recs, j, q) n +=
		    json_is_true(json_object_get(q, "spacing")) &&
		    !strcmp(kind, json_string_value(json_object_get(q, "kind")) ?: "");
		if (n > CALIB_MAX_SPACING)
			return snprintf(
				   err, len,
				   "calib records: kind %.64s would have %zu spacing points, at "
				   "most %d",
				   kind, n, CALIB_MAX_SPACING),
			       -E2BIG;
	}
	return 0;
}

int calib_add_records(json_t *side, json_t *recs, double tsc_hz, char *err, size_t len)
{
	size_t i;
	json_t *r;
	int rc = check_spacing_counts(side, recs, err, len);
	if (rc)
		return rc;
	json_array_foreach(recs, i, r)
	{
		const char *kind = json_string_value(json_object_get(r, "kind"));
		if (json_is_true(json_object_get(r, "spacing")))
			continue;
		if (kind && !json_object_get(side, kind))
			json_object_set_new(side, kind, calib_kind_json(r, tsc_hz));
	}
	json_array_foreach(recs, i, r) if (json_is_true(json_object_get(r, "spacing")))
	    add_spacing(side, r, tsc_hz);
	return 0;
}

/* The one interval of region "calib.KIND" in a stats "regions" object, or NULL. */
static json_t *kind_region(json_t *regions, const char *kind)
{
	json_t *e;
	size_t i;
	char label[80];
	snprintf(label, sizeof(label), "calib.%s", kind);
	json_array_foreach(json_object_get(regions, "list"), i, e)
	{
		json_t *n = json_object_get(e, "n");
		if (!strcmp(json_string_value(json_object_get(e, "label")) ?: "", label) &&
		    json_is_integer(n) && json_integer_value(n) == 1)
			return e;
	}
	return NULL;
}

static double num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

void calib_price_cpu(json_t *side, json_t *regions)
{
	const char *kind;
	json_t *k;
	json_object_foreach(side, kind, k)
	{
		json_t *g = kind_region(regions, kind), *smp = json_object_get(k, "samples_ns"), *x;
		double ops = num(k, "ops"), iters = num(k, "iters"), ns = num(k, "ns");
		double wall = num(g, "wall_ns"), run = num(g, "run_ns"), sum = 0;
		size_t i;
		if (!g || !json_is_true(json_object_get(k, "available")) || !(ops > 0) ||
		    !(ns > 0) || !(wall > 0) || !(run > 0))
			continue;
		json_array_foreach(smp, i, x) sum += json_number_value(x) * iters;
		double cover = sum / wall, vol = num(g, "voluntary_ctxt_switches");
		json_t *cpu = json_pack("{s:f,s:f,s:f,s:f}", "ns", run / ops, "wait_ns_per_op",
					num(g, "wait_ns") / ops, "coverage", cover,
					"voluntary_ctxt_switches", vol);
		/* the rounds must be the region (nothing untimed in it) and the
		 * thread must never block: then its CPU time is the operations' */
		if (!(cover >= CALIB_CPU_MIN_COVER && cover <= CALIB_CPU_MAX_COVER) || vol != 0) {
			json_object_set_new(cpu, "used", json_false());
			json_object_set_new(
			    cpu, "why_not",
			    json_string(vol != 0 ? "the thread blocked inside the rounds: the "
						   "operation's cost includes its sleep (stopwatch)"
						 : "the timed rounds are not the whole region (an "
						   "operation timed inside a wait): stopwatch"));
			json_object_set_new(k, "cpu", cpu);
			continue;
		}
		double r = run / ops / ns;
		json_t *ci = json_object_get(k, "ci95");
		json_object_set_new(cpu, "used", json_true());
		json_object_set_new(k, "cpu", cpu);
		json_object_set_new(k, "ns_stopwatch", json_real(ns));
		json_object_set(k, "ci95_stopwatch", ci);
		json_object_set_new(k, "ns", json_real(run / ops));
		json_object_set_new(k, "ci95",
				    json_pack("[f,f]", json_number_value(json_array_get(ci, 0)) * r,
					      json_number_value(json_array_get(ci, 1)) * r));
		json_object_set_new(k, "priced_by", json_string("cpu"));
	}
}

void calib_mark_missing(json_t *side, const char *kinds, const char *reason)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", kinds);
	for (char *save, *k = strtok_r(buf, ",", &save); k; k = strtok_r(NULL, ",", &save))
		if (!json_object_get(side, k))
			json_object_set_new(
			    side, k, json_pack("{s:b,s:s}", "available", 0, "reason", reason));
}

/* Boundaries of the ladder: side, kind, what it is. */
static const struct {
	const char *side, *kind, *boundary;
} ladder_rungs[] = {
    {"bare", "function-call", "function call (language-level isolation)"},
    {"bare", "indirect-call", "indirect call"},
    {"bare", "syscall", "system call: getpid (process isolation, user->kernel)"},
    {"bare", "thread-wake", "thread wake-up: futex ping-pong"},
    {"bare", "process-roundtrip", "process round trip: pipe ping-pong"},
    {"vm", "syscall", "guest user->kernel system call (syscall/sysret)"},
    {"vm", "cpuid", "VM exit: cpuid"},
    {"vm", "hypercall", "VM exit: hypercall"},
    {"vm", "pio-ioeventfd", "VM exit: port I/O completed in the kernel (ioeventfd)"},
    {"vm", "pio", "VM exit: port I/O to the VMM (user space)"},
    {"vm", "mmio-ioeventfd", "VM exit: MMIO completed in the kernel (ioeventfd)"},
    {"vm", "mmio", "VM exit: MMIO to the VMM (user space)"},
    {"vm", "msr-kernel-read", "VM exit: MSR read handled in the kernel"},
    {"vm", "msr-kernel-write", "VM exit: MSR write handled in the kernel"},
    {"vm", "msr-user-read", "VM exit: MSR read handled by the VMM"},
    {"vm", "msr-user-write", "VM exit: MSR write handled by the VMM"},
    {"vm", "hlt-timer", "VM exit: HLT with a timer wake-up"},
    {"vm", "self-ipi", "VM exit: self-IPI"},
    {"vm", "ipi", "VM exit: IPI to another vCPU (ping-pong)"},
    {"vm", "timer-latency", "timer interrupt latency (TSC deadline)"},
};

static int cmp_rung(const void *a, const void *b)
{
	double x = json_real_value(json_object_get(*(json_t *const *)a, "ns"));
	double y = json_real_value(json_object_get(*(json_t *const *)b, "ns"));
	return x < y ? -1 : x > y;
}

json_t *calib_build_ladder(json_t *calib)
{
	json_t *rungs[sizeof(ladder_rungs) / sizeof(ladder_rungs[0])];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(ladder_rungs) / sizeof(ladder_rungs[0]); i++) {
		json_t *k = json_object_get(json_object_get(calib, ladder_rungs[i].side),
					    ladder_rungs[i].kind);
		if (!json_is_true(json_object_get(k, "available")))
			continue;
		rungs[n++] =
		    json_pack("{s:s,s:s,s:s,s:O,s:O,s:O,s:O}", "boundary", ladder_rungs[i].boundary,
			      "side", ladder_rungs[i].side, "kind", ladder_rungs[i].kind, "ns",
			      json_object_get(k, "ns"), "ci95", json_object_get(k, "ci95"), "n",
			      json_object_get(k, "n"), "cycles", json_object_get(k, "cycles"));
	}
	qsort(rungs, n, sizeof(rungs[0]), cmp_rung);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, rungs[i]);
	return a;
}

static int validate_side(json_t *side, const char *name, char *err, size_t len)
{
	const char *kind;
	json_t *k;
	if (!json_is_object(side))
		return snprintf(err, len, "\"%s\" is not an object", name), -EINVAL;
	json_object_foreach(side, kind, k)
	{
		json_t *av = json_object_get(k, "available");
		if (!json_is_boolean(av))
			return snprintf(err, len, "%s.%s: no boolean \"available\"", name, kind),
			       -EINVAL;
		if (json_is_true(av) ? !json_is_number(json_object_get(k, "ns")) ||
					   !json_is_array(json_object_get(k, "ci95")) ||
					   !json_is_integer(json_object_get(k, "n"))
				     : !json_is_string(json_object_get(k, "reason")))
			return snprintf(err, len, "%s.%s: needs ns, ci95 and n, or a reason", name,
					kind),
			       -EINVAL;
		json_t *sp = json_object_get(k, "spacing"), *p;
		size_t i;
		if (sp && !json_is_array(sp))
			return snprintf(err, len, "%s.%s.spacing is not an array", name, kind),
			       -EINVAL;
		json_array_foreach(sp, i,
				   p) if (!json_is_number(json_object_get(p, "gap_ns")) ||
					  !json_is_number(json_object_get(p, "ns")) ||
					  !json_is_array(json_object_get(p, "ci95")) ||
					  !json_is_integer(json_object_get(
					      p, "n"))) return snprintf(err, len,
									"%s.%s.spacing[%zu]: needs "
									"gap_ns, ns, ci95 and n",
									name, kind, i),
		    -EINVAL;
	}
	return 0;
}

int calib_validate(json_t *calib, char *err, size_t len)
{
	json_t *v = json_object_get(calib, "version");
	if (!json_is_object(calib) || !json_is_integer(v))
		return snprintf(err, len, "not a calibration object (no \"version\")"), -EINVAL;
	if (json_integer_value(v) != CALIB_SCHEMA_VERSION)
		return snprintf(err, len, "version %lld, this virttax reads version %d",
				(long long)json_integer_value(v), CALIB_SCHEMA_VERSION),
		       -EINVAL;
	int rc = validate_side(json_object_get(calib, "vm"), "vm", err, len);
	return rc ? rc : validate_side(json_object_get(calib, "bare"), "bare", err, len);
}

int calib_load(const char *path, json_t **out, char *err, size_t len)
{
	json_error_t je;
	char why[200];
	*out = json_load_file(path, 0, &je);
	if (!*out)
		return snprintf(err, len, "%s: %s (line %d)", path, je.text, je.line), -EINVAL;
	if (calib_validate(*out, why, sizeof(why))) {
		snprintf(err, len, "%s: %s (make one with `virttax calibrate --out FILE`)", path,
			 why);
		json_decref(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

int calib_write(const char *path, json_t *calib)
{
	return results_write_atomic(path, calib);
}

double calib_cost_ns(json_t *calib, const char *side, const char *kind)
{
	json_t *k = json_object_get(json_object_get(calib, side), kind);
	return json_is_true(json_object_get(k, "available"))
		   ? json_number_value(json_object_get(k, "ns"))
		   : -1.0;
}

static void print_side(FILE *f, json_t *calib, const char *side)
{
	const char *kind;
	json_t *k;
	fprintf(f, "%s:\n", side);
	json_object_foreach(json_object_get(calib, side), kind, k)
	{
		if (json_is_true(json_object_get(k, "available"))) {
			json_t *ci = json_object_get(k, "ci95");
			fprintf(f, "  %-18s %11.1f ns  95%% CI [%.1f, %.1f]  n=%lld  %.0f cycles\n",
				kind, json_number_value(json_object_get(k, "ns")),
				json_number_value(json_array_get(ci, 0)),
				json_number_value(json_array_get(ci, 1)),
				(long long)json_integer_value(json_object_get(k, "n")),
				json_number_value(json_object_get(k, "cycles")));
			size_t i;
			json_t *p;
			json_array_foreach(json_object_get(k, "spacing"), i, p)
			{
				ci = json_object_get(p, "ci95");
				fprintf(f,
					"    after %9.1f us of compute: %9.1f ns  95%% CI [%.1f, "
					"%.1f]  n=%lld\n",
					json_number_value(json_object_get(p, "gap_ns")) / 1e3,
					json_number_value(json_object_get(p, "ns")),
					json_number_value(json_array_get(ci, 0)),
					json_number_value(json_array_get(ci, 1)),
					(long long)json_integer_value(json_object_get(p, "n")));
			}
		} else {
			fprintf(f, "  %-18s unavailable: %s\n", kind,
				json_string_value(json_object_get(k, "reason")));
		}
	}
}

void calib_print(FILE *f, json_t *calib)
{
	print_side(f, calib, "bare");
	print_side(f, calib, "vm");
	fprintf(f, "ladder (cheapest first):\n");
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(calib, "ladder"), i, r)
	    fprintf(f, "  %11.1f ns  %s %s\n", json_number_value(json_object_get(r, "ns")),
		    json_string_value(json_object_get(r, "side")),
		    json_string_value(json_object_get(r, "boundary")));
}
