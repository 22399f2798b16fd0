/*
 * sched: how the host scheduler treated each thread that runs guest or
 * workload code: CPU time, time waiting on a run queue, timeslices, and
 * voluntary/involuntary context switches, as deltas between start and stop.
 *
 * Why: run-queue delay and preemption of a vCPU thread are overhead the
 * guest cannot see; the same numbers for the bare-metal thread make the two
 * sides comparable. Parsers are pure so they are unit tested.
 *
 * Steal-time hook: guest steal time (what the guest saw as stolen, from its
 * kvmclock/steal MSR) will come from the agent's records; when it does it
 * belongs in "steal" next to "threads" (see sched_steal_json()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/internal.h"

int sched_parse_schedstat(const char *text, struct sched_sample *s)
{
	char tail;
	if (sscanf(text, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %c", &s->run_ns, &s->wait_ns,
		   &s->timeslices, &tail) != 3)
		return -EINVAL;
	return 0;
}

/* "Key:\tNUMBER" at the start of a line */
static int status_field(const char *text, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) || p[klen] != ':')
			continue;
		char *end;
		const char *q = p + klen + 1;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q < '0' || *q > '9')
			return -EINVAL;
		errno = 0;
		*out = strtoull(q, &end, 10);
		return errno || (*end && *end != '\n') ? -EINVAL : 0;
	}
	return -ENOENT;
}

int sched_parse_status(const char *text, struct sched_sample *s)
{
	int rc = status_field(text, "voluntary_ctxt_switches", &s->vol_ctxsw);
	if (!rc)
		rc = status_field(text, "nonvoluntary_ctxt_switches", &s->invol_ctxsw);
	return rc;
}

static int read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, len - 1, f);
	int err = ferror(f) ? -EIO : 0;
	fclose(f);
	buf[n] = 0;
	return err;
}

int sched_read(pid_t pid, pid_t tid, struct sched_sample *s)
{
	char path[96], text[4096];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	int rc = read_text(path, text, sizeof(text));
	if (!rc)
		rc = sched_parse_schedstat(text, s);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	rc = read_text(path, text, sizeof(text));
	return rc ? rc : sched_parse_status(text, s);
}

int sched_delta_json(const struct sched_sample *b, const struct sched_sample *a, json_t **out)
{
	if (a->run_ns < b->run_ns || a->wait_ns < b->wait_ns || a->timeslices < b->timeslices ||
	    a->vol_ctxsw < b->vol_ctxsw || a->invol_ctxsw < b->invol_ctxsw)
		return -ERANGE;
	*out = json_pack("{s:I,s:I,s:I,s:I,s:I}", "run_ns", (json_int_t)(a->run_ns - b->run_ns),
			 "wait_ns", (json_int_t)(a->wait_ns - b->wait_ns), "timeslices",
			 (json_int_t)(a->timeslices - b->timeslices), "voluntary_ctxt_switches",
			 (json_int_t)(a->vol_ctxsw - b->vol_ctxsw), "nonvoluntary_ctxt_switches",
			 (json_int_t)(a->invol_ctxsw - b->invol_ctxsw));
	return *out ? 0 : -ENOMEM;
}

/* ---- the collector ---- */

struct sched_thread {
	pid_t tid;
	struct sched_sample start, stop;
	int sampled; /* 0 none, 1 start, 2 start and stop */
	int err;     /* 0, or -errno of the first failed read */
};

struct sched_priv {
	size_t n;
	struct sched_thread th[];
};

static int sched_probe(char *why, size_t whylen)
{
	char text[256];
	if (read_text("/proc/self/schedstat", text, sizeof(text)))
		return coll_fail(why, whylen, ENOTSUP,
				 "unavailable: no /proc/<pid>/schedstat (kernel without "
				 "CONFIG_SCHED_INFO)");
	return 0;
}

static int sched_open(struct collector *c, const struct collector_target *t)
{
	if (!t->ntids)
		return coll_fail(c->why, sizeof(c->why), EINVAL,
				 "unavailable: the target named no threads");
	struct sched_priv *p = calloc(1, sizeof(*p) + t->ntids * sizeof(p->th[0]));
	if (!p)
		return -ENOMEM;
	p->n = t->ntids;
	for (size_t i = 0; i < p->n; i++)
		p->th[i].tid = t->tids[i];
	c->priv = p;
	return 0;
}

static void sample_all(struct collector *c, int at_stop)
{
	struct sched_priv *p = c->priv;
	for (size_t i = 0; i < p->n; i++) {
		struct sched_thread *th = &p->th[i];
		if (th->err)
			continue;
		if (at_stop != (th->sampled == 1))
			continue; /* stop without start, or start twice */
		th->err = sched_read(c->target->pid, th->tid, at_stop ? &th->stop : &th->start);
		th->sampled += !th->err;
	}
}

static int sched_start(struct collector *c)
{
	sample_all(c, 0);
	return 0;
}

static int sched_stop(struct collector *c)
{
	sample_all(c, 1);
	return 0;
}

static json_t *thread_json(const struct collector *c, size_t i, const struct sched_thread *th)
{
	char role[32];
	json_t *o = NULL;
	if (c->target->kind == CT_VM)
		snprintf(role, sizeof(role), "vcpu%zu", i);
	else
		snprintf(role, sizeof(role), "workload");
	int rc = th->err;
	if (!rc && th->sampled != 2)
		o = json_pack("{s:s}", "error", "not sampled at start and stop");
	else if (rc || (rc = sched_delta_json(&th->start, &th->stop, &o)))
		o = json_pack("{s:s}", "error", strerror(-rc));
	json_object_set_new(o, "role", json_string(role));
	json_object_set_new(o, "tid", json_integer(th->tid));
	return o;
}

/* Hook: guest steal time, to be filled from the agent's records. */
static json_t *sched_steal_json(const struct collector *c)
{
	if (c->target->kind != CT_VM)
		return json_pack("{s:b,s:s}", "available", 0, "reason",
				 "unavailable: bare-metal target has no steal time");
	return json_pack("{s:b,s:s}", "available", 0, "reason",
			 "unavailable: guest steal time is not reported by the agent yet");
}

static json_t *sched_to_json(struct collector *c)
{
	struct sched_priv *p = c->priv;
	json_t *threads = json_array();
	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(threads, thread_json(c, i, &p->th[i]));
	return json_pack("{s:o,s:o,s:{s:s,s:s,s:s,s:s}}", "threads", threads, "steal",
			 sched_steal_json(c), "units", "run_ns", "ns", "wait_ns",
			 "ns (run-queue delay)", "timeslices", "count", "*_ctxt_switches", "count");
}

static void sched_close(struct collector *c)
{
	free(c->priv);
	c->priv = NULL;
}

const struct collector_ops sched_collector = {
    .name = "sched",
    .probe = sched_probe,
    .open = sched_open,
    .start = sched_start,
    .stop = sched_stop,
    .to_json = sched_to_json,
    .close = sched_close,
};
