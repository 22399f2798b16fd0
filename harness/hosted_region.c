/*
 * Timed-region accounting of the hosted runner (`virttax baseline`): the
 * host side of wl_env.region (include/virttax/region.h).
 *
 * Why: the VM side accounts each timed interval in vmm-lite (exits, KVM
 * stats, the vCPU thread's CPU time, run delay and context switches). The
 * bare side must be accounted the same way, or a scheduling difference
 * between the two cannot be told from a virtualization cost: same thread
 * fields, same null regions measuring the marker's own footprint, same
 * table and JSON (vmm-lite/region_table.c), written by `--stats-json FILE`.
 * The workload runs on the runner's main thread, whose schedstat is opened
 * once at install.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness/hosted.h"
#include "virttax/workload.h"
#include "vmm-lite/vmm.h"

static struct {
	bool on;
	struct region_table table;
	struct region_cursor c;
	uint64_t cur[REGION_NTHREAD];
	uint64_t markers;
} hr = {.c = {.schedstat_fd = -1}};

static void hosted_region_mark(struct wl_env *env, unsigned edge, const char *label)
{
	(void)env;
	hr.markers++;
	if (!vtx_region_label_ok(label, VTX_REGION_LABEL_MAX)) {
		hr.table.errors[REGION_ERR_LABEL]++;
		return;
	}
	if (edge == VTX_REGION_BEGIN) {
		region_cursor_abandon(&hr.table, &hr.c);
		if (region_thread_snapshot(hr.c.schedstat_fd, hr.c.begin, false))
			hr.table.errors[REGION_ERR_SNAPSHOT]++;
		else
			region_cursor_open(&hr.c, label);
	} else if (edge == VTX_REGION_END) {
		if (!region_cursor_close(&hr.table, &hr.c, label))
			return;
		if (region_thread_snapshot(hr.c.schedstat_fd, hr.cur, true))
			hr.table.errors[REGION_ERR_SNAPSHOT]++;
		else
			region_table_close(&hr.table, label, hr.cur, hr.c.begin, NULL, 0);
	} else {
		hr.table.errors[REGION_ERR_EDGE]++;
	}
}

int hosted_region_install(struct wl_env *env)
{
	int rc;

	hosted_region_release();
	if ((rc = region_table_init(&hr.table, 0, 0)) ||
	    (rc = region_cursor_init(&hr.c, &hr.table, "/proc/thread-self/schedstat"))) {
		hosted_region_release();
		return rc;
	}
	if (hr.c.schedstat_fd < 0) {
		rc = -errno;
		hosted_region_release();
		return rc ? rc : -EIO;
	}
	hr.on = true;
	env->region = hosted_region_mark;
	for (int i = 0; i < VTX_REGION_NULL_COUNT; i++) {
		hosted_region_mark(env, VTX_REGION_BEGIN, VTX_REGION_NULL_LABEL);
		hosted_region_mark(env, VTX_REGION_END, VTX_REGION_NULL_LABEL);
	}
	return 0;
}

json_t *hosted_region_to_json(void)
{
	if (!hr.on)
		return json_null();
	struct region_desc desc = {0};
	return region_table_to_json(&hr.table, &desc, hr.markers, hr.c.open ? 1 : 0);
}

void hosted_region_release(void)
{
	region_cursor_release(&hr.c);
	region_table_free(&hr.table);
	hr.on = false;
	hr.markers = 0;
}
