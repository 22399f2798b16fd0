/*
 * Reading small /proc and /sys files relative to a root directory, and the
 * pure parsers the environment report needs (bracketed sysfs choices, CPU
 * lists, /proc/cpuinfo fields).
 *
 * Why a root: `virttax doctor --sysfs-root DIR` and the unit tests describe
 * fake machines (tests/data/sysfs-*) with the same code that reads this one.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/internal.h"

static int env_path(const char *root, const char *rel, char *buf, size_t len)
{
	if (!root || !*root)
		root = "/";
	while (*rel == '/')
		rel++;
	size_t rl = strlen(root);
	const char *sep = rl && root[rl - 1] == '/' ? "" : "/";
	if ((size_t)snprintf(buf, len, "%s%s%s", root, sep, rel) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int env_read(const char *root, const char *rel, char *buf, size_t len)
{
	char path[1024];
	int rc = env_path(root, rel, path, sizeof(path));
	if (rc)
		return rc;
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, len - 1, f);
	rc = ferror(f) ? -EIO : 0;
	fclose(f);
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return rc;
}

bool env_exists(const char *root, const char *rel)
{
	char path[1024];
	return !env_path(root, rel, path, sizeof(path)) && access(path, F_OK) == 0;
}

int env_bracketed(const char *text, char *out, size_t len)
{
	const char *a = strchr(text, '['), *b = a ? strchr(a, ']') : NULL;
	if (!a || !b || b == a + 1)
		return -ENOENT;
	size_t n = (size_t)(b - a - 1);
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, a + 1, n);
	out[n] = 0;
	return 0;
}

static int parse_uint(const char **p, long *out)
{
	char *end;
	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	*out = strtol(*p, &end, 10);
	*p = end;
	return 0;
}

int env_cpulist_count(const char *list)
{
	int count = 0;
	const char *p = list;
	while (*p == ' ' || *p == '\n')
		p++;
	while (*p && *p != '\n') {
		long a, b;
		if (parse_uint(&p, &a))
			return -EINVAL;
		b = a;
		if (*p == '-') {
			p++;
			if (parse_uint(&p, &b) || b < a)
				return -EINVAL;
		}
		count += (int)(b - a + 1);
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	return count;
}

/* the first processor's block: text up to the first blank line */
static size_t first_block_len(const char *cpuinfo)
{
	const char *end = strstr(cpuinfo, "\n\n");
	return end ? (size_t)(end - cpuinfo) : strlen(cpuinfo);
}

int env_cpuinfo_field(const char *cpuinfo, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key), blen = first_block_len(cpuinfo);
	for (const char *p = cpuinfo; p && p < cpuinfo + blen;
	     p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) || (p[klen] != ' ' && p[klen] != '\t' && p[klen] != ':'))
			continue;
		const char *colon = strchr(p, ':'), *eol = strchr(p, '\n');
		if (!colon || (eol && colon > eol))
			continue;
		colon++;
		while (*colon == ' ')
			colon++;
		size_t n = eol ? (size_t)(eol - colon) : strlen(colon);
		if (n >= len)
			n = len - 1;
		memcpy(out, colon, n);
		out[n] = 0;
		return 0;
	}
	return -ENOENT;
}

bool env_cpuinfo_flag(const char *cpuinfo, const char *flag)
{
	char flags[8192];
	if (env_cpuinfo_field(cpuinfo, "flags", flags, sizeof(flags)))
		return false;
	size_t fl = strlen(flag);
	for (const char *p = flags; (p = strstr(p, flag)); p += fl)
		if ((p == flags || p[-1] == ' ') && (p[fl] == ' ' || p[fl] == 0))
			return true;
	return false;
}
