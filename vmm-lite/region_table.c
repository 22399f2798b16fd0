/*
 * Timed-region accounting: per label, the number of intervals and the sums
 * of their deltas, the marker's own footprint, and the errors a guest can
 * cause (include/virttax/region.h).
 *
 * Why a file of its own: both sides account regions the same way and report
 * them in the same JSON shape: vmm-lite's marker device (dev_region.c, with
 * exits and KVM stats) and the hosted runner (harness/hosted_region.c,
 * thread counters only). Pure code over arrays, unit tested.
 *
 * Values of one interval are laid out [REGION_NTHREAD thread fields][vCPU
 * KVM stats summed over vCPUs][VM KVM stats]. The null regions (label
 * VTX_REGION_NULL_LABEL) are empty intervals: their per-field minimum is the
 * footprint of one marker, and every reported value is net of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "vmm-lite/vmm.h"

static const char *const region_error_names[REGION_ERR_COUNT] = {
    [REGION_ERR_ACCESS] = "bad_access",	       [REGION_ERR_GPA] = "bad_gpa",
    [REGION_ERR_MAGIC] = "bad_magic",	       [REGION_ERR_EDGE] = "bad_edge",
    [REGION_ERR_LABEL] = "bad_label",	       [REGION_ERR_SEQUENCE] = "bad_sequence",
    [REGION_ERR_SEQ_GAP] = "seq_gaps",	       [REGION_ERR_TOO_MANY] = "too_many_labels",
    [REGION_ERR_SNAPSHOT] = "snapshot_failed",
};

/* ---- pure accounting (unit tested) ---- */

int region_table_init(struct region_table *t, uint32_t nvcpu_stats, uint32_t nvm_stats)
{
	memset(t, 0, sizeof(*t));
	t->nvcpu_stats = nvcpu_stats;
	t->nvm_stats = nvm_stats;
	t->nvals = REGION_NTHREAD + nvcpu_stats + nvm_stats;
	t->null_min = malloc(t->nvals * sizeof(uint64_t));
	if (!t->null_min)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->nvals; i++)
		t->null_min[i] = UINT64_MAX;
	return 0;
}

void region_table_free(struct region_table *t)
{
	for (uint32_t i = 0; i < t->nacc; i++) {
		free(t->acc[i].sum);
		free(t->acc[i].shortest);
	}
	free(t->null_min);
	memset(t, 0, sizeof(*t));
}

static struct region_acc *acc_get(struct region_table *t, const char *label)
{
	for (uint32_t i = 0; i < t->nacc; i++)
		if (!strcmp(t->acc[i].label, label))
			return &t->acc[i];
	if (t->nacc == REGION_MAX_LABELS)
		return NULL;
	struct region_acc *a = &t->acc[t->nacc];
	memset(a, 0, sizeof(*a));
	a->sum = calloc(t->nvals, sizeof(uint64_t));
	a->shortest = calloc(t->nvals, sizeof(uint64_t));
	if (!a->sum || !a->shortest) {
		free(a->sum);
		free(a->shortest);
		return NULL;
	}
	snprintf(a->label, sizeof(a->label), "%s", label);
	t->nacc++;
	return a;
}

static void acc_add_exit(struct region_acc *a, const char *key, uint64_t count)
{
	for (uint32_t i = 0; i < a->nexits; i++)
		if (!strcmp(a->exits[i].key, key)) {
			a->exits[i].count += count;
			return;
		}
	if (a->nexits == REGION_MAX_EXIT_KEYS || strlen(key) >= sizeof(a->exits[0].key)) {
		a->exits_other += count;
		return;
	}
	snprintf(a->exits[a->nexits].key, sizeof(a->exits[0].key), "%s", key);
	a->exits[a->nexits++].count = count;
}

/* One closed interval: d[] are the deltas (t->nvals), exits the userspace
 * exit deltas of the marker's vCPU (keys, counts). */
int region_table_add(struct region_table *t, const char *label, const uint64_t *d,
		     const struct region_exit *exits, uint32_t nexits)
{
	if (!strcmp(label, VTX_REGION_NULL_LABEL)) {
		for (uint32_t i = 0; i < t->nvals; i++)
			if (d[i] < t->null_min[i])
				t->null_min[i] = d[i];
		t->nnull++;
		return 0;
	}
	struct region_acc *a = acc_get(t, label);
	if (!a) {
		t->errors[REGION_ERR_TOO_MANY]++;
		return -ENOSPC;
	}
	if (!a->n || d[0] < a->shortest[0]) /* field 0 is wall_ns */
		memcpy(a->shortest, d, t->nvals * sizeof(uint64_t));
	a->n++;
	for (uint32_t i = 0; i < t->nvals; i++)
		a->sum[i] += d[i];
	for (uint32_t i = 0; i < nexits; i++)
		acc_add_exit(a, exits[i].key, exits[i].count);
	return 0;
}

uint64_t region_net(const struct region_table *t, const uint64_t *v, uint64_t n, uint32_t i)
{
	uint64_t fp = t->nnull && t->null_min[i] != UINT64_MAX ? t->null_min[i] : 0;
	uint64_t sub = fp && n > UINT64_MAX / fp ? UINT64_MAX : fp * n;

	return v[i] > sub ? v[i] - sub : 0;
}

/* ---- the guest's marker descriptor ---- */

/* Copy the descriptor out of guest RAM, then check it. 0 or the error slot. */
int region_marker_check(const struct guest_layout *l, void *ram, uint64_t gpa,
			struct vtx_region_marker *m)
{
	const void *p = layout_gpa_to_hva(l, ram, gpa, sizeof(*m));

	if (!p || !layout_is_ram(l, gpa, sizeof(*m)))
		return REGION_ERR_GPA;
	memcpy(m, p, sizeof(*m)); /* the guest may change it meanwhile: use the copy */
	if (m->magic != VTX_REGION_MAGIC)
		return REGION_ERR_MAGIC;
	if (m->edge != VTX_REGION_BEGIN && m->edge != VTX_REGION_END)
		return REGION_ERR_EDGE;
	if (!vtx_region_label_ok(m->label, sizeof(m->label)))
		return REGION_ERR_LABEL;
	return 0;
}

/* ---- begin/end bookkeeping of one marker source (a vCPU, the host thread) ---- */

int region_cursor_init(struct region_cursor *c, const struct region_table *t,
		       const char *schedstat_path)
{
	memset(c, 0, sizeof(*c));
	c->schedstat_fd = open(schedstat_path, O_RDONLY | O_CLOEXEC);
	c->begin = calloc(t->nvals ? t->nvals : 1, sizeof(uint64_t));
	return c->begin ? 0 : -ENOMEM;
}

void region_cursor_release(struct region_cursor *c)
{
	if (c->schedstat_fd >= 0)
		close(c->schedstat_fd);
	free(c->begin);
	memset(c, 0, sizeof(*c));
	c->schedstat_fd = -1;
}

void region_cursor_abandon(struct region_table *t, struct region_cursor *c)
{
	if (c->open)
		t->errors[REGION_ERR_SEQUENCE]++; /* begin inside a region: the old one goes */
	c->open = false;
}

void region_cursor_open(struct region_cursor *c, const char *label)
{
	snprintf(c->label, sizeof(c->label), "%s", label);
	c->open = true;
}

bool region_cursor_close(struct region_table *t, struct region_cursor *c, const char *label)
{
	bool ok = c->open && !strcmp(c->label, label);

	if (!ok)
		t->errors[REGION_ERR_SEQUENCE]++;
	c->open = false;
	return ok;
}

void region_table_close(struct region_table *t, const char *label, uint64_t *cur,
			const uint64_t *begin, const struct region_exit *exits, uint32_t nexits)
{
	for (uint32_t i = 0; i < t->nvals; i++)
		cur[i] = cur[i] > begin[i] ? cur[i] - begin[i] : 0;
	region_table_add(t, label, cur, exits, nexits);
}

/* ---- thread counters ---- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* run delay and timeslices from schedstat. Its first field (run time) is
 * only brought up to date at scheduler events, so the CPU time comes from
 * CLOCK_THREAD_CPUTIME_ID, which is exact for the calling thread. */
static int read_schedstat(int fd, uint64_t *wait, uint64_t *slices)
{
	char buf[128];
	uint64_t run;
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);

	if (r <= 0)
		return -EIO;
	buf[r] = 0;
	return sscanf(buf, "%" SCNu64 " %" SCNu64 " %" SCNu64, &run, wait, slices) == 3 ? 0 : -EIO;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The thread fields of a snapshot of the calling thread. The clocks are
 * read first at an end marker and last at a begin marker, so that the
 * interval holds as little of the marker's own handling as possible.
 * A switch inside the snapshot (the getrusage and pread system calls are
 * preemption points) would put a run-queue wait on one side of the clocks
 * and its run-delay reading on the other: under load a 0.5 ms interval
 * then held 4.4 ms of "wait". So the timeslice count is read before and
 * after, and the snapshot is retried (bounded) until it did not move. */
int region_thread_snapshot(int schedstat_fd, uint64_t *v, bool end)
{
	struct rusage ru;
	uint64_t wait0, slices0 = 0;
	int r = 0;

	for (int tries = 0; tries < REGION_SNAPSHOT_TRIES; tries++) {
		if (schedstat_fd >= 0 && read_schedstat(schedstat_fd, &wait0, &slices0))
			return -EIO;
		if (end) {
			v[0] = mono_ns();
			v[1] = thread_cpu_ns();
		}
		r = schedstat_fd < 0 ? -EBADF : read_schedstat(schedstat_fd, &v[2], &v[3]);
		if (!r && getrusage(RUSAGE_THREAD, &ru))
			r = -errno;
		v[4] = r ? 0 : (uint64_t)ru.ru_nvcsw;
		v[5] = r ? 0 : (uint64_t)ru.ru_nivcsw;
		if (!end) {
			v[1] = thread_cpu_ns();
			v[0] = mono_ns();
		}
		if (r || schedstat_fd < 0)
			return r;
		if (!end && read_schedstat(schedstat_fd, &v[2], &v[3]))
			return -EIO;
		if (v[3] == slices0)
			return 0;
	}
	return 0; /* switched every time: the last snapshot, as read */
}

/* ---- JSON ---- */
static const char *const thread_field_names[REGION_NTHREAD] = {"wall_ns",
							       "run_ns",
							       "wait_ns",
							       "timeslices",
							       "voluntary_ctxt_switches",
							       "nonvoluntary_ctxt_switches"};

/* The non-zero counters among KVM stats [first, first+count) of v. */
static json_t *kvm_fields_json(const struct region_table *t, const uint64_t *v, uint64_t n,
			       uint32_t first, uint32_t count, const struct kvm_stats_snap *desc)
{
	json_t *o = json_object();

	for (uint32_t k = 0; k < count; k++) {
		uint64_t x = n ? region_net(t, v, n, first + k) : v[first + k];

		if (!kvm_stat_is_counter(&desc->stats[k]) || !x || x == UINT64_MAX)
			continue;
		json_object_set_new(o, desc->stats[k].name, json_integer((json_int_t)x));
	}
	return o;
}

/* Thread fields and KVM counters of v: net of n null footprints (n = 0: v as is). */
static void fields_json(json_t *o, const struct region_table *t, const uint64_t *v, uint64_t n,
			const struct region_desc *desc)
{
	uint32_t nv = t->nvcpu_stats, nm = t->nvm_stats;

	for (uint32_t i = 0; i < REGION_NTHREAD; i++) {
		uint64_t x = n ? region_net(t, v, n, i) : v[i];

		json_object_set_new(o, thread_field_names[i],
				    x == UINT64_MAX ? json_null() : json_integer((json_int_t)x));
	}
	json_object_set_new(o, "kvm_vcpu",
			    nv ? kvm_fields_json(t, v, n, REGION_NTHREAD, nv, desc->vcpu)
			       : json_object());
	json_object_set_new(o, "kvm_vm",
			    nm ? kvm_fields_json(t, v, n, REGION_NTHREAD + nv, nm, desc->vm)
			       : json_object());
}

static json_t *acc_json(const struct region_table *t, const struct region_acc *a,
			const struct region_desc *desc)
{
	json_t *o = json_pack("{s:s,s:I}", "label", a->label, "n", (json_int_t)a->n);
	json_t *ex = json_object(), *shortest = json_object();

	fields_json(o, t, a->sum, a->n, desc);
	for (uint32_t i = 0; i < a->nexits; i++)
		json_object_set_new(ex, a->exits[i].key,
				    json_integer((json_int_t)a->exits[i].count));
	json_object_set_new(o, "exits", ex);
	json_object_set_new(o, "exits_other", json_integer((json_int_t)a->exits_other));
	fields_json(shortest, t, a->shortest, 1, desc);
	json_object_set_new(o, "shortest", shortest);
	return o;
}

static json_t *null_json(const struct region_table *t, const struct region_desc *desc)
{
	json_t *o = json_pack("{s:I}", "n", (json_int_t)t->nnull);

	fields_json(o, t, t->null_min, 0, desc);
	return o;
}

json_t *region_table_to_json(const struct region_table *t, const struct region_desc *desc,
			     uint64_t markers, uint64_t unclosed)
{
	json_t *errors = json_object(), *list = json_array();

	for (uint32_t i = REGION_ERR_ACCESS; i < REGION_ERR_COUNT; i++)
		json_object_set_new(errors, region_error_names[i],
				    json_integer((json_int_t)t->errors[i]));
	json_object_set_new(errors, "unclosed", json_integer((json_int_t)unclosed));
	for (uint32_t i = 0; t->null_min && i < t->nacc; i++)
		json_array_append_new(list, acc_json(t, &t->acc[i], desc));
	return json_pack("{s:I,s:o,s:o,s:o}", "markers", (json_int_t)markers, "null",
			 t->null_min ? null_json(t, desc) : json_null(), "errors", errors, "list",
			 list);
}
