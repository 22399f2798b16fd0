/*
 * The guest agent's main sequence, from the first 64-bit instruction to the
 * exit port.
 *
 * Why: the order matters on the PVM host. Until the VIF page is registered
 * every instruction is emulated, so the agent does only the CPU tables (so
 * that a #GP from a PVM MSR is caught), copies its inputs and registers VIF;
 * then the expensive work (UART, page tables, TSC) runs natively. The hello
 * record comes first, then params, metrics and done.
 */
#include "guest-agent/agent.h"
#include "guest-agent/virtio.h"
#include "virttax/protocol.h"
#include "workloads/wl_cmdline.h"

void agent_main(uint32_t start_info_gpa, uint64_t tsc_entry);

static char cmdline[AG_CMDLINE_MAX];
static struct ag_options opts;
static struct wl_cmdline wl_cmd;

/* the unparsed command line, for drivers (virtio_mmio.device=) */
const char *ag_cmdline_raw(void)
{
	return cmdline;
}

uint32_t ag_opt_user_msr(void)
{
	return opts.umsr;
}

static void panic_rc(const char *what, int rc)
{
	char msg[AG_ERR_MAX] = "";
	char num[24];
	ag_strlcat(msg, sizeof(msg), what);
	ag_strlcat(msg, sizeof(msg), ": errno ");
	ag_fmt_u64(num, sizeof(num), (uint64_t) - (int64_t)rc);
	ag_strlcat(msg, sizeof(msg), num);
	ag_error("", msg);
	ag_finish(VTX_GUEST_PANIC);
}

static void emit_hello(const struct ag_tsc *tsc, uint64_t tsc_entry)
{
	struct ag_line l;
	ag_rec_begin(&l, "hello");
	ag_rec_u64(&l, "proto", VTX_PROTO_VERSION);
	ag_rec_str(&l, "side", "vm");
	ag_rec_u64(&l, "tsc_khz", tsc->khz);
	ag_rec_str(&l, "tsc_src", tsc->src);
	ag_rec_u64(&l, "tsc_entry", tsc_entry);
	ag_rec_str(&l, "pagesize", opts.pagesize == AG_PAGE_4K ? "4k" : "2m");
	ag_rec_u64(&l, "mem_bytes", ag_memory_ram_bytes());
	ag_rec_u64(&l, "pvm_vif", ag_pvm_vif_active() ? 1 : 0);
	ag_emit_line(&l);
}

/* The host's tsc_khz= and PVM's own figure should agree within 0.1 %. */
static void cross_check_tsc(const struct ag_tsc *tsc)
{
	if (!tsc->pvm_khz || tsc->pvm_khz == tsc->khz)
		return;
	uint64_t diff = tsc->pvm_khz > tsc->khz ? tsc->pvm_khz - tsc->khz : tsc->khz - tsc->pvm_khz;
	if (diff * 1000 <= tsc->khz)
		return;
	char msg[AG_ERR_MAX] = "tsc_khz differs from PVM's MSR value (kHz): ";
	char num[24];
	ag_fmt_u64(num, sizeof(num), tsc->pvm_khz);
	ag_strlcat(msg, sizeof(msg), num);
	ag_log(msg);
}

/* The workload part of the command line goes through the same parser as
 * `virttax baseline`, so both sides accept and reject the same input and map
 * run() results to the same status. */
static void run_workload(uint64_t tsc_hz)
{
	wl_cmdline_init(&wl_cmd);
	if (wl_cmdline_add_line(&wl_cmd, cmdline) || wl_cmdline_resolve(&wl_cmd, ag_option_keys)) {
		ag_error(wl_cmd.wl ? wl_cmd.wl->name : "", wl_cmd.err);
		ag_finish(VTX_GUEST_BAD_CMDLINE);
	}
	ag_balloon_inflate(tsc_hz); /* --balloon: before the workload's allocations */
	int rc = ag_run_workload(&wl_cmd, tsc_hz, !opts.no_regions);
	if (rc) {
		char msg[AG_ERR_MAX] = "workload failed: errno ";
		char num[24];
		ag_fmt_u64(num, sizeof(num), (uint64_t) - (int64_t)rc);
		ag_strlcat(msg, sizeof(msg), num);
		ag_error(wl_cmd.wl->name, msg);
	}
	ag_finish(wl_status_from_rc(rc));
}

void agent_main(uint32_t start_info_gpa, uint64_t tsc_entry)
{
	ag_cpu_init();
	int mrc = ag_memory_init(start_info_gpa, cmdline, sizeof(cmdline));
	int prc = ag_cmdline_parse(cmdline, &opts);
	int vrc = opts.vif ? ag_pvm_register_vif() : 0;
	ag_uart_init();
	if (mrc)
		panic_rc("no usable hvm_start_info memmap", mrc);
	int rc = ag_paging_init(opts.pagesize);
	if (rc)
		panic_rc("building the identity map", rc);
	struct ag_tsc tsc;
	rc = ag_tsc_init(opts.tsc_khz, ag_pvm_detect(), opts.tsc_src, &tsc);
	if (rc)
		panic_rc(opts.tsc_src ? "the TSC frequency source named by vtx.tsc= did not answer"
				      : "no TSC frequency source (give tsc_khz=)",
			 rc);
	ag_set_hold(opts.hold_ms, tsc.khz);
	emit_hello(&tsc, tsc_entry);
	if (vrc)
		ag_log("pvm.vif=1 but the VIF MSR write faulted: not a PVM host");
	cross_check_tsc(&tsc);
	if (prc) {
		ag_error("", opts.err);
		ag_finish(VTX_GUEST_BAD_CMDLINE);
	}
	if (opts.selftest)
		ag_selftest(opts.selftest);
	run_workload(tsc.khz * 1000);
}
