/*
 * compare/gate output formats (see compare_fmt.h).
 */
#include "reports/compare_fmt.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "reports/rdata.h"

static const char *s(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "";
}

static double d(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A number in fmt, or "n/a" when it is not finite (no ratio, no samples) */
static const char *fnum(char *buf, size_t len, const char *fmt, double v)
{
	if (!isfinite(v))
		return "n/a";
	snprintf(buf, len, fmt, v);
	return buf;
}

static const char *ci_text(json_t *row, char *buf, size_t len)
{
	json_t *c = json_object_get(row, "ratio_ci95");
	if (!json_is_number(json_array_get(c, 0)) || !json_is_number(json_array_get(c, 1)))
		return "n/a";
	snprintf(buf, len, "[%.4f, %.4f]", json_number_value(json_array_get(c, 0)),
		 json_number_value(json_array_get(c, 1)));
	return buf;
}

static bool is_na(json_t *row)
{
	return !strcmp(s(row, "verdict"), "n/a");
}

static long long side_n(json_t *row, const char *side)
{
	return (long long)json_integer_value(json_object_get(json_object_get(row, side), "n"));
}

static void metric_label(json_t *row, char *buf, size_t len)
{
	if (json_is_string(json_object_get(row, "xk")))
		snprintf(buf, len, "%s@%s=%.6g%s", s(row, "metric"), s(row, "xk"), d(row, "x"),
			 s(row, "xu"));
	else
		snprintf(buf, len, "%s", s(row, "metric"));
}

static void row_title(json_t *row, char *buf, size_t len)
{
	char m[128];
	metric_label(row, m, sizeof(m));
	snprintf(buf, len, "%s %s %s (%s)", s(row, "workload"), m, s(row, "series"),
		 strcmp(s(row, "kind"), "vm") ? "overhead: VM time / bare time" : "VM side");
}

int compare_print_table(FILE *out, void *arg)
{
	json_t *cmp = arg, *row;
	size_t i;
	fprintf(out, "%-11s %-24s %-16s %-8s %-14s %12s %4s %12s %4s %8s %-19s %9s %s\n",
		"workload", "metric", "series", "kind", "unit", "A median", "nA", "B median", "nB",
		"B/A", "95% CI of B/A", "p", "verdict");
	json_array_foreach(json_object_get(cmp, "rows"), i, row)
	{
		char m[128], ci[40], am[24], bm[24], r[24], p[24];
		json_t *a = json_object_get(row, "a"), *b = json_object_get(row, "b");
		metric_label(row, m, sizeof(m));
		fprintf(
		    out,
		    "%-11s %-24s %-16s %-8s %-14.14s %12s %4lld %12s %4lld %8s %-19s %9s %s%s%s\n",
		    s(row, "workload"), m, s(row, "series"), s(row, "kind"), s(row, "unit"),
		    fnum(am, sizeof(am), "%.6g", d(a, "median")), side_n(row, "a"),
		    fnum(bm, sizeof(bm), "%.6g", d(b, "median")), side_n(row, "b"),
		    fnum(r, sizeof(r), "%.4f", d(row, "ratio")), ci_text(row, ci, sizeof(ci)),
		    fnum(p, sizeof(p), "%.3g", d(row, "p")), s(row, "verdict"),
		    json_is_string(json_object_get(row, "note")) ? ": " : "", s(row, "note"));
	}
	fprintf(out,
		"\n%lld compared, %lld regression(s), %lld improvement(s), %lld missing, %lld n/a "
		"(no ratio); significant when p < %.2g and |change| > %.3g%% (time-equivalent, "
		"direction-aware)\n",
		(long long)json_integer_value(json_object_get(cmp, "compared")),
		(long long)json_integer_value(json_object_get(cmp, "regressions")),
		(long long)json_integer_value(json_object_get(cmp, "improvements")),
		(long long)json_integer_value(json_object_get(cmp, "missing")),
		(long long)json_integer_value(json_object_get(cmp, "not_applicable")),
		d(cmp, "alpha"), d(cmp, "noise_pct"));
	return ferror(out) ? -5 : 0;
}

void compare_list_regressions(FILE *out, json_t *cmp)
{
	json_t *row;
	size_t i;
	json_array_foreach(json_object_get(cmp, "rows"), i, row)
	{
		if (strcmp(s(row, "verdict"), "regression"))
			continue;
		char t[256];
		row_title(row, t, sizeof(t));
		fprintf(
		    out,
		    "regression: %s: %+.2f%% slower (B/A %.4f, 95%% CI [%.4f, %.4f], p=%.3g, "
		    "n=%lld+%lld)\n",
		    t, d(row, "slowdown_pct"), d(row, "ratio"),
		    json_number_value(json_array_get(json_object_get(row, "ratio_ci95"), 0)),
		    json_number_value(json_array_get(json_object_get(row, "ratio_ci95"), 1)),
		    d(row, "p"),
		    (long long)json_integer_value(json_object_get(json_object_get(row, "a"), "n")),
		    (long long)json_integer_value(json_object_get(json_object_get(row, "b"), "n")));
	}
}

void compare_xml_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;
	for (; *in && o + 7 < len; in++) {
		const char *rep = NULL;
		switch (*in) {
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '&':
			rep = "&amp;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&apos;";
			break;
		}
		if (rep) {
			memcpy(out + o, rep, strlen(rep));
			o += strlen(rep);
		} else if ((unsigned char)*in >= 0x20 || *in == '\n' || *in == '\t') {
			out[o++] = *in;
		}
	}
	out[o] = 0;
}

int compare_write_junit(FILE *out, void *arg)
{
	json_t *cmp = arg, *row;
	size_t i, n = json_array_size(json_object_get(cmp, "rows"));
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(out, "<testsuites name=\"virttax gate\" tests=\"%zu\" failures=\"%lld\">\n", n,
		(long long)json_integer_value(json_object_get(cmp, "regressions")));
	fprintf(out,
		"  <testsuite name=\"virttax gate\" tests=\"%zu\" failures=\"%lld\" "
		"skipped=\"%lld\">\n",
		n, (long long)json_integer_value(json_object_get(cmp, "regressions")),
		(long long)(json_integer_value(json_object_get(cmp, "missing")) +
			    json_integer_value(json_object_get(cmp, "not_applicable"))));
	json_array_foreach(json_object_get(cmp, "rows"), i, row)
	{
		char m[128], name[320], cls[160], msg[512], emsg[1024];
		metric_label(row, m, sizeof(m));
		snprintf(msg, sizeof(msg), "%s %s (%s)", m, s(row, "series"), s(row, "kind"));
		compare_xml_escape(msg, name, sizeof(name));
		compare_xml_escape(s(row, "workload"), cls, sizeof(cls));
		fprintf(out, "    <testcase classname=\"virttax.%s\" name=\"%s\"", cls, name);
		const char *v = s(row, "verdict");
		json_t *c = json_object_get(row, "ratio_ci95");
		if (is_na(row))
			snprintf(msg, sizeof(msg), "n/a: %s (no ratio; n=%lld+%lld)",
				 s(row, "note"), side_n(row, "a"), side_n(row, "b"));
		else
			snprintf(msg, sizeof(msg),
				 "%s: B/A %.4f (95%% CI [%.4f, %.4f]), slowdown %+.2f%%, p=%.3g, "
				 "n=%lld+%lld, "
				 "noise %.3g%%",
				 v, d(row, "ratio"), json_number_value(json_array_get(c, 0)),
				 json_number_value(json_array_get(c, 1)), d(row, "slowdown_pct"),
				 d(row, "p"),
				 (long long)json_integer_value(
				     json_object_get(json_object_get(row, "a"), "n")),
				 (long long)json_integer_value(
				     json_object_get(json_object_get(row, "b"), "n")),
				 d(cmp, "noise_pct"));
		compare_xml_escape(msg, emsg, sizeof(emsg));
		if (!strcmp(v, "regression"))
			fprintf(out,
				">\n      <failure type=\"regression\" message=\"%s\"/>\n    "
				"</testcase>\n",
				emsg);
		else if (!strcmp(v, "missing") || is_na(row))
			fprintf(out, ">\n      <skipped message=\"%s\"/>\n    </testcase>\n", emsg);
		else
			fprintf(out, ">\n      <system-out>%s</system-out>\n    </testcase>\n",
				emsg);
	}
	fprintf(out, "  </testsuite>\n</testsuites>\n");
	return ferror(out) ? -5 : 0;
}

static void md_row(FILE *out, json_t *row)
{
	char m[128], ci[40], am[24], bm[24], ma[24], mb[24], r[24], ch[24], p[24];
	json_t *a = json_object_get(row, "a"), *b = json_object_get(row, "b");
	metric_label(row, m, sizeof(m));
	const char *v = s(row, "verdict");
	fprintf(out,
		"| %s | %s | %s | %s | %s | %s (n=%lld, MAD %s) | %s (n=%lld, MAD %s) | "
		"%s %s | %s | %s | %s%s%s%s |\n",
		s(row, "workload"), m, s(row, "series"), s(row, "kind"), s(row, "unit"),
		fnum(am, sizeof(am), "%.6g", d(a, "median")), side_n(row, "a"),
		fnum(ma, sizeof(ma), "%.3g", d(a, "mad")),
		fnum(bm, sizeof(bm), "%.6g", d(b, "median")), side_n(row, "b"),
		fnum(mb, sizeof(mb), "%.3g", d(b, "mad")),
		fnum(r, sizeof(r), "%.4f", d(row, "ratio")), ci_text(row, ci, sizeof(ci)),
		fnum(ch, sizeof(ch), "%+.2f%%", d(row, "slowdown_pct")),
		fnum(p, sizeof(p), "%.3g", d(row, "p")),
		!strcmp(v, "regression") ? "**regression**" : v,
		!strcmp(v, "improvement") ? " :tada:" : "", is_na(row) ? ": " : "",
		is_na(row) ? s(row, "note") : "");
}

int compare_write_markdown(FILE *out, void *arg)
{
	json_t *cmp = arg, *row;
	size_t i;
	long long reg = json_integer_value(json_object_get(cmp, "regressions"));
	fprintf(out, "### virttax gate: %s\n\n", reg ? "regression found" : "no regression");
	fprintf(
	    out,
	    "%lld compared, **%lld regression(s)**, %lld improvement(s), %lld missing, %lld n/a. "
	    "Significant when p < %.2g (permutation test) and |change| > %.3g%% "
	    "(time-equivalent: positive = candidate slower).\n\n",
	    (long long)json_integer_value(json_object_get(cmp, "compared")), reg,
	    (long long)json_integer_value(json_object_get(cmp, "improvements")),
	    (long long)json_integer_value(json_object_get(cmp, "missing")),
	    (long long)json_integer_value(json_object_get(cmp, "not_applicable")), d(cmp, "alpha"),
	    d(cmp, "noise_pct"));
	fprintf(out, "| workload | metric | series | kind | unit | baseline median | candidate "
		     "median | B/A [95%% CI] | change | p | verdict |\n");
	fprintf(out, "|---|---|---|---|---|---:|---:|---:|---:|---:|---|\n");
	/* regressions first, then the rest */
	for (int pass = 0; pass < 2; pass++)
		json_array_foreach(json_object_get(cmp, "rows"), i, row)
		{
			bool r = !strcmp(s(row, "verdict"), "regression");
			if (r == (pass == 0))
				md_row(out, row);
		}
	fprintf(out,
		"\n<sub>overhead rows: VM time / bare time per pair (1 + overhead), so a "
		"host-only change does not move them; MAD = median absolute deviation.</sub>\n");
	return ferror(out) ? -5 : 0;
}

int compare_write_json(FILE *out, void *arg)
{
	if (json_dumpf(arg, out, JSON_INDENT(1)))
		return -5;
	fputc('\n', out);
	return ferror(out) ? -5 : 0;
}
