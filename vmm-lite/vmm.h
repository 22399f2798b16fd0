/*
 * vmm-lite internal interfaces.
 *
 * Why one header: vmm-lite is small (a loader, a bus with two devices, exit
 * accounting, KVM stats, vCPU threads). The pure parts (loader, layout, stats
 * parser, exit accounting, option parsing) are declared here so unit tests can
 * link libvmmlite.a and call them on buffers without /dev/kvm.
 */
#ifndef VMM_LITE_VMM_H
#define VMM_LITE_VMM_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "virttax/region.h"

/* Exit codes of the vmm-lite process (docs/INTERFACES.md section 4) */
#define VMM_EXIT_CLEAN 0
#define VMM_EXIT_USAGE 64
#define VMM_EXIT_HOST 65
#define VMM_EXIT_CRASH 66
#define VMM_EXIT_TIMEOUT 67
#define VMM_EXIT_INVALID 68
#define VMM_EXIT_SANDBOX 69 /* a thread made a system call outside its seccomp allow-list */

#define VMM_MAX_VCPUS 32
#define VMM_MIN_MEM (16ULL << 20)
#define VMM_DEFAULT_MEM (512ULL << 20)
#define VMM_DEFAULT_TIMEOUT_S 600

/* ---- guest physical memory layout (layout.c) ---- */
#define GPA_START_INFO 0x1000ULL		  /* struct hvm_start_info */
#define GPA_MEMMAP 0x1100ULL			  /* hvm_memmap_table_entry[] */
#define GPA_CMDLINE 0x2000ULL			  /* NUL-terminated command line */
#define BOOT_AREA_END 0x5000ULL			  /* [GPA_START_INFO, BOOT_AREA_END) is reserved */
#define CMDLINE_MAX (BOOT_AREA_END - GPA_CMDLINE) /* including the NUL */
#define GPA_VIF_BASE 0x5000ULL			  /* one zeroed 4 KiB PVM VIF page per vCPU */
#define GPA_LEGACY_HOLE 0xa0000ULL		  /* [0xa0000, 1 MiB) reserved, as on a PC */
#define GPA_LOW_RAM_END 0x100000ULL
#define GPA_PCI_HOLE 0xc0000000ULL /* RAM above 3 GiB is moved above 4 GiB */
#define GPA_4G 0x100000000ULL
#define GPA_IDENTITY_MAP 0xfeffc000ULL /* KVM_SET_IDENTITY_MAP_ADDR: 1 page */
#define GPA_TSS 0xfeffd000ULL	       /* KVM_SET_TSS_ADDR: 3 pages */

#define E820_RAM 1
#define E820_RESERVED 2
#define LAYOUT_MAX_ENTRIES 8

struct mem_region {
	uint64_t addr, size;
	uint32_t type;
};

/* Where the guest's RAM lives in GPA space and in our mmap. */
struct guest_layout {
	uint64_t ram_bytes; /* --mem */
	uint32_t nvcpus;
	struct mem_region map[LAYOUT_MAX_ENTRIES]; /* the memmap given to the guest */
	uint32_t nmap;
	uint64_t low_ram_bytes;	 /* RAM at GPA 0 (slot 0) */
	uint64_t high_ram_bytes; /* RAM at GPA 4 GiB (slot 1) */
	bool ram_zeroed;	 /* RAM still reads as zero (fresh mapping): the loader
				    does not zero-fill segments (BSS, stacks) again */
};

int layout_build(struct guest_layout *l, uint64_t ram_bytes, uint32_t nvcpus);
uint64_t layout_vif_gpa(uint32_t vcpu);
/* Host pointer for [gpa, gpa+len), or NULL if not entirely inside guest RAM. */
void *layout_gpa_to_hva(const struct guest_layout *l, void *ram, uint64_t gpa, uint64_t len);
/* true if [gpa, gpa+len) lies entirely inside one RAM (type 1) memmap entry */
bool layout_is_ram(const struct guest_layout *l, uint64_t gpa, uint64_t len);

/* ---- ELF / PVH loader (pvh_loader.c), pure: buffers in, buffers out ---- */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578U

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

struct pvh_image {
	uint32_t entry;	    /* XEN_ELFNOTE_PHYS32_ENTRY */
	uint64_t load_lo;   /* lowest loaded GPA */
	uint64_t load_hi;   /* one past the highest */
	uint32_t nsegments; /* PT_LOAD segments loaded */
};

/*
 * Load the PT_LOAD segments of `elf` into guest RAM `ram` (described by `l`)
 * and find the PVH entry. 0, or -EINVAL/-ENOEXEC with a one-line reason in err.
 */
int pvh_load_elf(const uint8_t *elf, size_t len, const struct guest_layout *l, void *ram,
		 struct pvh_image *img, char *err, size_t errlen);
/* Write hvm_start_info, the memmap and the command line into guest RAM. */
int pvh_write_start_info(const struct guest_layout *l, void *ram, const char *cmdline, char *err,
			 size_t errlen);

/* ---- command line (options.c) ---- */
enum backing {
	BACKING_4K,
	BACKING_THP,
	BACKING_HUGETLB_2M,
	BACKING_HUGETLB_1G,
};

struct vmm_options {
	const char *kernel;
	const char *cmdline;
	uint64_t mem_bytes;
	uint32_t nvcpus;
	enum backing backing;
	int pin[VMM_MAX_VCPUS * 4];
	uint32_t npin;
	uint32_t timeout_s; /* 0: no watchdog */
	const char *stats_json;
	int control_fd;		  /* -1: none */
	const char *blk;	  /* --blk FILE[,direct] (virtio.h) */
	const char *io_technique; /* --io-technique NAME */
	const char *net;	  /* --net tap=NAME (virtio.h) */
	uint32_t exit_delay_us;	  /* --inject-exit-delay-us: busy-wait in every userspace exit */
	uint32_t steal_pct;	  /* --inject-steal-pct: hold each vCPU this % of every period */
	uint64_t balloon_mib;	  /* --balloon MIB: virtio-balloon initial target, 0: none */
	bool no_seccomp;	  /* --no-seccomp: no per-thread allow-list (debugging) */
	bool irqchip_full;	  /* --irqchip full: in-kernel PIC, IOAPIC and PIT as well */
	bool exit_timing;	  /* --exit-timing: time the handling of every exit */
	const char *test_escape;  /* --test-escape FILE: hidden test knob (sandbox.h) */
};

int parse_mem_size(const char *s, uint64_t *out);
int parse_cpu_list(const char *s, int *cpus, uint32_t max, uint32_t *n);
int parse_backing(const char *s, enum backing *out);
const char *backing_name(enum backing b);
/* 0, or -EINVAL with a one-line message in err (usage error, exit 64); 1 = --help */
int vmm_parse_options(int argc, char **argv, struct vmm_options *o, char *err, size_t errlen);
void vmm_print_help(FILE *f);

/* ---- guest RAM (guest_mem.c) ---- */
struct guest_mem {
	void *ram;	  /* guest RAM, ram_bytes long */
	size_t map_bytes; /* length of the mapping */
	void *map;	  /* the mapping (may start before ram for alignment) */
	enum backing backing;
};
int guest_mem_alloc(struct guest_mem *m, uint64_t bytes, enum backing b, char *err, size_t errlen);
void guest_mem_free(struct guest_mem *m);
/* What backs a range of our address space, from /proc/self/smaps */
struct smaps_range {
	uint64_t rss_bytes;	  /* resident */
	uint64_t anon_huge_bytes; /* of which THP (AnonHugePages) */
};
int smaps_range_read(FILE *f, uintptr_t lo, uintptr_t hi, struct smaps_range *out);
int smaps_range(const void *addr, size_t len, struct smaps_range *out);
struct kvm_stats_snap;
/* stats JSON "memory": backing, resident and THP-backed bytes of guest RAM
 * (read after the guest ran), KVM's mappings by page size (pages_4k/2m/1g) */
json_t *guest_mem_to_json(const struct guest_mem *m, uint64_t ram_bytes,
			  const struct kvm_stats_snap *vm_stats);

/* ---- I/O bus (bus.c): port I/O and MMIO handlers, kvmtool style ---- */
struct bus_dev;
struct bus_dev_ops {
	const char *name;
	/* addr is the offset inside the device range; len 1, 2, 4 or 8 */
	void (*read)(struct bus_dev *d, uint64_t off, uint8_t *data, uint32_t len);
	void (*write)(struct bus_dev *d, uint64_t off, const uint8_t *data, uint32_t len);
};
struct bus_dev {
	const struct bus_dev_ops *ops;
	uint64_t base, len;
	void *priv;
};
#define BUS_MAX_DEVS 16
struct bus {
	struct bus_dev *devs[BUS_MAX_DEVS];
	uint32_t ndevs;
	uint32_t last; /* the device the previous access hit (atomic, a hint only) */
	uint64_t unhandled_reads, unhandled_writes; /* atomics */
};
int bus_register(struct bus *b, struct bus_dev *d);
/* Returns true if a device handled it; unhandled reads fill 0xff. */
bool bus_access(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

/* ---- devices ---- */
struct uart16550 {
	struct bus_dev dev;
	pthread_mutex_t lock;
	int out_fd;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t buf[4096];
	size_t nbuf;
	uint64_t bytes_out;
	uint64_t first_byte_ns; /* CLOCK_MONOTONIC of the first THR write, 0: none */
};
void uart_init(struct uart16550 *u, uint64_t base, int out_fd);
void uart_flush(struct uart16550 *u);
void uart_destroy(struct uart16550 *u);

struct vm;
struct vm_io;
struct debug_exit {
	struct bus_dev dev;
	struct vm *vm;
};
void debug_exit_init(struct debug_exit *e, uint64_t base, struct vm *vm);

/* ---- calibration test devices (dev_calib_pio.c, dev_calib_mmio.c, calib_msr.c);
 * addresses in include/virttax/wl_ops.h, docs/CALIBRATION.md ---- */
struct vcpu;
struct calib_devs {
	struct bus_dev pio, status, mmio;
	int pio_efd, mmio_efd; /* ioeventfds, -1 when not registered */
	uint32_t flags;	       /* VTX_CALIB_F_* that are set up */
	uint8_t err[3];	       /* errno per flag bit when not */
	uint64_t declared;     /* trapped instructions the guest declared (atomic) */
	uint64_t msr_value;    /* the user-space test MSR */
	uint64_t msr_exits;    /* atomic */
};
void calib_pio_init(struct vm *vm);  /* user port + status port, ioeventfd port */
void calib_mmio_init(struct vm *vm); /* user page + ioeventfd page */
void calib_msr_init(struct vm *vm);  /* KVM_CAP_X86_USER_SPACE_MSR + MSR filter */
/* KVM_EXIT_X86_RDMSR / WRMSR */
void calib_msr_exit(struct vcpu *v);
void calib_release(struct vm *vm);
json_t *calib_to_json(const struct vm *vm);

/* ---- timed-region markers (dev_region.c, include/virttax/region.h) ---- */
struct vtx_region_marker;
#define REGION_MAX_LABELS 64
#define REGION_MAX_EXIT_KEYS 16
#define REGION_NTHREAD 6	/* wall_ns run_ns wait_ns timeslices vol_ctxsw invol_ctxsw */
#define REGION_SNAPSHOT_TRIES 4 /* a thread snapshot retried while a switch lands inside it */
enum region_error {
	REGION_OK,
	REGION_ERR_ACCESS,   /* not an outl at offset 0, or from an unknown thread */
	REGION_ERR_GPA,	     /* descriptor not wholly inside guest RAM */
	REGION_ERR_MAGIC,    /* descriptor without VTX_REGION_MAGIC */
	REGION_ERR_EDGE,     /* edge neither begin nor end */
	REGION_ERR_LABEL,    /* label empty, too long, unterminated or bad characters */
	REGION_ERR_SEQUENCE, /* begin while open, end without (matching) begin */
	REGION_ERR_SEQ_GAP,  /* seq not previous + 1 (marker still used) */
	REGION_ERR_TOO_MANY, /* more than REGION_MAX_LABELS labels (interval dropped) */
	REGION_ERR_SNAPSHOT, /* a counter could not be read (interval dropped) */
	REGION_ERR_COUNT
};
struct region_exit {
	const char *key;
	uint64_t count;
};
/* Per label: n intervals and the sums of their deltas. Values are laid out
 * [REGION_NTHREAD thread fields][vCPU stats, summed over vCPUs][VM stats]. */
struct region_acc {
	char label[VTX_REGION_LABEL_MAX];
	uint64_t n;
	uint64_t *sum;
	uint64_t *shortest; /* the deltas of the interval with the least wall time */
	struct {
		char key[32];
		uint64_t count;
	} exits[REGION_MAX_EXIT_KEYS];
	uint32_t nexits;
	uint64_t exits_other; /* exits of keys past REGION_MAX_EXIT_KEYS */
};
struct region_table {
	uint32_t nvcpu_stats, nvm_stats, nvals;
	struct region_acc acc[REGION_MAX_LABELS];
	uint32_t nacc;
	uint64_t *null_min; /* per field, minimum over the null regions */
	uint64_t nnull;
	uint64_t errors[REGION_ERR_COUNT];
};
int region_table_init(struct region_table *t, uint32_t nvcpu_stats, uint32_t nvm_stats);
void region_table_free(struct region_table *t);
/* Account one closed interval (deltas d[nvals]); the null label feeds the
 * footprint. 0, or -ENOSPC (label table full: counted). */
int region_table_add(struct region_table *t, const char *label, const uint64_t *d,
		     const struct region_exit *exits, uint32_t nexits);
/* v[i] minus n null footprints (v: a sum over n intervals), clamped at 0 */
uint64_t region_net(const struct region_table *t, const uint64_t *v, uint64_t n, uint32_t i);
/* One marker source (a vCPU thread, the hosted runner's thread): its open
 * region and begin snapshot. */
struct region_cursor {
	bool open;
	char label[VTX_REGION_LABEL_MAX];
	int schedstat_fd; /* the thread's schedstat, opened once (-1: none) */
	uint64_t *begin;  /* nvals */
};
int region_cursor_init(struct region_cursor *c, const struct region_table *t,
		       const char *schedstat_path);
void region_cursor_release(struct region_cursor *c);
/* Before a begin snapshot: a region still open is dropped (counted). */
void region_cursor_abandon(struct region_table *t, struct region_cursor *c);
void region_cursor_open(struct region_cursor *c, const char *label);
/* At an end marker: true when `label` closes the open region, else counted. */
bool region_cursor_close(struct region_table *t, struct region_cursor *c, const char *label);
/* cur -= begin (clamped at 0), then region_table_add(). */
void region_table_close(struct region_table *t, const char *label, uint64_t *cur,
			const uint64_t *begin, const struct region_exit *exits, uint32_t nexits);
/* The REGION_NTHREAD thread fields of the calling thread: wall (CLOCK_MONOTONIC)
 * and CPU time (CLOCK_THREAD_CPUTIME_ID), run delay and timeslices (schedstat),
 * voluntary and involuntary context switches (getrusage RUSAGE_THREAD). At an
 * end marker (`end`) the clocks are read first, at a begin marker last. */
int region_thread_snapshot(int schedstat_fd, uint64_t *v, bool end);
struct kvm_stats_snap;
struct region_desc {
	const struct kvm_stats_snap *vcpu, *vm; /* names/types of the KVM fields, or NULL */
};
/* {"markers","null","errors","list"} (docs/INTERFACES.md section 4, "regions") */
json_t *region_table_to_json(const struct region_table *t, const struct region_desc *desc,
			     uint64_t markers, uint64_t unclosed);
/* Copy the marker at gpa out of guest RAM and check it: 0 or an enum region_error. */
int region_marker_check(const struct guest_layout *l, void *ram, uint64_t gpa,
			struct vtx_region_marker *m);
struct vm;
int region_init(struct vm *vm);	 /* register the port */
int region_start(struct vm *vm); /* buffers + schedstat fds, before the first KVM_RUN */
json_t *region_to_json(const struct vm *vm);
void region_release(struct vm *vm);

/* ---- exit accounting (exit_stats.c), pure ---- */
#define EXIT_HIST_BUCKETS 40 /* bucket i: [2^i, 2^(i+1)) ns; bucket 0 also holds 0 */
#define EXIT_STATS_MAX_KEYS 64
struct exit_bucket {
	char key[32]; /* "io:0x3f8", "mmio", "hlt", ... */
	uint32_t id;  /* exit_stats_bucket's (reason, port); 0: made from a key */
	uint64_t count;
	uint64_t total_ns;
	uint64_t hist[EXIT_HIST_BUCKETS];
};
struct exit_stats {
	struct exit_bucket b[EXIT_STATS_MAX_KEYS];
	uint32_t n;
	uint32_t last;	  /* the bucket exit_stats_bucket found last */
	uint64_t dropped; /* exits whose key did not fit */
};
const char *exit_reason_name(uint32_t reason);
/* key for a kvm_run exit: "io:0x3f8", "mmio", reason name otherwise */
void exit_key(char *key, size_t len, uint32_t reason, uint16_t port);
int exit_stats_add(struct exit_stats *s, const char *key, uint64_t ns);
/* The hot path: the bucket of one KVM exit, found by number (the last one
 * first, so a run of exits of one kind costs one comparison), created with
 * its exit_key() on first use; NULL when the table is full. */
struct exit_bucket *exit_stats_bucket(struct exit_stats *s, uint32_t reason, uint16_t port);
static inline uint32_t exit_bucket_id(uint32_t reason, uint16_t port)
{
	return ((reason & 0x7fff) + 1) << 16 | port; /* never 0 */
}
/* exit_stats_bucket's first step, inlined into the vCPU loop */
static inline struct exit_bucket *exit_stats_bucket_fast(struct exit_stats *s, uint32_t reason,
							 uint16_t port)
{
	struct exit_bucket *b = &s->b[s->last];

	return s->n && b->id == exit_bucket_id(reason, port) ? b
							     : exit_stats_bucket(s, reason, port);
}
/* add one handling time to a bucket (--exit-timing) */
void exit_bucket_time(struct exit_bucket *b, uint64_t ns);
void exit_stats_merge(struct exit_stats *dst, const struct exit_stats *src);
uint32_t exit_hist_bucket(uint64_t ns);
const struct exit_bucket *exit_stats_find(const struct exit_stats *s, const char *key);
/* timed: with total_ns and hist_log2_ns, else {"count":N} per key */
json_t *exit_stats_to_json(const struct exit_stats *s, bool timed);

/* ---- KVM binary stats (kvm_stats.c) ---- */
struct kvm_stat {
	char name[64];
	uint32_t flags;
	int16_t exponent;
	uint16_t size;		/* number of u64 values (>1 for histograms) */
	uint32_t offset;	/* of the values, bytes from the data block */
	uint64_t before, after; /* value, or sum of buckets for histograms */
};
struct kvm_stats_snap {
	int fd;
	struct kvm_stat *stats;
	uint32_t n;
	uint64_t data_offset; /* of the data block in the stats file */
	size_t data_len;      /* bytes of the data block the descriptors cover */
};
/* Pure: parse a whole stats "file" (header, descriptors, data) into values.
 * Fills s->stats (malloc) with `before`, or `after` when `after` is true and
 * the descriptor table matches. 0 or -EINVAL/-ENOMEM. */
int kvm_stats_parse(const uint8_t *buf, size_t len, struct kvm_stats_snap *s, bool after);
int kvm_stats_read_fd(int fd, uint8_t **buf, size_t *len);
int kvm_stats_snapshot(struct kvm_stats_snap *s, bool after);
const struct kvm_stat *kvm_stats_find(const struct kvm_stats_snap *s, const char *name);
/* Current value of every stat of s (parsed before, same order) into vals[s->n]:
 * one pread of the data block into buf (cap >= s->data_len). 0 or -errno.
 * No allocation: used at timed-region markers (dev_region.c). */
int kvm_stats_read_values(const struct kvm_stats_snap *s, uint8_t *buf, size_t cap, uint64_t *vals);
/* true for cumulative counters and histograms (whose deltas mean "events"). */
bool kvm_stat_is_counter(const struct kvm_stat *st);
json_t *kvm_stats_to_json(const struct kvm_stats_snap *s);
void kvm_stats_free(struct kvm_stats_snap *s);

/* ---- per-thread scheduler statistics (thread_stats.c) ---- */
struct thread_stats {
	uint64_t run_ns, wait_ns, timeslices;
	uint64_t vol_ctxsw, invol_ctxsw;
};
int thread_stats_parse(const char *schedstat, const char *status, struct thread_stats *t);
int thread_stats_read(pid_t tid, struct thread_stats *t);

/* ---- the VM (vm.c) and vCPUs (vcpu.c) ---- */
struct kvm_run;
struct kvm_cpuid2;
enum stop_kind {
	STOP_NONE,
	STOP_GUEST_EXIT, /* port 0xf4 */
	STOP_SHUTDOWN,	 /* clean: HLT exit, system event shutdown */
	STOP_TIMEOUT,
	STOP_CRASH,
	STOP_INVALID,
	STOP_HOST_ERROR,
};
const char *stop_kind_name(enum stop_kind k);

struct vcpu {
	struct vm *vm;
	uint32_t index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool thread_started;
	pid_t tid;
	struct exit_stats exits;
	struct kvm_stats_snap kstats;
	struct thread_stats tstats;
	bool tstats_ok;
	/* idle probe (run.c): 1 requested, 2 answered; idle = halted with IF=0 or waiting
	 * for INIT/SIPI */
	int probe_state;
	bool probe_idle;
	uint64_t last_exits; /* KVM stat "exits" at the previous idle poll */
	bool have_last_exits;
	/* --inject-steal-pct: the thread's CPU time when its timer was armed and
	 * the CPU time it has been held since (vcpu.c steal_hold) */
	uint64_t steal_cpu0_ns, steal_held_ns;
};

/* Start-up phases, each stamped (CLOCK_MONOTONIC) when it ends; --stats-json
 * "startup" gives their durations (docs/VMM-LITE.md "Start-up"). */
enum startup_phase {
	SU_MAIN,      /* main() entered: the origin */
	SU_OPTIONS,   /* options parsed, sandbox set up */
	SU_IMAGE,     /* kernel image mapped */
	SU_KVM,	      /* /dev/kvm opened, KVM_CREATE_VM */
	SU_MEMORY,    /* guest RAM mapped, memslots */
	SU_IRQCHIP,   /* TSS/identity map, interrupt chips */
	SU_GUEST,     /* I/O devices, ELF loaded, start info */
	SU_DEVICES,   /* serial, exit port and calibration devices */
	SU_VCPUS,     /* CPUID, vCPUs, boot registers, stats fds */
	SU_THREADS,   /* vCPU threads started (and sandboxed) */
	SU_READY,     /* main thread sandboxed, pins, control-fd handshake */
	SU_SNAPSHOT,  /* KVM stats "before" */
	SU_FIRST_RUN, /* vCPU 0 enters KVM_RUN for the first time */
	SU_N
};

struct vm {
	const struct vmm_options *opt;
	int kvm_fd, vm_fd;
	struct guest_layout layout;
	struct guest_mem mem;
	struct pvh_image img;
	struct bus pio, mmio;
	struct uart16550 com1;
	struct debug_exit dbg_exit;
	struct calib_devs calib;
	struct vm_io *io;	   /* --blk devices (virtio.h), NULL: none */
	struct region_dev *region; /* timed-region markers (dev_region.c) */
	struct vcpu vcpus[VMM_MAX_VCPUS];
	uint32_t nvcpus;
	bool pvm;
	bool irqchip_split;	  /* only the LAPIC is in the kernel (KVM_CAP_SPLIT_IRQCHIP) */
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID */
	struct kvm_stats_snap vm_kstats;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool created;	  /* vm_create finished: vCPU threads may enter their sandbox */
	uint32_t nready;  /* vCPU threads that reported their tid */
	uint32_t nparked; /* vCPU threads out of their run loop */
	bool go;	  /* vCPUs may enter KVM_RUN */
	bool release;	  /* parked vCPU threads may exit */
	volatile bool stopping;

	enum stop_kind stop;
	uint32_t guest_code; /* value written to port 0xf4 */
	int exit_status;
	char reason[256];

	uint64_t t_start_ns, t_stop_ns;
	/* --inject-steal-pct: the share of each vCPU thread's CPU time to hold */
	uint32_t steal_pct;
	uint64_t startup_ns[SU_N]; /* when each phase ended, 0: not reached */
	uint64_t insn_emulation_delta;
	bool insn_emulation_known;
	bool native;
	char emu_reason[160];
};

uint64_t now_ns(void);
void vm_startup_mark(struct vm *vm, enum startup_phase p);
/* *vm must be zeroed storage (static or calloc): vm_create does not clear it,
 * so that untouched per-vCPU tables cost no resident memory. */
int vm_create(struct vm *vm, const struct vmm_options *o, const uint8_t *elf, size_t elf_len,
	      char *err, size_t errlen);
/* vCPU threads, started first thing in vm_create (they wait for vm->created);
 * vm_release_threads stops and joins them (vm_run and vm_destroy call it) */
int vm_start_threads(struct vm *vm, char *err, size_t errlen);
void vm_release_threads(struct vm *vm);
int vm_run(struct vm *vm, char *err, size_t errlen); /* handshakes, watchdog, stop */
void vm_request_stop(struct vm *vm, enum stop_kind k, int exit_status, uint32_t guest_code,
		     const char *reason);
void vm_destroy(struct vm *vm);
json_t *vm_stats_to_json(struct vm *vm);
int write_json_atomic(const char *path, json_t *j);

int vcpu_create(struct vm *vm, uint32_t index, char *err, size_t errlen);
int vcpu_setup_boot(struct vcpu *v, uint32_t entry, uint32_t start_info, char *err, size_t errlen);
void *vcpu_thread(void *arg);
/* --inject-steal-pct (run.c): one timer per vCPU thread sending the kick
 * signal every VMM_STEAL_PERIOD_NS of that thread's CPU time; created before
 * the main thread's sandbox */
#define VMM_STEAL_PERIOD_NS 4000000ull
int vm_steal_start(struct vm *vm, char *err, size_t errlen);
/* Everything vmm-lite does between a KVM_RUN that returned an exit and the
 * next one: handle it, count it (and time it from t0 with --exit-timing;
 * t0 = 0 otherwise). Exposed for bench/dispatch.c. */
void vcpu_dispatch(struct vcpu *v, uint64_t t0);
void vcpu_kick(struct vcpu *v);
#define IDLE_POLL_NS 200000000ULL /* how often run.c looks for a halted guest */
void vcpu_destroy(struct vcpu *v);

/* PVM (kvm_pvm) support (pvm.c) */
bool pvm_detect(const char *sysfs_root);
int pvm_register_vif(struct vcpu *v, uint64_t gpa);
/* The guest's interrupt flag on PVM: byte 0 (if_) of the VIF page named by
 * the MSR value (GPA | 1). 1 or 0; -ENOENT when no page is registered, -EFAULT
 * when it is outside guest RAM. Pure, for tests. */
int pvm_vif_if_byte(const struct guest_layout *l, void *ram, uint64_t msr);
/* Same for a live vCPU (its VIF MSR, else the page vcpu.c registered). */
int pvm_vif_if(struct vcpu *v);
/* emulation verdict: threshold on insn_emulation beyond I/O exits */
#define EMUL_EXCESS_LIMIT 20000
bool emulation_is_native(uint64_t insn_emulation_delta, uint64_t io_exits, char *why, size_t len);

/* control fd handshake (control.c) */
int control_send(int fd, const char *line);
int control_wait(int fd);

#endif
