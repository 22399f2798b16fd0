/*
 * VMM driver for the bundled vmm-lite (docs/INTERFACES.md section 4).
 *
 * Why a driver file: the harness talks to every VMM through struct vmm_ops;
 * this file only knows vmm-lite's command line, where its binaries live, and
 * what its exit statuses mean. Spawning and observing is harness/child.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/child.h"
#include "core/proc.h"
#include "core/results.h"
#include "harness/plan.h"
#include "vmm-lite/virtio.h"

#define VMMLITE_EXIT_USAGE 64
#define VMMLITE_EXIT_HOST 65
#define VMMLITE_EXIT_CRASH 66
#define VMMLITE_EXIT_TIMEOUT 67
#define VMMLITE_EXIT_INVALID 68
#define VMMLITE_EXIT_SANDBOX 69

static int vmmlite_paths(char *vmm, char *agent, size_t len)
{
	int rc = proc_locate("VIRTTAX_VMM_LITE", "vmm-lite", vmm, len);
	return rc ? rc : proc_locate("VIRTTAX_AGENT", "guest-agent.elf", agent, len);
}

static int vmmlite_probe(char *why, size_t len)
{
	char vmm[PATH_MAX], agent[PATH_MAX];
	int rc = vmmlite_paths(vmm, agent, sizeof(vmm));
	if (rc)
		return snprintf(why, len, "cannot locate vmm-lite: %s", strerror(-rc)), rc;
	if (access(vmm, X_OK))
		return snprintf(
			   why, len,
			   "vmm-lite not found or not executable at %s: build it (make) or set "
			   "VIRTTAX_VMM_LITE",
			   vmm),
		       -ENOENT;
	return child_probe_agent_kvm(agent, why, len);
}

static void build_cmdline(const struct run_spec *spec, char *buf, size_t len)
{
	size_t off = child_workload_cmdline(spec, buf, len);
	if (off < len)
		snprintf(buf + off, len - off, " pagesize=%s tsc_khz=%lu", spec->pagesize,
			 spec->tsc_khz);
}

static void first_line(const char *s, char *out, size_t len)
{
	size_t n = strcspn(s, "\n");
	snprintf(out, len, "%.*s", (int)n, s);
}

static void guest_exit_verdict(int code, struct run_result *res)
{
	int v = code >> 1;
	child_protocol_verdict(res); /* the agent said ok: the protocol decides */
	if (v == 0)
		return;
	char proto_reason[sizeof(res->reason)];
	snprintf(proto_reason, sizeof(proto_reason), "%s", res->reason);
	res->status = (v == 3 || v == 4) ? RUN_CRASH : RUN_FAILED;
	static const char *const what[] = {"ok", "workload failed", "bad agent command line",
					   "guest CPU exception", "agent panic"};
	snprintf(res->reason, sizeof(res->reason), "guest exit %d (%s)%s%.250s", v,
		 v <= 4 ? what[v] : "unknown", proto_reason[0] ? ": " : "", proto_reason);
}

static void vmm_status_verdict(int code, struct run_result *res)
{
	char line[200];
	first_line(res->stderr_tail, line, sizeof(line));
	const char *kind =
	    json_string_value(json_object_get(json_object_get(res->vmm_stats, "status"), "reason"));
	const char *detail = kind ? kind : line;
	res->status = RUN_FAILED;
	switch (code) {
	case VMMLITE_EXIT_USAGE:
		res->fatal = RUN_FATAL_USAGE;
		break;
	case VMMLITE_EXIT_HOST:
		res->fatal = RUN_FATAL_HOST;
		break;
	case VMMLITE_EXIT_CRASH:
		res->status = RUN_CRASH;
		break;
	case VMMLITE_EXIT_TIMEOUT:
		res->status = RUN_TIMEOUT;
		break;
	case VMMLITE_EXIT_INVALID:
		res->status = RUN_INVALID;
		break;
	case VMMLITE_EXIT_SANDBOX: { /* no stats JSON: the SIGSYS line names the call */
		const char *s = strstr(res->stderr_tail, "vmm-lite: seccomp: ");
		res->status = RUN_CRASH;
		if (s) {
			first_line(s, line, sizeof(line));
			detail = line;
		}
		break;
	}
	}
	snprintf(res->reason, sizeof(res->reason), "vmm-lite exit %d: %s", code, detail);
}

/* 65, 67 and 69 are odd like guest statuses ((v << 1) | 1): vmm-lite's own codes
 * win unless its stats JSON says the guest wrote the exit port. */
static bool is_vmm_status(const struct run_result *res)
{
	const char *kind =
	    json_string_value(json_object_get(json_object_get(res->vmm_stats, "status"), "kind"));
	return res->exit_code >= VMMLITE_EXIT_USAGE && res->exit_code <= VMMLITE_EXIT_SANDBOX &&
	       !(kind && !strcmp(kind, "guest-exit"));
}

static void vmmlite_verdict(const struct child *c, const struct run_spec *spec,
			    struct run_result *res)
{
	res->status = RUN_OK;
	if (c->timed_out) {
		res->status = RUN_TIMEOUT;
		snprintf(
		    res->reason, sizeof(res->reason),
		    "vmm-lite did not exit within %u s (its --timeout %u s did not fire); killed",
		    spec->timeout_s + CHILD_KILL_GRACE_S, spec->timeout_s);
	} else if (res->term_signal) {
		res->status = RUN_CRASH;
		snprintf(res->reason, sizeof(res->reason), "vmm-lite killed by signal %d (%s)",
			 res->term_signal, strsignal(res->term_signal));
	} else if (is_vmm_status(res)) {
		vmm_status_verdict(res->exit_code, res);
	} else if (res->exit_code & 1) {
		guest_exit_verdict(res->exit_code, res);
	} else if (res->exit_code == 0) {
		child_protocol_verdict(res);
	} else {
		vmm_status_verdict(res->exit_code, res);
	}
	if (res->status == RUN_OK && c->harness_error[0])
		snprintf(res->reason, sizeof(res->reason), "%s", c->harness_error);
}

static void load_stats(const char *path, struct run_result *res)
{
	json_error_t err;
	res->vmm_stats = json_load_file(path, 0, &err);
	unlink(path);
}

/* vmm-lite exits 68 for an emulated guest; double-check its own verdict.
 * Only a verdict of "native" lets a run count: without the stats file, or on
 * a host without the insn_emulation stat (native null), nobody checked that
 * the guest ran natively, so the run is invalid-unknown. */
static void check_native(struct run_result *res)
{
	json_t *emu = json_object_get(res->vmm_stats, "emulation");
	json_t *native = json_object_get(emu, "native");
	const char *why = json_string_value(json_object_get(emu, "reason"));
	if (res->status != RUN_OK || json_is_true(native))
		return;
	res->status = RUN_INVALID;
	if (json_is_false(native))
		snprintf(res->reason, sizeof(res->reason), "guest was emulated, not run natively");
	else if (!res->vmm_stats)
		snprintf(res->reason, sizeof(res->reason),
			 "invalid-unknown: vmm-lite wrote no stats file, native execution was not "
			 "checked");
	else
		snprintf(res->reason, sizeof(res->reason), "invalid-unknown: %.200s",
			 why && *why ? why : "the stats file has no emulation verdict");
}

static int vmmlite_run(const struct run_spec *spec, struct run_result *res)
{
	static unsigned seq;
	char vmm[PATH_MAX], agent[PATH_MAX], stats[PATH_MAX], cmdline[2048];
	char mem[32], cpu[16], fd[16], tmo[16], vcpus[16];
	int rc = vmmlite_paths(vmm, agent, sizeof(vmm));
	if (rc)
		return rc;
	struct child c;
	if ((rc = child_init(&c, CT_VM)))
		return rc;
	snprintf(stats, sizeof(stats), "%s/vmm-stats-%u.json", spec->scratch_dir, seq++);
	build_cmdline(spec, cmdline, sizeof(cmdline));
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)spec->mem_bytes);
	snprintf(cpu, sizeof(cpu), "%d", spec->cpu);
	snprintf(fd, sizeof(fd), "%d", c.ctl_child);
	snprintf(tmo, sizeof(tmo), "%u", spec->timeout_s);
	c.vmm_stats_json = stats;
	c.vmm_name = "vmm-lite";
	c.footprint_bytes = spec->footprint ? spec->mem_bytes : 0;
	c.cgroup_procs = spec->cgroup_procs;
	c.no_collectors = spec->no_collectors;
	snprintf(vcpus, sizeof(vcpus), "%u", spec->vcpus ? spec->vcpus : 1);
	const char *argv[] = {vmm,     "--kernel",     agent,	      "--cmdline",
			      cmdline, "--mem",	       mem,	      "--pin",
			      cpu,     "--backing",    spec->backing, "--timeout",
			      tmo,     "--stats-json", stats,	      "--control-fd",
			      fd,      "--vcpus",      vcpus,	      NULL};
	if (spec->cpu_list) { /* --pin none|dedicated, --overcommit */
		argv[7] = spec->cpu_list[0] ? "--pin" : "--backing";
		argv[8] = spec->cpu_list[0] ? spec->cpu_list : spec->backing;
	}
	/* devices, then --vmm-arg values after ours (vmm-lite: the last of a
	 * repeated flag wins) */
	const char *full[sizeof(argv) / sizeof(argv[0]) + PLAN_MAX_VMM_ARGS + 8];
	char blk[PATH_MAX + 16], net[64], balloon[40];
	size_t nfull = 0;
	for (; argv[nfull]; nfull++)
		full[nfull] = argv[nfull];
	if (spec->disk) {
		snprintf(blk, sizeof(blk), "%s%s", spec->disk, spec->disk_direct ? ",direct" : "");
		full[nfull++] = "--blk";
		full[nfull++] = blk;
	}
	if (spec->tap) {
		snprintf(net, sizeof(net), "tap=%s", spec->tap);
		full[nfull++] = "--net";
		full[nfull++] = net;
	}
	if (spec->io_technique) {
		full[nfull++] = "--io-technique";
		full[nfull++] = spec->io_technique;
	}
	if (spec->balloon_mib) {
		snprintf(balloon, sizeof(balloon), "--balloon=%lu", spec->balloon_mib);
		full[nfull++] = balloon;
	}
	for (size_t i = 0; i < spec->nvmm_args && i < PLAN_MAX_VMM_ARGS; i++)
		full[nfull++] = spec->vmm_args[i];
	full[nfull] = NULL;
	rc = child_run(&c, (char *const *)full, spec->timeout_s, res);
	if (rc)
		return rc;
	load_stats(stats, res);
	vmmlite_verdict(&c, spec, res);
	child_check_hello(res, "vm", spec->pagesize);
	check_native(res);
	return 0;
}

/* Every technique has a device here (emulated: ATA-PIO disk, legacy NIC);
 * what the host lacks (vhost-net, VFIO) vmm-lite's own probe says. */
static int vmmlite_io_probe(const char *technique, bool nic, char *why, size_t len)
{
	enum io_technique t;
	(void)nic;
	if (io_technique_parse(technique, &t))
		return snprintf(why, len, "unavailable: unknown technique %s", technique), -EINVAL;
	return io_technique_probe(t, NULL, why, len);
}

static int vmmlite_balloon_probe(char *why, size_t len)
{
	(void)why, (void)len;
	return 0;
}

static json_t *vmmlite_identity(void)
{
	char vmm[PATH_MAX], agent[PATH_MAX], id[64], aid[64];
	if (vmmlite_paths(vmm, agent, sizeof(vmm)) || proc_file_id(vmm, id, sizeof(id)) ||
	    proc_file_id(agent, aid, sizeof(aid)))
		return NULL;
	return json_pack("{s:s,s:s,s:s,s:s}", "version", "vmm-lite (virttax " VIRTTAX_VERSION ")",
			 "binary", vmm, "id", id, "agent_id", aid);
}

const struct vmm_ops vmm_vmmlite = {
    .name = "vmm-lite",
    .identity = vmmlite_identity,
    .probe = vmmlite_probe,
    .run = vmmlite_run,
    .io_probe = vmmlite_io_probe,
    .balloon_probe = vmmlite_balloon_probe,
};
