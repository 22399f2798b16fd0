/*
 * The exit port (QEMU isa-debug-exit compatible, iobase 0xf4, 4 ports).
 *
 * Why: the guest agent ends every run by writing its status v to port 0xf4;
 * QEMU then exits with (v << 1) | 1, and so does vmm-lite, so the harness
 * decodes both VMMs' exit status the same way.
 */
#include <stdio.h>
#include <string.h>

#include "vmm-lite/vmm.h"

static void debug_exit_write(struct bus_dev *d, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct debug_exit *e = d->priv;
	uint32_t v = 0;
	char reason[64];

	(void)off;
	memcpy(&v, data, len < sizeof(v) ? len : sizeof(v));
	snprintf(reason, sizeof(reason), "guest wrote %u to the exit port", v);
	vm_request_stop(e->vm, STOP_GUEST_EXIT, (int)(((v << 1) | 1) & 0xff), v, reason);
}

static const struct bus_dev_ops debug_exit_ops = {
    .name = "isa-debug-exit",
    .write = debug_exit_write,
};

void debug_exit_init(struct debug_exit *e, uint64_t base, struct vm *vm)
{
	e->vm = vm;
	e->dev = (struct bus_dev){.ops = &debug_exit_ops, .base = base, .len = 4, .priv = e};
}
