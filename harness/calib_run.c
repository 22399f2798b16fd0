/*
 * The calibration procedure: boots the agent with workload `calib` in groups
 * of kinds and runs the host side, then builds calibration.json with
 * core/calib.c (see core/calib.h, docs/CALIBRATION.md).
 *
 * Why groups: a kind that crashes the guest costs only its group, which is
 * then reported unavailable with the reason.
 */
#include "harness/calib_run.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "collectors/collector.h"
#include "core/calib.h"
#include "core/results.h"
#include "harness/argv.h"
#include "harness/vmm.h"

#define CALIB_HOST_KINDS                                                                           \
	"function-call,indirect-call,syscall,thread-wake,process-roundtrip,ctx-switch,pt-churn,"   \
	"host-irq"
static const char *const vm_groups[] = {
    "function-call,indirect-call,cpuid,hypercall,pio,pio-ioeventfd,mmio,mmio-ioeventfd,"
    "msr-kernel-read,msr-kernel-write,msr-user-read,msr-user-write",
    "syscall,ctx-switch,pt-churn,pt-rewrite,priv-insn,host-irq",
    "hlt-timer,self-ipi,ipi,timer-latency",
};

static double hello_tsc_hz(const struct run_result *r, unsigned long fallback_khz)
{
	json_t *k = json_object_get(r->proto.hello, "tsc_khz");
	return (json_is_integer(k) && json_integer_value(k) > 0 ? (double)json_integer_value(k)
								: (double)fallback_khz) *
	       1e3;
}

/* One run of the calib workload; records go to `side`, failures to `reason`. */
static int calib_one(const struct calib_opts *o, const struct vmm_ops *vmm, const char *kinds,
		     json_t *side, char *err, size_t len)
{
	char karg[512], garg[32], rarg[32];
	snprintf(karg, sizeof(karg), "kinds=%s", kinds);
	snprintf(garg, sizeof(garg), "goal_ms=%d", o->quick ? 5 : 20);
	snprintf(rarg, sizeof(rarg), "rounds=%d", o->quick ? 7 : 11);
	const char *args[] = {karg, garg, rarg};
	struct run_spec spec = {.workload = "calib",
				.wl_args = args,
				.nwl_args = 3,
				.cpu = o->cpu,
				.backing = "thp",
				.pagesize = "2m",
				.mem_bytes = 256ull << 20,
				.timeout_s = 120,
				.tsc_khz = o->tsc_khz,
				.scratch_dir = o->scratch_dir,
				/* the ipi kind ping-pongs CPU 0 <-> CPU 1 of the guest (both
				 * vCPUs pinned to o->cpu); the other groups need one vCPU */
				.vcpus = strstr(kinds, ",ipi,") ? 2 : 1};
	struct run_result res;
	run_result_init(&res);
	int rc = vmm ? vmm->run(&spec, &res) : bare_run(&spec, &res);
	if (rc || res.fatal) {
		snprintf(err, len, "%s calibration run: %s", vmm ? vmm->name : "host",
			 rc ? strerror(-rc) : res.reason);
		run_result_release(&res);
		return rc ? rc : -EIO;
	}
	calib_add_records(side, res.proto.calib, hello_tsc_hz(&res, o->tsc_khz));
	if (res.status != RUN_OK) {
		char why[400];
		snprintf(why, sizeof(why), "the calibration run failed (%s): %s",
			 run_status_name(res.status), res.reason);
		calib_mark_missing(side, kinds, why);
	}
	run_result_release(&res);
	return 0;
}

int calibrate(const struct calib_opts *o, json_t **out, char *err, size_t len)
{
	const struct vmm_ops *vmm = vmm_find(o->vmm);
	if (!vmm)
		return snprintf(err, len, "unknown VMM '%s'", o->vmm), -EINVAL;
	json_t *host = json_object(), *vm = json_object();
	time_t now = time(NULL);
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	*out =
	    json_pack("{s:i,s:s,s:s,s:s,s:i,s:b,s:I,s:o,s:o,s:o}", "version", CALIB_SCHEMA_VERSION,
		      "tool", "virttax " VIRTTAX_VERSION, "created", stamp, "vmm", vmm->name, "pin",
		      o->cpu, "quick", o->quick, "tsc_khz", (json_int_t)o->tsc_khz, "environment",
		      environment_collect(NULL), "bare", host, "vm", vm);
	int rc = calib_one(o, NULL, CALIB_HOST_KINDS, host, err, len);
	for (size_t i = 0; !rc && i < sizeof(vm_groups) / sizeof(vm_groups[0]); i++)
		rc = calib_one(o, vmm, vm_groups[i], vm, err, len);
	if (rc) {
		json_decref(*out);
		*out = NULL;
		return rc;
	}
	json_object_set_new(*out, "ladder", calib_build_ladder(*out));
	return 0;
}

int calib_take_flag(int *argc, char **argv, const char **path)
{
	const char *v = NULL;
	if (argv_take_value(argc, argv, "--calibration", &v))
		return 0;
	if (!v)
		return -EINVAL;
	*path = v;
	return 0;
}
