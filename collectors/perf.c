/*
 * perf: perf_event_open counters on each target thread.
 *
 * Why: software events (task-clock, context switches, migrations, faults)
 * work everywhere and show where a thread's time went; hardware events
 * (cycles, instructions, dTLB misses, page-walk cycles, LLC misses) explain
 * the memory-virtualization part of the overhead. On vCPU threads hardware
 * events are counted twice, exclude_host (guest) and exclude_guest (host:
 * KVM and VMM), which splits the thread's time. No PMU (this machine) means
 * "hardware" reports unavailable and the software events still run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "collectors/internal.h"

struct perf_def {
	const char *label;	  /* key in the JSON */
	const char *const *names; /* libpfm4 names, first that encodes wins */
	const char *unit;
};

static const char *const n_task_clock[] = {"perf::task-clock", NULL};
static const char *const n_ctx[] = {"perf::context-switches", NULL};
static const char *const n_migr[] = {"perf::cpu-migrations", NULL};
static const char *const n_pf[] = {"perf::page-faults", NULL};
static const char *const n_majf[] = {"perf::major-faults", NULL};
static const char *const n_cycles[] = {"perf::cycles", NULL};
static const char *const n_insn[] = {"perf::instructions", NULL};
static const char *const n_dtlb_ld[] = {"perf::dTLB-load-misses", NULL};
static const char *const n_dtlb_st[] = {"perf::dTLB-store-misses", NULL};
static const char *const n_llc[] = {"perf::LLC-load-misses", NULL};

static const struct perf_def sw_defs[] = {
    {"task-clock", n_task_clock, "ns"},	 {"context-switches", n_ctx, "count"},
    {"cpu-migrations", n_migr, "count"}, {"page-faults", n_pf, "count"},
    {"major-faults", n_majf, "count"},
};
static const struct perf_def hw_defs[] = {
    {"cycles", n_cycles, "cycles"},
    {"instructions", n_insn, "instructions"},
    {"dtlb-load-misses", n_dtlb_ld, "count"},
    {"dtlb-store-misses", n_dtlb_st, "count"},
    {"page-walk-cycles", NULL /* perfev_walk_names() */, "cycles"},
    {"llc-misses", n_llc, "count"},
};
#define N_SW (sizeof(sw_defs) / sizeof(sw_defs[0]))
#define N_HW (sizeof(hw_defs) / sizeof(hw_defs[0]))

enum scope { SCOPE_ALL, SCOPE_GUEST, SCOPE_HOST };
static const char *const scope_names[] = {"all", "guest", "host"};

struct perf_counter {
	const struct perf_def *def;
	enum scope scope;
	size_t thread; /* index into target->tids */
	int fd;
	int err; /* -errno: open/read failed */
	double value;
	bool multiplexed;
	uint64_t enabled_ns, running_ns;
};

struct perf_priv {
	bool exclude_kernel;
	char hw_why[160]; /* hardware unavailable: why */
	char hw_unresolved[N_HW][96];
	const char *hw_names[N_HW]; /* resolved libpfm4 name per hw def (NULL: unresolved) */
	size_t n;
	struct perf_counter c[];
};

static long sys_perf_event_open(struct perf_event_attr *a, pid_t tid)
{
	return syscall(SYS_perf_event_open, a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static int perf_probe(char *why, size_t whylen)
{
	struct perf_event_attr a;
	int rc = perfev_encode("perf::task-clock", &a, why, whylen);
	if (rc)
		return rc;
	a.disabled = 1;
	a.exclude_kernel = geteuid() != 0;
	int fd = (int)sys_perf_event_open(&a, 0);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		return coll_fail(
		    why, whylen, errno,
		    "unavailable: perf_event_open(task-clock): %s (perf_event_paranoid=%d, "
		    "not root)",
		    strerror(errno), perfev_paranoid());
	if (fd < 0)
		return coll_fail(why, whylen, errno, "unavailable: perf_event_open(task-clock): %s",
				 strerror(errno));
	close(fd);
	return 0;
}

static const char *resolve(const struct perf_def *d, char *why, size_t whylen)
{
	const char *const *names = d->names ? d->names : perfev_walk_names(perfev_host_vendor());
	struct perf_event_attr a;
	for (size_t i = 0; names[i]; i++)
		if (!perfev_encode(names[i], &a, why, whylen))
			return names[i];
	if (!d->names)
		snprintf(why, whylen,
			 "unavailable: no page-walk-cycles event known to libpfm4 "
			 "for this PMU (%s)",
			 x86_vendor_name(perfev_host_vendor()));
	return NULL;
}

static void open_counter(struct perf_priv *p, struct perf_counter *pc, const char *name, pid_t tid)
{
	struct perf_event_attr a;
	char why[96];
	pc->fd = -1;
	pc->err = perfev_encode(name, &a, why, sizeof(why));
	if (pc->err)
		return;
	a.disabled = 1;
	a.inherit = 0;
	a.exclude_kernel = p->exclude_kernel;
	a.exclude_host = pc->scope == SCOPE_GUEST;
	a.exclude_guest = pc->scope == SCOPE_HOST;
	a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	long fd = sys_perf_event_open(&a, tid);
	pc->err = fd < 0 ? -errno : 0;
	pc->fd = fd < 0 ? -1 : (int)fd;
}

static size_t count_counters(const struct collector_target *t, bool hw)
{
	size_t per_thread = N_SW + (hw ? N_HW * (t->kind == CT_VM ? 2 : 1) : 0);
	return per_thread * t->ntids;
}

static void add_counters(struct perf_priv *p, const struct collector_target *t, size_t th, bool hw)
{
	for (size_t i = 0; i < N_SW; i++) {
		struct perf_counter *pc = &p->c[p->n++];
		*pc = (struct perf_counter){.def = &sw_defs[i], .scope = SCOPE_ALL, .thread = th};
		open_counter(p, pc, sw_defs[i].names[0], t->tids[th]);
	}
	for (size_t i = 0; hw && i < N_HW; i++) {
		if (!p->hw_names[i])
			continue;
		enum scope first = t->kind == CT_VM ? SCOPE_GUEST : SCOPE_ALL;
		enum scope last = t->kind == CT_VM ? SCOPE_HOST : SCOPE_ALL;
		for (enum scope s = first; s <= last; s++) {
			struct perf_counter *pc = &p->c[p->n++];
			*pc = (struct perf_counter){.def = &hw_defs[i], .scope = s, .thread = th};
			open_counter(p, pc, p->hw_names[i], t->tids[th]);
		}
	}
}

static int perf_open(struct collector *c, const struct collector_target *t)
{
	char why[160] = "";
	if (!t->ntids)
		return coll_fail(c->why, sizeof(c->why), EINVAL,
				 "unavailable: the target named no threads");
	bool hw = perfev_hw_probe(why, sizeof(why)) == 0;
	struct perf_priv *p = calloc(1, sizeof(*p) + count_counters(t, hw) * sizeof(p->c[0]));
	if (!p)
		return -ENOMEM;
	snprintf(p->hw_why, sizeof(p->hw_why), "%s", why);
	p->exclude_kernel = geteuid() != 0;
	for (size_t i = 0; hw && i < N_HW; i++)
		p->hw_names[i] =
		    resolve(&hw_defs[i], p->hw_unresolved[i], sizeof(p->hw_unresolved[i]));
	for (size_t th = 0; th < t->ntids; th++)
		add_counters(p, t, th, hw);
	c->priv = p;
	return 0;
}

static int perf_start(struct collector *c)
{
	struct perf_priv *p = c->priv;
	for (size_t i = 0; i < p->n; i++) {
		struct perf_counter *pc = &p->c[i];
		if (pc->fd < 0)
			continue;
		if (ioctl(pc->fd, PERF_EVENT_IOC_RESET, 0) ||
		    ioctl(pc->fd, PERF_EVENT_IOC_ENABLE, 0))
			pc->err = -errno;
	}
	return 0;
}

static void read_counter(struct perf_counter *pc)
{
	uint64_t v[3];
	if (ioctl(pc->fd, PERF_EVENT_IOC_DISABLE, 0)) {
		pc->err = -errno;
		return;
	}
	ssize_t n = read(pc->fd, v, sizeof(v));
	if (n != (ssize_t)sizeof(v)) {
		pc->err = n < 0 ? -errno : -EIO;
		return;
	}
	pc->value = perfev_scale(v[0], v[1], v[2], &pc->multiplexed);
	pc->enabled_ns = v[1];
	pc->running_ns = v[2];
}

static int perf_stop(struct collector *c)
{
	struct perf_priv *p = c->priv;
	for (size_t i = 0; i < p->n; i++)
		if (p->c[i].fd >= 0 && !p->c[i].err)
			read_counter(&p->c[i]);
	return 0;
}

static json_t *counter_json(const struct perf_counter *pc)
{
	if (pc->err)
		return json_pack("{s:b,s:s}", "available", 0, "reason", strerror(-pc->err));
	return json_pack("{s:f,s:s,s:b,s:I,s:I}", "value", pc->value, "unit", pc->def->unit,
			 "multiplexed", pc->multiplexed, "enabled_ns", (json_int_t)pc->enabled_ns,
			 "running_ns", (json_int_t)pc->running_ns);
}

static json_t *thread_json(const struct perf_priv *p, const struct collector_target *t, size_t th)
{
	json_t *sw = json_object(), *hw = json_object();
	for (size_t i = 0; i < p->n; i++) {
		const struct perf_counter *pc = &p->c[i];
		if (pc->thread != th)
			continue;
		if (pc->def >= sw_defs && pc->def < sw_defs + N_SW) {
			json_object_set_new(sw, pc->def->label, counter_json(pc));
			continue;
		}
		json_t *ev = json_object_get(hw, pc->def->label);
		if (!ev)
			json_object_set_new(hw, pc->def->label, ev = json_object());
		json_object_set_new(ev, scope_names[pc->scope], counter_json(pc));
	}
	char role[32];
	if (t->kind == CT_VM)
		snprintf(role, sizeof(role), "vcpu%zu", th);
	else
		snprintf(role, sizeof(role), "workload");
	return json_pack("{s:s,s:i,s:o,s:o}", "role", role, "tid", (int)t->tids[th], "software", sw,
			 "hardware", hw);
}

static json_t *hardware_json(const struct perf_priv *p, const struct collector_target *t)
{
	if (p->hw_why[0])
		return json_pack("{s:b,s:s}", "available", 0, "reason", p->hw_why);
	json_t *ev = json_object(), *unres = json_object();
	for (size_t i = 0; i < N_HW; i++) {
		if (p->hw_names[i])
			json_object_set_new(ev, hw_defs[i].label, json_string(p->hw_names[i]));
		else
			json_object_set_new(unres, hw_defs[i].label,
					    json_string(p->hw_unresolved[i]));
	}
	return json_pack("{s:b,s:o,s:o,s:s}", "available", 1, "events", ev, "unresolved", unres,
			 "split",
			 t->kind == CT_VM ? "guest (exclude_host) / host (exclude_guest)" : "all");
}

static json_t *perf_to_json(struct collector *c)
{
	struct perf_priv *p = c->priv;
	json_t *threads = json_array();
	for (size_t th = 0; th < c->target->ntids; th++)
		json_array_append_new(threads, thread_json(p, c->target, th));
	return json_pack(
	    "{s:o,s:o,s:s}", "hardware", hardware_json(p, c->target), "threads", threads, "kernel",
	    p->exclude_kernel ? "excluded: not root (perf_event_paranoid)" : "counted");
}

static void perf_close(struct collector *c)
{
	struct perf_priv *p = c->priv;
	for (size_t i = 0; p && i < p->n; i++)
		if (p->c[i].fd >= 0)
			close(p->c[i].fd);
	free(p);
	c->priv = NULL;
}

const struct collector_ops perf_collector = {
    .name = "perf",
    .probe = perf_probe,
    .open = perf_open,
    .start = perf_start,
    .stop = perf_stop,
    .to_json = perf_to_json,
    .close = perf_close,
};
