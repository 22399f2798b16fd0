/*
 * Unit tests of vmm-lite's per-exit path (vcpu_dispatch, vmm-lite/vcpu.c)
 * on a fake kvm_run: no /dev/kvm needed. Every exit is counted under its
 * key; it is timed only when asked (--exit-timing), and then every exit's
 * time lands in the histogram.
 */
#include <criterion/criterion.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "vmm-lite/vmm.h"

#define RUN_SIZE 8192

static struct vm vm;
static struct vmm_options opt;

static struct vcpu *fake_vcpu(uint16_t port)
{
	struct vcpu *v = &vm.vcpus[0];
	struct kvm_run *run;

	memset(&vm, 0, sizeof(vm));
	memset(&opt, 0, sizeof(opt));
	vm.opt = &opt;
	vm.vm_fd = vm.kvm_fd = -1;
	vm.nvcpus = 1;
	v->vm = &vm;
	v->fd = -1;
	v->run_size = RUN_SIZE;
	v->run = run = calloc(1, RUN_SIZE);
	cr_assert_not_null(run);
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = KVM_EXIT_IO_OUT;
	run->io.size = 4;
	run->io.port = port;
	run->io.count = 1;
	run->io.data_offset = RUN_SIZE - 64;
	return v;
}

Test(vmm_dispatch, counts_every_exit_untimed)
{
	struct vcpu *v = fake_vcpu(0x4f0);

	for (int i = 0; i < 1000; i++)
		vcpu_dispatch(v, 0);
	const struct exit_bucket *b = exit_stats_find(&v->exits, "io:0x4f0");
	cr_assert_not_null(b);
	cr_assert_eq(b->count, 1000);
	cr_assert_eq(b->total_ns, 0, "no clock read without --exit-timing");
	cr_assert_eq(vm.pio.unhandled_writes, 1000, "and every exit was dispatched to the bus");
	free(v->run);
}

Test(vmm_dispatch, timed_exits_fill_the_histogram)
{
	struct vcpu *v = fake_vcpu(0x3f8);
	uint64_t hsum = 0;

	opt.exit_timing = true;
	for (int i = 0; i < 100; i++)
		vcpu_dispatch(v, now_ns() - 1000); /* t0 one microsecond ago */
	const struct exit_bucket *b = exit_stats_find(&v->exits, "io:0x3f8");
	cr_assert_eq(b->count, 100);
	cr_assert_geq(b->total_ns, 100 * 1000);
	for (int h = 0; h < EXIT_HIST_BUCKETS; h++)
		hsum += b->hist[h];
	cr_assert_eq(hsum, 100);
	free(v->run);
}

Test(vmm_dispatch, a_bad_exit_is_still_counted)
{
	struct vcpu *v = fake_vcpu(0x4f0);

	v->run->io.count = 0; /* malformed: the guest run ends as a crash */
	vcpu_dispatch(v, 0);
	cr_assert_eq(exit_stats_find(&v->exits, "io:0x4f0")->count, 1);
	cr_assert_eq(vm.stop, STOP_CRASH);
	free(v->run);
}
