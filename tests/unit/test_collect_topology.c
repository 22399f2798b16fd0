/*
 * Unit tests of the topology description and the noisy-neighbour pinning
 * plan on hwloc synthetic topologies (deterministic OS indexes).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "collectors/collector.h"

static struct topology *load(const char *syn)
{
	struct topology *t = NULL;
	cr_assert_eq(topology_load(&t, syn), 0, "synthetic '%s'", syn);
	return t;
}

Test(collect_topology, smt_numa_machine)
{
	/* 2 NUMA nodes x 2 cores x 2 PUs: PUs 0,1 = core 0; 2,3 = core 1 (node 0); 4..7 node 1 */
	struct topology *t = load("numa:2 core:2 pu:2");
	json_t *j = topology_to_json(t);
	cr_assert_eq(json_integer_value(json_object_get(j, "cores")), 4);
	cr_assert_eq(json_integer_value(json_object_get(j, "pus")), 8);
	cr_assert_eq(json_integer_value(json_object_get(j, "threads_per_core")), 2);
	cr_assert_eq(json_array_size(json_object_get(j, "numa_nodes")), 2);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "cores_pus"), 1)),
			 "2-3");
	json_decref(j);
	int cpu = -1;
	char why[160];
	cr_assert_eq(topology_pick_neighbor(t, 0, NEIGHBOR_SMT_SIBLING, &cpu, why, sizeof(why)), 0);
	cr_assert_eq(cpu, 1);
	cr_assert_eq(topology_pick_neighbor(t, 3, NEIGHBOR_SMT_SIBLING, &cpu, why, sizeof(why)), 0);
	cr_assert_eq(cpu, 2);
	cr_assert_eq(topology_pick_neighbor(t, 0, NEIGHBOR_OTHER_CORE, &cpu, why, sizeof(why)), 0);
	cr_assert_eq(cpu, 2);
	cr_assert_eq(topology_pick_neighbor(t, 1, NEIGHBOR_OTHER_NUMA, &cpu, why, sizeof(why)), 0);
	cr_assert_eq(cpu, 4);
	cr_assert_eq(topology_pick_neighbor(t, 5, NEIGHBOR_OTHER_NUMA, &cpu, why, sizeof(why)), 0);
	cr_assert_eq(cpu, 0);
	cr_assert_eq(topology_pick_neighbor(t, 99, NEIGHBOR_OTHER_CORE, &cpu, why, sizeof(why)),
		     -EINVAL);
	topology_free(t);
}

Test(collect_topology, no_smt_no_numa_like_this_host)
{
	struct topology *t = load("core:2 pu:1");
	int cpu = -1;
	char why[160] = "";
	cr_assert_eq(topology_pick_neighbor(t, 0, NEIGHBOR_SMT_SIBLING, &cpu, why, sizeof(why)),
		     -ENOENT);
	cr_assert(strstr(why, "no SMT sibling"), "%s", why);
	cr_assert_eq(topology_pick_neighbor(t, 0, NEIGHBOR_OTHER_NUMA, &cpu, why, sizeof(why)),
		     -ENOENT);
	cr_assert(strstr(why, "no other NUMA node"), "%s", why);
	cr_assert_eq(topology_pick_neighbor(t, 0, NEIGHBOR_OTHER_CORE, &cpu, why, sizeof(why)), 0);
	cr_assert_eq(cpu, 1);
	topology_free(t);
	t = load("core:1 pu:1");
	cr_assert_eq(topology_pick_neighbor(t, 0, NEIGHBOR_OTHER_CORE, &cpu, why, sizeof(why)),
		     -ENOENT);
	topology_free(t);
}

Test(collect_topology, caches_and_bad_synthetic)
{
	struct topology *t = load("pack:1 l3:1 l2:2 l1d:1 core:1 pu:2");
	json_t *j = topology_to_json(t);
	json_t *caches = json_object_get(j, "caches");
	size_t i;
	json_t *c;
	int l3 = 0, l2 = 0;
	json_array_foreach(caches, i, c)
	{
		int lvl = (int)json_integer_value(json_object_get(c, "level"));
		l3 += lvl == 3;
		l2 += lvl == 2;
		if (lvl == 3)
			cr_assert_eq(json_integer_value(json_object_get(c, "shared_by_n")), 4);
		cr_assert_str_eq(json_string_value(json_object_get(c, "unit")), "bytes");
	}
	cr_assert_eq(l3, 1);
	cr_assert_eq(l2, 2);
	json_decref(j);
	topology_free(t);
	struct topology *bad = NULL;
	cr_assert_eq(topology_load(&bad, "nonsense:3"), -EINVAL);
	cr_assert_null(bad);
}
