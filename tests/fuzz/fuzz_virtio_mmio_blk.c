/*
 * libFuzzer target: the virtio-mmio transport (vmm-lite/virtio_mmio.c) with
 * virtio-blk (dev_virtio_blk.c) behind it, driven like a guest would: register
 * reads and writes anywhere in (and around) the transport window, writes to
 * guest memory (descriptors, rings, headers), queue set-up and notifies
 * (virtio-user: served in the calling thread). A 64 KiB memfd is the disk.
 * Everything is rebuilt for each input.
 */
#include <stdlib.h>

#include "tests/fuzz/fuzz_support.h"

static void dev_op(void *ctx, struct fz *f)
{
	fuzz_virtio_driver_op(ctx, VIRTIO_MMIO_BASE, f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_mmio t;
	static struct blk_backend disk;
	struct io_stats st = {0};
	struct fz f = {data, size};
	struct fuzz_mem *m = fuzz_mem_reset();
	struct vm *vm = fuzz_vm_reset(m);
	char err[160];

	fuzz_disk_reset(&disk);
	if (virtio_mmio_init(&t, vm, 0, &virtio_blk_ops, &disk, IO_TECH_VIRTIO_USER, &st, err,
			     sizeof(err)))
		abort();
	fuzz_bus_ops(&f, m, &vm->mmio, VIRTIO_MMIO_BASE, false, dev_op, &vm->mmio);
	if (st.errors > st.requests || st.bytes > (64u << 10) * st.requests)
		abort(); /* accounting must stay consistent */
	virtio_mmio_destroy(&t);
	return 0;
}
