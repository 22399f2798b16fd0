/*
 * libFuzzer target: the virtio-mmio transport with virtio-balloon
 * (dev_virtio_balloon.c): guest register and config accesses (num_pages,
 * actual), guest memory writes, and inflate/deflate queues carrying any PFNs;
 * released pages are madvised on the fake guest memory. The inflated-page
 * count must stay within guest RAM. Rebuilt for each input.
 */
#include <stdlib.h>

#include "tests/fuzz/fuzz_support.h"

static void dev_op(void *ctx, struct fz *f)
{
	fuzz_virtio_driver_op(ctx, VIRTIO_MMIO_BASE, f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct balloon *b;
	struct fz f = {data, size};
	struct fuzz_mem *m = fuzz_mem_reset();
	struct vm *vm = fuzz_vm_reset(m);
	char err[160];

	if (balloon_setup(vm, 0, 16 << 10, &b, err, sizeof(err)))
		abort();
	fuzz_bus_ops(&f, m, &vm->mmio, VIRTIO_MMIO_BASE, false, dev_op, &vm->mmio);
	json_t *j = balloon_to_json(b);
	if (json_integer_value(json_object_get(j, "inflated_pages")) > FUZZ_RAM / BALLOON_PAGE)
		abort();
	json_decref(j);
	balloon_destroy(b);
	return 0;
}
