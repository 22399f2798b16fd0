/*
 * libFuzzer target: the line protocol parser (core/proto.c) and what consumes
 * its records: the calibration (core/calib.c: records of two groups added to
 * one side, each kind priced by the CPU time of its timed region as
 * `virttax calibrate` does, the ladder, the validation a calibration.json
 * must pass), the
 * results summary over a bare and a vm run carrying the metrics
 * (core/results.c, core/stats.c) and the run record's protocol object.
 *
 * The input is what a guest prints on its serial port, fed in chunks of a
 * size taken from its first byte (lines cross feeds). Besides ASan/UBSan the
 * target checks the parser's promises: what it keeps is bounded per record
 * (no nested value in a kept message or hello, metric and calib copies hold
 * only their known fields, at most 24 rounds), its byte counters stay within
 * their limits, and a calibration built from accepted records validates.
 * A kept nested value is how 16 MiB of serial output became 1.2 GiB.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/calib.h"
#include "core/proto.h"
#include "core/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_flat(json_t *o, size_t max_members)
{
	const char *k;
	json_t *v;
	if (!json_is_object(o) || json_object_size(o) > max_members)
		abort();
	json_object_foreach(o, k, v) if (json_is_object(v) || json_is_array(v)) abort();
}

static void check_kept(const struct proto_parser *p)
{
	size_t i;
	json_t *r;
	if (p->hello)
		check_flat(p->hello, PROTO_MAX_FIELDS + 1);
	json_array_foreach(p->records_log, i, r) check_flat(r, PROTO_MAX_FIELDS + 1);
	json_array_foreach(p->metrics, i, r) check_flat(r, 8);
	json_array_foreach(p->calib, i, r)
	{
		const char *k;
		json_t *v;
		if (json_object_size(r) > 10)
			abort();
		json_object_foreach(
		    r, k, v) if ((json_is_array(v) && json_array_size(v) > CALIB_MAX_SAMPLES) ||
				 json_is_object(v)) abort();
	}
	if (p->kept_bytes > PROTO_MAX_KEPT_BYTES || p->message_bytes > PROTO_MAX_MESSAGE_BYTES ||
	    json_array_size(p->records_log) > PROTO_MAX_MESSAGES ||
	    json_array_size(p->calib) > CALIB_MAX_KINDS ||
	    json_array_size(p->log) > PROTO_MAX_LOG_LINES || p->log_bytes > PROTO_MAX_LOG_BYTES)
		abort();
}

/* vmm-lite's "regions" for the calib run: per kind "calib.KIND" with n = 1,
 * a wall time that covers the kind's rounds by 0.8-1.2 (either side of the
 * pricing's bounds), a CPU time of 0-100% of it, a wait time and context
 * switches; the shares come from the input's last bytes. */
static json_t *calib_regions(json_t *side, const uint8_t *data, size_t size)
{
	json_t *list = json_array(), *k, *x;
	const char *kind;
	size_t n = 0, i;
	json_object_foreach(side, kind, k)
	{
		uint8_t b = size ? data[size - 1 - n++ % size] : 0;
		double iters = json_number_value(json_object_get(k, "iters")), sum = 0;
		char label[80];
		json_array_foreach(json_object_get(k, "samples_ns"), i, x) sum +=
		    json_number_value(x) * iters;
		if (!(sum > 0 && sum < 1e18))
			continue;
		double wall = sum * (0.8 + 0.4 * (b & 15) / 15.0);
		snprintf(label, sizeof(label), "calib.%s", kind);
		json_array_append_new(list,
				      json_pack("{s:s,s:i,s:I,s:I,s:I,s:i}", "label", label, "n", 1,
						"wall_ns", (json_int_t)wall, "run_ns",
						(json_int_t)(wall * (b >> 4) / 15.0), "wait_ns",
						(json_int_t)(wall * (15 - (b >> 4)) / 15.0),
						"voluntary_ctxt_switches", b >> 7));
	}
	return json_pack("{s:o}", "list", list);
}

static void calibration(const struct proto_parser *p, const uint8_t *data, size_t size)
{
	json_t *k = json_object_get(p->hello, "tsc_khz");
	double hz = json_is_integer(k) && json_integer_value(k) > 0
			? (double)json_integer_value(k) * 1e3
			: 2e9;
	json_t *vm = json_object(), *cal;
	char err[256];
	/* two groups printing the same records: what add_spacing overflowed on */
	calib_add_records(vm, p->calib, hz, err, sizeof(err));
	calib_add_records(vm, p->calib, hz, err, sizeof(err));
	json_t *regions = calib_regions(vm, data, size);
	calib_price_cpu(vm, regions);
	json_decref(regions);
	cal = json_pack("{s:i,s:o,s:o}", "version", CALIB_SCHEMA_VERSION, "vm", vm, "bare",
			json_object());
	json_object_set_new(cal, "ladder", calib_build_ladder(cal));
	if (calib_validate(cal, err, sizeof(err)))
		abort(); /* what calibrate writes must load again */
	calib_cost_ns(cal, "vm", "pio");
	json_decref(cal);
}

/* A run record carrying the first metrics: the summary bootstraps 10,000
 * replicates per metric, which would make the target ~40 inputs/s with the
 * hundreds of metrics a 16 KiB input can hold; two reach all of its code. */
static json_t *run(const char *side, const struct proto_parser *p)
{
	json_t *m = json_array();
	for (size_t i = 0; i < 2 && i < json_array_size(p->metrics); i++)
		json_array_append(m, json_array_get(p->metrics, i));
	return json_pack("{s:s,s:s,s:s,s:b,s:i,s:{s:s},s:o,s:O,s:o}", "side", side, "series", side,
			 "status", "ok", "warmup", 0, "rep", 0, "config", "backing", "thp",
			 "metrics", m, "params", p->params, "protocol", proto_to_json(p));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_parser p;
	size_t chunk, off = 1;
	if (size < 1)
		return 0;
	chunk = data[0] ? data[0] : 4096;
	proto_init(&p);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		proto_feed(&p, (const char *)data + off, n);
		off += n;
	}
	proto_finish(&p);
	check_kept(&p);
	calibration(&p, data, size);
	json_t *wl =
	    json_pack("{s:s,s:[o,o]}", "name", "fuzz", "runs", run("bare", &p), run("vm", &p));
	results_summarize(wl);
	char *dump = json_dumps(wl, JSON_COMPACT);
	if (!dump)
		abort(); /* everything kept must serialise (valid UTF-8, no NaN) */
	free(dump);
	json_decref(wl);
	proto_release(&p);
	return 0;
}
