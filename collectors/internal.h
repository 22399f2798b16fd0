/*
 * Functions shared between collector files and exported to the unit tests.
 *
 * Why a separate header: collector.h is the contract with the harness; the
 * pure parsing and encoding helpers below are implementation details that
 * tests must reach (they are where the bugs would be) without the harness
 * depending on them.
 */
#ifndef VIRTTAX_COLLECTORS_INTERNAL_H
#define VIRTTAX_COLLECTORS_INTERNAL_H

#include <jansson.h>
#include <perfmon/pfmlib_perf_event.h> /* its perf_event.h replaces linux/perf_event.h */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "collectors/collector.h"
#include "virttax/x86_vendor.h"

/* "%s: ..." into why; always returns -err for `return coll_fail(...)` */
int coll_fail(char *why, size_t whylen, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- vmm_stats.c: the VMM's --stats-json document ---- */
/* Loads and checks the top level (an object with "vmm"). 0 or -errno + why. */
int vmmstats_load(const char *path, json_t **doc, char *why, size_t whylen);

/* ---- kvm_stats.c ---- */
/* doc: a whole stats JSON document. *out: {"vm":{...},"vcpus":[...],
 * "vcpu_totals":{...}} (new reference). 0 or -EINVAL + why. */
int kvmstat_reshape(const json_t *doc, json_t **out, char *why, size_t whylen);
/* "count", "ns", "bytes", "boolean", "cycles", or e.g. "seconds*10^-3" */
void kvmstat_unit(const char *unit, int base, int exponent, char *buf, size_t len);

/* ---- exits.c ---- */
/* doc: a whole stats JSON document. *out: {"reasons":{...},"total":{...}} */
int exitstat_reshape(const json_t *doc, json_t **out, char *why, size_t whylen);

/* ---- sched.c ---- */
struct sched_sample {
	uint64_t run_ns, wait_ns, timeslices;
	uint64_t vol_ctxsw, invol_ctxsw;
};
/* "RUN_NS WAIT_NS TIMESLICES\n" (/proc/.../schedstat) */
int sched_parse_schedstat(const char *text, struct sched_sample *s);
/* voluntary_ctxt_switches / nonvoluntary_ctxt_switches from .../status */
int sched_parse_status(const char *text, struct sched_sample *s);
/* both files of /proc/<pid>/task/<tid>; 0 or -errno */
int sched_read(pid_t pid, pid_t tid, struct sched_sample *s);
/* after - before, as a JSON object with unit-suffixed keys; -ERANGE when a
 * counter went backwards */
int sched_delta_json(const struct sched_sample *before, const struct sched_sample *after,
		     json_t **out);

/* ---- perf_events.c: libpfm4 names -> perf_event_attr ---- */
int perfev_init(char *why, size_t whylen); /* pfm_initialize once; 0 or -errno */
/* name as libpfm4 knows it ("perf::task-clock", "cycles",
 * "DTLB_LOAD_MISSES:WALK_ACTIVE"); attr zeroed and filled. 0 or -errno + why */
int perfev_encode(const char *name, struct perf_event_attr *attr, char *why, size_t whylen);
/* value * enabled / running; *multiplexed when running < enabled */
double perfev_scale(uint64_t value, uint64_t enabled, uint64_t running, bool *multiplexed);
/* perf_event_open(cycles) on this process: 0 when a hardware PMU counts,
 * else -errno + "unavailable: ..." reason */
int perfev_hw_probe(char *why, size_t whylen);
/* /proc/sys/kernel/perf_event_paranoid (2 when unreadable) */
int perfev_paranoid(void);
/* Page-walk cycles event names for a CPU vendor's PMU, most specific first,
 * NULL-terminated (empty for an unknown vendor). */
const char *const *perfev_walk_names(enum x86_vendor v);
/* This machine's CPU vendor (CPUID leaf 0) */
enum x86_vendor perfev_host_vendor(void);

/* ---- env_read.c: files under a sysfs/proc root ---- */
/* root + rel into buf, trailing newline stripped. 0 or -errno. */
int env_read(const char *root, const char *rel, char *buf, size_t len);
bool env_exists(const char *root, const char *rel);
/* "always [madvise] never" -> "madvise"; -ENOENT without brackets */
int env_bracketed(const char *text, char *out, size_t len);
/* "0-3,8,10-11" -> 7; "" -> 0; -EINVAL on garbage */
int env_cpulist_count(const char *list);
/* "key\t: value" of the first processor in /proc/cpuinfo text; -ENOENT */
int env_cpuinfo_field(const char *cpuinfo, const char *key, char *out, size_t len);
/* flag present in the "flags" line of the first processor */
bool env_cpuinfo_flag(const char *cpuinfo, const char *flag);

/* ---- env_probe.c: live probes (only when the root is "/") ---- */
/* {"present":bool,"access":"rw|none","api_version":N,...} */
json_t *env_probe_kvm(void);
/* {"available":bool,"reason":...} via perf_event_open(cycles) */
json_t *env_probe_pmu(void);
/* {"measured_hz":N,"unit":"Hz","method":"..."} or {"error":...} */
json_t *env_probe_tsc(void);
/* {"available":true,"native":bool,"reason":...}: boots the agent (workload=noop)
 * under vmm-lite found next to this binary; ~60 ms */
json_t *env_probe_emulation(void);

/* ---- env_advice.c ---- */
/* [{"severity","problem","remedy"}] derived from an environment JSON */
json_t *env_advice(const json_t *env);

/* ---- environment.c ---- */
/* Human-readable report of environment_collect()'s JSON, used by doctor. */
void environment_print(FILE *out, const json_t *env);

#endif
