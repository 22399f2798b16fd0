/*
 * Runs of one workload on one side (bare metal or a VMM), and the VMM ops table.
 *
 * Why: `virttax run` must not care which VMM it drives. A VMM driver is one
 * file with one `struct vmm_ops` (vmm_vmmlite.c today, QEMU later) that turns a
 * run_spec into a child command line; spawning, the --control-fd handshake,
 * collectors and protocol parsing are shared (harness/child.c), and so is the
 * bare-metal side (harness/bare.c), so bare and VM runs are measured the same way.
 */
#ifndef VIRTTAX_HARNESS_VMM_H
#define VIRTTAX_HARNESS_VMM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/proto.h"

enum run_status {
	RUN_OK,
	RUN_FAILED,  /* workload error, protocol error, missing results, host error */
	RUN_INVALID, /* ran, but the numbers must not be used (guest was emulated) */
	RUN_TIMEOUT,
	RUN_CRASH, /* guest crash/exception, or the child died from a signal */
};
const char *run_status_name(enum run_status s);

/* A failure that must stop the whole plan (nothing is written). */
enum run_fatal {
	RUN_FATAL_NONE,
	RUN_FATAL_USAGE, /* bad input the child found (vmm-lite exit 64): exit 2 */
	RUN_FATAL_HOST,	 /* the host cannot run this at all (vmm-lite exit 65): exit 3 */
};

struct run_spec {
	const char *workload;
	const char *const *wl_args; /* "k=v" workload parameters */
	size_t nwl_args;
	int cpu;	      /* pin the workload (vCPU) here */
	const char *backing;  /* 4k|thp|hugetlb-2m|hugetlb-1g */
	const char *pagesize; /* guest page size 4k|2m (VM only) */
	uint64_t mem_bytes;   /* guest memory (VM only) */
	unsigned timeout_s;   /* watchdog: the harness kills the child 5 s later */
	unsigned long tsc_khz;
	const char *scratch_dir; /* for temporary files (stats JSON) */
	unsigned vcpus;		 /* VM only; 0 means 1 */
	const char *cpu_list;	 /* non-NULL: vCPU/thread i -> i-th CPU ("" = unpinned) */
	bool footprint;		 /* measure the VMM's memory while it is alive (vmm-footprint) */
	const char *const *vmm_args; /* VM only: --vmm-arg values, appended verbatim */
	const char *cgroup_procs;    /* non-NULL: the child joins this cgroup.procs before exec */
	size_t nvmm_args;
	/* devices (VM only; each driver maps them to its own command line) */
	const char *disk;	   /* backing file of a virtio-blk/ATA disk, NULL: none */
	bool disk_direct;	   /* O_DIRECT on the host side */
	const char *tap;	   /* NIC on this tap, NULL: none */
	const char *io_technique;  /* emulated|virtio-user|virtio-eventfd|poll|...; NULL: default */
	unsigned long balloon_mib; /* virtio-balloon inflated to this target, 0: none */
	/* bare side of net-*: the workload runs in this network namespace on this
	 * interface (virttax baseline --netns --net-dev) */
	const char *netns, *net_dev;
	/* attach no collectors to the child (calibration: the perf collector's events
	 * add 2-3 us to every context switch of the thread, docs/CALIBRATION.md) */
	bool no_collectors;
};

struct run_result {
	enum run_status status;
	enum run_fatal fatal;
	char reason[320];
	uint64_t wall_ns; /* spawn to reap, measured by the harness */
	int exit_code;	  /* -1 when killed by a signal */
	int term_signal;  /* 0 unless killed */
	struct proto_parser proto;
	json_t *vmm_stats;  /* VM: the VMM's stats JSON, or NULL */
	json_t *bare_stats; /* bare: `virttax baseline --stats-json` (regions, memory), or NULL */
	json_t *collectors; /* collector_set_to_json(), or NULL when never opened */
	uint64_t hello_ns;  /* spawn to the first hello record on stdout; 0 when none */
	uint64_t
	    spawn_tsc; /* host TSC read just before fork (hello's tsc_entry is on the same clock) */
	json_t
	    *footprint; /* spec->footprint: footprint_measure() while the VMM was alive, or NULL */
	char stderr_tail[1024];
};

void run_result_init(struct run_result *r);
void run_result_release(struct run_result *r);

struct vmm_ops {
	const char *name;
	/* 0 when usable: -ENOENT for a missing binary/ELF (usage), other -errno
	 * for a host problem; a one-line reason naming the fix in `why`. */
	int (*probe)(char *why, size_t len);
	/* Always fills `res`; returns 0, or -errno when the run could not even be started. */
	int (*run)(const struct run_spec *spec, struct run_result *res);
	/* Can this VMM give a guest a disk (nic false) or a NIC (nic true) with
	 * I/O technique `technique`? 0, or -ENOTSUP/-ENODEV and
	 * "unavailable: <reason>" in why. */
	int (*io_probe)(const char *technique, bool nic, char *why, size_t len);
	/* Can it inflate a virtio-balloon (run_spec.balloon_mib)? 0 or -ENOTSUP + why. */
	int (*balloon_probe)(char *why, size_t len);
	/* Which build runs: {"version": "...", "binary": PATH, "id": "fnv1a64:...",
	 * "agent_id": "..."} (results.json "vmms"; the gate refuses to compare
	 * different builds unless told). NULL when it cannot be found. */
	json_t *(*identity)(void);
};

extern const struct vmm_ops vmm_vmmlite;
extern const struct vmm_ops vmm_qemu;
extern const struct vmm_ops vmm_floor; /* kvm-floor (harness/vmm_floor.c, docs/FLOOR.md) */
#define VMM_FLOOR_NAME "kvm-floor"
extern const struct vmm_ops *const vmm_table[];
/* a VMM the user may choose (--vmm) */
const struct vmm_ops *vmm_find(const char *name);
/* that, or a reference measured beside the VMMs (kvm-floor) */
const struct vmm_ops *vmm_find_any(const char *name);

/* harness/bare.c: the bare-metal side, `virttax baseline` as a child */
int bare_run(const struct run_spec *spec, struct run_result *res);

#endif
