/*
 * libFuzzer target: the small port devices a guest always has, on one port
 * bus as in vmm-lite: the 16550 UART on COM1 (dev_uart.c; output goes to
 * /dev/null), the isa-debug-exit port 0xf4 (dev_debug_exit.c) and the
 * calibration status/declare and user-space ports (dev_calib_pio.c; no KVM,
 * so their ioeventfd half reports its errno). Any size, any order, DLAB and
 * loopback on and off. Rebuilt for each input.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz/fuzz_support.h"
#include "virttax/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct uart16550 u;
	static struct debug_exit e;
	static int devnull = -1;
	struct fz f = {data, size};
	struct fuzz_mem *m = fuzz_mem_reset();
	struct vm *vm = fuzz_vm_reset(m);

	if (devnull < 0 && (devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		abort();
	memset(&vm->calib, 0, sizeof(vm->calib));
	vm->calib.pio_efd = vm->calib.mmio_efd = -1;
	uart_init(&u, VTX_COM1_PORT, devnull);
	debug_exit_init(&e, VTX_EXIT_PORT, vm);
	if (bus_register(&vm->pio, &u.dev) || bus_register(&vm->pio, &e.dev))
		abort();
	calib_pio_init(vm);
	/* base 0: the 16-bit offsets span the whole port space (dict: the ports) */
	fuzz_bus_ops(&f, m, &vm->pio, 0, true, NULL, NULL);
	if (u.nbuf > sizeof(u.buf))
		abort();
	uart_destroy(&u);
	return 0;
}
