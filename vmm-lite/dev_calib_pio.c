/*
 * Calibration test ports: 0x4f0 (handled here, in user space), 0x4f4 (status
 * and the guest's declaration of deliberately trapped instructions) and 0x4f8
 * (a KVM ioeventfd without datamatch: completed inside the kernel).
 *
 * Why: the exit-cost calibration (docs/CALIBRATION.md) times a port write that
 * reaches the VMM and one that KVM completes itself; the difference is the
 * cost of the trip to user space. The status port tells the guest which of the
 * kernel-side mechanisms could be registered (and the errno when not), so the
 * guest reports `unavailable: reason` instead of timing the wrong path.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "virttax/wl_ops.h"
#include "vmm-lite/vmm.h"

#define DECLARE_MAX 1000000u /* per write: bounds what a guest can excuse at once */

static void pio_read(struct bus_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
	uint32_t magic = VTX_CALIB_MAGIC;
	(void)d;
	memset(data, 0, len);
	if (off < 4)
		memcpy(data, (uint8_t *)&magic + off, len < 4 - off ? len : 4 - off);
}

static void pio_write(struct bus_dev *d, uint64_t off, const uint8_t *data, uint32_t len)
{
	(void)d, (void)off, (void)data, (void)len; /* the exit is the point */
}

static const struct bus_dev_ops calib_pio_ops = {
    .name = "calib-pio", .read = pio_read, .write = pio_write};

/* inl +0: flags; inb +1..+3: errno of flag bit 0..2 */
static void status_read(struct bus_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
	struct calib_devs *c = d->priv;
	uint8_t regs[4];
	uint32_t flags = c->flags;
	memcpy(regs, &flags, 4);
	if (off >= 1)
		memcpy(regs + 1, c->err, 3);
	memset(data, 0, len);
	if (off == 0 && len == 4)
		memcpy(data, &flags, 4);
	else if (off < 4)
		memcpy(data, regs + off, len < 4 - off ? len : 4 - off);
}

/* outl +0: the guest executed v trapped instructions on purpose (emulation verdict) */
static void status_write(struct bus_dev *d, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct calib_devs *c = d->priv;
	uint32_t v = 0;
	if (off != 0 || len != 4)
		return;
	memcpy(&v, data, 4);
	__atomic_add_fetch(&c->declared, v < DECLARE_MAX ? v : DECLARE_MAX, __ATOMIC_RELAXED);
}

static const struct bus_dev_ops calib_status_ops = {
    .name = "calib-status", .read = status_read, .write = status_write};

static int ioeventfd(struct vm *vm, uint64_t addr, uint32_t flags, int *efd)
{
	struct kvm_ioeventfd io = {.addr = addr, .len = 4, .flags = flags};
	*efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*efd < 0)
		return -errno;
	io.fd = *efd;
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		int e = errno;
		close(*efd);
		*efd = -1;
		return -e;
	}
	return 0;
}

int calib_ioeventfd(struct vm *vm, uint64_t addr, bool pio, int *efd);
int calib_ioeventfd(struct vm *vm, uint64_t addr, bool pio, int *efd)
{
	return ioeventfd(vm, addr, pio ? KVM_IOEVENTFD_FLAG_PIO : 0, efd);
}

void calib_pio_init(struct vm *vm)
{
	struct calib_devs *c = &vm->calib;
	c->pio = (struct bus_dev){
	    .ops = &calib_pio_ops, .base = VTX_CALIB_PIO_PORT, .len = 4, .priv = c};
	c->status = (struct bus_dev){
	    .ops = &calib_status_ops, .base = VTX_CALIB_PIO_STATUS, .len = 4, .priv = c};
	bus_register(&vm->pio, &c->pio);
	bus_register(&vm->pio, &c->status);
	int r = calib_ioeventfd(vm, VTX_CALIB_PIO_KERNEL_PORT, true, &c->pio_efd);
	if (r)
		c->err[0] = (uint8_t)-r;
	else
		c->flags |= VTX_CALIB_F_PIO_IOEVENTFD;
}
