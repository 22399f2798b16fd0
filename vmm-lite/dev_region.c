/*
 * Timed-region marker device (port 0x4e0, include/virttax/region.h).
 *
 * Why: the decomposition must charge only the exits that happened inside a
 * workload's timed interval, not the whole VM life (boot, protocol output,
 * set-up). The agent writes the guest-physical address of a marker
 * descriptor here just before and just after each interval; at each marker
 * this device snapshots, on the vCPU thread that sent it, that vCPU's
 * userspace exit counts, the KVM binary stats of every vCPU and of the VM,
 * and the thread's scheduler counters, and hands the deltas to the per-label
 * table (region_table.c, shared with the hosted runner). Nothing here runs
 * inside the measured interval.
 *
 * What the marker costs itself is measured, not assumed: the null regions'
 * footprint is netted out by the table; the marker port's own userspace
 * exits are never reported. The guest is untrusted: see region_table.c
 * (descriptor check) and docs/VMM-LITE.md "Timed regions" for every bound.
 * Host work per marker, for the seccomp allow-list: pread on the KVM stats
 * fds and on a schedstat fd opened before the first KVM_RUN,
 * getrusage(RUSAGE_THREAD), clock_gettime, gettid and a mutex; no
 * allocation, no open.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virttax/region.h"
#include "vmm-lite/vmm.h"

/* ---- the device ---- */

struct region_vcpu {
	struct region_cursor c;
	uint64_t last_seq;
	uint64_t exits0[EXIT_STATS_MAX_KEYS]; /* by index in the vCPU's exit table */
	uint32_t nexits0;
};

struct region_dev {
	struct bus_dev dev;
	struct vm *vm;
	pthread_mutex_t lock;
	bool started;
	struct region_table table;
	uint8_t *buf; /* one stats data block */
	size_t buflen;
	uint64_t *vals; /* one stats fd's values */
	uint64_t *cur;	/* snapshot at an end marker */
	struct region_vcpu vcpu[VMM_MAX_VCPUS];
	struct region_exit dexits[EXIT_STATS_MAX_KEYS];
	uint64_t markers;
};

/* The KVM fields: every vCPU's counters summed per stat, then the VM's. */
static int snap_kvm(struct region_dev *r, uint64_t *v)
{
	struct vm *vm = r->vm;
	uint32_t nv = r->table.nvcpu_stats, nm = r->table.nvm_stats;
	uint64_t *sum = v + REGION_NTHREAD;

	memset(sum, 0, nv * sizeof(uint64_t));
	for (uint32_t i = 0; nv && i < vm->nvcpus; i++) {
		if (kvm_stats_read_values(&vm->vcpus[i].kstats, r->buf, r->buflen, r->vals))
			return -EIO;
		for (uint32_t k = 0; k < nv; k++)
			sum[k] += r->vals[k];
	}
	if (nm && kvm_stats_read_values(&vm->vm_kstats, r->buf, r->buflen, sum + nv))
		return -EIO;
	return 0;
}

static struct vcpu *calling_vcpu(struct vm *vm)
{
	pid_t tid = gettid();

	for (uint32_t i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].tid == tid)
			return &vm->vcpus[i];
	return NULL;
}

static void on_begin(struct region_dev *r, struct vcpu *v, struct region_vcpu *rv,
		     const char *label)
{
	const struct exit_stats *es = &v->exits;

	region_cursor_abandon(&r->table, &rv->c);
	if (snap_kvm(r, rv->c.begin)) {
		r->table.errors[REGION_ERR_SNAPSHOT]++;
		return;
	}
	rv->nexits0 = es->n;
	for (uint32_t i = 0; i < es->n; i++)
		rv->exits0[i] = es->b[i].count;
	if (region_thread_snapshot(rv->c.schedstat_fd, rv->c.begin, false)) {
		r->table.errors[REGION_ERR_SNAPSHOT]++;
		return;
	}
	region_cursor_open(&rv->c, label);
}

/* Userspace exits of this vCPU since the begin marker, the marker port's
 * own exits left out. */
static uint32_t exit_deltas(struct region_dev *r, const struct exit_stats *es,
			    const struct region_vcpu *rv)
{
	char marker_key[32];
	uint32_t n = 0;

	exit_key(marker_key, sizeof(marker_key), KVM_EXIT_IO, VTX_REGION_PORT);
	for (uint32_t i = 0; i < es->n && n < EXIT_STATS_MAX_KEYS; i++) {
		uint64_t before = i < rv->nexits0 ? rv->exits0[i] : 0;

		if (es->b[i].count == before || !strcmp(es->b[i].key, marker_key))
			continue;
		r->dexits[n].key = es->b[i].key;
		r->dexits[n++].count = es->b[i].count - before;
	}
	return n;
}

static void on_end(struct region_dev *r, struct vcpu *v, struct region_vcpu *rv, const char *label)
{
	uint64_t *cur = r->cur;

	if (!region_cursor_close(&r->table, &rv->c, label))
		return;
	if (region_thread_snapshot(rv->c.schedstat_fd, cur, true) || snap_kvm(r, cur)) {
		r->table.errors[REGION_ERR_SNAPSHOT]++;
		return;
	}
	uint32_t ne = exit_deltas(r, &v->exits, rv);

	region_table_close(&r->table, label, cur, rv->c.begin, r->dexits, ne);
}

static void region_marker(struct region_dev *r, uint32_t gpa)
{
	struct vm *vm = r->vm;
	struct vtx_region_marker m;
	struct vcpu *v = calling_vcpu(vm);
	int bad = v ? region_marker_check(&vm->layout, vm->mem.ram, gpa, &m) : REGION_ERR_ACCESS;

	pthread_mutex_lock(&r->lock);
	r->markers++;
	if (bad || !r->started) {
		r->table.errors[bad ? bad : REGION_ERR_SNAPSHOT]++;
		pthread_mutex_unlock(&r->lock);
		return;
	}
	struct region_vcpu *rv = &r->vcpu[v->index];

	if (m.seq != rv->last_seq + 1)
		r->table.errors[REGION_ERR_SEQ_GAP]++;
	rv->last_seq = m.seq;
	if (m.edge == VTX_REGION_BEGIN)
		on_begin(r, v, rv, m.label);
	else
		on_end(r, v, rv, m.label);
	pthread_mutex_unlock(&r->lock);
}

static void region_read(struct bus_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
	uint32_t magic = VTX_REGION_MAGIC;

	(void)d;
	memset(data, 0, len);
	if (off < 4)
		memcpy(data, (uint8_t *)&magic + off, len < 4 - off ? len : 4 - off);
}

static void region_write(struct bus_dev *d, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct region_dev *r = d->priv;
	uint32_t gpa;

	if (off != 0 || len != 4) {
		pthread_mutex_lock(&r->lock);
		r->table.errors[REGION_ERR_ACCESS]++;
		pthread_mutex_unlock(&r->lock);
		return;
	}
	memcpy(&gpa, data, 4);
	region_marker(r, gpa);
}

static const struct bus_dev_ops region_ops = {
    .name = "region-marker", .read = region_read, .write = region_write};

int region_init(struct vm *vm)
{
	struct region_dev *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->vm = vm;
	pthread_mutex_init(&r->lock, NULL);
	for (uint32_t i = 0; i < VMM_MAX_VCPUS; i++)
		r->vcpu[i].c.schedstat_fd = -1;
	r->dev = (struct bus_dev){.ops = &region_ops, .base = VTX_REGION_PORT, .len = 4, .priv = r};
	int rc = bus_register(&vm->pio, &r->dev);

	if (rc) {
		free(r);
		return rc;
	}
	vm->region = r;
	return 0;
}

/* After the "before" KVM stats snapshot and with the vCPU threads' tids
 * known, before the first KVM_RUN: size the snapshot buffers from the stats
 * descriptors and open each vCPU thread's schedstat, so that a marker does
 * no allocation and no open. Without it every marker is counted as
 * snapshot_failed. */
int region_start(struct vm *vm)
{
	struct region_dev *r = vm->region;
	uint32_t nv = vm->nvcpus ? vm->vcpus[0].kstats.n : 0, nm = vm->vm_kstats.n;
	size_t buflen = vm->vm_kstats.data_len;
	int rc;

	if (!r)
		return -ENODEV;
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		if (vm->vcpus[i].kstats.n != nv || vm->vcpus[i].kstats.fd < 0)
			nv = 0; /* vCPUs that do not all have one table: no per-vCPU stats */
		if (vm->vcpus[i].kstats.data_len > buflen)
			buflen = vm->vcpus[i].kstats.data_len;
	}
	if (vm->vm_kstats.fd < 0)
		nm = 0;
	if ((rc = region_table_init(&r->table, nv, nm)))
		return rc;
	r->buflen = buflen;
	r->buf = malloc(buflen ? buflen : 1);
	r->vals = calloc(nv > nm ? nv + 1 : nm + 1, sizeof(uint64_t));
	r->cur = calloc(r->table.nvals, sizeof(uint64_t));
	if (!r->buf || !r->vals || !r->cur)
		return -ENOMEM;
	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)vm->vcpus[i].tid);
		if ((rc = region_cursor_init(&r->vcpu[i].c, &r->table, path)))
			return rc;
	}
	r->started = true;
	return 0;
}

json_t *region_to_json(const struct vm *vm)
{
	struct region_dev *r = vm->region;

	if (!r)
		return json_null();
	struct region_desc desc = {.vcpu = vm->nvcpus ? &vm->vcpus[0].kstats : NULL,
				   .vm = &vm->vm_kstats};
	uint64_t unclosed = 0;

	pthread_mutex_lock(&r->lock);
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		unclosed += r->vcpu[i].c.open;
	json_t *j = region_table_to_json(&r->table, &desc, r->markers, unclosed);
	pthread_mutex_unlock(&r->lock);
	json_object_set_new(j, "port", json_string("0x4e0"));
	return j;
}

void region_release(struct vm *vm)
{
	struct region_dev *r = vm->region;

	if (!r)
		return;
	for (uint32_t i = 0; i < VMM_MAX_VCPUS; i++)
		region_cursor_release(&r->vcpu[i].c);
	region_table_free(&r->table);
	free(r->buf);
	free(r->vals);
	free(r->cur);
	pthread_mutex_destroy(&r->lock);
	free(r);
	vm->region = NULL;
}
