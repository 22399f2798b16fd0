/*
 * The recording wl_env of test_workloads_env.h. Lives in tests/unit because
 * only the unit tests use it (it is linked with them, not into virttax).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/hosted.h"
#include "core/tsc.h"
#include "tests/unit/test_workloads_env.h"

static struct tenv *tenv_of(struct wl_env *env)
{
	return env->priv;
}

static void *tenv_alloc(struct wl_env *env, size_t bytes, size_t align)
{
	struct tenv *t = tenv_of(env);
	if (t->fail_alloc || t->nallocs == TENV_MAX_ALLOCS)
		return NULL;
	if (align < 4096)
		align = 4096;
	void *p = aligned_alloc(align, (bytes + align - 1) / align * align);
	if (p)
		t->allocs[t->nallocs++] = p;
	return p;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static void tenv_emit(struct wl_env *env, const char *metric, const char *unit, bool lower,
		      double value, const char *xk, const char *xu, double x)
{
	struct tenv *t = tenv_of(env);
	if (t->nmetrics == TENV_MAX_METRICS)
		return;
	struct tenv_metric *m = &t->metrics[t->nmetrics++];
	copy_str(m->m, sizeof(m->m), metric);
	copy_str(m->u, sizeof(m->u), unit);
	copy_str(m->xk, sizeof(m->xk), xk);
	copy_str(m->xu, sizeof(m->xu), xu);
	m->lower = lower;
	m->v = value;
	m->x = x;
}

static void tenv_log(struct wl_env *env, const char *msg)
{
	struct tenv *t = tenv_of(env);
	t->nlogs++;
	copy_str(t->last_log, sizeof(t->last_log), msg);
}

static void tenv_region(struct wl_env *env, unsigned edge, const char *label)
{
	struct tenv *t = tenv_of(env);
	if (t->nregions == TENV_MAX_REGIONS)
		return;
	t->regions[t->nregions].edge = edge;
	copy_str(t->regions[t->nregions++].label, sizeof(t->regions[0].label), label);
}

/* label ties to an emitted metric: exact, a METRIC_* family, or METRIC@X */
static bool label_tied(const struct tenv *t, const char *label)
{
	size_t n = strlen(label);
	if (!strcmp(label, "run") || !strncmp(label, "calib.", 6))
		return true;
	for (size_t i = 0; i < t->nmetrics; i++) {
		const struct tenv_metric *m = &t->metrics[i];
		char at[WL_REGION_LABEL_MAX + 32];
		snprintf(at, sizeof(at), "%s@%.0f", m->m, m->x);
		if ((!m->xk[0] && !strcmp(m->m, label)) ||
		    (!strncmp(m->m, label, n) && m->m[n] == '_') ||
		    (m->xk[0] && !strcmp(at, label)))
			return true;
	}
	return false;
}

int tenv_check_regions(const struct tenv *t, char *why, size_t len)
{
	bool timed = false;
	for (size_t i = 0; i < t->nmetrics; i++)
		timed = timed || strcmp(t->metrics[i].u, "count");
	if (t->nregions == TENV_MAX_REGIONS)
		return snprintf(why, len, "more than %d region calls", TENV_MAX_REGIONS), -1;
	if (timed && !t->nregions)
		return snprintf(why, len, "timed metrics but no region"), -1;
	if (t->nregions % 2)
		return snprintf(why, len, "odd number of region calls (%zu)", t->nregions), -1;
	for (size_t i = 0; i < t->nregions; i += 2) {
		const struct tenv_region *b = &t->regions[i], *e = &t->regions[i + 1];
		if (b->edge != WL_REGION_BEGIN || e->edge != WL_REGION_END ||
		    strcmp(b->label, e->label))
			return snprintf(why, len,
					"call %zu: not a begin/end pair of one label (%s, %s)", i,
					b->label, e->label),
			       -1;
		if (!vtx_region_label_ok(b->label, sizeof(b->label)))
			return snprintf(why, len, "bad label '%s'", b->label), -1;
		if (!label_tied(t, b->label))
			return snprintf(why, len, "label '%s' names no emitted metric", b->label),
			       -1;
	}
	return 0;
}

static const char *tenv_param(struct wl_env *env, const char *key)
{
	return wl_cmdline_param(&tenv_of(env)->cmd, key);
}

int tenv_setup(struct tenv *t, const char *line)
{
	memset(t, 0, sizeof(*t));
	if (tsc_measure_hz(20, &t->env.tsc_hz))
		return -EIO;
	t->env.alloc = tenv_alloc;
	t->env.emit = tenv_emit;
	t->env.log = tenv_log;
	t->env.param = tenv_param;
	t->env.region = tenv_region;
	t->env.priv = t;
	wl_cmdline_init(&t->cmd);
	int rc = wl_cmdline_add_line(&t->cmd, line);
	return rc ? rc : wl_cmdline_resolve(&t->cmd, NULL);
}

int tenv_run(struct tenv *t)
{
	t->nregions = 0;
	int rc = t->cmd.wl->run(&t->env);
	for (size_t i = 0; i < t->nallocs; i++)
		free(t->allocs[i]);
	t->nallocs = 0;
	return rc;
}

const struct tenv_metric *tenv_metric(const struct tenv *t, const char *m)
{
	for (size_t i = 0; i < t->nmetrics; i++)
		if (!strcmp(t->metrics[i].m, m))
			return &t->metrics[i];
	return NULL;
}
