/*
 * A 16550 UART (output only) on the port bus: the guest's console.
 *
 * Why: the guest agent and every PVH kernel print on COM1; that text carries
 * the virttax protocol to the harness. Bytes written to THR go to out_fd
 * unchanged, buffered and flushed at '\n', when the buffer is full and at
 * teardown (each write() costs host time but not guest time). The line status
 * register always says "transmitter empty" so the guest never spins, and the
 * other registers read back what a real 16550 would report.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm-lite/vmm.h"

enum {
	UART_RBR_THR = 0,
	UART_IER = 1,
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7
};
#define LCR_DLAB 0x80
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_NO_INT 0x01
#define IIR_FIFO_ON 0xc0
#define FCR_FIFO_ENABLE 0x01
#define MCR_LOOP 0x10
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* stdout closed: the guest keeps running, output is lost */
		p += w;
		n -= (size_t)w;
	}
}

static void flush_locked(struct uart16550 *u)
{
	write_all(u->out_fd, u->buf, u->nbuf);
	u->nbuf = 0;
}

void uart_flush(struct uart16550 *u)
{
	pthread_mutex_lock(&u->lock);
	flush_locked(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_tx(struct uart16550 *u, uint8_t c)
{
	if (!u->first_byte_ns)
		u->first_byte_ns = now_ns();
	u->bytes_out++;
	u->buf[u->nbuf++] = c;
	if (c == '\n' || u->nbuf == sizeof(u->buf))
		flush_locked(u);
}

static uint8_t uart_reg_read(struct uart16550 *u, uint64_t reg)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		return dlab ? u->dll : 0; /* no input */
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		return IIR_NO_INT | ((u->fcr & FCR_FIFO_ENABLE) ? IIR_FIFO_ON : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT;
	case UART_MSR:
		/* loopback: outputs (DTR, RTS, OUT1, OUT2) reflected on inputs */
		if (u->mcr & MCR_LOOP)
			return (uint8_t)(((u->mcr & 0x2) << 3) | ((u->mcr & 0x1) << 5) |
					 ((u->mcr & 0x4) << 4) | ((u->mcr & 0x8) << 4));
		return MSR_DCD | MSR_DSR | MSR_CTS;
	default:
		return u->scr;
	}
}

static void uart_reg_write(struct uart16550 *u, uint64_t reg, uint8_t v)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			u->dll = v;
		else
			uart_tx(u, v);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = v;
		else
			u->ier = v & 0x0f;
		break;
	case UART_IIR_FCR:
		u->fcr = v;
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		break;
	case UART_SCR:
		u->scr = v;
		break;
	default:
		break; /* LSR, MSR are read-only */
	}
}

/* Multi-byte accesses (outw/outl) touch consecutive registers, as on ISA. */
static void uart_read(struct bus_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
	struct uart16550 *u = d->priv;

	pthread_mutex_lock(&u->lock);
	for (uint32_t i = 0; i < len; i++)
		data[i] = off + i < 8 ? uart_reg_read(u, off + i) : 0xff;
	pthread_mutex_unlock(&u->lock);
}

static void uart_write(struct bus_dev *d, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct uart16550 *u = d->priv;

	pthread_mutex_lock(&u->lock);
	for (uint32_t i = 0; i < len && off + i < 8; i++)
		uart_reg_write(u, off + i, data[i]);
	pthread_mutex_unlock(&u->lock);
}

static const struct bus_dev_ops uart_ops = {
    .name = "uart16550",
    .read = uart_read,
    .write = uart_write,
};

void uart_init(struct uart16550 *u, uint64_t base, int out_fd)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->out_fd = out_fd;
	u->lcr = 0x03; /* 8N1 */
	u->dll = 0x0c; /* 9600 baud */
	u->mcr = 0x08; /* OUT2 */
	u->dev = (struct bus_dev){.ops = &uart_ops, .base = base, .len = 8, .priv = u};
}

void uart_destroy(struct uart16550 *u)
{
	uart_flush(u);
	pthread_mutex_destroy(&u->lock);
}
