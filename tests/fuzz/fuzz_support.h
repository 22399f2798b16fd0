/*
 * Shared pieces of the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Why: every device target needs the same things: a reader that turns the
 * fuzzer's bytes into a sequence of guest operations, a small fake guest
 * memory behind a real struct guest_layout (with a reserved hole, so the RAM
 * checks are exercised), a disk and a tap stand-in that are real file
 * descriptors, and stand-ins for the two vm.c functions devices call
 * (vm.c itself needs /dev/kvm). Nothing here keeps state between inputs:
 * fuzz_mem_reset() clears the memory at the start of every input.
 */
#ifndef VIRTTAX_TESTS_FUZZ_SUPPORT_H
#define VIRTTAX_TESTS_FUZZ_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm-lite/virtio.h"
#include "vmm-lite/vmm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the input as a stream ---- */
struct fz {
	const uint8_t *p;
	size_t n;
};
static inline bool fz_more(const struct fz *f)
{
	return f->n > 0;
}
uint8_t fz_u8(struct fz *f);   /* 0 past the end */
uint16_t fz_u16(struct fz *f); /* little endian */
uint32_t fz_u32(struct fz *f);
uint64_t fz_u64(struct fz *f);
/* up to len bytes into buf (the rest zero); returns how many were taken */
size_t fz_bytes(struct fz *f, void *buf, size_t len);
/* an access size: 1, 2, 4 or 8 */
uint32_t fz_len(struct fz *f);

/* ---- fake guest memory: FUZZ_RAM bytes at GPA 0, [FUZZ_HOLE, +4 KiB) reserved ---- */
#define FUZZ_RAM (64u << 10)
#define FUZZ_HOLE (32u << 10)
struct fuzz_mem {
	struct guest_layout layout;
	uint8_t *ram; /* page aligned (madvise works on it) */
};
/* The memory of every device target (one mapping for the process), cleared. */
struct fuzz_mem *fuzz_mem_reset(void);
/* Op "guest writes memory": addr (u16), n (u8), then n bytes. */
void fuzz_mem_write_op(struct fuzz_mem *m, struct fz *f);

/* A struct vm with only what devices use: layout, ram, no KVM fds.
 * Zeroed buses and stop state on every call. */
struct vm *fuzz_vm_reset(struct fuzz_mem *m);

/* The guest's side of a device on `bus`, one operation per step until the
 * input ends (at most 1024): 0 write, 1 read (at base + a 16-bit offset, so
 * accesses past the device's range and straddling it happen too; sizes 1, 2,
 * 4, 8 for MMIO, 1, 2, 4 for port I/O), 2 guest memory write, 3 the target's
 * own operation `dev_op` (NULL: none). */
void fuzz_bus_ops(struct fz *f, struct fuzz_mem *m, struct bus *bus, uint64_t base, bool pio,
		  void (*dev_op)(void *ctx, struct fz *f), void *ctx);

/* A virtio-mmio driver's usual register sequences, written through the bus
 * like any other access (so the fuzzer reaches a live queue quickly):
 * sub-op (byte s) s&3 == 0: unless s&16, reset and negotiate (VERSION_1 +
 * fuzzed bits: u32), then set up queue (s>>2)&1 with a fuzzed size (u8) and
 * ring addresses (3 x u16), DRIVER_OK; 1 notify queue (s>>2)&1; 2 reset;
 * 3 read the config space. */
void fuzz_virtio_driver_op(struct bus *bus, uint64_t base, struct fz *f);

/* ---- host stand-ins (real fds, reused across inputs, reset per input) ---- */
/* a 64 KiB disk (memfd), zeroed */
int fuzz_disk_reset(struct blk_backend *b);
/* a tap stand-in: a non-blocking SOCK_DGRAM socketpair; *peer is the
 * "wire" end (frames written there are received by the device) */
int fuzz_tap_reset(struct net_backend *n, int *peer);

#endif
