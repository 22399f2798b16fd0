/*
 * The agent's command line: agent options, ignored loader tokens and the
 * workload's KEY=VALUE parameters (docs/INTERFACES.md section 3).
 *
 * Why: the command line is the only input a guest gets, and a typo there
 * must fail loudly (error record, exit 2) instead of silently running with a
 * default. Pure code, tokenized in place: also compiled hosted by
 * tests/integration/test_agent_cmdline.c.
 */
#include "guest-agent/agent.h"

/* Runtime options: handled here, and passed to wl_cmdline_resolve() so that
 * the shared parser does not take them for workload keys. Loader tokens
 * (virtio_mmio.device=, console=, ...) are accepted and ignored. */
const char *const ag_option_keys[] = {
    "pagesize",	   "tsc_khz", "pvm.*", "vtx.*", "virtio_mmio.*", "console", "earlycon",
    "earlyprintk", "reboot",  "panic", NULL,
};
static const char *const selftests[] = {"fault",  "hang",     "garbage",    "badproto", "virtq-bad",
					"pvmirq", "lost-irq", "hlt-window", NULL};
/* vtx.tsc=: tsc.c's sources (the hello record's tsc_src), or all of them */
static const char *const tsc_sources[] = {"auto", "cmdline", "pvm-msr", "cpuid", "pit", NULL};

size_t ag_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

bool ag_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

void ag_strlcat(char *dst, size_t cap, const char *src)
{
	size_t n = ag_strlen(dst);
	while (*src && n + 1 < cap)
		dst[n++] = *src++;
	if (n < cap)
		dst[n] = 0;
}

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (ag_streq(*list, s))
			return true;
	return false;
}

static bool has_prefix(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	return true;
}

static int fail(struct ag_options *o, const char *what, const char *token)
{
	if (!o->err[0]) {
		ag_strlcat(o->err, sizeof(o->err), what);
		ag_strlcat(o->err, sizeof(o->err), token);
	}
	return -AG_EINVAL;
}

/* "0x" and 1..8 hex digits */
static int parse_u64_hex(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -AG_EINVAL;
	for (s += 2; *s; s++, n++) {
		int d = *s >= '0' && *s <= '9'	 ? *s - '0'
			: *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
			: *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
						 : -1;
		if (d < 0 || n >= 8)
			return -AG_EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return n ? 0 : -AG_EINVAL;
}

static int parse_u64_dec(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return -AG_EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -AG_EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static int option_pagesize(struct ag_options *o, const char *v)
{
	if (ag_streq(v, "4k"))
		o->pagesize = AG_PAGE_4K;
	else if (ag_streq(v, "2m"))
		o->pagesize = AG_PAGE_2M;
	else
		return fail(o, "pagesize must be 4k or 2m, got ", v);
	return 0;
}

static int option_namespaced(struct ag_options *o, const char *k, const char *v)
{
	if (ag_streq(k, "pvm.vif")) {
		if (!ag_streq(v, "1") && !ag_streq(v, "0"))
			return fail(o, "pvm.vif must be 0 or 1, got ", v);
		o->vif = ag_streq(v, "1");
	} else if (ag_streq(k, "vtx.selftest")) {
		if (!in_list(selftests, v))
			return fail(o, "unknown selftest: ", v);
		o->selftest = v;
	} else if (ag_streq(k, "vtx.regions")) {
		if (!ag_streq(v, "1") && !ag_streq(v, "0"))
			return fail(o, "vtx.regions must be 0 or 1, got ", v);
		o->no_regions = ag_streq(v, "0");
	} else if (ag_streq(k, "vtx.umsr")) {
		uint64_t m;
		if (parse_u64_hex(v, &m) || m == 0 || m > 0xffffffffu)
			return fail(o, "vtx.umsr must be an MSR number like 0x35, got ", v);
		o->umsr = (uint32_t)m;
	} else if (ag_streq(k, "vtx.hold")) {
		if (parse_u64_dec(v, &o->hold_ms) || o->hold_ms > AG_HOLD_MAX_MS)
			return fail(o, "vtx.hold must be milliseconds 0..60000, got ", v);
	} else if (ag_streq(k, "vtx.tsc")) {
		if (!in_list(tsc_sources, v))
			return fail(o, "vtx.tsc must be auto, cmdline, pvm-msr, cpuid or pit, got ",
				    v);
		o->tsc_src = v;
	} else if (has_prefix(k, "pvm.") || has_prefix(k, "vtx.")) {
		return fail(o, "unknown agent option: ", k);
	}
	return 0;
}

/* One KEY=VALUE token (already split); everything not an agent option is
 * left to the shared workload parser. */
static int parse_token(struct ag_options *o, const char *k, const char *v)
{
	if (ag_streq(k, "pagesize"))
		return option_pagesize(o, v);
	if (ag_streq(k, "tsc_khz")) {
		if (parse_u64_dec(v, &o->tsc_khz) || o->tsc_khz == 0)
			return fail(o, "bad tsc_khz: ", v);
		return 0;
	}
	return option_namespaced(o, k, v);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int ag_cmdline_parse(const char *line, struct ag_options *o)
{
	int rc = 0;
	*o = (struct ag_options){0};
	o->pagesize = AG_PAGE_2M;
	size_t n = 0;
	while (line[n] && n + 1 < sizeof(o->store)) {
		o->store[n] = line[n];
		n++;
	}
	o->store[n] = 0;
	if (line[n])
		rc = fail(o, "command line too long", "");
	char *p = o->store;
	while (*p) {
		while (is_space(*p))
			p++;
		char *tok = p, *eq = NULL;
		while (*p && !is_space(*p)) {
			if (*p == '=' && !eq)
				eq = p;
			p++;
		}
		if (*p)
			*p++ = 0;
		if (!eq || eq == tok)
			continue; /* not KEY=VALUE: the workload parser reports it */
		*eq = 0;
		int trc = parse_token(o, tok, eq + 1);
		if (trc && !rc)
			rc = trc;
	}
	return rc;
}
