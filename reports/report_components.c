/*
 * The components outside the pair sum (I/O crossings, memory pressure,
 * co-tenant sharing), rendered as Markdown or HTML tables.
 *
 * Why one file for both formats: the three tables have the same rows in both;
 * only the cell syntax differs, so a row writer with a format switch keeps
 * them from drifting apart. Every value carries its unit and n.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "reports/report.h"

struct tab {
	FILE *out;
	bool html;
};

static void head(struct tab *t, const char *title, const char *intro, const char *const *cols,
		 size_t n)
{
	if (t->html) {
		fprintf(t->out, "<h2>%s</h2><p class=\"note\">%s</p><table><tr>", title, intro);
		for (size_t i = 0; i < n; i++)
			fprintf(t->out, "<th>%s</th>", cols[i]);
		fprintf(t->out, "</tr>\n");
		return;
	}
	fprintf(t->out, "\n## %s\n\n%s\n\n|", title, intro);
	for (size_t i = 0; i < n; i++)
		fprintf(t->out, " %s |", cols[i]);
	fprintf(t->out, "\n|");
	for (size_t i = 0; i < n; i++)
		fprintf(t->out, "%s|", i < 2 ? "---" : "---:");
	fprintf(t->out, "\n");
}

static void row(struct tab *t, const char *const *cells, size_t n)
{
	fprintf(t->out, "%s", t->html ? "<tr>" : "|");
	for (size_t i = 0; i < n; i++) {
		if (!t->html) {
			fprintf(t->out, " %s |", cells[i]);
			continue;
		}
		fprintf(t->out, "<td>");
		for (const char *c = cells[i]; *c; c++) /* the reasons come from the results file */
			fprintf(t->out, "%s",
				*c == '<'   ? "&lt;"
				: *c == '>' ? "&gt;"
				: *c == '&' ? "&amp;"
					    : (char[2]){*c, 0});
		fprintf(t->out, "</td>");
	}
	fprintf(t->out, "%s\n", t->html ? "</tr>" : "");
}

static void tail(struct tab *t)
{
	if (t->html)
		fprintf(t->out, "</table>\n");
}

static const char *num(json_t *o, const char *k, char *b, size_t len)
{
	return report_num(report_d(o, k), b, len);
}

static void io_table(struct tab *t, const struct report_ctx *ctx)
{
	static const char *const cols[] = {"workload",
					   "series",
					   "technique",
					   "runs",
					   "exits/I/O",
					   "notifications/I/O",
					   "interrupts/I/O",
					   "backend CPU ns/I/O",
					   "crossing ns/I/O [95% CI]"};
	bool any = false;
	for (size_t s = 0; s < ctx->n; s++) {
		json_t *rows = json_object_get(ctx->decomp[s], "io"), *r;
		size_t i;
		json_array_foreach(rows, i, r)
		{
			char a[32], b[32], c[32], d[32], e[96], n[16];
			if (!any)
				head(t, "I/O boundary crossings",
				     "Per I/O request, medians over the VM runs: crossings = exits "
				     "(or "
				     "ioeventfd notifications for virtio-eventfd) per I/O x the "
				     "calibrated "
				     "cost of that kind (pio / mmio / mmio-ioeventfd). Part of "
				     "mediation, "
				     "not added to it again.",
				     cols, 9);
			any = true;
			snprintf(n, sizeof(n), "%lld",
				 (long long)json_integer_value(json_object_get(r, "runs")));
			if (json_is_number(json_object_get(r, "crossing_ns_per_io")))
				report_val_ci(report_d(r, "crossing_ns_per_io"),
					      json_object_get(r, "crossing_ci95"), e, sizeof(e));
			else
				snprintf(e, sizeof(e), "n/a: %.80s", report_s(r, "reason"));
			const char *cells[] = {report_s(r, "workload"),
					       report_s(r, "series"),
					       report_s(r, "technique"),
					       n,
					       num(r, "exits_per_io", a, sizeof(a)),
					       num(r, "notifications_per_io", b, sizeof(b)),
					       num(r, "interrupts_per_io", c, sizeof(c)),
					       num(r, "backend_cpu_ns_per_io", d, sizeof(d)),
					       e};
			row(t, cells, 9);
		}
	}
	if (any)
		tail(t);
}

static void pressure_table(struct tab *t, const struct report_ctx *ctx)
{
	static const char *const cols[] = {
	    "workload",		"series",	"runs (ok)", "slowdown vs unlimited % [CI]",
	    "major faults/run", "refaults/run", "OOM kills", "outcome"};
	bool any = false;
	for (size_t s = 0; s < ctx->n; s++) {
		json_t *rows = json_object_get(ctx->decomp[s], "memory_pressure"), *r;
		size_t i;
		json_array_foreach(rows, i, r)
		{
			char a[96], b[32], c[32], k[24], n[32];
			if (!any)
				head(t, "Memory pressure",
				     "Each side under the cgroup limit against the same side "
				     "unlimited "
				     "(same rep): time ratio − 1, median [order-statistic CI]; "
				     "faults from "
				     "the run's memory cgroup.",
				     cols, 8);
			any = true;
			snprintf(n, sizeof(n), "%lld (%lld)",
				 (long long)json_integer_value(json_object_get(r, "runs")),
				 (long long)json_integer_value(json_object_get(r, "ok_pairs")));
			snprintf(k, sizeof(k), "%lld",
				 (long long)json_integer_value(json_object_get(r, "oom_kills")));
			report_val_ci(report_d(r, "slowdown_pct"),
				      json_object_get(r, "slowdown_ci95"), a, sizeof(a));
			const char *cells[] = {report_s(r, "workload"),
					       report_s(r, "series"),
					       n,
					       a,
					       num(r, "major_faults_median", b, sizeof(b)),
					       num(r, "refaults_median", c, sizeof(c)),
					       k,
					       json_is_string(json_object_get(r, "reason"))
						   ? report_s(r, "reason")
						   : "ran"};
			row(t, cells, 8);
		}
	}
	if (any)
		tail(t);
}

static void sharing_table(struct tab *t, const struct report_ctx *ctx)
{
	static const char *const cols[] = {
	    "workload",		 "side",       "co-tenant",	"time with (ns)",
	    "time without (ns)", "slowdown %", "n with/without"};
	json_t *r;
	size_t i;
	if (!json_array_size(ctx->sharing))
		return;
	head(t, "Co-tenant: sharing cost, not a virtualization cost",
	     "The same workload with and without a noisy neighbour, per side (median whole-run "
	     "time). It applies to bare metal as much as to the VM, so it is not part of the "
	     "VM overhead.",
	     cols, 7);
	json_array_foreach(ctx->sharing, i, r)
	{
		char a[32], b[32], c[32], n[32];
		snprintf(n, sizeof(n), "%lld/%lld",
			 (long long)json_integer_value(json_object_get(r, "n_with")),
			 (long long)json_integer_value(json_object_get(r, "n_without")));
		const char *cells[] = {report_s(r, "workload"),
				       report_s(r, "side"),
				       report_s(r, "mode"),
				       num(r, "time_with_ns", a, sizeof(a)),
				       num(r, "time_without_ns", b, sizeof(b)),
				       num(r, "slowdown_pct", c, sizeof(c)),
				       n};
		row(t, cells, 7);
	}
	tail(t);
}

/* "14.5 [13.9, 15.2] (n=10)" of one footprint metric, or the reason */
static const char *fp_cell(json_t *m, char *buf, size_t len)
{
	char v[96];
	if (!json_integer_value(json_object_get(m, "n")))
		return snprintf(buf, len, "n/a (n=0)"), buf;
	report_val_ci(report_d(m, "median"), json_object_get(m, "ci"), v, sizeof(v));
	snprintf(buf, len, "%s (n=%lld, %.1f%%%s)", v,
		 (long long)json_integer_value(json_object_get(m, "n")),
		 report_d(m, "ci_level") * 100,
		 json_is_true(json_object_get(m, "underpowered")) ? " underpowered" : "");
	return buf;
}

static void footprint_table(struct tab *t, const struct report_ctx *ctx)
{
	static const char *const cols[] = {"config",	       "VMM",
					   "boot → hello ms",  "spawn → entry ms",
					   "RSS overhead KiB", "PSS overhead KiB"};
	static const char *const metrics[] = {"boot_to_hello_ms", "spawn_to_entry_ms",
					      "overhead_rss_kib", "overhead_pss_kib"};
	bool any = false;
	for (size_t s = 0; s < ctx->n; s++) {
		json_t *cfg;
		size_t i;
		json_array_foreach(
		    json_object_get(json_object_get(ctx->results[s], "footprint"), "configs"), i,
		    cfg)
		{
			if (!any)
				head(t, "VMM footprint",
				     "Per VM, before the guest does anything: spawn to the agent's "
				     "first line and instruction, and the VMM process's memory "
				     "besides guest RAM; median [CI] (n, the CI's real coverage; "
				     "nominal 95%). Ratio: vmm-lite/QEMU, Hodges-Lehmann "
				     "[Mann-Whitney CI] (its coverage).",
				     cols, 6);
			any = true;
			const char *vmm;
			json_t *o;
			json_object_foreach(json_object_get(cfg, "vmms"), vmm, o)
			{
				char c[4][160];
				for (int k = 0; k < 4; k++)
					if (json_is_string(json_object_get(o, "reason")))
						snprintf(c[k], sizeof(c[k]), "%s",
							 k ? "" : report_s(o, "reason"));
					else
						fp_cell(json_object_get(o, metrics[k]), c[k],
							sizeof(c[k]));
				const char *cells[] = {
				    report_s(cfg, "config"), vmm, c[0], c[1], c[2], c[3]};
				row(t, cells, 6);
			}
			json_t *r = json_object_get(cfg, "ratio_vmmlite_over_qemu");
			if (!json_object_size(r))
				continue;
			char c[4][96];
			for (int k = 0; k < 4; k++) {
				json_t *x = json_object_get(r, metrics[k]);
				char v[80];
				report_val_ci(report_d(x, "value"), json_object_get(x, "ci"), v,
					      sizeof(v));
				snprintf(c[k], sizeof(c[k]), "%s (%.1f%%)", v,
					 report_d(x, "ci_level") * 100);
			}
			const char *cells[] = {
			    report_s(cfg, "config"), "ratio vmm-lite/qemu", c[0], c[1], c[2], c[3]};
			row(t, cells, 6);
		}
	}
	if (any)
		tail(t);
}

void report_components(FILE *out, const struct report_ctx *ctx, bool html)
{
	struct tab t = {out, html};
	io_table(&t, ctx);
	pressure_table(&t, ctx);
	sharing_table(&t, ctx);
	footprint_table(&t, ctx);
}
