/*
 * Internal interfaces of the guest agent (not used outside guest-agent/).
 *
 * Why: the agent is split into small freestanding units (CPU setup, UART,
 * formatting, command line, memory, paging, TSC, runtime) that each do one
 * thing; this header is the glue. The pure units (fmt.c, cmdline.c, arena.c)
 * (and fmt_double.c) have no port or privileged-instruction access so that the integration
 * tests can compile them hosted and check them against libc.
 */
#ifndef VIRTTAX_GUEST_AGENT_H
#define VIRTTAX_GUEST_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virttax/workload.h"
#include "virttax/x86_vendor.h"

#define AG_EINVAL 22
#define AG_ENOMEM 12
#define AG_EIO 5
#define AG_E2BIG 7
#define AG_ETIMEDOUT 110

/* ---- fmt.c: one protocol line, built in memory, then written at once ---- */
#define AG_LINE_MAX 1024
struct ag_line {
	char buf[AG_LINE_MAX];
	size_t len;
	bool overflow;
};
void ag_line_init(struct ag_line *l);
void ag_line_raw(struct ag_line *l, const char *s);
void ag_line_char(struct ag_line *l, char c);
void ag_line_json_str(struct ag_line *l, const char *s);
void ag_line_u64(struct ag_line *l, uint64_t v);
void ag_line_i64(struct ag_line *l, int64_t v);
void ag_line_double(struct ag_line *l, double v);
/* %.6g-like, but integral values in [1e6, 2^53) exact; "null" for NaN and infinities. Returns the
 * length written (always NUL-terminated; needs cap >= 16). */
size_t ag_fmt_double(char *out, size_t cap, double v);
size_t ag_fmt_u64(char *out, size_t cap, uint64_t v);
/* Record helpers: PREFIX {"t":"type" ... ,"key":value ... }\n */
void ag_rec_begin(struct ag_line *l, const char *type);
void ag_rec_str(struct ag_line *l, const char *key, const char *val);
void ag_rec_u64(struct ag_line *l, const char *key, uint64_t val);
void ag_rec_i64(struct ag_line *l, const char *key, int64_t val);
void ag_rec_double(struct ag_line *l, const char *key, double val);
/* Close the record; on overflow the line is replaced by a "log" record
 * saying so. Returns the finished text (NUL-terminated in l->buf). */
const char *ag_rec_end(struct ag_line *l);

/* ---- cmdline.c: the agent's own options; workload keys are parsed by the
 * shared workloads/wl_cmdline.c ---- */
#define AG_CMDLINE_MAX 2048
#define AG_ERR_MAX 160
#define AG_HOLD_MAX_MS 60000
enum ag_pagesize { AG_PAGE_2M = 0, AG_PAGE_4K = 1 };
struct ag_options {
	const char *selftest; /* NULL when absent */
	enum ag_pagesize pagesize;
	uint64_t tsc_khz; /* 0 when absent */
	bool vif;
	uint64_t hold_ms;     /* vtx.hold=, 0 when absent */
	bool no_regions;      /* vtx.regions=0: send no timed-region markers */
	uint32_t umsr;	      /* vtx.umsr=0xN: an MSR the VMM serves in user space
				 (reads), for the calibration's msr-user kinds; 0: none */
	const char *tsc_src;  /* vtx.tsc=, NULL when absent */
	char err[AG_ERR_MAX]; /* first error, "" when none */
	char store[AG_CMDLINE_MAX];
};
/* Agent options (pagesize=, tsc_khz=, pvm.vif=, vtx.selftest=) from a copy
 * of `line`. 0, or -EINVAL with o->err set (parsing goes on so that the
 * options after a bad token still take effect). */
int ag_cmdline_parse(const char *line, struct ag_options *o);
/* main.c: vtx.umsr= of the command line, 0 when absent */
uint32_t ag_opt_user_msr(void);
/* Keys wl_cmdline_resolve() must leave to the agent (NULL-terminated). */
extern const char *const ag_option_keys[];
bool ag_streq(const char *a, const char *b);
size_t ag_strlen(const char *s);
void ag_strlcat(char *dst, size_t cap, const char *src);

/* ---- arena.c: bump allocation over RAM ranges ---- */
#define AG_MAX_RANGES 64
struct ag_range {
	uint64_t start, end; /* [start, end) */
};
struct ag_arena {
	size_t nranges;
	struct ag_range ranges[AG_MAX_RANGES];
	size_t cur;    /* index of the range being carved */
	uint64_t next; /* next free address in ranges[cur] */
};
/* Add [start, end) (clipped to >= floor). Ranges must be added in order. */
int ag_arena_add(struct ag_arena *a, uint64_t start, uint64_t end, uint64_t floor);
/* Aligned block of `bytes`, 0 when it does not fit. align: power of two. */
uint64_t ag_arena_alloc(struct ag_arena *a, uint64_t bytes, uint64_t align);
struct ag_arena_mark {
	size_t cur;
	uint64_t next;
};
struct ag_arena_mark ag_arena_mark(const struct ag_arena *a);
void ag_arena_reset(struct ag_arena *a, struct ag_arena_mark m);
uint64_t ag_arena_free_bytes(const struct ag_arena *a);

#ifdef VTX_FREESTANDING
/* ---- port I/O ---- */
static inline void ag_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t ag_inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void ag_outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint16_t ag_inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void ag_outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint32_t ag_inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint64_t ag_rdtsc(void)
{
	return wl_rdtsc();
}

/* ---- uart.c ---- */
void ag_uart_init(void);
void ag_uart_write(const char *buf, size_t len);
void ag_uart_puts(const char *s);

/* ---- report.c: records that go straight to COM1 ---- */
void ag_emit_line(struct ag_line *l); /* ag_rec_end + UART */
void ag_log(const char *msg);
void ag_error(const char *wl, const char *msg);
__attribute__((noreturn)) void ag_finish(int status); /* done + exit port */
void ag_set_hold(uint64_t ms, uint64_t tsc_khz);      /* vtx.hold=: spin after done */
__attribute__((noreturn)) void ag_halt_forever(void);

/* ---- cpu.c ---- */
struct ag_exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vec, err, rip, cs, rflags, rsp, ss;
};
void ag_cpu_init(void);
int ag_rdmsr_safe(uint32_t msr, uint64_t *out);
int ag_wrmsr_safe(uint32_t msr, uint64_t val);
bool ag_pvm_detect(void);
/* CPUID as the VMM configured it (on PVM the synthetic form), r = eax..edx */
void ag_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]);
enum x86_vendor ag_cpu_vendor(void); /* from ag_cpuid leaf 0 */
int ag_pvm_register_vif(void);
bool ag_pvm_vif_active(void);
void ag_idt_set(unsigned vec, uint64_t handler, unsigned dpl);
int ag_fixup_register(uint64_t insn, uint64_t fixup);

/* ---- irq.c: the interrupt flag (sti/cli, or PVM's VIF page; docs/PVM-INTERRUPTS.md) ---- */
struct ag_irqflag {
	volatile uint8_t *vif; /* this CPU's PVM VIF page, NULL: hardware IF */
};
/* This CPU's flag (reads the VIF MSR once on PVM). 0 or -AG_EIO. */
int ag_irqflag_init(struct ag_irqflag *f);
void ag_irq_enable(const struct ag_irqflag *f); /* + injection of what is pending */
void ag_irq_disable(const struct ag_irqflag *f);
void ag_irq_halt(const struct ag_irqflag *f); /* on, hlt, off (the handler ran or spurious) */
/* Wait until *count != before, at most `bound` TSC ticks from the first look
 * that did not find it (no rdtsc when it is already there): 0 or -AG_ETIMEDOUT.
 * halts != NULL: sleep in hlt with interrupts on (ag_irq_halt) and count the
 * hlts (something must end each: the awaited timer, or a backstop); else
 * spin, the caller having turned interrupts on. */
int ag_irq_wait(const struct ag_irqflag *f, volatile uint64_t *count, uint64_t before,
		uint64_t bound, uint64_t *halts);
/* Log "lost interrupt: WHAT did not arrive within N ms (bounded wait)". */
void ag_irq_lost(const char *what, uint64_t waited_ticks, uint64_t tsc_khz);
/* This CPU's TSC-deadline timer as the backstop of hlts that wait for another
 * interrupt: it fires every period_ticks until stopped (x2APIC on first; the
 * LVT timer goes back to the calibration's vector on stop). start: 0, or
 * -AG_EIO and why. ag_backstop_count counts the firings of all CPUs. */
int ag_backstop_start(uint64_t period_ticks, char *why, size_t len);
void ag_backstop_stop(void);
extern volatile uint64_t ag_backstop_count;
const char *ag_irq_how(const struct ag_irqflag *f);
/* Declare n deliberately trapped instructions to vmm-lite's emulation verdict (batched). */
void ag_declare_trapped(uint64_t n);
/* 0 when the LAPIC kept TSC-deadline mode in the LVT timer, else -AG_EIO and why. */
int ag_tscdl_check(char *why, size_t len);

/* ---- memory.c ---- */
struct hvm_start_info;
int ag_memory_init(uint64_t start_info_gpa, char *cmdline, size_t cmdline_cap);
uint64_t ag_memory_ram_bytes(void);
uint64_t ag_memory_ram_end(void);
size_t ag_memory_ram_count(void);
struct ag_range ag_memory_ram(size_t i);
struct ag_arena *ag_memory_arena(void);

/* ---- paging.c ---- */
int ag_paging_init(enum ag_pagesize ps);
uint64_t ag_paging_unmapped_address(void);

/* ---- tsc.c ---- */
struct ag_tsc {
	uint64_t khz;
	const char *src;
	uint64_t pvm_khz; /* PVM's MSR value, 0 when not PVM (for the cross-check) */
};
/* The first source that answers (cmdline, pvm-msr, cpuid, pit), or only the
 * one named by `only` (vtx.tsc=; NULL or "auto": all). 0 or -AG_EIO. */
int ag_tsc_init(uint64_t cmdline_khz, bool pvm, const char *only, struct ag_tsc *out);

/* ---- runtime.c ---- */
struct wl_cmdline;
int ag_run_workload(const struct wl_cmdline *cmd, uint64_t tsc_hz, bool regions);

/* ---- region.c: timed-region markers to vmm-lite (include/virttax/region.h) ---- */
/* Install wl_env.region when the marker device answers, and send the null
 * regions that measure the marker's own footprint. No-op otherwise. */
void ag_region_install(struct wl_env *env);

/* ---- calib_ops.c, calib_report.c: wl_env.op_probe/op/emit_calib ---- */
void ag_calib_env(struct wl_env *env);

/* ---- selftest.c ---- */
__attribute__((noreturn)) void ag_selftest(const char *name);
#endif

#endif
