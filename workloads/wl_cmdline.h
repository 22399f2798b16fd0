/*
 * The workload command line `workload=NAME [KEY=VALUE ...]`, parsed the same
 * way by the guest agent (from its boot command line) and by the hosted
 * runner `virttax baseline` (from argv).
 *
 * Why shared: the bare-metal baseline and the VM side must accept exactly the
 * same parameters, apply the same defaults and reject the same mistakes, or
 * their numbers are not comparable. Freestanding: no libc, no allocation; all
 * strings are copied into fixed storage inside struct wl_cmdline.
 *
 * Rules: tokens are KEY=VALUE (split at the first '='); a later token with
 * the same key overrides an earlier one (so quick params can be prepended
 * and then overridden); keys listed in `opt_keys` are runtime options (e.g.
 * the agent's pagesize=, tsc_khz=) and not passed to the workload; an
 * opt_keys entry ending in '*' matches any key with that prefix; any other
 * key must be a parameter of the named workload.
 */
#ifndef VIRTTAX_WL_CMDLINE_H
#define VIRTTAX_WL_CMDLINE_H

#include "virttax/workload.h"

#define WL_CMDLINE_MAX_TOKENS 48
#define WL_CMDLINE_MAX_PARAMS 16
#define WL_CMDLINE_STORE 2048
#define WL_CMDLINE_ERR 160

struct wl_kv {
	const char *key;
	const char *val;
};

struct wl_cmdline {
	const struct workload_ops *wl;		    /* set by resolve */
	struct wl_kv params[WL_CMDLINE_MAX_PARAMS]; /* effective, in wl->params order */
	size_t nparams;
	struct wl_kv opts[WL_CMDLINE_MAX_TOKENS]; /* runtime options, last value wins */
	size_t nopts;
	struct wl_kv given[WL_CMDLINE_MAX_TOKENS]; /* raw tokens, in order */
	size_t ngiven;
	char err[WL_CMDLINE_ERR]; /* one-line reason of the last failure */
	char store[WL_CMDLINE_STORE];
	size_t used;
};

void wl_cmdline_init(struct wl_cmdline *c);
/* Add one KEY=VALUE token of `len` bytes (need not be NUL-terminated). */
int wl_cmdline_add(struct wl_cmdline *c, const char *tok, size_t len);
/* Add every whitespace-separated token of `line` (a boot command line). */
int wl_cmdline_add_line(struct wl_cmdline *c, const char *line);
/* Find workload=, sort the tokens, apply defaults, reject unknown keys.
 * opt_keys: NULL-terminated list, or NULL for none. */
int wl_cmdline_resolve(struct wl_cmdline *c, const char *const *opt_keys);
/* Effective workload parameter / runtime option, NULL when absent. */
const char *wl_cmdline_param(const struct wl_cmdline *c, const char *key);
const char *wl_cmdline_opt(const struct wl_cmdline *c, const char *key);

/* A workload's run() result as a `done` status / exit status:
 * 0 ok, 2 bad input (-EINVAL: bad parameter value), 1 anything else. */
int wl_status_from_rc(int rc);

#endif
