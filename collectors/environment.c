/*
 * environment_collect(): the description of the machine a run happened on,
 * embedded in results.json and printed by `virttax doctor`.
 *
 * Why: virtualization overhead depends on the KVM flavour (VT-x, AMD-V or
 * PVM), nesting, page backing, frequency scaling, SMT and load; a result
 * without these is not interpretable. Every file is read under a root so a
 * fake tree describes another machine; live probes run only on "/".
 * Problems and their remedies are derived in env_advice.c.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "collectors/internal.h"
#include "virttax/x86_vendor.h"

struct env_ctx {
	const char *root;
	bool live;
	char *cpuinfo; /* whole /proc/cpuinfo, "" when unreadable */
};

static json_t *read_string(const struct env_ctx *e, const char *rel)
{
	char buf[512];
	return env_read(e->root, rel, buf, sizeof(buf)) ? json_null() : json_string(buf);
}

static json_t *read_int(const struct env_ctx *e, const char *rel)
{
	char buf[64], *end;
	if (env_read(e->root, rel, buf, sizeof(buf)))
		return json_null();
	long long v = strtoll(buf, &end, 10);
	return end == buf ? json_null() : json_integer(v);
}

static bool param_true(const char *v)
{
	return v && (!strcmp(v, "Y") || !strcmp(v, "y") || !strcmp(v, "1"));
}

static json_t *cpuinfo_str(const struct env_ctx *e, const char *key)
{
	char buf[256];
	return env_cpuinfo_field(e->cpuinfo, key, buf, sizeof(buf)) ? json_null()
								    : json_string(buf);
}

static json_t *cpuinfo_int(const struct env_ctx *e, const char *key)
{
	char buf[64];
	return env_cpuinfo_field(e->cpuinfo, key, buf, sizeof(buf))
		   ? json_null()
		   : json_integer(strtol(buf, NULL, 0));
}

static json_t *cpu_json(const struct env_ctx *e)
{
	json_t *flags = json_object();
	static const char *const names[] = {"vmx",	    "svm",	   "hypervisor",
					    "constant_tsc", "nonstop_tsc", "tsc_known_freq",
					    "pdpe1gb",	    "rdtscp",	   NULL};
	for (size_t i = 0; names[i]; i++)
		json_object_set_new(flags, names[i],
				    json_boolean(env_cpuinfo_flag(e->cpuinfo, names[i])));
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "model_name",
			 cpuinfo_str(e, "model name"), "vendor", cpuinfo_str(e, "vendor_id"),
			 "family", cpuinfo_int(e, "cpu family"), "model", cpuinfo_int(e, "model"),
			 "stepping", cpuinfo_int(e, "stepping"), "microcode",
			 cpuinfo_str(e, "microcode"), "flags", flags);
}

static json_t *tsc_json(const struct env_ctx *e)
{
	bool c = env_cpuinfo_flag(e->cpuinfo, "constant_tsc");
	bool n = env_cpuinfo_flag(e->cpuinfo, "nonstop_tsc");
	json_t *j =
	    json_pack("{s:b,s:b,s:b}", "invariant", c && n, "constant_tsc", c, "nonstop_tsc", n);
	json_object_set_new(j, "measured",
			    e->live ? env_probe_tsc() : json_string("not probed: fake root"));
	return j;
}

static json_t *kernel_json(const struct env_ctx *e)
{
	struct utsname u;
	if (e->live && !uname(&u))
		return json_pack("{s:s,s:s}", "release", u.release, "machine", u.machine);
	return json_pack("{s:o}", "release", read_string(e, "proc/sys/kernel/osrelease"));
}

/* {"kvm":{"halt_poll_ns":"200000",...},"kvm_pvm":{...}} for every kvm* module */
static json_t *kvm_modules_json(const struct env_ctx *e)
{
	char path[1024];
	json_t *mods = json_object();
	snprintf(path, sizeof(path), "%s/sys/module", e->root);
	DIR *d = opendir(path);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "kvm", 3))
			continue;
		json_t *params = json_object();
		char rel[512];
		snprintf(rel, sizeof(rel), "sys/module/%s/parameters", de->d_name);
		snprintf(path, sizeof(path), "%s/%s", e->root, rel);
		DIR *pd = opendir(path);
		struct dirent *pe;
		while (pd && (pe = readdir(pd))) {
			char prel[800], val[256];
			snprintf(prel, sizeof(prel), "%s/%s", rel, pe->d_name);
			if (pe->d_name[0] != '.' && !env_read(e->root, prel, val, sizeof(val)))
				json_object_set_new(params, pe->d_name, json_string(val));
		}
		if (pd)
			closedir(pd);
		json_object_set_new(mods, de->d_name, params);
	}
	if (d)
		closedir(d);
	return mods;
}

static const char *kvm_flavour(const json_t *mods)
{
	if (json_object_get(mods, "kvm_pvm"))
		return "pvm";
	if (json_object_get(mods, "kvm_intel"))
		return "vmx";
	if (json_object_get(mods, "kvm_amd"))
		return "svm";
	return "none";
}

static const char *mod_param(const json_t *mods, const char *mod, const char *param)
{
	return json_string_value(json_object_get(json_object_get(mods, mod), param));
}

static json_t *nested_json(const json_t *mods, const char *flavour)
{
	const char *v = !strcmp(flavour, "vmx")	  ? mod_param(mods, "kvm_intel", "nested")
			: !strcmp(flavour, "svm") ? mod_param(mods, "kvm_amd", "nested")
						  : NULL;
	return v ? json_boolean(param_true(v)) : json_null();
}

/* Two-dimensional paging: the vendor's module and parameter (kvm_intel ept,
 * kvm_amd npt, include/virttax/x86_vendor.h), chosen from the CPU's vendor
 * string, with its value; null when the vendor's module is not loaded. */
static json_t *tdp_json(const struct env_ctx *e, const json_t *mods)
{
	char vendor[64];
	if (env_cpuinfo_field(e->cpuinfo, "vendor_id", vendor, sizeof(vendor)))
		return json_null();
	enum x86_vendor v = x86_vendor_from_name(vendor);
	const char *mod = x86_vendor_kvm_module(v), *param = x86_vendor_tdp_param(v);
	const char *val = mod ? mod_param(mods, mod, param) : NULL;
	if (!val)
		return json_null();
	return json_pack("{s:s,s:s,s:b,s:s}", "module", mod, "param", param, "enabled",
			 param_true(val), "paging", param_true(val) ? param : "shadow");
}

static json_t *dev_kvm_json(const struct env_ctx *e)
{
	if (e->live)
		return env_probe_kvm();
	return json_pack("{s:b,s:s}", "present", env_exists(e->root, "dev/kvm"), "probe",
			 "not probed: fake root");
}

static json_t *kvm_json(const struct env_ctx *e)
{
	json_t *mods = kvm_modules_json(e);
	const char *fl = kvm_flavour(mods);
	json_t *j = json_pack("{s:s,s:o,s:o,s:b,s:o,s:o}", "flavour", fl, "nested",
			      nested_json(mods, fl), "tdp", tdp_json(e, mods), "host_is_vm",
			      env_cpuinfo_flag(e->cpuinfo, "hypervisor"), "dev_kvm",
			      dev_kvm_json(e), "parameters", mods);
	if (!strcmp(fl, "pvm")) {
		bool native = param_true(mod_param(mods, "kvm_pvm", "pvm_native"));
		json_object_set_new(j, "pvm_native", json_boolean(native));
		json_object_set_new(j, "execution",
				    json_string(native ? "native-capable" : "emulated"));
	}
	/* Does a guest run natively here? vmm-lite's own per-run verdict, ahead of time. */
	json_object_set_new(
	    j, "emulation_probe",
	    e->live && strcmp(fl, "none")
		? env_probe_emulation()
		: json_pack("{s:b,s:s}", "available", 0, "reason",
			    e->live ? "unavailable: no KVM" : "not probed: fake root"));
	return j;
}

static json_t *pmu_json(const struct env_ctx *e, const json_t *kvm)
{
	json_t *j;
	if (e->live) {
		j = env_probe_pmu();
	} else {
		bool dir = env_exists(e->root, "sys/bus/event_source/devices/cpu");
		j = dir ? json_pack("{s:b,s:s}", "available", 1, "method",
				    "fake root: sys/bus/event_source/devices/cpu present")
			: json_pack("{s:b,s:s,s:s}", "available", 0, "reason",
				    "unavailable: no hardware PMU (no event_source/devices/cpu)",
				    "method", "fake root: sys/bus/event_source/devices/cpu absent");
	}
	json_object_set_new(j, "perf_event_paranoid",
			    read_int(e, "proc/sys/kernel/perf_event_paranoid"));
	const char *ep = mod_param(json_object_get(kvm, "parameters"), "kvm", "enable_pmu");
	json_object_set_new(j, "kvm_enable_pmu", ep ? json_boolean(param_true(ep)) : json_null());
	return j;
}

static json_t *sysfs_choice(const struct env_ctx *e, const char *rel)
{
	char buf[256], out[64];
	if (env_read(e->root, rel, buf, sizeof(buf)) || env_bracketed(buf, out, sizeof(out)))
		return json_null();
	return json_string(out);
}

static json_t *hugetlb_json(const struct env_ctx *e)
{
	json_t *a = json_array();
	static const char *const sizes[] = {"2048kB", "1048576kB", NULL};
	for (size_t i = 0; sizes[i]; i++) {
		char rel[128], rel2[128];
		snprintf(rel, sizeof(rel), "sys/kernel/mm/hugepages/hugepages-%s/nr_hugepages",
			 sizes[i]);
		snprintf(rel2, sizeof(rel2), "sys/kernel/mm/hugepages/hugepages-%s/free_hugepages",
			 sizes[i]);
		json_t *nr = read_int(e, rel);
		if (json_is_null(nr))
			continue;
		json_int_t bytes = (json_int_t)strtoll(sizes[i], NULL, 10) * 1024;
		json_array_append_new(a, json_pack("{s:s,s:I,s:o,s:o,s:s}", "page_size", sizes[i],
						   "page_size_bytes", bytes, "nr", nr, "free",
						   read_int(e, rel2), "unit", "pages"));
	}
	return a;
}

static json_t *memory_json(const struct env_ctx *e)
{
	return json_pack("{s:{s:o,s:o},s:o}", "thp", "enabled",
			 sysfs_choice(e, "sys/kernel/mm/transparent_hugepage/enabled"), "defrag",
			 sysfs_choice(e, "sys/kernel/mm/transparent_hugepage/defrag"), "hugetlb",
			 hugetlb_json(e));
}

static json_t *governors_json(const struct env_ctx *e)
{
	json_t *g = json_object();
	for (int cpu = 0; cpu < 4096; cpu++) {
		char rel[128], buf[64];
		snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu%d", cpu);
		if (!env_exists(e->root, rel))
			break;
		snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor",
			 cpu);
		if (!env_read(e->root, rel, buf, sizeof(buf)))
			json_object_set_new(g, rel + strlen("sys/devices/system/cpu/"),
					    json_string(buf));
	}
	return g;
}

/* "on" / "off" / null: cpufreq/boost (1 = on) or intel_pstate/no_turbo (1 = off) */
static json_t *boost_json(const struct env_ctx *e)
{
	char buf[16];
	if (!env_read(e->root, "sys/devices/system/cpu/cpufreq/boost", buf, sizeof(buf)))
		return json_string(param_true(buf) ? "on" : "off");
	if (!env_read(e->root, "sys/devices/system/cpu/intel_pstate/no_turbo", buf, sizeof(buf)))
		return json_string(param_true(buf) ? "off" : "on");
	return json_null();
}

static json_t *cpufreq_json(const struct env_ctx *e)
{
	json_t *gov = governors_json(e);
	const char *first = NULL, *key;
	json_t *v;
	bool mixed = false;
	json_object_foreach(gov, key, v)
	{
		if (first && strcmp(first, json_string_value(v)))
			mixed = true;
		first = first ? first : json_string_value(v);
	}
	json_t *summary = !first ? json_null() : json_string(mixed ? "mixed" : first);
	return json_pack("{s:o,s:o,s:o}", "governor", summary, "per_cpu", gov, "boost",
			 boost_json(e));
}

static json_t *cpulist_json(const struct env_ctx *e, const char *rel, const char *name)
{
	char buf[512];
	if (env_read(e->root, rel, buf, sizeof(buf)))
		return json_pack("{s:n,s:n}", name, "count");
	int n = env_cpulist_count(buf);
	return json_pack("{s:s,s:o}", name, buf, "count", n < 0 ? json_null() : json_integer(n));
}

static json_t *cpus_json(const struct env_ctx *e)
{
	char buf[16];
	json_t *smt = env_read(e->root, "sys/devices/system/cpu/smt/active", buf, sizeof(buf))
			  ? json_null()
			  : json_boolean(param_true(buf));
	return json_pack("{s:o,s:o,s:o}", "online",
			 cpulist_json(e, "sys/devices/system/cpu/online", "list"), "isolated",
			 cpulist_json(e, "sys/devices/system/cpu/isolated", "list"), "smt_active",
			 smt);
}

static json_t *devices_json(const struct env_ctx *e)
{
	return json_pack("{s:b,s:b,s:b}", "/dev/kvm", env_exists(e->root, "dev/kvm"),
			 "/dev/vhost-net", env_exists(e->root, "dev/vhost-net"), "/dev/net/tun",
			 env_exists(e->root, "dev/net/tun"));
}

static json_t *load_json(const struct env_ctx *e)
{
	char buf[128];
	double l1, l5, l15;
	if (env_read(e->root, "proc/loadavg", buf, sizeof(buf)) ||
	    sscanf(buf, "%lf %lf %lf", &l1, &l5, &l15) != 3)
		return json_null();
	return json_pack("{s:f,s:f,s:f,s:s}", "1min", l1, "5min", l5, "15min", l15, "unit",
			 "runnable threads (load average)");
}

static char *slurp_cpuinfo(const char *root)
{
	size_t len = 1 << 20;
	char *buf = malloc(len);
	if (buf && env_read(root, "proc/cpuinfo", buf, len))
		buf[0] = 0;
	return buf;
}

json_t *environment_collect(const char *sysfs_root)
{
	struct env_ctx e = {.root = sysfs_root && *sysfs_root ? sysfs_root : "/"};
	e.live = !strcmp(e.root, "/");
	e.cpuinfo = slurp_cpuinfo(e.root);
	if (!e.cpuinfo)
		return NULL;
	json_t *kvm = kvm_json(&e);
	json_t *env =
	    json_pack("{s:s,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "sysfs_root", e.root,
		      "live_probes", e.live, "cpu", cpu_json(&e), "tsc", tsc_json(&e), "kernel",
		      kernel_json(&e), "kvm", kvm, "pmu", pmu_json(&e, kvm), "memory",
		      memory_json(&e), "cpufreq", cpufreq_json(&e), "cpus", cpus_json(&e),
		      "devices", devices_json(&e), "load", load_json(&e));
	free(e.cpuinfo);
	if (env)
		json_object_set_new(env, "problems", env_advice(env));
	return env;
}
