/*
 * libFuzzer target: the legacy NIC (vmm-lite/dev_legacy_nic.c) on the port
 * bus: guest register accesses of every size at and around ports
 * 0x300-0x31f (TX_LEN, TX_DATA words, SEND, STATUS/RX_LEN polls that read
 * the "tap", RX_DATA, RX_NEXT, the MAC) and frames arriving from the host
 * side (a socketpair standing in for the tap). Rebuilt for each input.
 */
#include <stdlib.h>
#include <unistd.h>

#include "tests/fuzz/fuzz_support.h"

static void dev_op(void *ctx, struct fz *f)
{
	uint8_t frame[2048];
	size_t n = fz_u16(f) % sizeof(frame);

	fz_bytes(f, frame, n);
	if (write(*(int *)ctx, frame, n) < 0)
		return; /* the "wire" is full: the frame is lost */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct legacy_nic l;
	static struct net_backend net;
	struct io_stats st = {0};
	struct fz f = {data, size};
	struct fuzz_mem *m = fuzz_mem_reset();
	struct vm *vm = fuzz_vm_reset(m);
	int peer;

	fuzz_tap_reset(&net, &peer);
	if (legacy_nic_init(&l, &net, &st) || bus_register(&vm->pio, &l.dev))
		abort();
	fuzz_bus_ops(&f, m, &vm->pio, LNIC_BASE - 0x10, true, dev_op, &peer);
	if (l.tx_pos > l.tx_len || l.rx_count > LNIC_RXQ)
		abort();
	legacy_nic_destroy(&l);
	return 0;
}
