/*
 * The smaps parsers behind `virttax footprint` (harness/footprint.c), on
 * canned /proc/PID/smaps_rollup and smaps text.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The printed table: every number with its spread and n, ratios with CIs. */
/* footprint_print_table's text (free it) */
static char *table_of(json_t *cfgs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	footprint_print_table(f, cfgs);
	fclose(f);
	return buf;
}

Test(footprint, table_has_spread_n_and_ratio_cis)
{
	json_error_t e;
	json_t *cfgs =
	    json_loads("[{\"config\":\"1 vCPU / 128 MiB\",\"vmms\":{"
		       "\"vmm-lite\":{"
		       "\"boot_to_hello_ms\":{\"n\":10,\"median\":14.5,\"ci\":[13.3,15.7],"
		       "\"ci_level\":0.97852,\"underpowered\":false},"
		       "\"spawn_to_entry_ms\":{\"n\":8,\"median\":3.0,\"ci\":[2.8,3.2]},"
		       "\"overhead_rss_kib\":{\"n\":10,\"median\":1500,\"ci\":[1480,1520]},"
		       "\"overhead_pss_kib\":{\"n\":10,\"median\":900,\"ci\":[890,910]}},"
		       "\"qemu\":{\"available\":false,\"reason\":\"no qemu-system-x86_64\"}},"
		       "\"ratio_vmmlite_over_qemu\":{"
		       "\"boot_to_hello_ms\":{\"value\":0.25,\"ci\":[0.2,0.3],\"n_vmmlite\":10,"
		       "\"n_qemu\":9},"
		       "\"spawn_to_entry_ms\":null,"
		       "\"overhead_rss_kib\":{\"value\":0.1,\"ci\":[0.09,0.11],\"n_vmmlite\":10,"
		       "\"n_qemu\":9},"
		       "\"overhead_pss_kib\":{\"value\":0.05,\"ci\":[0.04,0.06],\"n_vmmlite\":10,"
		       "\"n_qemu\":9}}"
		       "}]",
		       0, &e);
	cr_assert(cfgs, "%s", e.text);
	char *buf = table_of(cfgs);
	cr_assert(strstr(buf, "14.5 [13.3, 15.7] "), "%s", buf);
	cr_assert(strstr(buf, "3.0 [2.8, 3.2] (n=8)"), "entry has its own n: %s", buf);
	cr_assert(strstr(buf, "1500 [1480, 1520] "), "%s", buf);
	cr_assert(strstr(buf, "900 [890, 910] "), "%s", buf);
	cr_assert(strstr(buf, " 10  97.9%\n"), "the CI level of the row: %s", buf);
	cr_assert_null(strstr(buf, "\u00b1"), "no \u00b1 that is not a half-width: %s", buf);
	cr_assert(strstr(buf, "qemu           unavailable: no qemu-system-x86_64"), "%s", buf);
	cr_assert(strstr(buf, "0.250 [0.200, 0.300]"), "boot ratio CI: %s", buf);
	cr_assert(strstr(buf, "0.100 [0.090, 0.110]"), "RSS ratio CI: %s", buf);
	cr_assert(strstr(buf, "0.050 [0.040, 0.060]"), "PSS ratio CI: %s", buf);
	cr_assert(strstr(buf, " 10+9  -\n"), "ratio n (no level in this fixture): %s", buf);
	free(buf);
	json_decref(cfgs);
}

/* the floor row has no hello (no agent), and each VMM's ratio to the floor is its own row */
Test(footprint, floor_row_and_ratios_to_it)
{
	json_error_t e;
	json_t *cfgs = json_loads(
	    "[{\"config\":\"1 vCPU / 128 MiB\",\"vmms\":{"
	    "\"kvm-floor\":{\"boot_to_hello_ms\":{\"n\":0},"
	    "\"spawn_to_entry_ms\":{\"n\":3,\"median\":2.0,\"ci\":[1.8,2.2]},"
	    "\"overhead_rss_kib\":{\"n\":3,\"median\":740,\"ci\":[730,750]},"
	    "\"overhead_pss_kib\":{\"n\":3,\"median\":736,\"ci\":[726,746]}},"
	    "\"vmm-lite\":{\"boot_to_hello_ms\":{\"n\":3,\"median\":9.0,\"ci\":[8,10]},"
	    "\"spawn_to_entry_ms\":{\"n\":3,\"median\":2.2,\"ci\":[2.0,2.4]},"
	    "\"overhead_rss_kib\":{\"n\":3,\"median\":1168,\"ci\":[1160,1176]},"
	    "\"overhead_pss_kib\":{\"n\":3,\"median\":1164,\"ci\":[1156,1172]}}},"
	    "\"ratio_to_floor\":{\"vmm-lite\":{"
	    "\"spawn_to_entry_ms\":{\"value\":1.1,\"ci\":[0.9,1.3],\"n_vmm\":3,\"n_floor\":3},"
	    "\"overhead_rss_kib\":{\"value\":1.578,\"ci\":[1.469,1.649],\"n_vmm\":3,"
	    "\"n_floor\":3},"
	    "\"overhead_pss_kib\":null}},"
	    "\"ratio_vmmlite_over_qemu\":{}}]",
	    0, &e);
	cr_assert(cfgs, "%s", e.text);
	char *buf = table_of(cfgs);
	cr_assert(strstr(buf, "kvm-floor      -      "), "no hello column for the floor: %s", buf);
	cr_assert(strstr(buf, "2.0 [1.8, 2.2] "), "floor entry: %s", buf);
	cr_assert(strstr(buf, "740 [730, 750] "), "floor RSS: %s", buf);
	cr_assert(strstr(buf, "vmm-lite/floor -"), "ratio row, no hello ratio: %s", buf);
	cr_assert(strstr(buf, "1.100 [0.900, 1.300]"), "entry ratio: %s", buf);
	cr_assert(strstr(buf, "1.578 [1.469, 1.649]"), "RSS ratio: %s", buf);
	cr_assert(strstr(buf, "n/a"), "a missing ratio says so: %s", buf);
	cr_assert(strstr(buf, " 3+3  -\n"), "ratio n (no level in this fixture): %s", buf);
	cr_assert_null(strstr(buf, "vmm-lite/qemu"), "no QEMU, no vmm-lite/qemu row: %s", buf);
	free(buf);
	json_decref(cfgs);
}
