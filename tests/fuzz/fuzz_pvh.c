/*
 * libFuzzer target: the PVH/ELF loader (vmm-lite/pvh_loader.c). The input is
 * the kernel image; it is loaded into a 16 MiB guest with the real layout
 * (boot/VIF pages reserved, legacy hole). A refused image must leave a
 * reason; an accepted one must have its entry inside guest RAM and its
 * segments inside the layout. The seed corpus holds real images (the test
 * guests), the dictionary the ELF and note constants.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/fuzz/fuzz_support.h"

#define RAM (16u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_layout l;
	static uint8_t *ram;
	struct pvh_image img;
	char err[512] = "";

	if (!ram) {
		if (layout_build(&l, RAM, 2))
			abort();
		ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ram == MAP_FAILED)
			abort();
	}
	/* the loader only writes guest RAM: what an earlier input left there does
	 * not change what this one does */
	if (pvh_load_elf(data, size, &l, ram, &img, err, sizeof(err))) {
		if (!err[0] || strchr(err, '\n'))
			abort(); /* a refusal is one line with a reason */
		return 0;
	}
	if (!img.nsegments || img.load_lo >= img.load_hi || !layout_is_ram(&l, img.entry, 1) ||
	    img.entry < img.load_lo || img.entry >= img.load_hi)
		abort();
	return 0;
}
