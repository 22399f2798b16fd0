/*
 * The guest agent's pure units (formatting, command-line options, arena),
 * compiled hosted and checked against libc.
 *
 * Why: inside the guest a wrong digit or a lost allocation is hard to see;
 * here the double formatter is compared with snprintf("%.6g") over many
 * values, and the option parser and the bump allocator are checked at their
 * edges. The sources are included so that the agent's freestanding build
 * stays the only build of these files.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "guest-agent/arena.c"
#include "guest-agent/cmdline.c"
#include "guest-agent/fmt.c"
#include "guest-agent/fmt_double.c"

static const char *fmt(double v)
{
	static char buf[64];
	ag_fmt_double(buf, sizeof(buf), v);
	return buf;
}

Test(agent_fmt, special_values)
{
	cr_assert_str_eq(fmt(0.0), "0");
	cr_assert_str_eq(fmt(NAN), "null");
	cr_assert_str_eq(fmt(INFINITY), "null");
	cr_assert_str_eq(fmt(-INFINITY), "null");
	cr_assert_str_eq(fmt(-1.5), "-1.5");
	cr_assert_str_eq(fmt(22.6523), "22.6523");
	cr_assert_str_eq(fmt(1e-7), "1e-07");
	cr_assert_str_eq(fmt(268435456.0), "268435456");
	cr_assert_str_eq(fmt(1e300), "1e+300");
	cr_assert_str_eq(fmt(999999.7), "1e+06");
}

Test(agent_fmt, matches_printf_g6)
{
	uint64_t state = 88172645463325252ull;
	char want[64];
	for (int i = 0; i < 200000; i++) {
		uint64_t bits = wl_xorshift64(&state);
		double v;
		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			continue;
		/* integral values in [1e6, 2^53) are printed exactly by design */
		if (fabs(v) >= 1e6 && fabs(v) < 9007199254740992.0 && v == trunc(v))
			continue;
		snprintf(want, sizeof(want), "%.6g", v);
		cr_assert_str_eq(fmt(v), want, "value %a", v);
	}
	for (int e = -320; e <= 308; e++) {
		double v = 1.2345678 * pow(10.0, e);
		if (fabs(v) >= 1e6 && v == trunc(v) && v < 9007199254740992.0)
			continue;
		snprintf(want, sizeof(want), "%.6g", v);
		cr_assert_str_eq(fmt(v), want, "value %a", v);
	}
}

Test(agent_fmt, json_string_escapes)
{
	struct ag_line l;
	ag_line_init(&l);
	ag_line_json_str(&l, "a\"b\\c\n\x01\xff");
	cr_assert_str_eq(l.buf, "\"a\\\"b\\\\c\\n\\u0001\\u00ff\"");
}

Test(agent_fmt, record_and_overflow)
{
	struct ag_line l;
	ag_rec_begin(&l, "metric");
	ag_rec_str(&l, "m", "x");
	ag_rec_double(&l, "v", 1.5);
	ag_rec_i64(&l, "s", -3);
	cr_assert_str_eq(ag_rec_end(&l),
			 "@@VTX1@@ {\"t\":\"metric\",\"m\":\"x\",\"v\":1.5,\"s\":-3}\n");
	char big[AG_LINE_MAX * 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	ag_rec_begin(&l, "log");
	ag_rec_str(&l, "msg", big);
	const char *s = ag_rec_end(&l);
	cr_assert(strstr(s, "too long") != NULL, "%s", s);
	cr_assert_eq(s[strlen(s) - 1], '\n');
}

Test(agent_cmdline, options)
{
	struct ag_options o;
	cr_assert_eq(ag_cmdline_parse("workload=noop pagesize=4k tsc_khz=2445404 pvm.vif=1 "
				      "virtio_mmio.device=512@0xfeb00e00:12 vtx.selftest=hang",
				      &o),
		     0);
	cr_assert_eq(o.pagesize, AG_PAGE_4K);
	cr_assert_eq(o.tsc_khz, 2445404);
	cr_assert(o.vif);
	cr_assert_str_eq(o.selftest, "hang");
	cr_assert_eq(ag_cmdline_parse("workload=noop", &o), 0);
	cr_assert_eq(o.pagesize, AG_PAGE_2M);
	cr_assert(!o.vif);
	cr_assert_null(o.selftest);
}

Test(agent_cmdline, bad_options)
{
	struct ag_options o;
	cr_assert_eq(ag_cmdline_parse("pagesize=1g pvm.vif=1", &o), -AG_EINVAL);
	cr_assert(strstr(o.err, "1g") != NULL);
	cr_assert(o.vif, "options after a bad one still apply");
	cr_assert_eq(ag_cmdline_parse("tsc_khz=12x", &o), -AG_EINVAL);
	cr_assert_eq(ag_cmdline_parse("vtx.selftest=explode", &o), -AG_EINVAL);
	cr_assert_eq(ag_cmdline_parse("vtx.nope=1", &o), -AG_EINVAL);
	cr_assert_eq(ag_cmdline_parse("vtx.umsr=35", &o), -AG_EINVAL, "hex with 0x only");
	cr_assert_eq(ag_cmdline_parse("vtx.umsr=0x", &o), -AG_EINVAL);
	cr_assert_eq(ag_cmdline_parse("vtx.umsr=0x0", &o), -AG_EINVAL, "MSR 0 names nothing");
	cr_assert_eq(ag_cmdline_parse("vtx.umsr=0x123456789", &o), -AG_EINVAL, "32 bits");
	cr_assert_eq(ag_cmdline_parse("vtx.umsr=0x3g", &o), -AG_EINVAL);
}

/* the MSR a VMM serves in user space (QEMU's driver passes 0x35) */
Test(agent_cmdline, user_msr)
{
	struct ag_options o;
	cr_assert_eq(ag_cmdline_parse("workload=calib vtx.umsr=0x35", &o), 0, "%s", o.err);
	cr_assert_eq(o.umsr, 0x35);
	cr_assert_eq(ag_cmdline_parse("workload=calib vtx.umsr=0x4B564E00", &o), 0, "%s", o.err);
	cr_assert_eq(o.umsr, 0x4b564e00);
	cr_assert_eq(ag_cmdline_parse("workload=calib", &o), 0);
	cr_assert_eq(o.umsr, 0, "absent: none");
}

Test(agent_arena, alloc_align_and_reset)
{
	struct ag_arena a = {0};
	cr_assert_eq(ag_arena_add(&a, 0, 0x9fc00, 0x200000), 0); /* below floor: dropped */
	cr_assert_eq(ag_arena_add(&a, 0x100000, 0x400000, 0x200000), 0);
	cr_assert_eq(ag_arena_add(&a, 0x1000000, 0x2000000, 0x200000), 0);
	cr_assert_eq(a.nranges, 2);
	cr_assert_eq(ag_arena_alloc(&a, 100, 64), 0x200000);
	struct ag_arena_mark m = ag_arena_mark(&a);
	cr_assert_eq(ag_arena_alloc(&a, 0x1000, 0x1000), 0x201000);
	/* does not fit in the first range: taken from the second */
	cr_assert_eq(ag_arena_alloc(&a, 0x300000, 0x1000), 0x1000000);
	cr_assert_eq(ag_arena_alloc(&a, 0x2000000, 0x1000), 0, "too big: NULL");
	cr_assert_eq(ag_arena_alloc(&a, 0x1000, 3), 0, "alignment not a power of two");
	ag_arena_reset(&a, m);
	cr_assert_eq(ag_arena_alloc(&a, 0x1000, 0x1000), 0x201000);
	cr_assert_eq(ag_arena_add(&a, 0x100, 0x200, 0), -AG_EINVAL, "out of order");
}
