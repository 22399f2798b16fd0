/*
 * One run record per finished child (docs/RESULTS-SCHEMA.md, "RUN"); the
 * top-level object is the session's (harness/session.c).
 *
 * Why in harness/ and not core/: a run record is made from a run_result (the
 * runner's view of one child); the schema itself, the summary and the writer
 * are core/results.c, which knows nothing of how runs are made.
 */
#include "harness/run_record.h"

#include <stdio.h>
#include <string.h>

#include "core/results.h"
#include "virttax/workload.h"

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Text from a child may be anything: never let it break the record. */
static json_t *safe_text(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	char clean[1024];
	size_t n = 0;
	for (; *s && n < sizeof(clean) - 1; s++)
		clean[n++] = (*s >= 0x20 && *s < 0x7f) || *s == '\n' ? *s : '?';
	clean[n] = 0;
	return json_string(clean);
}

/* Is `name` a word of the space-separated list? */
static bool listed(const char *list, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ' ');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == len && !strncmp(p, name, len))
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* "role": "info" on the metrics the emitting workload declares as such
 * (workload_ops.info_metrics), so that readers of the file know. */
static void mark_info_metrics(json_t *metrics)
{
	size_t i;
	json_t *m;
	json_array_foreach(metrics, i, m)
	{
		const struct workload_ops *w =
		    workload_find(json_string_value(json_object_get(m, "wl")) ?: "");
		const char *name = json_string_value(json_object_get(m, "m"));
		if (w && name && listed(w->info_metrics, name))
			json_object_set_new(m, "role", json_string("info"));
	}
}

json_t *results_run_record(const struct run_meta *m, const struct run_result *res)
{
	json_t *r = json_pack("{s:s,s:o,s:s,s:{s:s,s:o},s:i,s:b,s:s,s:o,s:I}", "side", m->side,
			      "vmm", str_or_null(m->vmm), "series", m->series, "config", "backing",
			      m->backing, "pagesize", str_or_null(m->pagesize), "rep", (int)m->rep,
			      "warmup", m->warmup, "status", run_status_name(res->status), "reason",
			      res->reason[0] ? safe_text(res->reason) : json_null(), "wall_ns",
			      (json_int_t)res->wall_ns);
	/* a VM run always names its baseline, null when it has none (footprint);
	 * readers take an absent key (files from before it) as "bare" when the
	 * workload has bare runs (reports/rdata.c rdata_vm_series) */
	if (m->baseline_series)
		json_object_set_new(r, "baseline_series", json_string(m->baseline_series));
	else if (!strcmp(m->side, "vm"))
		json_object_set_new(r, "baseline_series", json_null());
	json_object_set_new(r, "exit_code",
			    res->exit_code >= 0 ? json_integer(res->exit_code) : json_null());
	json_object_set_new(r, "signal",
			    res->term_signal ? json_integer(res->term_signal) : json_null());
	mark_info_metrics(res->proto.metrics);
	json_object_set(r, "metrics", res->proto.metrics);
	json_object_set(r, "params", res->proto.params);
	json_object_set_new(r, "hello",
			    res->proto.hello ? json_incref(res->proto.hello) : json_null());
	json_object_set_new(r, "vmm_stats",
			    res->vmm_stats ? json_incref(res->vmm_stats) : json_null());
	if (res->bare_stats) /* the bare side's timed regions and memory coverage */
		json_object_set_new(r, "bare_stats", json_incref(res->bare_stats));
	json_object_set_new(r, "collectors",
			    res->collectors ? json_incref(res->collectors) : json_null());
	json_object_set_new(r, "protocol", proto_to_json(&res->proto));
	json_object_set_new(r, "stderr", safe_text(res->stderr_tail));
	return r;
}
