/*
 * kvm-stats: KVM's binary statistics (KVM_GET_STATS_FD) of the VM and of
 * each vCPU, as deltas over the run.
 *
 * Why re-shaped here: vmm-lite reads the stats fds itself (it owns them) and
 * writes before/after/delta into its --stats-json; this collector validates
 * that document, gives every stat a unit, and sums the per-vCPU counters that
 * the overhead decomposition needs (exits, emulated instructions, faults,
 * halts...). A future QEMU driver fills the same shape from QMP query-stats.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/internal.h"

/* per-vCPU stats summed into "vcpu_totals" (when present) */
static const char *const total_names[] = {
    "exits",
    "insn_emulation",
    "insn_emulation_fail",
    "irq_exits",
    "pf_taken",
    "pf_fixed",
    "pf_guest",
    "pf_emulate",
    "halt_exits",
    "halt_wakeup",
    "halt_wait_ns",
    "io_exits",
    "mmio_exits",
    "signal_exits",
    "request_irq_exits",
    "irq_window_exits",
    "nmi_window_exits",
    "irq_injections",
    "hypercalls",
    "tlb_flush",
    "invlpg",
    "host_state_reload",
    "fpu_reload",
    "preemption_reported",
    NULL,
};

void kvmstat_unit(const char *unit, int base, int exponent, char *buf, size_t len)
{
	if (!strcmp(unit, "none"))
		unit = "count";
	if (exponent == 0 || !strcmp(unit, "count") || !strcmp(unit, "boolean"))
		snprintf(buf, len, "%s", unit);
	else if (!strcmp(unit, "seconds") && base == 10 && exponent == -9)
		snprintf(buf, len, "ns");
	else if (!strcmp(unit, "seconds") && base == 10 && exponent == -6)
		snprintf(buf, len, "us");
	else
		snprintf(buf, len, "%s*%d^%d", unit, base, exponent);
}

static int stat_int(const json_t *st, const char *key, json_int_t *v)
{
	json_t *j = json_object_get(st, key);
	if (!json_is_integer(j))
		return -EINVAL;
	*v = json_integer_value(j);
	return 0;
}

/* one {"before","after","delta","unit","type","base","exponent"} entry */
static int reshape_stat(const char *name, const json_t *st, json_t **out, char *why, size_t len)
{
	json_int_t before, after, delta, base, exponent;
	const char *unit = json_string_value(json_object_get(st, "unit"));
	const char *type = json_string_value(json_object_get(st, "type"));

	if (!json_is_object(st) || stat_int(st, "before", &before) ||
	    stat_int(st, "after", &after) || stat_int(st, "delta", &delta) ||
	    stat_int(st, "base", &base) || stat_int(st, "exponent", &exponent) || !unit || !type)
		return coll_fail(why, len, EINVAL, "stat %s: missing or mistyped field", name);
	if ((unsigned long long)after - (unsigned long long)before != (unsigned long long)delta)
		return coll_fail(why, len, EINVAL, "stat %s: delta %lld != after - before", name,
				 (long long)delta);
	char u[32];
	kvmstat_unit(unit, (int)base, (int)exponent, u, sizeof(u));
	*out = json_pack("{s:I,s:I,s:I,s:s,s:s}", "delta", delta, "before", before, "after", after,
			 "unit", u, "type", type);
	return *out ? 0 : -ENOMEM;
}

static int reshape_group(const json_t *in, json_t **out, const char *where, char *why, size_t len)
{
	const char *name;
	json_t *st;
	char inner[160];

	if (!json_is_object(in))
		return coll_fail(why, len, EINVAL, "%s: not an object", where);
	*out = json_object();
	json_object_foreach((json_t *)in, name, st)
	{
		json_t *o = NULL;
		int rc = reshape_stat(name, st, &o, inner, sizeof(inner));
		if (rc) {
			json_decref(*out);
			*out = NULL;
			return coll_fail(why, len, rc, "%s: %s", where, inner);
		}
		json_object_set_new(*out, name, o);
	}
	return 0;
}

static void add_total(json_t *totals, const char *name, const json_t *st)
{
	json_t *t = json_object_get(totals, name);
	json_int_t d = json_integer_value(json_object_get(st, "delta"));
	if (t) {
		json_t *v = json_object_get(t, "value");
		json_integer_set(v, json_integer_value(v) + d);
		return;
	}
	json_object_set_new(
	    totals, name, json_pack("{s:I,s:O}", "value", d, "unit", json_object_get(st, "unit")));
}

static void sum_totals(json_t *totals, const json_t *stats)
{
	for (size_t i = 0; total_names[i]; i++) {
		json_t *st = json_object_get(stats, total_names[i]);
		if (st && !strcmp(json_string_value(json_object_get(st, "type")), "cumulative"))
			add_total(totals, total_names[i], st);
	}
}

static int reshape_vcpu(const json_t *in, size_t i, json_t **out, char *why, size_t len)
{
	char where[32];
	json_t *stats;
	json_t *idx = json_object_get(in, "index"), *tid = json_object_get(in, "tid");

	snprintf(where, sizeof(where), "vcpus[%zu]", i);
	if (!json_is_integer(idx) || !json_is_integer(tid))
		return coll_fail(why, len, EINVAL, "%s: index/tid missing", where);
	int rc = reshape_group(json_object_get(in, "stats"), &stats, where, why, len);
	if (rc)
		return rc;
	*out = json_pack("{s:O,s:O,s:o}", "index", idx, "tid", tid, "stats", stats);
	return 0;
}

static int reshape_vcpus(const json_t *in, json_t *vcpus, json_t *totals, char *why, size_t len)
{
	size_t i;
	json_t *v;

	if (!json_is_array(in))
		return coll_fail(why, len, EINVAL, "vcpus: not an array");
	json_array_foreach(in, i, v)
	{
		json_t *o = NULL;
		int rc = reshape_vcpu(v, i, &o, why, len);
		if (rc)
			return rc;
		sum_totals(totals, json_object_get(o, "stats"));
		json_array_append_new(vcpus, o);
	}
	return 0;
}

int kvmstat_reshape(const json_t *doc, json_t **out, char *why, size_t whylen)
{
	json_t *ks = json_object_get(doc, "kvm_stats"), *vm = NULL;
	char inner[160];

	*out = NULL;
	if (!json_is_object(ks))
		return coll_fail(why, whylen, EINVAL, "unavailable: stats JSON has no kvm_stats");
	int rc = reshape_group(json_object_get(ks, "vm"), &vm, "vm", inner, sizeof(inner));
	if (rc)
		return coll_fail(why, whylen, rc, "unavailable: kvm_stats: %s", inner);
	json_t *vcpus = json_array(), *totals = json_object();
	rc = reshape_vcpus(json_object_get(ks, "vcpus"), vcpus, totals, inner, sizeof(inner));
	if (rc) {
		json_decref(vm);
		json_decref(vcpus);
		json_decref(totals);
		return coll_fail(why, whylen, rc, "unavailable: kvm_stats: %s", inner);
	}
	*out = json_pack("{s:o,s:o,s:o}", "vm", vm, "vcpus", vcpus, "vcpu_totals", totals);
	return 0;
}

/* ---- the collector ---- */

struct kvm_stats_priv {
	json_t *result;
};

static int kvm_stats_probe(char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	return 0; /* the data comes from the VMM: whether it exists depends on the target */
}

static int kvm_stats_open(struct collector *c, const struct collector_target *t)
{
	if (t->kind != CT_VM)
		return coll_fail(c->why, sizeof(c->why), ENOTSUP,
				 "unavailable: bare-metal target has no KVM statistics");
	if (!t->vmm_name || (strcmp(t->vmm_name, "vmm-lite") && strcmp(t->vmm_name, "qemu")))
		return coll_fail(c->why, sizeof(c->why), ENOTSUP,
				 "unavailable: %s: no KVM stats source for this VMM",
				 t->vmm_name ? t->vmm_name : "unknown VMM");
	c->priv = calloc(1, sizeof(struct kvm_stats_priv));
	return c->priv ? 0 : -ENOMEM;
}

static int kvm_stats_finish(struct collector *c)
{
	struct kvm_stats_priv *p = c->priv;
	json_t *doc;
	int rc = vmmstats_load(c->target->vmm_stats_json, &doc, c->why, sizeof(c->why));
	if (rc)
		return rc;
	rc = kvmstat_reshape(doc, &p->result, c->why, sizeof(c->why));
	json_decref(doc);
	return rc;
}

static json_t *kvm_stats_to_json_coll(struct collector *c)
{
	struct kvm_stats_priv *p = c->priv;
	if (!p->result)
		return json_pack("{s:s}", "note", "not finished: the VMM's stats were never read");
	json_t *j = json_deep_copy(p->result);
	json_object_set_new(j, "source", json_string("vmm-lite --stats-json (KVM_GET_STATS_FD)"));
	return j;
}

static void kvm_stats_close(struct collector *c)
{
	struct kvm_stats_priv *p = c->priv;
	if (p)
		json_decref(p->result);
	free(p);
	c->priv = NULL;
}

const struct collector_ops kvm_stats_collector = {
    .name = "kvm-stats",
    .probe = kvm_stats_probe,
    .open = kvm_stats_open,
    .finish = kvm_stats_finish,
    .to_json = kvm_stats_to_json_coll,
    .close = kvm_stats_close,
};
