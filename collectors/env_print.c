/*
 * environment_print(): the human-readable `virttax doctor` report.
 *
 * Why separate from collection: the JSON is the data (embedded in
 * results.json); this is one view of it, a few aligned lines per topic and
 * the problems with their remedies last, where the eye lands.
 */
#include <stdio.h>
#include <string.h>

#include "collectors/internal.h"

static const json_t *get(const json_t *j, const char *a, const char *b)
{
	j = json_object_get(j, a);
	return b ? json_object_get(j, b) : j;
}

/* a JSON scalar as text; "?" for null/missing. Returns one of 16 rotating
 * buffers so a printf can take several (doctor is single-threaded). */
static const char *T(const json_t *v)
{
	static char ring[16][200];
	static unsigned next;
	char *buf = ring[next++ % 16];
	size_t len = sizeof(ring[0]);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.2f", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, len, "?");
	return buf;
}

static void print_cpu(FILE *o, const json_t *env)
{
	const json_t *cpu = json_object_get(env, "cpu");
	fprintf(o, "CPU:        %s (%s, family %s model %s stepping %s, microcode %s)\n",
		T(get(cpu, "model_name", NULL)), T(get(cpu, "vendor", NULL)),
		T(get(cpu, "family", NULL)), T(get(cpu, "model", NULL)),
		T(get(cpu, "stepping", NULL)), T(get(cpu, "microcode", NULL)));
	const json_t *tsc = json_object_get(env, "tsc"), *m = json_object_get(tsc, "measured");
	fprintf(o, "TSC:        invariant %s (constant_tsc %s, nonstop_tsc %s), ",
		T(get(tsc, "invariant", NULL)), T(get(tsc, "constant_tsc", NULL)),
		T(get(tsc, "nonstop_tsc", NULL)));
	if (json_is_object(m) && json_is_integer(json_object_get(m, "measured_hz")))
		fprintf(o, "%.3f MHz measured\n",
			(double)json_integer_value(json_object_get(m, "measured_hz")) / 1e6);
	else
		fprintf(o, "%s\n",
			json_is_string(m) ? json_string_value(m) : T(get(m, "error", NULL)));
	fprintf(o, "Kernel:     %s\n", T(get(env, "kernel", "release")));
}

static void print_kvm(FILE *o, const json_t *env)
{
	const json_t *kvm = json_object_get(env, "kvm"), *dev = json_object_get(kvm, "dev_kvm");
	const char *exec = json_string_value(json_object_get(kvm, "execution"));
	const json_t *tdp = json_object_get(kvm, "tdp");
	fprintf(o, "KVM:        flavour %s%s%s%s, nested %s, host is a VM: %s\n",
		T(get(kvm, "flavour", NULL)), exec ? " (" : "", exec ? exec : "", exec ? ")" : "",
		json_is_null(get(kvm, "nested", NULL)) ? "n/a" : T(get(kvm, "nested", NULL)),
		T(get(kvm, "host_is_vm", NULL)));
	if (json_is_object(tdp))
		fprintf(o, "Paging:     %s (%s %s=%s)\n", T(get(tdp, "paging", NULL)),
			T(get(tdp, "module", NULL)), T(get(tdp, "param", NULL)),
			json_is_true(json_object_get(tdp, "enabled")) ? "Y" : "N");
	fprintf(o, "/dev/kvm:   present %s", T(get(dev, "present", NULL)));
	if (json_is_string(json_object_get(dev, "access")))
		fprintf(o, ", access %s", T(get(dev, "access", NULL)));
	if (json_is_integer(json_object_get(dev, "api_version")))
		fprintf(o, ", API %s", T(get(dev, "api_version", NULL)));
	if (json_is_string(json_object_get(dev, "probe")))
		fprintf(o, " (%s)", json_string_value(json_object_get(dev, "probe")));
	fprintf(o, "\n");
	const json_t *emu = json_object_get(kvm, "emulation_probe");
	const json_t *native = json_object_get(emu, "native");
	if (json_is_true(json_object_get(emu, "available")))
		fprintf(o, "Guest:      %s (%s)\n",
			json_is_true(native)	? "runs natively"
			: json_is_false(native) ? "EMULATED"
						: "NOT CHECKED: native execution unknown, VM runs "
						  "would be invalid-unknown",
			T(get(emu, "reason", NULL)));
	else
		fprintf(o, "Guest:      %s\n", T(get(emu, "reason", NULL)));
	const char *mod, *k;
	json_t *params, *v;
	json_object_foreach(json_object_get(kvm, "parameters"), mod, params)
	{
		static const char *const shown[] = {"halt_poll_ns", "enable_pmu", "ept",     "npt",
						    "nested",	    "pvm_native", "tdp_mmu", NULL};
		fprintf(o, "  %-9s", mod);
		json_object_foreach(params, k, v) for (size_t i = 0; shown[i];
						       i++) if (!strcmp(k, shown[i]))
		    fprintf(o, " %s=%s", k, json_string_value(v));
		fprintf(o, "\n");
	}
}

static void print_rest(FILE *o, const json_t *env)
{
	const json_t *pmu = json_object_get(env, "pmu");
	fprintf(o, "PMU:        %s, perf_event_paranoid %s\n",
		json_is_true(json_object_get(pmu, "available")) ? "available"
								: T(get(pmu, "reason", NULL)),
		T(get(pmu, "perf_event_paranoid", NULL)));
	fprintf(o, "THP:        enabled %s, defrag %s\n",
		T(get(get(env, "memory", "thp"), "enabled", NULL)),
		T(get(get(env, "memory", "thp"), "defrag", NULL)));
	size_t i;
	json_t *h;
	json_array_foreach(get(env, "memory", "hugetlb"), i, h)
	    fprintf(o, "hugetlb:    %s pages: %s reserved, %s free\n", T(get(h, "page_size", NULL)),
		    T(get(h, "nr", NULL)), T(get(h, "free", NULL)));
	if (json_is_null(get(env, "cpufreq", "governor")))
		fprintf(o, "cpufreq:    none (no cpufreq interface)");
	else
		fprintf(o, "cpufreq:    governor %s, boost %s", T(get(env, "cpufreq", "governor")),
			T(get(env, "cpufreq", "boost")));
	fputc('\n', o);
	const json_t *cpus = json_object_get(env, "cpus");
	const char *iso = json_string_value(get(get(cpus, "isolated", NULL), "list", NULL));
	fprintf(o, "CPUs:       %s online (%s), isolated %s, SMT active %s\n",
		T(get(get(cpus, "online", NULL), "count", NULL)),
		T(get(get(cpus, "online", NULL), "list", NULL)), iso && *iso ? iso : "none",
		T(get(cpus, "smt_active", NULL)));
	fprintf(o, "Devices:    /dev/vhost-net %s, /dev/net/tun %s\n",
		T(get(env, "devices", "/dev/vhost-net")), T(get(env, "devices", "/dev/net/tun")));
	fprintf(o, "Load:       %s %s %s (1/5/15 min)\n", T(get(env, "load", "1min")),
		T(get(env, "load", "5min")), T(get(env, "load", "15min")));
}

static void print_problems(FILE *o, const json_t *env)
{
	size_t i;
	json_t *p;
	json_t *list = json_object_get(env, "problems");
	fprintf(o, "\n%zu findings:\n", json_array_size(list));
	json_array_foreach(list, i, p)
	{
		fprintf(o, "  %-7s %s\n", json_string_value(json_object_get(p, "severity")),
			json_string_value(json_object_get(p, "problem")));
		fprintf(o, "          -> %s\n", json_string_value(json_object_get(p, "remedy")));
	}
}

void environment_print(FILE *out, const json_t *env)
{
	print_cpu(out, env);
	print_kvm(out, env);
	print_rest(out, env);
	print_problems(out, env);
}
