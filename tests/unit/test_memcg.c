/*
 * Memory cgroup probing (harness/memcg.c) against fake /proc and cgroupfs
 * trees: v2 with the memory controller, the hybrid layout of this host (v2
 * offers only hugetlb, memory on v1), and nothing usable; and the
 * --mem-limit flag parser.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/plan.h"
#include "harness/memcg.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	cr_assert(f, "%s", p);
	fputs(text, f);
	fclose(f);
}

static void mk(const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	cr_assert(!mkdir(p, 0755) || errno == EEXIST, "%s", p);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/vtx-memcg-XXXXXX");
	cr_assert(mkdtemp(root));
	mk("v2");
	mk("v1");
	mk("v1/grp");
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

static void mountinfo(void)
{
	char t[1024];
	snprintf(t, sizeof(t),
		 "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
		 "35 31 0:32 / %s/v1 rw,relatime - cgroup cgroup rw,memory\n"
		 "41 31 0:38 / %s/v2 rw,relatime - cgroup2 cgroup2 rw\n",
		 root, root);
	put("mountinfo", t);
	put("cgroup", "4:memory:/grp\n1:cpu:/\n0::/\n");
}

Test(memcg, v2_with_memory_enables_subtree_control, .init = setup, .fini = teardown)
{
	struct memcg_host h;
	char why[512], mi[128], cg[128], buf[64] = "";
	mountinfo();
	put("v2/cgroup.controllers", "cpu memory pids\n");
	put("v2/cgroup.subtree_control", "");
	snprintf(mi, sizeof(mi), "%s/mountinfo", root);
	snprintf(cg, sizeof(cg), "%s/cgroup", root);
	cr_assert_eq(memcg_probe(&h, mi, cg, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(h.iface, MEMCG_V2);
	char p[256];
	snprintf(p, sizeof(p), "%s/v2/cgroup.subtree_control", root);
	FILE *f = fopen(p, "r");
	cr_assert(f && fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_assert_str_eq(buf, "+memory");
}

Test(memcg, hybrid_host_falls_back_to_v1_and_says_why, .init = setup, .fini = teardown)
{
	struct memcg_host h;
	char why[512], mi[128], cg[128], want[128];
	mountinfo();
	put("v2/cgroup.controllers", "hugetlb\n");
	snprintf(mi, sizeof(mi), "%s/mountinfo", root);
	snprintf(cg, sizeof(cg), "%s/cgroup", root);
	cr_assert_eq(memcg_probe(&h, mi, cg, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(h.iface, MEMCG_V1);
	snprintf(want, sizeof(want), "%s/v1/grp", root);
	cr_assert_str_eq(h.parent, want);
	cr_assert(strstr(why, "\"hugetlb\", not memory"), "%s", why);
	cr_assert_str_eq(memcg_knob(h.iface), "memory.limit_in_bytes");
}

Test(memcg, nothing_usable_is_unavailable, .init = setup, .fini = teardown)
{
	struct memcg_host h;
	char why[512], mi[128], cg[128];
	put("mountinfo", "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n");
	put("cgroup", "0::/\n");
	snprintf(mi, sizeof(mi), "%s/mountinfo", root);
	snprintf(cg, sizeof(cg), "%s/cgroup", root);
	cr_assert_lt(memcg_probe(&h, mi, cg, why, sizeof(why)), 0);
	cr_assert(strstr(why, "no cgroup2 hierarchy mounted"), "%s", why);
	cr_assert(strstr(why, "no writable cgroup v1"), "%s", why);
}

Test(memcg, mem_limit_flag)
{
	char err[300];
	struct plan p;
	char *argv[] = {"run", "--workloads", "mem-pressure", "--mem-limit", "96M", "--reps",
			"1",   NULL};
	cr_assert_eq(plan_parse(&p, 7, argv, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.mem_limit, 96ull << 20);
	cr_assert_str_eq(p.mem_limit_text, "96M");
	cr_assert(p.given & PLAN_F_MEM_LIMIT);
	plan_release(&p);
	char *bad[] = {"run", "--workloads", "mem-pressure", "--mem-limit=100K", NULL};
	cr_assert_eq(plan_parse(&p, 4, bad, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "--mem-limit '100K': needs a SIZE >= 1M"), "%s", err);
	plan_release(&p);
	char *none[] = {"run", "--workloads", "mem-pressure", NULL};
	cr_assert_eq(plan_parse(&p, 3, none, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.mem_limit, 0);
	cr_assert_not(p.given & PLAN_F_MEM_LIMIT);
	plan_release(&p);
}
