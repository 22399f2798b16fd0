/*
 * The hosted workload runtime behind `virttax baseline`: workload memory with
 * a chosen page backing, the protocol writer and the platform primitives
 * (the TSC is core/tsc.h).
 *
 * Why separate from cmd_baseline.c: unit tests drive the allocator and the
 * record writer without running a subprocess.
 */
#ifndef VIRTTAX_HARNESS_HOSTED_H
#define VIRTTAX_HARNESS_HOSTED_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- hosted_mem.c ---- */
enum hosted_backing {
	HOSTED_BACKING_4K,  /* MADV_NOHUGEPAGE: 4 KiB pages only */
	HOSTED_BACKING_THP, /* MADV_HUGEPAGE, 2 MiB aligned */
};
#define HOSTED_MAX_MAPPINGS 16

struct hosted_mapping {
	void *addr;
	size_t len;
};

struct hosted_mem {
	enum hosted_backing backing;
	struct hosted_mapping maps[HOSTED_MAX_MAPPINGS];
	size_t nmaps;
	size_t bytes;	   /* total mapped */
	size_t huge_bytes; /* of which backed by huge pages (AnonHugePages), after prefault */
};

/* "4k" | "thp" -> backing; -EINVAL otherwise */
int hosted_backing_parse(const char *s, enum hosted_backing *out);
const char *hosted_backing_pagesize(enum hosted_backing b); /* "4k" | "2m" (hello record) */
void hosted_mem_init(struct hosted_mem *m, enum hosted_backing b);
/* Anonymous, aligned to max(align, page or 2 MiB), advised and pre-faulted so
 * the workload's timed loops take no first-touch faults. NULL on failure. */
void *hosted_mem_alloc(struct hosted_mem *m, size_t bytes, size_t align);
void hosted_mem_release(struct hosted_mem *m);
/* Bytes of [addr, addr+len) backed by huge pages (from /proc/self/smaps),
 * or -errno. */
long long hosted_mem_huge_bytes(const void *addr, size_t len);

/* ---- hosted_proto.c: records of include/virttax/protocol.h ---- */
/* Write one record: prefix, compact JSON, newline; flushed. Steals `rec`. */
int hosted_proto_write(FILE *out, json_t *rec);
int hosted_proto_log(FILE *out, const char *msg);
int hosted_proto_error(FILE *out, const char *wl, const char *msg);
int hosted_proto_done(FILE *out, int status);

/* ---- hosted_ops.c: wl_env.op_probe/op on the host (include/virttax/wl_ops.h) ---- */
struct wl_env;
struct wl_calib;
void hosted_ops_install(struct wl_env *env);
void hosted_ops_release(void); /* stop the helper thread/process, if any */
int hosted_proto_calib(FILE *out, const struct wl_calib *c);
int hosted_proto_metric(FILE *out, const char *wl, const char *m, const char *u,
			int lower_is_better, double v, const char *xk, const char *xu, double x);

/* ---- hosted_region.c: wl_env.region on the host (include/virttax/region.h) ---- */
/* Install the hook on the calling thread (the workload's) and send the null
 * regions. 0 or -errno (then the runner goes on without regions). */
int hosted_region_install(struct wl_env *env);
/* The "regions" object (docs/INTERFACES.md section 4), null when not installed. */
json_t *hosted_region_to_json(void);
void hosted_region_release(void);

#endif
