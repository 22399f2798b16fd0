/*
 * libFuzzer target: the virtio-mmio transport with virtio-net
 * (dev_virtio_net.c) behind it: guest register accesses, guest memory writes,
 * queue set-up and notifies (tx frames go to a socketpair standing in for
 * the tap), and frames arriving from the host side (rx, the device-fed
 * queue) of any length up to 2 KiB. No backend thread: the target calls the
 * device's host-input handler itself. Everything is rebuilt for each input.
 */
#include <stdlib.h>
#include <unistd.h>

#include "tests/fuzz/fuzz_support.h"

struct ctx {
	struct virtio_mmio *t;
	struct bus *bus;
	int peer;
};

static void dev_op(void *p, struct fz *f)
{
	struct ctx *c = p;
	uint8_t frame[2048];
	size_t n;

	uint8_t op = fz_u8(f) % 3;

	if (op == 0) {
		fuzz_virtio_driver_op(c->bus, VIRTIO_MMIO_BASE, f);
		return;
	}
	if (op == 1) { /* a frame arrives on the "tap", then the backend looks */
		n = fz_u16(f) % sizeof(frame);
		fz_bytes(f, frame, n);
		if (write(c->peer, frame, n) < 0)
			return;
	}
	pthread_mutex_lock(&c->t->lock);
	c->t->ops->backend_event(c->t);
	pthread_mutex_unlock(&c->t->lock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_mmio t;
	static struct net_backend net;
	static struct virtio_dev_ops ops;
	struct io_stats st = {0};
	struct fz f = {data, size};
	struct fuzz_mem *m = fuzz_mem_reset();
	struct vm *vm = fuzz_vm_reset(m);
	struct ctx c = {.t = &t, .bus = &vm->mmio};
	char err[160];

	ops = virtio_net_ops;
	ops.backend_fd = NULL; /* no backend thread: dev_op delivers host input */
	fuzz_tap_reset(&net, &c.peer);
	if (virtio_mmio_init(&t, vm, 0, &ops, &net, IO_TECH_VIRTIO_USER, &st, err, sizeof(err)))
		abort();
	fuzz_bus_ops(&f, m, &vm->mmio, VIRTIO_MMIO_BASE, false, dev_op, &c);
	if (st.errors > st.requests)
		abort();
	virtio_mmio_destroy(&t);
	return 0;
}
