/*
 * Deliberate misbehaviour for the host side's robustness tests
 * (vtx.selftest=fault|hang|garbage|badproto).
 *
 * Why: vmm-lite and the harness must cope with a guest that faults, hangs,
 * prints garbage or breaks the protocol. Testing that needs a guest that does
 * exactly that on request; this is it.
 */
#include "guest-agent/agent.h"
#include "guest-agent/virtio.h"
#include "virttax/protocol.h"

#define GARBAGE_BYTES 512

static void selftest_fault(void)
{
	volatile uint64_t *p = (volatile uint64_t *)ag_paging_unmapped_address();
	(void)*p; /* #PF: reported by the exception handler, exit 3 */
}

static void selftest_hang(void)
{
	for (;;)
		__asm__ volatile("pause");
}

/* Random bytes (NUL and 0xff included) and prefix look-alikes, none of which
 * is a valid record: a full prefix never starts a line here. */
static void selftest_garbage(void)
{
	static const char *const fakes[] = {"@@VTX1@", "@@VTX0@@ {\"t\":", "@@vtx1@@ {}",
					    "@@VTX1@@{\"t\":\"done\"", "@@ VTX1 @@"};
	char buf[GARBAGE_BYTES];
	uint64_t state = ag_rdtsc() | 1;
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] = (char)wl_xorshift64(&state);
		if (buf[i] == '\n')
			buf[i] = '\r';
	}
	buf[0] = 0;
	buf[1] = (char)0xff;
	ag_uart_write(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++) {
		ag_uart_puts("\n");
		ag_uart_puts(fakes[i]);
		ag_uart_write(buf, 32);
	}
	ag_uart_puts("\n");
	ag_finish(VTX_GUEST_OK);
}

static void selftest_badproto(void)
{
	ag_uart_puts(VTX_PROTO_PREFIX "{\"t\":\"log\",\"msg\":\"unterminated\n");
	ag_finish(VTX_GUEST_OK);
}

void ag_selftest_pvmirq(void);
bool ag_selftest_wait(const char *name); /* wait_selftest.c: returns only when not its name */

void ag_selftest(const char *name)
{
	if (ag_streq(name, "fault"))
		selftest_fault();
	else if (ag_streq(name, "hang"))
		selftest_hang();
	else if (ag_streq(name, "garbage"))
		selftest_garbage();
	else if (ag_streq(name, "badproto"))
		selftest_badproto();
	else if (ag_streq(name, "virtq-bad"))
		ag_selftest_virtq_bad(); /* virtio_blk.c */
	else if (ag_streq(name, "pvmirq"))
		ag_selftest_pvmirq(); /* pvm_irq_lab.c */
	else
		ag_selftest_wait(name);
	ag_error("", "selftest did not stop the agent");
	ag_finish(VTX_GUEST_PANIC);
}
