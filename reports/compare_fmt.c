/*
 * compare/gate output formats (see compare_fmt.h).
 */
#include "reports/compare_fmt.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "reports/compare.h"

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

static long long n_of(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* A number in fmt, or "n/a" when it is not finite (no ratio, no samples) */
static const char *fnum(char *buf, size_t len, const char *fmt, double v)
{
	if (!isfinite(v))
		return "n/a";
	snprintf(buf, len, fmt, v);
	return buf;
}

static bool judged(json_t *row)
{
	return json_is_true(json_object_get(row, "judged"));
}

/* "1.0312 [0.9950, 1.0702]" */
static const char *ci_text(json_t *row, char *buf, size_t len)
{
	json_t *c = json_object_get(row, "ci");
	if (!json_is_number(json_array_get(c, 0)) || !json_is_number(json_array_get(c, 1)))
		return "n/a";
	snprintf(buf, len, "%.4f [%.4f, %.4f]", d(row, "ratio"),
		 json_number_value(json_array_get(c, 0)), json_number_value(json_array_get(c, 1)));
	return buf;
}

/* "99.2%", or "90.0% (underpowered)" when the interval cannot reach its level */
static const char *level_text(json_t *row, char *buf, size_t len)
{
	double l = d(row, "ci_level");
	if (!isfinite(l))
		return "-";
	snprintf(buf, len, "%.1f%%%s", l * 100,
		 json_is_true(json_object_get(row, "underpowered")) ? " (underpowered)" : "");
	return buf;
}

/* "+3.12% [+1.02, +5.40]" time-equivalent slowdown of B */
static const char *slow_text(json_t *row, char *buf, size_t len)
{
	json_t *c = json_object_get(row, "slowdown_ci_pct");
	if (!isfinite(d(row, "slowdown_pct")) || !json_is_number(json_array_get(c, 0)))
		return "n/a";
	snprintf(buf, len, "%+.2f%% [%+.2f, %+.2f]", d(row, "slowdown_pct"),
		 json_number_value(json_array_get(c, 0)), json_number_value(json_array_get(c, 1)));
	return buf;
}

/* One line of text per row: verdict, slowdown, interval, p, n (JUnit, stderr) */
static void row_text(json_t *cmp, json_t *row, char *buf, size_t len)
{
	char sl[64], ci[64], lv[40];
	const char *v = s(row, "verdict"), *note = s(row, "note");
	if (!strcmp(v, "inconclusive")) /* the note says it all */
		note = "";
	if (!strcmp(v, "n/a") || !strcmp(v, "missing")) {
		snprintf(buf, len, "%s (n=%lld+%lld)", note, n_of(json_object_get(row, "a"), "n"),
			 n_of(json_object_get(row, "b"), "n"));
		return;
	}
	snprintf(buf, len,
		 "slowdown %s (time-equivalent, %s interval), B/A %s, p=%.3g, n=%lld+%lld, "
		 "noise %.3g%%%s%s",
		 slow_text(row, sl, sizeof(sl)), level_text(row, lv, sizeof(lv)),
		 ci_text(row, ci, sizeof(ci)), d(row, "p"), n_of(json_object_get(row, "a"), "n"),
		 n_of(json_object_get(row, "b"), "n"), d(cmp, "noise_pct"), *note ? "; " : "",
		 note);
}

const char *compare_gate_verdict(json_t *cmp)
{
	if (json_integer_value(json_object_get(cmp, "failed")) > 0 ||
	    json_integer_value(json_object_get(cmp, "regressions")) > 0)
		return "FAIL";
	if (json_integer_value(json_object_get(cmp, "inconclusive_problems")) > 0)
		return "INCONCLUSIVE";
	return "pass";
}

int compare_print_table(FILE *out, void *arg)
{
	json_t *cmp = arg, *row;
	size_t i;
	fprintf(out, "%-54s %12s %4s %12s %4s %-28s %-16s %9s %s\n", "workload metric series kind",
		"A median", "nA", "B median", "nB", "B/A [CI]", "CI level", "p", "verdict");
	json_array_foreach(json_object_get(cmp, "rows"), i, row)
	{
		char name[200], ci[64], lv[40], am[24], bm[24], p[24];
		json_t *a = json_object_get(row, "a"), *b = json_object_get(row, "b");
		compare_row_name(row, name, sizeof(name));
		const char *note = s(row, "note");
		fprintf(out, "%s%-53s %12s %4lld %12s %4lld %-28s %-16s %9s %s%s%s\n",
			judged(row) ? "*" : " ", name, fnum(am, sizeof(am), "%.6g", d(a, "median")),
			n_of(a, "n"), fnum(bm, sizeof(bm), "%.6g", d(b, "median")), n_of(b, "n"),
			ci_text(row, ci, sizeof(ci)), level_text(row, lv, sizeof(lv)),
			fnum(p, sizeof(p), "%.3g", d(row, "p")), s(row, "verdict"),
			*note ? ": " : "", note);
	}
	fprintf(
	    out,
	    "\n* judged by the gate (performance metrics: the overhead rows, VM rows without a "
	    "bare side except a reference such as kvm-floor; each row tested on its own, no "
	    "correction over the rows)\n%lld judged: %lld regression(s), %lld inconclusive, %lld "
	    "improvement(s); "
	    "%lld missing, %lld n/a (no ratio). B/A: Hodges-Lehmann ratio with its Mann-Whitney "
	    "interval (nominal %.0f%%, real level shown); regression when p < %.2g, slower and "
	    "the interval reaches beyond %.3g%% (time-equivalent, direction-aware); within "
	    "noise when it stays below; else inconclusive.\n",
	    n_of(cmp, "judged"), n_of(cmp, "regressions"), n_of(cmp, "inconclusive"),
	    n_of(cmp, "improvements"), n_of(cmp, "missing"), n_of(cmp, "not_applicable"),
	    d(cmp, "ci_nominal") * 100, d(cmp, "alpha"), d(cmp, "noise_pct"));
	return ferror(out) ? -5 : 0;
}

void compare_list_causes(FILE *out, json_t *cmp)
{
	json_t *row, *p;
	size_t i;
	json_array_foreach(json_object_get(cmp, "rows"), i, row)
	{
		if (!judged(row) || strcmp(s(row, "verdict"), "regression"))
			continue;
		char name[200], t[700];
		compare_row_name(row, name, sizeof(name));
		row_text(cmp, row, t, sizeof(t));
		fprintf(out, "regression: %s: %s\n", name, t);
	}
	json_array_foreach(json_object_get(cmp, "problems"), i, p)
	{
		if (!strcmp(s(p, "cause"), "inconclusive") &&
		    json_is_true(json_object_get(p, "allowed")))
			continue;
		fprintf(out, "%s%s: %s: %s\n",
			json_is_true(json_object_get(p, "allowed")) ? "allowed " : "",
			s(p, "cause"), s(p, "what"), s(p, "detail"));
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

/* <testcase> with a <failure> whose message is the first line and whose body
 * the whole text (CI systems show one or the other), or a passing one. */
static void junit_case(FILE *out, const char *cls, const char *name, double time_s,
		       const char *failure_type, const char *text, const char *system_out)
{
	char ecls[256], ename[512], etext[2048];
	compare_xml_escape(cls, ecls, sizeof(ecls));
	compare_xml_escape(name, ename, sizeof(ename));
	compare_xml_escape(text, etext, sizeof(etext));
	fprintf(out, "    <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\">\n", ecls, ename,
		isfinite(time_s) ? time_s : 0.0);
	if (failure_type)
		fprintf(out, "      <failure type=\"%s\" message=\"%s\">%s</failure>\n",
			failure_type, etext, etext);
	else if (system_out)
		fprintf(out, "      <system-out>%s</system-out>\n", etext);
	fprintf(out, "    </testcase>\n");
}

/* Problems other than rows (a missing workload, failed runs, parameters,
 * partial files) are testcases of class virttax.gate, named by what. */
static bool row_problem(json_t *p)
{
	const char *c = s(p, "cause");
	return !strcmp(c, "inconclusive") || (!strcmp(c, "missing") && strchr(s(p, "what"), ' '));
}

int compare_write_junit(FILE *out, void *arg)
{
	json_t *cmp = arg, *row, *p;
	size_t i, tests = 0, failures = 0;
	json_array_foreach(json_object_get(cmp, "rows"), i, row) if (judged(row))
	{
		const char *v = s(row, "verdict");
		tests++;
		failures += !strcmp(v, "regression") || !strcmp(v, "inconclusive") ||
			    !strcmp(v, "missing") || !strcmp(v, "n/a");
	}
	json_array_foreach(json_object_get(cmp, "problems"), i, p) if (!row_problem(p))
	{
		tests++;
		failures += !json_is_true(json_object_get(p, "allowed"));
	}
	char host[256], ts[64];
	compare_xml_escape(s(cmp, "gate_host"), host, sizeof(host));
	compare_xml_escape(s(cmp, "gate_timestamp"), ts, sizeof(ts));
	double total = d(cmp, "candidate_wall_s");
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(out,
		"<testsuites name=\"virttax gate\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
		"time=\"%.3f\">\n",
		tests, failures, isfinite(total) ? total : 0.0);
	fprintf(out,
		"  <testsuite name=\"virttax gate\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
		"skipped=\"0\" time=\"%.3f\" timestamp=\"%s\" hostname=\"%s\">\n",
		tests, failures, isfinite(total) ? total : 0.0, ts, host);
	char prop[1024];
	compare_xml_escape(s(cmp, "baseline"), prop, sizeof(prop));
	fprintf(out, "    <properties>\n      <property name=\"baseline\" value=\"%s\"/>\n", prop);
	compare_xml_escape(s(cmp, "candidate"), prop, sizeof(prop));
	fprintf(out, "      <property name=\"candidate\" value=\"%s\"/>\n", prop);
	fprintf(out, "      <property name=\"verdict\" value=\"%s\"/>\n    </properties>\n",
		compare_gate_verdict(cmp));
	json_array_foreach(json_object_get(cmp, "rows"), i, row) if (judged(row))
	{
		char name[200], cls[160], t[1400], t0[900];
		const char *v = s(row, "verdict");
		compare_row_name(row, name, sizeof(name));
		snprintf(cls, sizeof(cls), "virttax.%s", s(row, "workload"));
		row_text(cmp, row, t0, sizeof(t0));
		if (!strcmp(v, "inconclusive"))
			snprintf(t, sizeof(t), "inconclusive: %s; %s", s(row, "note"), t0);
		else
			snprintf(t, sizeof(t), "%s: %s", v, t0);
		bool fail = !strcmp(v, "regression") || !strcmp(v, "inconclusive") ||
			    !strcmp(v, "missing") || !strcmp(v, "n/a");
		junit_case(out, cls, name, d(row, "b_wall_s"), fail ? v : NULL, t, t);
	}
	json_array_foreach(json_object_get(cmp, "problems"), i, p) if (!row_problem(p))
	{
		char name[300], t[900];
		bool allowed = json_is_true(json_object_get(p, "allowed"));
		snprintf(name, sizeof(name), "%s: %s", s(p, "cause"), s(p, "what"));
		snprintf(t, sizeof(t), "%s%s: %s", allowed ? "allowed: " : "", s(p, "what"),
			 s(p, "detail"));
		junit_case(out, "virttax.gate", name, 0, allowed ? NULL : s(p, "cause"), t, t);
	}
	fprintf(out, "  </testsuite>\n</testsuites>\n");
	return ferror(out) ? -5 : 0;
}

static void md_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;
	for (; *in && o + 3 < len; in++) {
		if (*in == '|')
			out[o++] = '\\';
		out[o++] = *in == '\n' ? ' ' : *in;
	}
	out[o] = 0;
}

static void md_row(FILE *out, json_t *row)
{
	char name[200], ci[64], lv[40], sl[64], am[24], bm[24], ma[24], mb[24], p[24], note[400];
	json_t *a = json_object_get(row, "a"), *b = json_object_get(row, "b");
	const char *v = s(row, "verdict");
	bool bad = !strcmp(v, "regression") || !strcmp(v, "inconclusive");
	compare_row_name(row, name, sizeof(name));
	md_escape(s(row, "note"), note, sizeof(note));
	fprintf(out,
		"| %s%s | %s | %s (n=%lld, MAD %s) | %s (n=%lld, MAD %s) | %s | %s | %s | %s | "
		"%s%s%s%s%s |\n",
		name, judged(row) ? "" : " (not judged)", s(row, "unit"),
		fnum(am, sizeof(am), "%.6g", d(a, "median")), n_of(a, "n"),
		fnum(ma, sizeof(ma), "%.3g", d(a, "mad")),
		fnum(bm, sizeof(bm), "%.6g", d(b, "median")), n_of(b, "n"),
		fnum(mb, sizeof(mb), "%.3g", d(b, "mad")), ci_text(row, ci, sizeof(ci)),
		level_text(row, lv, sizeof(lv)), slow_text(row, sl, sizeof(sl)),
		fnum(p, sizeof(p), "%.3g", d(row, "p")), bad ? "**" : "", v, bad ? "**" : "",
		*note ? ": " : "", note);
}

int compare_write_markdown(FILE *out, void *arg)
{
	json_t *cmp = arg, *row, *p;
	size_t i;
	const char *verdict = compare_gate_verdict(cmp);
	fprintf(out, "### virttax gate: %s\n\n",
		!strcmp(verdict, "FAIL")   ? "**FAIL**"
		: !strcmp(verdict, "pass") ? "pass"
					   : "**INCONCLUSIVE**");
	fprintf(out,
		"%lld rows judged: **%lld regression(s)**, %lld inconclusive, %lld improvement(s). "
		"A regression: p < %.2g (Mann-Whitney test) and a time-equivalent slowdown whose "
		"%.0f%% interval reaches beyond the %.3g%% noise threshold; inconclusive: neither "
		"shown below the threshold nor significant with these runs.\n\n",
		n_of(cmp, "judged"), n_of(cmp, "regressions"), n_of(cmp, "inconclusive"),
		n_of(cmp, "improvements"), d(cmp, "alpha"), d(cmp, "ci_nominal") * 100,
		d(cmp, "noise_pct"));
	bool any = false;
	json_array_foreach(json_object_get(cmp, "problems"), i, p)
	{
		char w[300], det[700];
		md_escape(s(p, "what"), w, sizeof(w));
		md_escape(s(p, "detail"), det, sizeof(det));
		if (!any)
			fprintf(out, "Causes:\n\n");
		any = true;
		fprintf(out, "- %s**%s**: %s: %s\n",
			json_is_true(json_object_get(p, "allowed")) ? "(allowed) " : "",
			s(p, "cause"), w, det);
	}
	if (json_is_integer(json_object_get(cmp, "reps_needed")))
		fprintf(out,
			"%sTo decide every judged row: about **%lld runs per side** (`virttax run "
			"--reps %lld`).\n",
			any ? "\n" : "", n_of(cmp, "reps_needed"), n_of(cmp, "reps_needed"));
	fprintf(out,
		"%s| row | unit | baseline median | candidate median | B/A [interval] | "
		"interval level | slowdown [interval] | p | verdict |\n",
		any || json_is_integer(json_object_get(cmp, "reps_needed")) ? "\n" : "");
	fprintf(out, "|---|---|---:|---:|---:|---:|---:|---:|---|\n");
	/* judged rows first, regressions and inconclusive ones first among them */
	for (int pass = 0; pass < 3; pass++)
		json_array_foreach(json_object_get(cmp, "rows"), i, row)
		{
			const char *v = s(row, "verdict");
			bool bad = !strcmp(v, "regression") || !strcmp(v, "inconclusive");
			int want = judged(row) ? (bad ? 0 : 1) : 2;
			if (want == pass)
				md_row(out, row);
		}
	fprintf(out, "\n<sub>overhead rows: VM time / bare time per pair (1 + overhead), so a "
		     "host-only change does not move them; MAD = median absolute deviation; "
		     "docs/METHOD.md.</sub>\n");
	return ferror(out) ? -5 : 0;
}

int compare_write_json(FILE *out, void *arg)
{
	if (json_dumpf(arg, out, JSON_INDENT(1)))
		return -5;
	fputc('\n', out);
	return ferror(out) ? -5 : 0;
}
