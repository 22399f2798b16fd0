/*
 * The VM's I/O: which disk device a run gets under which technique, the
 * probes for techniques this host cannot do, and the "io" stats object.
 *
 * Why: `--io-technique` is the experiment's independent variable, so its
 * mapping to devices lives in one place: emulated -> ATA-PIO disk on ports
 * 0x1f0-0x1f7 and legacy NIC on 0x300-0x31f; virtio-user / virtio-eventfd /
 * poll -> virtio-blk on
 * virtio-mmio transport 0 with the matching notification path; vhost and
 * passthrough are probed (/dev/vhost-net, VFIO) and refused with
 * "unavailable: <reason>" rather than simulated.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm-lite/sandbox.h"
#include "vmm-lite/virtio.h"

static const char *const tech_names[] = {
    [IO_TECH_NONE] = "none",
    [IO_TECH_EMULATED] = "emulated",
    [IO_TECH_VIRTIO_USER] = "virtio-user",
    [IO_TECH_VIRTIO_EVENTFD] = "virtio-eventfd",
    [IO_TECH_POLL] = "poll",
    [IO_TECH_VHOST] = "vhost",
    [IO_TECH_PASSTHROUGH] = "passthrough",
};

int io_technique_parse(const char *s, enum io_technique *t)
{
	for (unsigned i = 1; i < sizeof(tech_names) / sizeof(tech_names[0]); i++)
		if (s && !strcmp(s, tech_names[i])) {
			*t = (enum io_technique)i;
			return 0;
		}
	return -EINVAL;
}

const char *io_technique_name(enum io_technique t)
{
	return (unsigned)t < sizeof(tech_names) / sizeof(tech_names[0]) ? tech_names[t] : "?";
}

/* a VFIO group with at least one device bound to vfio-pci */
static bool vfio_device_present(const char *root)
{
	char path[512];
	DIR *d;
	struct dirent *e;
	bool found = false;

	snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers/vfio-pci", root);
	if (!(d = opendir(path)))
		return false;
	while (!found && (e = readdir(d)))
		found = strchr(e->d_name, ':') != NULL; /* 0000:00:04.0 */
	closedir(d);
	return found;
}

int io_technique_probe(enum io_technique t, const char *sysroot, char *why, size_t len)
{
	const char *root = sysroot ? sysroot : "";
	char path[512];

	*why = 0;
	switch (t) {
	case IO_TECH_VHOST:
		snprintf(path, sizeof(path), "%s/dev/vhost-net", root);
		if (access(path, R_OK | W_OK)) {
			snprintf(why, len, "unavailable: no /dev/vhost-net");
			return -ENODEV;
		}
		/* the vhost-net backend (VHOST_SET_MEM_TABLE, VHOST_NET_SET_BACKEND) is not written
		 */
		snprintf(why, len, "unavailable: vmm-lite has no vhost-net backend (docs/IO.md)");
		return -ENODEV;
	case IO_TECH_PASSTHROUGH:
		snprintf(path, sizeof(path), "%s/dev/vfio/vfio", root);
		if (access(path, F_OK) || !vfio_device_present(root)) {
			snprintf(why, len, "unavailable: no assignable device");
			return -ENODEV;
		}
		snprintf(why, len,
			 "unavailable: VFIO device assignment not implemented in vmm-lite");
		return -ENODEV;
	default:
		return 0;
	}
}

int blk_backend_open(struct blk_backend *b, const char *spec, char *err, size_t errlen)
{
	char path[4096];
	const char *comma = strchr(spec, ',');
	size_t n = comma ? (size_t)(comma - spec) : strlen(spec);
	struct stat st;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	if (n == 0 || n >= sizeof(path) || (comma && strcmp(comma, ",direct"))) {
		snprintf(err, errlen, "--blk '%s': expected FILE or FILE,direct", spec);
		return -EINVAL;
	}
	memcpy(path, spec, n);
	path[n] = 0;
	b->direct = comma != NULL;
	b->fd = open(path, O_RDWR | O_CLOEXEC | (b->direct ? O_DIRECT : 0));
	if (b->fd < 0 || fstat(b->fd, &st) || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		int e = b->fd < 0 ? errno : EINVAL;

		snprintf(
		    err, errlen, "--blk %s: %s%s", path, b->fd < 0 ? strerror(e) : "not a file",
		    b->direct && e == EINVAL ? " (O_DIRECT unsupported here: drop ,direct)" : "");
		blk_backend_close(b);
		return -EINVAL;
	}
	b->size = (uint64_t)st.st_size & ~511ULL;
	if (b->size == 0) {
		snprintf(err, errlen, "--blk %s: file smaller than one 512-byte sector", path);
		blk_backend_close(b);
		return -EINVAL;
	}
	b->path = spec;
	return 0;
}

void blk_backend_close(struct blk_backend *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}

static int setup_blk(struct vm *vm, struct vm_io *io, char *err, size_t errlen)
{
	int r = blk_backend_open(&io->disk, vm->opt->blk, err, errlen);

	if (r)
		return r;
	if (io->tech == IO_TECH_EMULATED) {
		if ((r = ata_pio_init(&io->ata, &io->disk, &io->stats)) ||
		    (r = bus_register(&vm->pio, &io->ata.dev))) {
			snprintf(err, errlen, "cannot create the ATA-PIO disk");
			return r ? r : -EBUSY;
		}
		io->have_ata = true;
		return 0;
	}
	r = virtio_mmio_init(&io->blk, vm, 0, &virtio_blk_ops, &io->disk, io->tech, &io->stats, err,
			     errlen);
	io->have_blk = true;
	if (!r)
		r = virtio_mmio_cmdline(&io->blk, io->cmdline_extra, sizeof(io->cmdline_extra));
	return r;
}

/* virtio-net on the transport after the disk's */
static int setup_net(struct vm *vm, struct vm_io *io, char *err, size_t errlen)
{
	size_t used = strlen(io->cmdline_extra);
	int r;

	if ((r = net_backend_open(&io->net, vm->opt->net, err, errlen)))
		return r;
	if (io->tech == IO_TECH_EMULATED) { /* the agent probes LNIC_ID, as it does ATA */
		if ((r = legacy_nic_init(&io->lnic, &io->net, &io->stats)) ||
		    (r = bus_register(&vm->pio, &io->lnic.dev))) {
			snprintf(err, errlen, "cannot create the legacy NIC at ports 0x300-0x31f");
			return r ? r : -EBUSY;
		}
		io->have_lnic = true;
		return 0;
	}
	r = virtio_mmio_init(&io->netdev, vm, io->have_blk ? 1 : 0, &virtio_net_ops, &io->net,
			     io->tech, &io->stats, err, errlen);
	io->have_net = true;
	if (r)
		return r;
	if (used && used + 1 < sizeof(io->cmdline_extra))
		io->cmdline_extra[used++] = ' ';
	return virtio_mmio_cmdline(&io->netdev, io->cmdline_extra + used,
				   sizeof(io->cmdline_extra) - used);
}

/* virtio-balloon on the next free transport (after the disk's and the NIC's) */
static int setup_balloon(struct vm *vm, struct vm_io *io, char *err, size_t errlen)
{
	uint32_t index = (io->have_blk ? 1 : 0) + (io->have_net ? 1 : 0);
	size_t used = strlen(io->cmdline_extra);
	int r = balloon_setup(vm, index, vm->opt->balloon_mib << 20, &io->balloon, err, errlen);

	if (r)
		return r;
	if (used && used + 1 < sizeof(io->cmdline_extra))
		io->cmdline_extra[used++] = ' ';
	return balloon_cmdline(io->balloon, io->cmdline_extra + used,
			       sizeof(io->cmdline_extra) - used);
}

int vm_io_setup(struct vm *vm, struct vm_io **out, char *err, size_t errlen)
{
	struct vm_io *io;
	enum io_technique t = IO_TECH_VIRTIO_USER;
	char why[128];
	int r;

	*out = NULL;
	if (vm->opt->test_escape && sandbox_escape_device(vm, vm->opt->test_escape)) {
		snprintf(err, errlen, "--test-escape: port %#x is taken", SANDBOX_ESCAPE_PORT);
		return -EBUSY;
	}
	if (vm->opt->io_technique && io_technique_parse(vm->opt->io_technique, &t)) {
		snprintf(err, errlen, "--io-technique '%s': unknown", vm->opt->io_technique);
		return -EINVAL;
	}
	if (io_technique_probe(t, NULL, why, sizeof(why))) {
		snprintf(err, errlen, "--io-technique %s: %s", io_technique_name(t), why);
		return -ENODEV;
	}
	if (!vm->opt->blk && !vm->opt->net && !vm->opt->balloon_mib)
		return 0;
	if (!(io = calloc(1, sizeof(*io))))
		return -ENOMEM;
	io->tech = t;
	io->disk.fd = io->blk.ioeventfd = io->blk.irqfd = -1;
	io->net.fd = io->netdev.ioeventfd = io->netdev.irqfd = -1;
	*out = io;
	if (vm->opt->blk && (r = setup_blk(vm, io, err, errlen)))
		return r;
	if (vm->opt->net && (r = setup_net(vm, io, err, errlen)))
		return r;
	return vm->opt->balloon_mib ? setup_balloon(vm, io, err, errlen) : 0;
}

void vm_io_stop(struct vm_io *io)
{
	if (io && io->have_blk)
		virtio_mmio_stop(&io->blk);
	if (io && io->have_net)
		virtio_mmio_stop(&io->netdev);
}

void vm_io_destroy(struct vm_io *io)
{
	if (!io)
		return;
	if (io->have_blk)
		virtio_mmio_destroy(&io->blk);
	if (io->have_net)
		virtio_mmio_destroy(&io->netdev);
	balloon_destroy(io->balloon);
	if (io->have_ata)
		ata_pio_destroy(&io->ata);
	if (io->have_lnic)
		legacy_nic_destroy(&io->lnic);
	blk_backend_close(&io->disk);
	net_backend_close(&io->net);
	free(io);
}

json_t *vm_io_to_json(struct vm_io *io)
{
	const struct io_stats *s;
	char tap[32];

	/* no I/O device: a --balloon alone is not I/O */
	if (!io || !(io->have_blk || io->have_net || io->have_ata || io->have_lnic))
		return json_null();
	vm_io_stop(io); /* the guest is gone: the backend thread's CPU time is final */
	s = &io->stats;
	json_t *j = json_pack(
	    "{s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s}", "technique",
	    io_technique_name(io->tech), "device",
	    io->have_lnic  ? (io->have_ata ? "ata-pio+legacy-nic" : "legacy-nic")
	    : io->have_ata ? "ata-pio"
	    : io->have_net ? (io->have_blk ? "virtio-blk+virtio-net" : "virtio-net")
			   : "virtio-blk",
	    "backing",
	    io->disk.path ? io->disk.path
			  : (snprintf(tap, sizeof(tap), "tap:%s", io->net.ifname), tap),
	    "direct", io->disk.direct, "requests", (json_int_t)s->requests, "bytes",
	    (json_int_t)s->bytes, "errors", (json_int_t)s->errors, "notifications",
	    (json_int_t)s->notifications, "exits", (json_int_t)s->exits, "interrupts",
	    (json_int_t)s->interrupts, "handler_ns", (json_int_t)s->handler_ns, "backend_cpu_ns",
	    (json_int_t)(io->blk.backend_cpu_ns + io->netdev.backend_cpu_ns), "unit_time", "ns");
	json_object_set_new(j, "setup_exits", json_integer((json_int_t)s->setup_exits));
	if (io->have_net || io->have_lnic)
		json_object_set_new(j, "net",
				    json_pack("{s:s,s:I,s:I,s:I,s:I,s:I}", "tap", io->net.ifname,
					      "idle_polls", (json_int_t)io->lnic.idle_polls,
					      "rx_frames", (json_int_t)io->net.rx_frames,
					      "tx_frames", (json_int_t)io->net.tx_frames,
					      "rx_dropped", (json_int_t)io->net.rx_dropped,
					      "tx_dropped", (json_int_t)io->net.tx_dropped));
	return j;
}

json_t *vm_io_guest_errors_json(const struct vm_io *io)
{
	const struct guest_errlog *logs[3] = {
	    io && io->have_blk ? &io->blk.errlog : NULL,
	    io && io->have_net ? &io->netdev.errlog : NULL,
	    io ? balloon_errlog(io->balloon) : NULL,
	};
	json_t *j = json_object();

	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++)
		if (logs[i] && logs[i]->dev)
			json_object_set_new(j, logs[i]->dev, guest_errlog_to_json(logs[i]));
	return j;
}
