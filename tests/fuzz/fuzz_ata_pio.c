/*
 * libFuzzer target: the ATA-PIO disk (vmm-lite/dev_ata_pio.c) on the port bus,
 * driven like a guest: byte/word/dword reads and writes at and around ports
 * 0x1f0-0x1f7 in any order (LBA, count, drive, command, data words), over a
 * 64 KiB memfd disk, so commands past the end, data before or after a
 * command and partial transfers all happen. Rebuilt for each input.
 */
#include <stdlib.h>

#include "tests/fuzz/fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ata_pio a;
	static struct blk_backend disk;
	struct io_stats st = {0};
	struct fz f = {data, size};
	struct fuzz_mem *m = fuzz_mem_reset();
	struct vm *vm = fuzz_vm_reset(m);

	fuzz_disk_reset(&disk);
	if (ata_pio_init(&a, &disk, &st) || bus_register(&vm->pio, &a.dev))
		abort();
	/* offsets are 16-bit: keep most of them near the device */
	fuzz_bus_ops(&f, m, &vm->pio, ATA_PIO_BASE - 0x10, true, NULL, NULL);
	if (a.pos > a.len || a.len > 256 * 512 || st.bytes > (64u << 10) * st.requests)
		abort();
	ata_pio_destroy(&a);
	return 0;
}
