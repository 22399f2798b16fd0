/*
 * Unit tests of the line-protocol parser (harness/proto.c): records, free-form
 * lines, malformed records, chunked input and every bound.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/proto.h"
#include "virttax/protocol.h"

#define P VTX_PROTO_PREFIX

static void feed_str(struct proto_parser *p, const char *s)
{
	proto_feed(p, s, strlen(s));
}

Test(proto, full_run_records)
{
	struct proto_parser p;
	proto_init(&p);
	feed_str(&p,
		 "boot chatter\n" P
		 "{\"t\":\"hello\",\"proto\":1,\"side\":\"vm\",\"tsc_khz\":2596000}\n" P
		 "{\"t\":\"param\",\"k\":\"iters\",\"v\":\"10\"}\n" P
		 "{\"t\":\"metric\",\"wl\":\"noop\",\"m\":\"tsc_read\",\"u\":\"ns\",\"better\":"
		 "\"lower\",\"v\":12.5}\n" P
		 "{\"t\":\"metric\",\"m\":\"latency\",\"u\":\"ns\",\"better\":\"lower\",\"v\":3,"
		 "\"xk\":\"wss\",\"xu\":\"B\",\"x\":16384}\n" P "{\"t\":\"done\",\"status\":0}\n");
	proto_finish(&p);
	cr_assert_eq(p.nerrors, 0, "unexpected error: %s", p.error);
	cr_assert(p.have_done);
	cr_assert_eq(p.done_status, 0);
	cr_assert_eq(json_integer_value(json_object_get(p.hello, "tsc_khz")), 2596000);
	cr_assert_str_eq(json_string_value(json_object_get(p.params, "iters")), "10");
	cr_assert_eq(json_array_size(p.metrics), 2);
	json_t *m1 = json_array_get(p.metrics, 1);
	cr_assert_eq(json_number_value(json_object_get(m1, "x")), 16384.0);
	cr_assert_str_eq(json_string_value(json_object_get(m1, "xu")), "B");
	cr_assert_eq(json_array_size(p.log), 1);
	cr_assert_str_eq(json_string_value(json_array_get(p.log, 0)), "boot chatter");
	proto_release(&p);
}

Test(proto, byte_by_byte_equals_whole)
{
	const char *in =
	    "x\n" P
	    "{\"t\":\"metric\",\"m\":\"a\",\"u\":\"ns\",\"better\":\"higher\",\"v\":1}\r\n" P
	    "{\"t\":\"done\",\"status\":3}";
	struct proto_parser a, b;
	proto_init(&a);
	proto_init(&b);
	feed_str(&a, in);
	for (const char *s = in; *s; s++)
		proto_feed(&b, s, 1);
	proto_finish(&a);
	proto_finish(&b);
	cr_assert_eq(a.nerrors, 0, "%s", a.error);
	cr_assert(json_equal(a.metrics, b.metrics));
	cr_assert_eq(a.done_status, 3, "a final line without newline must be parsed");
	cr_assert_eq(b.done_status, 3);
	proto_release(&a);
	proto_release(&b);
}

Test(proto, malformed_prefixed_lines_are_errors)
{
	const char *bad[] = {
	    P "{not json}\n",
	    P "[1,2]\n",
	    P "{\"no_t\":1}\n",
	    P "{\"t\":\"metric\",\"m\":\"a\",\"u\":\"ns\",\"better\":\"lower\"}\n",
	    P "{\"t\":\"metric\",\"m\":\"a\",\"u\":\"ns\",\"better\":\"sideways\",\"v\":1}\n",
	    P "{\"t\":\"done\"}\n",
	    P "{\"t\":\"bogus\"}\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct proto_parser p;
		proto_init(&p);
		feed_str(&p, "ok line\n");
		feed_str(&p, bad[i]);
		proto_finish(&p);
		cr_assert_eq(p.nerrors, 1, "input %zu should be one protocol error", i);
		cr_assert(strstr(p.error, "line 2:"), "error names the line: %s", p.error);
		proto_release(&p);
	}
}

Test(proto, prefix_not_at_column_zero_is_log)
{
	struct proto_parser p;
	proto_init(&p);
	feed_str(&p, " " P "{garbage\n");
	proto_finish(&p);
	cr_assert_eq(p.nerrors, 0);
	cr_assert_eq(json_array_size(p.log), 1);
	proto_release(&p);
}

Test(proto, log_is_bounded)
{
	struct proto_parser p;
	proto_init(&p);
	for (int i = 0; i < PROTO_MAX_LOG_LINES + 50; i++)
		feed_str(&p, "chatter\n");
	proto_finish(&p);
	cr_assert_eq(json_array_size(p.log), PROTO_MAX_LOG_LINES);
	cr_assert_eq(p.log_dropped, 50);
	cr_assert_eq(p.nerrors, 0);
	proto_release(&p);
}

Test(proto, overlong_lines)
{
	static char big[PROTO_MAX_LINE * 2 + 2];
	struct proto_parser p;
	proto_init(&p);
	memset(big, 'a', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	feed_str(&p, big); /* free-form: kept truncated, not an error */
	cr_assert_eq(p.nerrors, 0);
	cr_assert_eq(json_string_length(json_array_get(p.log, 0)), PROTO_MAX_LINE);
	memcpy(big, P, strlen(P));
	feed_str(&p, big); /* prefixed: an error */
	cr_assert_eq(p.nerrors, 1);
	proto_release(&p);
}

Test(proto, record_count_is_bounded)
{
	struct proto_parser p;
	proto_init(&p);
	for (int i = 0; i < PROTO_MAX_RECORDS + 10; i++)
		feed_str(&p, P "{\"t\":\"log\",\"msg\":\"x\"}\n");
	proto_finish(&p);
	cr_assert_eq(p.nerrors, 1);
	cr_assert(strstr(p.error, "too many records"));
	cr_assert_leq(json_array_size(p.records_log), PROTO_MAX_LOG_LINES);
	proto_release(&p);
}

Test(proto, invalid_utf8_log_is_sanitised)
{
	struct proto_parser p;
	proto_init(&p);
	feed_str(&p, "ab\xff\xfe"
		     "cd\n");
	proto_finish(&p);
	cr_assert_str_eq(json_string_value(json_array_get(p.log, 0)), "ab??cd");
	proto_release(&p);
}

Test(proto, workload_error_and_to_json)
{
	struct proto_parser p;
	proto_init(&p);
	feed_str(&p, P "{\"t\":\"error\",\"wl\":\"noop\",\"msg\":\"unknown key zz\"}\n" P
		       "{\"t\":\"done\",\"status\":2}\n");
	proto_finish(&p);
	cr_assert_str_eq(p.wl_error, "unknown key zz");
	json_t *j = proto_to_json(&p);
	cr_assert_eq(json_integer_value(json_object_get(j, "done_status")), 2);
	cr_assert_eq(json_array_size(json_object_get(j, "messages")), 1);
	json_decref(j);
	proto_release(&p);
}
