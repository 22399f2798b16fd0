/*
 * JSON report: the whole model (per source: summaries and decomposition;
 * validation rows; the calibration ladder) for other tools.
 */
#include "reports/report.h"

static int json_render(FILE *out, const struct report_ctx *ctx)
{
	json_t *sources = json_array();
	for (size_t s = 0; s < ctx->n; s++) {
		json_t *sums = json_object(), *wl;
		size_t i;
		json_array_foreach(json_object_get(ctx->results[s], "workloads"), i, wl)
		    json_object_set(sums, report_s(wl, "name"), json_object_get(wl, "summary"));
		json_array_append_new(
		    sources, json_pack("{s:s,s:O,s:o,s:O}", "path", ctx->paths[s], "parameters",
				       json_object_get(ctx->results[s], "parameters"), "summary",
				       sums, "decomposition", ctx->decomp[s]));
	}
	json_t *doc = json_pack("{s:s,s:i,s:o,s:O,s:O}", "schema", "virttax-report",
				"schema_version", 1, "sources", sources, "validation",
				ctx->validation, "calibration_ladder", ctx->ladder);
	int rc = json_dumpf(doc, out, JSON_INDENT(1)) ? -5 : 0;
	fputc('\n', out);
	json_decref(doc);
	return rc ? rc : (ferror(out) ? -5 : 0);
}

const struct report_ops report_json = {
    .name = "json",
    .help = "JSON: summaries, decomposition, validation, ladder",
    .render = json_render,
};
