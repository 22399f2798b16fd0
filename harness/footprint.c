/*
 * VMM memory footprint from /proc/PID/smaps(_rollup) (see footprint.h for why).
 */
#include "harness/footprint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FP_MAX_FILE (64u << 20)

/* "Key:   123 kB" at the start of `line` */
static bool field_kib(const char *line, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);
	if (strncmp(line, key, kl) || line[kl] != ':')
		return false;
	char *end;
	unsigned long long n = strtoull(line + kl + 1, &end, 10);
	if (end == line + kl + 1)
		return false;
	*v = n;
	return true;
}

int footprint_parse_rollup(const char *text, struct fp_mem *out)
{
	bool rss = false, pss = false;
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		rss |= field_kib(l, "Rss", &out->rss_kib);
		pss |= field_kib(l, "Pss", &out->pss_kib);
	}
	return rss && pss ? 0 : -EINVAL;
}

/* A mapping header: "start-end perms ..." (hex addresses, a dash). */
static int parse_header(const char *l, uint64_t *start, uint64_t *end)
{
	char *e;
	unsigned long long s = strtoull(l, &e, 16);
	if (e == l || *e != '-')
		return -EINVAL;
	const char *p = e + 1;
	unsigned long long t = strtoull(p, &e, 16);
	if (e == p || *e != ' ' || t < s)
		return -EINVAL;
	*start = s;
	*end = t;
	return 0;
}

static bool is_header(const char *l)
{
	/* field lines start with a capitalised key ("Rss:"), headers with hex */
	const char *sp = strchr(l, ' ');
	const char *colon = strchr(l, ':');
	return sp && (!colon || colon > sp) && strchr(l, '-') && strchr(l, '-') < sp;
}

static bool better(const struct fp_mapping *cand, const struct fp_mapping *best, bool have)
{
	uint64_t cs = cand->end - cand->start, bs = best->end - best->start;
	return !have || cs < bs || (cs == bs && cand->mem.rss_kib > best->mem.rss_kib);
}

static void consider(const struct fp_mapping *cur, uint64_t guest_bytes, struct fp_mapping *best,
		     bool *have)
{
	if (cur->end - cur->start < guest_bytes || !better(cur, best, *have))
		return;
	*best = *cur;
	*have = true;
}

int footprint_parse_smaps(const char *text, uint64_t guest_bytes, struct fp_mapping *out)
{
	struct fp_mapping cur = {0}, best = {0};
	bool in = false, have = false;
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (is_header(l)) {
			if (in)
				consider(&cur, guest_bytes, &best, &have);
			cur = (struct fp_mapping){0};
			if (parse_header(l, &cur.start, &cur.end))
				return -EINVAL;
			in = true;
		} else if (in) {
			field_kib(l, "Rss", &cur.mem.rss_kib);
			field_kib(l, "Pss", &cur.mem.pss_kib);
		}
	}
	if (in)
		consider(&cur, guest_bytes, &best, &have);
	if (!have)
		return -ENOENT;
	*out = best;
	return 0;
}

/* The whole of a /proc file (their size is unknown until read). */
static int slurp(const char *path, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	int rc = 0;
	while (buf) {
		if (len + 1 == cap) {
			char *nb = cap < FP_MAX_FILE ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				rc = cap < FP_MAX_FILE ? -ENOMEM : -EFBIG;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (!buf)
		return -ENOMEM;
	if (rc) {
		free(buf);
		return rc;
	}
	buf[len] = 0;
	*out = buf;
	return 0;
}

static int read_parts(pid_t pid, uint64_t guest_bytes, struct fp_mem *all, struct fp_mapping *g)
{
	char path[64], *text = NULL;
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	int rc = slurp(path, &text);
	if (!rc)
		rc = footprint_parse_rollup(text, all);
	free(text);
	text = NULL;
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	if (!(rc = slurp(path, &text)))
		rc = footprint_parse_smaps(text, guest_bytes, g);
	free(text);
	return rc;
}

int footprint_measure(pid_t pid, uint64_t guest_bytes, json_t **out)
{
	struct fp_mem all = {0};
	struct fp_mapping g = {0};
	int rc = read_parts(pid, guest_bytes, &all, &g);
	if (rc)
		return rc;
	uint64_t orss = all.rss_kib > g.mem.rss_kib ? all.rss_kib - g.mem.rss_kib : 0;
	uint64_t opss = all.pss_kib > g.mem.pss_kib ? all.pss_kib - g.mem.pss_kib : 0;
	*out = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s}", "rss_kib", (json_int_t)all.rss_kib,
			 "pss_kib", (json_int_t)all.pss_kib, "guest_rss_kib",
			 (json_int_t)g.mem.rss_kib, "guest_pss_kib", (json_int_t)g.mem.pss_kib,
			 "overhead_rss_kib", (json_int_t)orss, "overhead_pss_kib", (json_int_t)opss,
			 "guest_mapping_bytes", (json_int_t)(g.end - g.start), "unit", "KiB");
	return *out ? 0 : -ENOMEM;
}
