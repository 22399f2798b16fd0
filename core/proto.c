/*
 * The one parser for the line protocol spoken by both the bare-metal runner
 * and the guest agent (see proto.h for why, protocol.h for the format).
 */
#include "core/proto.h"
#include "core/calib.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "virttax/protocol.h"

#define PREFIX_LEN (sizeof(VTX_PROTO_PREFIX) - 1)

void proto_init(struct proto_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->line_no = 1;
	p->params = json_object();
	p->metrics = json_array();
	p->calib = json_array();
	p->records_log = json_array();
	p->log = json_array();
	p->done_status = -1;
}

void proto_release(struct proto_parser *p)
{
	json_decref(p->hello);
	json_decref(p->params);
	json_decref(p->metrics);
	json_decref(p->calib);
	json_decref(p->records_log);
	json_decref(p->log);
	memset(p, 0, sizeof(*p));
}

static void proto_error(struct proto_parser *p, const char *what)
{
	if (p->nerrors++ == 0)
		snprintf(p->error, sizeof(p->error), "line %zu: %s", p->line_no, what);
}

static void keep_log_line(struct proto_parser *p, const char *s, size_t len)
{
	if (json_array_size(p->log) >= PROTO_MAX_LOG_LINES ||
	    p->log_bytes + len > PROTO_MAX_LOG_BYTES) {
		p->log_dropped++;
		return;
	}
	json_t *str = json_stringn(s, len);
	if (!str) {
		/* a guest may print invalid UTF-8: keep it sanitised rather than drop it */
		char clean[PROTO_MAX_LINE + 1];
		size_t n = 0;
		for (size_t i = 0; i < len && n < sizeof(clean) - 1; i++)
			clean[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
		str = json_stringn(clean, n);
	}
	json_array_append_new(p->log, str);
	p->log_bytes += len;
}

static bool is_number(const json_t *v)
{
	return json_is_integer(v) || json_is_real(v);
}

/* Account `len` bytes of a record about to be kept; false (and a protocol
 * error) when the parser already keeps PROTO_MAX_KEPT_BYTES. */
static bool keep_bytes(struct proto_parser *p, size_t len)
{
	if (p->kept_bytes + len > PROTO_MAX_KEPT_BYTES) {
		proto_error(p,
			    "records to keep exceed 1048576 bytes (hello, param, metric, calib)");
		return false;
	}
	p->kept_bytes += len;
	return true;
}

/* A scalar member as kept: strings cut to PROTO_MAX_FIELD_BYTES; NULL for
 * arrays and objects. */
static json_t *scalar(json_t *v, bool *cut)
{
	if (json_is_string(v) && json_string_length(v) > PROTO_MAX_FIELD_BYTES) {
		const char *s = json_string_value(v);
		size_t n = PROTO_MAX_FIELD_BYTES;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--; /* cut at a UTF-8 character boundary */
		*cut = true;
		return json_stringn(s, n);
	}
	if (json_is_array(v) || json_is_object(v)) {
		*cut = true;
		return NULL;
	}
	return json_incref(v);
}

/* Up to PROTO_MAX_FIELDS scalar members of `rec`; "truncated":true when
 * something was left out or cut. */
static json_t *scalar_copy(json_t *rec)
{
	json_t *o = json_object(), *v;
	const char *k;
	bool cut = false;
	json_object_foreach(rec, k, v)
	{
		json_t *c;
		if (json_object_size(o) >= PROTO_MAX_FIELDS) {
			cut = true;
			break;
		}
		if ((c = scalar(v, &cut)))
			json_object_set_new(o, k, c);
	}
	if (cut)
		json_object_set_new(o, "truncated", json_true());
	return o;
}

/* log/error/exception: the first PROTO_MAX_MESSAGES, within
 * PROTO_MAX_MESSAGE_BYTES, are kept; the rest are counted. */
static void keep_message(struct proto_parser *p, json_t *rec, size_t len)
{
	if (json_array_size(p->records_log) >= PROTO_MAX_MESSAGES ||
	    p->message_bytes + len > PROTO_MAX_MESSAGE_BYTES) {
		p->messages_dropped++;
		return;
	}
	p->message_bytes += len;
	json_array_append_new(p->records_log, scalar_copy(rec));
}

static int check_metric(json_t *rec, const char **why)
{
	const char *better = json_string_value(json_object_get(rec, "better"));
	if (!json_is_string(json_object_get(rec, "m")) ||
	    !json_is_string(json_object_get(rec, "u")))
		return *why = "metric record without string \"m\" and \"u\"", -1;
	if (!is_number(json_object_get(rec, "v")))
		return *why = "metric record without numeric \"v\"", -1;
	if (!better || (strcmp(better, "lower") && strcmp(better, "higher")))
		return *why = "metric record: \"better\" must be \"lower\" or \"higher\"", -1;
	json_t *xk = json_object_get(rec, "xk");
	if (xk && (!json_is_string(xk) || !is_number(json_object_get(rec, "x"))))
		return *why = "metric record: \"xk\" needs a string key and a numeric \"x\"", -1;
	return 0;
}

static void on_metric(struct proto_parser *p, json_t *rec, size_t len)
{
	const char *why = NULL;
	if (check_metric(rec, &why)) {
		proto_error(p, why);
		return;
	}
	if (!keep_bytes(p, len))
		return;
	json_t *m = json_pack("{s:O,s:O,s:O,s:O}", "m", json_object_get(rec, "m"), "u",
			      json_object_get(rec, "u"), "better", json_object_get(rec, "better"),
			      "v", json_object_get(rec, "v"));
	if (json_object_get(rec, "xk")) {
		json_object_set(m, "xk", json_object_get(rec, "xk"));
		json_object_set(m, "x", json_object_get(rec, "x"));
		json_t *xu = json_object_get(rec, "xu");
		json_object_set_new(m, "xu",
				    json_is_string(xu) ? json_incref(xu) : json_string(""));
	}
	if (json_is_string(json_object_get(rec, "wl")))
		json_object_set(m, "wl", json_object_get(rec, "wl"));
	json_array_append_new(p->metrics, m);
}

static void on_param(struct proto_parser *p, json_t *rec, size_t len)
{
	const char *k = json_string_value(json_object_get(rec, "k"));
	json_t *v = json_object_get(rec, "v");
	if (!k || !json_is_string(v)) {
		proto_error(p, "param record without string \"k\" and \"v\"");
		return;
	}
	if (keep_bytes(p, len))
		json_object_set(p->params, k, v);
}

static void on_done(struct proto_parser *p, json_t *rec)
{
	json_t *st = json_object_get(rec, "status");
	if (!json_is_integer(st) || json_integer_value(st) < INT_MIN ||
	    json_integer_value(st) > INT_MAX) {
		/* 2^32 must not become status 0 */
		proto_error(p, "done record without an integer \"status\" in the range of int");
		return;
	}
	if (p->have_done)
		proto_error(p, "second done record");
	p->have_done = true;
	p->done_status = (int)json_integer_value(st);
}

static void on_error_record(struct proto_parser *p, json_t *rec, size_t len)
{
	const char *msg = json_string_value(json_object_get(rec, "msg"));
	if (!p->wl_error[0])
		snprintf(p->wl_error, sizeof(p->wl_error), "%s", msg ? msg : "(no message)");
	keep_message(p, rec, len);
}

static void on_hello(struct proto_parser *p, json_t *rec, size_t len)
{
	if (p->hello)
		proto_error(p, "second hello record");
	else if (keep_bytes(p, len))
		p->hello = scalar_copy(rec);
}

/* The fields core/calib.c reads, validated by calib_record_check: nothing
 * else of the record is kept. The two arrays only where the check read them
 * (ticks of an ok record, base_ticks of an ok spacing record): elsewhere they
 * could be anything, e.g. 1,300 empty objects (found by fuzz_proto). */
static void on_calib(struct proto_parser *p, json_t *rec, size_t len)
{
	static const char *const fields[] = {"t",	  "kind",      "ok",	"how",
					     "reason",	  "iters",     "ticks", "spacing",
					     "gap_units", "base_ticks"};
	bool ok = json_is_true(json_object_get(rec, "ok"));
	bool spacing = ok && json_is_true(json_object_get(rec, "spacing"));
	const char *why = NULL;
	if (calib_record_check(rec, &why)) {
		proto_error(p, why);
		return;
	}
	if (json_array_size(p->calib) >= CALIB_MAX_KINDS) {
		proto_error(p, "more than 64 calib records");
		return;
	}
	if (!keep_bytes(p, len))
		return;
	json_t *c = json_object();
	bool cut = false;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *v = json_object_get(rec, fields[i]);
		if (json_is_array(v)) {
			if ((ok && !strcmp(fields[i], "ticks")) ||
			    (spacing && !strcmp(fields[i], "base_ticks")))
				json_object_set_new(c, fields[i], json_deep_copy(v));
		} else if (v && (v = scalar(v, &cut)))
			json_object_set_new(c, fields[i], v);
	}
	json_array_append_new(p->calib, c);
}

static void dispatch(struct proto_parser *p, json_t *rec, size_t len)
{
	const char *t = json_string_value(json_object_get(rec, "t"));
	if (!t)
		proto_error(p, "record without string \"t\"");
	else if (!strcmp(t, "metric"))
		on_metric(p, rec, len);
	else if (!strcmp(t, "param"))
		on_param(p, rec, len);
	else if (!strcmp(t, "done"))
		on_done(p, rec);
	else if (!strcmp(t, "error"))
		on_error_record(p, rec, len);
	else if (!strcmp(t, "hello"))
		on_hello(p, rec, len);
	else if (!strcmp(t, "exception")) {
		p->have_exception = true;
		keep_message(p, rec, len);
	} else if (!strcmp(t, "calib"))
		on_calib(p, rec, len);
	else if (!strcmp(t, "log"))
		keep_message(p, rec, len);
	else
		proto_error(p, "unknown record type");
}

static void process_record(struct proto_parser *p, const char *json, size_t len)
{
	if (++p->nrecords > PROTO_MAX_RECORDS) {
		if (p->nrecords == PROTO_MAX_RECORDS + 1)
			proto_error(p, "too many records");
		return;
	}
	p->record_bytes += len;
	if (p->record_bytes > PROTO_MAX_RECORD_BYTES) {
		if (p->record_bytes - len <= PROTO_MAX_RECORD_BYTES)
			proto_error(p, "more than 4194304 bytes of records (a flood): the rest is "
				       "not parsed");
		return;
	}
	json_error_t err;
	json_t *rec = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (!json_is_object(rec)) {
		char what[200];
		snprintf(what, sizeof(what), "malformed record: %s",
			 rec ? "not a JSON object" : err.text);
		proto_error(p, what);
	} else {
		dispatch(p, rec, len);
	}
	json_decref(rec);
}

static void process_line(struct proto_parser *p)
{
	char *s = p->line;
	size_t len = p->line_len;
	if (len && s[len - 1] == '\r')
		len--; /* serial consoles may send CRLF */
	bool prefixed = len >= PREFIX_LEN && !memcmp(s, VTX_PROTO_PREFIX, PREFIX_LEN);
	if (prefixed && p->line_overflow)
		proto_error(p, "record longer than the line limit");
	else if (prefixed)
		process_record(p, s + PREFIX_LEN, len - PREFIX_LEN);
	else
		keep_log_line(p, s, len);
	p->line_len = 0;
	p->line_overflow = false;
	p->line_no++;
}

void proto_feed(struct proto_parser *p, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			process_line(p);
			continue;
		}
		if (p->line_len < PROTO_MAX_LINE)
			p->line[p->line_len++] = buf[i];
		else
			p->line_overflow = true;
	}
}

void proto_finish(struct proto_parser *p)
{
	if (p->line_len || p->line_overflow)
		process_line(p);
}

json_t *proto_to_json(const struct proto_parser *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "records", json_integer((json_int_t)p->nrecords));
	json_object_set_new(o, "protocol_errors", json_integer((json_int_t)p->nerrors));
	if (p->nerrors)
		json_object_set_new(o, "protocol_error", json_string(p->error));
	json_object_set_new(o, "done_status",
			    p->have_done ? json_integer(p->done_status) : json_null());
	json_object_set(o, "messages", p->records_log);
	if (json_array_size(p->calib))
		json_object_set(o, "calib", p->calib);
	json_object_set(o, "console", p->log);
	json_object_set_new(o, "console_dropped_lines", json_integer((json_int_t)p->log_dropped));
	json_object_set_new(o, "messages_dropped", json_integer((json_int_t)p->messages_dropped));
	json_object_set_new(o, "record_bytes", json_integer((json_int_t)p->record_bytes));
	return o;
}
