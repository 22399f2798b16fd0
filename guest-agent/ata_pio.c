/*
 * ATA-PIO disk driver of the agent (the `emulated` I/O technique).
 *
 * Why: full emulation means the guest talks to device registers and moves
 * data one 16-bit word per `inw`/`outw`, each a port-I/O exit; no string
 * I/O (`rep insw` could be batched by the hypervisor). One request at a
 * time, executed inside submit(); reap() hands the result back. LBA28,
 * up to 256 sectors per command, polled, no interrupts (nIEN).
 */
#include "guest-agent/agent.h"
#include "guest-agent/virtio.h"

#define BASE 0x1f0
#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_BSY 0x80
#define SECTOR 512

struct ata {
	struct wl_blk pub;
	bool done;
	uint32_t tag;
	int status;
};
static struct ata ata;

static int wait_drq(void)
{
	for (int i = 0; i < 1000000; i++) {
		uint8_t s = ag_inb(BASE + 7);
		if (s & ST_ERR)
			return -AG_EIO;
		if (!(s & ST_BSY) && (s & ST_DRQ))
			return 0;
	}
	return -AG_EIO;
}

static int command(uint8_t cmd, uint64_t lba, uint32_t count)
{
	ag_outb(BASE + 6, (uint8_t)(0xe0 | ((lba >> 24) & 0x0f)));
	ag_outb(BASE + 2, (uint8_t)count); /* 256 -> 0 */
	ag_outb(BASE + 3, (uint8_t)lba);
	ag_outb(BASE + 4, (uint8_t)(lba >> 8));
	ag_outb(BASE + 5, (uint8_t)(lba >> 16));
	ag_outb(BASE + 7, cmd);
	return wait_drq();
}

static int transfer(bool write, uint64_t lba, uint16_t *buf, uint32_t sectors)
{
	while (sectors) {
		uint32_t n = sectors > 256 ? 256 : sectors;
		int rc = command(write ? 0x30 : 0x20, lba, n);
		if (rc)
			return rc;
		for (uint32_t w = 0; w < n * SECTOR / 2; w++) {
			if (write)
				ag_outw(BASE, buf[w]);
			else
				buf[w] = ag_inw(BASE);
		}
		if (ag_inb(BASE + 7) & ST_ERR)
			return -AG_EIO;
		buf += n * SECTOR / 2;
		lba += n;
		sectors -= n;
	}
	return 0;
}

static int ata_submit(struct wl_blk *b, uint32_t tag, bool write, uint64_t off, void *buf,
		      uint32_t len)
{
	if (ata.done)
		return -11; /* -EAGAIN: one at a time */
	if ((off | len) % SECTOR || !len || off + len > b->capacity)
		return -AG_EINVAL;
	ata.tag = tag;
	ata.status = transfer(write, off / SECTOR, buf, len / SECTOR);
	ata.done = true;
	return 0;
}

static int ata_reap(struct wl_blk *b, uint32_t *tag, int *status)
{
	(void)b;
	if (!ata.done)
		return 0;
	ata.done = false;
	*tag = ata.tag;
	*status = ata.status;
	return 1;
}

struct wl_blk *ag_ata_probe(void)
{
	uint16_t id[256];
	if (ag_inb(BASE + 7) == 0xff) /* floating bus: no controller */
		return NULL;
	ag_outb(BASE + 6, 0xe0);
	ag_outb(BASE + 7, 0xec); /* IDENTIFY */
	if (wait_drq())
		return NULL;
	for (int i = 0; i < 256; i++)
		id[i] = ag_inw(BASE);
	uint64_t sectors = id[60] | (uint32_t)id[61] << 16;
	if (!sectors)
		return NULL;
	ata.pub = (struct wl_blk){.driver = "ata-pio",
				  .capacity = sectors * SECTOR,
				  .max_inflight = 1,
				  .max_bytes = 1u << 20,
				  .submit = ata_submit,
				  .reap = ata_reap,
				  .priv = &ata};
	return &ata.pub;
}
