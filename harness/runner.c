/*
 * The one runner (see runner.h for why).
 */
#include "harness/runner.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/results.h"
#include "core/stats.h"
#include "harness/autoreps.h"

int runner_exec(struct session *s, const struct run_spec *spec, const char *vmm,
		struct run_result *res)
{
	(void)s;
	if (session_stopped())
		return -ECANCELED;
	if (!vmm)
		return bare_run(spec, res);
	const struct vmm_ops *v = vmm_find_any(vmm);
	return v ? v->run(spec, res) : -ENOENT;
}

void runner_spec(const struct session *s, const struct plan_workload *w, const struct series *ser,
		 struct run_spec *spec)
{
	const struct plan *p = s->plan;
	const char *cpu_list = NULL;
	unsigned vcpus = plan_vcpus(p, w, &cpu_list);
	*spec = (struct run_spec){
	    .workload = w->name,
	    .wl_args = (const char *const *)w->args,
	    .nwl_args = w->nargs,
	    .cpu = p->cpu,
	    .backing = ser->vmm ? ser->backing : plan_bare_backing(ser->backing),
	    .pagesize = ser->vmm ? ser->pagesize : NULL,
	    .mem_bytes = ser->mem_bytes ? ser->mem_bytes : p->mem_bytes,
	    .timeout_s = p->timeout_s,
	    .tsc_khz = s->tsc_khz,
	    .scratch_dir = s->scratch,
	    .vmm_args = ser->vmm ? p->vmm_args : NULL,
	    .nvmm_args = ser->vmm ? p->nvmm_args : 0,
	    .vcpus = ser->vcpus ? ser->vcpus : vcpus,
	    .cpu_list = cpu_list,
	    .io_technique = ser->io_technique,
	};
}

int runner_check(struct session *s, const struct plan_workload *w, const struct series *ser, int rc,
		 const struct run_result *res)
{
	if (session_stopped())
		return -ECANCELED;
	if (rc) {
		session_fail(s, RUN_FATAL_HOST, "cannot start the %s run of %s: %s", ser->name,
			     w->name, strerror(-rc));
		return -EIO;
	}
	if (res->fatal) {
		session_fail(s, res->fatal, "%s (workload %s, %s)", res->reason, w->name,
			     ser->name);
		return -EIO;
	}
	return 0;
}

int runner_rep(struct session *s, const struct plan_workload *w, const struct series *ser,
	       const struct run_meta *m, json_t **record)
{
	struct run_spec spec;
	struct run_result res;
	runner_spec(s, w, ser, &spec);
	run_result_init(&res);
	int rc = runner_check(s, w, ser, runner_exec(s, &spec, ser->vmm, &res), &res);
	if (!rc)
		*record = results_run_record(m, &res);
	run_result_release(&res);
	return rc;
}

void runner_rounds(const struct plan *p, const struct experiment_ops *e, unsigned *warmup,
		   unsigned *reps)
{
	*reps = p->reps;
	*warmup = p->warmup;
	if (!(p->given & PLAN_F_REPS) && !p->reps_auto && (p->quick ? e->quick_reps : e->reps))
		*reps = p->quick ? e->quick_reps : e->reps;
	if (!(p->given & PLAN_F_WARMUP))
		*warmup = p->quick ? e->quick_warmup : e->warmup;
	if (!(p->given & PLAN_F_WARMUP) && !e->quick_warmup && !e->warmup && !e->no_warmup)
		*warmup = p->warmup;
	if (e->no_warmup)
		*warmup = 0;
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void runner_order(uint64_t seed, unsigned wl, unsigned round, size_t n, size_t *perm)
{
	uint64_t mix = seed ^ ((uint64_t)wl << 40) ^ ((uint64_t)round << 8);
	uint64_t state = splitmix64(&mix) | 1; /* xorshift needs a non-zero state */
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(stats_rand(&state) % i);
		size_t t = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = t;
	}
}

/* The series list of the workload object: what was planned, and why a series
 * never ran. */
static json_t *series_json(const struct series *ser)
{
	json_t *o =
	    json_pack("{s:s,s:s,s:s?,s:s?,s:{s:s?,s:s?}}", "series", ser->name, "side", ser->side,
		      "vmm", ser->vmm, "baseline_series", ser->baseline[0] ? ser->baseline : NULL,
		      "config", "backing", ser->backing, "pagesize", ser->pagesize);
	if (ser->io_technique)
		json_object_set_new(o, "io_technique", json_string(ser->io_technique));
	json_object_set_new(o, "status", json_string(ser->unavailable[0] ? "unavailable" : "ok"));
	json_object_set_new(o, "reason",
			    ser->unavailable[0] ? json_string(ser->unavailable) : json_null());
	return o;
}

struct loop {
	struct session *s;
	const struct experiment_ops *e;
	const struct plan_workload *w;
	unsigned wl_index;
	json_t *wl;
	struct series ser[SERIES_MAX];
	size_t avail[SERIES_MAX], navail;
	unsigned warmup, reps;
};

/* What a stop leaves undone: the rest of this round, the planned rounds
 * after it, and every later workload of this experiment. */
static void note_remaining(struct loop *L, unsigned round, size_t pos)
{
	struct session *s = L->s;
	if (!s->remaining)
		s->remaining = json_array();
	unsigned rounds = L->warmup + L->reps;
	for (unsigned r = round; r < rounds; r++)
		for (size_t k = r == round ? pos : 0; k < L->navail; k++)
			json_array_append_new(s->remaining,
					      json_pack("{s:s,s:s,s:i,s:b}", "workload", L->w->name,
							"series", L->ser[L->avail[k]].name, "rep",
							(int)(r < L->warmup ? r : r - L->warmup),
							"warmup", r < L->warmup));
}

static void note_remaining_workloads(struct session *s, const struct experiment_ops *e, size_t from)
{
	const struct plan *p = s->plan;
	if (!s->remaining)
		s->remaining = json_array();
	for (size_t i = from; i < p->nwl; i++)
		if (s->wl_exp[i] == e)
			json_array_append_new(
			    s->remaining,
			    json_pack("{s:s,s:s}", "workload", p->wl[i].name, "series", "(all)"));
}

static bool more_rounds(struct loop *L, unsigned round)
{
	if (round < L->warmup)
		return true;
	/* fixed rounds are the experiment's (runner_rounds), not the plan's */
	if (!L->s->plan->reps_auto)
		return round < L->warmup + L->reps;
	return autoreps_more(L->s->plan, L->wl, round - L->warmup);
}

/* One run at position pos of a round; appends its record. 0, -ECANCELED, -EIO. */
static int one(struct loop *L, unsigned round, size_t pos, size_t k)
{
	struct session *s = L->s;
	const struct series *ser = &L->ser[k];
	bool warmup = round < L->warmup;
	struct run_meta m = {.side = ser->side,
			     .vmm = ser->vmm,
			     .series = ser->name,
			     .baseline_series = ser->baseline[0] ? ser->baseline : NULL,
			     .backing = ser->vmm ? ser->backing : plan_bare_backing(ser->backing),
			     .pagesize = ser->pagesize,
			     .rep = warmup ? round : round - L->warmup,
			     .warmup = warmup};
	json_t *rec = NULL;
	progress_run(&s->progress, L->w->name, ser->name, m.rep, warmup);
	int rc = (L->e->rep ? L->e->rep : runner_rep)(s, L->w, ser, &m, &rec);
	if (rc || !rec)
		return rc;
	json_object_set_new(rec, "order",
			    json_pack("{s:I,s:i,s:i,s:i}", "seed", (json_int_t)s->plan->seed,
				      "round", (int)round, "position", (int)pos, "of",
				      (int)L->navail));
	json_array_append(json_object_get(L->wl, "runs"), rec);
	int arc = session_append_run(s, L->w->name, rec);
	if (arc)
		session_fail(s, RUN_FATAL_HOST, "cannot append to %s: %s (check --out)",
			     s->jsonl_path, strerror(-arc));
	json_t *reason = json_object_get(rec, "reason");
	progress_done(&s->progress, json_string_value(json_object_get(rec, "status")),
		      (double)json_integer_value(json_object_get(rec, "wall_ns")) / 1e9,
		      json_string_value(reason));
	json_decref(rec);
	return arc ? -EIO : 0;
}

static int one_workload(struct loop *L)
{
	struct session *s = L->s;
	size_t n = L->e->series(s, L->w, L->ser, SERIES_MAX);
	json_t *list = json_array();
	L->navail = 0;
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(list, series_json(&L->ser[i]));
		if (L->ser[i].unavailable[0])
			progress_note(&s->progress, "%s: %s %s: %s", s->cmd, L->w->name,
				      L->ser[i].name, L->ser[i].unavailable);
		else
			L->avail[L->navail++] = i;
	}
	json_object_set_new(L->wl, "series", list);
	json_object_set_new(L->wl, "rounds",
			    json_pack("{s:i,s:i,s:b}", "warmup", (int)L->warmup, "reps",
				      (int)L->reps, "auto", s->plan->reps_auto));
	/* the progress total counted this workload's runs before its fixtures
	 * existed (runner_plan): correct it by what is available now */
	progress_adjust_total(&s->progress, (long)(L->navail * (L->warmup + L->reps)) -
						(long)s->planned[L->wl_index]);
	int rc = 0;
	unsigned round;
	for (round = 0; !rc && more_rounds(L, round); round++) {
		if (round >= L->warmup + L->reps) /* --reps auto: one more round */
			progress_add_total(&s->progress, (unsigned)L->navail);
		size_t perm[SERIES_MAX];
		runner_order(s->plan->seed, L->wl_index, round, L->navail, perm);
		for (size_t pos = 0; !rc && pos < L->navail; pos++) {
			rc = one(L, round, pos, L->avail[perm[pos]]);
			if (rc)
				note_remaining(L, round, pos);
		}
	}
	if (!rc && s->plan->reps_auto)
		autoreps_record(s->plan, L->wl, round - L->warmup);
	if (L->e->workload_end)
		L->e->workload_end(s, L->w, L->wl);
	int src = results_summarize(L->wl);
	return rc ? rc : src;
}

int runner_experiment(struct session *s, const struct experiment_ops *e)
{
	const struct plan *p = s->plan;
	struct loop *L = calloc(1, sizeof(*L));
	if (!L)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; !rc && i < p->nwl; i++) {
		if (s->wl_exp[i] != e)
			continue;
		L->s = s;
		L->e = e;
		L->w = &p->wl[i];
		L->wl_index = (unsigned)i;
		L->wl = session_workload(s, L->w, e);
		runner_rounds(p, e, &L->warmup, &L->reps);
		rc = one_workload(L);
		if (rc)
			note_remaining_workloads(s, e, i + 1);
	}
	free(L);
	return rc;
}

static double estimate_ms(const struct session *s, const struct experiment_ops *e,
			  const struct plan_workload *w, const struct series *ser)
{
	if (e->estimate_ms)
		return e->estimate_ms(s, w, ser);
	const struct workload_ops *o = w->ops;
	double boot = ser->vmm ? 150 : 30; /* spawn to hello, measured order of magnitude */
	if (*plan_value(w, "ms"))
		return boot + strtod(plan_value(w, "ms"), NULL);
	unsigned est = o ? (s->plan->quick ? o->est_quick_ms : o->est_ms) : 0;
	return boot + (est ? est : 1000);
}

size_t runner_plan(struct session *s, const struct experiment_ops *e)
{
	double est = 0;
	return runner_dry_run(s, e, NULL, &est);
}

size_t runner_dry_run(struct session *s, const struct experiment_ops *e, FILE *out, double *est_s)
{
	const struct plan *p = s->plan;
	struct series ser[SERIES_MAX];
	size_t total = 0;
	for (size_t i = 0; i < p->nwl; i++) {
		const struct plan_workload *w = &p->wl[i];
		if (s->wl_exp[i] != e)
			continue;
		unsigned warmup, reps;
		runner_rounds(p, e, &warmup, &reps);
		size_t n = e->series(s, w, ser, SERIES_MAX), navail = 0;
		double ms = 0;
		for (size_t k = 0; k < n; k++) {
			if (ser[k].unavailable[0]) {
				if (out)
					fprintf(out, "  %-14s %-34s %s\n", w->name, ser[k].name,
						ser[k].unavailable);
				continue;
			}
			navail++;
			ms += estimate_ms(s, e, w, &ser[k]);
			if (out)
				fprintf(out, "  %-14s %-34s %u warm-up + %u%s run%s\n", w->name,
					ser[k].name, warmup, reps, p->reps_auto ? "+ (auto)" : "",
					reps == 1 ? "" : "s");
		}
		s->planned[i] = (unsigned)(navail * (warmup + reps));
		total += navail * (warmup + reps);
		*est_s += ms * (warmup + reps) / 1e3;
	}
	return total;
}
