/*
 * vmm-lite's idle probe on PVM reads the guest's interrupt flag from byte 0
 * of its VIF page (docs/PVM-INTERRUPTS.md), named by the VIF MSR value: the
 * byte is read only when the page is registered and lies in guest RAM.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include "vmm-lite/vmm.h"

Test(pvm_vif, if_byte_registered_unregistered_and_out_of_ram)
{
	struct guest_layout l;
	cr_assert_eq(layout_build(&l, 16ull << 20, 2), 0);
	uint8_t *ram = calloc(1, 16u << 20);
	cr_assert(ram);
	uint64_t gpa = layout_vif_gpa(1);
	cr_assert_eq(pvm_vif_if_byte(&l, ram, gpa | 1), 0, "zeroed page: interrupts off");
	ram[gpa] = 1;
	cr_assert_eq(pvm_vif_if_byte(&l, ram, gpa | 1), 1, "if_ = 1: interrupts on");
	ram[gpa + 1] = 1; /* pending does not count as the flag */
	ram[gpa] = 0;
	cr_assert_eq(pvm_vif_if_byte(&l, ram, gpa | 1), 0);
	cr_assert_eq(pvm_vif_if_byte(&l, ram, gpa), -ENOENT, "bit 0 clear: not registered");
	cr_assert_eq(pvm_vif_if_byte(&l, ram, (64ull << 30) | 1), -EFAULT, "outside guest RAM");
	cr_assert_eq(pvm_vif_if_byte(&l, ram, ~0ull), -EFAULT, "hostile MSR value");
	free(ram);
}
