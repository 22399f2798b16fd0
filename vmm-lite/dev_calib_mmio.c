/*
 * Calibration MMIO pages: VTX_CALIB_MMIO_GPA (handled here, in user space) and
 * VTX_CALIB_MMIO_KERNEL_GPA (a KVM ioeventfd on its first 4 bytes).
 *
 * Why: the same user-space vs in-kernel split as the test ports, for MMIO,
 * whose exit path differs (page fault on a GPA without a memslot, then
 * instruction decode) from port I/O.
 */
#include "virttax/wl_ops.h"
#include "vmm-lite/vmm.h"

#include <string.h>

int calib_ioeventfd(struct vm *vm, uint64_t addr, bool pio, int *efd);

static void mmio_read(struct bus_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
	uint32_t magic = VTX_CALIB_MAGIC;
	(void)d;
	memset(data, 0, len);
	if (off < 4)
		memcpy(data, (uint8_t *)&magic + off, len < 4 - off ? len : 4 - off);
}

static void mmio_write(struct bus_dev *d, uint64_t off, const uint8_t *data, uint32_t len)
{
	(void)d, (void)off, (void)data, (void)len;
}

static const struct bus_dev_ops calib_mmio_ops = {
    .name = "calib-mmio", .read = mmio_read, .write = mmio_write};

void calib_mmio_init(struct vm *vm)
{
	struct calib_devs *c = &vm->calib;
	c->mmio = (struct bus_dev){
	    .ops = &calib_mmio_ops, .base = VTX_CALIB_MMIO_GPA, .len = 0x1000, .priv = c};
	bus_register(&vm->mmio, &c->mmio);
	int r = calib_ioeventfd(vm, VTX_CALIB_MMIO_KERNEL_GPA, false, &c->mmio_efd);
	if (r)
		c->err[1] = (uint8_t)-r;
	else
		c->flags |= VTX_CALIB_F_MMIO_IOEVENTFD;
}
