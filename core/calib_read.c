/*
 * Calibration lookups and exit-reason mapping (see calib_read.h).
 */
#include "core/calib_read.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A calibration entry: the object describing one kind on one side. */
struct centry {
	json_t *obj;
	const char *kind, *side;
};

static double num_field(json_t *o, const char *const *names, json_t **holder)
{
	for (; *names; names++) {
		json_t *v = json_object_get(o, *names);
		if (json_is_number(v))
			return *holder = o, json_number_value(v);
		if (json_is_object(v)) {
			json_t *m = json_object_get(v, "median");
			if (json_is_number(m))
				return *holder = v, json_number_value(m);
		}
	}
	return NAN;
}

static void ci_field(json_t *holder, json_t *obj, double *lo, double *hi)
{
	static const char *const names[] = {"ci95", "ns_ci95", "ci95_ns", NULL};
	*lo = *hi = NAN;
	for (int pass = 0; pass < 2; pass++) {
		json_t *o = pass ? obj : holder;
		for (const char *const *n = names; *n; n++) {
			json_t *c = json_object_get(o, *n);
			if (json_is_array(c) && json_array_size(c) == 2) {
				*lo = json_number_value(json_array_get(c, 0));
				*hi = json_number_value(json_array_get(c, 1));
				return;
			}
		}
	}
}

/* Collect every object that describes a kind: {"kind": K, ...} in arrays, or
 * K: {...} inside a "kinds" object; the side comes from the object or from an
 * enclosing "vm"/"bare" key. */
static void walk(json_t *j, const char *side, const char *keyname, struct centry *out, size_t *n,
		 size_t max)
{
	if (*n >= max || !j)
		return;
	if (json_is_object(j)) {
		const char *k = json_string_value(json_object_get(j, "kind"));
		if (!k)
			k = json_string_value(json_object_get(j, "name"));
		const char *s = json_string_value(json_object_get(j, "side"));
		if (!k && keyname &&
		    (json_object_get(j, "ns") || json_object_get(j, "ns_per_op") ||
		     json_object_get(j, "available")))
			k = keyname;
		if (k && (json_object_get(j, "ns") || json_object_get(j, "ns_per_op") ||
			  json_object_get(j, "median_ns") || json_object_get(j, "available"))) {
			out[(*n)++] = (struct centry){j, k, s ? s : side};
			return;
		}
		const char *key;
		json_t *v;
		json_object_foreach(j, key, v)
		{
			const char *sd = side;
			if (!strcmp(key, "ladder")) /* a derived copy of the sides */
				continue;
			if (!strcmp(key, "vm") || !strcmp(key, "guest"))
				sd = "vm";
			else if (!strcmp(key, "bare") || !strcmp(key, "host"))
				sd = "bare";
			walk(v, sd, key, out, n, max);
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) walk(v, side, NULL, out, n, max);
	}
}

#define MAX_ENTRIES 256

static size_t entries(json_t *calib, struct centry *e)
{
	size_t n = 0;
	walk(calib, NULL, NULL, e, &n, MAX_ENTRIES);
	return n;
}

static bool entry_cost(const struct centry *e, struct calib_cost *out, char *why, size_t len)
{
	static const char *const names[] = {"ns", "ns_per_op", "median_ns", "ns_median", NULL};
	json_t *avail = json_object_get(e->obj, "available");
	if (json_is_false(avail)) {
		const char *r = json_string_value(json_object_get(e->obj, "reason"));
		snprintf(why, len, "calibration %s: %s", e->kind, r ? r : "unavailable");
		return false;
	}
	json_t *holder = e->obj;
	double ns = num_field(e->obj, names, &holder);
	if (!isfinite(ns)) {
		snprintf(why, len, "calibration %s: no ns per operation recorded", e->kind);
		return false;
	}
	out->ns = ns;
	ci_field(holder, e->obj, &out->ci_lo, &out->ci_hi);
	if (!isfinite(out->ci_lo))
		out->ci_lo = out->ci_hi = ns;
	json_t *n = json_object_get(holder, "n");
	if (!json_is_integer(n))
		n = json_object_get(e->obj, "n");
	if (!json_is_integer(n))
		n = json_object_get(e->obj, "rounds");
	out->n = json_is_integer(n) ? (long)json_integer_value(n) : 0;
	out->side = e->side;
	return true;
}

int calib_read_lookup(json_t *calib, const char *kind, struct calib_cost *out, char *why,
		      size_t whylen)
{
	struct centry e[MAX_ENTRIES];
	size_t n = calib ? entries(calib, e) : 0;
	int rc = -ENOENT;
	memset(out, 0, sizeof(*out));
	snprintf(why, whylen, "calibration has no kind '%s'%s", kind,
		 calib ? "" : " (no calibration: run `virttax calibrate` or pass --calibration)");
	/* VM side first: mediation costs are guest-side crossings */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			bool vm = e[i].side && !strcmp(e[i].side, "vm");
			if (strcmp(e[i].kind, kind) || vm != (pass == 0))
				continue;
			if (entry_cost(&e[i], out, why, whylen))
				return 0;
			rc = -ENOTSUP;
		}
	return rc;
}

int calib_read_difference(json_t *calib, const char *kind, const char *minus,
			  struct calib_cost *out, char *why, size_t whylen)
{
	struct calib_cost a, b;
	char w2[200];
	int rc = calib_read_lookup(calib, kind, &a, why, whylen);
	if (rc)
		return rc;
	if ((rc = calib_read_lookup(calib, minus, &b, w2, sizeof(w2)))) {
		snprintf(why, whylen, "%s", w2);
		return rc;
	}
	if (a.side && b.side && strcmp(a.side, b.side)) {
		snprintf(why, whylen, "'%s' and '%s' were calibrated on different sides", kind,
			 minus);
		return -ENOTSUP;
	}
	*out = (struct calib_cost){.ns = a.ns - b.ns,
				   /* the widest interval the two CIs allow */
				   .ci_lo = a.ci_lo - b.ci_hi,
				   .ci_hi = a.ci_hi - b.ci_lo,
				   .n = a.n < b.n ? a.n : b.n,
				   .side = a.side};
	if (!(out->ns > 0)) {
		snprintf(why, whylen, "'%s' (%.0f ns) is not dearer than '%s' (%.0f ns)", kind,
			 a.ns, minus, b.ns);
		return -ERANGE;
	}
	return 0;
}

static int spacing_from(json_t *arr, struct calib_spacing *out)
{
	size_t i;
	json_t *p;
	out->n = 0;
	json_array_foreach(arr, i, p)
	{
		json_t *ci = json_object_get(p, "ci95"), *n = json_object_get(p, "n");
		double g = json_number_value(json_object_get(p, "gap_ns"));
		double ns = json_number_value(json_object_get(p, "ns"));
		if (out->n == CALIB_SPACING_MAX || !json_is_number(json_object_get(p, "gap_ns")) ||
		    !json_is_number(json_object_get(p, "ns")) || !isfinite(g) || !isfinite(ns) ||
		    g < 0)
			continue;
		size_t j = out->n++;
		while (j > 0 && out->gap_ns[j - 1] > g) { /* insertion sort by gap */
			out->gap_ns[j] = out->gap_ns[j - 1];
			out->ns[j] = out->ns[j - 1];
			out->ci_lo[j] = out->ci_lo[j - 1];
			out->ci_hi[j] = out->ci_hi[j - 1];
			out->cnt[j] = out->cnt[j - 1];
			j--;
		}
		out->gap_ns[j] = g;
		out->ns[j] = ns;
		out->ci_lo[j] =
		    json_array_size(ci) == 2 ? json_number_value(json_array_get(ci, 0)) : ns;
		out->ci_hi[j] =
		    json_array_size(ci) == 2 ? json_number_value(json_array_get(ci, 1)) : ns;
		out->cnt[j] = json_is_integer(n) ? (long)json_integer_value(n) : 0;
	}
	return out->n ? 0 : -ENOENT;
}

int calib_read_spacing(json_t *calib, const char *kind, struct calib_spacing *out)
{
	struct centry e[MAX_ENTRIES];
	size_t n = calib ? entries(calib, e) : 0;
	memset(out, 0, sizeof(*out));
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			bool vm = e[i].side && !strcmp(e[i].side, "vm");
			if (strcmp(e[i].kind, kind) || vm != (pass == 0) ||
			    !json_is_array(json_object_get(e[i].obj, "spacing")) ||
			    json_is_false(json_object_get(e[i].obj, "available")))
				continue;
			if (!spacing_from(json_object_get(e[i].obj, "spacing"), out))
				return 0;
		}
	return -ENOENT;
}

int calib_spacing_at(const struct calib_spacing *sp, double gap_ns, struct calib_cost *out)
{
	if (!sp || !sp->n || !isfinite(gap_ns))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->side = "vm";
	size_t j = 0, last = sp->n - 1;
	if (gap_ns <= sp->gap_ns[0] || sp->n == 1 || gap_ns >= sp->gap_ns[last]) {
		j = gap_ns >= sp->gap_ns[last] ? last : 0;
		*out = (struct calib_cost){sp->ns[j], sp->ci_lo[j], sp->ci_hi[j], sp->cnt[j], "vm"};
		return 0;
	}
	while (j + 1 < last && sp->gap_ns[j + 1] < gap_ns)
		j++;
	double x0 = log(fmax(sp->gap_ns[j], 1.0)), x1 = log(fmax(sp->gap_ns[j + 1], 1.0));
	double w = x1 > x0 ? (log(fmax(gap_ns, 1.0)) - x0) / (x1 - x0) : 0;
	w = w < 0 ? 0 : (w > 1 ? 1 : w);
	out->ns = sp->ns[j] + w * (sp->ns[j + 1] - sp->ns[j]);
	out->ci_lo = sp->ci_lo[j] + w * (sp->ci_lo[j + 1] - sp->ci_lo[j]);
	out->ci_hi = sp->ci_hi[j] + w * (sp->ci_hi[j + 1] - sp->ci_hi[j]);
	out->n = w < 0.5 ? sp->cnt[j] : sp->cnt[j + 1];
	return 0;
}

static int cmp_ns(const void *a, const void *b)
{
	double x = json_number_value(json_object_get(*(json_t *const *)a, "ns"));
	double y = json_number_value(json_object_get(*(json_t *const *)b, "ns"));
	return (x > y) - (x < y);
}

json_t *calib_read_ladder(json_t *calib)
{
	struct centry e[MAX_ENTRIES];
	size_t n = calib ? entries(calib, e) : 0, k = 0;
	json_t *items[MAX_ENTRIES];
	for (size_t i = 0; i < n; i++) {
		struct calib_cost c;
		char why[200];
		if (!entry_cost(&e[i], &c, why, sizeof(why)))
			continue;
		items[k++] = json_pack("{s:s,s:s,s:f,s:[f,f],s:I}", "kind", e[i].kind, "side",
				       e[i].side ? e[i].side : "?", "ns", c.ns, "ci95", c.ci_lo,
				       c.ci_hi, "n", (json_int_t)c.n);
	}
	qsort(items, k, sizeof(items[0]), cmp_ns);
	json_t *a = json_array();
	for (size_t i = 0; i < k; i++)
		json_array_append_new(a, items[i]);
	return a;
}

const char *calib_read_exit_kind(const char *reason, char *why, size_t whylen)
{
	snprintf(why, whylen, "%s", "");
	if (!strncmp(reason, "io:", 3)) {
		unsigned long port = strtoul(reason + 3, NULL, 16);
		if ((port >= 0x3f8 && port <= 0x3ff) || port == 0xf4) {
			snprintf(why, whylen,
				 "serial protocol output / exit port: outside the timed region");
			return NULL;
		}
		return "pio";
	}
	if (!strcmp(reason, "mmio"))
		return "mmio";
	if (!strcmp(reason, "hlt"))
		return "hlt-timer";
	if (!strcmp(reason, "hypercall"))
		return "hypercall";
	if (!strcmp(reason, "x86_rdmsr") || !strcmp(reason, "msr_read") || !strcmp(reason, "rdmsr"))
		return "msr-user-read";
	if (!strcmp(reason, "x86_wrmsr") || !strcmp(reason, "msr_write") ||
	    !strcmp(reason, "wrmsr"))
		return "msr-user-write";
	if (!strcmp(reason, "shutdown") || !strcmp(reason, "system_event")) {
		snprintf(why, whylen, "end of the guest: outside the timed region");
		return NULL;
	}
	snprintf(why, whylen, "no calibration kind for exit reason '%s'", reason);
	return NULL;
}

const char *calib_read_storm_kind(const char *kind)
{
	if (!kind)
		return "pio";
	if (!strcmp(kind, "msr"))
		return "msr-kernel-read";
	return kind; /* pio, mmio, cpuid, hypercall: same names */
}
