/*
 * exits: vmm-lite's own accounting of VM exits by reason (KVM exit reason,
 * with the port for I/O exits): the count and, when vmm-lite timed its exits
 * (--exit-timing), total time in the VMM, a log2 histogram and the mean.
 *
 * Why: KVM's stats count exits but not what each one cost in the VMM; the
 * per-reason cost is what the overhead decomposition multiplies by counts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/internal.h"

/* {"count":N} alone (vmm-lite without --exit-timing), or count, total_ns and a
 * histogram that sums to the count; *total is -1 for the first kind */
static int reshape_reason(const char *name, const json_t *in, json_t **out, json_int_t *count,
			  json_int_t *total, char *why, size_t len)
{
	json_t *c = json_object_get(in, "count"), *t = json_object_get(in, "total_ns");
	json_t *h = json_object_get(in, "hist_log2_ns");
	size_t i;
	json_t *v;

	if (json_is_integer(c) && json_integer_value(c) >= 0 && !t && !h) {
		*count = json_integer_value(c);
		*total = -1;
		*out = json_pack("{s:I}", "count", *count);
		return *out ? 0 : -ENOMEM;
	}
	if (!json_is_integer(c) || !json_is_integer(t) || json_integer_value(c) < 0 ||
	    json_integer_value(t) < 0 || !json_is_array(h))
		return coll_fail(why, len, EINVAL, "exits.%s: count/total_ns/hist_log2_ns invalid",
				 name);
	json_int_t hsum = 0;
	json_array_foreach(h, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return coll_fail(why, len, EINVAL, "exits.%s: hist_log2_ns[%zu] invalid",
					 name, i);
		hsum += json_integer_value(v);
	}
	if (hsum != json_integer_value(c))
		return coll_fail(why, len, EINVAL, "exits.%s: histogram sums to %lld, count %lld",
				 name, (long long)hsum, (long long)json_integer_value(c));
	*count = json_integer_value(c);
	*total = json_integer_value(t);
	double mean = *count ? (double)*total / (double)*count : 0.0;
	*out = json_pack("{s:I,s:I,s:f,s:O}", "count", *count, "total_ns", *total, "mean_ns", mean,
			 "hist_log2_ns", h);
	return *out ? 0 : -ENOMEM;
}

/* total_ns and mean_ns only when every kind was timed */
int exitstat_reshape(const json_t *doc, json_t **out, char *why, size_t whylen)
{
	json_t *ex = json_object_get(doc, "exits"), *v;
	const char *name;
	char inner[160];
	json_int_t count = 0, total = 0;
	bool timed = true;

	*out = NULL;
	if (!json_is_object(ex))
		return coll_fail(why, whylen, EINVAL,
				 "unavailable: stats JSON has no exits object");
	json_t *reasons = json_object();
	json_object_foreach(ex, name, v)
	{
		json_t *o = NULL;
		json_int_t c = 0, t = 0;
		int rc = reshape_reason(name, v, &o, &c, &t, inner, sizeof(inner));
		if (rc) {
			json_decref(reasons);
			return coll_fail(why, whylen, rc, "unavailable: %s", inner);
		}
		json_object_set_new(reasons, name, o);
		count += c;
		timed = timed && t >= 0;
		total += t >= 0 ? t : 0;
	}
	json_t *tot = json_pack("{s:I}", "count", count);
	if (timed) {
		json_object_set_new(tot, "total_ns", json_integer(total));
		json_object_set_new(tot, "mean_ns",
				    json_real(count ? (double)total / (double)count : 0.0));
	}
	*out = json_pack("{s:o,s:o,s:b,s:{s:s,s:s,s:s,s:s}}", "reasons", reasons, "total", tot,
			 "timed", timed, "units", "count", "exits", "total_ns", "ns", "mean_ns",
			 "ns", "hist_log2_ns", "exits per bucket i: 2^i <= ns < 2^(i+1)");
	return 0;
}

/* ---- the collector ---- */

static int exits_probe(char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	return 0;
}

static int exits_open(struct collector *c, const struct collector_target *t)
{
	if (t->kind != CT_VM)
		return coll_fail(c->why, sizeof(c->why), ENOTSUP,
				 "unavailable: bare-metal target has no VM exits");
	if (!t->vmm_name || strcmp(t->vmm_name, "vmm-lite"))
		return coll_fail(c->why, sizeof(c->why), ENOTSUP,
				 "unavailable: %s does not account exits per reason",
				 t->vmm_name ? t->vmm_name : "unknown VMM");
	c->priv = NULL;
	return 0;
}

static int exits_finish(struct collector *c)
{
	json_t *doc, *out;
	int rc = vmmstats_load(c->target->vmm_stats_json, &doc, c->why, sizeof(c->why));
	if (rc)
		return rc;
	rc = exitstat_reshape(doc, &out, c->why, sizeof(c->why));
	json_decref(doc);
	if (!rc)
		c->priv = out;
	return rc;
}

static json_t *exits_to_json(struct collector *c)
{
	if (!c->priv)
		return json_pack("{s:s}", "note", "not finished: the VMM's stats were never read");
	return json_deep_copy(c->priv);
}

static void exits_close(struct collector *c)
{
	json_decref(c->priv);
	c->priv = NULL;
}

const struct collector_ops exits_collector = {
    .name = "exits",
    .probe = exits_probe,
    .open = exits_open,
    .finish = exits_finish,
    .to_json = exits_to_json,
    .close = exits_close,
};
