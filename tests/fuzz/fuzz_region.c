/*
 * libFuzzer target for the timed-region marker device's guest-facing part
 * (vmm-lite/region_table.c: region_marker_check, the begin/end cursor and
 * the per-label table).
 *
 * Why: the marker descriptor and the sequence of markers come from an
 * untrusted guest. Each input is a sequence of markers: an address (biased
 * to the edges of guest RAM and of the reserved boot area) and 64 bytes the
 * guest wrote there. Checked markers drive a cursor and the table with
 * synthetic counters and exit deltas, as the device does; at the end the
 * table is serialised as vmm-lite's stats JSON does (region_table_to_json,
 * with one vCPU and one VM counter). ASan/UBSan catch any access outside
 * guest RAM or the table; the invariants below catch a table that took a bad
 * label or grew past its bounds, and JSON that does not serialise or holds a
 * label the table does not.
 */
#include <jansson.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virttax/region.h"
#include "vmm-lite/vmm.h"

#define RAM (16u << 20)
#define STEP (8 + sizeof(struct vtx_region_marker))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* vmm-lite's exit keys (the VMM names them, the guest drives the counts) */
static const char *const exit_keys[] = {"io", "mmio", "hlt", "io_region", "shutdown"};
#define NKEYS (sizeof(exit_keys) / sizeof(exit_keys[0]))

/* The JSON vmm-lite writes must serialise and list exactly the table's labels. */
static void check_json(const struct region_table *t)
{
	struct kvm_stat vcpu_stat = {.name = "exits", .flags = KVM_STATS_TYPE_CUMULATIVE},
			vm_stat = {.name = "remote_tlb_flush", .flags = KVM_STATS_TYPE_CUMULATIVE};
	struct kvm_stats_snap vcpu = {.stats = &vcpu_stat, .n = 1},
			      vm = {.stats = &vm_stat, .n = 1};
	struct region_desc desc = {.vcpu = &vcpu, .vm = &vm};
	json_t *j = region_table_to_json(t, &desc, 1, 0), *list = json_object_get(j, "list"), *e;
	size_t i;
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (!text || json_array_size(list) != t->nacc)
		abort();
	json_array_foreach(list, i, e)
	{
		const char *label = json_string_value(json_object_get(e, "label"));
		if (!label || strcmp(label, t->acc[i].label))
			abort();
	}
	free(text);
	json_decref(j);
}

static uint64_t pick_gpa(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	switch (v & 7) {
	case 0:
		return RAM - (v >> 3) % 128; /* straddles the end of RAM */
	case 1:
		return 0x1000 + (v >> 3) % 0x5000; /* boot info, VIF pages */
	case 2:
		return v; /* anywhere, wraps included */
	default:
		return (v >> 3) % RAM;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct guest_layout l;
	static struct region_table t;
	struct region_cursor c = {.schedstat_fd = -1};
	uint64_t cur[REGION_NTHREAD + 2];
	struct region_exit exits[NKEYS];

	if (!ram && (layout_build(&l, RAM, 1) || !(ram = calloc(1, RAM))))
		abort();
	if (region_table_init(&t, 1, 1) || !(c.begin = calloc(t.nvals, sizeof(uint64_t))))
		abort();
	for (size_t off = 0; off + STEP <= size; off += STEP) {
		struct vtx_region_marker m;
		uint64_t gpa = pick_gpa(data + off);

		if (gpa < RAM && RAM - gpa >= sizeof(m))
			memcpy(ram + gpa, data + off + 8, sizeof(m));
		int bad = region_marker_check(&l, ram, gpa, &m);
		if (bad) {
			if (bad <= REGION_OK || bad >= REGION_ERR_COUNT)
				abort();
			t.errors[bad]++;
			continue;
		}
		if (!vtx_region_label_ok(m.label, sizeof(m.label)))
			abort();
		for (uint32_t i = 0; i < t.nvals; i++)
			cur[i] = (uint64_t)data[off + i % 8] << (i % 40);
		if (m.edge == VTX_REGION_BEGIN) {
			region_cursor_abandon(&t, &c);
			memcpy(c.begin, cur, t.nvals * sizeof(uint64_t));
			region_cursor_open(&c, m.label);
		} else if (region_cursor_close(&t, &c, m.label)) {
			uint32_t ne = data[off + 8] % (NKEYS + 1);
			for (uint32_t k = 0; k < ne; k++)
				exits[k] = (struct region_exit){
				    exit_keys[(data[off + 1] + k) % NKEYS], data[off + k]};
			region_table_close(&t, m.label, cur, c.begin, exits, ne);
		}
	}
	if (t.nacc > REGION_MAX_LABELS)
		abort();
	for (uint32_t i = 0; i < t.nacc; i++)
		if (!vtx_region_label_ok(t.acc[i].label, sizeof(t.acc[i].label)) || !t.acc[i].n ||
		    !strcmp(t.acc[i].label, VTX_REGION_NULL_LABEL))
			abort();
	check_json(&t);
	free(c.begin);
	region_table_free(&t);
	return 0;
}
