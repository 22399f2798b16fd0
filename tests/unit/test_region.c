/*
 * Unit tests of timed-region accounting: the marker ABI's label check
 * (include/virttax/region.h), the marker descriptor check against guest RAM
 * (vmm-lite/dev_region.c), the per-label table with its null-region
 * footprint (vmm-lite/region_table.c), and the hosted runner's hook
 * (harness/hosted_region.c) on the calling thread.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/hosted.h"
#include "virttax/region.h"
#include "virttax/workload.h"
#include "vmm-lite/vmm.h"

Test(region, label_check)
{
	char big[64];

	cr_assert(vtx_region_label_ok("run", 4));
	cr_assert(vtx_region_label_ok("latency@16384", 48));
	cr_assert(vtx_region_label_ok("calib.pio-ioeventfd", 48));
	cr_assert_not(vtx_region_label_ok("", 48));
	cr_assert_not(vtx_region_label_ok("a b", 48));
	cr_assert_not(vtx_region_label_ok("a\n", 48));
	cr_assert_not(vtx_region_label_ok("abc", 3)); /* no NUL inside cap */
	memset(big, 'a', sizeof(big));
	big[47] = 0;
	cr_assert(vtx_region_label_ok(big, sizeof(big)));
	big[47] = 'a';
	big[48] = 0; /* 48 characters: one too many */
	cr_assert_not(vtx_region_label_ok(big, sizeof(big)));
	char label[WL_REGION_LABEL_MAX];
	cr_assert_str_eq(wl_region_label_at(label, sizeof(label), "latency", 1073741824),
			 "latency@1073741824");
}

#define RAM (64u << 20)

static void put_marker(uint8_t *ram, uint64_t gpa, uint32_t magic, uint32_t edge, const char *label,
		       size_t len)
{
	struct vtx_region_marker m = {.magic = magic, .edge = edge, .seq = 1};
	memcpy(m.label, label, len);
	memcpy(ram + gpa, &m, sizeof(m));
}

Test(region, marker_check_bounds_and_fields)
{
	struct guest_layout l;
	struct vtx_region_marker m;
	uint8_t *ram = calloc(1, RAM);
	cr_assert_not_null(ram);
	cr_assert_eq(layout_build(&l, RAM, 1), 0);
	put_marker(ram, 0x200000, VTX_REGION_MAGIC, VTX_REGION_BEGIN, "copy", 5);
	cr_assert_eq(region_marker_check(&l, ram, 0x200000, &m), REGION_OK);
	cr_assert_str_eq(m.label, "copy");
	cr_assert_eq(m.edge, VTX_REGION_BEGIN);
	/* outside RAM, straddling its end, inside the reserved boot area, 4 GiB wrap */
	cr_assert_eq(region_marker_check(&l, ram, RAM, &m), REGION_ERR_GPA);
	cr_assert_eq(region_marker_check(&l, ram, RAM - 32, &m), REGION_ERR_GPA);
	cr_assert_eq(region_marker_check(&l, ram, 0x1000, &m), REGION_ERR_GPA);
	cr_assert_eq(region_marker_check(&l, ram, 0xffffffffull, &m), REGION_ERR_GPA);
	cr_assert_eq(region_marker_check(&l, ram, UINT64_MAX - 8, &m), REGION_ERR_GPA);
	put_marker(ram, 0x300000, 0x1234, VTX_REGION_BEGIN, "copy", 5);
	cr_assert_eq(region_marker_check(&l, ram, 0x300000, &m), REGION_ERR_MAGIC);
	put_marker(ram, 0x300000, VTX_REGION_MAGIC, 3, "copy", 5);
	cr_assert_eq(region_marker_check(&l, ram, 0x300000, &m), REGION_ERR_EDGE);
	put_marker(ram, 0x300000, VTX_REGION_MAGIC, VTX_REGION_END, "bad label", 10);
	cr_assert_eq(region_marker_check(&l, ram, 0x300000, &m), REGION_ERR_LABEL);
	char full[VTX_REGION_LABEL_MAX];
	memset(full, 'x', sizeof(full)); /* no NUL */
	put_marker(ram, 0x300000, VTX_REGION_MAGIC, VTX_REGION_END, full, sizeof(full));
	cr_assert_eq(region_marker_check(&l, ram, 0x300000, &m), REGION_ERR_LABEL);
	free(ram);
}

/* two thread fields only matter here: wall_ns (0) and run_ns (1) */
static void interval(uint64_t *d, uint32_t nvals, uint64_t wall, uint64_t exits)
{
	memset(d, 0, nvals * sizeof(uint64_t));
	d[0] = wall;
	d[1] = wall / 2;
	d[REGION_NTHREAD] = exits; /* the first vCPU stat */
}

Test(region, table_nets_out_the_null_footprint)
{
	static struct region_table t;
	uint64_t d[REGION_NTHREAD + 2];
	cr_assert_eq(region_table_init(&t, 1, 1), 0);
	cr_assert_eq(t.nvals, REGION_NTHREAD + 2);
	/* null regions: the minimum per field is the footprint (30 us, 1 exit) */
	interval(d, t.nvals, 40000, 1);
	region_table_add(&t, VTX_REGION_NULL_LABEL, d, NULL, 0);
	interval(d, t.nvals, 30000, 2); /* a timer tick landed in this one */
	region_table_add(&t, VTX_REGION_NULL_LABEL, d, NULL, 0);
	interval(d, t.nvals, 35000, 1);
	region_table_add(&t, VTX_REGION_NULL_LABEL, d, NULL, 0);
	cr_assert_eq(t.nnull, 3);
	cr_assert_eq(t.null_min[0], 30000);
	cr_assert_eq(t.null_min[REGION_NTHREAD], 1);
	cr_assert_eq(t.nacc, 0, "null regions are not a label");
	/* three intervals of "copy": 1 ms, 3 ms (with 5 exits), 2 ms */
	struct region_exit ex[] = {{"io:0x3f8", 2}, {"mmio", 1}};
	interval(d, t.nvals, 1030000, 1);
	region_table_add(&t, "copy", d, ex, 2);
	interval(d, t.nvals, 3030000, 6);
	region_table_add(&t, "copy", d, ex, 1);
	interval(d, t.nvals, 2030000, 1);
	region_table_add(&t, "copy", d, NULL, 0);
	const struct region_acc *a = &t.acc[0];
	cr_assert_eq(t.nacc, 1);
	cr_assert_eq(a->n, 3);
	cr_assert_eq(region_net(&t, a->sum, a->n, 0), 6000000);
	cr_assert_eq(region_net(&t, a->sum, a->n, REGION_NTHREAD), 5, "8 exits - 3 footprints");
	cr_assert_eq(region_net(&t, a->shortest, 1, 0), 1000000, "the 1 ms interval");
	cr_assert_eq(region_net(&t, a->shortest, 1, REGION_NTHREAD), 0);
	cr_assert_eq(a->nexits, 2);
	cr_assert_eq(a->exits[0].count, 4);
	cr_assert_eq(a->exits[1].count, 1);
	/* never below zero */
	interval(d, t.nvals, 10, 0);
	region_table_add(&t, "tiny", d, NULL, 0);
	cr_assert_eq(region_net(&t, t.acc[1].sum, 1, 0), 0);
	region_table_free(&t);
}

Test(region, table_bounds_labels_and_exit_keys)
{
	static struct region_table t;
	uint64_t d[REGION_NTHREAD];
	char label[16], key[32];
	struct region_exit ex[REGION_MAX_EXIT_KEYS + 4];
	cr_assert_eq(region_table_init(&t, 0, 0), 0);
	memset(d, 0, sizeof(d));
	for (int i = 0; i < REGION_MAX_LABELS + 5; i++) {
		snprintf(label, sizeof(label), "l%d", i);
		int rc = region_table_add(&t, label, d, NULL, 0);
		cr_assert_eq(rc, i < REGION_MAX_LABELS ? 0 : -ENOSPC, "label %d", i);
	}
	cr_assert_eq(t.nacc, REGION_MAX_LABELS);
	cr_assert_eq(t.errors[REGION_ERR_TOO_MANY], 5);
	static char keys[REGION_MAX_EXIT_KEYS + 4][32];
	for (int i = 0; i < REGION_MAX_EXIT_KEYS + 4; i++) {
		snprintf(keys[i], sizeof(key), "io:%#x", 0x100 + i);
		ex[i] = (struct region_exit){keys[i], 10};
	}
	region_table_add(&t, "l0", d, ex, REGION_MAX_EXIT_KEYS + 4);
	cr_assert_eq(t.acc[0].nexits, REGION_MAX_EXIT_KEYS);
	cr_assert_eq(t.acc[0].exits_other, 40);
	/* JSON: the same shape on both sides; fields null without null regions */
	struct region_desc desc = {0};
	json_t *j = region_table_to_json(&t, &desc, 7, 1);
	cr_assert_eq(json_integer_value(json_object_get(j, "markers")), 7);
	cr_assert_eq(
	    json_integer_value(json_object_get(json_object_get(j, "errors"), "too_many_labels")),
	    5);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "errors"), "unclosed")),
		     1);
	cr_assert_eq(json_array_size(json_object_get(j, "list")), REGION_MAX_LABELS);
	json_t *l0 = json_array_get(json_object_get(j, "list"), 0);
	cr_assert_eq(json_integer_value(json_object_get(l0, "exits_other")), 40);
	cr_assert(json_is_object(json_object_get(l0, "shortest")));
	cr_assert(json_is_null(json_object_get(json_object_get(j, "null"), "wall_ns")));
	json_decref(j);
	region_table_free(&t);
}

Test(region, cursor_sequence_errors)
{
	static struct region_table t;
	struct region_cursor c;
	cr_assert_eq(region_table_init(&t, 0, 0), 0);
	cr_assert_eq(region_cursor_init(&c, &t, "/proc/thread-self/schedstat"), 0);
	cr_assert_geq(c.schedstat_fd, 0);
	cr_assert_not(region_cursor_close(&t, &c, "a"), "end without begin");
	cr_assert_eq(t.errors[REGION_ERR_SEQUENCE], 1);
	region_cursor_abandon(&t, &c);
	region_cursor_open(&c, "a");
	cr_assert_not(region_cursor_close(&t, &c, "b"), "end of another label");
	cr_assert_eq(t.errors[REGION_ERR_SEQUENCE], 2);
	region_cursor_open(&c, "a");
	region_cursor_abandon(&t, &c); /* begin while open */
	cr_assert_eq(t.errors[REGION_ERR_SEQUENCE], 3);
	region_cursor_open(&c, "a");
	cr_assert(region_cursor_close(&t, &c, "a"));
	cr_assert_eq(t.errors[REGION_ERR_SEQUENCE], 3);
	region_cursor_release(&c);
	region_table_free(&t);
}

static void spin_ms(unsigned ms)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

/* Steal of the whole host (all CPUs, /proc/stat) in ns: time the outer
 * hypervisor ran something else, which no thread's accounting sees. */
static double host_steal_ns(void)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");
	cr_assert_not_null(f);
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		       &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	cr_assert_eq(n, 8);
	return (double)v[7] * 1e9 / (double)sysconf(_SC_CLK_TCK);
}

/* The hosted hook accounts the calling thread: a 20 ms spin is 20 ms of wall
 * and (unless preempted) CPU time, net of the marker's own footprint. */
Test(region, hosted_hook_accounts_the_thread)
{
	struct wl_env env = {0};
	cr_assert_eq(hosted_region_install(&env), 0);
	cr_assert_not_null(env.region);
	double steal0 = host_steal_ns();
	wl_region_begin(&env, "spin");
	spin_ms(20);
	wl_region_end(&env, "spin");
	double steal = host_steal_ns() - steal0;
	wl_region_begin(&env, "bad label"); /* counted, ignored */
	wl_region_end(&env, "nobegin");
	json_t *j = hosted_region_to_json();
	json_t *null = json_object_get(j, "null"), *list = json_object_get(j, "list");
	cr_assert_eq(json_integer_value(json_object_get(null, "n")), VTX_REGION_NULL_COUNT);
	cr_assert_eq(json_array_size(list), 1);
	json_t *spin = json_array_get(list, 0);
	cr_assert_str_eq(json_string_value(json_object_get(spin, "label")), "spin");
	double wall = (double)json_integer_value(json_object_get(spin, "wall_ns"));
	double cpu = (double)json_integer_value(json_object_get(spin, "run_ns"));
	double wait = (double)json_integer_value(json_object_get(spin, "wait_ns"));
	/* the spin's 20 ms, however long the thread waited for the CPU meanwhile; the
	 * interval is the thread's CPU time plus its run-queue wait (5 ms of slack for
	 * the markers, plus what the outer hypervisor stole meanwhile, counted in
	 * /proc/stat ticks: measured under make test's load, 6.4 ms of a 32.8 ms
	 * interval were neither CPU time nor wait) */
	double slack = 5e6 + (steal > 0 ? steal + 1e9 / (double)sysconf(_SC_CLK_TCK) : 0);
	cr_assert(wall >= 20e6, "wall %.0f ns", wall);
	cr_assert(cpu <= wall * 1.01 && cpu + wait >= wall - slack && cpu + wait <= wall + 1e6,
		  "cpu %.0f wait %.0f wall %.0f host steal %.0f", cpu, wait, wall, steal);
	json_t *err = json_object_get(j, "errors");
	cr_assert_eq(json_integer_value(json_object_get(err, "bad_label")), 1);
	cr_assert_eq(json_integer_value(json_object_get(err, "bad_sequence")), 1);
	cr_assert_eq(json_integer_value(json_object_get(j, "markers")),
		     2 * VTX_REGION_NULL_COUNT + 4);
	json_decref(j);
	hosted_region_release();
	cr_assert(json_is_null(hosted_region_to_json()));
}
