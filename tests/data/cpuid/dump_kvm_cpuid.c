/*
 * Records KVM_GET_SUPPORTED_CPUID of this host in the format the unit tests
 * read (tests/unit/test_vmm_cpuid.c): one entry per line,
 *   function index flags eax ebx ecx edx   (hex)
 * Build and run by hand where the recording is wanted (not part of make):
 *   cc -static -o /tmp/dump tests/data/cpuid/dump_kvm_cpuid.c && /tmp/dump > FILE
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR);
	unsigned n = 256;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
	if (kvm < 0 || !c)
		return 1;
	c->nent = n;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) < 0)
		return 1;
	printf("# KVM_GET_SUPPORTED_CPUID: function index flags eax ebx ecx edx (hex)\n");
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		printf("%08x %x %x %08x %08x %08x %08x\n", e->function, e->index, e->flags, e->eax,
		       e->ebx, e->ecx, e->edx);
	}
	return 0;
}
