/*
 * The I/O bus: devices register an address range and read/write handlers.
 *
 * Why: port I/O and MMIO exits are dispatched the same way (kvmtool's
 * ioport/mmio model) so that adding a device is one file plus one
 * bus_register() call. Accesses nobody claims are counted and reads return
 * all-ones, like an ISA bus with nothing on it.
 */
#include <errno.h>
#include <string.h>

#include "vmm-lite/vmm.h"

static bool overlaps(const struct bus_dev *a, const struct bus_dev *b)
{
	return a->base < b->base + b->len && b->base < a->base + a->len;
}

int bus_register(struct bus *b, struct bus_dev *d)
{
	if (!d->len || d->base + d->len < d->base || !d->ops)
		return -EINVAL;
	if (b->ndevs >= BUS_MAX_DEVS)
		return -ENOSPC;
	for (uint32_t i = 0; i < b->ndevs; i++)
		if (overlaps(b->devs[i], d))
			return -EBUSY;
	b->devs[b->ndevs++] = d;
	return 0;
}

static bool in_dev(const struct bus_dev *d, uint64_t addr, uint32_t len)
{
	return addr >= d->base && addr - d->base < d->len && len <= d->len - (addr - d->base);
}

static void access_dev(struct bus_dev *d, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	if (is_write && d->ops->write)
		d->ops->write(d, addr - d->base, data, len);
	else if (!is_write && d->ops->read)
		d->ops->read(d, addr - d->base, data, len);
	else if (!is_write)
		memset(data, 0xff, len);
}

/* the device of the previous access first: a guest that exits on one
 * device in a row (the calibration, a disk's data port) skips the scan */
bool bus_access(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	uint32_t last = __atomic_load_n(&b->last, __ATOMIC_RELAXED);

	if (last < b->ndevs && in_dev(b->devs[last], addr, len)) {
		access_dev(b->devs[last], addr, data, len, is_write);
		return true;
	}
	for (uint32_t i = 0; i < b->ndevs; i++) {
		if (!in_dev(b->devs[i], addr, len))
			continue;
		__atomic_store_n(&b->last, i, __ATOMIC_RELAXED);
		access_dev(b->devs[i], addr, data, len, is_write);
		return true;
	}
	if (is_write)
		__atomic_add_fetch(&b->unhandled_writes, 1, __ATOMIC_RELAXED);
	else {
		__atomic_add_fetch(&b->unhandled_reads, 1, __ATOMIC_RELAXED);
		memset(data, 0xff, len);
	}
	return false;
}
