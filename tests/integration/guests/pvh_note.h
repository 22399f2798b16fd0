/* clang-format off */
/* (included from assembly: clang-format would break the directives) */
/*
 * Shared bits of the vmm-lite test guests: the PVH entry note and port I/O
 * numbers. Why: every test guest must be PVH-bootable exactly like the agent.
 */
#define COM1 0x3f8
#define EXIT_PORT 0xf4
#define HVM_START_MAGIC 0x336ec578

	.section .note.Xen, "a", @note
	.balign 4
	.long 4			/* namesz */
	.long 8			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad _start
