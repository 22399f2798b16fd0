/*
 * core/stats.c against numpy/scipy: tests/unit/stats_reference.py computes
 * every value with scipy on fixed data (written into its JSON), this test
 * computes the same with core/stats.c and compares. python3-scipy is a
 * declared dependency (scripts/install-deps.sh): without it the test fails.
 * Each check names the scipy function and the case that differ.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/stats.h"

/* Debian's interpreter: python3-scipy installs for it; a pyenv or venv
 * python3 earlier on PATH would not see the package. */
#define REFERENCE_CMD "/usr/bin/python3 tests/unit/stats_reference.py"

static json_t *reference(void)
{
	json_t *ref;
	FILE *p = popen(REFERENCE_CMD, "r");
	cr_assert(p, "popen %s", REFERENCE_CMD);
	json_error_t e;
	ref = json_loadf(p, 0, &e);
	int st = pclose(p);
	cr_assert(ref && st == 0,
		  "%s failed (status %d, %s): install python3-scipy (scripts/install-deps.sh)",
		  REFERENCE_CMD, st, e.text);
	return ref;
}

static size_t doubles(json_t *a, double *out, size_t max)
{
	size_t i, n = 0;
	json_t *v;
	json_array_foreach(a, i, v) if (n < max) out[n++] = json_number_value(v);
	return n;
}

static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static void close_to(double got, double want, double rel, const char *what, size_t i)
{
	cr_assert(fabs(got - want) <= rel * fmax(1.0, fabs(want)),
		  "%s #%zu: got %.17g, scipy %.17g", what, i, got, want);
}

static void medians_match_numpy(json_t *ref)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(ref, "median"), i, c)
	{
		double x[128];
		size_t n = doubles(json_object_get(c, "x"), x, 128);
		close_to(stats_median(x, n), num(c, "median"), 1e-12, "median", i);
	}
}

static void median_intervals_match_binomial_law(json_t *ref)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(ref, "median_ci"), i, c)
	{
		double x[128];
		size_t n = doubles(json_object_get(c, "x"), x, 128);
		struct stats_interval ci;
		cr_assert_eq(stats_median_ci(x, n, num(c, "nominal"), &ci), 0);
		close_to(ci.lo, num(c, "lo"), 1e-12, "median ci lo", i);
		close_to(ci.hi, num(c, "hi"), 1e-12, "median ci hi", i);
		close_to(ci.level, num(c, "level"), 1e-12, "median ci level", i);
		cr_assert_eq(ci.underpowered, ci.level < num(c, "nominal"));
	}
}

static void permutation_p_matches_scipy(json_t *ref)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(ref, "perm"), i, c)
	{
		double a[64], b[64], p;
		bool exact;
		size_t na = doubles(json_object_get(c, "a"), a, 64),
		       nb = doubles(json_object_get(c, "b"), b, 64);
		cr_assert_eq(stats_permutation_test(a, na, b, nb, STATS_PERM_ITERS, 0, &p, &exact),
			     0);
		cr_assert(exact, "#%zu: %zu+%zu should be enumerated", i, na, nb);
		close_to(p, num(c, "p"), 1e-9, "permutation p", i);
	}
}

static void permutation_min_p_matches_scipy_on_separated_samples(json_t *ref)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(ref, "perm_min_p"), i, c)
	{
		size_t na = (size_t)num(c, "na"), nb = (size_t)num(c, "nb");
		close_to(stats_permutation_min_p(na, nb), num(c, "p"), 1e-12, "min p", i);
	}
	/* 4 vs 5: 1/126 < 0.01, so a regression there is possible */
	cr_assert(stats_permutation_min_p(4, 5) < 0.01);
}

static void mann_whitney_p_matches_scipy(json_t *ref)
{
	json_t *c;
	size_t i;
	cr_assert_geq(json_array_size(json_object_get(ref, "mw_test")), 4);
	json_array_foreach(json_object_get(ref, "mw_test"), i, c)
	{
		double a[64], b[64], p;
		bool exact;
		size_t na = doubles(json_object_get(c, "a"), a, 64),
		       nb = doubles(json_object_get(c, "b"), b, 64);
		cr_assert_eq(stats_mw_test(a, na, b, nb, &p, &exact), 0);
		cr_assert(exact, "#%zu: %zu+%zu should use the exact law", i, na, nb);
		close_to(p, num(c, "p"), 1e-9, "mann-whitney p", i);
	}
}

static void mann_whitney_law_matches_scipy(json_t *ref)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(ref, "mw_cdf"), i, c)
	{
		size_t na = (size_t)num(c, "na"), nb = (size_t)num(c, "nb");
		close_to(stats_mw_cdf(na, nb, num(c, "u")), num(c, "cdf"), 1e-9, "mw cdf", i);
	}
}

static void ratio_interval_matches_scipy_mann_whitney(json_t *ref)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(ref, "shift"), i, c)
	{
		double a[128], b[128];
		size_t na = doubles(json_object_get(c, "a"), a, 128),
		       nb = doubles(json_object_get(c, "b"), b, 128);
		struct stats_shift s;
		cr_assert_eq(stats_ratio_shift(a, na, b, nb, num(c, "nominal"), &s), 0);
		close_to(s.ratio, num(c, "ratio"), 1e-12, "HL ratio", i);
		close_to(s.lo, num(c, "lo"), 1e-12, "ratio lo", i);
		close_to(s.hi, num(c, "hi"), 1e-12, "ratio hi", i);
		close_to(s.level, num(c, "level"), 1e-9, "ratio level", i);
	}
}

static void normal_quantile_matches_scipy(json_t *ref)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(ref, "quantile"), i, c)
	    close_to(stats_normal_quantile(num(c, "p")), num(c, "z"), 1e-8, "quantile", i);
}

/* One test, one run of the script (importing scipy takes seconds here). */
Test(stats_reference, core_stats_match_scipy, .timeout = 120)
{
	json_t *ref = reference();
	medians_match_numpy(ref);
	median_intervals_match_binomial_law(ref);
	permutation_p_matches_scipy(ref);
	permutation_min_p_matches_scipy_on_separated_samples(ref);
	mann_whitney_p_matches_scipy(ref);
	mann_whitney_law_matches_scipy(ref);
	ratio_interval_matches_scipy_mann_whitney(ref);
	normal_quantile_matches_scipy(ref);
	json_decref(ref);
}
