/*
 * vmm-lite's I/O path: split virtqueues, the virtio-mmio transport, the
 * virtio-blk and ATA-PIO disks, and the I/O techniques that connect them.
 *
 * Why a header of its own: the virtqueue code is pure (guest memory comes in
 * through a translate callback) so the unit tests and the libFuzzer target
 * (tests/fuzz/fuzz_virtq.c) drive it on a plain buffer; the devices and the
 * technique plumbing (ioeventfd, irqfd, poll thread) are kept out of vmm.h so
 * that the core VMM stays readable. Everything a guest writes is untrusted.
 */
#ifndef VMM_LITE_VIRTIO_H
#define VMM_LITE_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vmm-lite/vmm.h"

/* ---- split virtqueue (virtq.c), virtio 1.2 section 2.7 ---- */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTQ_MAX_SIZE 1024	   /* largest queue we offer (QueueNumMax) */
#define VIRTQ_MAX_SEGS 256	   /* descriptors in one chain, direct + indirect */
#define VIRTQ_MAX_TOTAL (8u << 20) /* bytes one request may describe */

/* Guest memory as the virtqueue sees it: a host pointer for [gpa, gpa+len)
 * only when the whole range is guest RAM, else NULL. */
struct vq_mem {
	void *(*translate)(void *ctx, uint64_t gpa, uint64_t len);
	void *ctx;
};
/* a flat buffer at GPA 0 (tests, fuzzer) */
struct vq_flat {
	uint8_t *buf;
	uint64_t size;
};
void *vq_flat_translate(void *ctx, uint64_t gpa, uint64_t len);

struct virtq {
	uint16_t size; /* QueueNum: power of two, 1..VIRTQ_MAX_SIZE */
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx, indirect; /* negotiated features */
	struct vq_mem mem;
	uint64_t max_total; /* per-request byte cap, 0: VIRTQ_MAX_TOTAL */
	/* device state */
	uint16_t last_avail; /* next avail ring slot to consume */
	uint16_t used_idx;   /* our copy of used->idx */
	uint16_t signalled_used;
	bool signalled_valid;
	uint64_t errors; /* bad chains seen */
	bool budgeted;	 /* virtq_budget: pops are counted down */
	uint32_t budget; /* pops left before virtq_pop says VQ_EMPTY */
	/* host pointers, valid once virtq_enable() succeeded */
	uint8_t *desc, *avail, *used;
};

struct vq_seg {
	uint8_t *base; /* host pointer, bounds-checked */
	uint32_t len;
	bool write; /* device writes (driver "in" buffer) */
};
struct vq_req {
	uint16_t head;
	uint32_t nseg;
	uint32_t nout; /* device-readable segments come first */
	uint64_t out_bytes, in_bytes;
	struct vq_seg seg[VIRTQ_MAX_SEGS];
};

enum vq_pop_result {
	VQ_EMPTY = 0,
	VQ_GOT = 1,
	VQ_BAD_CHAIN = 2, /* r->head is valid: complete it with virtq_push(len 0) */
	VQ_BAD_HEAD = 3,  /* the avail entry itself is out of range: dropped */
};

/* Check and map the three rings; -EINVAL for a bad size, address, alignment,
 * or rings that overlap each other. */
int virtq_enable(struct virtq *q);
void virtq_reset(struct virtq *q);
/* Take the next available chain. Never reads outside guest RAM, never loops.
 * Returns enum vq_pop_result, with `why` naming the problem for BAD_*. */
int virtq_pop(struct virtq *q, struct vq_req *r, const char **why);
/* At most `pops` more entries until the next call (0: no limit): a serving
 * round ends even when the guest's buffers overwrite avail->idx. */
void virtq_budget(struct virtq *q, uint32_t pops);
bool virtq_budget_spent(const struct virtq *q);
/* Put `head` in the used ring with `len` written bytes. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* After pushes: must the driver be interrupted? (flags or used_event) */
bool virtq_should_notify(struct virtq *q);
/* Driver-notification suppression: ask for kicks (true) or not. */
void virtq_set_notify(struct virtq *q, bool want_kicks);
bool virtq_has_avail(const struct virtq *q);
/* Copy helpers over a chain's segments (bounded by the segments). */
size_t vq_copy_from(const struct vq_req *r, size_t off, void *dst, size_t len);
size_t vq_copy_to(const struct vq_req *r, size_t off, const void *src, size_t len);

/* ---- I/O techniques and per-run I/O accounting (io.c) ---- */
enum io_technique {
	IO_TECH_NONE,
	IO_TECH_EMULATED,	/* ATA-PIO disk: every data word is a port-I/O exit */
	IO_TECH_VIRTIO_USER,	/* QueueNotify = MMIO exit in the vCPU thread; KVM_IRQ_LINE */
	IO_TECH_VIRTIO_EVENTFD, /* KVM_IOEVENTFD -> backend thread; KVM_IRQFD */
	IO_TECH_POLL,		/* backend thread polls the ring, notifications suppressed */
	IO_TECH_VHOST,		/* /dev/vhost-net, probed */
	IO_TECH_PASSTHROUGH,	/* VFIO, probed */
};
int io_technique_parse(const char *s, enum io_technique *t);
const char *io_technique_name(enum io_technique t);
/* 0 when the technique can run here, else -ENODEV and "unavailable: <reason>" */
int io_technique_probe(enum io_technique t, const char *sysroot, char *why, size_t len);

struct io_stats { /* updated with __atomic builtins from several threads */
	uint64_t requests, bytes, errors;
	uint64_t notifications; /* driver->device kicks that reached the device */
	uint64_t exits;		/* guest exits caused by the device (MMIO, PIO, ioeventfd) */
	uint64_t interrupts;	/* device->driver injections (IRQ line or irqfd) */
	uint64_t handler_ns;	/* host time spent serving requests */
	uint64_t setup_exits;	/* exits before DRIVER_OK (probe, negotiation), not in exits */
};
#define IO_ADD(field, n) __atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)

/* ---- guest-caused error messages (guest_err.c): per device, a burst of
 * GUEST_ERR_BURST lines then one per GUEST_ERR_REFILL_NS, the rest counted ---- */
#define GUEST_ERR_BURST 10
#define GUEST_ERR_REFILL_NS 1000000000ULL
struct guest_errlog {
	const char *dev; /* "virtio-blk" */
	uint64_t total, printed;
	uint32_t tokens;
	bool started;
	uint64_t refill_ns; /* time the bucket was last refilled */
};
/* One guest error at CLOCK_MONOTONIC `now`: printed as "vmm-lite: DEV: ..." if
 * the bucket allows, counted always. The caller holds the device lock. */
void guest_err(struct guest_errlog *l, uint64_t now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "N more guest errors not printed" at teardown, when some were suppressed */
void guest_errlog_summary(const struct guest_errlog *l);
json_t *guest_errlog_to_json(const struct guest_errlog *l); /* {count, printed, suppressed} */

/* ---- virtio-mmio transport (virtio_mmio.c), virtio 1.2 section 4.2, version 2 ---- */
#define VIRTIO_MMIO_BASE 0xfeb00000ULL
#define VIRTIO_MMIO_STRIDE 0x200ULL
#define VIRTIO_MMIO_IRQ_BASE 5
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
struct virtio_mmio;
struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	uint64_t features; /* device-specific bits; the transport adds VERSION_1 etc. */
	void (*config_read)(struct virtio_mmio *t, uint64_t off, uint8_t *data, uint32_t len);
	/* optional: a driver write to config space (NULL: read-only, ignored) */
	void (*config_write)(struct virtio_mmio *t, uint64_t off, const uint8_t *data,
			     uint32_t len);
	/* serve what the driver made available on queue q (transport lock held) */
	void (*process)(struct virtio_mmio *t, struct virtq *q);
	/* optional, for devices with host-driven input (virtio-net rx): */
	uint32_t nqueues;    /* 0 or 1: one queue; at most VIRTIO_MMIO_MAX_QUEUES */
	uint32_t device_fed; /* bitmask of queues filled by host events (rx), not by kicks */
	/* fd the backend thread waits on for host input, -1: none right now */
	int (*backend_fd)(struct virtio_mmio *t);
	/* host input is ready (or, under poll, may be): move it (lock held) */
	void (*backend_event)(struct virtio_mmio *t);
};
#define VIRTIO_MMIO_MAX_QUEUES 2
struct virtio_mmio {
	struct bus_dev bus; /* first: container_of from the bus callbacks */
	pthread_mutex_t lock;
	const struct virtio_dev_ops *ops;
	void *priv;
	struct vm *vm;
	uint32_t index, irq;
	enum io_technique tech;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel, status, int_status;
	uint64_t driver_features;
	struct virtq vq[VIRTIO_MMIO_MAX_QUEUES];
	int ioeventfd, irqfd;
	pthread_t backend;
	bool backend_started;
	volatile bool stop;
	struct io_stats *stats;
	uint64_t backend_cpu_ns;
	struct guest_errlog errlog; /* the device's guest-error messages */
};
/* Creates transport `index` for `ops` on the VM's MMIO bus (and the ioeventfd,
 * irqfd and backend thread the technique needs). */
int virtio_mmio_init(struct virtio_mmio *t, struct vm *vm, uint32_t index,
		     const struct virtio_dev_ops *ops, void *priv, enum io_technique tech,
		     struct io_stats *stats, char *err, size_t errlen);
void virtio_mmio_stop(struct virtio_mmio *t);
void virtio_mmio_destroy(struct virtio_mmio *t);
/* "virtio_mmio.device=512@0xfeb00000:5" */
int virtio_mmio_cmdline(const struct virtio_mmio *t, char *buf, size_t len);
/* complete a request and interrupt the driver when it asked for it */
void virtio_mmio_complete(struct virtio_mmio *t, struct virtq *q, uint16_t head, uint32_t len);
uint64_t thread_cpu_ns(pthread_t th);

/* ---- disk backend shared by virtio-blk and the ATA-PIO disk (io.c) ---- */
struct blk_backend {
	int fd;
	uint64_t size; /* bytes, a multiple of 512 (the tail is ignored) */
	bool direct;   /* O_DIRECT */
	const char *path;
};
/* "FILE[,direct]" */
int blk_backend_open(struct blk_backend *b, const char *spec, char *err, size_t errlen);
void blk_backend_close(struct blk_backend *b);

/* ---- devices ---- */
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
extern const struct virtio_dev_ops virtio_blk_ops; /* priv: struct blk_backend */

#define ATA_PIO_BASE 0x1f0
struct ata_pio {
	struct bus_dev dev;
	struct blk_backend *disk;
	struct io_stats *stats;
	uint8_t feat, count, lba[3], drive, status, error, cmd;
	uint8_t *buf;	   /* one command's sectors (count <= 256) */
	uint32_t pos, len; /* bytes of buf transferred / to transfer */
	uint64_t lba_start;
};
int ata_pio_init(struct ata_pio *a, struct blk_backend *disk, struct io_stats *stats);
void ata_pio_destroy(struct ata_pio *a);

#define VIRTIO_ID_NET 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_HDR_LEN 12	   /* struct virtio_net_hdr_v1 (VERSION_1: num_buffers present) */
#define VIRTIO_NET_MAX_FRAME 65550 /* an Ethernet header + the largest tap MTU (65535) */
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1
struct net_backend {
	int fd; /* /dev/net/tun, IFF_TAP | IFF_NO_PI, non-blocking */
	char ifname[16];
	uint8_t mac[6]; /* the guest's */
	uint8_t *frame; /* one received frame held until an rx buffer is posted */
	size_t pending; /* its length, 0: none */
	uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped;
};
/* "tap=NAME": attach to (or create) tap NAME */
int net_backend_open(struct net_backend *n, const char *spec, char *err, size_t errlen);
void net_backend_close(struct net_backend *n);
/* Pure frame handling over a popped chain (unit-tested with hostile chains):
 * tx: iovecs over the frame after the 12-byte header; the frame length, or
 * -EINVAL (no header, empty frame, device-writable part, longer than
 * VIRTIO_NET_MAX_FRAME). rx: write header + frame into the writable part;
 * bytes written, or -EMSGSIZE when the buffers are too small, -EINVAL when
 * the chain has a readable part. */
struct iovec;
int net_tx_iov(const struct vq_req *r, struct iovec *iov, int maxiov, size_t *len);
int net_rx_fill(const struct vq_req *r, const void *frame, size_t len, uint32_t *used);
extern const struct virtio_dev_ops virtio_net_ops; /* priv: struct net_backend */

/* ---- legacy-style NIC at ports 0x300-0x31f (dev_legacy_nic.c), the `emulated`
 * network: every register access and every 32-bit data word is a port-I/O exit.
 * Offsets (docs/IO.md): */
#define LNIC_BASE 0x300
#define LNIC_LEN 0x20
#define LNIC_ID 0x00	       /* r32: LNIC_MAGIC */
#define LNIC_STATUS 0x04       /* r32: LNIC_ST_*; polls the tap when nothing is pending */
#define LNIC_TX_LEN 0x08       /* w32: start a tx frame of this many bytes */
#define LNIC_TX_DATA 0x0c      /* w16/w32: next bytes of the tx frame */
#define LNIC_RX_LEN 0x10       /* r32: length of the pending rx frame, 0: none */
#define LNIC_RX_DATA 0x14      /* r16/r32: next bytes of the pending rx frame */
#define LNIC_CMD 0x18	       /* w8: LNIC_CMD_* */
#define LNIC_MAC 0x1a	       /* r8 x 6 */
#define LNIC_MAGIC 0x4e4c5456u /* "VTLN" */
#define LNIC_ST_RX_READY 0x1
#define LNIC_ST_TX_ERR 0x2 /* the last SEND failed (bad length/sequence, tap error) */
#define LNIC_ST_RX_ERR 0x4 /* a read past the rx frame or with nothing pending */
#define LNIC_CMD_SEND 1
#define LNIC_CMD_RX_NEXT 2
#define LNIC_RXQ 4 /* frames held in the VMM */
struct legacy_nic {
	struct bus_dev dev;
	pthread_mutex_t lock;
	struct net_backend *net;
	struct io_stats *stats;
	uint8_t *tx;		 /* VIRTIO_NET_MAX_FRAME */
	uint32_t tx_len, tx_pos; /* tx_len 0: no frame started */
	bool tx_bad;		 /* this frame is failed at SEND */
	uint32_t status;
	uint8_t *rx[LNIC_RXQ];
	uint32_t rx_len[LNIC_RXQ], rx_head, rx_count, rx_pos;
	uint64_t idle_polls; /* STATUS reads that found nothing */
};
int legacy_nic_init(struct legacy_nic *l, struct net_backend *net, struct io_stats *stats);
void legacy_nic_destroy(struct legacy_nic *l);
/* the bus handlers, for the unit tests */
void legacy_nic_read(struct bus_dev *d, uint64_t off, uint8_t *data, uint32_t len);
void legacy_nic_write(struct bus_dev *d, uint64_t off, const uint8_t *data, uint32_t len);

/* ---- virtio-balloon (dev_virtio_balloon.c), virtio 1.2 section 5.5: inflateq,
 * deflateq, config num_pages (target) and actual; no stats, no free-page hints ---- */
#define VIRTIO_ID_BALLOON 5
#define BALLOON_PAGE 4096u
#define BALLOON_INFLATEQ 0
#define BALLOON_DEFLATEQ 1
/* The pure part, unit-tested with hostile PFNs: a PFN is accepted only when
 * its whole 4 KiB page is guest RAM (memmap type 1 and mapped); a page already
 * inflated is a duplicate and not released twice. */
struct balloon_core {
	const struct guest_layout *layout;
	void *ram;	       /* host mapping of guest RAM (layout_gpa_to_hva) */
	uint8_t *inflated_map; /* one bit per 4 KiB of host RAM offset */
	uint64_t map_pages;
	uint64_t inflated;		     /* pages currently inflated (unique) */
	uint64_t inflate_pfns, deflate_pfns; /* PFNs received */
	uint64_t deflated;		     /* pages given back (were inflated) */
	uint64_t released_bytes;	     /* MADV_DONTNEED done */
	uint64_t resident_bytes;	     /* of those, resident just before (mincore) */
	uint64_t bad_pfns, duplicate_pfns, release_errors;
	uint64_t release_ns; /* host time in madvise+mincore */
};
int balloon_core_init(struct balloon_core *c, const struct guest_layout *l, void *ram);
void balloon_core_free(struct balloon_core *c);
/* 0, -EFAULT (not guest RAM), -EEXIST (already inflated), -EIO (madvise failed) */
int balloon_inflate_pfn(struct balloon_core *c, uint32_t pfn);
/* 0, -EFAULT, -ENOENT (was not inflated) */
int balloon_deflate_pfn(struct balloon_core *c, uint32_t pfn);
struct balloon;
int balloon_setup(struct vm *vm, uint32_t index, uint64_t target_bytes, struct balloon **out,
		  char *err, size_t errlen);
int balloon_cmdline(const struct balloon *b, char *buf, size_t len);
void balloon_destroy(struct balloon *b);
json_t *balloon_to_json(const struct balloon *b);
const struct guest_errlog *balloon_errlog(const struct balloon *b);

/* ---- the VM's I/O (io.c): devices for --blk under --io-technique ---- */
struct vm_io {
	enum io_technique tech;
	struct blk_backend disk;
	struct virtio_mmio blk;
	struct ata_pio ata;
	bool have_blk, have_ata;
	struct net_backend net;
	struct virtio_mmio netdev;
	struct legacy_nic lnic;
	bool have_net, have_lnic;
	struct io_stats stats;
	struct balloon *balloon; /* --balloon (dev_virtio_balloon.c), NULL: none */
	char cmdline_extra[240];
};
/* Reads vm->opt->blk / io_technique; NULL *out when the VM has no I/O device. */
int vm_io_setup(struct vm *vm, struct vm_io **out, char *err, size_t errlen);
void vm_io_stop(struct vm_io *io);
void vm_io_destroy(struct vm_io *io);
json_t *vm_io_to_json(struct vm_io *io);
/* {"virtio-blk":{count,printed,suppressed},...}: every device that reports guest errors */
json_t *vm_io_guest_errors_json(const struct vm_io *io);

#endif
