/*
 * ELF loader for the PVH boot protocol (XEN_ELFNOTE_PHYS32_ENTRY).
 *
 * Why: PVH is the boot ABI QEMU's microvm uses for -kernel ELF images, so one
 * guest agent image boots under both VMMs. The loader is a pure function over
 * a buffer (no file or KVM access) so that malformed ELFs can be unit tested:
 * every offset and size read from the image is bounds checked before use, and
 * nothing is copied until the whole image has been validated: segments must
 * lie in guest RAM without overlapping each other (a later one would silently
 * overwrite an earlier one), and the entry must be in a segment's file data
 * (an entry in a gap or in .bss runs zeroed memory). Error text names the
 * segment's real range and the area it hits (boot/VIF pages, the legacy hole,
 * the PCI hole, the end of RAM). tests/fuzz/fuzz_pvh.c fuzzes this file.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vmm-lite/vmm.h"

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		return -ENOEXEC;                                                                   \
	} while (0)

/* true if [off, off+size) lies inside a buffer of len bytes */
static bool in_buf(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

static int check_ehdr(const uint8_t *elf, size_t len, char *err, size_t errlen)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;

	if (len < EI_NIDENT || memcmp(elf, ELFMAG, SELFMAG) != 0)
		FAIL("not an ELF file (bad magic)");
	if (elf[EI_CLASS] != ELFCLASS64)
		FAIL("ELF class %u not supported: build the kernel as ELF64 (x86-64)",
		     elf[EI_CLASS]);
	if (len < sizeof(Elf64_Ehdr))
		FAIL("truncated ELF header (%zu bytes)", len);
	if (elf[EI_DATA] != ELFDATA2LSB)
		FAIL("ELF is not little-endian");
	if (eh->e_machine != EM_X86_64)
		FAIL("ELF machine %u is not x86-64 (%u)", eh->e_machine, EM_X86_64);
	if (eh->e_type != ET_EXEC)
		FAIL("ELF type %u is not ET_EXEC: link the kernel static, non-PIE", eh->e_type);
	if (eh->e_phnum == 0 || eh->e_phentsize != sizeof(Elf64_Phdr))
		FAIL("ELF has no usable program headers (phnum %u, phentsize %u)", eh->e_phnum,
		     eh->e_phentsize);
	if (!in_buf(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), len))
		FAIL("ELF program headers [%#" PRIx64
		     ", +%u entries) lie past end of file (%zu bytes)",
		     (uint64_t)eh->e_phoff, eh->e_phnum, len);
	return 0;
}

/* Walk the notes of one PT_NOTE segment. 1 and *entry set if the PVH note is there. */
static int find_pvh_note(const uint8_t *elf, size_t len, const Elf64_Phdr *ph, uint32_t *entry,
			 char *err, size_t errlen)
{
	uint64_t off = ph->p_offset, end;

	if (!in_buf(ph->p_offset, ph->p_filesz, len))
		FAIL("PT_NOTE segment [%#" PRIx64 ", +%#" PRIx64 ") lies past end of file",
		     (uint64_t)ph->p_offset, (uint64_t)ph->p_filesz);
	end = ph->p_offset + ph->p_filesz;
	while (end - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name_off = off + sizeof(nh), desc_off, namesz, descsz;

		memcpy(&nh, elf + off, sizeof(nh));
		namesz = ((uint64_t)nh.n_namesz + 3) & ~3ULL;
		descsz = ((uint64_t)nh.n_descsz + 3) & ~3ULL;
		desc_off = name_off + namesz;
		if (namesz > end - name_off || descsz > end - desc_off)
			FAIL("malformed ELF note at offset %#" PRIx64 " (sizes past segment end)",
			     off);
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    memcmp(elf + name_off, "Xen", 4) == 0) {
			uint64_t e = 0;

			if (nh.n_descsz != 4 && nh.n_descsz != 8)
				FAIL("PVH note descriptor is %u bytes, expected 4 or 8",
				     nh.n_descsz);
			memcpy(&e, elf + desc_off, nh.n_descsz);
			if (e > UINT32_MAX)
				FAIL("PVH entry %#" PRIx64 " is above 4 GiB", e);
			*entry = (uint32_t)e;
			return 1;
		}
		off = desc_off + descsz;
	}
	return 0;
}

/* The first GPA of [lo, hi) that is not RAM: past the RAM entry holding lo, or lo. */
static uint64_t first_non_ram(const struct guest_layout *l, uint64_t lo)
{
	for (uint32_t i = 0; i < l->nmap; i++) {
		const struct mem_region *r = &l->map[i];

		if (r->type == E820_RAM && lo >= r->addr && lo - r->addr < r->size)
			return r->addr + r->size;
	}
	return lo;
}

/* What a segment [lo, hi) that is not all RAM runs into, with the fix. */
static void blame_area(const struct guest_layout *l, uint64_t lo, char *buf, size_t len)
{
	uint64_t p = first_non_ram(l, lo), vif_end = layout_vif_gpa(l->nvcpus);
	uint64_t ram_end = l->high_ram_bytes ? GPA_4G + l->high_ram_bytes : l->low_ram_bytes;

	if (p < vif_end)
		snprintf(buf, len,
			 "overlaps the reserved boot/VIF area [%#llx, %#" PRIx64
			 "): relink the kernel above 1 MiB",
			 GPA_START_INFO, vif_end);
	else if (p >= GPA_LEGACY_HOLE && p < GPA_LOW_RAM_END)
		snprintf(buf, len,
			 "overlaps the legacy VGA/BIOS hole [%#llx, %#llx): relink the kernel "
			 "above 1 MiB",
			 GPA_LEGACY_HOLE, GPA_LOW_RAM_END);
	else if (p >= GPA_PCI_HOLE && p < GPA_4G && l->low_ram_bytes == GPA_PCI_HOLE)
		snprintf(buf, len,
			 "overlaps the PCI/MMIO hole [%#llx, %#llx) where guest RAM has no "
			 "backing: relink the kernel below 3 GiB",
			 GPA_PCI_HOLE, GPA_4G);
	else
		snprintf(buf, len,
			 "runs past the end of guest RAM at %#" PRIx64 " (--mem %" PRIu64
			 " MiB): raise --mem or relink the kernel lower",
			 ram_end, l->ram_bytes >> 20);
}

static int check_load(const uint8_t *elf, size_t len, const Elf64_Phdr *ph, unsigned idx,
		      const struct guest_layout *l, char *err, size_t errlen)
{
	char where[192];

	if (!in_buf(ph->p_offset, ph->p_filesz, len))
		FAIL("PT_LOAD segment %u: file data [%#" PRIx64 ", +%#" PRIx64
		     ") lies past end of file (%zu bytes)",
		     idx, (uint64_t)ph->p_offset, (uint64_t)ph->p_filesz, len);
	if (ph->p_filesz > ph->p_memsz)
		FAIL("PT_LOAD segment %u: filesz %#" PRIx64 " > memsz %#" PRIx64, idx,
		     (uint64_t)ph->p_filesz, (uint64_t)ph->p_memsz);
	if (ph->p_paddr > UINT64_MAX - ph->p_memsz)
		FAIL("PT_LOAD segment %u at %#" PRIx64 " with memsz %#" PRIx64
		     " wraps past the top of the 64-bit address space",
		     idx, (uint64_t)ph->p_paddr, (uint64_t)ph->p_memsz);
	if (!layout_is_ram(l, ph->p_paddr, ph->p_memsz)) {
		blame_area(l, ph->p_paddr, where, sizeof(where));
		FAIL("PT_LOAD segment %u [%#" PRIx64 ", %#" PRIx64 ") is not guest RAM: it %s", idx,
		     (uint64_t)ph->p_paddr, (uint64_t)(ph->p_paddr + ph->p_memsz), where);
	}
	(void)elf;
	return 0;
}

/* Loaded segments [lo, hi), file data up to file_hi, for the overlap and
 * entry checks; more than PVH_MAX_SEGMENTS is refused (bounds the checks). */
#define PVH_MAX_SEGMENTS 64
struct seg {
	uint64_t lo, hi, file_hi;
	unsigned idx;
};

static int check_segments(const struct seg *s, uint32_t n, uint32_t entry, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = i + 1; j < n; j++)
			if (s[i].lo < s[j].hi && s[j].lo < s[i].hi)
				FAIL("PT_LOAD segments %u [%#" PRIx64 ", %#" PRIx64 ") and %u "
				     "[%#" PRIx64 ", %#" PRIx64
				     ") overlap: the later would overwrite the earlier; fix the "
				     "linker script",
				     s[i].idx, s[i].lo, s[i].hi, s[j].idx, s[j].lo, s[j].hi);
	for (uint32_t i = 0; i < n; i++)
		if (entry >= s[i].lo && entry < s[i].file_hi)
			return 0;
	FAIL("PVH entry %#x is not inside the file data of any PT_LOAD segment (it would run "
	     "zeroed or unloaded memory): check the PVH note's address",
	     entry);
}

int pvh_load_elf(const uint8_t *elf, size_t len, const struct guest_layout *l, void *ram,
		 struct pvh_image *img, char *err, size_t errlen)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;
	const Elf64_Phdr *ph;
	struct seg segs[PVH_MAX_SEGMENTS];
	bool have_note = false;
	int r;

	memset(img, 0, sizeof(*img));
	img->load_lo = UINT64_MAX;
	if ((r = check_ehdr(elf, len, err, errlen)))
		return r;
	ph = (const Elf64_Phdr *)(elf + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr p;

		memcpy(&p, &ph[i], sizeof(p)); /* e_phoff may be unaligned */
		if (p.p_type == PT_NOTE && !have_note) {
			r = find_pvh_note(elf, len, &p, &img->entry, err, errlen);
			if (r < 0)
				return r;
			have_note = r == 1;
		} else if (p.p_type == PT_LOAD && p.p_memsz) {
			if ((r = check_load(elf, len, &p, i, l, err, errlen)))
				return r;
			if (img->nsegments == PVH_MAX_SEGMENTS)
				FAIL("ELF has more than %d PT_LOAD segments", PVH_MAX_SEGMENTS);
			segs[img->nsegments] = (struct seg){.lo = p.p_paddr,
							    .hi = p.p_paddr + p.p_memsz,
							    .file_hi = p.p_paddr + p.p_filesz,
							    .idx = i};
			if (p.p_paddr < img->load_lo)
				img->load_lo = p.p_paddr;
			if (p.p_paddr + p.p_memsz > img->load_hi)
				img->load_hi = p.p_paddr + p.p_memsz;
			img->nsegments++;
		}
	}
	if (!have_note)
		FAIL("no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY, type 18, name \"Xen\") in a "
		     "PT_NOTE "
		     "segment: add one (see docs/VMM-LITE.md)");
	if (img->nsegments == 0)
		FAIL("ELF has no PT_LOAD segment");
	if ((r = check_segments(segs, img->nsegments, img->entry, err, errlen)))
		return r;

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr p;
		uint8_t *dst;

		memcpy(&p, &ph[i], sizeof(p));
		if (p.p_type != PT_LOAD || !p.p_memsz)
			continue;
		dst = layout_gpa_to_hva(l, ram, p.p_paddr, p.p_memsz);
		if (!dst)
			FAIL("PT_LOAD segment %u has no backing memory", i);
		memcpy(dst, elf + p.p_offset, p.p_filesz);
		if (!l->ram_zeroed) /* else it is zero already: touching it costs a fault a page */
			memset(dst + p.p_filesz, 0, p.p_memsz - p.p_filesz);
	}
	return 0;
}

int pvh_write_start_info(const struct guest_layout *l, void *ram, const char *cmdline, char *err,
			 size_t errlen)
{
	struct hvm_start_info *si;
	struct hvm_memmap_table_entry *mm;
	size_t clen = cmdline ? strlen(cmdline) : 0;
	char *cl;

	if (clen + 1 > CMDLINE_MAX) {
		snprintf(err, errlen, "--cmdline is %zu bytes, the limit is %llu", clen,
			 CMDLINE_MAX - 1);
		return -EINVAL;
	}
	si = layout_gpa_to_hva(l, ram, GPA_START_INFO, sizeof(*si));
	mm = layout_gpa_to_hva(l, ram, GPA_MEMMAP, l->nmap * sizeof(*mm));
	cl = layout_gpa_to_hva(l, ram, GPA_CMDLINE, clen + 1);
	if (!si || !mm || !cl) {
		snprintf(err, errlen, "boot info area is not backed by guest RAM");
		return -EINVAL;
	}
	memset(si, 0, sizeof(*si));
	si->magic = HVM_START_MAGIC;
	si->version = 1;
	si->cmdline_paddr = GPA_CMDLINE;
	si->memmap_paddr = GPA_MEMMAP;
	si->memmap_entries = l->nmap;
	for (uint32_t i = 0; i < l->nmap; i++)
		mm[i] = (struct hvm_memmap_table_entry){
		    .addr = l->map[i].addr, .size = l->map[i].size, .type = l->map[i].type};
	memcpy(cl, cmdline ? cmdline : "", clen);
	cl[clen] = '\0';
	return 0;
}
