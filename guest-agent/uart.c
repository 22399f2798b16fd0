/*
 * Polled COM1 (16550) output.
 *
 * Why: COM1 is the agent's only channel to the host. Every port access is a
 * VM exit (~25 us on the PVM host), so the driver reads LSR once per burst
 * and, when the transmit FIFO is known to be enabled (IIR bits 7:6), writes
 * up to 16 bytes per LSR read. Waiting on LSR is bounded so that a stuck
 * UART can never hang the agent.
 */
#include "guest-agent/agent.h"
#include "virttax/protocol.h"

#define UART_THR 0
#define UART_IER 1
#define UART_DLL 0
#define UART_DLM 1
#define UART_FCR 2
#define UART_IIR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define IIR_FIFO_ENABLED 0xc0
#define UART_FIFO_DEPTH 16
#define UART_MAX_POLLS 100000

static size_t uart_burst = 1;

void ag_uart_init(void)
{
	const uint16_t b = VTX_COM1_PORT;
	ag_outb(b + UART_IER, 0);
	ag_outb(b + UART_LCR, 0x80); /* DLAB */
	ag_outb(b + UART_DLL, 1);    /* 115200 baud */
	ag_outb(b + UART_DLM, 0);
	ag_outb(b + UART_LCR, 0x03); /* 8N1 */
	ag_outb(b + UART_FCR, 0x07); /* enable and clear both FIFOs */
	ag_outb(b + UART_MCR, 0x03); /* DTR, RTS */
	if ((ag_inb(b + UART_IIR) & IIR_FIFO_ENABLED) == IIR_FIFO_ENABLED)
		uart_burst = UART_FIFO_DEPTH;
}

static void wait_thre(void)
{
	for (unsigned i = 0; i < UART_MAX_POLLS; i++)
		if (ag_inb(VTX_COM1_PORT + UART_LSR) & LSR_THRE)
			return;
}

void ag_uart_write(const char *buf, size_t len)
{
	size_t i = 0;
	while (i < len) {
		wait_thre();
		for (size_t n = 0; n < uart_burst && i < len; n++)
			ag_outb(VTX_COM1_PORT + UART_THR, (uint8_t)buf[i++]);
	}
}

void ag_uart_puts(const char *s)
{
	ag_uart_write(s, ag_strlen(s));
}
