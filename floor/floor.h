/*
 * The guest-physical layout shared by kvm-floor's host side (kvm_floor.c)
 * and its guest (floor_guest.S). Plain numbers only: included by assembly.
 *
 * Why fixed addresses: the floor guest has no loader, no boot protocol and no
 * allocator; the host writes page tables, code and parameters at these GPAs
 * and reads the results back from the data page.
 */
#ifndef VIRTTAX_FLOOR_H
#define VIRTTAX_FLOOR_H

#define FLOOR_GPA_STACK_TOP 0x1000 /* the stack grows down into page 0 */
#define FLOOR_GPA_CODE 0x1000
#define FLOOR_GPA_DATA 0x2000
#define FLOOR_GPA_PML4 0x4000 /* CR3: bit 12 clear (PVM: 8 KiB-aligned root) */
#define FLOOR_GPA_PDPT 0x5000
#define FLOOR_GPA_PD 0x6000
#define FLOOR_GPA_VIF 0x8000 /* PVM: zeroed virtual-interrupt-flag page */
#define FLOOR_GPA_END 0x9000 /* everything above is untouched guest RAM */

/* the data page: host writes GOAL_TICKS, MAX_ITERS and ROUNDS, guest the rest */
#define FLOOR_D_ENTRY_TSC 0x2000
#define FLOOR_D_GOAL_TICKS 0x2008
#define FLOOR_D_MAX_ITERS 0x2010
#define FLOOR_D_ROUNDS 0x2018
#define FLOOR_D_ITERS 0x2020
#define FLOOR_D_TICKS 0x2028
#define FLOOR_MAX_ROUNDS ((0x3000 - FLOOR_D_TICKS) / 8)

#define FLOOR_PIO_PORT 0x4f0 /* the port the agent's pio calibration uses */
#define FLOOR_DONE_PORT 0xf4 /* isa-debug-exit, as in vmm-lite and QEMU */

#endif
