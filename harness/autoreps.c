/*
 * The --reps auto rule: a pilot sets the total (see autoreps.h for why).
 */
#include "harness/autoreps.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/results.h"
#include "core/stats.h"
#include "harness/plan.h"
#include "reports/rdata.h"

#define MAXPAIRS 10000

static bool performance(json_t *entry)
{
	return !strcmp(results_metric_role(entry), "performance");
}

static void entry_label(json_t *e, char *which, size_t len)
{
	json_t *x = json_object_get(e, "x");
	if (json_is_number(x))
		snprintf(which, len, "%s@%.10g %s", json_string_value(json_object_get(e, "metric")),
			 json_number_value(x), json_string_value(json_object_get(e, "series")));
	else
		snprintf(which, len, "%s %s", json_string_value(json_object_get(e, "metric")),
			 json_string_value(json_object_get(e, "series")));
}

double autoreps_widest_halfwidth(json_t *workload, char *which, size_t len)
{
	double widest = NAN;
	size_t i;
	json_t *e;
	if (which && len)
		which[0] = 0;
	if (results_summarize(workload))
		return NAN;
	json_array_foreach(json_object_get(workload, "summary"), i, e)
	{
		json_t *ci = json_object_get(json_object_get(e, "overhead_pct"), "ci");
		if (!performance(e) || !json_is_number(json_array_get(ci, 0)) ||
		    !json_is_number(json_array_get(ci, 1)))
			continue;
		double hw = (json_number_value(json_array_get(ci, 1)) -
			     json_number_value(json_array_get(ci, 0))) /
			    2;
		if (isnan(widest) || hw > widest) {
			widest = hw;
			if (which && len)
				entry_label(e, which, len);
		}
	}
	return widest;
}

/* Log spread of the per-pair time ratios of one summary entry. */
static double entry_spread(json_t *runs, json_t *e)
{
	static double bare[MAXPAIRS], vm[MAXPAIRS];
	json_t *key = json_pack("{s:O,s:O,s:O,s:O}", "m", json_object_get(e, "metric"), "xk",
				json_object_get(e, "xk"), "x", json_object_get(e, "x"), "better",
				json_object_get(e, "better"));
	if (!json_is_string(json_object_get(e, "xk"))) {
		json_object_del(key, "xk");
		json_object_del(key, "x");
	}
	const char *bs = json_string_value(json_object_get(e, "baseline_series"));
	size_t n = bs ? rdata_pairs(runs, bs, json_string_value(json_object_get(e, "series")), key,
				    bare, vm, NULL, MAXPAIRS)
		      : 0;
	bool lower = rdata_lower_is_better(key);
	json_decref(key);
	for (size_t i = 0; i < n; i++)
		bare[i] = stats_time_ratio(bare[i], vm[i], lower); /* the ratios, in place */
	return n >= 2 ? stats_log_spread(bare, n, NULL, 0) : NAN;
}

size_t autoreps_plan_pairs(json_t *workload, double target_pct, size_t max_reps, char *which,
			   size_t len, double *sigma)
{
	size_t need = AUTOREPS_PILOT, i;
	json_t *e;
	*sigma = NAN;
	if (which && len)
		snprintf(which, len, "(no performance metric with pairs)");
	if (results_summarize(workload))
		return need;
	json_array_foreach(json_object_get(workload, "summary"), i, e)
	{
		if (!performance(e))
			continue;
		double s = entry_spread(json_object_get(workload, "runs"), e);
		if (!isfinite(s))
			continue;
		size_t n = stats_reps_for_halfwidth(s, target_pct / 100, STATS_CI_NOMINAL);
		if (n > need || isnan(*sigma)) {
			need = n > need ? n : need;
			*sigma = s;
			if (which && len)
				entry_label(e, which, len);
		}
	}
	return need > max_reps ? max_reps : need < AUTOREPS_PILOT ? AUTOREPS_PILOT : need;
}

bool autoreps_more(const struct plan *p, json_t *workload, unsigned done)
{
	if (!p->reps_auto)
		return done < p->reps;
	if (done < AUTOREPS_PILOT)
		return true;
	json_t *ra = json_object_get(workload, "reps_auto");
	if (!json_is_integer(json_object_get(ra, "planned"))) {
		char which[160];
		double sigma;
		size_t n = autoreps_plan_pairs(workload, p->target_ci_pct, p->max_reps, which,
					       sizeof(which), &sigma);
		ra = json_pack("{s:i,s:I,s:s,s:o}", "pilot", AUTOREPS_PILOT, "planned",
			       (json_int_t)n, "planned_from", which, "pilot_log_spread",
			       isfinite(sigma) ? json_real(sigma) : json_null());
		json_object_set_new(workload, "reps_auto", ra);
		fprintf(stderr,
			"virttax: %s: pilot of %d pairs: widest spread %.3g%% (%s): %zu pairs for "
			"+-%.3g%% overhead intervals (95%%)%s\n",
			json_string_value(json_object_get(workload, "name")), AUTOREPS_PILOT,
			isfinite(sigma) ? sigma * 100 : 0.0, which, n, p->target_ci_pct,
			n == p->max_reps ? ", capped by --max-reps" : "");
	}
	return done < (unsigned)json_integer_value(json_object_get(ra, "planned"));
}

void autoreps_record(const struct plan *p, json_t *workload, unsigned done)
{
	if (!p->reps_auto)
		return;
	char which[160];
	double hw = autoreps_widest_halfwidth(workload, which, sizeof(which));
	json_t *ra = json_object_get(workload, "reps_auto");
	if (!json_is_object(ra)) { /* stopped before the end of the pilot */
		ra = json_pack("{s:i,s:n,s:n,s:n}", "pilot", AUTOREPS_PILOT, "planned",
			       "planned_from", "pilot_log_spread");
		json_object_set_new(workload, "reps_auto", ra);
	}
	json_object_update_new(
	    ra,
	    json_pack("{s:I,s:b,s:f,s:I,s:o,s:s,s:s}", "reps", (json_int_t)done, "converged",
		      hw < p->target_ci_pct, "target_ci_pct", p->target_ci_pct, "max_reps",
		      (json_int_t)p->max_reps, "widest_ci_halfwidth_pct",
		      isfinite(hw) ? json_real(hw) : json_null(), "widest", which, "rule",
		      "a pilot of 6 pairs measures the spread of the per-pair time ratios of the "
		      "performance metrics (info and count metrics skipped); that spread alone "
		      "sets the total for 95% overhead intervals of +-target (clamped to "
		      "max_reps); the intervals use all pairs; no look at the values decides "
		      "when to stop (docs/METHOD.md)"));
}
