/*
 * Can a candidate pass against a baseline at all? The gate's fail-closed
 * checks (see compare.h): nothing of the baseline missing, every run ok, the
 * same parameters, VMM build and host, complete files, every judged row
 * decided.
 *
 * Why its own file: the statistics of a row (compare.c) answer "did it get
 * slower?"; this file answers "is the comparison valid?", and a gate that
 * only asks the first question passes candidates that lost a workload, whose
 * VMs crashed or that were measured with other parameters (issue 11).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/results.h"
#include "reports/compare.h"
#include "reports/rdata.h"

const char *compare_cause_name(enum compare_cause c)
{
	static const char *const n[] = {"missing", "failed-runs",  "parameters",
					"partial", "inconclusive", "nothing-judged"};
	return n[c];
}

const char *const compare_param_categories[] = {
    "workload", "mem",	     "vcpus", "pin",  "backing",   "pagesize", "vmm",
    "vmm-args", "vmm-build", "io",    "host", "co-tenant", NULL};

unsigned compare_param_category_bit(const char *name)
{
	if (!strcmp(name, "all"))
		return ~0u;
	for (unsigned i = 0; compare_param_categories[i]; i++)
		if (!strcmp(name, compare_param_categories[i]))
			return 1u << i;
	return 0;
}

/* One parameter: its category, what to call it, where it is in results.json. */
struct param_check {
	const char *category, *label, *path;
};

static const struct param_check file_checks[] = {
    {"mem", "guest memory (--mem)", "parameters.mem_bytes"},
    {"mem", "memory limit (--mem-limit)", "parameters.mem_limit_bytes"},
    {"mem", "balloon (--balloon)", "parameters.balloon_mib"},
    {"vcpus", "vCPUs", "parameters.placement.vcpus"},
    {"pin", "pinned CPU (--pin)", "parameters.pin"},
    {"pin", "pin mode", "parameters.placement.pin_mode"},
    {"pin", "overcommit", "parameters.placement.overcommit"},
    {"co-tenant", "co-tenant", "parameters.placement.co_tenant"},
    {"backing", "memory backing (--backing)", "parameters.backing"},
    {"pagesize", "guest page size (--pagesize)", "parameters.pagesize"},
    {"vmm", "VMM (--vmm)", "parameters.vmm"},
    {"vmm-args", "VMM arguments (--vmm-arg)", "parameters.vmm_args"},
    {"vmm-build", "VMM build", "vmms"},
    {"io", "I/O technique", "parameters.io_technique"},
    {"io", "O_DIRECT (--direct)", "parameters.direct"},
    {"host", "CPU model", "environment.cpu.model_name"},
    {"host", "kernel", "environment.kernel.release"},
    {"host", "KVM flavour", "environment.kvm.flavour"},
};

static const struct param_check workload_checks[] = {
    {"workload", "parameters", "params"},
    {"vcpus", "vCPUs", "placement.vcpus"},
    {"pin", "CPUs", "placement.cpu_list"},
};

/* The value at a dotted path, or NULL (borrowed). */
static json_t *at(json_t *o, const char *path)
{
	char key[64];
	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		snprintf(key, sizeof(key), "%.*s", (int)(n < sizeof(key) ? n : sizeof(key) - 1),
			 path);
		o = json_object_get(o, key);
		path = dot ? dot + 1 : "";
	}
	return o;
}

static void text(json_t *v, char *buf, size_t len)
{
	if (!v) {
		snprintf(buf, len, "(not recorded)");
		return;
	}
	char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	snprintf(buf, len, "%s", d ? d : "?");
	free(d);
}

static void add(json_t *problems, enum compare_cause c, const char *what, const char *detail,
		bool allowed)
{
	json_array_append_new(problems,
			      json_pack("{s:s,s:s,s:s,s:b}", "cause", compare_cause_name(c), "what",
					what, "detail", detail, "allowed", allowed));
}

static void check_param(json_t *problems, const struct param_check *c, json_t *va, json_t *vb,
			const char *prefix, unsigned allowed)
{
	if (json_equal(va, vb) || (!va && !vb))
		return;
	char a[240], b[240], what[160], detail[600];
	text(va, a, sizeof(a));
	text(vb, b, sizeof(b));
	snprintf(what, sizeof(what), "%s%s", prefix, c->label);
	snprintf(detail, sizeof(detail), "baseline %s, candidate %s (--allow-param-diff %s)", a, b,
		 c->category);
	add(problems, CAUSE_PARAMETERS, what, detail,
	    (allowed & compare_param_category_bit(c->category)) != 0);
}

/* The VMM builds without where they were run from: the same build in two
 * checkouts is the same build (new reference). */
static json_t *builds(json_t *vmms)
{
	if (!json_is_object(vmms))
		return json_incref(vmms);
	json_t *out = json_deep_copy(vmms), *v;
	const char *name;
	json_object_foreach(out, name, v) json_object_del(v, "binary");
	return out;
}

static void check_params(json_t *problems, json_t *a, json_t *b, unsigned allowed)
{
	for (size_t i = 0; i < sizeof(file_checks) / sizeof(file_checks[0]); i++) {
		bool vmms = !strcmp(file_checks[i].path, "vmms");
		json_t *va = at(a, file_checks[i].path), *vb = at(b, file_checks[i].path);
		if (vmms)
			va = builds(va), vb = builds(vb);
		check_param(problems, &file_checks[i], va, vb, "", allowed);
		if (vmms)
			json_decref(va), json_decref(vb);
	}
	size_t i;
	json_t *wa;
	json_array_foreach(json_object_get(a, "workloads"), i, wa)
	{
		const char *name = json_string_value(json_object_get(wa, "name"));
		json_t *wb = name ? rdata_workload(b, name) : NULL;
		if (!wb)
			continue; /* a missing workload is its own cause */
		char prefix[96];
		snprintf(prefix, sizeof(prefix), "%s ", name);
		for (size_t k = 0; k < sizeof(workload_checks) / sizeof(workload_checks[0]); k++)
			check_param(problems, &workload_checks[k], at(wa, workload_checks[k].path),
				    at(wb, workload_checks[k].path), prefix, allowed);
	}
}

static void check_failed_runs(json_t *problems, json_t *root, const char *side, bool allowed)
{
	size_t i, j;
	json_t *w, *run;
	json_array_foreach(json_object_get(root, "workloads"), i, w)
	    json_array_foreach(json_object_get(w, "runs"), j, run)
	{
		const char *st = json_string_value(json_object_get(run, "status"));
		if (!st || !strcmp(st, "ok"))
			continue;
		const char *reason = json_string_value(json_object_get(run, "reason"));
		char what[200], detail[400];
		snprintf(what, sizeof(what), "%s run %s %s %s %lld", side,
			 json_string_value(json_object_get(w, "name")),
			 json_string_value(json_object_get(run, "series")),
			 json_is_true(json_object_get(run, "warmup")) ? "warm-up" : "rep",
			 (long long)json_integer_value(json_object_get(run, "rep")));
		snprintf(detail, sizeof(detail), "%s: %.300s (--allow-failed-runs)", st,
			 reason ? reason : "");
		add(problems, CAUSE_FAILED_RUNS, what, detail, allowed);
	}
}

static void check_rows(json_t *problems, json_t *cmp, json_t *a, json_t *b,
		       const struct compare_allow *allow)
{
	size_t i;
	json_t *w, *row;
	json_array_foreach(json_object_get(a, "workloads"), i, w)
	{
		const char *name = json_string_value(json_object_get(w, "name"));
		if (name && !rdata_workload(b, name))
			add(problems, CAUSE_MISSING, name,
			    "workload of the baseline not in the candidate (--allow-missing)",
			    allow->cause[CAUSE_MISSING]);
	}
	json_array_foreach(json_object_get(cmp, "rows"), i, row)
	{
		if (!json_is_true(json_object_get(row, "judged")))
			continue;
		const char *v = json_string_value(json_object_get(row, "verdict"));
		const char *wl = json_string_value(json_object_get(row, "workload"));
		char what[256], detail[600];
		compare_row_name(row, what, sizeof(what));
		const char *note = json_string_value(json_object_get(row, "note"));
		if (!strcmp(v, "missing") && rdata_workload(b, wl) &&
		    json_integer_value(json_object_get(json_object_get(row, "a"), "n")) > 0) {
			snprintf(detail, sizeof(detail), "%s (--allow-missing)", note ? note : "");
			add(problems, CAUSE_MISSING, what, detail, allow->cause[CAUSE_MISSING]);
		} else if (!strcmp(v, "inconclusive")) {
			snprintf(detail, sizeof(detail), "%s (--allow-inconclusive)",
				 note ? note : "");
			add(problems, CAUSE_INCONCLUSIVE, what, detail,
			    allow->cause[CAUSE_INCONCLUSIVE]);
		}
	}
}

void compare_check(json_t *cmp, json_t *a, json_t *b, const struct compare_allow *allow)
{
	json_t *problems = json_array();
	json_t *src[2] = {a, b};
	const char *side[2] = {"baseline", "candidate"};
	for (int i = 0; i < 2; i++) {
		char why[400], detail[460];
		if (results_partial(src[i], why, sizeof(why))) {
			snprintf(detail, sizeof(detail), "%s (--allow-partial)", why);
			add(problems, CAUSE_PARTIAL, side[i], detail, allow->cause[CAUSE_PARTIAL]);
		}
	}
	check_rows(problems, cmp, a, b, allow);
	if (json_integer_value(json_object_get(cmp, "judged")) == 0)
		add(problems, CAUSE_NOTHING_JUDGED, "all rows",
		    "no row the gate judges: no performance metric (info metrics and counts are "
		    "never judged) with samples in the baseline; a pass would say nothing",
		    false);
	for (int i = 0; i < 2; i++)
		check_failed_runs(problems, src[i], side[i], allow->cause[CAUSE_FAILED_RUNS]);
	check_params(problems, a, b, allow->params);
	size_t i, failed = 0, inconclusive = 0;
	json_t *p;
	json_array_foreach(problems, i, p)
	{
		if (json_is_true(json_object_get(p, "allowed")))
			continue;
		if (!strcmp(json_string_value(json_object_get(p, "cause")),
			    compare_cause_name(CAUSE_INCONCLUSIVE)))
			inconclusive++;
		else
			failed++;
	}
	json_object_set_new(cmp, "problems", problems);
	json_object_set_new(cmp, "failed", json_integer((json_int_t)failed));
	json_object_set_new(cmp, "inconclusive_problems", json_integer((json_int_t)inconclusive));
}
