/*
 * Experiment `ab`: each workload on bare metal and in each VM series (every
 * --vmm, --pagesize and --backing), the runs of a round in a counterbalanced
 * order, both sides pinned to the same CPU.
 *
 * Why this is the default experiment: it is virttax's question (what does
 * virtualization cost this workload?), answered by pairs of runs of the same
 * workload code (`virttax baseline` and the guest agent) that differ only in
 * the VM. Warm-up rounds are recorded and not counted; --reps auto adds
 * rounds until the overheads' CIs are narrow enough (harness/autoreps.c).
 */
#include <stdio.h>
#include <string.h>

#include "harness/experiment.h"
#include "harness/runner.h"
#include "reports/table.h"

static void series_name(const struct plan *p, const char *side, const char *backing,
			const char *pagesize, char *buf, size_t len)
{
	bool vb = p->nbackings > 1, vp = pagesize && p->npagesizes > 1;
	if (!vb && !vp)
		snprintf(buf, len, "%s", side);
	else if (vb && vp)
		snprintf(buf, len, "%s[backing=%s,pagesize=%s]", side, backing, pagesize);
	else if (vb)
		snprintf(buf, len, "%s[backing=%s]", side, backing);
	else
		snprintf(buf, len, "%s[pagesize=%s]", side, pagesize);
}

static bool ab_claims(const struct plan *p, const struct plan_workload *w)
{
	(void)p;
	return w->ops != NULL;
}

/* The default plan's translation A/B for a workload that needs it (docs/METHOD.md
 * "translation"): per vmm-lite VMM, 4 KiB guest pages on THP against the
 * plan's bare series, and 2 MiB guest pages on 4 KiB host backing against a
 * bare series on 4 KiB pages. Only when the plan is the default single
 * thp/2m series (with --backing/--pagesize the user chose the series) and a
 * run of the workload is estimated at most AB_TRANSLATION_MAX_EST_MS: the
 * default plan must stay within 15 minutes on 2 cores, and the two series
 * cost more than the workload's own pair (measured at load 7.5: full mem-chase,
 * 16 KiB..1 GiB, 23.5 s per round for bare + vm, 70.6 s more for the 4 KiB
 * series, 14 min over 12 rounds; mem-stream 4.6 s + 11.4 s; quick mem-chase,
 * up to 64 MiB, is cheap). */
#define AB_TRANSLATION_MAX_EST_MS 1000
static size_t translation_series(const struct plan *p, const struct plan_workload *w,
				 struct series *out, size_t max)
{
	size_t n = 0;
	if (!p->translation_series || !w->ops || !(w->ops->needs & WL_NEEDS_TRANSLATION) ||
	    (p->quick ? w->ops->est_quick_ms : w->ops->est_ms) > AB_TRANSLATION_MAX_EST_MS ||
	    p->nbackings != 1 || p->npagesizes != 1 || strcmp(p->backings[0], "thp") ||
	    strcmp(p->pagesizes[0], "2m"))
		return 0;
	if (max >= 1) {
		out[n] = (struct series){.side = "bare", .backing = "4k"};
		snprintf(out[n].name, sizeof(out[n].name), "bare[backing=4k]");
		n++;
	}
	for (size_t v = 0; v < p->nvmms && n + 2 <= max; v++) {
		const char *side = p->nvmms > 1 ? p->vmms[v] : "vm";
		if (strcmp(p->vmms[v], "vmm-lite"))
			continue;
		out[n] = (struct series){
		    .side = "vm", .vmm = p->vmms[v], .backing = "thp", .pagesize = "4k"};
		snprintf(out[n].name, sizeof(out[n].name), "%s[pagesize=4k]", side);
		snprintf(out[n].baseline, sizeof(out[n].baseline), "bare");
		n++;
		out[n] = (struct series){
		    .side = "vm", .vmm = p->vmms[v], .backing = "4k", .pagesize = "2m"};
		snprintf(out[n].name, sizeof(out[n].name), "%s[backing=4k]", side);
		snprintf(out[n].baseline, sizeof(out[n].baseline), "bare[backing=4k]");
		n++;
	}
	return n;
}

/* Per backing: the bare series, then one VM series per VMM and page size. */
static size_t ab_series(struct session *s, const struct plan_workload *w, struct series *out,
			size_t max)
{
	(void)w;
	const struct plan *p = s->plan;
	size_t n = 0;
	for (size_t b = 0; b < p->nbackings && n < max; b++) {
		struct series *bare = &out[n++];
		*bare = (struct series){.side = "bare", .backing = p->backings[b]};
		series_name(p, "bare", p->backings[b], NULL, bare->name, sizeof(bare->name));
		for (size_t v = 0; v < p->nvmms; v++)
			for (size_t i = 0; i < p->npagesizes && n < max; i++) {
				struct series *vm = &out[n++];
				*vm = (struct series){.side = "vm",
						      .vmm = p->vmms[v],
						      .backing = p->backings[b],
						      .pagesize = p->pagesizes[i]};
				series_name(p, p->nvmms > 1 ? p->vmms[v] : "vm", p->backings[b],
					    p->pagesizes[i], vm->name, sizeof(vm->name));
				snprintf(vm->baseline, sizeof(vm->baseline), "%s", bare->name);
			}
	}
	return n + translation_series(p, w, out + n, max - n);
}

static void ab_print(FILE *out, json_t *results)
{
	table_print_experiment(out, results, "ab");
	table_vmms_print(out, results);
	table_decompose_print(out, results); /* where the overhead went */
}

const struct experiment_ops exp_ab = {
    .name = "ab",
    .help = "bare metal vs each VM series (VMM x page size x backing), counterbalanced rounds",
    .flags = PLAN_F_PIN_MODE | PLAN_F_OVERCOMMIT | PLAN_F_CO_TENANT | PLAN_F_REPS_AUTO |
	     PLAN_F_CALIBRATION | PLAN_F_BACKINGS | PLAN_F_PAGESIZES | PLAN_F_VMMS,
    .needs_calibration = true,
    .claims = ab_claims,
    .series = ab_series,
    .print = ab_print,
};
