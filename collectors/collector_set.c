/*
 * collector_set_*: drives every collector of collector_table[] through one
 * run's life cycle for the harness.
 *
 * Why here and not in the harness: the rule "an unavailable or failing
 * collector is reported, never fails the run" is the collectors' contract,
 * so it lives with them. Only allocation failures are returned as errors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/internal.h"

int coll_fail(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return err > 0 ? -err : err;
}

static size_t table_len(void)
{
	size_t n = 0;
	while (collector_table[n])
		n++;
	return n;
}

/* A phase failed: keep the collector (closed later) but report it unavailable. */
static void mark_failed(struct collector *c, const char *phase, int rc)
{
	if (!c->why[0])
		snprintf(c->why, sizeof(c->why), "unavailable: %s failed: %s", phase,
			 strerror(-rc));
	c->available = 0;
}

static void open_one(struct collector *c, const struct collector_ops *ops,
		     const struct collector_target *t)
{
	c->ops = ops;
	c->target = t;
	int rc = ops->probe(c->why, sizeof(c->why));
	if (rc) {
		mark_failed(c, "probe", rc);
		return;
	}
	c->why[0] = 0;
	rc = ops->open(c, t);
	if (rc) {
		mark_failed(c, "open", rc);
		return;
	}
	c->opened = 1;
	c->available = 1;
}

int collector_set_open(struct collector_set *s, const struct collector_target *t)
{
	s->n = 0;
	s->items = NULL;
	if (!t)
		return -EINVAL;
	size_t n = table_len();
	s->items = calloc(n ? n : 1, sizeof(*s->items));
	if (!s->items)
		return -ENOMEM;
	s->n = n;
	for (size_t i = 0; i < n; i++)
		open_one(&s->items[i], collector_table[i], t);
	return 0;
}

enum phase { PHASE_START, PHASE_STOP, PHASE_FINISH };
typedef int (*phase_fn)(struct collector *c);

static phase_fn phase_of(const struct collector_ops *ops, enum phase p)
{
	switch (p) {
	case PHASE_START:
		return ops->start;
	case PHASE_STOP:
		return ops->stop;
	default:
		return ops->finish;
	}
}

static void run_phase(struct collector_set *s, enum phase p, const char *phase)
{
	for (size_t i = 0; i < s->n; i++) {
		struct collector *c = &s->items[i];
		phase_fn fn = phase_of(c->ops, p);
		if (!c->available || !fn)
			continue;
		int rc = fn(c);
		if (rc)
			mark_failed(c, phase, rc);
	}
}

int collector_set_start(struct collector_set *s)
{
	run_phase(s, PHASE_START, "start");
	return 0;
}

int collector_set_stop(struct collector_set *s)
{
	run_phase(s, PHASE_STOP, "stop");
	return 0;
}

int collector_set_finish(struct collector_set *s)
{
	run_phase(s, PHASE_FINISH, "finish");
	return 0;
}

static json_t *unavailable_json(const char *why)
{
	return json_pack("{s:b,s:s}", "available", 0, "reason", why[0] ? why : "unavailable");
}

static json_t *one_json(struct collector *c)
{
	if (!c->available)
		return unavailable_json(c->why);
	json_t *j = c->ops->to_json(c);
	if (!json_is_object(j)) {
		json_decref(j);
		return unavailable_json("unavailable: to_json returned no object");
	}
	json_object_set_new(j, "available", json_true());
	return j;
}

json_t *collector_set_to_json(struct collector_set *s)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < s->n; i++)
		json_object_set_new(o, s->items[i].ops->name, one_json(&s->items[i]));
	return o;
}

void collector_set_close(struct collector_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct collector *c = &s->items[i];
		if (c->opened && c->ops->close)
			c->ops->close(c);
		c->opened = 0;
	}
	free(s->items);
	s->items = NULL;
	s->n = 0;
}
