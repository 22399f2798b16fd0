/*
 * Problems found in an environment description, each with a one-line remedy
 * (the `pyperf system show` idea): what will make results noisy, wrong or
 * unavailable on this machine, and what to do about it.
 *
 * Why a pure function of the environment JSON: the rules are unit tested on
 * fake machines, and results.json carries the same list the doctor prints.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collectors/internal.h"

static void add(json_t *list, const char *severity, const char *problem, const char *remedy)
{
	json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "severity", severity, "problem",
					      problem, "remedy", remedy));
}

static const json_t *path(const json_t *j, const char *a, const char *b)
{
	j = json_object_get(j, a);
	return b ? json_object_get(j, b) : j;
}

static const char *str(const json_t *j, const char *a, const char *b)
{
	return json_string_value(path(j, a, b));
}

static void kvm_advice(const json_t *env, json_t *out)
{
	const char *fl = str(env, "kvm", "flavour");
	const json_t *dev = path(env, "kvm", "dev_kvm");
	if (!fl || !strcmp(fl, "none")) {
		add(out, "warning", "no KVM module loaded (kvm_intel, kvm_amd or kvm_pvm)",
		    "modprobe kvm_intel or kvm_amd (needs VT-x/AMD-V), or kvm_pvm on a PVM kernel; "
		    "VM runs will fail");
	} else if (!json_is_true(json_object_get(dev, "present"))) {
		add(out, "warning", "/dev/kvm is missing although a KVM module is loaded",
		    "check dmesg for the KVM module's error; VM runs will fail");
	} else if (str(dev, "access", NULL) && strcmp(str(dev, "access", NULL), "rw")) {
		add(out, "warning", "/dev/kvm is not accessible to this user",
		    "usermod -aG kvm $USER (then log in again)");
	}
	if (fl && !strcmp(fl, "pvm")) {
		if (json_is_true(path(env, "kvm", "pvm_native")))
			add(out, "info",
			    "KVM flavour pvm (native-capable): guests run natively "
			    "only once the PVM VIF page is registered",
			    "nothing to do: vmm-lite registers the VIF page itself (QEMU: the "
			    "agent's pvm.vif=1); runs found emulated are reported invalid");
		else
			add(out, "warning",
			    "KVM flavour pvm with pvm_native=N: guests are emulated "
			    "instruction by instruction",
			    "reload the module: modprobe -r kvm_pvm && modprobe kvm_pvm "
			    "pvm_native=1");
	}
	const json_t *tdp = path(env, "kvm", "tdp");
	if (json_is_false(json_object_get(tdp, "enabled"))) {
		char prob[160], fix[160];
		const char *mod = str(tdp, "module", NULL), *param = str(tdp, "param", NULL);
		snprintf(prob, sizeof(prob),
			 "%s %s=N: guests use shadow paging (every guest page-table write exits)",
			 mod, param);
		snprintf(fix, sizeof(fix), "modprobe -r %s && modprobe %s %s=1", mod, mod, param);
		add(out, "warning", prob, fix);
	}
	const json_t *emu = path(env, "kvm", "emulation_probe");
	if (json_is_true(json_object_get(emu, "available")) &&
	    json_is_false(json_object_get(emu, "native")))
		add(out, "warning",
		    "a probe guest was emulated, not run natively: VM runs will be "
		    "reported invalid",
		    fl && !strcmp(fl, "pvm")
			? "check kvm_pvm pvm_native=Y and that vmm-lite "
			  "registers the VIF page (see docs/VMM-LITE.md)"
			: "check that VT-x/AMD-V is enabled (BIOS, outer hypervisor)");
	if (json_is_true(path(env, "kvm", "host_is_vm")))
		add(out, "info",
		    "this host is itself a VM (cpuinfo flag hypervisor): the outer "
		    "hypervisor adds its own overhead and noise",
		    "compare VM and bare-metal runs on this host only; use bare metal for "
		    "absolute figures");
}

static void pmu_advice(const json_t *env, json_t *out, bool fake_root)
{
	const json_t *pmu = json_object_get(env, "pmu");
	char buf[200];
	if (!json_is_true(json_object_get(pmu, "available"))) {
		add(out, "warning", "no hardware PMU",
		    "PMU counters (cycles, instructions, TLB misses) will be reported unavailable; "
		    "software events and KVM stats still work");
	} else if (json_is_false(json_object_get(pmu, "kvm_enable_pmu"))) {
		add(out, "info", "kvm.enable_pmu=N: guests get no virtual PMU",
		    "modprobe kvm enable_pmu=1 to count inside guests");
	}
	json_int_t par = json_integer_value(json_object_get(pmu, "perf_event_paranoid"));
	if (json_is_integer(json_object_get(pmu, "perf_event_paranoid")) && par > 1 &&
	    (fake_root || geteuid() != 0)) {
		snprintf(buf, sizeof(buf),
			 "perf_event_paranoid=%lld: without root perf counts user space only",
			 (long long)par);
		add(out, "warning", buf, "sysctl kernel.perf_event_paranoid=1, or run as root");
	}
}

static void memory_advice(const json_t *env, json_t *out)
{
	const char *thp = str(path(env, "memory", "thp"), "enabled", NULL);
	if (thp && !strcmp(thp, "madvise"))
		add(out, "info", "THP is madvise",
		    "virttax madvises guest RAM itself; for hugetlb backing set vm.nr_hugepages=N");
	else if (thp && !strcmp(thp, "never"))
		add(out, "warning", "THP is never: --backing thp gets 4 KiB pages",
		    "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled");
	size_t i;
	json_t *h;
	json_array_foreach(path(env, "memory", "hugetlb"), i, h)
	{
		if (strcmp(str(h, "page_size", NULL), "2048kB") ||
		    json_integer_value(json_object_get(h, "nr")))
			continue;
		add(out, "info",
		    "no 2 MiB hugetlb pages reserved: --backing hugetlb-2m is unavailable",
		    "sysctl vm.nr_hugepages=N (N x 2 MiB >= guest RAM)");
	}
}

static void cpufreq_advice(const json_t *env, json_t *out)
{
	const char *gov = str(env, "cpufreq", "governor");
	const char *boost = str(env, "cpufreq", "boost");
	char buf[160];
	if (!gov) {
		add(out, "info",
		    "no cpufreq interface: the frequency is set by the hypervisor or firmware",
		    "nothing to set here; pin the outer host's governor to performance if you can");
	} else if (strcmp(gov, "performance")) {
		snprintf(buf, sizeof(buf), "governor %s: the frequency follows the load", gov);
		add(out, "warning", buf, "cpupower frequency-set -g performance");
	}
	if (boost && !strcmp(boost, "on"))
		add(out, "warning",
		    "turbo/boost is on: the frequency depends on temperature and load",
		    "echo 0 > /sys/devices/system/cpu/cpufreq/boost (intel_pstate: echo 1 > "
		    "/sys/devices/system/cpu/intel_pstate/no_turbo)");
}

static void cpus_advice(const json_t *env, json_t *out)
{
	const json_t *cpus = json_object_get(env, "cpus");
	json_int_t n = json_integer_value(path(cpus, "online", "count"));
	char buf[200];
	if (json_is_true(json_object_get(cpus, "smt_active")))
		add(out, "warning",
		    "SMT is active: a sibling hardware thread shares the workload's core",
		    "keep the sibling idle (virttax pins noise elsewhere) or echo off > "
		    "/sys/devices/system/cpu/smt/control");
	if (n > 0 && n < 4) {
		snprintf(buf, sizeof(buf),
			 "%lld CPUs online: harness, VMM threads and neighbours share them with "
			 "the workload",
			 (long long)n);
		add(out, "warning", buf,
		    "pin the workload (--pin); noisy-neighbour experiments need >= 4 CPUs");
	}
	if (!json_integer_value(path(cpus, "isolated", "count")))
		add(out, "info", "no isolated CPUs",
		    "boot with isolcpus=N nohz_full=N rcu_nocbs=N and pin the workload to N");
	double l1 = json_real_value(path(env, "load", "1min"));
	if (l1 >= 0.5) {
		snprintf(buf, sizeof(buf), "load average %.2f on %lld CPUs: results will be noisy",
			 l1, (long long)n);
		add(out, "warning", buf, "stop other work");
	}
}

static void misc_advice(const json_t *env, json_t *out)
{
	if (!json_is_true(path(env, "devices", "/dev/vhost-net")))
		add(out, "info", "no /dev/vhost-net: in-kernel virtio-net backend unavailable",
		    "modprobe vhost_net (QEMU network runs fall back to user-space virtio)");
	if (!json_is_true(path(env, "devices", "/dev/net/tun")))
		add(out, "warning", "no /dev/net/tun: tap networking is unavailable",
		    "modprobe tun");
	if (!json_is_true(path(env, "tsc", "invariant")))
		add(out, "warning", "TSC is not invariant (constant_tsc/nonstop_tsc missing)",
		    "TSC-based timings may drift with frequency or C-states; trust only "
		    "CLOCK_MONOTONIC_RAW figures");
}

json_t *env_advice(const json_t *env)
{
	json_t *out = json_array();
	bool fake = !json_is_true(json_object_get(env, "live_probes"));
	kvm_advice(env, out);
	pmu_advice(env, out, fake);
	memory_advice(env, out);
	cpufreq_advice(env, out);
	cpus_advice(env, out);
	misc_advice(env, out);
	return out;
}
