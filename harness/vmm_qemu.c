/*
 * VMM driver for QEMU (`--vmm qemu`): the same agent, booted by
 * qemu-system-x86_64 -M microvm through its PVH entry (docs/QEMU.md).
 *
 * Why this shape: QEMU has no --control-fd, so the driver plays vmm-lite's
 * handshake over QMP. QEMU starts paused (-S); on_spawn finds the vCPU
 * threads (query-cpus-fast), pins them, takes the "before" KVM stats
 * (query-stats) and opens the collectors, then `cont`. isa-debug-exit ends
 * QEMU at once, so the agent is told to hold (vtx.hold=) after `done`: on_done
 * takes the "after" stats and the footprint while the guest spins, writes the
 * vmm_stats document vmm-lite would write (docs/INTERFACES.md section 4), and
 * `quit`s. Collectors and reports therefore work unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/child.h"
#include "core/proc.h"
#include "harness/plan.h"
#include "harness/qmp.h"
#include "core/results.h"
#include "vmm-lite/cpuid.h"
#include "vmm-lite/vmm.h"

#define QEMU_BIN "qemu-system-x86_64"
#define QEMU_MACHINE "microvm,x-option-roms=off,pit=off,pic=off,isa-serial=on,rtc=off"
/* The default model plus the TSC-deadline timer and x2APIC the agent's timer and
 * IPI code use (docs/PVM-INTERRUPTS.md); `-cpu host`/`max` abort on PVM hosts.
 * tsc-frequency= (KVM's own rate, so no TSC scaling is asked for) makes QEMU
 * publish the rate in CPUID leaf 0x40000010 (vmware-cpuid-freq, on by
 * default), as vmm-lite does: the agent needs no tsc_khz= on AMD-V. */
#define QEMU_CPU "qemu64,+tsc-deadline,+x2apic"
/* QMP answers in milliseconds on a real host; QEMU under emulation on a loaded
 * machine (make test-hwvirt) took more than 5 s to start answering */
#define QMP_TIMEOUT_MS 30000
#define HOLD_MS 10000 /* the agent spins this long at most after `done` */
#define QEMU_MAX_DEV_ARGS 16

struct qemu_drv {
	struct qmp qmp;
	bool connected;
	struct qmp_vcpu vcpus[QMP_MAX_VCPUS];
	size_t nvcpus;
	json_t *schemas, *vm_before, *vcpu_before;
	json_t *vcpu_hello; /* vCPU stats when the hello record arrived (past the firmware) */
	json_t *doc;	    /* the vmm_stats document */
	int cpu;
	uint64_t cont_ns;
	char err[200];
};

/* VIRTTAX_QEMU, else the first qemu-system-x86_64 on PATH */
static int find_qemu(char *out, size_t len)
{
	const char *over = getenv("VIRTTAX_QEMU");
	if (over && *over) {
		snprintf(out, len, "%s", over);
		return access(out, X_OK) ? -ENOENT : 0;
	}
	const char *path = getenv("PATH");
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", path && *path ? path : "/usr/bin:/bin");
	for (char *save, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if ((size_t)snprintf(out, len, "%s/%s", d, QEMU_BIN) < len && !access(out, X_OK))
			return 0;
	}
	return -ENOENT;
}

static int qemu_probe(char *why, size_t len)
{
	char bin[PATH_MAX], agent[PATH_MAX];
	if (find_qemu(bin, sizeof(bin)))
		return snprintf(
			   why, len,
			   "unavailable: " QEMU_BIN
			   " not found (apt-get install qemu-system-x86, or set VIRTTAX_QEMU)"),
		       -ENOENT;
	if (proc_locate("VIRTTAX_AGENT", "guest-agent.elf", agent, sizeof(agent)))
		return snprintf(why, len, "cannot locate the guest agent: set VIRTTAX_AGENT"),
		       -ENOENT;
	return child_probe_agent_kvm(agent, why, len);
}

/* The calibration's exit kinds under QEMU (docs/CALIBRATION.md "Other VMMs"):
 * QEMU 7.2 serves reads of MSR_CORE_THREAD_COUNT (0x35) in user space through
 * KVM's MSR filter (kvm_rdmsr_core_thread_count), which the agent is told with
 * vtx.umsr=; and a virtio-rng's QueueNotify is an ioeventfd once its driver
 * is ready (virtio-mmio ioeventfd=on). Unclaimed ports and addresses the agent
 * finds by itself. */
static bool calib_run(const struct run_spec *spec)
{
	return !strcmp(spec->workload, "calib");
}

static void cpu_model(char *buf, size_t len)
{
	int khz = kvm_vcpu_tsc_khz();
	if (khz > 0)
		snprintf(buf, len, "%s,tsc-frequency=%d000", QEMU_CPU, khz);
	else /* no rate from KVM: the agent is given tsc_khz= or finds another source */
		snprintf(buf, len, "%s", QEMU_CPU);
}

static void build_cmdline(const struct run_spec *spec, char *buf, size_t len)
{
	size_t off = child_workload_cmdline(spec, buf, len);
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off, " pagesize=%s vtx.hold=%d",
					spec->pagesize ? spec->pagesize : "2m", HOLD_MS);
	if (off < len && spec->tsc_khz) /* else the agent finds it (PVM MSR, CPUID) */
		off += (size_t)snprintf(buf + off, len - off, " tsc_khz=%lu", spec->tsc_khz);
	if (off < len && calib_run(spec))
		off += (size_t)snprintf(buf + off, len - off, " vtx.umsr=0x35");
	/* on PVM the agent registers its VIF page itself (QEMU cannot) */
	if (off < len && pvm_detect(NULL))
		snprintf(buf + off, len - off, " pvm.vif=1");
}

static int pin_tid(pid_t tid, int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set) ? -errno : 0;
}

static int stats_pair(struct qemu_drv *d, json_t **vm, json_t **vcpu)
{
	json_t *a = json_pack("{s:s}", "target", "vm"), *b = json_pack("{s:s}", "target", "vcpu");
	int rc = qmp_exec(&d->qmp, "query-stats", a, vm, QMP_TIMEOUT_MS, d->err, sizeof(d->err));
	if (!rc)
		rc = qmp_exec(&d->qmp, "query-stats", b, vcpu, QMP_TIMEOUT_MS, d->err,
			      sizeof(d->err));
	json_decref(a);
	json_decref(b);
	return rc;
}

static int on_spawn(struct child *c, struct run_result *res)
{
	(void)res;
	struct qemu_drv *d = c->drv;
	const char *sock = c->vmm_stats_json; /* the socket path sits next to it: see qemu_run */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s.qmp", sock);
	json_t *cpus = NULL;
	int rc = qmp_connect(&d->qmp, path, QMP_TIMEOUT_MS, d->err, sizeof(d->err));
	d->connected = rc == 0;
	if (!rc)
		rc = qmp_exec(&d->qmp, "query-cpus-fast", NULL, &cpus, QMP_TIMEOUT_MS, d->err,
			      sizeof(d->err));
	if (!rc && (rc = qmp_vcpus(cpus, d->vcpus, QMP_MAX_VCPUS, &d->nvcpus)))
		snprintf(d->err, sizeof(d->err), "QMP query-cpus-fast: unexpected reply");
	json_decref(cpus);
	pid_t tids[QMP_MAX_VCPUS];
	for (size_t i = 0; !rc && i < d->nvcpus; i++)
		if ((rc = pin_tid(tids[i] = d->vcpus[i].tid, d->cpu)))
			snprintf(d->err, sizeof(d->err), "pinning vCPU thread %d to CPU %d: %s",
				 (int)tids[i], d->cpu, strerror(-rc));
	/* a footprint run times the boot: only what the harness cannot do without */
	if (!rc && !c->footprint_bytes)
		rc = qmp_exec(&d->qmp, "query-stats-schemas", NULL, &d->schemas, QMP_TIMEOUT_MS,
			      d->err, sizeof(d->err));
	if (!rc && !c->footprint_bytes)
		rc = stats_pair(d, &d->vm_before, &d->vcpu_before);
	if (rc)
		return rc;
	child_ready(c, tids, d->nvcpus);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	d->cont_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return qmp_exec(&d->qmp, "cont", NULL, NULL, QMP_TIMEOUT_MS, d->err, sizeof(d->err));
}

static void on_hello(struct child *c, struct run_result *res)
{
	(void)res;
	struct qemu_drv *d = c->drv;
	json_t *a = json_pack("{s:s}", "target", "vcpu");
	char ignore[120];
	if (d->connected && d->schemas &&
	    qmp_exec(&d->qmp, "query-stats", a, &d->vcpu_hello, QMP_TIMEOUT_MS, ignore,
		     sizeof(ignore))) {
		json_decref(d->vcpu_hello);
		d->vcpu_hello = NULL;
	}
	json_decref(a);
}

static json_int_t vcpu_total(json_t *kvm, const char *name, const char *field)
{
	json_int_t sum = 0;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(kvm, "vcpus"), i, v) sum += json_integer_value(
	    json_object_get(json_object_get(json_object_get(v, "stats"), name), field));
	return sum;
}

/* QEMU's microvm firmware (qboot) runs before the agent registers its VIF
 * page, i.e. emulated on PVM (~17k instructions): the verdict is on the part
 * from the hello record on, where every emulated instruction should be an
 * exit (port I/O). Same threshold as vmm-lite (vmm-lite/pvm.c). */
static json_t *emulation_json(struct qemu_drv *d, json_t *kvm, json_t *vcpu_after)
{
	char why[200];
	json_int_t emu = vcpu_total(kvm, "insn_emulation", "delta");
	json_int_t allow = vcpu_total(kvm, "exits", "delta");
	json_int_t boot = 0, run_emu = emu;
	json_t *h = d->vcpu_hello ? qmp_stats_to_kvm(d->schemas, d->vm_before, d->vm_before,
						     d->vcpu_hello, vcpu_after, d->vcpus, d->nvcpus)
				  : NULL;
	if (h) {
		run_emu = vcpu_total(h, "insn_emulation", "delta");
		allow = vcpu_total(h, "exits", "delta");
		boot = emu - run_emu;
		json_decref(h);
	}
	bool native = emulation_is_native((uint64_t)run_emu, (uint64_t)allow, why, sizeof(why));
	return json_pack("{s:I,s:I,s:I,s:b,s:s,s:s}", "insn_emulation_delta", emu,
			 "insn_emulation_from_hello", run_emu, "insn_emulation_before_hello", boot,
			 "native", native, "reason", why, "exits_as_io",
			 "QEMU on PVM does not count io_exits: the vCPU's exits are the I/O "
			 "allowance");
}

/* the document vmm-lite writes with --stats-json, from QMP */
static json_t *stats_doc(struct qemu_drv *d, json_t *kvm, json_t *vcpu_after, int done_status)
{
	json_t *threads = json_array();
	for (size_t i = 0; i < d->nvcpus; i++) {
		char role[16];
		snprintf(role, sizeof(role), "vcpu%d", d->vcpus[i].index);
		json_array_append_new(
		    threads, json_pack("{s:s,s:i}", "role", role, "tid", (int)d->vcpus[i].tid));
	}
	return json_pack("{s:s,s:i,s:{s:s,s:i,s:s},s:{s:b},s:o,s:n,s:s,s:o,s:o}", "vmm", "qemu",
			 "version", 1, "status", "kind", "guest-exit", "guest_code", done_status,
			 "reason", "done record; QEMU quit over QMP while the agent held", "pvm",
			 "detected", pvm_detect(NULL), "emulation",
			 emulation_json(d, kvm, vcpu_after), "exits", "exits_unavailable",
			 "unavailable: QEMU does not account exits per reason", "kvm_stats", kvm,
			 "threads", threads);
}

static void on_done(struct child *c, struct run_result *res)
{
	struct qemu_drv *d = c->drv;
	json_t *vm_after = NULL, *vcpu_after = NULL;
	if (!d->connected)
		return;
	int rc = d->schemas ? stats_pair(d, &vm_after, &vcpu_after) : -ENODATA;
	child_stopped(c, res->proto.done_status);
	if (!rc) {
		json_t *kvm = qmp_stats_to_kvm(d->schemas, d->vm_before, vm_after, d->vcpu_before,
					       vcpu_after, d->vcpus, d->nvcpus);
		if (!kvm)
			snprintf(d->err, sizeof(d->err), "QMP query-stats: unexpected reply shape");
		else
			d->doc = stats_doc(d, kvm, vcpu_after, res->proto.done_status);
		if (d->doc && (rc = results_write_atomic(c->vmm_stats_json, d->doc)))
			snprintf(d->err, sizeof(d->err), "writing %s: %s", c->vmm_stats_json,
				 strerror(-rc));
	}
	json_decref(vm_after);
	json_decref(vcpu_after);
	char ignore[80];
	qmp_exec(&d->qmp, "quit", NULL, NULL, QMP_TIMEOUT_MS, ignore, sizeof(ignore));
}

static void qemu_verdict(const struct child *c, const struct qemu_drv *d,
			 const struct run_spec *spec, struct run_result *res)
{
	res->status = RUN_OK;
	if (c->timed_out) {
		res->status = RUN_TIMEOUT;
		snprintf(res->reason, sizeof(res->reason),
			 "QEMU did not finish within %u s; killed",
			 spec->timeout_s + CHILD_KILL_GRACE_S);
	} else if (child_protocol_verdict(res)) {
		if (res->proto.have_done && res->proto.done_status == 3)
			res->status = RUN_CRASH;
		char proto[sizeof(res->reason)];
		snprintf(proto, sizeof(proto), "%s", res->reason);
		if (d->err[0]) /* e.g. QMP timed out, so QEMU was stopped before the agent spoke */
			snprintf(res->reason, sizeof(res->reason), "QEMU driver: %.160s (%.120s)",
				 d->err, proto);
	} else if (d->err[0] || (!d->doc && !c->footprint_bytes)) {
		res->status = RUN_FAILED;
		snprintf(res->reason, sizeof(res->reason), "QEMU driver: %s",
			 d->err[0] ? d->err : "no KVM stats were taken");
	} else if (res->term_signal || (res->exit_code != 0 && !(res->exit_code & 1))) {
		res->status = RUN_CRASH;
		snprintf(res->reason, sizeof(res->reason), "QEMU exit %d signal %d: %.200s",
			 res->exit_code, res->term_signal, res->stderr_tail);
	} else if (json_is_false(json_object_get(json_object_get(d->doc, "emulation"), "native"))) {
		res->status = RUN_INVALID;
		snprintf(res->reason, sizeof(res->reason), "guest was emulated, not run natively");
	} else if (c->harness_error[0]) {
		snprintf(res->reason, sizeof(res->reason), "%s", c->harness_error);
	}
}

static void drv_release(struct qemu_drv *d)
{
	if (d->connected)
		qmp_close(&d->qmp);
	json_decref(d->schemas);
	json_decref(d->vm_before);
	json_decref(d->vcpu_before);
	json_decref(d->vcpu_hello);
}

/* The disk and the NIC as virtio-mmio devices (version 2: the agent's
 * driver, guest-agent/virtio_mmio.c) and the technique as the transport's
 * ioeventfd switch. Returns how many argv entries went to out. */
static size_t device_args(const struct run_spec *spec, char dev[][PATH_MAX + 96], const char **out)
{
	size_t n = 0, d = 0;
	if (!spec->disk && !spec->tap && !calib_run(spec))
		return 0;
	out[n++] = "-global";
	out[n++] = "virtio-mmio.force-legacy=false";
	if (calib_run(spec)) { /* mmio-ioeventfd: QueueNotify of a device nobody feeds */
		out[n++] = "-global";
		out[n++] = "virtio-mmio.ioeventfd=on";
		out[n++] = "-device";
		out[n++] = "virtio-rng-device";
	}
	if (spec->io_technique && !strcmp(spec->io_technique, "virtio-user")) {
		out[n++] = "-global"; /* notifications exit to QEMU's main loop, no ioeventfd */
		out[n++] = "virtio-mmio.ioeventfd=off";
	}
	if (spec->disk) {
		snprintf(dev[d], sizeof(dev[d]), "file=%s,format=raw,if=none,id=vtxdisk,cache=%s",
			 spec->disk, spec->disk_direct ? "none" : "writeback");
		out[n++] = "-drive";
		out[n++] = dev[d++];
		out[n++] = "-device";
		out[n++] = "virtio-blk-device,drive=vtxdisk";
	}
	if (spec->tap) {
		snprintf(dev[d], sizeof(dev[d]),
			 "tap,id=vtxnet,ifname=%s,script=no,downscript=no,vhost=%s", spec->tap,
			 spec->io_technique && !strcmp(spec->io_technique, "vhost") ? "on" : "off");
		out[n++] = "-netdev";
		out[n++] = dev[d++];
		out[n++] = "-device";
		out[n++] = "virtio-net-device,netdev=vtxnet";
	}
	return n;
}

static int run_child(const struct run_spec *spec, struct qemu_drv *d, const char *stats,
		     struct run_result *res)
{
	char bin[PATH_MAX], agent[PATH_MAX], qmp[PATH_MAX + 64], cmdline[2048], mem[32], smp[16],
	    cpu[96];
	int rc = find_qemu(bin, sizeof(bin));
	if (!rc)
		rc = proc_locate("VIRTTAX_AGENT", "guest-agent.elf", agent, sizeof(agent));
	if (rc)
		return rc;
	struct child c;
	if ((rc = child_init(&c, CT_VM)))
		return rc;
	snprintf(qmp, sizeof(qmp), "unix:%s.qmp,server=on,wait=off", stats);
	build_cmdline(spec, cmdline, sizeof(cmdline));
	snprintf(mem, sizeof(mem), "%lluM", (unsigned long long)(spec->mem_bytes >> 20));
	snprintf(smp, sizeof(smp), "%u", spec->vcpus ? spec->vcpus : 1);
	cpu_model(cpu, sizeof(cpu));
	c.vmm_stats_json = stats;
	c.vmm_name = "qemu";
	c.on_spawn = on_spawn;
	c.on_done = on_done;
	c.on_hello = on_hello;
	c.drv = d;
	c.footprint_bytes = spec->footprint ? spec->mem_bytes : 0;
	const char *argv[] = {bin,
			      "-M",
			      QEMU_MACHINE,
			      "-nodefaults",
			      "-no-user-config",
			      "-nographic",
			      "-serial",
			      "stdio",
			      "-device",
			      "isa-debug-exit,iobase=0xf4,iosize=0x04",
			      "-enable-kvm",
			      "-cpu",
			      cpu,
			      "-no-reboot",
			      "-m",
			      mem,
			      "-smp",
			      smp,
			      "-kernel",
			      agent,
			      "-append",
			      cmdline,
			      "-S",
			      "-qmp",
			      qmp,
			      NULL};
	/* devices, then --vmm-arg values after ours (e.g. -cpu MODEL: QEMU takes the last) */
	const char *full[sizeof(argv) / sizeof(argv[0]) + PLAN_MAX_VMM_ARGS + QEMU_MAX_DEV_ARGS];
	char dev[QEMU_MAX_DEV_ARGS][PATH_MAX + 96];
	size_t nfull = 0;
	for (; argv[nfull]; nfull++)
		full[nfull] = argv[nfull];
	nfull += device_args(spec, dev, &full[nfull]);
	if (spec->disk || spec->tap || calib_run(spec))
		full[2] = QEMU_MACHINE ",acpi=off"; /* virtio_mmio.device= on the command line */
	for (size_t i = 0; i < spec->nvmm_args && i < PLAN_MAX_VMM_ARGS; i++)
		full[nfull++] = spec->vmm_args[i];
	full[nfull] = NULL;
	c.cgroup_procs = spec->cgroup_procs;
	c.no_collectors = spec->no_collectors;
	rc = child_run(&c, (char *const *)full, spec->timeout_s, res);
	if (!rc) {
		qemu_verdict(&c, d, spec, res);
		child_check_hello(res, "vm", spec->pagesize);
	}
	return rc;
}

static int qemu_run(const struct run_spec *spec, struct run_result *res)
{
	static unsigned seq;
	char stats[PATH_MAX];
	if (strcmp(spec->backing, "thp")) {
		res->status = RUN_FAILED;
		snprintf(
		    res->reason, sizeof(res->reason),
		    "unavailable: QEMU madvises guest RAM MADV_HUGEPAGE itself: only --backing "
		    "thp (asked %s)",
		    spec->backing);
		return 0;
	}
	struct qemu_drv d = {.cpu = spec->cpu};
	snprintf(stats, sizeof(stats), "%s/qemu-%d-%u.json", spec->scratch_dir, (int)getpid(),
		 seq++);
	int rc = run_child(spec, &d, stats, res);
	res->vmm_stats = d.doc; /* owned by res now */
	unlink(stats);
	char sock[PATH_MAX + 8];
	snprintf(sock, sizeof(sock), "%s.qmp", stats);
	unlink(sock);
	drv_release(&d);
	return rc;
}

/* What the agent can drive under QEMU microvm: virtio-mmio devices, with
 * (virtio-eventfd) or without (virtio-user) ioeventfd; vhost-net for a NIC
 * where /dev/vhost-net exists. */
static int qemu_io_probe(const char *technique, bool nic, char *why, size_t len)
{
	if (!strcmp(technique, "virtio-eventfd") || !strcmp(technique, "virtio-user"))
		return 0;
	if (!strcmp(technique, "vhost") && nic)
		return access("/dev/vhost-net", R_OK | W_OK)
			   ? (snprintf(why, len, "unavailable: no /dev/vhost-net"), -ENODEV)
			   : 0;
	if (!strcmp(technique, "vhost"))
		return snprintf(why, len, "unavailable: QEMU 7.2 has no vhost backend for a disk"),
		       -ENOTSUP;
	if (!strcmp(technique, "emulated"))
		return snprintf(why, len,
				"unavailable: QEMU microvm has no legacy %s the agent drives "
				"(use --vmm vmm-lite)",
				nic ? "NIC" : "IDE disk"),
		       -ENOTSUP;
	if (!strcmp(technique, "poll"))
		return snprintf(why, len,
				"unavailable: QEMU has no polling virtio backend without "
				"notifications (iothread poll-max-ns still needs them)"),
		       -ENOTSUP;
	return snprintf(why, len,
			"unavailable: %s is not wired for QEMU in virttax (no "
			"assignable device here either)",
			technique),
	       -ENOTSUP;
}

static int qemu_balloon_probe(char *why, size_t len)
{
	return snprintf(why, len,
			"unavailable: the QEMU driver does not set a balloon target (QMP balloon)"),
	       -ENOTSUP;
}

/* The first line of `qemu-system-x86_64 --version` and the binaries' hashes */
static json_t *qemu_identity(void)
{
	char bin[PATH_MAX], agent[PATH_MAX], id[64], aid[64], err[200];
	char *out = NULL;
	if (find_qemu(bin, sizeof(bin)) || proc_file_id(bin, id, sizeof(id)) ||
	    proc_locate("VIRTTAX_AGENT", "guest-agent.elf", agent, sizeof(agent)) ||
	    proc_file_id(agent, aid, sizeof(aid)))
		return NULL;
	char *argv[] = {bin, "--version", NULL};
	if (proc_run(argv, false, &out, err, sizeof(err)) != 0 || !out) {
		free(out);
		return NULL;
	}
	out[strcspn(out, "\n")] = 0;
	json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "version", out, "binary", bin, "id", id,
			      "agent_id", aid);
	free(out);
	return j;
}

const struct vmm_ops vmm_qemu = {
    .name = "qemu",
    .identity = qemu_identity,
    .probe = qemu_probe,
    .run = qemu_run,
    .io_probe = qemu_io_probe,
    .balloon_probe = qemu_balloon_probe,
};
