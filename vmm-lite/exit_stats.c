/*
 * Per-exit-reason accounting: count, userspace handling time, histogram.
 *
 * Why: the overhead decomposition needs to know how often the guest left
 * KVM_RUN, split by reason and, for port I/O, by port; with --exit-timing
 * also how long vmm-lite took before re-entering. Each vCPU thread owns one
 * table (no locking on the hot path); the tables are merged at the end.
 * Counting is the only work on every exit by default: a bucket is found by
 * number, the last one first, so it costs a compare and an increment
 * (bench/dispatch.c measures it); the clock reads of the timing are asked for.
 * Pure code, unit tested.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "vmm-lite/vmm.h"

static const char *const reason_names[] = {
    [KVM_EXIT_UNKNOWN] = "unknown",
    [KVM_EXIT_EXCEPTION] = "exception",
    [KVM_EXIT_IO] = "io",
    [KVM_EXIT_HYPERCALL] = "hypercall",
    [KVM_EXIT_DEBUG] = "debug",
    [KVM_EXIT_HLT] = "hlt",
    [KVM_EXIT_MMIO] = "mmio",
    [KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open",
    [KVM_EXIT_SHUTDOWN] = "shutdown",
    [KVM_EXIT_FAIL_ENTRY] = "fail_entry",
    [KVM_EXIT_INTR] = "intr",
    [KVM_EXIT_SET_TPR] = "set_tpr",
    [KVM_EXIT_TPR_ACCESS] = "tpr_access",
    [KVM_EXIT_NMI] = "nmi",
    [KVM_EXIT_INTERNAL_ERROR] = "internal_error",
    [KVM_EXIT_SYSTEM_EVENT] = "system_event",
    [KVM_EXIT_IOAPIC_EOI] = "ioapic_eoi",
    [KVM_EXIT_HYPERV] = "hyperv",
    [KVM_EXIT_X86_RDMSR] = "x86_rdmsr",
    [KVM_EXIT_X86_WRMSR] = "x86_wrmsr",
    [KVM_EXIT_DIRTY_RING_FULL] = "dirty_ring_full",
    [KVM_EXIT_AP_RESET_HOLD] = "ap_reset_hold",
    [KVM_EXIT_X86_BUS_LOCK] = "x86_bus_lock",
};

const char *exit_reason_name(uint32_t reason)
{
	if (reason < sizeof(reason_names) / sizeof(reason_names[0]) && reason_names[reason])
		return reason_names[reason];
	return NULL;
}

void exit_key(char *key, size_t len, uint32_t reason, uint16_t port)
{
	const char *name = exit_reason_name(reason);

	if (reason == KVM_EXIT_IO)
		snprintf(key, len, "io:%#x", port);
	else if (name)
		snprintf(key, len, "%s", name);
	else
		snprintf(key, len, "exit_%u", reason);
}

uint32_t exit_hist_bucket(uint64_t ns)
{
	uint32_t b = ns ? 63 - (uint32_t)__builtin_clzll(ns) : 0;

	return b < EXIT_HIST_BUCKETS ? b : EXIT_HIST_BUCKETS - 1;
}

static struct exit_bucket *get_bucket(struct exit_stats *s, const char *key)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (strcmp(s->b[i].key, key) == 0)
			return &s->b[i];
	if (s->n >= EXIT_STATS_MAX_KEYS || strlen(key) >= sizeof(s->b[0].key))
		return NULL;
	memset(&s->b[s->n], 0, sizeof(s->b[0]));
	strcpy(s->b[s->n].key, key);
	return &s->b[s->n++];
}

void exit_bucket_time(struct exit_bucket *b, uint64_t ns)
{
	b->total_ns += ns;
	b->hist[exit_hist_bucket(ns)]++;
}

int exit_stats_add(struct exit_stats *s, const char *key, uint64_t ns)
{
	struct exit_bucket *b = get_bucket(s, key);

	if (!b) {
		s->dropped++;
		return -ENOSPC;
	}
	b->count++;
	exit_bucket_time(b, ns);
	return 0;
}

struct exit_bucket *exit_stats_bucket(struct exit_stats *s, uint32_t reason, uint16_t port)
{
	uint32_t id = exit_bucket_id(reason, port);
	char key[32];
	struct exit_bucket *b;

	if (s->n && s->b[s->last].id == id)
		return &s->b[s->last];
	for (uint32_t i = 0; i < s->n; i++)
		if (s->b[i].id == id) {
			s->last = i;
			return &s->b[i];
		}
	exit_key(key, sizeof(key), reason, port);
	if (!(b = get_bucket(s, key))) /* a key-made bucket of that name is reused */
		return NULL;
	b->id = id;
	s->last = (uint32_t)(b - s->b);
	return b;
}

void exit_stats_merge(struct exit_stats *dst, const struct exit_stats *src)
{
	dst->dropped += src->dropped;
	for (uint32_t i = 0; i < src->n; i++) {
		struct exit_bucket *b = get_bucket(dst, src->b[i].key);

		if (!b) {
			dst->dropped += src->b[i].count;
			continue;
		}
		b->count += src->b[i].count;
		b->total_ns += src->b[i].total_ns;
		for (uint32_t h = 0; h < EXIT_HIST_BUCKETS; h++)
			b->hist[h] += src->b[i].hist[h];
	}
}

const struct exit_bucket *exit_stats_find(const struct exit_stats *s, const char *key)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (strcmp(s->b[i].key, key) == 0)
			return &s->b[i];
	return NULL;
}

/* {"io:0x3f8":{"count":N,"total_ns":N,"hist_log2_ns":[...]}}; the histogram
 * is cut after its last non-zero bucket. Untimed: {"io:0x3f8":{"count":N}}. */
json_t *exit_stats_to_json(const struct exit_stats *s, bool timed)
{
	json_t *o = json_object();

	for (uint32_t i = 0; i < s->n; i++) {
		const struct exit_bucket *b = &s->b[i];
		json_t *hist;
		uint32_t last = 0;

		if (!timed) {
			json_object_set_new(o, b->key,
					    json_pack("{s:I}", "count", (json_int_t)b->count));
			continue;
		}
		hist = json_array();
		for (uint32_t h = 0; h < EXIT_HIST_BUCKETS; h++)
			if (b->hist[h])
				last = h + 1;
		for (uint32_t h = 0; h < last; h++)
			json_array_append_new(hist, json_integer((json_int_t)b->hist[h]));
		json_object_set_new(o, b->key,
				    json_pack("{s:I,s:I,s:o}", "count", (json_int_t)b->count,
					      "total_ns", (json_int_t)b->total_ns, "hist_log2_ns",
					      hist));
	}
	return o;
}
