/*
 * The smaps parsers behind `virttax footprint` (harness/footprint.c), on
 * canned /proc/PID/smaps_rollup and smaps text.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <unistd.h>

#include "harness/footprint.h"

static const char *rollup = "55d0c0000000-7ffd1d5f9000 ---p 00000000 00:00 0   [rollup]\n"
			    "Rss:                4900 kB\n"
			    "Pss:                3557 kB\n"
			    "Pss_Anon:           3300 kB\n";

static const char *smaps =
    "55d0c0000000-55d0c000b000 r-xp 00000000 08:01 1234   /usr/bin/vmm-lite\n"
    "Size:                 44 kB\n"
    "Rss:                  44 kB\n"
    "Pss:                  44 kB\n"
    "VmFlags: rd ex mr mw me\n"
    "7f0000000000-7f0008000000 rw-p 00000000 00:00 0 \n"
    "Size:             131072 kB\n"
    "Rss:                2048 kB\n"
    "Pss:                2048 kB\n"
    "THPeligible:    1\n"
    "7f0008000000-7f0008800000 rw-p 00000000 00:00 0 \n"
    "Size:               8192 kB\n"
    "Rss:                  28 kB\n"
    "Pss:                  28 kB\n"
    "7f1000000000-7f1040000000 rw-p 00000000 00:00 0 \n"
    "Size:            1048576 kB\n"
    "Rss:                   0 kB\n"
    "Pss:                   0 kB\n";

Test(footprint, rollup)
{
	struct fp_mem m;
	cr_assert_eq(footprint_parse_rollup(rollup, &m), 0);
	cr_assert_eq(m.rss_kib, 4900);
	cr_assert_eq(m.pss_kib, 3557);
	cr_assert_eq(footprint_parse_rollup("Rss: 1 kB\n", &m), -EINVAL, "no Pss");
}

Test(footprint, guest_mapping_is_the_smallest_that_fits)
{
	struct fp_mapping g;
	cr_assert_eq(footprint_parse_smaps(smaps, 128ull << 20, &g), 0);
	cr_assert_eq(g.start, 0x7f0000000000ull);
	cr_assert_eq(g.end - g.start, 128ull << 20);
	cr_assert_eq(g.mem.rss_kib, 2048);
	cr_assert_eq(g.mem.pss_kib, 2048);
	cr_assert_eq(footprint_parse_smaps(smaps, 1ull << 30, &g), 0);
	cr_assert_eq(g.end - g.start, 1ull << 30);
	cr_assert_eq(g.mem.rss_kib, 0);
	cr_assert_eq(footprint_parse_smaps(smaps, 2ull << 30, &g), -ENOENT);
	cr_assert_eq(footprint_parse_smaps("zz-7f rw-p 0 00:00 0\nRss: 1 kB\n", 1, &g), -EINVAL);
}

Test(footprint, live_process)
{
	json_t *o = NULL;
	/* no mapping of 2^60 bytes (ASan reserves TiBs of shadow): no guest RAM */
	cr_assert_eq(footprint_measure(getpid(), 1ull << 60, &o), -ENOENT);
	cr_assert_eq(footprint_measure(getpid(), 4096, &o), 0);
	cr_assert_gt(json_integer_value(json_object_get(o, "rss_kib")), 0);
	cr_assert_leq(json_integer_value(json_object_get(o, "overhead_rss_kib")),
		      json_integer_value(json_object_get(o, "rss_kib")));
	json_decref(o);
}
