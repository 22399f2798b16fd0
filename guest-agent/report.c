/*
 * Records the agent itself reports (log, error, done) and the final exit.
 *
 * Why: every way out of the agent must end the same way, a "done" record then
 * the status on the isa-debug-exit port, so the host always sees why the
 * guest stopped. If the exit port does not exist the agent parks the CPU
 * (cli; hlt) instead of running on.
 */
#include "guest-agent/agent.h"
#include "virttax/protocol.h"

void ag_emit_line(struct ag_line *l)
{
	const char *s = ag_rec_end(l);
	ag_uart_write(s, ag_strlen(s));
}

void ag_log(const char *msg)
{
	struct ag_line l;
	ag_rec_begin(&l, "log");
	ag_rec_str(&l, "msg", msg);
	ag_emit_line(&l);
}

void ag_error(const char *wl, const char *msg)
{
	struct ag_line l;
	ag_rec_begin(&l, "error");
	ag_rec_str(&l, "wl", wl ? wl : "");
	ag_rec_str(&l, "msg", msg);
	ag_emit_line(&l);
}

void ag_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* vtx.hold=MS: after `done`, spin (natively, no exits) up to MS before the
 * exit port, so that a VMM whose exit port ends the process at once (QEMU's
 * isa-debug-exit) can still be observed with the guest stopped. */
static uint64_t hold_ticks;

void ag_set_hold(uint64_t ms, uint64_t tsc_khz)
{
	hold_ticks = ms * tsc_khz;
}

void ag_finish(int status)
{
	struct ag_line l;
	ag_rec_begin(&l, "done");
	ag_rec_i64(&l, "status", status);
	ag_emit_line(&l);
	for (uint64_t t0 = ag_rdtsc(); hold_ticks && ag_rdtsc() - t0 < hold_ticks;)
		__asm__ volatile("pause");
	ag_outb(VTX_EXIT_PORT, (uint8_t)status);
	ag_halt_forever();
}
