/*
 * The --stats-json document (docs/INTERFACES.md section 4).
 *
 * Why: the harness's collectors read everything vmm-lite measured from this
 * one file after the VMM exits: status, PVM/emulation verdict, exits, KVM
 * binary stats and vCPU thread scheduler stats. Written with jansson, to a
 * temp file renamed into place so a reader never sees half a file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vmm-lite/virtio.h"
#include "vmm-lite/vmm.h"

static json_t *status_json(const struct vm *vm)
{
	return json_pack("{s:s,s:I,s:s}", "kind", stop_kind_name(vm->stop), "guest_code",
			 (json_int_t)vm->guest_code, "reason", vm->reason);
}

static json_t *exits_json(const struct vm *vm)
{
	struct exit_stats *all = calloc(1, sizeof(*all));
	json_t *j;

	if (!all)
		return json_object();
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		exit_stats_merge(all, &vm->vcpus[i].exits);
	j = exit_stats_to_json(all, vm->opt->exit_timing);
	free(all);
	return j;
}

static json_t *kvm_stats_json(const struct vm *vm)
{
	json_t *vcpus = json_array();

	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		const struct vcpu *v = &vm->vcpus[i];

		json_array_append_new(vcpus, json_pack("{s:i,s:i,s:o}", "index", (int)i, "tid",
						       (int)v->tid, "stats",
						       kvm_stats_to_json(&v->kstats)));
	}
	return json_pack("{s:o,s:o}", "vm", kvm_stats_to_json(&vm->vm_kstats), "vcpus", vcpus);
}

static json_t *threads_json(const struct vm *vm)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < vm->nvcpus; i++) {
		const struct vcpu *v = &vm->vcpus[i];
		char role[16];

		if (!v->tstats_ok)
			continue;
		snprintf(role, sizeof(role), "vcpu%u", i);
		json_array_append_new(
		    a, json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:I}", "role", role, "tid", (int)v->tid,
				 "run_ns", (json_int_t)v->tstats.run_ns, "wait_ns",
				 (json_int_t)v->tstats.wait_ns, "timeslices",
				 (json_int_t)v->tstats.timeslices, "voluntary_ctxt_switches",
				 (json_int_t)v->tstats.vol_ctxsw, "nonvoluntary_ctxt_switches",
				 (json_int_t)v->tstats.invol_ctxsw));
	}
	return a;
}

static const char *const startup_names[SU_N] = {
    [SU_OPTIONS] = "options",
    [SU_IMAGE] = "image",
    [SU_KVM] = "kvm",
    [SU_MEMORY] = "memory",
    [SU_IRQCHIP] = "irqchip",
    [SU_GUEST] = "guest",
    [SU_DEVICES] = "devices",
    [SU_VCPUS] = "vcpus",
    [SU_THREADS] = "threads",
    [SU_READY] = "ready",
    [SU_SNAPSHOT] = "stats_snapshot",
    [SU_FIRST_RUN] = "first_run",
};

/* {"phases_us":{"options":x,...},"main_to_first_run_us":y}: how long each
 * start-up phase took, from main() to vCPU 0's first KVM_RUN; a phase not
 * reached is absent (the run failed before it) */
static json_t *startup_json(const struct vm *vm)
{
	json_t *ph = json_object();
	uint64_t prev = vm->startup_ns[SU_MAIN];

	for (int p = SU_OPTIONS; prev && p < SU_N && vm->startup_ns[p]; p++) {
		json_object_set_new(ph, startup_names[p],
				    json_real((double)(vm->startup_ns[p] - prev) / 1e3));
		prev = vm->startup_ns[p];
	}
	return json_pack(
	    "{s:o,s:o,s:s}", "phases_us", ph, "main_to_first_run_us",
	    vm->startup_ns[SU_FIRST_RUN] && vm->startup_ns[SU_MAIN]
		? json_real((double)(vm->startup_ns[SU_FIRST_RUN] - vm->startup_ns[SU_MAIN]) / 1e3)
		: json_null(),
	    "clock", "CLOCK_MONOTONIC at the end of each phase");
}

json_t *vm_stats_to_json(struct vm *vm)
{
	uint64_t stop = vm->t_stop_ns ? vm->t_stop_ns : now_ns();
	json_t *j = json_pack("{s:s,s:i}", "vmm", "vmm-lite", "version", 1);

	json_object_set_new(j, "status", status_json(vm));
	json_object_set_new(
	    j, "pvm",
	    json_pack("{s:b,s:o}", "detected", vm->pvm, "vif_gpa",
		      vm->pvm ? json_integer((json_int_t)layout_vif_gpa(0)) : json_null()));
	/* native: true/false from the insn_emulation verdict, null when this
	 * host has no such stat (verdict "unknown": the run cannot be trusted) */
	json_object_set_new(
	    j, "emulation",
	    json_pack("{s:o,s:o,s:s,s:s}", "insn_emulation_delta",
		      vm->insn_emulation_known ? json_integer((json_int_t)vm->insn_emulation_delta)
					       : json_null(),
		      "native", vm->insn_emulation_known ? json_boolean(vm->native) : json_null(),
		      "verdict",
		      !vm->insn_emulation_known ? "unknown"
		      : vm->native		? "native"
						: "emulated",
		      "reason", vm->emu_reason));
	json_object_set_new(j, "calib", calib_to_json(vm));
	json_object_set_new(j, "wall_ns",
			    json_integer(vm->t_start_ns ? (json_int_t)(stop - vm->t_start_ns) : 0));
	json_object_set_new(
	    j, "boot_ns",
	    vm->com1.first_byte_ns && vm->t_start_ns
		? json_integer((json_int_t)(vm->com1.first_byte_ns - vm->t_start_ns))
		: json_null());
	json_object_set_new(j, "startup", startup_json(vm));
	json_object_set_new(j, "exits", exits_json(vm));
	json_object_set_new(j, "exit_timing", json_boolean(vm->opt->exit_timing));
	json_object_set_new(j, "io_unhandled",
			    json_pack("{s:I,s:I}", "reads", (json_int_t)vm->pio.unhandled_reads,
				      "writes", (json_int_t)vm->pio.unhandled_writes));
	json_object_set_new(j, "io", vm_io_to_json(vm->io));
	json_object_set_new(j, "balloon", vm->io ? balloon_to_json(vm->io->balloon) : json_null());
	json_object_set_new(j, "guest_errors", vm_io_guest_errors_json(vm->io));
	json_object_set_new(j, "kvm_stats", kvm_stats_json(vm));
	json_object_set_new(j, "threads", threads_json(vm));
	json_object_set_new(j, "regions", region_to_json(vm));
	json_object_set_new(j, "memory",
			    guest_mem_to_json(&vm->mem, vm->layout.ram_bytes, &vm->vm_kstats));
	json_object_set_new(j, "config",
			    json_pack("{s:I,s:i,s:s,s:s,s:s}", "mem_bytes",
				      (json_int_t)vm->opt->mem_bytes, "vcpus", (int)vm->nvcpus,
				      "backing", backing_name(vm->opt->backing), "irqchip",
				      vm->irqchip_split ? "split" : "full", "unit_mem", "bytes"));
	return j;
}

int write_json_atomic(const char *path, json_t *j)
{
	char tmp[4096];
	int r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (json_dump_file(j, tmp, JSON_INDENT(1) | JSON_SORT_KEYS)) {
		unlink(tmp);
		return -EIO;
	}
	r = rename(tmp, path) ? -errno : 0;
	if (r)
		unlink(tmp);
	return r;
}
