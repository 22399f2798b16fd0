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

/* Tokens loaders append that mean nothing to the agent (key part). */
static const char *const ignored_keys[] = {
	"virtio_mmio.device", "console", "earlycon", "earlyprintk", "reboot", "panic", "quiet",
	NULL,
};
static const char *const selftests[] = {"fault", "hang", "garbage", "badproto", NULL};

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

static int fail(struct ag_options *o, const char *what, const char *token)
{
	if (!o->err[0]) {
		ag_strlcat(o->err, sizeof(o->err), what);
		ag_strlcat(o->err, sizeof(o->err), token);
	}
	return -AG_EINVAL;
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

/* Agent options: 1 when `k` was one, 0 when not, negative on a bad value. */
static int agent_option(struct ag_options *o, const char *k, const char *v)
{
	if (ag_streq(k, "pagesize")) {
		if (ag_streq(v, "4k"))
			o->pagesize = AG_PAGE_4K;
		else if (ag_streq(v, "2m"))
			o->pagesize = AG_PAGE_2M;
		else
			return fail(o, "pagesize must be 4k or 2m, got ", v);
	} else if (ag_streq(k, "tsc_khz")) {
		if (parse_u64_dec(v, &o->tsc_khz) || o->tsc_khz == 0)
			return fail(o, "bad tsc_khz: ", v);
	} else if (ag_streq(k, "pvm.vif")) {
		if (!ag_streq(v, "1") && !ag_streq(v, "0"))
			return fail(o, "pvm.vif must be 0 or 1, got ", v);
		o->vif = ag_streq(v, "1");
	} else if (ag_streq(k, "vtx.selftest")) {
		if (!in_list(selftests, v))
			return fail(o, "unknown selftest: ", v);
		o->selftest = v;
	} else if (ag_streq(k, "workload")) {
		o->workload = v;
	} else {
		return 0;
	}
	return 1;
}

static int parse_token(struct ag_options *o, char *tok)
{
	char *eq = tok;
	while (*eq && *eq != '=')
		eq++;
	const char *v = "";
	if (*eq) {
		*eq = 0;
		v = eq + 1;
	}
	if (in_list(ignored_keys, tok))
		return 0;
	int rc = agent_option(o, tok, v);
	if (rc)
		return rc < 0 ? rc : 0;
	if (!*eq)
		return fail(o, "token without '=': ", tok);
	for (size_t i = 0; i < o->nparams; i++)
		if (ag_streq(o->params[i].k, tok))
			return fail(o, "duplicate key: ", tok);
	if (o->nparams == AG_MAX_PARAMS)
		return fail(o, "too many parameters at: ", tok);
	o->params[o->nparams].k = tok;
	o->params[o->nparams].v = v;
	o->nparams++;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int ag_cmdline_parse(char *buf, struct ag_options *o)
{
	int rc = 0;
	*o = (struct ag_options){0};
	o->pagesize = AG_PAGE_2M;
	char *p = buf;
	while (*p) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		char *tok = p;
		while (*p && !is_space(*p))
			p++;
		if (*p)
			*p++ = 0;
		int trc = parse_token(o, tok);
		if (trc && !rc)
			rc = trc;
	}
	return rc;
}

static bool known_key(const struct workload_ops *ops, const char *key)
{
	for (const struct wl_param *p = ops->params; p && p->key; p++)
		if (ag_streq(p->key, key))
			return true;
	return false;
}

int ag_cmdline_validate(struct ag_options *o, const struct workload_ops **ops)
{
	*ops = NULL;
	if (o->err[0])
		return -AG_EINVAL;
	if (!o->workload)
		return fail(o, "no workload= on the command line", "");
	*ops = workload_find(o->workload);
	if (!*ops)
		return fail(o, "unknown workload: ", o->workload);
	for (size_t i = 0; i < o->nparams; i++)
		if (!known_key(*ops, o->params[i].k))
			return fail(o, "unknown key: ", o->params[i].k);
	return 0;
}

const char *ag_param_value(const struct ag_options *o, const struct workload_ops *ops,
			   const char *key)
{
	for (const struct wl_param *p = ops->params; p && p->key; p++) {
		if (!ag_streq(p->key, key))
			continue;
		for (size_t i = 0; i < o->nparams; i++)
			if (ag_streq(o->params[i].k, key))
				return o->params[i].v;
		return p->def;
	}
	return NULL;
}
