/*
 * Unit tests of vmm-lite's exit accounting (vmm-lite/exit_stats.c), KVM binary
 * stats parser (vmm-lite/kvm_stats.c), thread stats parser and the emulation
 * verdict (vmm-lite/pvm.c).
 */
#include <criterion/criterion.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm-lite/vmm.h"

Test(vmm_exits, keys_and_buckets)
{
	char key[32];

	exit_key(key, sizeof(key), KVM_EXIT_IO, 0x3f8);
	cr_assert_str_eq(key, "io:0x3f8");
	exit_key(key, sizeof(key), KVM_EXIT_MMIO, 0);
	cr_assert_str_eq(key, "mmio");
	exit_key(key, sizeof(key), KVM_EXIT_SHUTDOWN, 0);
	cr_assert_str_eq(key, "shutdown");
	exit_key(key, sizeof(key), KVM_EXIT_INTERNAL_ERROR, 0);
	cr_assert_str_eq(key, "internal_error");
	exit_key(key, sizeof(key), 9999, 0);
	cr_assert_str_eq(key, "exit_9999");
	cr_assert_eq(exit_hist_bucket(0), 0);
	cr_assert_eq(exit_hist_bucket(1), 0);
	cr_assert_eq(exit_hist_bucket(2), 1);
	cr_assert_eq(exit_hist_bucket(1023), 9);
	cr_assert_eq(exit_hist_bucket(1024), 10);
	cr_assert_eq(exit_hist_bucket(UINT64_MAX), EXIT_HIST_BUCKETS - 1);
}

Test(vmm_exits, add_merge_json)
{
	static struct exit_stats a, b;
	const struct exit_bucket *e;
	json_t *j, *hist;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	exit_stats_add(&a, "io:0x3f8", 1000);
	exit_stats_add(&a, "io:0x3f8", 3000);
	exit_stats_add(&b, "io:0x3f8", 1500);
	exit_stats_add(&b, "hlt", 10);
	exit_stats_merge(&a, &b);
	e = exit_stats_find(&a, "io:0x3f8");
	cr_assert_not_null(e);
	cr_assert_eq(e->count, 3);
	cr_assert_eq(e->total_ns, 5500);
	cr_assert_eq(e->hist[9], 1);  /* 1000 */
	cr_assert_eq(e->hist[10], 1); /* 1500 */
	cr_assert_eq(e->hist[11], 1); /* 3000 */
	cr_assert_eq(exit_stats_find(&a, "hlt")->count, 1);
	j = exit_stats_to_json(&a, true);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "io:0x3f8"), "count")),
		     3);
	hist = json_object_get(json_object_get(j, "io:0x3f8"), "hist_log2_ns");
	cr_assert_eq(json_array_size(hist), 12, "histogram cut after the last non-zero bucket");
	cr_assert_eq(json_integer_value(json_array_get(hist, 11)), 1);
	json_decref(j);
}

Test(vmm_exits, table_full_counts_dropped)
{
	static struct exit_stats s;
	char key[32];

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < EXIT_STATS_MAX_KEYS + 5; i++) {
		snprintf(key, sizeof(key), "io:%#x", i);
		exit_stats_add(&s, key, 1);
	}
	cr_assert_eq(s.n, EXIT_STATS_MAX_KEYS);
	cr_assert_eq(s.dropped, 5);
}

/* Build a stats file: header, id, descriptors (name_size 32), data. */
struct fake_desc {
	const char *name;
	uint32_t flags;
	int16_t exponent;
	uint16_t size;
	uint64_t vals[3];
};

static size_t build_stats(uint8_t *buf, size_t cap, const struct fake_desc *d, uint32_t n)
{
	const uint32_t name_size = 32;
	struct kvm_stats_header h = {.name_size = name_size, .num_desc = n, .id_offset = sizeof(h)};
	size_t dsz = sizeof(struct kvm_stats_desc) + name_size, data_off, off = 0;

	h.desc_offset = h.id_offset + name_size;
	h.data_offset = (uint32_t)(h.desc_offset + n * dsz);
	data_off = h.data_offset;
	memset(buf, 0, cap);
	memcpy(buf, &h, sizeof(h));
	strcpy((char *)buf + h.id_offset, "kvm-1234");
	for (uint32_t i = 0; i < n; i++) {
		struct kvm_stats_desc kd = {.flags = d[i].flags,
					    .exponent = d[i].exponent,
					    .size = d[i].size,
					    .offset = (uint32_t)off};

		memcpy(buf + h.desc_offset + i * dsz, &kd, sizeof(kd));
		strcpy((char *)buf + h.desc_offset + i * dsz + sizeof(kd), d[i].name);
		memcpy(buf + data_off + off, d[i].vals, d[i].size * 8);
		off += d[i].size * 8;
	}
	cr_assert_leq(data_off + off, cap);
	return data_off + off;
}

Test(vmm_kvm_stats, parse_before_after_json)
{
	static uint8_t buf[4096];
	struct fake_desc d[] = {
	    {"insn_emulation", KVM_STATS_TYPE_CUMULATIVE, 0, 1, {100}},
	    {"halt_poll_ns", KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_SECONDS, -9, 1, {7}},
	    {"pages_4k", KVM_STATS_TYPE_INSTANT | KVM_STATS_BASE_POW2, 12, 1, {5}},
	    {"halt_wait_hist", KVM_STATS_TYPE_LOG_HIST | KVM_STATS_UNIT_SECONDS, -9, 3, {1, 2, 3}},
	};
	struct kvm_stats_snap s = {.fd = -1};
	size_t len = build_stats(buf, sizeof(buf), d, 4);
	const struct kvm_stat *st;
	json_t *j, *e;

	cr_assert_eq(kvm_stats_parse(buf, len, &s, false), 0);
	cr_assert_eq(s.n, 4);
	st = kvm_stats_find(&s, "insn_emulation");
	cr_assert_not_null(st);
	cr_assert_eq(st->before, 100);
	cr_assert_eq(kvm_stats_find(&s, "halt_wait_hist")->before, 6);
	d[0].vals[0] = 350;
	len = build_stats(buf, sizeof(buf), d, 4);
	cr_assert_eq(kvm_stats_parse(buf, len, &s, true), 0);
	cr_assert_eq(kvm_stats_find(&s, "insn_emulation")->after, 350);
	j = kvm_stats_to_json(&s);
	e = json_object_get(j, "insn_emulation");
	cr_assert_eq(json_integer_value(json_object_get(e, "delta")), 250);
	cr_assert_str_eq(json_string_value(json_object_get(e, "type")), "cumulative");
	e = json_object_get(j, "halt_poll_ns");
	cr_assert_str_eq(json_string_value(json_object_get(e, "unit")), "seconds");
	cr_assert_eq(json_integer_value(json_object_get(e, "exponent")), -9);
	cr_assert_eq(json_integer_value(json_object_get(e, "base")), 10);
	e = json_object_get(j, "pages_4k");
	cr_assert_eq(json_integer_value(json_object_get(e, "base")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(e, "type")), "instant");
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(j, "halt_wait_hist"), "type")),
	    "log-hist");
	json_decref(j);
	kvm_stats_free(&s);
}

Test(vmm_kvm_stats, malformed_buffers)
{
	static uint8_t buf[4096];
	struct fake_desc d[] = {{"a_stat", 0, 0, 1, {1}}};
	struct kvm_stats_snap s = {.fd = -1};
	size_t len = build_stats(buf, sizeof(buf), d, 1);
	struct kvm_stats_header h;

	cr_assert_neq(kvm_stats_parse(buf, 10, &s, false), 0);
	cr_assert_neq(kvm_stats_parse(buf, len - 1, &s, false), 0); /* data cut */
	memcpy(&h, buf, sizeof(h));
	h.num_desc = 1000; /* descriptors past the end */
	memcpy(buf, &h, sizeof(h));
	cr_assert_neq(kvm_stats_parse(buf, len, &s, false), 0);
	len = build_stats(buf, sizeof(buf), d, 1);
	memset(buf + sizeof(h) + 32 + sizeof(struct kvm_stats_desc), 'x', 32); /* no NUL */
	cr_assert_neq(kvm_stats_parse(buf, len, &s, false), 0);
	len = build_stats(buf, sizeof(buf), d, 1);
	cr_assert_neq(kvm_stats_parse(buf, len, &s, true), 0, "after without before");
	cr_assert_null(s.stats);
}

Test(vmm_thread_stats, parse)
{
	struct thread_stats t;
	const char *status = "Name:\tvmm-lite\nState:\tS\nvoluntary_ctxt_switches:\t12\n"
			     "nonvoluntary_ctxt_switches:\t3\n";

	cr_assert_eq(thread_stats_parse("1000 200 7\n", status, &t), 0);
	cr_assert_eq(t.run_ns, 1000);
	cr_assert_eq(t.wait_ns, 200);
	cr_assert_eq(t.timeslices, 7);
	cr_assert_eq(t.vol_ctxsw, 12);
	cr_assert_eq(t.invol_ctxsw, 3);
	cr_assert_neq(thread_stats_parse("1000\n", status, &t), 0);
	cr_assert_neq(thread_stats_parse("1 2 3", "Name:\tx\n", &t), 0);
}

Test(vmm_thread_stats, read_self)
{
	struct thread_stats t;

	cr_assert_eq(thread_stats_read(gettid(), &t), 0);
	cr_assert_gt(t.run_ns, 0);
}

Test(vmm_pvm, emulation_verdict)
{
	char why[160];

	cr_assert(emulation_is_native(54, 8, why, sizeof(why)));
	cr_assert(emulation_is_native(EMUL_EXCESS_LIMIT + 5000, 5000, why, sizeof(why)));
	cr_assert(emulation_is_native(3, 100, why, sizeof(why)));
	cr_assert_not(emulation_is_native(300003, 1, why, sizeof(why)));
	cr_assert(strstr(why, "emulated"), "%s", why);
	cr_assert_not(emulation_is_native(EMUL_EXCESS_LIMIT + 1, 0, why, sizeof(why)));
}

Test(vmm_pvm, detect_by_sysfs_root)
{
	char dir[] = "/tmp/vtx-pvm-XXXXXX", path[128];

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_not(pvm_detect(dir));
	snprintf(path, sizeof(path), "%s/sys", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/sys/module", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/sys/module/kvm_pvm", dir);
	mkdir(path, 0700);
	cr_assert(pvm_detect(dir));
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sys/module", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sys", dir);
	rmdir(path);
	rmdir(dir);
}

/* /proc/self/smaps, trimmed: the range [0x7f0000200000, 0x7f0000a00000) overlaps the
 * second VMA fully and the third by 2 MiB; values are capped by the overlap. */
Test(vmm_smaps, range_sums_rss_and_anon_huge_capped_by_overlap)
{
	static const char text[] = "7f0000000000-7f0000200000 rw-p 00000000 00:00 0 \n"
				   "Rss:                2048 kB\n"
				   "AnonHugePages:      2048 kB\n"
				   "7f0000200000-7f0000600000 rw-p 00000000 00:00 0 \n"
				   "Size:               4096 kB\n"
				   "Rss:                4096 kB\n"
				   "AnonHugePages:      2048 kB\n"
				   "7f0000600000-7f0001600000 rw-p 00000000 00:00 0      [anon]\n"
				   "Rss:               16384 kB\n"
				   "AnonHugePages:     16384 kB\n"
				   "VmFlags: rd wr mr mw me ac hg\n";
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct smaps_range r;

	cr_assert_not_null(f);
	cr_assert_eq(smaps_range_read(f, 0x7f0000200000, 0x7f0000a00000, &r), 0);
	cr_assert_eq(r.rss_bytes, (4096 + 4096) * 1024ull);
	cr_assert_eq(r.anon_huge_bytes, (2048 + 4096) * 1024ull);
	fclose(f);
	/* the real file: a THP mapping we touch is found (or at least its Rss) */
	size_t len = 8u << 20;
	char *p = aligned_alloc(2u << 20, len);
	cr_assert_not_null(p);
	memset(p, 1, len);
	cr_assert_eq(smaps_range(p, len, &r), 0);
	cr_assert_geq(r.rss_bytes, len / 2, "rss %llu", (unsigned long long)r.rss_bytes);
	cr_assert_leq(r.anon_huge_bytes, r.rss_bytes);
	free(p);
}

Test(vmm_exits, bucket_by_number_then_untimed_json)
{
	static struct exit_stats s;
	struct exit_bucket *io, *mmio;
	json_t *j, *e;

	memset(&s, 0, sizeof(s));
	io = exit_stats_bucket(&s, KVM_EXIT_IO, 0x4f0);
	cr_assert_not_null(io);
	cr_assert_str_eq(io->key, "io:0x4f0");
	cr_assert_eq(exit_stats_bucket(&s, KVM_EXIT_IO, 0x4f0), io, "the last bucket, again");
	mmio = exit_stats_bucket(&s, KVM_EXIT_MMIO, 0);
	cr_assert_str_eq(mmio->key, "mmio");
	cr_assert_eq(exit_stats_bucket(&s, KVM_EXIT_IO, 0x4f0), io, "found past the last one");
	cr_assert_neq(exit_stats_bucket(&s, KVM_EXIT_IO, 0x3f8), io, "another port, another key");
	cr_assert_eq(s.n, 3);
	exit_stats_add(&s, "hlt", 7); /* a bucket made from a key is found by number too */
	cr_assert_eq(exit_stats_bucket(&s, KVM_EXIT_HLT, 0), exit_stats_find(&s, "hlt"));
	cr_assert_eq(s.n, 4);
	io->count = 3;
	j = exit_stats_to_json(&s, false);
	e = json_object_get(j, "io:0x4f0");
	cr_assert_eq(json_integer_value(json_object_get(e, "count")), 3);
	cr_assert_null(json_object_get(e, "total_ns"), "untimed: no time is reported");
	cr_assert_null(json_object_get(e, "hist_log2_ns"));
	json_decref(j);
	for (uint16_t p = 0; s.n < EXIT_STATS_MAX_KEYS; p++)
		cr_assert_not_null(exit_stats_bucket(&s, KVM_EXIT_IO, (uint16_t)(0x1000 + p)));
	cr_assert_null(exit_stats_bucket(&s, KVM_EXIT_IO, 0x9999), "a full table has no room");
}
