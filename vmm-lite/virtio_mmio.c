/*
 * virtio-mmio transport, version 2 (virtio 1.2 section 4.2), one queue.
 *
 * Why: virtio-mmio is the transport QEMU's microvm uses; placing transport i
 * at 0xfeb00000 + 0x200*i with IRQ 5+i and announcing it on the command line
 * (`virtio_mmio.device=512@0xADDR:IRQ`) means the agent's drivers work under
 * vmm-lite and QEMU alike. The transport is also where the I/O techniques
 * differ, so it owns the notification and completion paths:
 *   virtio-user     QueueNotify is an MMIO exit; the vCPU thread serves the
 *                   queue and injects with KVM_IRQ_LINE.
 *   virtio-eventfd  QueueNotify hits a KVM_IOEVENTFD in the kernel; a backend
 *                   thread serves the queue and injects through a KVM_IRQFD.
 *   poll            a backend thread spins on the avail ring and tells the
 *                   driver not to notify (event-idx avail_event / NO_NOTIFY).
 * Every register access that reaches us is one guest exit and is counted.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "vmm-lite/sandbox.h"
#include "vmm-lite/virtio.h"

enum {
	R_MAGIC = 0x000,
	R_VERSION = 0x004,
	R_DEVICE_ID = 0x008,
	R_VENDOR_ID = 0x00c,
	R_DEV_FEATURES = 0x010,
	R_DEV_FEATURES_SEL = 0x014,
	R_DRV_FEATURES = 0x020,
	R_DRV_FEATURES_SEL = 0x024,
	R_QUEUE_SEL = 0x030,
	R_QUEUE_NUM_MAX = 0x034,
	R_QUEUE_NUM = 0x038,
	R_QUEUE_READY = 0x044,
	R_QUEUE_NOTIFY = 0x050,
	R_INT_STATUS = 0x060,
	R_INT_ACK = 0x064,
	R_STATUS = 0x070,
	R_DESC_LO = 0x080,
	R_DESC_HI = 0x084,
	R_DRIVER_LO = 0x090,
	R_DRIVER_HI = 0x094,
	R_DEVICE_LO = 0x0a0,
	R_DEVICE_HI = 0x0a4,
	R_CONFIG_GEN = 0x0fc,
	R_CONFIG = 0x100,
};
#define MAGIC 0x74726976u
#define VENDOR 0x554d4551u /* "QEMU", as QEMU reports */
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64
#define TRANSPORT_FEATURES                                                                         \
	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_INDIRECT_DESC) |                         \
	 (1ULL << VIRTIO_F_EVENT_IDX))

uint64_t thread_cpu_ns(pthread_t th)
{
	clockid_t cid;
	struct timespec ts;

	if (pthread_getcpuclockid(th, &cid) || clock_gettime(cid, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *vm_translate(void *ctx, uint64_t gpa, uint64_t len)
{
	struct vm *vm = ctx;

	return layout_gpa_to_hva(&vm->layout, vm->mem.ram, gpa, len);
}

static void raise_irq(struct virtio_mmio *t)
{
	t->int_status |= 1;
	IO_ADD(t->stats->interrupts, 1);
	if (t->irqfd >= 0) {
		uint64_t one = 1;

		if (write(t->irqfd, &one, sizeof(one)) < 0)
			return;
	} else if (t->vm->vm_fd >= 0) {
		struct kvm_irq_level l = {.irq = t->irq, .level = 1};

		/* an edge: the agent completes by polling, so the line never stays up */
		ioctl(t->vm->vm_fd, KVM_IRQ_LINE, &l);
		l.level = 0;
		ioctl(t->vm->vm_fd, KVM_IRQ_LINE, &l);
	}
}

void virtio_mmio_complete(struct virtio_mmio *t, struct virtq *q, uint16_t head, uint32_t len)
{
	virtq_push(q, head, len);
	if (virtq_should_notify(q))
		raise_irq(t);
}

static uint32_t nqueues(const struct virtio_mmio *t)
{
	uint32_t n = t->ops->nqueues;

	return n == 0 ? 1 : n > VIRTIO_MMIO_MAX_QUEUES ? VIRTIO_MMIO_MAX_QUEUES : n;
}

/* A device-fed queue (rx) holds buffers until host input arrives: it asks
 * for a kick only when it has run out of buffers (as QEMU's virtio-net does),
 * and a new buffer re-runs process() so that held input is delivered. */
static void serve_fed(struct virtio_mmio *t, struct virtq *q, bool want_kicks)
{
	for (int i = 0; i < 2; i++) {
		t->ops->process(t, q);
		if (virtq_has_avail(q)) {
			virtq_set_notify(q, false);
			return;
		}
		virtq_set_notify(q, want_kicks);
		if (!virtq_has_avail(q))
			return;
	}
}

/* Serve the queue until it is empty, then (unless polling) ask for a kick and
 * look again so that a request posted in between is not stranded. At most
 * SERVE_BUDGET x the queue size requests per round: a guest whose buffers
 * keep rewriting avail->idx must not keep this thread here for ever; what is
 * left waits for its next kick (asked for) or the next poll. */
#define SERVE_BUDGET 4u
static void serve_queue(struct virtio_mmio *t, uint32_t i)
{
	bool want_kicks = t->tech != IO_TECH_POLL;
	struct virtq *q = &t->vq[i];

	if (!q->ready)
		return;
	virtq_budget(q, SERVE_BUDGET * q->size);
	if (t->ops->device_fed & (1u << i)) {
		serve_fed(t, q, want_kicks);
	} else {
		do {
			t->ops->process(t, q);
			virtq_set_notify(q, want_kicks);
		} while (virtq_has_avail(q) && !virtq_budget_spent(q));
	}
	if (virtq_budget_spent(q) && virtq_has_avail(q)) {
		guest_err(&t->errlog, now_ns(),
			  "queue %u: more than %u requests in one round (buffers rewriting the "
			  "avail ring?): the rest waits for the next kick",
			  i, SERVE_BUDGET * q->size);
		virtq_set_notify(q, true);
	}
	virtq_budget(q, 0);
}

/* every queue that has work (the eventfd and poll backends do not know which was kicked) */
static void serve_all(struct virtio_mmio *t, bool fed_too)
{
	for (uint32_t i = 0; i < nqueues(t); i++)
		if ((fed_too || !(t->ops->device_fed & (1u << i))) && virtq_has_avail(&t->vq[i]))
			serve_queue(t, i);
}

static void reset(struct virtio_mmio *t)
{
	t->status = t->int_status = 0;
	t->dev_feat_sel = t->drv_feat_sel = t->queue_sel = 0;
	t->driver_features = 0;
	for (uint32_t i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		virtq_reset(&t->vq[i]);
}

static uint64_t features(const struct virtio_mmio *t)
{
	return t->ops->features | TRANSPORT_FEATURES;
}

static uint32_t reg_read(struct virtio_mmio *t, uint64_t off)
{
	switch (off) {
	case R_MAGIC:
		return MAGIC;
	case R_VERSION:
		return 2;
	case R_DEVICE_ID:
		return t->ops->device_id;
	case R_VENDOR_ID:
		return VENDOR;
	case R_DEV_FEATURES:
		return t->dev_feat_sel < 2 ? (uint32_t)(features(t) >> (32 * t->dev_feat_sel)) : 0;
	case R_QUEUE_NUM_MAX:
		return t->queue_sel < nqueues(t) ? VIRTQ_MAX_SIZE : 0;
	case R_QUEUE_READY:
		return t->queue_sel < nqueues(t) && t->vq[t->queue_sel].ready;
	case R_INT_STATUS:
		return t->int_status;
	case R_STATUS:
		return t->status;
	case R_CONFIG_GEN:
		return 0;
	default:
		return 0;
	}
}

static void set_addr(uint64_t *a, bool hi, uint32_t v)
{
	*a = hi ? (*a & 0xffffffffULL) | ((uint64_t)v << 32) : (*a & ~0xffffffffULL) | v;
}

static void queue_ready(struct virtio_mmio *t, struct virtq *q, uint32_t v)
{
	if (!v) {
		virtq_reset(q);
		return;
	}
	q->event_idx = t->driver_features & (1ULL << VIRTIO_F_EVENT_IDX);
	q->indirect = t->driver_features & (1ULL << VIRTIO_F_INDIRECT_DESC);
	if (virtq_enable(q)) {
		guest_err(&t->errlog, now_ns(),
			  "queue %u: rings outside guest RAM, misaligned or bad size; device "
			  "needs reset",
			  (unsigned)(q - t->vq));
		t->status |= S_NEEDS_RESET;
		return;
	}
	virtq_set_notify(q, t->tech != IO_TECH_POLL);
}

static void write_status(struct virtio_mmio *t, uint32_t v)
{
	if (v == 0) {
		reset(t);
		return;
	}
	/* FEATURES_OK only for a modern driver that asked for nothing we lack */
	if ((v & S_FEATURES_OK) && (!(t->driver_features & (1ULL << VIRTIO_F_VERSION_1)) ||
				    (t->driver_features & ~features(t))))
		v &= ~(uint32_t)S_FEATURES_OK;
	t->status = v | (t->status & S_NEEDS_RESET);
}

static void reg_write(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	bool qok = t->queue_sel < nqueues(t);
	struct virtq *q = &t->vq[qok ? t->queue_sel : 0];

	switch (off) {
	case R_DEV_FEATURES_SEL:
		t->dev_feat_sel = v;
		break;
	case R_DRV_FEATURES:
		if (t->drv_feat_sel < 2 && !(t->status & S_FEATURES_OK))
			set_addr(&t->driver_features, t->drv_feat_sel == 1, v);
		break;
	case R_DRV_FEATURES_SEL:
		t->drv_feat_sel = v;
		break;
	case R_QUEUE_SEL:
		t->queue_sel = v;
		break;
	case R_QUEUE_NUM:
		if (qok && !q->ready)
			q->size = v <= VIRTQ_MAX_SIZE ? (uint16_t)v : 0;
		break;
	case R_QUEUE_READY:
		if (qok)
			queue_ready(t, q, v);
		break;
	case R_QUEUE_NOTIFY:
		IO_ADD(t->stats->notifications, 1);
		if (v < nqueues(t) && t->tech == IO_TECH_VIRTIO_USER)
			serve_queue(t, v);
		break;
	case R_INT_ACK:
		t->int_status &= ~v;
		break;
	case R_STATUS:
		write_status(t, v);
		break;
	case R_DESC_LO:
	case R_DESC_HI:
		if (qok && !q->ready)
			set_addr(&q->desc_gpa, off == R_DESC_HI, v);
		break;
	case R_DRIVER_LO:
	case R_DRIVER_HI:
		if (qok && !q->ready)
			set_addr(&q->avail_gpa, off == R_DRIVER_HI, v);
		break;
	case R_DEVICE_LO:
	case R_DEVICE_HI:
		if (qok && !q->ready)
			set_addr(&q->used_gpa, off == R_DEVICE_HI, v);
		break;
	default:
		break; /* read-only or unknown: ignored, as the spec asks */
	}
}

static struct virtio_mmio *of(struct bus_dev *d)
{
	return d->priv;
}

/* data-path exits are counted once the driver is up (DRIVER_OK) */
static void count_exit(struct virtio_mmio *t)
{
	if (__atomic_load_n(&t->status, __ATOMIC_RELAXED) & 4)
		IO_ADD(t->stats->exits, 1);
	else
		IO_ADD(t->stats->setup_exits, 1);
}

static void mmio_read(struct bus_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
	struct virtio_mmio *t = of(d);
	uint32_t v;

	count_exit(t);
	memset(data, 0, len);
	pthread_mutex_lock(&t->lock);
	if (off >= R_CONFIG)
		t->ops->config_read(t, off - R_CONFIG, data, len);
	else if (len == 4 && !(off & 3)) {
		v = reg_read(t, off);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&t->lock);
}

static void mmio_write(struct bus_dev *d, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct virtio_mmio *t = of(d);
	uint32_t v;

	count_exit(t);
	if (off >= R_CONFIG && t->ops->config_write) {
		pthread_mutex_lock(&t->lock);
		t->ops->config_write(t, off - R_CONFIG, data, len);
		pthread_mutex_unlock(&t->lock);
		return;
	}
	if (off >= R_CONFIG || len != 4 || (off & 3))
		return; /* config space is read-only unless the device says; registers are 32-bit */
	memcpy(&v, data, 4);
	pthread_mutex_lock(&t->lock);
	reg_write(t, off, v);
	pthread_mutex_unlock(&t->lock);
}

static const struct bus_dev_ops mmio_ops = {
    .name = "virtio-mmio",
    .read = mmio_read,
    .write = mmio_write,
};

static int device_fd(struct virtio_mmio *t)
{
	int fd;

	if (!t->ops->backend_fd)
		return -1;
	pthread_mutex_lock(&t->lock);
	fd = t->ops->backend_fd(t);
	pthread_mutex_unlock(&t->lock);
	return fd;
}

static void device_event(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
	t->ops->backend_event(t);
	pthread_mutex_unlock(&t->lock);
}

/* virtio-eventfd: wait for kicks on the ioeventfd (and host input of the
 * device), serve, repeat. virtio-user with host input: the same loop without
 * the ioeventfd (QEMU's main-loop thread reading the tap). */
static void eventfd_loop(struct virtio_mmio *t)
{
	while (!t->stop) {
		struct pollfd p[2] = {{.fd = t->ioeventfd, .events = POLLIN},
				      {.fd = device_fd(t), .events = POLLIN}};
		uint64_t n;

		if (poll(p, 2, p[1].fd >= 0 ? 50 : 1) <= 0)
			continue;
		if ((p[1].revents & POLLIN) && t->ops->backend_event)
			device_event(t);
		if (!(p[0].revents & POLLIN) || read(t->ioeventfd, &n, sizeof(n)) != sizeof(n))
			continue;
		IO_ADD(t->stats->notifications, n);
		IO_ADD(t->stats->exits, n); /* each kick was an exit, handled in the kernel */
		pthread_mutex_lock(&t->lock);
		serve_all(t, true);
		pthread_mutex_unlock(&t->lock);
	}
}

/* poll: spin on the avail rings (and the device's host input); no
 * notifications either way */
static void poll_loop(struct virtio_mmio *t)
{
	while (!t->stop) {
		bool work = false;

		for (uint32_t i = 0; i < nqueues(t); i++)
			work |= !(t->ops->device_fed & (1u << i)) && virtq_has_avail(&t->vq[i]);
		if (t->ops->backend_event)
			device_event(t);
		if (!work) {
			__builtin_ia32_pause();
			continue;
		}
		pthread_mutex_lock(&t->lock);
		serve_all(t, false);
		pthread_mutex_unlock(&t->lock);
	}
}

static void *backend_thread(void *arg)
{
	struct virtio_mmio *t = arg;
	char name[32], err[160];

	snprintf(name, sizeof(name), "%s io", t->ops->name);
	if (sandbox_enter(SANDBOX_IO, name, err, sizeof(err))) {
		vm_request_stop(t->vm, STOP_HOST_ERROR, VMM_EXIT_HOST, 0, err);
		return NULL;
	}
	if (t->tech == IO_TECH_POLL)
		poll_loop(t);
	else
		eventfd_loop(t);
	t->backend_cpu_ns = thread_cpu_ns(pthread_self());
	return NULL;
}

static int setup_eventfds(struct virtio_mmio *t, char *err, size_t errlen)
{
	/* no datamatch: one eventfd for every queue; the backend looks at all of them */
	struct kvm_ioeventfd io = {.addr = t->bus.base + R_QUEUE_NOTIFY, .len = 4};
	struct kvm_irqfd irq = {.gsi = t->irq};

	t->ioeventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->irqfd = eventfd(0, EFD_CLOEXEC);
	if (t->ioeventfd < 0 || t->irqfd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -errno;
	}
	io.fd = t->ioeventfd;
	irq.fd = (uint32_t)t->irqfd;
	if (ioctl(t->vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ||
	    ioctl(t->vm->vm_fd, KVM_IRQFD, &irq) < 0) {
		int e = errno;

		snprintf(err, errlen, "--io-technique virtio-eventfd: KVM_IOEVENTFD/KVM_IRQFD: %s",
			 strerror(e));
		return -e;
	}
	return 0;
}

int virtio_mmio_init(struct virtio_mmio *t, struct vm *vm, uint32_t index,
		     const struct virtio_dev_ops *ops, void *priv, enum io_technique tech,
		     struct io_stats *stats, char *err, size_t errlen)
{
	int r;

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->ops = ops;
	t->priv = priv;
	t->vm = vm;
	t->index = index;
	t->irq = VIRTIO_MMIO_IRQ_BASE + index;
	t->tech = tech;
	t->stats = stats;
	t->ioeventfd = t->irqfd = -1;
	t->errlog.dev = ops->name;
	for (uint32_t i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		t->vq[i].mem = (struct vq_mem){.translate = vm_translate, .ctx = vm};
	t->bus = (struct bus_dev){.ops = &mmio_ops,
				  .base = VIRTIO_MMIO_BASE + VIRTIO_MMIO_STRIDE * index,
				  .len = VIRTIO_MMIO_STRIDE,
				  .priv = t};
	if ((r = bus_register(&vm->mmio, &t->bus))) {
		snprintf(err, errlen, "cannot register virtio-mmio transport %u", index);
		return r;
	}
	if (tech == IO_TECH_VIRTIO_EVENTFD && (r = setup_eventfds(t, err, errlen)))
		return r;
	if (tech == IO_TECH_VIRTIO_EVENTFD || tech == IO_TECH_POLL ||
	    (tech == IO_TECH_VIRTIO_USER && ops->backend_fd)) {
		if ((r = pthread_create(&t->backend, NULL, backend_thread, t))) {
			snprintf(err, errlen, "cannot create the %s backend thread: %s", ops->name,
				 strerror(r));
			return -r;
		}
		t->backend_started = true;
	}
	return 0;
}

void virtio_mmio_stop(struct virtio_mmio *t)
{
	if (t->backend_started) {
		t->stop = true;
		pthread_join(t->backend, NULL);
		t->backend_started = false;
	}
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	virtio_mmio_stop(t);
	if (t->errlog.dev)
		guest_errlog_summary(&t->errlog);
	if (t->ioeventfd >= 0)
		close(t->ioeventfd);
	if (t->irqfd >= 0)
		close(t->irqfd);
	t->ioeventfd = t->irqfd = -1;
}

int virtio_mmio_cmdline(const struct virtio_mmio *t, char *buf, size_t len)
{
	int n = snprintf(buf, len, "virtio_mmio.device=512@%#llx:%u",
			 (unsigned long long)t->bus.base, t->irq);

	return n < 0 || (size_t)n >= len ? -E2BIG : 0;
}
