/*
 * --reps auto (harness/autoreps.c): the pilot sets the total from the spread
 * of the per-pair time ratios, skips info metrics, is planned once.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/stats.h"
#include "harness/autoreps.h"
#include "harness/plan.h"

/* n pairs of cpu-int-like runs: `time` with per-pair ratio 1.1 * exp(spread * z)
 * and exit-storm's info metric selfcal_exit_ns wildly spread. */
static json_t *workload(size_t n, double spread)
{
	json_t *runs = json_array();
	uint64_t rng = 77;
	for (size_t r = 0; r < n; r++) {
		double bare = 100, vm = 110 * exp(spread * stats_normal(&rng));
		for (int side = 0; side < 2; side++) {
			double v = side ? vm : bare;
			json_array_append_new(
			    runs,
			    json_pack("{s:s,s:s,s:s?,s:{s:s},s:I,s:b,s:s,s:[{s:s,s:s,s:s,s:f},"
				      "{s:s,s:s,s:s,s:f,s:s}]}",
				      "side", side ? "vm" : "bare", "series", side ? "vm" : "bare",
				      "baseline_series", side ? "bare" : NULL, "config", "backing",
				      "thp", "rep", (json_int_t)r, "warmup", 0, "status", "ok",
				      "metrics", "m", "time", "u", "ms", "better", "lower", "v", v,
				      "m", "selfcal_exit_ns", "u", "ns", "better", "lower", "v",
				      side ? 1000 * (1 + (double)(r % 3)) : 10.0, "role", "info"));
		}
	}
	return json_pack("{s:s,s:o}", "name", "cpu-int", "runs", runs);
}

Test(autoreps, pilot_sets_the_total_from_the_spread)
{
	char which[160];
	double sigma;
	json_t *w = workload(6, 0.02);
	size_t n = autoreps_plan_pairs(w, 1.0, 30, which, sizeof(which), &sigma);
	cr_assert(strstr(which, "time vm"), "the info metric is skipped: %s", which);
	cr_assert(sigma > 0.005 && sigma < 0.06, "spread of the ratios: %g", sigma);
	cr_assert_eq(n, stats_reps_for_halfwidth(sigma, 0.01, STATS_CI_NOMINAL) > 30
			    ? 30
			    : stats_reps_for_halfwidth(sigma, 0.01, STATS_CI_NOMINAL));
	cr_assert_eq(autoreps_plan_pairs(w, 1.0, 8, which, sizeof(which), &sigma), 8,
		     "--max-reps caps it");
	json_decref(w);
	w = workload(6, 0.0001);
	cr_assert_eq(autoreps_plan_pairs(w, 1.0, 30, which, sizeof(which), &sigma), AUTOREPS_PILOT,
		     "a tight pilot needs nothing more");
	json_decref(w);
}

Test(autoreps, planned_once_from_the_pilot, .init = cr_redirect_stderr)
{
	struct plan p = {0};
	p.reps_auto = true;
	p.max_reps = 30;
	p.target_ci_pct = 1.0;
	json_t *w = workload(6, 0.02);
	for (unsigned d = 0; d < AUTOREPS_PILOT; d++)
		cr_assert(autoreps_more(&p, w, d), "the pilot runs in full");
	bool more = autoreps_more(&p, w, AUTOREPS_PILOT);
	json_t *ra = json_incref(json_object_get(w, "reps_auto"));
	json_int_t planned = json_integer_value(json_object_get(ra, "planned"));
	cr_assert(planned >= AUTOREPS_PILOT && planned <= 30);
	cr_assert_eq(more, planned > AUTOREPS_PILOT);
	/* later pairs, however tight they make the interval, do not change the plan */
	json_decref(w);
	json_t *w2 = workload(7, 0.0);
	json_object_set_new(w2, "reps_auto", ra);
	cr_assert_eq(autoreps_more(&p, w2, 7), 7 < planned);
	cr_assert_eq(
	    json_integer_value(json_object_get(json_object_get(w2, "reps_auto"), "planned")),
	    planned);
	autoreps_record(&p, w2, 7);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(w2, "reps_auto"), "reps")),
		     7);
	cr_assert(json_is_string(json_object_get(json_object_get(w2, "reps_auto"), "rule")));
	json_decref(w2);
}
