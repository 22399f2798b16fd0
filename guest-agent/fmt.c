/*
 * Text formatting for protocol records, without libc.
 *
 * Why: the agent has no printf, yet every result leaves the guest as text:
 * JSON strings must be escaped, integers printed exactly and doubles with six
 * significant digits (as %.6g does; integral values below 2^53 exactly, e.g.
 * a working-set size) or as JSON null when not finite. Records
 * are built whole in memory so that each one costs a single burst of UART
 * writes. Pure code: also compiled hosted by tests/integration/test_agent_fmt.c.
 */
#include "guest-agent/agent.h"
#include "virttax/protocol.h"

void ag_line_init(struct ag_line *l)
{
	l->len = 0;
	l->overflow = false;
	l->buf[0] = 0;
}

void ag_line_char(struct ag_line *l, char c)
{
	if (l->len + 1 >= AG_LINE_MAX) {
		l->overflow = true;
		return;
	}
	l->buf[l->len++] = c;
	l->buf[l->len] = 0;
}

void ag_line_raw(struct ag_line *l, const char *s)
{
	while (*s)
		ag_line_char(l, *s++);
}

static void line_hex_escape(struct ag_line *l, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	ag_line_raw(l, "\\u00");
	ag_line_char(l, hex[c >> 4]);
	ag_line_char(l, hex[c & 15]);
}

/* Bytes >= 0x7f are escaped as \u00XX (read as Latin-1) so that any input,
 * even invalid UTF-8, yields valid JSON. */
void ag_line_json_str(struct ag_line *l, const char *s)
{
	ag_line_char(l, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			ag_line_char(l, '\\');
			ag_line_char(l, (char)c);
		} else if (c == '\n') {
			ag_line_raw(l, "\\n");
		} else if (c == '\t') {
			ag_line_raw(l, "\\t");
		} else if (c < 0x20 || c >= 0x7f) {
			line_hex_escape(l, c);
		} else {
			ag_line_char(l, (char)c);
		}
	}
	ag_line_char(l, '"');
}

size_t ag_fmt_u64(char *out, size_t cap, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (cap == 0)
		return 0;
	if (n >= cap)
		n = cap - 1;
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = 0;
	return n;
}

void ag_line_u64(struct ag_line *l, uint64_t v)
{
	char tmp[24];
	ag_fmt_u64(tmp, sizeof(tmp), v);
	ag_line_raw(l, tmp);
}

void ag_line_i64(struct ag_line *l, int64_t v)
{
	if (v < 0) {
		ag_line_char(l, '-');
		ag_line_u64(l, (uint64_t)0 - (uint64_t)v);
		return;
	}
	ag_line_u64(l, (uint64_t)v);
}

/* Scale a (> 0, finite) into [1e5, 1e6); returns the power of ten removed. */
static int scale_to_six_digits(double *a)
{
	int e = 0;
	while (*a >= 1e22) {
		*a /= 1e16;
		e += 16;
	}
	while (*a >= 1e6) {
		*a /= 10;
		e++;
	}
	while (*a < 1e-11) {
		*a *= 1e16;
		e -= 16;
	}
	while (*a < 1e5) {
		*a *= 10;
		e--;
	}
	return e;
}

struct out_buf {
	char *p;
	size_t cap, len;
};

static void out_c(struct out_buf *o, char c)
{
	if (o->len + 1 < o->cap)
		o->p[o->len++] = c;
}

static void out_s(struct out_buf *o, const char *s)
{
	while (*s)
		out_c(o, *s++);
}

/* digits d[0..n) with the decimal point after `intlen` digits (intlen may
 * be <= 0: leading zeros after "0.") */
static void out_fixed(struct out_buf *o, const char *d, int n, int intlen)
{
	int i;
	if (intlen <= 0) {
		out_s(o, "0.");
		for (i = intlen; i < 0; i++)
			out_c(o, '0');
		for (i = 0; i < n; i++)
			out_c(o, d[i]);
		return;
	}
	for (i = 0; i < intlen; i++)
		out_c(o, i < n ? d[i] : '0');
	if (n > intlen) {
		out_c(o, '.');
		for (i = intlen; i < n; i++)
			out_c(o, d[i]);
	}
}

static void out_exp(struct out_buf *o, const char *d, int n, int x)
{
	char tmp[8];
	out_c(o, d[0]);
	if (n > 1) {
		out_c(o, '.');
		for (int i = 1; i < n; i++)
			out_c(o, d[i]);
	}
	out_c(o, 'e');
	out_c(o, x < 0 ? '-' : '+');
	unsigned ux = (unsigned)(x < 0 ? -x : x);
	if (ux < 10)
		out_c(o, '0');
	ag_fmt_u64(tmp, sizeof(tmp), ux);
	out_s(o, tmp);
}

size_t ag_fmt_double(char *out, size_t cap, double v)
{
	struct out_buf o = {out, cap, 0};
	char d[7];
	if (v != v || v - v != 0) {
		out_s(&o, "null");
	} else {
		if (__builtin_signbit(v)) {
			out_c(&o, '-');
			v = -v;
		}
		if (v >= 1e6 && v < 9007199254740992.0 && v == (double)(uint64_t)v) {
			char tmp[24];
			ag_fmt_u64(tmp, sizeof(tmp), (uint64_t)v);
			out_s(&o, tmp);
		} else if (v == 0) {
			out_c(&o, '0');
		} else {
			int e = scale_to_six_digits(&v);
			uint64_t m = (uint64_t)(v + 0.5);
			if (m >= 1000000) {
				m /= 10;
				e++;
			}
			ag_fmt_u64(d, sizeof(d), m);
			int n = 6;
			while (n > 1 && d[n - 1] == '0')
				n--;
			int x = e + 5; /* exponent of the leading digit */
			if (x < -4 || x >= 6)
				out_exp(&o, d, n, x);
			else
				out_fixed(&o, d, n, x + 1);
		}
	}
	if (cap)
		out[o.len] = 0;
	return o.len;
}

void ag_line_double(struct ag_line *l, double v)
{
	char tmp[32];
	ag_fmt_double(tmp, sizeof(tmp), v);
	ag_line_raw(l, tmp);
}

void ag_rec_begin(struct ag_line *l, const char *type)
{
	ag_line_init(l);
	ag_line_raw(l, VTX_PROTO_PREFIX "{\"t\":");
	ag_line_json_str(l, type);
}

static void rec_key(struct ag_line *l, const char *key)
{
	ag_line_char(l, ',');
	ag_line_json_str(l, key);
	ag_line_char(l, ':');
}

void ag_rec_str(struct ag_line *l, const char *key, const char *val)
{
	rec_key(l, key);
	ag_line_json_str(l, val);
}

void ag_rec_u64(struct ag_line *l, const char *key, uint64_t val)
{
	rec_key(l, key);
	ag_line_u64(l, val);
}

void ag_rec_i64(struct ag_line *l, const char *key, int64_t val)
{
	rec_key(l, key);
	ag_line_i64(l, val);
}

void ag_rec_double(struct ag_line *l, const char *key, double val)
{
	rec_key(l, key);
	ag_line_double(l, val);
}

const char *ag_rec_end(struct ag_line *l)
{
	ag_line_raw(l, "}\n");
	if (l->overflow) {
		ag_rec_begin(l, "log");
		ag_rec_str(l, "msg", "record too long for the agent's line buffer, dropped");
		ag_line_raw(l, "}\n");
	}
	return l->buf;
}
