/*
 * Unit tests of environment_collect() and `virttax doctor` on the fake
 * machines in tests/data/sysfs-* (run from the repo root, as make does).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/internal.h"
#include "harness/cmds.h"

static json_t *env_of(const char *tree)
{
	char root[256];
	snprintf(root, sizeof(root), "tests/data/%s", tree);
	cr_assert_eq(access(root, F_OK), 0, "%s missing: run from the repo root", root);
	json_t *e = environment_collect(root);
	cr_assert_not_null(e);
	cr_assert(json_is_false(json_object_get(e, "live_probes")));
	return e;
}

static const json_t *get(const json_t *j, const char *a, const char *b)
{
	j = json_object_get(j, a);
	return b ? json_object_get(j, b) : j;
}

static const char *sget(const json_t *j, const char *a, const char *b)
{
	return json_string_value(get(j, a, b));
}

/* the problem whose text contains `needle`, or NULL */
static const json_t *problem(const json_t *env, const char *needle)
{
	size_t i;
	json_t *p;
	json_array_foreach(
	    json_object_get(env, "problems"), i,
	    p) if (strstr(json_string_value(json_object_get(p, "problem")), needle)) return p;
	return NULL;
}

static void expect_remedy(const json_t *env, const char *needle, const char *remedy_part)
{
	const json_t *p = problem(env, needle);
	cr_assert_not_null(p, "no problem mentioning '%s'", needle);
	cr_assert(strstr(json_string_value(json_object_get(p, "remedy")), remedy_part),
		  "remedy for '%s' lacks '%s'", needle, remedy_part);
}

Test(doctor, pvm_like_this_machine)
{
	json_t *e = env_of("sysfs-pvm");
	cr_assert_str_eq(sget(e, "kvm", "flavour"), "pvm");
	cr_assert(json_is_null(get(e, "kvm", "tdp")), "PVM: no kvm_amd/kvm_intel module");
	cr_assert_str_eq(sget(e, "kvm", "execution"), "native-capable");
	cr_assert(json_is_null(get(e, "kvm", "nested")));
	cr_assert(json_is_true(get(e, "kvm", "host_is_vm")));
	cr_assert_str_eq(sget(get(e, "kvm", "dev_kvm"), "probe", NULL), "not probed: fake root");
	cr_assert_str_eq(sget(get(e, "kvm", "parameters"), "kvm_pvm", "pvm_native"), "Y");
	cr_assert(json_is_false(get(e, "pmu", "available")));
	cr_assert(json_is_false(get(e, "pmu", "kvm_enable_pmu")));
	cr_assert_str_eq(sget(get(e, "memory", "thp"), "enabled", NULL), "madvise");
	cr_assert(json_is_false(get(e, "cpus", "smt_active")));
	cr_assert_eq(json_integer_value(get(get(e, "cpus", "online"), "count", NULL)), 2);
	cr_assert_str_eq(sget(e, "cpu", "microcode"), "0x1000065");
	cr_assert_eq(json_integer_value(get(e, "cpu", "family")), 25);
	cr_assert_str_eq(sget(e, "kernel", "release"), "6.18.44-fc-v782");
	cr_assert_str_eq(sget(e, "tsc", "measured"), "not probed: fake root");
	expect_remedy(e, "pvm (native-capable)", "VIF");
	expect_remedy(e, "no hardware PMU", "reported unavailable");
	expect_remedy(e, "THP is madvise", "vm.nr_hugepages=N");
	expect_remedy(e, "2 CPUs online", "--pin");
	expect_remedy(e, "no /dev/vhost-net", "modprobe vhost_net");
	cr_assert_null(problem(e, "load average"), "load 0.13 is not a problem");
	cr_assert_null(problem(e, "SMT"));
	json_decref(e);
}

Test(doctor, vmx_tuned_host)
{
	json_t *e = env_of("sysfs-vmx");
	cr_assert_str_eq(sget(e, "kvm", "flavour"), "vmx");
	cr_assert(json_is_true(get(e, "kvm", "nested")));
	cr_assert(json_is_false(get(e, "kvm", "host_is_vm")));
	cr_assert_null(get(e, "kvm", "execution"));
	cr_assert(json_is_true(get(e, "pmu", "available")));
	cr_assert(json_is_true(get(e, "cpus", "smt_active")));
	cr_assert_eq(json_integer_value(get(get(e, "cpus", "isolated"), "count", NULL)), 2);
	cr_assert_str_eq(sget(e, "cpufreq", "governor"), "performance");
	cr_assert_str_eq(sget(e, "cpufreq", "boost"), "off"); /* intel_pstate/no_turbo=1 */
	cr_assert(json_is_true(get(e, "tsc", "invariant")));
	json_t *h = json_array_get(get(e, "memory", "hugetlb"), 0);
	cr_assert_eq(json_integer_value(json_object_get(h, "nr")), 512);
	cr_assert_eq(json_integer_value(json_object_get(h, "page_size_bytes")), 2097152);
	expect_remedy(e, "SMT is active", "smt/control");
	cr_assert_null(problem(e, "governor"));
	cr_assert_null(problem(e, "no hardware PMU"));
	cr_assert_null(problem(e, "isolated"));
	cr_assert_null(problem(e, "hugetlb"));
	cr_assert_null(problem(e, "CPUs online"));
	/* the Intel paths, from the CPU's vendor string: kvm_intel's ept */
	cr_assert_str_eq(sget(get(e, "kvm", "tdp"), "module", NULL), "kvm_intel");
	cr_assert_str_eq(sget(get(e, "kvm", "tdp"), "param", NULL), "ept");
	cr_assert_str_eq(sget(get(e, "kvm", "tdp"), "paging", NULL), "ept");
	cr_assert_null(problem(e, "shadow paging"));
	json_decref(e);
}

Test(doctor, ept_off_is_a_warning_with_the_vendors_module)
{
	json_t *e = env_of("sysfs-vmx");
	json_t *tdp = json_object_get(json_object_get(e, "kvm"), "tdp");
	json_object_set_new(tdp, "enabled", json_false());
	json_object_set_new(e, "problems", env_advice(e));
	expect_remedy(e, "kvm_intel ept=N: guests use shadow paging",
		      "modprobe -r kvm_intel && modprobe kvm_intel ept=1");
	json_decref(e);
}

Test(doctor, svm_untuned_host)
{
	json_t *e = env_of("sysfs-svm");
	cr_assert_str_eq(sget(e, "kvm", "flavour"), "svm");
	cr_assert(json_is_true(get(e, "kvm", "nested"))); /* kvm_amd nested=1 */
	cr_assert_str_eq(sget(get(e, "kvm", "tdp"), "module", NULL), "kvm_amd");
	cr_assert_str_eq(sget(get(e, "kvm", "tdp"), "param", NULL), "npt");
	cr_assert(json_is_true(get(get(e, "kvm", "tdp"), "enabled", NULL)));
	cr_assert_str_eq(sget(get(e, "memory", "thp"), "enabled", NULL), "never");
	cr_assert_str_eq(sget(e, "cpufreq", "governor"), "mixed");
	cr_assert_str_eq(sget(e, "cpufreq", "boost"), "on");
	expect_remedy(e, "THP is never", "transparent_hugepage/enabled");
	expect_remedy(e, "governor mixed", "cpupower frequency-set -g performance");
	expect_remedy(e, "boost is on", "cpufreq/boost");
	expect_remedy(e, "load average 3.50 on 4 CPUs", "stop other work");
	expect_remedy(e, "perf_event_paranoid=2", "perf_event_paranoid=1");
	expect_remedy(e, "no hardware PMU", "unavailable");
	cr_assert_null(problem(e, "no /dev/net/tun"));
	json_decref(e);
}

Test(doctor, nokvm_vm)
{
	json_t *e = env_of("sysfs-nokvm");
	cr_assert_str_eq(sget(e, "kvm", "flavour"), "none");
	cr_assert(json_is_false(get(get(e, "kvm", "dev_kvm"), "present", NULL)));
	cr_assert(json_is_false(get(e, "tsc", "invariant")));
	cr_assert(json_is_null(get(e, "cpus", "smt_active")));
	cr_assert_str_eq(sget(get(e, "memory", "thp"), "defrag", NULL), "always");
	expect_remedy(e, "no KVM module", "modprobe kvm_intel");
	expect_remedy(e, "TSC is not invariant", "CLOCK_MONOTONIC_RAW");
	expect_remedy(e, "1 CPUs online", "--pin");
	json_decref(e);
}

Test(doctor, parsers)
{
	char out[32];
	cr_assert_eq(env_bracketed("always [madvise] never", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "madvise");
	cr_assert_eq(env_bracketed("always madvise never", out, sizeof(out)), -ENOENT);
	cr_assert_eq(env_cpulist_count("0-3,8,10-11\n"), 7);
	cr_assert_eq(env_cpulist_count(""), 0);
	cr_assert_eq(env_cpulist_count("3-1"), -EINVAL);
	cr_assert_eq(env_cpulist_count("a"), -EINVAL);
	const char *ci = "processor\t: 0\nmodel\t\t: 1\nmodel name\t: X\nflags\t\t: fpu vmx_x "
			 "hypervisor\n\nprocessor\t: 1\nflags\t\t: svm\n";
	cr_assert_eq(env_cpuinfo_field(ci, "model", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "1");
	cr_assert_eq(env_cpuinfo_field(ci, "model name", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "X");
	cr_assert(env_cpuinfo_flag(ci, "hypervisor"));
	cr_assert_not(env_cpuinfo_flag(ci, "vmx"), "vmx_x is not vmx");
	cr_assert_not(env_cpuinfo_flag(ci, "svm"), "only the first processor counts");
}

Test(doctor, cli_exit_codes_and_json)
{
	char path[] = "/tmp/vtx-doctor-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	char *ok[] = {"doctor", "--sysfs-root", "tests/data/sysfs-pvm", "--json", path, NULL};
	cr_assert_eq(cmd_doctor(5, ok), VTX_EXIT_OK);
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);
	cr_assert_not_null(j, "%s", err.text);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "kvm"), "flavour")),
			 "pvm");
	json_decref(j);
	unlink(path);
	char *badroot[] = {"doctor", "--sysfs-root", "tests/data/no-such-tree", NULL};
	cr_assert_eq(cmd_doctor(3, badroot), VTX_EXIT_USAGE);
	char *badopt[] = {"doctor", "--frobnicate", NULL};
	cr_assert_eq(cmd_doctor(2, badopt), VTX_EXIT_USAGE);
	char *badjson[] = {
	    "doctor", "--sysfs-root", "tests/data/sysfs-nokvm", "--json", "/nonexistent-dir/x.json",
	    NULL};
	cr_assert_eq(cmd_doctor(5, badjson), VTX_EXIT_USAGE);
}

Test(doctor, emulated_probe_guest_is_a_warning)
{
	json_t *e = env_of("sysfs-pvm");
	json_t *kvm = json_object_get(e, "kvm");
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(kvm, "emulation_probe"), "reason")),
	    "not probed: fake root");
	cr_assert_null(problem(e, "emulated, not run natively"));
	json_object_set_new(kvm, "emulation_probe",
			    json_pack("{s:b,s:b,s:s}", "available", 1, "native", 0, "reason",
				      "insn_emulation grew by 500000"));
	json_t *p = env_advice(e);
	json_object_set_new(e, "problems", p);
	expect_remedy(e, "emulated, not run natively", "pvm_native=Y");
	json_decref(e);
}

/* The guest line says which of the three verdicts the probe gave: an unknown
 * verdict (no insn_emulation stat) is not "EMULATED". */
Test(doctor, guest_line_names_the_three_verdicts)
{
	const char *cases[][2] = {{"true", "runs natively"},
				  {"false", "EMULATED"},
				  {"null", "NOT CHECKED: native execution unknown"}};
	for (int i = 0; i < 3; i++) {
		char doc[256], *buf = NULL;
		size_t len = 0;
		snprintf(doc, sizeof(doc),
			 "{\"kvm\":{\"emulation_probe\":{\"available\":true,\"native\":%s,"
			 "\"reason\":\"r\"}}}",
			 cases[i][0]);
		json_t *env = json_loads(doc, 0, NULL);
		FILE *f = open_memstream(&buf, &len);
		environment_print(f, env);
		fclose(f);
		cr_assert(strstr(buf, cases[i][1]), "native=%s: %s", cases[i][0], buf);
		if (i != 1)
			cr_assert_null(strstr(buf, "EMULATED"), "native=%s: %s", cases[i][0], buf);
		free(buf);
		json_decref(env);
	}
}
