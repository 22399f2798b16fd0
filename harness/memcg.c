/*
 * Per-run memory cgroups for `virttax run --mem-limit` (harness/memcg.h).
 *
 * Why both interfaces: issue 7 asks for cgroup v2's memory.max, but hosts
 * with a hybrid hierarchy (this one: cgroup2 at /sys/fs/cgroup/unified offers
 * only hugetlb, memory is bound to the v1 hierarchy) cannot enable the memory
 * controller in v2 at all. The v1 memory controller enforces the same hard
 * limit (memory.limit_in_bytes, reclaim then OOM kill within the group), so
 * it is used as a fallback and results.json names the interface. What v1
 * lacks (memory.events "high" and "oom") is recorded as null, never guessed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness/memcg.h"

const char *memcg_iface_name(enum memcg_iface iface)
{
	return iface == MEMCG_V2 ? "cgroup2" : iface == MEMCG_V1 ? "cgroup1" : "none";
}

const char *memcg_knob(enum memcg_iface iface)
{
	return iface == MEMCG_V2 ? "memory.max" : "memory.limit_in_bytes";
}

int cgroup_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	int rc = fputs(val, f) < 0 ? -EIO : 0;
	if (fclose(f) && !rc)
		rc = -errno;
	return rc;
}

static int read_line(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	int rc = fgets(buf, (int)len, f) ? 0 : -EIO;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return rc;
}

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ' || p[-1] == ',') &&
		    (p[n] == 0 || p[n] == ' ' || p[n] == ',' || p[n] == '\n'))
			return true;
	return false;
}

/* Mount point of the cgroup2 hierarchy (v1 NULL) or of the v1 hierarchy
 * carrying controller v1, with its root. */
static int find_mount(const char *mountinfo, const char *v1, char *mnt, size_t mlen, char *root,
		      size_t rlen)
{
	FILE *f = fopen(mountinfo, "r");
	if (!f)
		return -errno;
	char line[1024];
	int rc = -ENOENT;
	while (rc && fgets(line, sizeof(line), f)) {
		char r[512], m[512], fstype[64], super[512];
		const char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %511s %511s", r, m) != 2 ||
		    sscanf(dash + 3, "%63s %*s %511s", fstype, super) != 2)
			continue;
		if ((!v1 && !strcmp(fstype, "cgroup2")) ||
		    (v1 && !strcmp(fstype, "cgroup") && has_word(super, v1))) {
			snprintf(mnt, mlen, "%s", m);
			snprintf(root, rlen, "%s", r);
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

/* This process's path in the v2 hierarchy ("0::/x", v1 NULL) or the v1 one
 * of controller v1 ("N:memory:/x"). */
static int own_path(const char *self_cgroup, const char *v1, char *out, size_t len)
{
	FILE *f = fopen(self_cgroup, "r");
	if (!f)
		return -errno;
	char line[1024];
	int rc = -ENOENT;
	while (rc && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = 0; /* line: hierarchy id, c1 + 1: controllers */
		if ((!v1 && !strcmp(line, "0") && c1 + 1 == c2) || (v1 && has_word(c1 + 1, v1))) {
			snprintf(out, len, "%s", c2 + 1);
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

static int join_path(const char *mnt, const char *root, const char *own, char *out, size_t len)
{
	size_t rl = strlen(root);
	if (strcmp(root, "/") && !strncmp(own, root, rl))
		own += rl;
	if ((size_t)snprintf(out, len, "%s%s", mnt, strcmp(own, "/") ? own : "") >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int probe_v2(const char *ctrl, struct memcg_host *h, const char *mountinfo,
		    const char *self_cgroup, char *why, size_t len)
{
	char mnt[512], root[512], own[512], ctl[256], sub[256], plus[64];
	if (find_mount(mountinfo, NULL, mnt, sizeof(mnt), root, sizeof(root)) ||
	    own_path(self_cgroup, NULL, own, sizeof(own))) {
		snprintf(why, len, "no cgroup2 hierarchy mounted");
		return -ENOENT;
	}
	if (join_path(mnt, root, own, h->parent, sizeof(h->parent)))
		return -ENAMETOOLONG;
	if (read_line(h->parent, "cgroup.controllers", ctl, sizeof(ctl))) {
		snprintf(why, len, "cannot read %.200s/cgroup.controllers", h->parent);
		return -ENOENT;
	}
	if (!has_word(ctl, ctrl)) {
		snprintf(why, len, "cgroup2 at %.200s offers controllers \"%.100s\", not %s",
			 h->parent, ctl, ctrl);
		return -ENOTSUP;
	}
	if (!read_line(h->parent, "cgroup.subtree_control", sub, sizeof(sub)) &&
	    has_word(sub, ctrl))
		return 0;
	snprintf(plus, sizeof(plus), "+%s", ctrl);
	int rc = cgroup_write(h->parent, "cgroup.subtree_control", plus);
	if (rc) {
		snprintf(why, len, "cannot enable %s in %.200s/cgroup.subtree_control: %s", plus,
			 h->parent, strerror(-rc));
		return rc;
	}
	return 0;
}

static int probe_v1(const char *ctrl, struct memcg_host *h, const char *mountinfo,
		    const char *self_cgroup)
{
	char mnt[512], root[512], own[512];
	if (find_mount(mountinfo, ctrl, mnt, sizeof(mnt), root, sizeof(root)) ||
	    own_path(self_cgroup, ctrl, own, sizeof(own)))
		return -ENOENT;
	if (join_path(mnt, root, own, h->parent, sizeof(h->parent)))
		return -ENAMETOOLONG;
	return access(h->parent, W_OK) ? -errno : 0;
}

int cgroup_probe(const char *controller, struct memcg_host *h, const char *mountinfo,
		 const char *self_cgroup, char *why, size_t len)
{
	char v2why[400] = "";
	memset(h, 0, sizeof(*h));
	if (!probe_v2(controller, h, mountinfo, self_cgroup, v2why, sizeof(v2why))) {
		h->iface = MEMCG_V2;
		return 0;
	}
	if (!probe_v1(controller, h, mountinfo, self_cgroup)) {
		h->iface = MEMCG_V1;
		snprintf(why, len, "%s; using the cgroup v1 %s controller at %s", v2why, controller,
			 h->parent);
		return 0;
	}
	h->parent[0] = 0;
	snprintf(why, len, "%s, and no writable cgroup v1 %s hierarchy", v2why, controller);
	return -ENOTSUP;
}

int memcg_probe(struct memcg_host *h, const char *mountinfo, const char *self_cgroup, char *why,
		size_t len)
{
	return cgroup_probe("memory", h, mountinfo, self_cgroup, why, len);
}

int memcg_create(const struct memcg_host *h, const char *name, uint64_t limit, struct memcg *g,
		 char *why, size_t len)
{
	memset(g, 0, sizeof(*g));
	g->iface = h->iface;
	g->limit = limit;
	snprintf(g->dir, sizeof(g->dir), "%s/%s", h->parent, name);
	snprintf(g->procs, sizeof(g->procs), "%s/cgroup.procs", g->dir);
	if (mkdir(g->dir, 0755) && errno != EEXIST) {
		int e = errno;
		snprintf(why, len, "mkdir %s: %s", g->dir, strerror(e));
		g->dir[0] = 0;
		return -e;
	}
	char val[32];
	if (limit == UINT64_MAX)
		snprintf(val, sizeof(val), "%s", g->iface == MEMCG_V2 ? "max" : "-1");
	else
		snprintf(val, sizeof(val), "%" PRIu64, limit);
	int rc = cgroup_write(g->dir, g->iface == MEMCG_V2 ? "memory.max" : "memory.limit_in_bytes",
			      val);
	if (!rc && g->iface == MEMCG_V2)
		(void)cgroup_write(g->dir, "memory.swap.max",
				   "0"); /* same as no swap; may be absent */
	if (rc) {
		snprintf(why, len, "write %s to %s/%s: %s", val, g->dir, memcg_knob(g->iface),
			 strerror(-rc));
		memcg_destroy(g);
	}
	return rc;
}

/* Value of `key` in a "key value" file (memory.stat, memory.events, oom_control). */
static json_t *keyed(const char *dir, const char *file, const char *key)
{
	char path[PATH_MAX + 64], line[256];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return json_null();
	json_t *v = json_null();
	size_t n = strlen(key);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ' ') {
			json_decref(v);
			v = json_integer((json_int_t)strtoll(line + n + 1, NULL, 10));
			break;
		}
	fclose(f);
	return v;
}

static json_t *single(const char *dir, const char *file)
{
	char buf[64];
	if (read_line(dir, file, buf, sizeof(buf)))
		return json_null();
	return json_integer((json_int_t)strtoll(buf, NULL, 10));
}

json_t *memcg_read(const struct memcg *g)
{
	bool v2 = g->iface == MEMCG_V2;
	json_t *ev =
	    v2 ? json_pack("{s:o,s:o,s:o,s:o}", "high", keyed(g->dir, "memory.events", "high"),
			   "max", keyed(g->dir, "memory.events", "max"), "oom",
			   keyed(g->dir, "memory.events", "oom"), "oom_kill",
			   keyed(g->dir, "memory.events", "oom_kill"))
	       /* v1: failcnt counts hits of the limit (v2's "max") */
	       : json_pack("{s:n,s:o,s:n,s:o}", "high", "max", single(g->dir, "memory.failcnt"),
			   "oom", "oom_kill", keyed(g->dir, "memory.oom_control", "oom_kill"));
	const char *keys[] = {"pgmajfault", "pgfault", "workingset_refault_anon",
			      "workingset_refault_file"};
	json_t *st = json_object();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		json_object_set_new(st, keys[i], keyed(g->dir, "memory.stat", keys[i]));
	json_t *peak = single(g->dir, v2 ? "memory.peak" : "memory.max_usage_in_bytes");
	return json_pack("{s:o,s:o,s:o}", "events", ev, "stat", st, "peak_bytes", peak);
}

static json_t *delta_obj(json_t *b, json_t *a)
{
	json_t *out = json_object();
	const char *k;
	json_t *av;
	json_object_foreach(a, k, av)
	{
		json_t *bv = json_object_get(b, k);
		if (json_is_integer(av) && json_is_integer(bv))
			json_object_set_new(
			    out, k, json_integer(json_integer_value(av) - json_integer_value(bv)));
		else
			json_object_set_new(out, k, json_null());
	}
	return out;
}

json_t *memcg_delta(json_t *before, json_t *after)
{
	return json_pack(
	    "{s:o,s:o,s:O}", "events",
	    delta_obj(json_object_get(before, "events"), json_object_get(after, "events")), "stat",
	    delta_obj(json_object_get(before, "stat"), json_object_get(after, "stat")),
	    "peak_bytes", json_object_get(after, "peak_bytes"));
}

/* Tasks still listed (a zombie being reaped, a grandchild) go to the parent. */
static void evacuate(const struct memcg *g)
{
	char parent[PATH_MAX], path[PATH_MAX + 64], pid[32];
	snprintf(parent, sizeof(parent), "%s", g->dir);
	char *slash = strrchr(parent, '/');
	if (!slash)
		return;
	*slash = 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", g->dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(pid, sizeof(pid), f))
		(void)cgroup_write(parent, "cgroup.procs", pid);
	fclose(f);
}

int memcg_destroy(struct memcg *g)
{
	if (!g->dir[0])
		return 0;
	int rc = 0;
	for (int i = 0; i < 100; i++) {
		if (!rmdir(g->dir) || errno == ENOENT) {
			rc = 0;
			break;
		}
		rc = -errno;
		evacuate(g);
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
	}
	if (!rc)
		g->dir[0] = 0;
	return rc;
}
