/*
 * Exit costs of several VMMs and of the physical floor side by side:
 * calibration.json's "ratios" and the comparison table `virttax calibrate
 * --vmm a,b` prints (docs/CALIBRATION.md "Several VMMs and the floor").
 *
 * Why a file of its own: the ratios are statistics over the kinds' per-round
 * samples (the ratio of two samples with its interval, core/stats.c), not a
 * division of two printed numbers, and both the writer (harness) and any
 * reader of the file use the same definition.
 */
#include <stdio.h>
#include <string.h>

#include "core/calib.h"
#include "core/stats.h"

/* the kinds the comparison shows: the exits a VMM handles or passes to KVM */
static const char *const exit_kinds[] = {
    "pio",
    "pio-ioeventfd",
    "mmio",
    "mmio-ioeventfd",
    "cpuid",
    "hypercall",
    "msr-kernel-read",
    "msr-kernel-write",
    "msr-user-read",
    "msr-user-write",
};
#define NEXIT (sizeof(exit_kinds) / sizeof(exit_kinds[0]))

static size_t samples(json_t *kind, double *out)
{
	size_t n = 0, i;
	json_t *v;
	json_array_foreach(json_object_get(kind, "samples_ns"), i,
			   v) if (n < CALIB_MAX_SAMPLES && json_is_number(v)) out[n++] =
	    json_number_value(v);
	return n;
}

/* num/den of two available kinds over their rounds: the Hodges-Lehmann ratio
 * with its Mann-Whitney interval and that interval's level; NULL otherwise */
static json_t *ratio_of(json_t *num, json_t *den)
{
	double a[CALIB_MAX_SAMPLES], b[CALIB_MAX_SAMPLES];
	struct stats_shift r;
	if (!json_is_true(json_object_get(num, "available")) ||
	    !json_is_true(json_object_get(den, "available")))
		return NULL;
	size_t nn = samples(num, a), nd = samples(den, b);
	if (!nn || !nd || stats_ratio_shift(b, nd, a, nn, STATS_CI_NOMINAL, &r))
		return NULL;
	return json_pack("{s:f,s:[f,f],s:f,s:b,s:i,s:i,s:s}", "value", r.ratio, "ci", r.lo, r.hi,
			 "ci_level", r.level, "underpowered", r.underpowered, "n_num", (int)nn,
			 "n_den", (int)nd, "unit",
			 "ratio over the rounds: Hodges-Lehmann, Mann-Whitney interval at its "
			 "real level (ci_level)");
}

/* {kind: ratio} of every kind `side` and `ref` both have */
static json_t *ratios_against(json_t *side, json_t *ref)
{
	json_t *o = json_object(), *k;
	const char *kind;
	json_object_foreach(side, kind, k)
	{
		json_t *r = ratio_of(k, json_object_get(ref, kind));
		if (r)
			json_object_set_new(o, kind, r);
	}
	return o;
}

json_t *calib_build_ratios(json_t *calib)
{
	json_t *vmms = json_object_get(calib, "vmms"), *floor = json_object_get(calib, "floor");
	const char *first = json_string_value(json_object_get(calib, "vmm"));
	json_t *to_floor = json_object(), *to_first = json_object(), *side;
	const char *name;
	json_object_foreach(vmms, name, side)
	{
		if (floor)
			json_object_set_new(to_floor, name, ratios_against(side, floor));
		if (first && strcmp(name, first))
			json_object_set_new(to_first, name,
					    ratios_against(side, json_object_get(vmms, first)));
	}
	return json_pack("{s:o,s:o,s:s}", "to_floor", to_floor, "to_first", to_first, "first",
			 first ? first : "");
}

static void cost_cell(char *buf, size_t len, json_t *k)
{
	if (!k)
		snprintf(buf, len, "-");
	else if (json_is_true(json_object_get(k, "available")))
		snprintf(buf, len, "%.0f", json_number_value(json_object_get(k, "ns")));
	else
		snprintf(buf, len, "unavailable");
}

static void ratio_cell(char *buf, size_t len, json_t *r)
{
	json_t *ci = json_object_get(r, "ci");
	if (!r)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f [%.2f, %.2f]",
			 json_number_value(json_object_get(r, "value")),
			 json_number_value(json_array_get(ci, 0)),
			 json_number_value(json_array_get(ci, 1)));
}

void calib_print_compare(FILE *f, json_t *calib)
{
	json_t *vmms = json_object_get(calib, "vmms"), *floor = json_object_get(calib, "floor");
	json_t *ratios = json_object_get(calib, "ratios"), *side;
	const char *first = json_string_value(json_object_get(calib, "vmm")), *name;
	if (!json_is_object(vmms) || !floor)
		return;
	fprintf(f,
		"exit kinds, median ns per op; ratios over the rounds [interval] (Hodges-Lehmann, "
		"Mann-Whitney; each interval's real level in calibration.json ratios.*.ci_level, "
		"nominal 95%%):\n");
	fprintf(f, "  %-17s %10s", "kind", "floor");
	json_object_foreach(vmms, name, side) fprintf(f, " %10.10s", name);
	json_object_foreach(vmms, name, side)
	{
		char h[48];
		snprintf(h, sizeof(h), "%s/floor", name);
		fprintf(f, "  %-22.22s", h);
	}
	json_object_foreach(vmms, name, side) if (strcmp(name, first))
	{
		char h[48];
		snprintf(h, sizeof(h), "%s/%s", name, first);
		fprintf(f, "  %-22.22s", h);
	}
	fprintf(f, "\n");
	for (size_t i = 0; i < NEXIT; i++) {
		const char *kind = exit_kinds[i];
		char c[64];
		cost_cell(c, sizeof(c), json_object_get(floor, kind));
		fprintf(f, "  %-17s %10s", kind, c);
		json_object_foreach(vmms, name, side)
		{
			cost_cell(c, sizeof(c), json_object_get(side, kind));
			fprintf(f, " %10s", c);
		}
		json_object_foreach(vmms, name, side)
		{
			ratio_cell(
			    c, sizeof(c),
			    json_object_get(
				json_object_get(json_object_get(ratios, "to_floor"), name), kind));
			fprintf(f, "  %-22s", c);
		}
		json_object_foreach(vmms, name, side) if (strcmp(name, first))
		{
			ratio_cell(
			    c, sizeof(c),
			    json_object_get(
				json_object_get(json_object_get(ratios, "to_first"), name), kind));
			fprintf(f, "  %-22s", c);
		}
		fprintf(f, "\n");
	}
	fprintf(f, "what each VMM's kinds measured (\"how\"; unavailable: the reason):\n");
	json_object_foreach(vmms, name, side)
	{
		for (size_t i = 0; i < NEXIT; i++) {
			json_t *k = json_object_get(side, exit_kinds[i]);
			const char *how = json_string_value(json_object_get(k, "how"));
			const char *why = json_string_value(json_object_get(k, "reason"));
			if (how || why)
				fprintf(f, "  %-9s %-17s %s%s\n", name, exit_kinds[i],
					how ? "" : "unavailable: ", how ? how : why);
		}
	}
}
