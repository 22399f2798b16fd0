/*
 * Text formatting for protocol records, without libc.
 *
 * Why: the agent has no printf, yet every result leaves the guest as text:
 * JSON strings must be escaped and integers printed exactly (doubles: see
 * fmt_double.c). Records
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
