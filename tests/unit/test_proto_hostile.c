/*
 * The three bugs the fuzzer found in the protocol parser and its consumers
 * (issue 16), as reproducers: each must fail its run with a one-line reason,
 * and the ASan+UBSan build of this file (make asan-tests) must stay clean.
 *   1. two calibration groups with 64 spacing records of one kind overflowed
 *      add_spacing's 64-slot stack array (core/calib.c);
 *   2. "iters": 2^63-1 (or 2^62 with three ticks) reached undefined
 *      float-to-integer conversions in calib_kind_json;
 *   3. 16 MiB of {"t":"exception","a":[{},{},...]} made the parser keep
 *      ~1.2 GiB of parsed JSON.
 * Plus the other bounds: a done status that does not fit an int, calib
 * records beyond 64, kept bytes, messages kept as scalar copies, and what the
 * 2026-12-03 campaign found: a calib record's unchecked arrays kept whole.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calib.h"
#include "core/proto.h"

#define P "@@VTX1@@ "

static void feed(struct proto_parser *p, const char *s)
{
	proto_feed(p, s, strlen(s));
}

static void feed_calib(struct proto_parser *p, bool spacing, unsigned gap)
{
	char line[512];
	if (spacing)
		snprintf(line, sizeof(line),
			 P
			 "{\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"iters\":100,\"ticks\":"
			 "[5000,5100,5200],\"spacing\":true,\"gap_units\":%u,\"base_ticks\":[1000,"
			 "1100,1200]}\n",
			 gap);
	else
		snprintf(line, sizeof(line),
			 P
			 "{\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"how\":\"outl\",\"iters\":"
			 "100,\"ticks\":[2500,2600,2700]}\n");
	feed(p, line);
}

/* one ok record plus 63 spacing records of one kind: a whole group's output */
static void group_output(struct proto_parser *p)
{
	proto_init(p);
	feed(p, P "{\"t\":\"hello\",\"proto\":1,\"side\":\"vm\",\"tsc_khz\":2000000}\n");
	feed_calib(p, false, 0);
	for (unsigned i = 0; i < 63; i++)
		feed_calib(p, true, i);
	feed(p, P "{\"t\":\"done\",\"status\":0}\n");
	proto_finish(p);
}

Test(proto_hostile, spacing_flood_over_two_groups_fails_the_run)
{
	struct proto_parser g1, g2;
	char err[200] = "";
	json_t *side = json_object();

	group_output(&g1);
	cr_assert_eq(g1.nerrors, 0, "%s", g1.error);
	cr_assert_eq(json_array_size(g1.calib), 64);
	cr_assert_eq(calib_add_records(side, g1.calib, 2e9, err, sizeof(err)), -E2BIG);
	cr_assert_str_eq(err, "calib records: kind pio would have 63 spacing points, at most 16");
	cr_assert_eq(json_object_size(side), 0, "a refused run added records");
	group_output(&g2);
	cr_assert_eq(calib_add_records(side, g2.calib, 2e9, err, sizeof(err)), -E2BIG);

	/* within the bound, over two groups: 8 points each */
	json_t *few = json_array();
	for (size_t i = 0; i < 9; i++)
		json_array_append(few, json_array_get(g1.calib, i));
	cr_assert_eq(calib_add_records(side, few, 2e9, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(calib_add_records(side, few, 2e9, err, sizeof(err)), 0, "%s", err);
	json_t *sp = json_object_get(json_object_get(side, "pio"), "spacing");
	cr_assert_eq(json_array_size(sp), 16);
	for (size_t i = 1; i < json_array_size(sp); i++)
		cr_assert_leq(
		    json_number_value(json_object_get(json_array_get(sp, i - 1), "gap_ns")),
		    json_number_value(json_object_get(json_array_get(sp, i), "gap_ns")));
	/* a 17th point is refused */
	cr_assert_eq(calib_add_records(side, few, 2e9, err, sizeof(err)), -E2BIG);
	json_decref(few);
	json_decref(side);
	proto_release(&g1);
	proto_release(&g2);
}

Test(proto_hostile, huge_iters_fail_the_run)
{
	const char *bad[] = {
	    P "{\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"iters\":9223372036854775807,"
	      "\"ticks\":[1]}\n",
	    P "{\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"iters\":4611686018427387904,"
	      "\"ticks\":[1,2,3]}\n",
	    P "{\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"iters\":1099511627777,"
	      "\"ticks\":[1]}\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct proto_parser p;
		proto_init(&p);
		feed(&p, bad[i]);
		proto_finish(&p);
		cr_assert_eq(p.nerrors, 1, "%s", bad[i]);
		cr_assert_str_eq(
		    p.error, "line 1: calib record: \"iters\" must be an integer from 1 to 2^40");
		cr_assert_eq(json_array_size(p.calib), 0);
		proto_release(&p);
	}
	/* the largest accepted value converts and multiplies without overflow */
	json_t *rec = json_pack("{s:s,s:s,s:b,s:I,s:[I,I,I]}", "t", "calib", "kind", "pio", "ok", 1,
				"iters", CALIB_MAX_ITERS, "ticks", (json_int_t)1 << 62,
				(json_int_t)1 << 62, (json_int_t)1 << 62);
	const char *why = NULL;
	cr_assert_eq(calib_record_check(rec, &why), 0, "%s", why);
	json_t *k = calib_kind_json(rec, 2e9);
	cr_assert_eq(json_integer_value(json_object_get(k, "ops")), 3 * CALIB_MAX_ITERS);
	json_decref(k);
	json_decref(rec);
}

Test(proto_hostile, exception_flood_keeps_little_and_fails_the_run, .timeout = 60)
{
	struct proto_parser p;
	/* ~4 KiB records of empty objects: jansson's objects are ~100x their text */
	size_t nobj = (PROTO_MAX_LINE - 64) / 3;
	char *line = malloc(PROTO_MAX_LINE + 2);
	size_t n = (size_t)snprintf(line, PROTO_MAX_LINE, P "{\"t\":\"exception\",\"a\":[{}");
	for (size_t i = 1; i < nobj; i++)
		memcpy(line + n, ",{}", 3), n += 3;
	memcpy(line + n, "]}\n", 4);
	n += 3;
	cr_assert_leq(n - 1, PROTO_MAX_LINE);
	proto_init(&p);
	for (size_t fed = 0; fed < (16u << 20); fed += n)
		proto_feed(&p, line, n);
	proto_finish(&p);
	cr_assert_geq(p.nerrors, 1); /* the first one is the reason */
	cr_assert(strstr(p.error, "more than 4194304 bytes of records (a flood)"), "%s", p.error);
	cr_assert_null(strchr(p.error, '\n'));
	cr_assert(p.have_exception);
	/* what is kept: scalar copies, within the message bounds */
	cr_assert_leq(json_array_size(p.records_log), PROTO_MAX_MESSAGES);
	cr_assert_leq(p.message_bytes, PROTO_MAX_MESSAGE_BYTES);
	cr_assert_gt(p.messages_dropped, 0);
	json_t *m = json_array_get(p.records_log, 0);
	cr_assert_str_eq(json_string_value(json_object_get(m, "t")), "exception");
	cr_assert_null(json_object_get(m, "a"), "a nested array was kept");
	cr_assert(json_is_true(json_object_get(m, "truncated")));
	json_t *j = proto_to_json(&p);
	char *dump = json_dumps(j, JSON_COMPACT);
	cr_assert_lt(strlen(dump), 64u << 10, "%zu bytes kept", strlen(dump));
	free(dump);
	json_decref(j);
	proto_release(&p);
	free(line);
}

Test(proto_hostile, other_bounds)
{
	struct proto_parser p;

	proto_init(&p); /* 2^32 must not become status 0 */
	feed(&p, P "{\"t\":\"done\",\"status\":4294967296}\n");
	cr_assert_eq(p.nerrors, 1);
	cr_assert_not(p.have_done);
	proto_release(&p);

	proto_init(&p); /* calib records beyond 64 are an error, not silently dropped */
	for (int i = 0; i < 65; i++)
		feed_calib(&p, false, 0);
	cr_assert_eq(p.nerrors, 1);
	cr_assert(strstr(p.error, "line 65: more than 64 calib records"), "%s", p.error);
	proto_release(&p);

	proto_init(&p); /* kept bytes: 4 KiB params with distinct keys */
	char line[PROTO_MAX_LINE + 2], val[PROTO_MAX_LINE - 100];
	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = 0;
	for (int i = 0; i < 400; i++) {
		snprintf(line, sizeof(line), P "{\"t\":\"param\",\"k\":\"k%d\",\"v\":\"%s\"}\n", i,
			 val);
		feed(&p, line);
	}
	cr_assert_geq(p.nerrors, 1);
	cr_assert(strstr(p.error, "records to keep exceed 1048576 bytes"), "%s", p.error);
	cr_assert_leq(p.kept_bytes, PROTO_MAX_KEPT_BYTES);
	proto_release(&p);

	proto_init(&p); /* a message keeps scalars, strings cut at a character boundary */
	char msg[2000];
	for (size_t i = 0; i + 2 < sizeof(msg); i += 2)
		memcpy(msg + i, "\xc3\xa9", 2); /* e-acute */
	msg[sizeof(msg) - 2] = 0;
	snprintf(line, sizeof(line), P "{\"t\":\"log\",\"msg\":\"%s\",\"o\":{\"x\":1},\"n\":5}\n",
		 msg);
	feed(&p, line);
	cr_assert_eq(p.nerrors, 0, "%s", p.error);
	json_t *m = json_array_get(p.records_log, 0);
	cr_assert_eq(json_string_length(json_object_get(m, "msg")), PROTO_MAX_FIELD_BYTES);
	cr_assert_eq(json_integer_value(json_object_get(m, "n")), 5);
	cr_assert_null(json_object_get(m, "o"));
	proto_release(&p);
}

/* Found by fuzz_proto (2026-12-03 campaign): a calib record's arrays were kept
 * whole where calib_record_check had not read them: "base_ticks" of a record
 * whose "spacing" is not true, "ticks" of an unavailable record, any array in
 * "how" or "reason". Each of these may be ~1,300 empty objects (~100x its text
 * in jansson objects). Kept now: only the checked arrays. */
Test(proto_hostile, calib_arrays_are_kept_only_where_checked)
{
	struct proto_parser p;
	char objs[1801], line[PROTO_MAX_LINE + 2];
	size_t n = 0;

	for (int i = 0; i < 600; i++)
		n += (size_t)snprintf(objs + n, sizeof(objs) - n, i ? ",{}" : "{}");
	proto_init(&p);
	snprintf(line, sizeof(line),
		 P "{\"t\":\"calib\",\"kind\":\"pio\",\"ok\":true,\"iters\":16,\"ticks\":[5,6,7],"
		   "\"spacing\":4611686018427387904,\"base_ticks\":[%s],\"how\":[%s]}\n",
		 objs, objs);
	feed(&p, line);
	snprintf(line, sizeof(line),
		 P "{\"t\":\"calib\",\"kind\":\"msr\",\"ok\":false,\"reason\":\"no MSR\","
		   "\"ticks\":[%s],\"base_ticks\":[%s]}\n",
		 objs, objs);
	feed(&p, line);
	proto_finish(&p);
	cr_assert_eq(p.nerrors, 0, "%s", p.error);
	cr_assert_eq(json_array_size(p.calib), 2);
	json_t *ok = json_array_get(p.calib, 0), *no = json_array_get(p.calib, 1);
	/* the checked array stays, the rest of the fields are scalars or absent */
	cr_assert_eq(json_array_size(json_object_get(ok, "ticks")), 3);
	cr_assert_null(json_object_get(ok, "base_ticks"));
	cr_assert_null(json_object_get(ok, "how"));
	cr_assert_eq(json_integer_value(json_object_get(ok, "spacing")), 4611686018427387904LL);
	cr_assert_str_eq(json_string_value(json_object_get(no, "reason")), "no MSR");
	cr_assert_null(json_object_get(no, "ticks"));
	cr_assert_null(json_object_get(no, "base_ticks"));
	/* and a spacing record keeps its checked base_ticks */
	proto_release(&p);
	proto_init(&p);
	feed_calib(&p, true, 3);
	proto_finish(&p);
	cr_assert_eq(json_array_size(json_object_get(json_array_get(p.calib, 0), "base_ticks")), 3);
	proto_release(&p);
}
