/*
 * The shared workload command-line parser; see wl_cmdline.h for the rules.
 * Freestanding: used by the guest agent and by `virttax baseline`.
 */
#include "workloads/wl_cmdline.h"
#include "workloads/wl_errno.h"
#include "workloads/wl_util.h"

void wl_cmdline_init(struct wl_cmdline *c)
{
	c->wl = 0;
	c->nparams = c->nopts = c->ngiven = c->used = 0;
	c->err[0] = 0;
}

static int cmdline_fail(struct wl_cmdline *c, int rc, const char *what, const char *arg)
{
	c->err[0] = 0;
	wl_strcat(c->err, sizeof(c->err), what);
	if (arg) {
		wl_strcat(c->err, sizeof(c->err), " '");
		wl_strcat(c->err, sizeof(c->err), arg);
		wl_strcat(c->err, sizeof(c->err), "'");
	}
	return rc;
}

/* Copy n bytes into the store as a NUL-terminated string. */
static const char *cmdline_save(struct wl_cmdline *c, const char *s, size_t n)
{
	if (c->used + n + 1 > sizeof(c->store))
		return 0;
	char *d = c->store + c->used;
	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
	d[n] = 0;
	c->used += n + 1;
	return d;
}

int wl_cmdline_add(struct wl_cmdline *c, const char *tok, size_t len)
{
	size_t eq = 0;
	while (eq < len && tok[eq] != '=')
		eq++;
	const char *whole = cmdline_save(c, tok, len);
	if (!whole)
		return cmdline_fail(c, -WL_E2BIG, "command line too long", 0);
	if (eq == len || eq == 0)
		return cmdline_fail(c, -WL_EINVAL, "expected KEY=VALUE, got", whole);
	if (c->ngiven == WL_CMDLINE_MAX_TOKENS)
		return cmdline_fail(c, -WL_E2BIG, "too many arguments at", whole);
	const char *key = cmdline_save(c, tok, eq);
	if (!key)
		return cmdline_fail(c, -WL_E2BIG, "command line too long", 0);
	c->given[c->ngiven].key = key;
	c->given[c->ngiven].val = whole + eq + 1;
	c->ngiven++;
	return 0;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

int wl_cmdline_add_line(struct wl_cmdline *c, const char *line)
{
	while (*line) {
		while (is_space(*line))
			line++;
		size_t n = 0;
		while (line[n] && !is_space(line[n]))
			n++;
		if (n) {
			int rc = wl_cmdline_add(c, line, n);
			if (rc)
				return rc;
		}
		line += n;
	}
	return 0;
}

static bool opt_key_matches(const char *pattern, const char *key)
{
	size_t n = wl_strlen(pattern);
	if (n && pattern[n - 1] == '*') {
		for (size_t i = 0; i + 1 < n; i++)
			if (key[i] != pattern[i])
				return false;
		return true;
	}
	return wl_streq(pattern, key);
}

static bool is_opt_key(const char *const *opt_keys, const char *key)
{
	for (; opt_keys && *opt_keys; opt_keys++)
		if (opt_key_matches(*opt_keys, key))
			return true;
	return false;
}

/* Set key=val in a table, replacing an earlier value of the same key. */
static void kv_set(struct wl_kv *t, size_t *n, const char *key, const char *val)
{
	for (size_t i = 0; i < *n; i++)
		if (wl_streq(t[i].key, key)) {
			t[i].val = val;
			return;
		}
	t[*n].key = key;
	t[*n].val = val;
	(*n)++;
}

static int cmdline_find_workload(struct wl_cmdline *c)
{
	const char *name = 0;
	for (size_t i = 0; i < c->ngiven; i++)
		if (wl_streq(c->given[i].key, "workload"))
			name = c->given[i].val;
	if (!name)
		return cmdline_fail(c, -WL_EINVAL, "missing workload=NAME", 0);
	c->wl = workload_find(name);
	if (!c->wl)
		return cmdline_fail(c, -WL_EINVAL, "unknown workload", name);
	return 0;
}

static int cmdline_load_defaults(struct wl_cmdline *c)
{
	c->nparams = 0;
	for (const struct wl_param *p = c->wl->params; p && p->key; p++) {
		if (c->nparams == WL_CMDLINE_MAX_PARAMS)
			return cmdline_fail(c, -WL_E2BIG, "too many parameters in workload",
					    c->wl->name);
		c->params[c->nparams].key = p->key;
		c->params[c->nparams].val = p->def;
		c->nparams++;
	}
	return 0;
}

static int cmdline_set_param(struct wl_cmdline *c, const struct wl_kv *kv)
{
	for (size_t i = 0; i < c->nparams; i++)
		if (wl_streq(c->params[i].key, kv->key)) {
			c->params[i].val = kv->val;
			return 0;
		}
	char what[WL_CMDLINE_ERR] = "unknown key for workload ";
	wl_strcat(what, sizeof(what), c->wl->name);
	wl_strcat(what, sizeof(what), ":");
	return cmdline_fail(c, -WL_EINVAL, what, kv->key);
}

int wl_cmdline_resolve(struct wl_cmdline *c, const char *const *opt_keys)
{
	int rc = cmdline_find_workload(c);
	if (!rc)
		rc = cmdline_load_defaults(c);
	if (rc)
		return rc;
	c->nopts = 0;
	for (size_t i = 0; i < c->ngiven; i++) {
		const struct wl_kv *kv = &c->given[i];
		if (wl_streq(kv->key, "workload"))
			continue;
		if (is_opt_key(opt_keys, kv->key))
			kv_set(c->opts, &c->nopts, kv->key, kv->val);
		else if ((rc = cmdline_set_param(c, kv)))
			return rc;
	}
	return 0;
}

static const char *kv_get(const struct wl_kv *t, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (wl_streq(t[i].key, key))
			return t[i].val;
	return 0;
}

const char *wl_cmdline_param(const struct wl_cmdline *c, const char *key)
{
	return kv_get(c->params, c->nparams, key);
}

const char *wl_cmdline_opt(const struct wl_cmdline *c, const char *key)
{
	return kv_get(c->opts, c->nopts, key);
}

int wl_status_from_rc(int rc)
{
	if (rc == 0)
		return 0;
	return rc == -WL_EINVAL ? 2 : 1;
}
