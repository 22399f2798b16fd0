/*
 * An ATA-PIO style disk at ports 0x1f0-0x1f7: the `emulated` I/O technique.
 *
 * Why: full emulation is the slow end of the I/O table. A register-level
 * disk where the guest programs LBA and count, issues READ/WRITE SECTORS and
 * then moves every 16-bit data word with its own `inw`/`outw` makes each
 * word a port-I/O exit, like an emulated IDE disk without DMA. Only what the
 * agent's driver needs is here: LBA28, READ SECTORS (0x20), WRITE SECTORS
 * (0x30), FLUSH CACHE (0xe7), IDENTIFY (0xec, capacity in words 60-61);
 * polled, no interrupts. Out-of-range LBAs set ERR, never touch the file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm-lite/virtio.h"

#define SECTOR 512
#define MAX_SECTORS 256
#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_DSC 0x10
#define ST_DRDY 0x40
#define ERR_ABRT 0x04
#define ERR_IDNF 0x10

static void fail(struct ata_pio *a, uint8_t err)
{
	a->status = ST_DRDY | ST_DSC | ST_ERR;
	a->error = err;
	a->pos = a->len = 0;
	IO_ADD(a->stats->errors, 1);
}

static void identify(struct ata_pio *a)
{
	uint16_t *w = (uint16_t *)a->buf;
	uint64_t sectors = a->disk->size / SECTOR;
	uint32_t lba28 = sectors > 0x0fffffff ? 0x0fffffff : (uint32_t)sectors;

	memset(a->buf, 0, SECTOR);
	w[49] = 1u << 9; /* LBA supported */
	w[60] = (uint16_t)lba28;
	w[61] = (uint16_t)(lba28 >> 16);
	a->pos = 0;
	a->len = SECTOR;
	a->status = ST_DRDY | ST_DSC | ST_DRQ;
}

static void start_rw(struct ata_pio *a, bool write)
{
	uint32_t n = a->count ? a->count : MAX_SECTORS;
	uint64_t lba = a->lba[0] | (uint32_t)a->lba[1] << 8 | (uint32_t)a->lba[2] << 16 |
		       (uint32_t)(a->drive & 0x0f) << 24;

	IO_ADD(a->stats->requests, 1);
	IO_ADD(a->stats->notifications, 1);
	if (!(a->drive & 0x40) || lba + n > a->disk->size / SECTOR) {
		fail(a, ERR_IDNF);
		return;
	}
	a->lba_start = lba;
	a->pos = 0;
	a->len = n * SECTOR;
	if (!write &&
	    pread(a->disk->fd, a->buf, a->len, (off_t)(lba * SECTOR)) != (ssize_t)a->len) {
		fail(a, ERR_ABRT);
		return;
	}
	a->status = ST_DRDY | ST_DSC | ST_DRQ;
}

static void command(struct ata_pio *a, uint8_t cmd)
{
	a->cmd = cmd;
	a->error = 0;
	switch (cmd) {
	case 0x20:
		start_rw(a, false);
		break;
	case 0x30:
		start_rw(a, true);
		break;
	case 0xe7:
		if (fdatasync(a->disk->fd))
			fail(a, ERR_ABRT);
		else
			a->status = ST_DRDY | ST_DSC;
		break;
	case 0xec:
		identify(a);
		break;
	default:
		fail(a, ERR_ABRT);
	}
}

/* one data word (or dword) moved; a finished write goes to the file */
static void data_done(struct ata_pio *a, uint32_t n)
{
	a->pos += n;
	if (a->pos < a->len)
		return;
	a->status = ST_DRDY | ST_DSC;
	if (a->cmd == 0x30) {
		if (pwrite(a->disk->fd, a->buf, a->len, (off_t)(a->lba_start * SECTOR)) !=
		    (ssize_t)a->len)
			fail(a, ERR_ABRT);
		else
			IO_ADD(a->stats->bytes, a->len);
	} else if (a->cmd == 0x20)
		IO_ADD(a->stats->bytes, a->len);
}

static void ata_read(struct bus_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
	struct ata_pio *a = d->priv;
	uint8_t v = 0;

	IO_ADD(a->stats->exits, 1);
	memset(data, 0, len);
	if (off == 0) {
		if ((a->status & ST_DRQ) && a->cmd != 0x30 && len <= a->len - a->pos) {
			memcpy(data, a->buf + a->pos, len);
			data_done(a, len);
		}
		return;
	}
	switch (off) {
	case 1:
		v = a->error;
		break;
	case 2:
		v = a->count;
		break;
	case 3:
	case 4:
	case 5:
		v = a->lba[off - 3];
		break;
	case 6:
		v = a->drive;
		break;
	case 7:
		v = a->status;
		break;
	}
	data[0] = v;
}

static void ata_write(struct bus_dev *d, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct ata_pio *a = d->priv;

	IO_ADD(a->stats->exits, 1);
	if (off == 0) {
		if ((a->status & ST_DRQ) && a->cmd == 0x30 && len <= a->len - a->pos) {
			memcpy(a->buf + a->pos, data, len);
			data_done(a, len);
		}
		return;
	}
	switch (off) {
	case 1:
		a->feat = data[0];
		break;
	case 2:
		a->count = data[0];
		break;
	case 3:
	case 4:
	case 5:
		a->lba[off - 3] = data[0];
		break;
	case 6:
		a->drive = data[0];
		break;
	case 7:
		command(a, data[0]);
		break;
	}
}

static const struct bus_dev_ops ata_ops = {.name = "ata-pio", .read = ata_read, .write = ata_write};

int ata_pio_init(struct ata_pio *a, struct blk_backend *disk, struct io_stats *stats)
{
	memset(a, 0, sizeof(*a));
	a->disk = disk;
	a->stats = stats;
	a->status = ST_DRDY | ST_DSC;
	if (posix_memalign((void **)&a->buf, 4096, MAX_SECTORS * SECTOR))
		return -ENOMEM;
	a->dev = (struct bus_dev){.ops = &ata_ops, .base = ATA_PIO_BASE, .len = 8, .priv = a};
	return 0;
}

void ata_pio_destroy(struct ata_pio *a)
{
	free(a->buf);
	a->buf = NULL;
}
