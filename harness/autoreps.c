/*
 * The --reps auto stopping rule (see autoreps.h for why).
 */
#include "harness/autoreps.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness/plan.h"
#include "core/results.h"

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
		const char *unit = json_string_value(json_object_get(e, "unit"));
		json_t *ci = json_object_get(json_object_get(e, "overhead_pct"), "ci95");
		if ((unit && !strcmp(unit, "count")) || !json_is_number(json_array_get(ci, 0)) ||
		    !json_is_number(json_array_get(ci, 1)))
			continue;
		double hw = (json_number_value(json_array_get(ci, 1)) -
			     json_number_value(json_array_get(ci, 0))) /
			    2;
		if (isnan(widest) || hw > widest) {
			widest = hw;
			if (which && len) {
				json_t *x = json_object_get(e, "x");
				snprintf(which, len, "%s%s%.10g %s",
					 json_string_value(json_object_get(e, "metric")),
					 json_is_number(x) ? "@" : "",
					 json_is_number(x) ? json_number_value(x) : 0,
					 json_string_value(json_object_get(e, "series")));
				if (!json_is_number(x)) /* drop the placeholder number */
					snprintf(which, len, "%s %s",
						 json_string_value(json_object_get(e, "metric")),
						 json_string_value(json_object_get(e, "series")));
			}
		}
	}
	return widest;
}

bool autoreps_more(const struct plan *p, json_t *workload, unsigned done)
{
	if (!p->reps_auto)
		return done < p->reps;
	if (done < AUTOREPS_MIN)
		return true;
	char which[160];
	double hw = autoreps_widest_halfwidth(workload, which, sizeof(which));
	bool more = done < p->max_reps && !(hw < p->target_ci_pct);
	fprintf(
	    stderr, "virttax: %s: %u pairs, widest overhead CI +-%.3g%% (%s), target %.3g%%%s\n",
	    json_string_value(json_object_get(workload, "name")), done, hw, which, p->target_ci_pct,
	    more ? ": one more pair"
		 : (hw < p->target_ci_pct ? ": converged" : ": --max-reps reached"));
	return more;
}

void autoreps_record(const struct plan *p, json_t *workload, unsigned done)
{
	if (!p->reps_auto)
		return;
	char which[160];
	double hw = autoreps_widest_halfwidth(workload, which, sizeof(which));
	json_object_set_new(
	    workload, "reps_auto",
	    json_pack("{s:I,s:b,s:f,s:I,s:o,s:s,s:s}", "reps", (json_int_t)done, "converged",
		      hw < p->target_ci_pct, "target_ci_pct", p->target_ci_pct, "max_reps",
		      (json_int_t)p->max_reps, "widest_ci_halfwidth_pct",
		      isfinite(hw) ? json_real(hw) : json_null(), "widest", which, "rule",
		      "pairs added until every overhead's 95% CI half-width < target "
		      "(percentage points) or max_reps; warm-ups never count; "
		      "outliers flagged (MAD), kept"));
}
