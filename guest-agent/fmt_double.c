/*
 * Doubles as JSON numbers, without libc: six significant digits as %.6g
 * prints them, integral values in [1e6, 2^53) exactly (e.g. a working-set
 * size), NaN and infinities as null.
 *
 * Why a file of its own: everything else in the agent is built without SSE
 * (it may run under PVM's instruction emulator, which has none); this unit
 * and runtime.c are the only agent code that touches floating point. Pure
 * code: also compiled hosted by tests/integration/test_agent_units.c.
 */
#include "guest-agent/agent.h"

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

void ag_rec_double(struct ag_line *l, const char *key, double val)
{
	ag_line_char(l, ',');
	ag_line_json_str(l, key);
	ag_line_char(l, ':');
	ag_line_double(l, val);
}
