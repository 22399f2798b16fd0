/*
 * Shared pieces of the libFuzzer targets (see fuzz_support.h for why).
 */
#include "tests/fuzz/fuzz_support.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

uint16_t fz_u16(struct fz *f)
{
	uint16_t v = fz_u8(f);
	return (uint16_t)(v | (uint16_t)fz_u8(f) << 8);
}

uint32_t fz_u32(struct fz *f)
{
	uint32_t v = fz_u16(f);
	return v | (uint32_t)fz_u16(f) << 16;
}

uint64_t fz_u64(struct fz *f)
{
	uint64_t v = fz_u32(f);
	return v | (uint64_t)fz_u32(f) << 32;
}

size_t fz_bytes(struct fz *f, void *buf, size_t len)
{
	size_t n = len < f->n ? len : f->n;

	memcpy(buf, f->p, n);
	memset((uint8_t *)buf + n, 0, len - n);
	f->p += n;
	f->n -= n;
	return n;
}

uint32_t fz_len(struct fz *f)
{
	return 1u << (fz_u8(f) & 3);
}

struct fuzz_mem *fuzz_mem_reset(void)
{
	static struct fuzz_mem m;

	if (!m.ram) {
		m.ram = mmap(NULL, FUZZ_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);
		if (m.ram == MAP_FAILED)
			abort();
		/* the real layout shape: RAM, a reserved page, RAM */
		m.layout.ram_bytes = m.layout.low_ram_bytes = FUZZ_RAM;
		m.layout.nvcpus = 1;
		m.layout.map[0] = (struct mem_region){0, FUZZ_HOLE, E820_RAM};
		m.layout.map[1] = (struct mem_region){FUZZ_HOLE, 4096, E820_RESERVED};
		m.layout.map[2] =
		    (struct mem_region){FUZZ_HOLE + 4096, FUZZ_RAM - FUZZ_HOLE - 4096, E820_RAM};
		m.layout.nmap = 3;
	}
	memset(m.ram, 0, FUZZ_RAM);
	return &m;
}

void fuzz_mem_write_op(struct fuzz_mem *m, struct fz *f)
{
	uint32_t addr = fz_u16(f), n = fz_u8(f);

	if (addr + n > FUZZ_RAM)
		n = FUZZ_RAM - addr;
	fz_bytes(f, m->ram + addr, n);
}

struct vm *fuzz_vm_reset(struct fuzz_mem *m)
{
	static struct vm vm;

	if (!vm.opt) {
		static struct vmm_options o;

		pthread_mutex_init(&vm.lock, NULL);
		pthread_cond_init(&vm.cond, NULL);
		vm.opt = &o;
	}
	vm.kvm_fd = vm.vm_fd = -1;
	vm.layout = m->layout;
	vm.mem.ram = m->ram;
	memset(&vm.pio, 0, sizeof(vm.pio));
	memset(&vm.mmio, 0, sizeof(vm.mmio));
	vm.stop = STOP_NONE;
	vm.stopping = false;
	vm.nvcpus = 0;
	return &vm;
}

void fuzz_bus_ops(struct fz *f, struct fuzz_mem *m, struct bus *bus, uint64_t base, bool pio,
		  void (*dev_op)(void *ctx, struct fz *f), void *ctx)
{
	for (int step = 0; step < 1024 && fz_more(f); step++) {
		uint8_t op = fz_u8(f), buf[8];
		uint64_t addr;
		uint32_t len;

		switch (op & 3) {
		case 0:
		case 1:
			addr = base + fz_u16(f);
			len = pio ? 1u << (fz_u8(f) % 3) : fz_len(f);
			if (op & 1) {
				bus_access(bus, addr, buf, len, false);
			} else {
				fz_bytes(f, buf, len);
				bus_access(bus, addr, buf, len, true);
			}
			break;
		case 2:
			fuzz_mem_write_op(m, f);
			break;
		default:
			if (dev_op)
				dev_op(ctx, f);
		}
	}
}

static void wr32(struct bus *bus, uint64_t addr, uint32_t v)
{
	bus_access(bus, addr, (uint8_t *)&v, 4, true);
}

void fuzz_virtio_driver_op(struct bus *bus, uint64_t base, struct fz *f)
{
	uint8_t sub = fz_u8(f), buf[8];
	uint32_t q = sub >> 2 & 1;

	switch (sub & 3) {
	case 0:
		if (!(sub & 16)) { /* else: one more queue on the negotiated device */
			wr32(bus, base + 0x070, 0);
			wr32(bus, base + 0x070, 3);
			wr32(bus, base + 0x024, 1);
			wr32(bus, base + 0x020, 1); /* VERSION_1 */
			wr32(bus, base + 0x024, 0);
			/* indirect, event idx, device bits; sometimes bits never offered */
			wr32(bus, base + 0x020, fz_u32(f) & (sub & 8 ? ~0u : (3u << 28) | 0x3ff));
			wr32(bus, base + 0x070, 11);
		}
		wr32(bus, base + 0x030, q);
		wr32(bus, base + 0x038, 1u << (fz_u8(f) % 11));
		wr32(bus, base + 0x080, fz_u16(f));
		wr32(bus, base + 0x084, 0);
		wr32(bus, base + 0x090, fz_u16(f));
		wr32(bus, base + 0x094, 0);
		wr32(bus, base + 0x0a0, fz_u16(f));
		wr32(bus, base + 0x0a4, 0);
		wr32(bus, base + 0x044, 1);
		wr32(bus, base + 0x070, 15);
		break;
	case 1:
		wr32(bus, base + VIRTIO_MMIO_QUEUE_NOTIFY, q);
		break;
	case 2:
		wr32(bus, base + 0x070, 0);
		break;
	default:
		for (uint32_t off = 0x100; off < 0x140; off += 4)
			bus_access(bus, base + off, buf, 4, false);
	}
}

int fuzz_disk_reset(struct blk_backend *b)
{
	static int fd = -1;

	if (fd < 0 && (fd = memfd_create("fuzz-disk", MFD_CLOEXEC)) < 0)
		abort();
	if (ftruncate(fd, 0) || ftruncate(fd, 64 << 10))
		abort();
	*b = (struct blk_backend){.fd = fd, .size = 64 << 10, .path = "fuzz-disk"};
	return 0;
}

int fuzz_tap_reset(struct net_backend *n, int *peer)
{
	static int sv[2] = {-1, -1};
	static uint8_t *frame;
	uint8_t drain[2048];

	if (sv[0] < 0) {
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
			abort();
		if (!(frame = malloc(VIRTIO_NET_MAX_FRAME)))
			abort();
	}
	while (read(sv[0], drain, sizeof(drain)) > 0) /* frames of the last input */
		;
	while (read(sv[1], drain, sizeof(drain)) > 0)
		;
	memset(n, 0, sizeof(*n));
	n->fd = sv[0];
	n->frame = frame;
	snprintf(n->ifname, sizeof(n->ifname), "fuzz0");
	memcpy(n->mac, (uint8_t[6]){0x52, 0x54, 0x00, 0x76, 0x74, 0x78}, 6);
	*peer = sv[1];
	return 0;
}

/* ---- vm.c stand-ins (vm.c opens /dev/kvm) ---- */

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void vm_request_stop(struct vm *vm, enum stop_kind k, int exit_status, uint32_t guest_code,
		     const char *reason)
{
	(void)reason;
	if (vm->stop == STOP_NONE) {
		vm->stop = k;
		vm->exit_status = exit_status;
		vm->guest_code = guest_code;
	}
	vm->stopping = true;
}
