/*
 * Unit tests of vmm-lite's memory layout and PVH ELF loader (vmm-lite/layout.c,
 * vmm-lite/pvh_loader.c): a good image loads byte for byte, every malformed
 * image is refused with a reason, and start_info/memmap/cmdline are written.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "vmm-lite/vmm.h"

#define RAM (64ULL << 20)
#define LOAD_GPA 0x100000ULL

/* A synthetic image: Ehdr, 2 Phdrs (LOAD, NOTE), the note, then 64 code bytes. */
struct test_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Nhdr nh;
	char name[4];
	uint64_t desc;
	uint8_t code[64];
};

static void make_elf(struct test_elf *e)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
	e->eh.e_ident[EI_CLASS] = ELFCLASS64;
	e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	e->eh.e_ident[EI_VERSION] = EV_CURRENT;
	e->eh.e_type = ET_EXEC;
	e->eh.e_machine = EM_X86_64;
	e->eh.e_phoff = offsetof(struct test_elf, ph);
	e->eh.e_phentsize = sizeof(Elf64_Phdr);
	e->eh.e_phnum = 2;
	e->ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
				.p_offset = offsetof(struct test_elf, code),
				.p_paddr = LOAD_GPA,
				.p_filesz = 64,
				.p_memsz = 0x2000};
	e->ph[1] = (Elf64_Phdr){.p_type = PT_NOTE,
				.p_offset = offsetof(struct test_elf, nh),
				.p_filesz = sizeof(Elf64_Nhdr) + 4 + 8};
	e->nh = (Elf64_Nhdr){.n_namesz = 4, .n_descsz = 8, .n_type = XEN_ELFNOTE_PHYS32_ENTRY};
	memcpy(e->name, "Xen", 4);
	e->desc = LOAD_GPA + 0x10;
	for (int i = 0; i < 64; i++)
		e->code[i] = (uint8_t)(i + 1);
}

static struct guest_layout layout;
static uint8_t *ram;
static char err[256];

static void setup(void)
{
	cr_assert_eq(layout_build(&layout, RAM, 2), 0);
	ram = calloc(1, RAM);
	cr_assert_not_null(ram);
	memset(ram + LOAD_GPA, 0xaa, 0x2000); /* .bss must be zeroed by the loader */
	err[0] = '\0';
}

static void teardown(void)
{
	free(ram);
}

static int load(struct test_elf *e, size_t len, struct pvh_image *img)
{
	return pvh_load_elf((const uint8_t *)e, len, &layout, ram, img, err, sizeof(err));
}

TestSuite(vmm_pvh, .init = setup, .fini = teardown);

Test(vmm_pvh, good_image_loads)
{
	struct test_elf e;
	struct pvh_image img;

	make_elf(&e);
	cr_assert_eq(load(&e, sizeof(e), &img), 0, "%s", err);
	cr_assert_eq(img.entry, LOAD_GPA + 0x10);
	cr_assert_eq(img.load_lo, LOAD_GPA);
	cr_assert_eq(img.load_hi, LOAD_GPA + 0x2000);
	cr_assert_eq(img.nsegments, 1);
	cr_assert_eq(memcmp(ram + LOAD_GPA, e.code, 64), 0);
	cr_assert_eq(ram[LOAD_GPA + 64], 0, "bss not zeroed");
	cr_assert_eq(ram[LOAD_GPA + 0x1fff], 0, "bss not zeroed");
}

Test(vmm_pvh, four_byte_descriptor)
{
	struct test_elf e;
	struct pvh_image img;

	make_elf(&e);
	e.nh.n_descsz = 4;
	cr_assert_eq(load(&e, sizeof(e), &img), 0, "%s", err);
	cr_assert_eq(img.entry, LOAD_GPA + 0x10);
}

Test(vmm_pvh, truncated_files)
{
	struct test_elf e;
	struct pvh_image img;

	make_elf(&e);
	cr_assert_neq(load(&e, 3, &img), 0);
	cr_assert_neq(load(&e, sizeof(Elf64_Ehdr) - 1, &img), 0);
	cr_assert_neq(load(&e, sizeof(Elf64_Ehdr) + 10, &img), 0); /* phdrs cut */
	cr_assert(strstr(err, "past end of file"), "%s", err);
	cr_assert_neq(load(&e, offsetof(struct test_elf, code) + 10, &img), 0); /* data cut */
	cr_assert(strstr(err, "past end of file"), "%s", err);
}

Test(vmm_pvh, wrong_class_machine_type)
{
	struct test_elf e;
	struct pvh_image img;

	make_elf(&e);
	e.eh.e_ident[EI_CLASS] = ELFCLASS32;
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	cr_assert(strstr(err, "class"), "%s", err);
	make_elf(&e);
	e.eh.e_machine = EM_AARCH64;
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	cr_assert(strstr(err, "machine"), "%s", err);
	make_elf(&e);
	e.eh.e_type = ET_DYN;
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	make_elf(&e);
	e.eh.e_ident[1] = 'X';
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	cr_assert(strstr(err, "magic"), "%s", err);
}

Test(vmm_pvh, no_note)
{
	struct test_elf e;
	struct pvh_image img;

	make_elf(&e);
	e.nh.n_type = 17;
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	cr_assert(strstr(err, "PVH"), "%s", err);
	make_elf(&e);
	memcpy(e.name, "Xyz", 4);
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	make_elf(&e);
	e.ph[1].p_type = PT_NULL;
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
}

Test(vmm_pvh, malformed_note)
{
	struct test_elf e;
	struct pvh_image img;

	make_elf(&e);
	e.nh.n_descsz = 0xfffffff0; /* past the segment */
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	make_elf(&e);
	e.ph[1].p_offset = 1ULL << 40;
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	make_elf(&e);
	e.desc = 1ULL << 33; /* entry above 4 GiB */
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	make_elf(&e);
	e.desc = LOAD_GPA + 0x5000; /* entry outside the image */
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	cr_assert(strstr(err, "not inside the file data"), "%s", err);
	make_elf(&e);
	e.desc = LOAD_GPA + 0x1000; /* in the segment, but in its zeroed .bss */
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	cr_assert(strstr(err, "not inside the file data"), "%s", err);
}

/* Two PT_LOAD segments (the second maps code[0..32) at gpa2) and the note. */
struct two_seg_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[3];
	Elf64_Nhdr nh;
	char name[4];
	uint64_t desc;
	uint8_t code[64];
};

static void make_two(struct two_seg_elf *e, uint64_t gpa2, uint64_t memsz2, uint64_t entry)
{
	struct test_elf one;

	make_elf(&one);
	memset(e, 0, sizeof(*e));
	e->eh = one.eh;
	e->eh.e_phoff = offsetof(struct two_seg_elf, ph);
	e->eh.e_phnum = 3;
	e->ph[0] = one.ph[0];
	e->ph[0].p_offset = offsetof(struct two_seg_elf, code);
	e->ph[1] = (Elf64_Phdr){.p_type = PT_LOAD,
				.p_offset = offsetof(struct two_seg_elf, code),
				.p_paddr = gpa2,
				.p_filesz = 32,
				.p_memsz = memsz2};
	e->ph[2] = one.ph[1];
	e->ph[2].p_offset = offsetof(struct two_seg_elf, nh);
	e->nh = one.nh;
	memcpy(e->name, one.name, 4);
	e->desc = entry;
	memcpy(e->code, one.code, sizeof(e->code));
}

static int load_two(struct two_seg_elf *e, struct pvh_image *img)
{
	return pvh_load_elf((const uint8_t *)e, sizeof(*e), &layout, ram, img, err, sizeof(err));
}

Test(vmm_pvh, overlapping_segments_refused)
{
	struct two_seg_elf e;
	struct pvh_image img;

	make_two(&e, LOAD_GPA + 0x1000, 0x1000, LOAD_GPA + 0x10); /* inside segment 0 */
	cr_assert_neq(load_two(&e, &img), 0);
	cr_assert(strstr(err, "PT_LOAD segments 0 [0x100000, 0x102000) and 1 [0x101000, "
			      "0x102000) overlap"),
		  "%s", err);
	cr_assert_eq(ram[LOAD_GPA], 0xaa, "a refused image was copied");
	make_two(&e, LOAD_GPA + 0x1800, 0x1000, LOAD_GPA + 0x10); /* straddles its end */
	cr_assert_neq(load_two(&e, &img), 0);
	cr_assert(strstr(err, "overlap"), "%s", err);
	make_two(&e, LOAD_GPA + 0x2000, 0x1000, LOAD_GPA + 0x10); /* adjacent: fine */
	cr_assert_eq(load_two(&e, &img), 0, "%s", err);
	cr_assert_eq(img.nsegments, 2);
	cr_assert_eq(ram[LOAD_GPA + 0x2000], 1);
}

Test(vmm_pvh, entry_must_be_in_loaded_file_data)
{
	struct two_seg_elf e;
	struct pvh_image img;

	make_two(&e, LOAD_GPA + 0x10000, 0x1000, LOAD_GPA + 0x8000); /* the gap between them */
	cr_assert_neq(load_two(&e, &img), 0);
	cr_assert(strstr(err, "PVH entry 0x108000 is not inside the file data"), "%s", err);
	make_two(&e, LOAD_GPA + 0x10000, 0x1000, LOAD_GPA + 0x10000 + 0x20); /* past filesz 32 */
	cr_assert_neq(load_two(&e, &img), 0);
	make_two(&e, LOAD_GPA + 0x10000, 0x1000, LOAD_GPA + 0x10000 + 0x1f); /* last file byte */
	cr_assert_eq(load_two(&e, &img), 0, "%s", err);
	cr_assert_eq(img.entry, LOAD_GPA + 0x1001f);
}

/* The message names the real range and the area actually hit. */
Test(vmm_pvh, error_names_range_and_area)
{
	struct test_elf e;
	struct pvh_image img;

	make_elf(&e);
	e.ph[0].p_paddr = UINT64_MAX - 0xfff; /* [0xfffffffffffff000, +0x2000) wraps */
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	cr_assert(strstr(err, "at 0xfffffffffffff000 with memsz 0x2000 wraps"), "%s", err);
	cr_assert_null(strstr(err, ", 0x1000)"), "wrapped end printed: %s", err);

	make_elf(&e);
	e.ph[0].p_paddr = GPA_CMDLINE;
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	cr_assert(strstr(err, "[0x2000, 0x4000) is not guest RAM: it overlaps the reserved "
			      "boot/VIF area [0x1000, 0x7000)"),
		  "%s", err);

	make_elf(&e);
	e.ph[0].p_paddr = 0x9f000; /* RAM up to 0xa0000, then the legacy hole */
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	cr_assert(strstr(err, "legacy VGA/BIOS hole [0xa0000, 0x100000)"), "%s", err);

	make_elf(&e);
	e.ph[0].p_paddr = RAM - 0x1000;
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	cr_assert(strstr(err, "[0x3fff000, 0x4001000) is not guest RAM: it runs past the end of "
			      "guest RAM at 0x4000000 (--mem 64 MiB)"),
		  "%s", err);
	cr_assert_null(strstr(err, "boot"), "%s", err);

	make_elf(&e);
	e.ph[0].p_paddr = 1ULL << 40;
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	cr_assert(strstr(err, "past the end of guest RAM at 0x4000000"), "%s", err);

	struct guest_layout big;
	cr_assert_eq(layout_build(&big, 4ULL << 30, 1), 0);
	make_elf(&e);
	e.ph[0].p_paddr = GPA_PCI_HOLE - 0x1000;
	e.desc = e.ph[0].p_paddr;
	cr_assert_neq(
	    pvh_load_elf((const uint8_t *)&e, sizeof(e), &big, ram, &img, err, sizeof(err)), 0);
	cr_assert(strstr(err, "PCI/MMIO hole [0xc0000000, 0x100000000)"), "%s", err);
}

Test(vmm_pvh, segments_outside_ram_or_reserved)
{
	struct test_elf e;
	struct pvh_image img;
	const uint64_t bad[] = {GPA_START_INFO, GPA_CMDLINE + 0x10, GPA_VIF_BASE,     0xa0000,
				RAM - 0x1000,	1ULL << 40,	    UINT64_MAX - 0x10};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_elf(&e);
		e.ph[0].p_paddr = bad[i];
		e.desc = bad[i];
		cr_assert_neq(load(&e, sizeof(e), &img), 0, "segment at %#lx accepted",
			      (unsigned long)bad[i]);
	}
	make_elf(&e);
	e.ph[0].p_filesz = 0x3000; /* filesz > memsz */
	cr_assert_neq(load(&e, sizeof(e), &img), 0);
	/* nothing was copied by a refused load */
	cr_assert_eq(ram[LOAD_GPA], 0xaa);
}

Test(vmm_pvh, start_info_and_memmap)
{
	const struct hvm_start_info *si = (const void *)(ram + GPA_START_INFO);
	const struct hvm_memmap_table_entry *mm = (const void *)(ram + GPA_MEMMAP);
	uint64_t ram_total = 0;
	bool vif_reserved = false;

	cr_assert_eq(pvh_write_start_info(&layout, ram, "workload=noop x=1", err, sizeof(err)), 0);
	cr_assert_eq(si->magic, 0x336ec578);
	cr_assert_eq(si->version, 1);
	cr_assert_eq(si->cmdline_paddr, GPA_CMDLINE);
	cr_assert_str_eq((const char *)ram + GPA_CMDLINE, "workload=noop x=1");
	cr_assert_eq(si->memmap_paddr, GPA_MEMMAP);
	cr_assert_eq(si->memmap_entries, layout.nmap);
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		if (mm[i].type == 1)
			ram_total += mm[i].size;
		if (mm[i].type == 2 && mm[i].addr <= layout_vif_gpa(1) &&
		    mm[i].addr + mm[i].size >= layout_vif_gpa(1) + 0x1000)
			vif_reserved = true;
		if (i)
			cr_assert_geq(mm[i].addr, mm[i - 1].addr + mm[i - 1].size, "overlap");
	}
	cr_assert(vif_reserved);
	cr_assert_lt(ram_total, RAM);
	cr_assert_gt(ram_total, RAM - (1 << 20));
}

Test(vmm_pvh, cmdline_too_long)
{
	size_t n = CMDLINE_MAX + 10;
	char *s = malloc(n);

	memset(s, 'a', n - 1);
	s[n - 1] = '\0';
	cr_assert_neq(pvh_write_start_info(&layout, ram, s, err, sizeof(err)), 0);
	s[CMDLINE_MAX - 1] = '\0'; /* exactly at the limit */
	cr_assert_eq(pvh_write_start_info(&layout, ram, s, err, sizeof(err)), 0, "%s", err);
	free(s);
}

Test(vmm_layout, ram_above_3g_moves_above_4g)
{
	struct guest_layout l;
	uintptr_t base = 0x10000000; /* never dereferenced */
	void *fake = (void *)base;

	cr_assert_eq(layout_build(&l, 4ULL << 30, 1), 0);
	cr_assert_eq(l.low_ram_bytes, 3ULL << 30);
	cr_assert_eq(l.high_ram_bytes, 1ULL << 30);
	cr_assert(layout_is_ram(&l, 1ULL << 32, 1ULL << 30));
	cr_assert_not(layout_is_ram(&l, 3ULL << 30, 0x1000));
	cr_assert_not(layout_is_ram(&l, (1ULL << 32) + (1ULL << 30), 1));
	cr_assert_eq((uintptr_t)layout_gpa_to_hva(&l, fake, 1ULL << 32, 16), base + (3ULL << 30));
	cr_assert_null(layout_gpa_to_hva(&l, fake, (3ULL << 30) - 8, 16));
	cr_assert_neq(layout_build(&l, 1 << 20, 1), 0);
	cr_assert_neq(layout_build(&l, 1ULL << 30, 0), 0);
	cr_assert_neq(layout_build(&l, 1ULL << 30, VMM_MAX_VCPUS + 1), 0);
}
